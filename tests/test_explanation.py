"""The Explanation object: lime-style views, refit without model calls, mask, plot, HTML."""

import numpy as np
import pytest

from lime_core.lime_image import explain_image
from lime_core.segmentation import grid_segments


class CountingModel:
    def __init__(self, lam):
        self.lam, self.calls = lam, 0

    def __call__(self, batch):
        self.calls += 1
        s = (batch * self.lam).reshape(len(batch), -1).sum(axis=1)
        p = 1 / (1 + np.exp(-s))
        return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    image = rng.random((16, 16, 3))
    segments = grid_segments((16, 16), 3, 3)
    lam = np.zeros_like(image)
    lam[segments == 4] = 0.5  # the centre superpixel drives the model
    lam[segments == 0] = -0.3
    model = CountingModel(lam)
    exp = explain_image(
        image, model, segments=segments, num_samples=400, num_features=4, baseline=0, random_state=0
    )
    return exp, model


def test_as_map_and_as_list_sorted_by_magnitude(setup):
    exp, _ = setup
    for label, items in exp.as_map().items():
        mags = [abs(w) for _, w in items]
        assert mags == sorted(mags, reverse=True)
        assert [exp.feature_names[j] for j, _ in items] == [n for n, _ in exp.as_list(label)]
    assert exp.as_list()[0][0] == 4 and exp.as_list()[0][1] > 0
    assert set(exp.intercept) == set(exp.score) == set(exp.local_pred) == set(exp.stderr) == set(exp.labels)


def test_refit_uses_cache_and_matches_a_fresh_run(setup):
    exp, model = setup
    calls = model.calls
    new = exp.refit(kernel_width=0.5, num_features=2, feature_selection="highest_weights")
    assert model.calls == calls and new.model_calls == exp.model_calls
    fresh = explain_image(
        exp.image, model, segments=exp.segments, num_samples=400, num_features=2,
        kernel_width=0.5, feature_selection="highest_weights", baseline=0, random_state=0,
    )
    assert new.as_map() == fresh.as_map()
    assert exp.kernel_width == 0.25 and len(exp.as_list()) == 4  # the original is unchanged
    with pytest.raises(ValueError, match="kernel_width"):
        exp.refit(kernel_width=0)
    with pytest.raises(ValueError, match="feature_selection"):
        exp.refit(feature_selection="best")


def test_image_mask(setup):
    exp, _ = setup
    mask = exp.image_mask(num_features=2, positive_only=False)
    assert set(np.unique(mask)) <= {-1, 0, 1}
    assert np.all(mask[exp.segments == 4] == 1) and np.all(mask[exp.segments == 0] == -1)
    assert np.all(exp.image_mask(num_features=2) >= 0)
    with pytest.raises(ValueError, match="label"):
        exp.image_mask(target=7)


def test_plot_and_html(setup):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exp, _ = setup
    ax = exp.plot()
    assert ax.images and "label 1" in ax.get_title()
    plt.close("all")
    page = exp._repr_html_()
    assert "<svg" in page and "<script" not in page.lower()
    assert page.count("<rect") == len(exp.as_list())


@pytest.mark.parametrize("scale", [1.0, 255.0, 1000.0])
def test_plot_grayscale_and_any_range(scale):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gray = np.random.default_rng(0).random((16, 16)) * scale
    exp = explain_image(gray, lambda b: b.reshape(len(b), -1).mean(axis=1),
                        segments=grid_segments((16, 16), 2, 2), num_samples=30, random_state=0)
    ax = exp.plot()
    shown = ax.images[0].get_array()
    assert shown.shape == (16, 16, 3) and 0 <= shown.min() and shown.max() <= 1
    plt.close("all")


def test_html_shows_every_explained_label():
    rng = np.random.default_rng(0)
    image = rng.random((16, 16, 3))

    def three_classes(batch):
        m = batch.reshape(len(batch), -1).mean(axis=1)
        return np.column_stack([m, 1 - m, 0.5 * np.ones_like(m)])

    exp = explain_image(image, three_classes, segments=grid_segments((16, 16), 2, 2), num_samples=40,
                        top_labels=3, num_features=4, random_state=0)
    page = exp._repr_html_()
    assert page.count("<svg") == 3 and "<script" not in page.lower()
    for label in exp.labels:
        assert f"label {label}:" in page
