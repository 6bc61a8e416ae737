"""The attribution-map contract: every method's map goes straight into metrics and sanity checks.

A linear "detector" looks only at the top-left quadrant of an 8 x 8 RGB image. Every
method, written exactly as a student would write it, must give a map shaped like the
input, point into that quadrant, beat its own reversed ranking on the deletion curve,
and run in the sanity check with ``attribution_fn=method``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import lime_core
from lime_core.segmentation import grid_segments

torch = pytest.importorskip("torch")

T = 1  # the target class
GRID = grid_segments((8, 8), 2, 2)  # superpixel 0 is the top-left quadrant


@pytest.fixture(scope="module")
def detector():
    """Class 1's score is a positive weighting of the top-left quadrant's pixels."""
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 2))
    with torch.no_grad():
        w = torch.zeros(3, 8, 8)
        w[:, :4, :4] = torch.linspace(0.5, 1.5, 48).reshape(3, 4, 4)
        net[1].weight.zero_()
        net[1].weight[1] = w.ravel()
        net[1].weight[0] = -w.ravel()
        net[1].bias.zero_()
    return net.eval()


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return torch.as_tensor(rng.uniform(0.5, 1.0, size=(1, 3, 8, 8)), dtype=torch.float32)


# every method in place of saliency, with only the settings it cannot do without
METHODS = {
    "saliency": (lime_core.saliency, {}),
    "gradient_times_input": (lime_core.gradient_times_input, {}),
    "smoothgrad": (lime_core.smoothgrad, {"random_state": 0}),
    "integrated_gradients": (lime_core.integrated_gradients, {}),
    "deeplift": (lime_core.deeplift, {}),
    "deep_shap": (lime_core.deep_shap, {"baseline": np.zeros((2, 3, 8, 8))}),
    "explain_image": (lime_core.explain_image,
                      {"segments": GRID, "baseline": 0.0, "num_samples": 200}),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_goes_straight_into_the_metrics(name, detector, image):
    method, settings = METHODS[name]
    fn = functools.partial(method, **settings)
    if name == "explain_image":
        # LIME's own order: the (H, W, C) image it perturbs and a numpy classifier_fn; its
        # Explanation is accepted as it is, painted onto x's layout by the metric
        hwc = image[0].permute(1, 2, 0).numpy()
        own = method(hwc, lambda b: detector(torch.as_tensor(b).permute(0, 3, 1, 2))
                     .detach().numpy(), target=T, random_state=0, **settings)
        assert own.attribution(T).shape == hwc.shape  # shaped like its input
        # and the attribution-method order, exactly as saliency is called
        attribution = method(detector, image, target=T, random_state=0, **settings)
        np.testing.assert_allclose(attribution.fits[T].coef, own.fits[T].coef, rtol=1e-5)
    else:
        attribution = method(detector, image, target=T, **settings)  # as written
        attribution = getattr(attribution, "attributions", attribution)
        assert tuple(attribution.shape) == tuple(image.shape)

    # the map, the result object and the method itself all go into deletion_curve
    curve = lime_core.deletion_curve(detector, image, attribution, target=T, steps=8)
    via_fn = lime_core.deletion_curve(detector, image, fn, target=T, steps=8)
    np.testing.assert_allclose(curve.scores, via_fn.scores, rtol=1e-5, atol=1e-6)
    reverse = lime_core.deletion_curve(detector, image, attribution, target=T, steps=8,
                                       direction="least_relevant_first")
    assert curve.auc < reverse.auc  # a faithful ranking deletes the quadrant first
    assert curve.scores[0] > curve.scores[-1]

    # localisation metrics take the map in the input's layout too
    painted = lime_core.attribution_map(fn, detector, image, target=T)
    assert tuple(np.shape(painted)) == tuple(image.shape)
    assert lime_core.pointing_game(painted, (0, 0, 4, 4))
    assert lime_core.iou(painted, (0, 0, 4, 4)) > 0.99 or name == "smoothgrad"


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_goes_straight_into_the_sanity_check(name, image):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 6), torch.nn.ReLU(),
                              torch.nn.Linear(6, 2)).eval()
    method, settings = METHODS[name]
    fn = functools.partial(method, **settings) if settings else method
    result = lime_core.cascading_randomization(net, image, target=T, attribution_fn=fn,
                                               random_state=0)
    assert result.layer_names == ["original", "3", "1"]
    assert result.method_names == [name]
    maps = result.maps[name]
    assert all(m.shape == (8, 8) for m in maps)  # |map| summed over channels, x's pixels
    assert result.spearman[0, 0] == pytest.approx(1.0)
    # the randomised model's map is a different map
    assert not np.allclose(maps[0], maps[-1])


def test_old_positional_call_of_the_sanity_check_still_works(image):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 2)).eval()
    with pytest.warns(DeprecationWarning, match="target=..., attribution_fn=..."):
        old = lime_core.cascading_randomization(net, image, T, lime_core.saliency,
                                                random_state=0)
    new = lime_core.cascading_randomization(net, image, target=T,
                                            attribution_fn=lime_core.saliency, random_state=0)
    np.testing.assert_array_equal(old.spearman, new.spearman)
    # a user's old-style lambda (model, x, target) still works
    lam = lime_core.cascading_randomization(
        net, image, target=T, attribution_fn=lambda m, x, t: lime_core.saliency(m, x, target=t),
        random_state=0)
    np.testing.assert_array_equal(lam.spearman, new.spearman)


def test_kernel_shap_and_tabular_lime_maps_have_the_row_shape():
    w = np.array([2.0, 0.0, -1.0, 0.0])

    def model(rows):
        return np.asarray(rows) @ w

    x = np.ones(4)
    phi = lime_core.kernel_shap(model, x, np.zeros((3, 4)), random_state=0)
    assert lime_core.attribution_map(phi, model, x).shape == x.shape
    curve = lime_core.deletion_curve(model, x, phi, steps=4)
    # deleted in the order phi ranks them: feature 0 (+2), then 1 and 3 (0), then 2 (-1)
    assert curve.scores.tolist() == [1.0, -1.0, -1.0, -1.0, 0.0]
    train = np.random.default_rng(0).normal(size=(200, 4))
    lime_map = lime_core.attribution_map(
        functools.partial(lime_core.explain_tabular, training_data=train, num_samples=400),
        model, x)
    assert lime_map.shape == x.shape and int(np.argmax(np.abs(lime_map))) == 0


def test_text_explanation_map_has_one_weight_per_word_in_order():
    exp = lime_core.explain_text("good plot , bad acting , good music",
                                 lambda ts: [t.count("good") - t.count("bad") for t in ts],
                                 num_samples=500, random_state=0)
    a = exp.attribution()
    assert a.shape == (6,)  # six words, separators dropped
    assert a[0] == a[4] > 0 and a[2] < 0  # "good" twice, in place; "bad" negative


def test_superpixel_sums_is_lime_limit_of_a_pixel_linear_model():
    """On f(x) = sum_u lambda_u x_u + b, LIME's limit coefficient of superpixel j is the
    sum over J_j of lambda_u (xi_u - baseline_u) (theory.linear_model_limit): the same
    number superpixel_sums gives from the per-pixel contributions, in every layout."""
    from lime_core import superpixel_sums, theory
    from lime_core.perturbation import replacement_image
    from lime_core.segmentation import grid_segments

    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 3))
    lam = rng.normal(size=(12, 12, 3))
    segments = grid_segments((12, 12), 3, 2)
    limit = theory.linear_model_limit(lam, image, segments, bias=0.2).coefficients
    contribution = lam * (image - replacement_image(image, segments))
    np.testing.assert_allclose(superpixel_sums(contribution, segments), limit, atol=1e-12)
    channels_first = contribution.transpose(2, 0, 1)
    np.testing.assert_allclose(superpixel_sums(channels_first[None], segments), limit, atol=1e-12)
    np.testing.assert_allclose(superpixel_sums(contribution.sum(axis=2), segments), limit,
                               atol=1e-12)
    # a map of the wrong size is refused by name, not broadcast
    with pytest.raises(ValueError, match="attribution"):
        superpixel_sums(contribution[:-1], segments)
