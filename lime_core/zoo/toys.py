"""Toy problems from the lectures: two moons, the "A OR B" model, the football game.

See the course notebooks ``course/02_lime_intuition_2d.ipynb`` (two moons),
``course/09_integrated_gradients.ipynb`` (A OR B) and ``course/10_shapley_shap.ipynb``
(the football game, defined in :mod:`lime_core.shapley`).
"""

from __future__ import annotations

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import RandomState, check_int, check_positive, check_random_state
from lime_core.zoo.tabular import TabularDataset


@renamed_arguments(old_positional=('n', 'noise', 'random_state'))
def load_two_moons(n: int = 400, noise: float = 0.2, *, random_state: RandomState = 0,
                   test_fraction: float = 0.25) -> TabularDataset:
    """Two interleaved half circles in 2-D (scikit-learn's ``make_moons``).

    Class 0 is the upper moon ``(cos t, sin t)``, class 1 the lower
    ``(1 - cos t, 1/2 - sin t)``, ``t ~ U(0, pi)``, plus ``N(0, noise^2)`` jitter.
    The last ``test_fraction`` of the rows form the test split.

    Parameters
    ----------
    n : int
    noise : float
    random_state : int or numpy.random.Generator
    test_fraction : float

    Returns
    -------
    TabularDataset
    """
    from sklearn.datasets import make_moons

    n = check_int(n, "n", minimum=4)
    noise = check_positive(noise, "noise", allow_zero=True)
    rng, recorded = check_random_state(random_state)
    X, y = make_moons(n_samples=n, noise=noise, random_state=int(rng.integers(2**31)))
    order = rng.permutation(n)
    X, y = X[order], y[order].astype(np.int64)
    n_test = max(1, int(round(test_fraction * n)))
    return TabularDataset(X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:], ("x1", "x2"),
                          ("blue", "pink"), "sklearn make_moons: the two half circles",
                          recorded, (), ("x1", "x2"))


@renamed_arguments(old_positional=('dataset', 'random_state'))
def train_two_moons_model(dataset: TabularDataset | None = None, *, random_state: int = 0):
    """A nonlinear classifier for the 2-D picture: a small neural network.

    ``MLPClassifier(hidden_layer_sizes=(32, 32))`` with tanh units (seeded), so
    ``predict_proba`` is smooth and its 0.5 level set is the curved boundary that
    LIME approximates locally. Stated test accuracy on ``load_two_moons()``: >= 0.9.

    Parameters
    ----------
    dataset : TabularDataset, optional
    random_state : int

    Returns
    -------
    sklearn.neural_network.MLPClassifier
    """
    from sklearn.neural_network import MLPClassifier

    dataset = load_two_moons() if dataset is None else dataset
    model = MLPClassifier(hidden_layer_sizes=(32, 32), activation="tanh", max_iter=2000,
                          random_state=random_state)
    return model.fit(dataset.X_train, dataset.y_train)


def a_or_b(x: np.ndarray) -> np.ndarray:
    """The saturating "A OR B" model in numpy: ``f(a, b) = 1 - relu(1 - a - b)``.

    Equal to ``min(1, a + b)``: at ``(1, 1)`` it is saturated, so its gradient is zero
    although both inputs matter; Integrated Gradients from the baseline ``(0, 0)``
    gives each input ``1/2``.

    Parameters
    ----------
    x : numpy.ndarray, shape ``(n, 2)``

    Returns
    -------
    numpy.ndarray, shape ``(n,)``
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (n, 2), got {x.shape}")
    return 1.0 - np.maximum(0.0, 1.0 - x[:, 0] - x[:, 1])


def a_or_b_model():
    """The "A OR B" model as a torch ``nn.Sequential``: ``(n, 2) -> (n, 1)``.

    ``f(a, b) = 1 - relu(1 - a - b)``, three layers in a row:

        Linear(2, 1): h = 1 - a - b        (weight [-1, -1], bias 1)
        ReLU:         r = relu(h)
        Linear(1, 1): f = 1 - r            (weight -1, bias 1)

    A plain ``nn.Sequential``, so every gradient method, and DeepLIFT (which walks the
    layers of a Sequential one by one), accepts it as it is. See the course notebooks
    ``course/09_integrated_gradients.ipynb`` and ``course/10_shapley_shap.ipynb``.

    Returns
    -------
    torch.nn.Sequential
    """
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[-1.0, -1.0]]))
        model[0].bias.fill_(1.0)
        model[2].weight.fill_(-1.0)
        model[2].bias.fill_(1.0)
    return model.eval()
