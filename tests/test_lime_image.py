"""Image LIME: the Garreau-Mardaoui limit for linear models, agreement with lime's
perturbations, seeding, model calls and the argument checks."""

import numpy as np
import pytest

from lime_core.lime_image import explain_image
from lime_core.perturbation import perturb_image_batches, replacement_image
from lime_core.segmentation import grid_segments


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(24, 24, 3)).astype(np.uint8)


def two_class(batch):
    s = batch.reshape(len(batch), -1).mean(axis=1) / 255.0
    return np.column_stack([s, 1 - s])


def test_linear_model_recovers_garreau_mardaoui_limit():
    """f(x) = sum_u lambda_u x_u, mean replacement: beta_j = sum_{u in J_j} lambda_u (xi_u - xi_bar_u)."""
    rng = np.random.default_rng(1)
    image = rng.random((12, 12, 3))
    segments = grid_segments((12, 12), 3, 3)
    lam = rng.normal(size=image.shape)

    def f(batch):
        return (batch * lam).reshape(len(batch), -1).sum(axis=1)

    xi_bar = replacement_image(image, segments, "superpixel_mean")
    contribution = (lam * (image - xi_bar)).sum(axis=2)
    beta = np.bincount(segments.ravel(), weights=contribution.ravel())
    exp = explain_image(
        image, f, segments=segments, num_samples=20000, num_features=9,
        feature_selection="none", random_state=0,
    )
    coef = exp.fits[0].coef
    assert np.linalg.norm(coef - beta) / np.linalg.norm(beta) < 0.05


def test_perturbed_images_equal_limes(photo):
    """lime's data_labels and our lookup build the same images from the same masks."""
    from lime.lime_image import LimeImageExplainer

    segments = grid_segments(photo.shape[:2], 3, 4)
    fudged = replacement_image(photo, segments, "superpixel_mean")
    seen = []

    def record(batch):
        seen.append(np.array(batch))
        return two_class(batch)

    masks, _ = LimeImageExplainer(random_state=0).data_labels(
        photo, fudged, segments, record, num_samples=30, batch_size=7
    )
    ours = np.concatenate(list(perturb_image_batches(photo, segments, masks.astype(bool), fudged, 4)))
    np.testing.assert_array_equal(ours, np.concatenate(seen))


def test_mean_replacement_matches_a_loop(photo):
    segments = grid_segments(photo.shape[:2], 2, 3)
    fudged = replacement_image(photo.astype(float), segments, "superpixel_mean")
    for j in range(6):
        np.testing.assert_allclose(fudged[segments == j], photo[segments == j].mean(axis=0)[None, :].repeat((segments == j).sum(), 0))
    np.testing.assert_array_equal(replacement_image(photo, segments, 0)[..., 1], 0)
    blurred = replacement_image(photo.astype(float), segments, "blur")
    assert blurred.std() < photo.std()


def test_same_seed_bit_identical_and_model_calls(photo):
    segments = grid_segments(photo.shape[:2], 3, 3)
    a = explain_image(photo, two_class, segments=segments, num_samples=150, batch_size=64, random_state=7)
    b = explain_image(photo, two_class, segments=segments, num_samples=150, batch_size=64, random_state=7)
    np.testing.assert_array_equal(a.Z, b.Z)
    np.testing.assert_array_equal(a.fits[a.labels[0]].coef, b.fits[b.labels[0]].coef)
    assert a.as_map() == b.as_map()
    assert a.model_calls == 3 and a.random_state == 7
    assert a.Z[0].all() and a.predictions.shape == (150, 2)


def test_top_label_is_the_highest_class_on_the_image(photo):
    segments = grid_segments(photo.shape[:2], 2, 2)
    exp = explain_image(photo, two_class, segments=segments, num_samples=20, top_labels=2, random_state=0)
    p0 = two_class(photo[None])[0]
    assert exp.top_labels == list(np.argsort(p0)[::-1])
    exp = explain_image(photo, two_class, segments=segments, num_samples=20, labels=[1], random_state=0)
    assert exp.labels == [1] and exp.top_labels is None


def test_segments_callable_and_grayscale():
    gray = np.random.default_rng(2).random((16, 16))
    exp = explain_image(
        gray, lambda b: b.reshape(len(b), -1).sum(axis=1),
        segments=lambda im: grid_segments(im.shape[:2], 2, 2), num_samples=30, random_state=0,
    )
    assert exp.segments.max() == 3 and len(exp.feature_names) == 4


GRID = grid_segments((24, 24), 2, 2)


def test_hide_color_none_means_mean_as_in_lime(photo):
    from lime_core.perturbation import replacement_image

    assert np.array_equal(replacement_image(photo, GRID, None), replacement_image(photo, GRID, "superpixel_mean"))
    with pytest.warns(DeprecationWarning, match="hide_color"):  # lime's name, still accepted
        a = explain_image(photo, two_class, segments=GRID, num_samples=20, hide_color=None, random_state=0)
    b = explain_image(photo, two_class, segments=GRID, num_samples=20, random_state=0)
    assert np.array_equal(a.predictions, b.predictions)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"classifier_fn": "model"}, TypeError, "classifier_fn must be callable"),
        ({"classifier_fn": lambda b: np.ones((len(b) + 1, 2))}, ValueError, "classifier_fn must return shape"),
        ({"classifier_fn": lambda b: np.full((len(b), 2), np.nan)}, ValueError, "classifier_fn returned NaN"),
        ({"image": np.zeros(24)}, ValueError, "image must be 2-D or 3-D"),
        ({"image": np.zeros((2, 24, 24, 3))}, ValueError, "image must be 2-D or 3-D"),
        ({"num_samples": 1}, ValueError, "num_samples must be >= 2"),
        ({"kernel_width": 0.0}, ValueError, "kernel_width"),
        ({"kernel_width": -1.0}, ValueError, "kernel_width"),
        ({"segments": np.zeros((24, 24), int)}, ValueError, "segments must contain at least 2"),
        ({"segments": np.zeros((5, 5), int)}, ValueError, "segments must have the image's shape"),
        ({"baseline": "purple"}, ValueError, "^baseline"),
        ({"baseline": float("nan")}, ValueError, "baseline must be finite"),
        ({"baseline": (0.0, np.inf, 0.0)}, ValueError, "baseline must be finite"),
        ({"image": np.zeros((0, 0, 3)), "segments": None}, ValueError, "image must be at least 2 x 2"),
        ({"labels": [5]}, ValueError, "labels"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"random_state": 1.5}, TypeError, "random_state"),
    ],
)
def test_bad_input(photo, kwargs, error, words):
    args = {"image": photo, "classifier_fn": two_class, "segments": GRID, "num_samples": 10}
    args.update(kwargs)
    with pytest.raises(error, match=words):
        explain_image(args.pop("image"), args.pop("classifier_fn"), **args)
