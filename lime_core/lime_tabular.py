"""Tabular LIME (lime 0.2.0.1's ``LimeTabularExplainer``).

Samples are drawn from the training distribution (bins of a quartile, decile or
entropy discretiser, then values inside the bin), represented as
``1[same bin as the instance]``, weighted by the exponential kernel of their euclidean
distance on that representation with width ``0.75 sqrt(p)``. ``sampling="gaussian"``
is lime's ``discretize_continuous=False``: rows from a normal around the training mean
(lime's default) or around the instance (``sample_around_instance=True``).

See the course notebook ``course/06_lime_tabular.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lime_core._validation import (
    RandomState,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_model_output,
    check_positive,
    check_random_state,
)
from lime_core.explanation import Explanation, LimeSamples, explain_from_samples
from lime_core.kernels import euclidean_distance
from lime_core.perturbation import SAMPLINGS, TabularSampler
from lime_core.surrogate import FEATURE_SELECTIONS

# every sample is a row of the table handed to the model: ten million is plenty
MAX_TABULAR_SAMPLES = 10**7


def _check_row(row) -> np.ndarray:
    row = check_array(row, "row", ndim=1)
    if row.shape[0] == 0:
        raise ValueError("row must have at least one entry (one per column), got an empty row")
    return row


def tabular_samples(
    row,
    classifier_fn: Callable,
    training_data,
    *,
    feature_names=None,
    categorical_features=(),
    sampling: str = "quartile",
    num_samples: int = 5000,
    random_state: RandomState = None,
    training_labels=None,
    sample_around_instance: bool = False,
) -> LimeSamples:
    """The model-facing half of tabular LIME: discretise, sample rows, predict, measure.

    A :class:`TabularSampler` learns bin edges and bin statistics from
    ``training_data``, draws ``num_samples`` rows (row 0 is ``row``), the model scores
    them in one call, and the distances are the euclidean norms of ``1 - z`` on the
    interpretable representation ``z_j = 1[same bin as row]`` (gaussian sampling:
    of ``z - z_0`` on the standardised values, as lime).

    See the course notebook ``course/06_lime_tabular.ipynb``.

    Parameters
    ----------
    row : (p,) array-like
    classifier_fn : callable
        Takes an ``(n, p)`` array, returns ``(n, k)`` probabilities or ``(n,)`` scores.
    training_data : (m, p) array-like
        Defines quartiles, bin statistics and frequencies.
    feature_names : list of str, optional
        One name per column (a single ``str`` is refused).
    categorical_features : sequence of int, or a boolean mask of length p
        Columns sampled from their training frequencies, never discretised.
    sampling : {"quartile", "decile", "entropy", "gaussian"}
        lime's ``discretizer`` (``"quartile"``, its default, ``"decile"``,
        ``"entropy"``), or ``"gaussian"`` for lime's ``discretize_continuous=False``.
        See :class:`lime_core.perturbation.TabularSampler`.
    num_samples : int >= 2
    random_state : int, Generator or None
    training_labels : (m,) array-like, optional
        Class of every training row; needed by ``sampling="entropy"`` only.
    sample_around_instance : bool
        Gaussian sampling only: centre the normal at ``row`` instead of the training
        mean (lime's default is False, and so is ours).

    Returns
    -------
    LimeSamples
        ``data`` holds ``row``, the ``sampler`` and the model ``inputs`` (n, p).
    """
    row = _check_row(row)
    training = check_array(training_data, "training_data", ndim=2, min_rows=2)
    if training.shape[1] != row.shape[0]:
        raise ValueError(
            f"training_data must have {row.shape[0]} columns (the length of row), got {training.shape[1]}"
        )
    check_callable(classifier_fn, "classifier_fn")
    check_choice(sampling, "sampling", SAMPLINGS)
    num_samples = check_int(num_samples, "num_samples", minimum=2, maximum=MAX_TABULAR_SAMPLES)
    rng, recorded = check_random_state(random_state)

    sampler = TabularSampler.fit(training, feature_names, categorical_features, sampling,
                                 training_labels=training_labels,
                                 sample_around_instance=sample_around_instance)
    Z, X = sampler.sample(row, num_samples, random_state=rng)
    predictions = check_model_output(classifier_fn(X), num_samples)
    return LimeSamples(
        "tabular", sampler.names(row), Z, predictions, euclidean_distance(Z), recorded, 1,
        data={"row": row, "sampler": sampler, "inputs": X},
    )


def explain_tabular(
    row,
    classifier_fn: Callable,
    training_data,
    *,
    feature_names=None,
    categorical_features=(),
    sampling: str = "quartile",
    target: int | None = None,
    labels=None,
    top_labels: int = 1,
    num_samples: int = 5000,
    num_features: int = 10,
    kernel_width: float | None = None,
    feature_selection: str = "auto",
    alpha: float = 1.0,
    random_state: RandomState = None,
    training_labels=None,
    sample_around_instance: bool = False,
) -> Explanation:
    """Explain ``classifier_fn``'s output on one table ``row``.

    Rows are drawn from the training distribution (:class:`TabularSampler`); the
    interpretable feature ``z_j = 1[sample in the row's quartile bin of feature j]``;
    weights ``pi(z) = exp(-||1 - z||^2 / (2 w^2))`` with ``w = 0.75 sqrt(p)`` by default;
    the weighted ridge surrogate ``g(z) = b + sum_j beta_j z_j`` is fitted per label.
    It is :func:`tabular_samples` followed by
    :func:`lime_core.explanation.explain_from_samples`.

    See the course notebook ``course/06_lime_tabular.ipynb``.

    Parameters
    ----------
    row, classifier_fn, training_data, feature_names, categorical_features, sampling, num_samples, random_state, training_labels, sample_around_instance
        As in :func:`tabular_samples`.
    kernel_width : float, optional
        Default ``0.75 * sqrt(p)``.
    target : int, optional
        The one output explained (``labels=[target]``), as in
        :func:`lime_core.lime_image.explain_image`.
    labels, top_labels, num_features, feature_selection, alpha
        As in :func:`lime_core.lime_image.explain_image`.

    Returns
    -------
    Explanation
        Mode ``"tabular"``; ``explanation.attribution()`` has one weight per column.

    Examples
    --------
    >>> import numpy as np, lime_core
    >>> train = np.random.default_rng(0).normal(size=(200, 3))
    >>> exp = lime_core.explain_tabular(np.ones(3), lambda X: 1.0 * (X[:, 1] > 0), train,
    ...                                 num_samples=500, random_state=0)
    >>> int(np.argmax(np.abs(exp.attribution())))            # column 1 decides
    1
    """
    row = _check_row(row)
    num_features = check_int(num_features, "num_features", minimum=1)
    if kernel_width is None:
        kernel_width = 0.75 * np.sqrt(row.shape[0])
    kernel_width = check_positive(kernel_width, "kernel_width")
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    samples = tabular_samples(row, classifier_fn, training_data, feature_names=feature_names,
                              categorical_features=categorical_features, sampling=sampling,
                              num_samples=num_samples, random_state=random_state,
                              training_labels=training_labels,
                              sample_around_instance=sample_around_instance)
    return explain_from_samples(
        samples, kernel_width=kernel_width, target=target, labels=labels,
        top_labels=top_labels, num_features=num_features,
        feature_selection=feature_selection, alpha=alpha,
    )
