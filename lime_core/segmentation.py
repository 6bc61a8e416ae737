"""Superpixels: the interpretable features of image LIME.

``segment`` returns an (H, W) int array of labels ``0 .. d-1``; superpixel ``j`` is the
set of pixels ``J_j = {u : segments[u] == j}``. See the course notebook
``course/05_lime_images.ipynb``.
"""

from __future__ import annotations

import numpy as np

from lime_core._validation import check_array, check_choice, check_int

METHODS = ("quickshift", "slic", "felzenszwalb", "grid")

# lime 0.2.0.1's default segmentation
QUICKSHIFT_DEFAULTS = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}


def relabel(segments: np.ndarray) -> np.ndarray:
    """Renumber any integer label image to consecutive labels ``0 .. d-1``."""
    _, inverse = np.unique(segments, return_inverse=True)
    return inverse.reshape(segments.shape).astype(np.intp)


def grid_segments(shape: tuple[int, int], n_rows: int = 4, n_cols: int = 4) -> np.ndarray:
    """A regular ``n_rows x n_cols`` grid of rectangular superpixels, numbered row by row.

    See the course notebook ``course/05_lime_images.ipynb``.
    """
    if isinstance(shape, str) or np.ndim(shape) != 1 or len(shape) != 2:
        raise TypeError(f"shape must be a pair (H, W) such as image.shape[:2], got {shape!r}")
    H, W = (check_int(side, "shape", minimum=1) for side in shape)
    n_rows = check_int(n_rows, "n_rows", minimum=1, maximum=H)
    n_cols = check_int(n_cols, "n_cols", minimum=1, maximum=W)
    row_id = np.arange(H) * n_rows // H
    col_id = np.arange(W) * n_cols // W
    return row_id[:, None] * n_cols + col_id[None, :]


def colour_view(image: np.ndarray) -> np.ndarray:
    """The image as scikit-image's segmenters (and a screen) see it.

    ``(H, W)`` and ``(H, W, 1)`` become ``(H, W)`` grayscale, ``(H, W, 4)`` (RGBA) loses
    its alpha channel, ``(H, W, 2)`` (gray + alpha) keeps its gray channel; any other
    ``(H, W, C)`` is returned unchanged.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 2):
        return image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return image[..., :3]
    return image


def segment(image, method: str = "quickshift", **params) -> np.ndarray:
    """Split ``image`` into superpixels.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        Grayscale ``(H, W)`` or ``(H, W, 1)``, RGB, or RGBA (the alpha channel is not
        used; see :func:`colour_view`). Quickshift needs one of these; slic and
        felzenszwalb take any number of channels.
    method : {"quickshift", "slic", "felzenszwalb", "grid"}
        The first three call scikit-image (quickshift with lime's defaults
        ``kernel_size=4, max_dist=200, ratio=0.2``); ``grid`` takes ``n_rows`` and
        ``n_cols`` (default 4 x 4).
    **params
        Passed on to the scikit-image function.

    Returns
    -------
    (H, W) int array with labels ``0 .. d-1``.
    """
    check_choice(method, "method", METHODS)
    image = check_array(image, "image", ndim=(2, 3), dtype=None, finite=False)
    if image.dtype.kind not in "uif":
        raise TypeError(f"image must hold numbers, got dtype {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1 or (image.ndim == 3 and image.shape[2] < 1):
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    if image.dtype.kind == "f" and not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values")
    if method == "grid":
        return grid_segments(image.shape[:2], **params)
    import skimage.segmentation as seg

    view = colour_view(image)
    if method == "quickshift":
        rgb = view if view.ndim == 3 else np.stack([view] * 3, axis=-1)
        if rgb.shape[2] != 3:
            raise ValueError(
                f"image must be grayscale, RGB or RGBA for quickshift, got shape {image.shape}")
        labels = seg.quickshift(rgb, **{**QUICKSHIFT_DEFAULTS, **params})
    elif method == "slic":
        channel_axis = -1 if view.ndim == 3 else None
        labels = seg.slic(view, channel_axis=channel_axis, **{"start_label": 0, **params})
    else:
        channel_axis = -1 if view.ndim == 3 else None
        labels = seg.felzenszwalb(view, channel_axis=channel_axis, **params)
    return relabel(labels)
