"""One LIME pipeline: explainer = samples (all model calls) + explain_from_samples (no calls)."""

from __future__ import annotations

import numpy as np
import pytest

import lime_core
from lime_core.segmentation import grid_segments


class Counting:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, batch):
        self.calls += 1
        return self.fn(batch)


def _image_model(batch):
    b = np.asarray(batch, dtype=float)
    p = 1 / (1 + np.exp(-(b[:, :4, :4].mean(axis=(1, 2, 3)) - b[:, 4:, 4:].mean(axis=(1, 2, 3)))))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def photo():
    return np.random.default_rng(0).uniform(size=(8, 8, 3))


def test_image_explainer_is_samples_then_fit(photo):
    seg = grid_segments((8, 8), 2, 2)
    model = Counting(_image_model)
    samples = lime_core.image_samples(photo, model, segments=seg, num_samples=120,
                                      batch_size=50, random_state=3)
    assert model.calls == samples.model_calls == 3  # ceil(120 / 50)
    fitted = lime_core.explain_from_samples(samples, kernel_width=0.25, target=1)
    assert model.calls == 3  # fitting calls nothing
    direct = lime_core.explain_image(photo, _image_model, segments=seg, num_samples=120,
                                     batch_size=50, random_state=3, target=1)
    np.testing.assert_array_equal(fitted.fits[1].coef, direct.fits[1].coef)
    # the perturbed input of a sample is what the model saw
    np.testing.assert_allclose(_image_model(samples.perturbed_input(5)[None]),
                               samples.predictions[5:6])


def test_text_and_tabular_explainers_are_samples_then_fit():
    clf = Counting(lambda ts: [t.count("good") for t in ts])
    s = lime_core.text_samples("good film good cast", clf, num_samples=200, random_state=0)
    a = lime_core.explain_from_samples(s, kernel_width=25)
    b = lime_core.explain_text("good film good cast", clf.fn, num_samples=200, random_state=0)
    np.testing.assert_array_equal(a.fits[0].coef, b.fits[0].coef)
    assert clf.calls == 1 and s.perturbed_input(0) == "good film good cast"

    train = np.random.default_rng(1).normal(size=(100, 3))
    s = lime_core.tabular_samples(np.zeros(3), lambda X: X[:, 2], train, num_samples=300,
                                  random_state=0)
    a = lime_core.explain_from_samples(s, kernel_width=0.75 * np.sqrt(3))
    b = lime_core.explain_tabular(np.zeros(3), lambda X: X[:, 2], train, num_samples=300,
                                  random_state=0)
    np.testing.assert_array_equal(a.fits[0].coef, b.fits[0].coef)


def test_refit_equals_a_fresh_fit_and_calls_nothing(photo):
    seg = grid_segments((8, 8), 2, 2)
    model = Counting(_image_model)
    exp = lime_core.explain_image(photo, model, segments=seg, num_samples=150, labels=[0, 1],
                                  random_state=0)
    calls = model.calls
    wide = exp.refit(kernel_width=2.0, num_features=2, labels=[1])
    fresh = lime_core.explain_image(photo, _image_model, segments=seg, num_samples=150,
                                    kernel_width=2.0, num_features=2, target=1, random_state=0)
    assert model.calls == calls and wide.model_calls == exp.model_calls
    assert wide.labels == [1]
    np.testing.assert_allclose(wide.fits[1].coef, fresh.fits[1].coef)
    np.testing.assert_allclose(wide.weights, fresh.weights)


def test_explain_from_samples_is_keyword_only_and_checks_its_input(photo):
    s = lime_core.image_samples(photo, _image_model, segments=grid_segments((8, 8), 2, 2),
                                num_samples=20, random_state=0)
    with pytest.raises(TypeError):
        lime_core.explain_from_samples(s, 0.25)  # kernel_width must be named
    with pytest.raises(TypeError, match="^samples must be a LimeSamples"):
        lime_core.explain_from_samples("not samples", kernel_width=0.25)
    with pytest.raises(ValueError, match="^target and labels"):
        lime_core.explain_from_samples(s, kernel_width=0.25, target=1, labels=[0])
