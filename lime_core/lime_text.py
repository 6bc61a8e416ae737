"""Text LIME (lime 0.2.0.1's ``LimeTextExplainer``).

Features are the words of the text (bag of words: a word and all its occurrences),
cut by lime's ``split_expression`` (a regular expression for the separators, or a
tokenizer function), or its characters (``char_level=True``). Masks remove
``s ~ Uniform{1..d}`` words chosen at random; distances are the cosine distance of the
mask to all-ones times 100; kernel width 25. The surrogate is solved in the dual when
the words outnumber the samples (:mod:`lime_core.surrogate`), so a long document costs
``O(n^2 d)`` time and ``O(n^2 + n d)`` memory, not ``O(d^3)`` and ``O(d^2)``.

See the course notebook ``course/04_lime_text.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
from lime_core.perturbation import WORD_SPLIT, perturb_text, tokenise
from lime_core.sampling import sample_masks
from lime_core.surrogate import FEATURE_SELECTIONS

#: Largest ``num_samples``: every sample is a text held in memory and sent to the model.
MAX_TEXT_SAMPLES = 10**7


def text_samples(
    text: str,
    classifier_fn: Callable,
    *,
    num_samples: int = 5000,
    bow: bool = True,
    mask_string: str | None = None,
    split_expression=WORD_SPLIT,
    char_level: bool = False,
    random_state: RandomState = None,
) -> LimeSamples:
    r"""The model-facing half of text LIME: tokenise, draw masks, perturb, predict, measure.

    Masks remove ``s ~ Uniform{1..d}`` of the ``d`` words (:func:`sample_masks`,
    ``scheme="uniform_count"``), the texts are built by :func:`perturb_text`, scored in
    one call, and the distances are ``100 * D_cos(1, z)``. The masks are kept as a bool
    array (1 byte per entry; the surrogate needs no float copy of them).

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    text : str
    classifier_fn : callable
        Takes a list of strings, returns ``(n, k)`` probabilities or ``(n,)`` scores.
    num_samples : int, 2 .. ``MAX_TEXT_SAMPLES`` (10 million)
    bow : bool
        True: a feature is a distinct word, removing it removes every occurrence.
        False: a feature is one word position, replaced by ``mask_string`` (as lime).
    mask_string : str or None
        None: lime's default, ``"UNKWORDZ"`` (``chr(0)`` with ``char_level``).
    split_expression : str or callable
        The separators' regular expression (lime's default ``r"\W+"``) or a tokenizer
        ``text -> list of tokens`` (see :func:`tokenise`).
    char_level : bool
        Characters instead of words are the features (lime's ``char_level=True``).
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
    domain = tokenise(text, bow=bow, mask_string=mask_string,
                      split_expression=split_expression, char_level=char_level)
    check_callable(classifier_fn, "classifier_fn")
    num_samples = check_int(num_samples, "num_samples", minimum=2, maximum=MAX_TEXT_SAMPLES)
    rng, recorded = check_random_state(random_state)

    Z = sample_masks(len(domain.features), num_samples, random_state=rng,
                     scheme="uniform_count")
    texts = perturb_text(domain, Z)
    predictions = check_model_output(classifier_fn(texts), num_samples)
    if predictions.shape[1] == 0:
        raise ValueError(
            f"classifier_fn must return at least one output per text, got shape {predictions.shape}")
    return LimeSamples(
        "text", domain.features, Z, predictions, 100.0 * mask_cosine_distance(Z), recorded, 1,
        data={"text": text, "domain": domain, "texts": texts},
    )


def mask_cosine_distance(Z) -> np.ndarray:
    """:func:`~lime_core.kernels.cosine_distance` of every mask to ``Z[0]``, a block of
    rows at a time (a bool ``Z`` is never copied to float as a whole)."""
    step = max(1, 2**21 // max(Z.shape[1], 1))
    return np.concatenate([cosine_distance(Z[i:i + step], reference=Z[0])
                           for i in range(0, Z.shape[0], step)])


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
    mask_string: str | None = None,
    feature_selection: str = "auto",
    alpha: float = 1.0,
    random_state: RandomState = None,
    split_expression=WORD_SPLIT,
    char_level: bool = False,
) -> Explanation:
    r"""Explain ``classifier_fn``'s output on ``text`` by removing words.

    Masks ``z in {0,1}^d`` keep or remove the ``d`` words (the number removed is uniform
    in ``1..d``); each text is weighted by ``pi(z) = exp(-(100 D_cos(1, z))^2 / (2 w^2))``
    and the weighted ridge surrogate ``g(z) = b + sum_j beta_j z_j`` is fitted per label,
    minimising ``sum_i pi(z_i) (f(x(z_i)) - g(z_i))^2 + alpha ||beta||^2``. It is
    :func:`text_samples` followed by :func:`lime_core.explanation.explain_from_samples`.

    See the course notebook ``course/04_lime_text.ipynb``.

    Parameters
    ----------
    text, classifier_fn, num_samples, bow, mask_string, split_expression, char_level, random_state
        As in :func:`text_samples` (``classifier_fn`` is called once, on all texts).
        lime's ``LimeTextExplainer`` defaults: ``split_expression=r"\W+"``, ``bow=True``,
        ``char_level=False``, ``mask_string`` None (``"UNKWORDZ"``, ``chr(0)`` for characters).
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
                           mask_string=mask_string, split_expression=split_expression,
                           char_level=char_level, random_state=random_state)
    return explain_from_samples(
        samples, kernel_width=kernel_width, target=target, labels=labels,
        top_labels=top_labels, num_features=num_features,
        feature_selection=feature_selection, alpha=alpha,
    )
