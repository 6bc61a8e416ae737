"""Image LIME (Ribeiro et al. 2016, as implemented in lime 0.2.0.1).

1. cut the image into superpixels ``J_1 .. J_d``;
2. draw masks ``z ~ Bernoulli(1/2)^d`` (row 0 all ones);
3. perturbed image: ``x(z)_u = xi_u`` if ``z_{j(u)} = 1`` else ``xi_bar_u``;
4. weights ``pi(z) = exp(-D_cos(1, z)^2 / (2 w^2))``, ``w = 0.25``;
5. weighted ridge surrogate per label.

See the course notebook ``course/05_lime_images.ipynb``.
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
from lime_core.explanation import Explanation, explain_from_samples
from lime_core.kernels import cosine_distance
from lime_core.perturbation import perturb_image_batches, replacement_image
from lime_core.sampling import sample_masks
from lime_core.segmentation import relabel, segment
from lime_core.surrogate import FEATURE_SELECTIONS


def _check_image(image) -> np.ndarray:
    image = check_array(image, "image", ndim=(2, 3), dtype=None)
    if image.dtype.kind not in "uif":
        raise TypeError(f"image must hold numbers, got dtype {image.dtype}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"image must be at least 2 x 2 pixels, got shape {image.shape}")
    if image.dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values")
    return image


def _check_segments(segments, image: np.ndarray) -> np.ndarray:
    if segments is None:
        segments = segment(image, "quickshift")
    elif callable(segments):
        segments = segments(image)
    segments = check_array(segments, "segments", ndim=2, dtype=None)
    if segments.shape != image.shape[:2]:
        raise ValueError(f"segments must have the image's shape {image.shape[:2]}, got {segments.shape}")
    if segments.dtype.kind not in "iu":
        raise TypeError(f"segments must be integer labels, got dtype {segments.dtype}")
    segments = relabel(segments)
    if segments.max() < 1:
        raise ValueError("segments must contain at least 2 superpixels, got 1")
    return segments


def predict_batches(classifier_fn: Callable, batches) -> tuple[np.ndarray, int]:
    """Call the model once per batch; return the stacked, checked outputs and the call count."""
    outputs, calls = [], 0
    for batch in batches:
        out = check_model_output(classifier_fn(batch), len(batch))
        if outputs and out.shape[1] != outputs[0].shape[1]:
            raise ValueError(
                f"classifier_fn returned {out.shape[1]} columns, earlier batches had {outputs[0].shape[1]}"
            )
        outputs.append(out)
        calls += 1
    return np.concatenate(outputs, axis=0), calls


def explain_image(
    image,
    classifier_fn: Callable,
    *,
    segments=None,
    labels=None,
    top_labels: int = 1,
    num_samples: int = 1000,
    num_features: int = 10,
    kernel_width: float = 0.25,
    hide_color="mean",
    feature_selection: str = "auto",
    alpha: float = 1.0,
    batch_size: int = 64,
    random_state: RandomState = None,
) -> Explanation:
    """Explain ``classifier_fn``'s output on ``image`` with superpixel LIME.

    Masks ``z in {0,1}^d`` switch superpixels off (replaced by ``hide_color``); each
    perturbed image ``x(z)`` is weighted by ``pi(z) = exp(-D_cos(1, z)^2 / (2 w^2))``
    (``w = kernel_width``), and for every explained label the surrogate
    ``g(z) = b + sum_j beta_j z_j`` minimises
    ``sum_i pi(z_i) (f(x(z_i)) - g(z_i))^2 + alpha ||beta||^2`` over the selected
    superpixels.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
    classifier_fn : callable
        Takes a batch ``(b, H, W[, C])`` and returns ``(b, k)`` probabilities or
        ``(b,)`` scores.
    segments : None, (H, W) int array or callable
        Superpixels; None runs quickshift with lime's settings; a callable is
        called on the image.
    labels : sequence of int, optional
        Labels to explain; if None, the ``top_labels`` classes with the highest
        output on the unperturbed image.
    num_samples : int >= 2
    num_features : int >= 1
    kernel_width : float > 0
    hide_color : "mean", "blur", a number or a colour
        Replacement for hidden superpixels (see :func:`replacement_image`).
    feature_selection : str
        See :func:`lime_core.surrogate.fit_surrogate`.
    alpha : float
        Ridge penalty of the surrogate (lime: 1).
    batch_size : int
        Images per model call; memory is bounded by it.
    random_state : int, Generator or None

    Returns
    -------
    Explanation (mode ``"image"``).
    """
    image = _check_image(image)
    check_callable(classifier_fn, "classifier_fn")
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    num_features = check_int(num_features, "num_features", minimum=1)
    kernel_width = check_positive(kernel_width, "kernel_width")
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    rng, recorded = check_random_state(random_state)
    segments = _check_segments(segments, image)
    d = int(segments.max()) + 1

    fudged = replacement_image(image, segments, hide_color)
    Z = sample_masks(d, num_samples, rng, scheme="bernoulli")
    batches = perturb_image_batches(image, segments, Z, fudged, batch_size)
    predictions, calls = predict_batches(classifier_fn, batches)
    Zf = Z.astype(float)
    return explain_from_samples(
        "image", list(range(d)), Zf, predictions, cosine_distance(Zf), kernel_width,
        labels, top_labels, num_features, feature_selection, alpha, recorded, calls,
        image=image, segments=segments, extra={"hide_color": hide_color, "replacement": fudged},
    )
