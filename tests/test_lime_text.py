"""Text LIME: lime's tokenisation and word removal, the whole pipeline against lime on
the same masks, seeding and argument checks."""

from functools import partial

import numpy as np
import pytest

from lime_core.kernels import cosine_distance, exponential_kernel
from lime_core.lime_text import explain_text
from lime_core.perturbation import perturb_text, tokenise
from lime_core.sampling import sample_masks

TEXT = "The movie was great, really great; the plot... not so much. The end!"


def sentiment(texts):
    score = np.array([t.count("great") * 1.0 - t.count("not") * 1.5 for t in texts])
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


@pytest.mark.parametrize("bow", [True, False])
def test_tokens_and_removal_equal_limes(bow):
    from lime.lime_text import IndexedString

    ref = IndexedString(TEXT, bow=bow)
    dom = tokenise(TEXT, bow=bow)
    assert dom.features == ref.inverse_vocab
    Z = sample_masks(len(dom.features), 40, random_state=0, scheme="uniform_count")
    ours = perturb_text(dom, Z)
    for z, text in zip(Z, ours, strict=True):
        assert text == ref.inverse_removing(np.flatnonzero(~z))


def test_pipeline_equals_lime_on_the_same_masks():
    """Same masks -> same texts, distances and surrogate as lime's explainer."""
    from lime.lime_base import LimeBase

    exp = explain_text(TEXT, sentiment, num_samples=500, num_features=4, random_state=3)
    texts = perturb_text(tokenise(TEXT), exp.Z)
    np.testing.assert_array_equal(sentiment(texts), exp.predictions)
    base = LimeBase(partial(exponential_kernel, kernel_width=25), random_state=0)
    distances = 100 * cosine_distance(exp.Z)
    _, ref, score, _ = base.explain_instance_with_data(exp.Z, exp.predictions, distances, 1, 4)
    ours = exp.as_map()[1]
    assert [j for j, _ in ours] == [int(j) for j, _ in ref]
    np.testing.assert_allclose([w for _, w in ours], [w for _, w in ref], atol=1e-8)
    assert exp.score[1] == pytest.approx(score)


def test_explanation_finds_the_words_the_model_uses():
    exp = explain_text(TEXT, sentiment, num_samples=1000, num_features=3, random_state=0)
    assert exp.labels == [1]
    names = [w for w, _ in exp.as_list()]
    assert set(names[:2]) == {"great", "not"}
    weights = dict(exp.as_list())
    assert weights["great"] > 0 > weights["not"]
    assert exp.model_calls == 1
    page = exp._repr_html_()
    # every occurrence of the 3 selected words is tinted: "great" twice, "not", a third word
    assert "<script" not in page.lower()
    assert page.count("<span") == 4
    assert '<span style="background: rgba(44,160,44' in page and "rgba(214,39,40" in page


def test_same_seed_bit_identical():
    a = explain_text(TEXT, sentiment, num_samples=300, random_state=11)
    b = explain_text(TEXT, sentiment, num_samples=300, random_state=11)
    np.testing.assert_array_equal(a.Z, b.Z)
    assert a.as_map() == b.as_map()


@pytest.mark.parametrize(
    "text, fn, kwargs, error, words",
    [
        ("", sentiment, {}, ValueError, "text must contain at least one word"),
        ("  ... !", sentiment, {}, ValueError, "text must contain at least one word"),
        (42, sentiment, {}, TypeError, "text must be a str"),
        (TEXT, None, {}, TypeError, "classifier_fn must be callable"),
        (TEXT, lambda t: np.ones((3, 2)), {}, ValueError, "classifier_fn must return shape"),
        (TEXT, lambda t: np.full(len(t), np.inf), {}, ValueError, "classifier_fn returned NaN"),
        (TEXT, sentiment, {"num_samples": 1}, ValueError, "num_samples"),
        (TEXT, sentiment, {"kernel_width": 0}, ValueError, "kernel_width"),
    ],
)
def test_bad_input(text, fn, kwargs, error, words):
    with pytest.raises(error, match=words):
        explain_text(text, fn, num_samples=kwargs.pop("num_samples", 20), **kwargs)


def test_bow_must_be_a_bool():
    with pytest.raises(TypeError, match="^bow must be True or False"):
        explain_text("a fine film", lambda texts: np.ones((len(texts), 2)) / 2, bow="no", num_samples=10)
