"""Text LIME (lime 0.2.0.1's ``LimeTextExplainer``).

Features are the words of the text (bag of words: a word and all its occurrences).
Masks remove ``s ~ Uniform{1..d}`` words chosen at random; distances are the cosine
distance of the mask to all-ones times 100; kernel width 25.

See the course notebook ``course/04_lime_text.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable

from lime_core._validation import (
    RandomState,
    check_callable,
    check_choice,
    check_int,
    check_model_output,
    check_positive,
    check_random_state,
)
from lime_core.explanation import Explanation, LimeSamples, explain_from_samples
from lime_core.kernels import cosine_distance
from lime_core.perturbation import perturb_text, tokenise
from lime_core.sampling import sample_masks
from lime_core.surrogate import FEATURE_SELECTIONS


def text_samples(
    text: str,
    classifier_fn: Callable,
    *,
    num_samples: int = 5000,
    bow: bool = True,
    mask_string: str = "UNKWORDZ",
    random_state: RandomState = None,
) -> LimeSamples:
    """The model-facing half of text LIME: tokenise, draw masks, perturb, predict, measure.

    Masks remove ``s ~ Uniform{1..d}`` of the ``d`` words (:func:`sample_masks`,
    ``scheme="uniform_count"``), the texts are built by :func:`perturb_text`, scored in
    one call, and the distances are ``100 * D_cos(1, z)``.

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    text : str
    classifier_fn : callable
        Takes a list of strings, returns ``(n, k)`` probabilities or ``(n,)`` scores.
    num_samples : int >= 2
    bow : bool
        True: a feature is a distinct word, removing it removes every occurrence.
        False: a feature is one word position, replaced by ``mask_string`` (as lime).
    mask_string : str
    random_state : int, Generator or None

    Returns
    -------
    LimeSamples
        ``data`` holds ``text``, the ``domain`` (:class:`TextDomain`) and the ``texts``.

    Examples
    --------
    >>> s = text_samples("good good bad", lambda texts: [t.count("good") for t in texts],
    ...                  num_samples=20, random_state=0)
    >>> s.feature_names, s.data["texts"][0]
    (['good', 'bad'], 'good good bad')
    """
    if not isinstance(bow, bool):
        raise TypeError(f"bow must be True or False, got {bow!r}")
    domain = tokenise(text, bow=bool(bow), mask_string=mask_string)
    check_callable(classifier_fn, "classifier_fn")
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    rng, recorded = check_random_state(random_state)

    Z = sample_masks(len(domain.features), num_samples, random_state=rng,
                     scheme="uniform_count").astype(float)
    texts = perturb_text(domain, Z)
    predictions = check_model_output(classifier_fn(texts), num_samples)
    return LimeSamples(
        "text", domain.features, Z, predictions, 100.0 * cosine_distance(Z), recorded, 1,
        data={"text": text, "domain": domain, "texts": texts},
    )


def explain_text(
    text: str,
    classifier_fn: Callable,
    *,
    target: int | None = None,
    labels=None,
    top_labels: int = 1,
    num_samples: int = 5000,
    num_features: int = 10,
    kernel_width: float = 25,
    bow: bool = True,
    mask_string: str = "UNKWORDZ",
    feature_selection: str = "auto",
    alpha: float = 1.0,
    random_state: RandomState = None,
) -> Explanation:
    """Explain ``classifier_fn``'s output on ``text`` by removing words.

    Masks ``z in {0,1}^d`` keep or remove the ``d`` words (the number removed is uniform
    in ``1..d``); each text is weighted by ``pi(z) = exp(-(100 D_cos(1, z))^2 / (2 w^2))``
    and the weighted ridge surrogate ``g(z) = b + sum_j beta_j z_j`` is fitted per label,
    minimising ``sum_i pi(z_i) (f(x(z_i)) - g(z_i))^2 + alpha ||beta||^2``. It is
    :func:`text_samples` followed by :func:`lime_core.explanation.explain_from_samples`.

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    text, classifier_fn, num_samples, bow, mask_string, random_state
        As in :func:`text_samples` (``classifier_fn`` is called once, on all texts).
    kernel_width : float > 0
        On distances ``100 * D_cos``.
    target, labels, top_labels, num_features, feature_selection, alpha
        As in :func:`lime_core.lime_image.explain_image`.

    Returns
    -------
    Explanation
        Mode ``"text"``; ``explanation.attribution()`` gives one weight per word, in order.

    Examples
    --------
    >>> import lime_core
    >>> exp = lime_core.explain_text("a good film", lambda ts: [("good" in t) * 1.0 for t in ts],
    ...                              num_samples=300, random_state=0)
    >>> exp.as_list()[0][0]
    'good'
    """
    num_features = check_int(num_features, "num_features", minimum=1)
    kernel_width = check_positive(kernel_width, "kernel_width")
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    samples = text_samples(text, classifier_fn, num_samples=num_samples, bow=bow,
                           mask_string=mask_string, random_state=random_state)
    return explain_from_samples(
        samples, kernel_width=kernel_width, target=target, labels=labels,
        top_labels=top_labels, num_features=num_features,
        feature_selection=feature_selection, alpha=alpha,
    )
