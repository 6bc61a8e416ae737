"""Text LIME against lime 0.2.0.1's LimeTextExplainer: character-level explanations and
custom tokenisation (``split_expression`` as a regular expression or a callable).

Two levels, as in tests/test_lime_text.py: (1) the pieces lime builds (its
``IndexedString`` / ``IndexedCharacters``: features and the perturbed texts of every
mask) equal ours; (2) on the same masks the whole pipeline (distances, kernel, feature
selection, ridge) gives lime's feature strings and weights. A last test runs both
explainers end to end, each with its own random masks, and checks they find the planted
features.
"""

import re
from functools import partial

import numpy as np
import pytest

from lime_core.kernels import cosine_distance, exponential_kernel
from lime_core.lime_text import explain_text
from lime_core.perturbation import perturb_text, tokenise
from lime_core.sampling import sample_masks

TEXT = "The movie was great, really great; the plot... not so much. The end! Isn't it?"


def sentiment(texts):
    score = np.array([t.count("great") * 1.0 - t.count("not") * 1.5 + t.count("!") * 0.3
                      for t in texts])
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


def whitespace_tokens(text):
    return text.split()


def word_tokens(text):
    return re.findall(r"[A-Za-z']+", text)


SPLITS = {
    "default": r"\W+",
    "whitespace": r"\s+",
    "punctuation_kept": r"[\s]+|(?=[,.;!?])",
    "non_capturing": r"(?:\W|_)+",
    "callable_split": whitespace_tokens,
    "callable_findall": word_tokens,
}


def lime_indexed(text, *, bow, split_expression=r"\W+", char_level=False, mask_string=None):
    from lime.lime_text import IndexedCharacters, IndexedString

    if char_level:
        return IndexedCharacters(text, bow=bow, mask_string=mask_string)
    return IndexedString(text, split_expression=split_expression, bow=bow, mask_string=mask_string)


def assert_same_pieces(domain, ref, seed=0):
    assert domain.features == list(ref.inverse_vocab)
    Z = sample_masks(len(domain.features), 60, random_state=seed, scheme="uniform_count")
    for z, ours in zip(Z, perturb_text(domain, Z), strict=True):
        assert ours == ref.inverse_removing(np.flatnonzero(~z))


@pytest.mark.parametrize("bow", [True, False])
@pytest.mark.parametrize("split", list(SPLITS))
def test_split_expression_tokens_and_texts_equal_limes(split, bow):
    expression = SPLITS[split]
    domain = tokenise(TEXT, bow=bow, split_expression=expression)
    assert_same_pieces(domain, lime_indexed(TEXT, bow=bow, split_expression=expression))


@pytest.mark.parametrize("bow", [True, False])
@pytest.mark.parametrize("text", [TEXT, "abracadabra", "héllo wörld ✓ 日本語", "a"])
def test_char_level_tokens_and_texts_equal_limes(text, bow):
    domain = tokenise(text, bow=bow, char_level=True)
    assert domain.mask_string == chr(0)  # lime's default for characters
    assert_same_pieces(domain, lime_indexed(text, bow=bow, char_level=True))


def test_mask_string_none_is_limes_default_and_a_custom_one_is_used():
    assert tokenise(TEXT, bow=False).mask_string == "UNKWORDZ"
    assert tokenise(TEXT, bow=False, mask_string=None).mask_string == "UNKWORDZ"
    domain = tokenise(TEXT, bow=False, mask_string="[MASK]")
    assert_same_pieces(domain, lime_indexed(TEXT, bow=False, mask_string="[MASK]"))


def lime_on_our_masks(exp, ref, label, num_features, feature_selection="auto"):
    """lime's LimeBase on our masks and model outputs: [(word, weight)] and the score."""
    from lime.lime_base import LimeBase

    base = LimeBase(partial(exponential_kernel, kernel_width=25), random_state=0)
    distances = 100 * cosine_distance(exp.Z)
    _, pairs, score, _ = base.explain_instance_with_data(
        exp.Z, exp.predictions, distances, label, num_features,
        feature_selection=feature_selection)
    return [(ref.word(j), w) for j, w in pairs], score


@pytest.mark.parametrize(
    "kwargs",
    [
        {"char_level": True},
        {"char_level": True, "bow": False},
        {"split_expression": r"\s+"},
        {"split_expression": whitespace_tokens, "bow": False},
        {"split_expression": word_tokens},
    ],
    ids=["char", "char-positions", "regex", "callable-positions", "callable"],
)
@pytest.mark.parametrize("num_features", [4, 8])
def test_pipeline_strings_and_weights_equal_limes_on_the_same_masks(kwargs, num_features):
    exp = explain_text(TEXT, sentiment, num_samples=400, num_features=num_features,
                       random_state=1, **kwargs)
    texts = perturb_text(exp.extra["domain"], exp.Z)
    np.testing.assert_array_equal(sentiment(texts), exp.predictions)  # the model saw these
    ref = lime_indexed(TEXT, bow=kwargs.get("bow", True),
                       split_expression=kwargs.get("split_expression", r"\W+"),
                       char_level=kwargs.get("char_level", False))
    expected, score = lime_on_our_masks(exp, ref, 1, num_features)
    ours = exp.as_list()
    assert [w for w, _ in ours] == [w for w, _ in expected]
    np.testing.assert_allclose([v for _, v in ours], [v for _, v in expected], atol=1e-8)
    assert exp.score[1] == pytest.approx(score, abs=1e-8)


@pytest.mark.parametrize(
    "kwargs, planted",
    [({"char_level": True}, {"!", "g"}), ({"split_expression": whitespace_tokens}, {"great,", "not"})],
    ids=["char", "callable"],
)
def test_end_to_end_each_with_its_own_samples_finds_the_same_top_features(kwargs, planted):
    """Own random masks on both sides: the planted features lead both explanations."""
    from lime.lime_text import LimeTextExplainer

    def model(texts):
        if kwargs.get("char_level"):  # a character model: counts of '!' and 'g'
            s = np.array([t.count("!") * 2.0 + t.count("g") * 1.0 for t in texts])
        else:
            s = np.array([("great," in t.split()) * 2.0 - ("not" in t.split()) * 2.0 for t in texts])
        p = 1 / (1 + np.exp(-s))
        return np.column_stack([1 - p, p])

    ref = LimeTextExplainer(random_state=0, **kwargs).explain_instance(
        TEXT, model, num_features=2, num_samples=2000)
    ours = explain_text(TEXT, model, num_features=2, num_samples=2000, random_state=0, **kwargs)
    assert {w for w, _ in ref.as_list(label=1)} == planted
    assert {w for w, _ in ours.as_list()} == planted
    lime_weights, our_weights = dict(ref.as_list(label=1)), dict(ours.as_list())
    for word in planted:  # Monte Carlo noise only: same sign, within 25 %
        assert our_weights[word] == pytest.approx(lime_weights[word], rel=0.25)
