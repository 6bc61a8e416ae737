"""Image LIME under abuse: wrong types, shapes, ranks, dtypes, sizes, NaN/inf pixels,
odd channel counts, wrong segments and baselines, and models that misbehave.

The rule checked everywhere (DESIGN.md): a correct result, or a ``ValueError`` /
``TypeError`` whose message names the argument, never a silent NaN, never an unrelated
exception (IndexError, AttributeError, a numpy broadcasting error, ...), never memory
that grows with the input beyond one batch. Hand-written cases plus a few hypothesis
properties; the whole file runs in seconds.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lime_core.explanation import display_image
from lime_core.lime_image import explain_image, image_samples, mask_distances
from lime_core.perturbation import (
    IMAGE_BATCH_BYTES,
    image_batch_size,
    masked_images,
    perturb_image_batches,
    replacement_image,
    superpixel_means,
)
from lime_core.segmentation import colour_view, grid_segments, relabel, segment

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def mean_model(batch):
    """Two outputs from the mean brightness: cheap, smooth, defined for any image shape."""
    b = np.asarray(batch, dtype=float)
    s = b.reshape(len(b), -1).mean(axis=1)
    s = s / (1.0 + np.abs(s))
    return np.column_stack([s, 1.0 - s])


def quarter_model(batch):
    """Depends only on the top-left quarter: superpixel 0 of a 2 x 2 grid."""
    b = np.asarray(batch, dtype=float)
    h, w = b.shape[1] // 2, b.shape[2] // 2
    return b[:, :h, :w].reshape(len(b), -1).mean(axis=1)


def named_error(call, error, argument):
    """``call()`` raises ``error`` and the message names ``argument``."""
    with pytest.raises(error) as info:
        call()
    assert re.search(argument, str(info.value)), f"{argument!r} not in {info.value}"


def assert_finite_explanation(exp, image):
    for fit in exp.fits.values():
        assert np.all(np.isfinite(fit.coef)) and np.isfinite(fit.intercept)
        assert np.isfinite(fit.score)
    attribution = exp.attribution()
    assert attribution.shape == np.shape(image)
    assert np.all(np.isfinite(attribution))


# --------------------------------------------------------------------------- images


RNG = np.random.default_rng(0)
FLOAT_RGB = RNG.random((12, 12, 3))
GRID = grid_segments((12, 12), 2, 2)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param((FLOAT_RGB * 255).astype(np.uint8), id="uint8"),
        pytest.param((FLOAT_RGB * 1000 - 500).astype(np.int16), id="int16"),
        pytest.param(FLOAT_RGB.astype(np.float32), id="float32"),
        pytest.param(FLOAT_RGB, id="float64"),
        pytest.param(FLOAT_RGB[..., 0], id="grayscale"),
        pytest.param(FLOAT_RGB[..., :1], id="HxWx1"),
        pytest.param(np.concatenate([FLOAT_RGB, np.ones((12, 12, 1))], axis=2), id="RGBA"),
        pytest.param(FLOAT_RGB[..., :2], id="gray+alpha"),
        pytest.param(RNG.random((12, 12, 5)), id="5 channels"),
        pytest.param(FLOAT_RGB.tolist(), id="nested list"),
        pytest.param(np.asfortranarray(FLOAT_RGB), id="Fortran order"),
        pytest.param(FLOAT_RGB[::-1, ::-1], id="negative strides"),
    ],
)
def test_every_image_kind_gives_a_finite_explanation_of_its_shape(image):
    seen = []

    def model(batch):
        seen.append(batch.shape[1:])
        return mean_model(batch)

    exp = explain_image(image, model, segments=GRID, num_samples=40, random_state=0)
    assert_finite_explanation(exp, image)
    assert set(seen) == {np.shape(image)}  # the model sees the image's own layout
    assert exp.image_mask().shape == (12, 12)
    assert exp.Z.dtype == bool and exp.Z[0].all()


def test_hxwx1_is_grayscale_with_its_channel_axis():
    gray = RNG.random((16, 16))
    a = explain_image(gray, mean_model, segments=grid_segments((16, 16), 2, 2),
                      num_samples=60, random_state=3)
    b = explain_image(gray[..., None], mean_model, segments=grid_segments((16, 16), 2, 2),
                      num_samples=60, random_state=3)
    np.testing.assert_allclose(a.fits[a.labels[0]].coef, b.fits[b.labels[0]].coef)
    assert b.attribution().shape == (16, 16, 1)
    np.testing.assert_allclose(b.attribution()[..., 0], a.attribution())
    # and the default segmentation (quickshift) takes (H, W, 1) like (H, W)
    img = np.zeros((24, 24))
    img[:, 12:] = 1.0
    np.testing.assert_array_equal(segment(img[..., None]), segment(img))


def test_rgba_quickshift_segments_the_colour_channels():
    rgb = np.zeros((24, 24, 3))
    rgb[:, 12:] = [1.0, 0.5, 0.0]
    rgba = np.concatenate([rgb, RNG.random((24, 24, 1))], axis=2)  # noisy alpha is ignored
    np.testing.assert_array_equal(segment(rgba), segment(rgb))
    assert segment(rgb).max() == 1  # the two halves
    named_error(lambda: segment(RNG.random((24, 24, 5))), ValueError, "image must be grayscale, RGB or RGBA")


@pytest.mark.parametrize(
    "image, error, words",
    [
        ("a picture", TypeError, "image"),
        (None, TypeError, "image"),
        ({"pixels": 1}, TypeError, "image"),
        ([[1, 2], [3]], TypeError, "image"),
        (np.zeros((4, 4), dtype=bool), TypeError, "image must hold numbers"),
        (np.zeros((4, 4), dtype=complex), TypeError, "image must hold numbers"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "image must hold numbers"),
        (np.zeros(16), ValueError, "image must be 2-D or 3-D"),
        (np.float64(3.0), ValueError, "image must be 2-D or 3-D"),
        (np.zeros((2, 4, 4, 3)), ValueError, "image must be 2-D or 3-D"),
        (np.zeros((0, 0)), ValueError, "image must be at least 2 x 2"),
        (np.zeros((1, 1, 3)), ValueError, "image must be at least 2 x 2"),
        (np.zeros((1, 9)), ValueError, "image must be at least 2 x 2"),
        (np.zeros((4, 4, 0)), ValueError, "image must have at least one channel"),
    ],
)
def test_bad_images_are_named_errors(image, error, words):
    named_error(lambda: explain_image(image, mean_model, segments=lambda im: grid_segments(np.shape(im)[:2], 1, 2),
                                      num_samples=10, random_state=0), error, words)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_pixels_are_refused(bad, dtype):
    image = FLOAT_RGB.astype(dtype)
    image[3, 4, 1] = bad
    named_error(lambda: explain_image(image, mean_model, segments=GRID, num_samples=10),
                ValueError, "image contains NaN or infinite")
    named_error(lambda: segment(image, "slic"), ValueError, "image contains NaN or infinite")


def test_smallest_image_two_by_two():
    image = np.array([[0.0, 1.0], [0.5, 0.25]])
    exp = explain_image(image, quarter_model, segments=np.array([[0, 1], [1, 1]]),
                        num_samples=50, baseline=0.0, random_state=0)
    assert_finite_explanation(exp, image)
    assert exp.as_list()[0][0] == 0  # the only pixel the model reads is superpixel 0


def test_huge_image_is_explained_one_image_per_batch():
    """A 1000 x 1000 x 3 float64 image (24 MB): the default batch holds one image, so
    memory is one perturbed image, not num_samples of them."""
    image = np.zeros((1000, 1000, 3))
    image[:500, :500] = 1.0
    sizes = []

    def model(batch):
        sizes.append(len(batch))
        return quarter_model(batch)

    assert image_batch_size(image) == 1
    exp = explain_image(image, model, segments=grid_segments((1000, 1000), 2, 2),
                        num_samples=4, baseline=0.0, feature_selection="none", random_state=0)
    assert sizes == [1, 1, 1, 1] and exp.model_calls == 4


def test_default_batch_is_sized_by_bytes():
    photo_f64 = np.zeros((224, 224, 3))
    photo_u8 = np.zeros((224, 224, 3), np.uint8)
    per_image = photo_f64.nbytes + photo_f64.size
    assert image_batch_size(photo_f64) == IMAGE_BATCH_BYTES // per_image == 17
    assert image_batch_size(photo_u8) == 64  # capped
    assert image_batch_size(np.zeros((8, 8))) == 64
    assert image_batch_size(photo_f64, max_bytes=1) == 1
    named_error(lambda: image_batch_size(photo_f64, max_bytes=0), ValueError, "max_bytes")
    sizes = []

    def model(batch):
        sizes.append(len(batch))
        return mean_model(batch)

    samples = image_samples(photo_f64 + 0.5, model, segments=grid_segments((224, 224), 2, 2),
                            num_samples=40, random_state=0)
    assert sizes == [17, 17, 6] and samples.model_calls == 3


# --------------------------------------------------------------------------- segments


@pytest.mark.parametrize(
    "segments, error, words",
    [
        (np.zeros((5, 5), int), ValueError, "segments must have the image's shape"),
        (GRID.T[:, :11], ValueError, "segments must have the image's shape"),
        (np.zeros((12, 12, 1), int), ValueError, "segments must be 2-D"),
        (GRID.astype(float), TypeError, "segments must be integer labels"),
        (GRID.astype(bool), TypeError, "segments must be integer labels"),
        (np.full((12, 12), "a"), TypeError, "segments must be integer labels"),
        (np.zeros((12, 12), int), ValueError, "segments must contain at least 2"),
        (lambda im: "nonsense", ValueError, "segments must be 2-D"),
        (lambda im: np.zeros((3, 3), int), ValueError, "segments must have the image's shape"),
        (object(), ValueError, "segments must be 2-D"),
    ],
)
def test_bad_segments_are_named_errors(segments, error, words):
    named_error(lambda: explain_image(FLOAT_RGB, mean_model, segments=segments, num_samples=10),
                error, words)


def test_segment_labels_need_not_be_consecutive():
    odd = np.where(GRID == 0, -7, GRID * 1000)  # negative and sparse labels
    a = explain_image(FLOAT_RGB, mean_model, segments=odd, num_samples=60, random_state=1)
    b = explain_image(FLOAT_RGB, mean_model, segments=GRID, num_samples=60, random_state=1)
    np.testing.assert_array_equal(a.segments, relabel(GRID))
    np.testing.assert_allclose(a.fits[a.labels[0]].coef, b.fits[b.labels[0]].coef)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: replacement_image(FLOAT_RGB, np.zeros((5, 5), int)), ValueError, "segments must have the image's shape"),
        (lambda: replacement_image(FLOAT_RGB, GRID.astype(float)), TypeError, "segments must be integer"),
        (lambda: replacement_image(FLOAT_RGB, -GRID - 1), ValueError, "segments must be labels >= 0"),
        (lambda: replacement_image(np.zeros(12), GRID), ValueError, "image must be 2-D or 3-D"),
        (lambda: superpixel_means(FLOAT_RGB, GRID[:6]), ValueError, "segments must have the image's shape"),
        (lambda: masked_images(FLOAT_RGB, GRID[:6], np.ones((2, 4)), FLOAT_RGB), ValueError, "segments"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.ones((2, 3)), FLOAT_RGB), ValueError, "Z must have one column per superpixel"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.ones(4), FLOAT_RGB), ValueError, "Z must be a 2-D"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.full((2, 4), 2), FLOAT_RGB), ValueError, "Z must hold only 0 and 1"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.full((2, 4), np.nan), FLOAT_RGB), ValueError, "Z must hold only 0 and 1"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.full((2, 4), "1"), FLOAT_RGB), TypeError, "Z must hold"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.ones((2, 4)), FLOAT_RGB[:6]), ValueError, "baseline must be an image"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.ones((2, 4)), np.nan), ValueError, "baseline contains NaN"),
        (lambda: masked_images(FLOAT_RGB, GRID, np.ones((2, 4)), "black"), TypeError, "baseline must hold numbers"),
        (lambda: masked_images(np.where(GRID[..., None] == 1, np.inf, FLOAT_RGB), GRID, np.ones((2, 4)), 0.0),
         ValueError, "image contains NaN or infinite"),
        (lambda: masked_images(np.full((12, 12), object()), GRID, np.ones((2, 4)), 0.0), TypeError, "image must hold numbers"),
        (lambda: replacement_image(np.full((12, 12), object()), GRID), TypeError, "image must hold numbers"),
        (lambda: superpixel_means(np.full((12, 12), np.nan), GRID), ValueError, "image contains NaN"),
        (lambda: image_samples(FLOAT_RGB, mean_model, segments=GRID, num_samples=10**30), ValueError, "num_samples must be <="),
        (lambda: explain_image(FLOAT_RGB, mean_model, segments=GRID, num_samples=10, target=10**30), ValueError, "target must be <= 1"),
        (lambda: perturb_image_batches(FLOAT_RGB, GRID, np.ones((2, 5)), FLOAT_RGB[:6]), ValueError, "baseline"),
        (lambda: perturb_image_batches(FLOAT_RGB, GRID, np.ones((2, 4)), FLOAT_RGB, 0), ValueError, "batch_size"),
        (lambda: grid_segments(12, 2, 2), TypeError, "shape must be a pair"),
        (lambda: grid_segments((12, 12, 3), 2, 2), TypeError, "shape must be a pair"),
        (lambda: grid_segments((0, 12), 1, 1), ValueError, "shape"),
        (lambda: grid_segments((4, 4), 5, 1), ValueError, "n_rows"),
        (lambda: segment(FLOAT_RGB, "watershed"), ValueError, "method"),
        (lambda: segment(np.zeros((0, 5)), "grid"), ValueError, "image must not be empty"),
    ],
)
def test_perturbation_helpers_check_their_arguments(call, error, words):
    named_error(call, error, words)


def test_masked_images_takes_a_number_or_a_colour_as_baseline():
    scalar = masked_images(FLOAT_RGB, GRID, [[1, 0, 1, 0]], 0.25)
    colour = masked_images(FLOAT_RGB, GRID, [[1, 0, 1, 0]], (0.25, 0.25, 0.25))
    full = masked_images(FLOAT_RGB, GRID, [[1, 0, 1, 0]], np.full(FLOAT_RGB.shape, 0.25))
    np.testing.assert_array_equal(scalar, full)
    np.testing.assert_array_equal(colour, full)
    assert masked_images(U8, GRID, [[1, 0, 1, 0]], 0).dtype == np.uint8


def test_perturb_image_batches_checks_before_the_first_batch():
    """A generator would only fail on next(); the check happens at the call."""
    with pytest.raises(ValueError, match="Z must have one column"):
        perturb_image_batches(FLOAT_RGB, GRID, np.ones((3, 2)), FLOAT_RGB)


def test_colour_view_shapes():
    assert colour_view(np.zeros((4, 4))).shape == (4, 4)
    assert colour_view(np.zeros((4, 4, 1))).shape == (4, 4)
    assert colour_view(np.zeros((4, 4, 2))).shape == (4, 4)
    assert colour_view(np.zeros((4, 4, 3))).shape == (4, 4, 3)
    assert colour_view(np.zeros((4, 4, 4))).shape == (4, 4, 3)
    assert colour_view(np.zeros((4, 4, 5))).shape == (4, 4, 5)


# --------------------------------------------------------------------------- baselines


U8 = (FLOAT_RGB * 255).astype(np.uint8)


@pytest.mark.parametrize("baseline", [300, -5, 256, -0.5, 0.5, 127.5, (0, 0, 300), (0, -1, 0)])
def test_uint8_baselines_outside_0_255_or_fractional_are_refused(baseline):
    """lime writes hide_color=300 into a uint8 image as 44 and -5 as 251."""
    named_error(lambda: replacement_image(U8, GRID, baseline), ValueError, "baseline must")
    named_error(lambda: explain_image(U8, mean_model, segments=GRID, baseline=baseline,
                                      num_samples=10), ValueError, "baseline must")
    with pytest.warns(DeprecationWarning):  # lime's name takes the same path
        named_error(lambda: explain_image(U8, mean_model, segments=GRID, hide_color=baseline,
                                          num_samples=10), ValueError, "baseline must")


@pytest.mark.parametrize("baseline", [0, 255, 128.0, np.uint8(7), (255, 0, 10)])
def test_uint8_baselines_in_range_are_written_exactly(baseline):
    out = replacement_image(U8, GRID, baseline)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.broadcast_to(np.asarray(baseline, dtype=float), U8.shape))


def test_image_baseline_is_checked_against_the_dtype_too():
    named_error(lambda: replacement_image(U8, GRID, np.full(U8.shape, 400.0)), ValueError, "baseline must lie in")
    named_error(lambda: replacement_image(U8.astype(np.int8) // 2, GRID, np.full(U8.shape, -200)),
                ValueError, "baseline must lie in")
    named_error(lambda: replacement_image(FLOAT_RGB.astype(np.float32), GRID, 1e300), ValueError,
                "baseline must be finite in the image's dtype float32")
    np.testing.assert_array_equal(replacement_image(FLOAT_RGB, GRID, -5.0), -5.0)  # floats: any finite value


@pytest.mark.parametrize(
    "baseline, error, words",
    [
        ("purple", ValueError, "baseline"),
        (float("nan"), ValueError, "baseline must be finite"),
        ((0.0, np.inf, 0.0), ValueError, "baseline must be finite"),
        ((0.0, 0.0), ValueError, "baseline must be a number, one value per channel"),
        (np.zeros((5, 5, 3)), ValueError, "baseline must be a number, one value per channel"),
        ({"colour": 1}, TypeError, "baseline must be"),
        (object(), TypeError, "baseline must be"),
    ],
)
def test_bad_baselines_are_named_errors(baseline, error, words):
    named_error(lambda: explain_image(FLOAT_RGB, mean_model, segments=GRID, baseline=baseline,
                                      num_samples=10), error, words)


# --------------------------------------------------------------------------- models


def nan_model(batch):
    return np.full((len(batch), 2), np.nan)


@pytest.mark.parametrize(
    "model, error, words",
    [
        (nan_model, ValueError, "classifier_fn returned NaN or infinite"),
        (lambda b: np.where(np.arange(len(b))[:, None] == 3, np.inf, 0.5) * np.ones((1, 2)), ValueError,
         "classifier_fn returned NaN or infinite"),
        (lambda b: np.zeros((len(b), 0)), ValueError, "classifier_fn must return at least one output"),
        (lambda b: np.zeros((len(b) + 1, 2)), ValueError, "classifier_fn must return shape"),
        (lambda b: np.zeros((len(b), 2, 2)), ValueError, "classifier_fn must return shape"),
        (lambda b: 0.5, ValueError, "classifier_fn must return shape"),
        (lambda b: None, (TypeError, ValueError), "classifier_fn"),
        (lambda b: ["x"] * len(b), TypeError, "classifier_fn must return an array of numbers"),
        (lambda b: np.zeros((len(b), 1 + (len(b) % 2))), ValueError, "classifier_fn returned . columns, earlier"),
        ("model", TypeError, "classifier_fn must be callable"),
    ],
)
def test_misbehaving_models_are_named_errors(model, error, words):
    named_error(lambda: explain_image(FLOAT_RGB, model, segments=GRID, num_samples=25, batch_size=4),
                error, words)


def test_a_model_that_raises_is_not_swallowed():
    class Broken(RuntimeError):
        pass

    def model(batch):
        raise Broken("the model's own error")

    with pytest.raises(Broken, match="the model's own error"):
        explain_image(FLOAT_RGB, model, segments=GRID, num_samples=10)


def test_model_outputs_as_lists_and_tensors_are_fine():
    torch = pytest.importorskip("torch")
    a = explain_image(FLOAT_RGB, lambda b: mean_model(b).tolist(), segments=GRID, num_samples=30, random_state=0)
    b = explain_image(FLOAT_RGB, lambda b: torch.as_tensor(mean_model(b)), segments=GRID, num_samples=30,
                      random_state=0)
    np.testing.assert_allclose(a.predictions, b.predictions)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"num_samples": 1}, ValueError, "num_samples"),
        ({"num_samples": 2.5}, TypeError, "num_samples"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": "64"}, TypeError, "batch_size"),
        ({"batch_size": 1.0}, TypeError, "batch_size"),
        ({"kernel_width": np.inf}, ValueError, "kernel_width"),
        ({"random_state": "seed"}, TypeError, "random_state"),
        ({"feature_selection": "best"}, ValueError, "feature_selection"),
    ],
)
def test_bad_settings_are_named_errors(kwargs, error, words):
    named_error(lambda: explain_image(FLOAT_RGB, mean_model, segments=GRID, **{"num_samples": 10, **kwargs}),
                error, words)


# --------------------------------------------------------------------------- storage


@pytest.mark.parametrize("blur_sigma", [0.0, -1.0, np.nan, np.inf])
def test_bad_blur_sigma_is_a_named_error(blur_sigma):
    named_error(lambda: image_samples(FLOAT_RGB, mean_model, segments=GRID, baseline="blur",
                                      blur_sigma=blur_sigma, num_samples=10), ValueError, "blur_sigma")


def test_masks_are_stored_as_booleans_and_refit_still_works():
    exp = explain_image(FLOAT_RGB, quarter_model, segments=GRID, num_samples=400, baseline=0.0,
                        random_state=0)
    assert exp.Z.dtype == bool and exp.Z.nbytes == 400 * 4
    assert exp.extra["samples"].Z is exp.Z  # one copy shared by the samples and the explanation
    wide = exp.refit(kernel_width=5.0, num_features=2)
    assert wide.model_calls == exp.model_calls
    # the refit equals a fresh fit on float masks
    from lime_core.kernels import exponential_kernel
    from lime_core.surrogate import fit_surrogate

    ref = fit_surrogate(exp.Z.astype(float), exp.predictions[:, 0],
                        exponential_kernel(exp.distances, 5.0), 2)
    np.testing.assert_allclose(wide.fits[0].coef, ref.coef, atol=1e-10)
    # every stored sample still rebuilds its perturbed image
    i = 17
    np.testing.assert_array_equal(exp.extra["samples"].perturbed_input(i),
                                  np.where(exp.Z[i][GRID][..., None], FLOAT_RGB, 0.0))


def test_mask_distances_equal_cosine_distance():
    from lime_core.kernels import cosine_distance

    Z = RNG.integers(0, 2, size=(1000, 9)).astype(bool)
    Z[0] = True
    Z[5] = False  # an empty mask: distance 1, as scikit-learn
    np.testing.assert_allclose(mask_distances(Z), cosine_distance(Z.astype(float)), atol=1e-12)


# --------------------------------------------------------------------------- plot


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(FLOAT_RGB, id="rgb"),
        pytest.param(U8, id="uint8"),
        pytest.param(FLOAT_RGB[..., 0], id="grayscale"),
        pytest.param(FLOAT_RGB[..., :1], id="HxWx1"),
        pytest.param(np.concatenate([FLOAT_RGB, np.full((12, 12, 1), 0.5)], axis=2), id="RGBA"),
        pytest.param(RNG.random((12, 12, 5)) * 40 - 20, id="5 channels, any range"),
        pytest.param(np.full((12, 12, 3), 7.0), id="constant"),
    ],
)
def test_plot_shows_any_explained_image(image):
    import matplotlib.pyplot as plt

    exp = explain_image(image, mean_model, segments=GRID, num_samples=30, random_state=0)
    ax = exp.plot(num_features=2)
    shown = ax.get_images()[0].get_array()
    assert shown.shape == (12, 12, 3)
    assert np.all(np.isfinite(shown)) and shown.min() >= 0 and shown.max() <= 1
    plt.close(ax.figure)
    named_error(lambda: exp.plot(target=99), ValueError, "target")


def test_display_image_drops_alpha_and_scales_8_bit():
    rgba = np.zeros((2, 2, 4))
    rgba[..., 0], rgba[..., 3] = 0.25, 1.0
    np.testing.assert_allclose(display_image(rgba), np.stack([np.full((2, 2), 0.25), *[np.zeros((2, 2))] * 2], -1))
    assert display_image(np.zeros((2, 2, 1))).shape == (2, 2, 3)


# --------------------------------------------------------------------------- zoo and widget


@pytest.fixture(scope="module")
def tiny_zoo_model():
    torch = pytest.importorskip("torch")
    from lime_core.zoo.image_models import ImageModel

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 3, 2)).eval()
    return ImageModel(module, ("a", "b"), 8)


def test_zoo_models_take_floats_in_0_1_only(tiny_zoo_model):
    good = RNG.random((3, 8, 8, 3))
    p = tiny_zoo_model.predict_proba(good)
    assert p.shape == (3, 2) and np.allclose(p.sum(axis=1), 1)
    assert tiny_zoo_model.predict_proba(good > 0.5).shape == (3, 2)  # booleans are 0/1
    np.testing.assert_allclose(tiny_zoo_model.predict_proba(good.astype(np.float32)), p, atol=1e-6)
    eight_bit = (good * 255).astype(np.uint8)
    for call in (tiny_zoo_model.predict_proba, tiny_zoo_model.logits, tiny_zoo_model.predict):
        named_error(lambda call=call: call(eight_bit), TypeError, "images must be floats in \\[0, 1\\].*divide")
        named_error(lambda call=call: call(eight_bit.astype(float)), ValueError,
                    "images must hold values in \\[0, 1\\], got values in \\[0, 25.\\].*divide by 255")
        named_error(lambda call=call: call(good - 0.5), ValueError, "images must hold values in \\[0, 1\\]")
        bad = good.copy()
        bad[0, 0, 0, 0] = np.nan
        named_error(lambda call=call, bad=bad: call(bad), ValueError, "images contains NaN")
        named_error(lambda call=call: call(good[0]), ValueError, "images must be 4-D")
        named_error(lambda call=call: call(good[..., :1]), ValueError, "channels-last")
        named_error(lambda call=call: call("images"), TypeError, "images")


def test_lime_on_a_zoo_model_with_a_uint8_image_is_refused(tiny_zoo_model):
    image = (RNG.random((8, 8, 3)) * 255).astype(np.uint8)
    named_error(lambda: explain_image(image, tiny_zoo_model.predict_proba,
                                      segments=grid_segments((8, 8), 2, 2), num_samples=10),
                TypeError, "images must be floats in \\[0, 1\\]")
    exp = explain_image(image / 255.0, tiny_zoo_model.predict_proba,
                        segments=grid_segments((8, 8), 2, 2), num_samples=30, random_state=0)
    assert_finite_explanation(exp, image)


@pytest.mark.parametrize(
    "image, error, words",
    [
        ((FLOAT_RGB * 255).astype(np.uint8), TypeError, "image must be floats in \\[0, 1\\]"),
        (FLOAT_RGB * 255, ValueError, "image must hold values in \\[0, 1\\]"),
        (FLOAT_RGB[..., 0], ValueError, "image must be 3-D"),
        (np.concatenate([FLOAT_RGB, FLOAT_RGB[..., :1]], axis=2), ValueError, "image must have 3 colour channels"),
    ],
)
def test_image_widget_takes_floats_in_0_1_only(image, error, words):
    from widgets.image_player import ImagePerturbationPlayer

    named_error(lambda: ImagePerturbationPlayer(image, mean_model, segmentation="grid", num_samples=10,
                                                debounce=0), error, words)


# --------------------------------------------------------------------------- properties


@st.composite
def small_images(draw):
    h = draw(st.integers(2, 9))
    w = draw(st.integers(2, 9))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    dtype = draw(st.sampled_from([np.uint8, np.int32, np.float32, np.float64]))
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).random(shape)
    image = (values * 255).astype(dtype) if dtype in (np.uint8, np.int32) else values.astype(dtype)
    rows = draw(st.integers(1, h))
    cols = draw(st.integers(1, w))
    return image, grid_segments((h, w), rows, cols)


@FAST
@given(small_images(), st.integers(2, 40), st.sampled_from(["superpixel_mean", "blur", 0, 1]))
def test_property_explain_image_is_finite_or_a_named_error(case, num_samples, baseline):
    image, segments = case
    try:
        exp = explain_image(image, mean_model, segments=segments, num_samples=num_samples,
                            baseline=baseline, random_state=0)
    except ValueError as err:  # the only expected refusal: a one-superpixel grid
        assert "segments must contain at least 2 superpixels" in str(err)
        assert segments.max() == 0
        return
    assert_finite_explanation(exp, image)
    assert exp.Z.shape == (num_samples, segments.max() + 1)


@FAST
@given(small_images(), st.integers(1, 12), st.integers(0, 2**16), st.integers(1, 7))
def test_property_masked_images_equal_a_pixel_loop(case, b, seed, batch_size):
    image, segments = case
    d = int(segments.max()) + 1
    Z = np.random.default_rng(seed).integers(0, 2, size=(b, d)).astype(bool)
    base = replacement_image(image, segments, 0)
    out = masked_images(image, segments, Z, base)
    assert out.shape == (b,) + image.shape and out.dtype == image.dtype
    for i in range(b):
        for (r, c), label in np.ndenumerate(segments):
            np.testing.assert_array_equal(out[i, r, c], image[r, c] if Z[i, label] else base[r, c])
    batches = list(perturb_image_batches(image, segments, Z, base, batch_size))
    assert [len(x) for x in batches] == [min(batch_size, b - s) for s in range(0, b, batch_size)]
    np.testing.assert_array_equal(np.concatenate(batches), out)
