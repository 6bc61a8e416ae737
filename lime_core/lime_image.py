"""Image LIME (Ribeiro et al. 2016, as implemented in lime 0.2.0.1).

1. cut the image into superpixels ``J_1 .. J_d``;
2. draw masks ``z ~ Bernoulli(1/2)^d`` (row 0 all ones);
3. perturbed image: ``x(z)_u = xi_u`` if ``z_{j(u)} = 1`` else ``xi_bar_u`` (the baseline);
   steps 1-3 and the distances are :func:`image_samples` (one :class:`LimeSamples`);
4. weights ``pi(z) = exp(-D_cos(1, z)^2 / (2 w^2))``, ``w = 0.25``;
5. weighted ridge surrogate per label: :func:`explain_from_samples`.

See the course notebook ``course/05_lime_images.ipynb``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lime_core._deprecation import renamed_arguments
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
from lime_core.explanation import Explanation, LimeSamples, explain_from_samples
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
    """Call the model once per batch; return the stacked, checked outputs and the call count.

    Parameters
    ----------
    classifier_fn : callable
    batches : iterable of arrays

    Returns
    -------
    predictions : numpy.ndarray, shape ``(n, k)``
    model_calls : int
    """
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


@renamed_arguments({"hide_color": "baseline"})
def image_samples(
    image,
    classifier_fn: Callable,
    *,
    segments=None,
    num_samples: int = 1000,
    baseline="superpixel_mean",
    blur_sigma: float = 5.0,
    batch_size: int = 64,
    random_state: RandomState = None,
) -> LimeSamples:
    """The model-facing half of image LIME: segment, draw masks, perturb, predict, measure.

    1. superpixels ``J_1 .. J_d`` (``segments``, quickshift by default);
    2. masks ``z ~ Bernoulli(1/2)^d``, row 0 all ones (:func:`sample_masks`);
    3. perturbed images ``x(z)_u = xi_u`` if ``z_{j(u)} = 1`` else ``baseline_u``
       (:func:`lime_core.perturbation.masked_images`), ``batch_size`` per model call;
    4. distances ``D_cos(1, z)`` (:func:`lime_core.kernels.cosine_distance`).

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    classifier_fn : callable
        Takes a batch ``(b, H, W[, C])`` and returns ``(b, k)`` probabilities or
        ``(b,)`` scores.
    segments : None, (H, W) int array or callable
        Superpixels; None runs quickshift with lime's settings; a callable is
        called on the image.
    num_samples : int >= 2
    baseline : "superpixel_mean", "blur", a number, a colour or an image
        What hidden superpixels show (see :func:`replacement_image`; lime's
        ``hide_color``).
    blur_sigma : float
        Standard deviation, in pixels, of the ``"blur"`` baseline.
    batch_size : int
        Images per model call; memory is bounded by it.
    random_state : int, Generator or None

    Returns
    -------
    LimeSamples
        ``data`` holds ``image``, ``segments`` and the ``baseline`` image.

    Examples
    --------
    >>> import numpy as np
    >>> from lime_core.segmentation import grid_segments
    >>> img = np.zeros((4, 4)); img[:2, :2] = 1.0
    >>> s = image_samples(img, lambda b: b[:, :2, :2].mean(axis=(1, 2)),
    ...                   segments=grid_segments((4, 4), 2, 2), num_samples=50,
    ...                   baseline=0.0, random_state=0)
    >>> s.Z.shape, s.model_calls
    ((50, 4), 1)
    """
    image = _check_image(image)
    check_callable(classifier_fn, "classifier_fn")
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    rng, recorded = check_random_state(random_state)
    segments = _check_segments(segments, image)
    d = int(segments.max()) + 1

    blur_sigma = check_positive(blur_sigma, "blur_sigma")
    fudged = replacement_image(image, segments, baseline, blur_sigma=blur_sigma)
    Z = sample_masks(d, num_samples, random_state=rng, scheme="bernoulli")
    batches = perturb_image_batches(image, segments, Z, fudged, batch_size)
    predictions, calls = predict_batches(classifier_fn, batches)
    Zf = Z.astype(float)
    return LimeSamples(
        "image", list(range(d)), Zf, predictions, cosine_distance(Zf), recorded, calls,
        data={"image": image, "segments": segments, "baseline": fudged,
              "baseline_setting": baseline},
    )


@renamed_arguments({"hide_color": "baseline"})
def explain_image(
    image,
    classifier_fn: Callable,
    *,
    segments=None,
    target: int | None = None,
    labels=None,
    top_labels: int = 1,
    num_samples: int = 1000,
    num_features: int = 10,
    kernel_width: float = 0.25,
    baseline="superpixel_mean",
    feature_selection: str = "auto",
    alpha: float = 1.0,
    batch_size: int = 64,
    random_state: RandomState = None,
) -> Explanation:
    """Explain ``classifier_fn``'s output on ``image`` with superpixel LIME.

    Masks ``z in {0,1}^d`` switch superpixels off (replaced by ``baseline``); each
    perturbed image ``x(z)`` is weighted by ``pi(z) = exp(-D_cos(1, z)^2 / (2 w^2))``
    (``w = kernel_width``), and for every explained label the surrogate
    ``g(z) = b + sum_j beta_j z_j`` minimises
    ``sum_i pi(z_i) (f(x(z_i)) - g(z_i))^2 + alpha ||beta||^2`` over the selected
    superpixels. It is :func:`image_samples` followed by
    :func:`lime_core.explanation.explain_from_samples`.

    The attribution-method order of the gradient methods is accepted too:
    ``explain_image(model, x, target=t)`` with a torch model and a ``(1, C, H, W)``
    batch (or any model and input of :func:`lime_core.attribution.input_layout`) runs
    LIME on the ``(H, W, C)`` image while the model sees its own layout, so LIME can
    stand in for ``saliency`` in ``deletion_curve(model, x, method(model, x, target=t))``.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image, classifier_fn, segments, num_samples, baseline, batch_size, random_state
        As in :func:`image_samples`.
    target : int, optional
        The one output explained (``labels=[target]``).
    labels : sequence of int, optional
        Labels to explain; if None, the ``top_labels`` classes with the highest
        output on the unperturbed image.
    top_labels : int
    num_features : int >= 1
    kernel_width : float > 0
    feature_selection : str
        See :func:`lime_core.surrogate.fit_surrogate`.
    alpha : float
        Ridge penalty of the surrogate (lime: 1).

    Returns
    -------
    Explanation
        Mode ``"image"``; ``explanation.attribution()`` paints the weights on the pixels.

    Examples
    --------
    >>> import numpy as np, lime_core
    >>> img = np.zeros((4, 4)); img[:2, :2] = 1.0           # one bright quarter
    >>> seg = lime_core.segmentation.grid_segments((4, 4), 2, 2)
    >>> exp = lime_core.explain_image(img, lambda b: b[:, :2, :2].mean(axis=(1, 2)),
    ...                               segments=seg, baseline=0.0, num_samples=200,
    ...                               random_state=0)
    >>> exp.as_list()[0][0]                                   # superpixel 0 matters
    0
    >>> exp.attribution().shape
    (4, 4)
    """
    if callable(image) and not callable(classifier_fn):  # (model, x): captum's order
        from lime_core.attribution import classifier_fn_for, input_layout

        layout = input_layout(classifier_fn, image)
        image, classifier_fn = layout.to_canonical(classifier_fn), classifier_fn_for(image, layout)
    num_features = check_int(num_features, "num_features", minimum=1)
    kernel_width = check_positive(kernel_width, "kernel_width")
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    samples = image_samples(image, classifier_fn, segments=segments, num_samples=num_samples,
                            baseline=baseline, batch_size=batch_size, random_state=random_state)
    return explain_from_samples(
        samples, kernel_width=kernel_width, target=target, labels=labels,
        top_labels=top_labels, num_features=num_features,
        feature_selection=feature_selection, alpha=alpha,
    )
