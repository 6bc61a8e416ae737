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
from lime_core.perturbation import image_batch_size, perturb_image_batches, replacement_image
from lime_core.sampling import sample_masks
from lime_core.segmentation import relabel, segment
from lime_core.surrogate import FEATURE_SELECTIONS


def _check_image(image) -> np.ndarray:
    """``image`` as an ``(H, W)`` or ``(H, W, C)`` array of finite numbers, at least 2 x 2.

    ``(H, W, 1)`` is a grayscale image that keeps its channel axis (the model sees
    ``(b, H, W, 1)`` batches and maps come back as ``(H, W, 1)``); ``(H, W, 4)`` is
    RGBA: the model sees all four channels, quickshift segments the colour channels and
    :meth:`Explanation.plot` shows the image without its alpha channel.
    """
    try:
        dtype = np.asarray(image).dtype
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise TypeError(f"image must be an array of numbers, got {type(image).__name__}") from err
    if dtype.kind not in "uif":
        raise TypeError(f"image must hold numbers (int, uint or float), got {type(image).__name__} "
                        f"of dtype {dtype}")
    image = check_array(image, "image", ndim=(2, 3), dtype=None, finite=False)
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"image must be at least 2 x 2 pixels, got shape {image.shape}")
    if image.ndim == 3 and image.shape[2] < 1:
        raise ValueError(f"image must have at least one channel, got shape {image.shape}")
    if image.dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values")
    return image


def _check_segments(segments, image: np.ndarray) -> np.ndarray:
    if segments is None:
        segments = segment(image, "quickshift")
    elif callable(segments):
        segments = segments(image)
    segments = check_array(segments, "segments", ndim=2, dtype=None, finite=False)
    if segments.shape != image.shape[:2]:
        raise ValueError(f"segments must have the image's shape {image.shape[:2]}, got {segments.shape}")
    if segments.dtype.kind not in "iu":
        raise TypeError(f"segments must be integer labels, got dtype {segments.dtype}")
    segments = relabel(segments)
    if segments.max() < 1:
        raise ValueError("segments must contain at least 2 superpixels, got 1")
    return segments


#: Rows of masks turned into floats at a time when measuring distances.
_DISTANCE_CHUNK = 2**16


def mask_distances(Z: np.ndarray) -> np.ndarray:
    """Cosine distances ``D_cos(1, z_i)`` of boolean masks to the all-ones mask.

    :func:`lime_core.kernels.cosine_distance` on ``_DISTANCE_CHUNK`` rows at a time, so
    only a chunk of the masks is ever held as floats (``Z`` itself stays 1 byte per
    entry).

    Parameters
    ----------
    Z : numpy.ndarray of bool, shape ``(n, d)``

    Returns
    -------
    numpy.ndarray of float, shape ``(n,)``
    """
    ones = np.ones(Z.shape[1])
    out = np.empty(Z.shape[0])
    for start in range(0, Z.shape[0], _DISTANCE_CHUNK):
        stop = start + _DISTANCE_CHUNK
        out[start:stop] = cosine_distance(Z[start:stop].astype(float), ones)
    return out


def predict_batches(classifier_fn: Callable, batches, n: int | None = None) -> tuple[np.ndarray, int]:
    """Call the model once per batch; return the stacked, checked outputs and the call count.

    Parameters
    ----------
    classifier_fn : callable
    batches : iterable of arrays
    n : int, optional
        Total number of rows, if known: the outputs are then written into one
        ``(n, k)`` array as they come (no list of batches plus a stacked copy).

    Returns
    -------
    predictions : numpy.ndarray, shape ``(n, k)``
    model_calls : int
    """
    outputs, calls, filled, out_all = [], 0, 0, None
    for batch in batches:
        out = check_model_output(classifier_fn(batch), len(batch))
        k = out_all.shape[1] if out_all is not None else (outputs[0].shape[1] if outputs else None)
        if k is None and out.shape[1] == 0:
            raise ValueError(
                f"classifier_fn must return at least one output column, got shape {out.shape}")
        if k is not None and out.shape[1] != k:
            raise ValueError(
                f"classifier_fn returned {out.shape[1]} columns, earlier batches had {k}"
            )
        if n is not None:
            if out_all is None:
                out_all = np.empty((n, out.shape[1]))
            out_all[filled:filled + len(out)] = out
            filled += len(out)
        else:
            outputs.append(out)
        calls += 1
    if out_all is not None:
        return out_all, calls
    if not outputs:
        raise ValueError("batches must hold at least one batch, got none")
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
    batch_size: int | None = None,
    random_state: RandomState = None,
) -> LimeSamples:
    """The model-facing half of image LIME: segment, draw masks, perturb, predict, measure.

    1. superpixels ``J_1 .. J_d`` (``segments``, quickshift by default);
    2. masks ``z ~ Bernoulli(1/2)^d``, row 0 all ones (:func:`sample_masks`);
    3. perturbed images ``x(z)_u = xi_u`` if ``z_{j(u)} = 1`` else ``baseline_u``
       (:func:`lime_core.perturbation.masked_images`), ``batch_size`` per model call;
    4. distances ``D_cos(1, z)`` (:func:`lime_core.kernels.cosine_distance`).

    Memory: the masks are kept as booleans (``n * d`` bytes: 40 MB for a million
    samples over 40 superpixels) and only one batch of perturbed images exists at a
    time.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
        Numbers (uint8 0..255 as lime takes them, or floats); ``(H, W, 1)`` keeps its
        channel axis; ``(H, W, 4)`` is RGBA (quickshift segments the colour channels).
    classifier_fn : callable
        Takes a batch ``(b, H, W[, C])`` and returns ``(b, k)`` probabilities or
        ``(b,)`` scores (``k >= 1``, finite).
    segments : None, (H, W) int array or callable
        Superpixels; None runs quickshift with lime's settings; a callable is
        called on the image.
    num_samples : int >= 2
    baseline : "superpixel_mean", "blur", a number, a colour or an image
        What hidden superpixels show (see :func:`replacement_image`; lime's
        ``hide_color``); a number must fit the image's dtype (0..255 for uint8).
    blur_sigma : float
        Standard deviation, in pixels, of the ``"blur"`` baseline.
    batch_size : int or None
        Images per model call; memory is bounded by it. None (default) sizes batches
        by bytes, :func:`lime_core.perturbation.image_batch_size`: about 22 MB of
        perturbed images, at most 64 (17 for a 224 x 224 x 3 float64 photo, 64 for
        the same photo in uint8).
    random_state : int, Generator or None

    Returns
    -------
    LimeSamples
        ``Z`` is a boolean ``(n, d)`` array; ``data`` holds ``image``, ``segments``
        and the ``baseline`` image.

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
    if batch_size is None:
        batch_size = image_batch_size(image)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    rng, recorded = check_random_state(random_state)
    segments = _check_segments(segments, image)
    d = int(segments.max()) + 1
    # the (n, d) masks must be addressable (a huge int is a named error, not numpy's)
    num_samples = check_int(num_samples, "num_samples", minimum=2,
                            maximum=np.iinfo(np.intp).max // d)

    blur_sigma = check_positive(blur_sigma, "blur_sigma")
    fudged = replacement_image(image, segments, baseline, blur_sigma=blur_sigma)
    Z = sample_masks(d, num_samples, random_state=rng, scheme="bernoulli")
    batches = perturb_image_batches(image, segments, Z, fudged, batch_size)
    predictions, calls = predict_batches(classifier_fn, batches, num_samples)
    return LimeSamples(
        "image", list(range(d)), Z, predictions, mask_distances(Z), recorded, calls,
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
    batch_size: int | None = None,
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
