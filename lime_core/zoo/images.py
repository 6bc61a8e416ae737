"""Image datasets with planted ground truth (the models are in :mod:`lime_core.zoo.image_models`).

* "Husky vs wolf": synthetic animal silhouettes on snow or grass. In the training
  data, wolves stand on snow and huskies on grass 95% of the time, so a small CNN
  learns the background instead of the animal (course/05_lime_images.ipynb).
* Multi-object scenes: 2-3 shapes of different classes with boxes and masks, and a
  multi-label CNN, so one image can be explained once per class
  (course/05_lime_images.ipynb, course/11_evaluating_explanations.ipynb).
* scikit-learn's digits, upscaled, with a small CNN for saliency, Integrated
  Gradients, sanity checks and remove-and-retrain (course/08_gradients.ipynb).
* scikit-image's bundled photos and the analytical models of the theory talk
  (course/13_lime_theory.ipynb).

Image convention: numpy images are ``(n, H, W, 3)`` float32 in [0, 1], channels
last (what LIME perturbs). The torch modules take ``(n, 3, H, W)`` float32 tensors,
channels first, and return logits. :class:`ImageModel` bridges the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    check_choice,
    check_int,
    check_positive,
    check_random_state,
)

SPLITS = ("train", "test", "swapped")
HUSKY_WOLF_CLASSES = ("husky", "wolf")
BACKGROUNDS = ("grass", "snow")
SCENE_CLASSES = ("ball", "box", "triangle", "ring", "cross")


@dataclass
class ImageDataset:
    """A batch of images with labels and ground truth.

    Attributes
    ----------
    images : ndarray (n, H, W, 3) float32 in [0, 1]
    labels : ndarray (n,) int, or (n, C) 0/1 for multi-label data
    class_names : tuple of str
    masks : ndarray of bool or None
        ``(n, H, W)`` object masks, or ``(n, C, H, W)`` one per class.
    boxes : ndarray or None
        ``(n, 4)`` or ``(n, C, 4)`` boxes ``(row0, col0, row1, col1)``, end exclusive,
        -1 where a class is absent.
    backgrounds : ndarray (n,) int or None
        Background code per image (husky/wolf: 0 = grass, 1 = snow).
    split : str
    random_state : int or Generator
    description : str
    info : dict
        Extra metadata (husky/wolf: ``{"background_names": ("grass", "snow")}``).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    masks: np.ndarray | None = None
    boxes: np.ndarray | None = None
    backgrounds: np.ndarray | None = None
    split: str = "train"
    random_state: Any = 0
    description: str = ""
    info: dict = field(default_factory=dict)


def _split_rng(random_state: RandomState, split: str) -> tuple[np.random.Generator, Any]:
    """An int seed gives each split its own stream: ``SeedSequence([seed, split index])``."""
    rng, recorded = check_random_state(random_state)
    if isinstance(recorded, int):
        rng = np.random.default_rng(np.random.SeedSequence([recorded, SPLITS.index(split)]))
    return rng, recorded



# --------------------------------------------------------------------------- husky vs wolf


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return yy / size, xx / size


def _ellipse(yy, xx, cy, cx, ry, rx, angle=0.0) -> np.ndarray:
    """Pixels inside the ellipse centred at (cy, cx) with radii (ry, rx), rotated."""
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = yy - cy, xx - cx
    u, v = c * dy + s * dx, -s * dy + c * dx
    return (u / ry) ** 2 + (v / rx) ** 2 <= 1.0


def _background(rng: np.random.Generator, kind: int, size: int) -> np.ndarray:
    """Snow (kind 1): bright blue-white with soft blotches; grass (kind 0): green blades."""
    coarse = rng.normal(size=(size // 8 + 1, size // 8 + 1))
    blotch = np.kron(coarse, np.ones((8, 8)))[:size, :size]
    fine = rng.normal(size=(size, size))
    if kind == 1:
        base = np.array([0.90, 0.93, 0.97]) * rng.uniform(0.92, 1.0)
        img = base + 0.03 * blotch[..., None] + 0.02 * fine[..., None]
    else:
        base = np.array([0.28, 0.52, 0.20]) * rng.uniform(0.8, 1.15)
        blades = np.repeat(rng.normal(size=(1, size)), size, axis=0)
        img = base + 0.05 * blotch[..., None] + 0.06 * (fine + blades)[..., None] * [0.5, 1, 0.4]
    return img


def _animal(rng: np.random.Generator, wolf: bool, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A side-view quadruped: returns (mask (H, W) bool, colour (H, W, 3)).

    Wolves: long pointed snout, tall ears, long legs, straight tail hanging down.
    Huskies: short snout, small ears, shorter legs, tail curled up over the back.
    Fur colours are drawn from the same grey-brown range for both classes.
    """
    yy, xx = _grid(size)
    scale = rng.uniform(0.85, 1.1)
    cy, cx = rng.uniform(0.5, 0.6), rng.uniform(0.42, 0.58)
    flip = -1.0 if rng.random() < 0.5 else 1.0
    xx = cx + flip * (xx - cx)  # mirror around the body centre
    s = 0.1 * scale
    body = _ellipse(yy, xx, cy, cx, 0.9 * s, 2.0 * s)
    head_y, head_x = cy - 1.1 * s, cx + 1.9 * s
    head = _ellipse(yy, xx, head_y, head_x, 0.75 * s, 0.75 * s)
    leg_len = (1.9 if wolf else 1.3) * s
    legs = np.zeros_like(body)
    for lx in (cx - 1.4 * s, cx - 0.9 * s, cx + 0.9 * s, cx + 1.4 * s):
        legs |= (np.abs(xx - lx) < 0.18 * s) & (yy > cy) & (yy < cy + 0.6 * s + leg_len)
    snout_len = (1.1 if wolf else 0.55) * s
    snout = _ellipse(yy, xx, head_y + 0.2 * s, head_x + 0.6 * s + snout_len / 2,
                     0.3 * s, snout_len)
    ear_h = (0.8 if wolf else 0.45) * s
    ears = (_ellipse(yy, xx, head_y - 0.6 * s - ear_h / 2, head_x - 0.2 * s, ear_h, 0.2 * s)
            | _ellipse(yy, xx, head_y - 0.6 * s - ear_h / 2, head_x + 0.25 * s, ear_h, 0.2 * s))
    if wolf:
        tail = _ellipse(yy, xx, cy + 0.6 * s, cx - 2.3 * s, 1.1 * s, 0.25 * s, angle=0.5)
    else:
        ring = _ellipse(yy, xx, cy - 1.2 * s, cx - 1.7 * s, 0.6 * s, 0.6 * s)
        hole = _ellipse(yy, xx, cy - 1.2 * s, cx - 1.7 * s, 0.3 * s, 0.3 * s)
        tail = ring & ~hole
    mask = body | head | legs | snout | ears | tail
    fur = np.array([0.45, 0.42, 0.40]) * rng.uniform(0.6, 1.3) + rng.uniform(-0.05, 0.05, 3)
    shade = 1.0 - 0.25 * (yy - cy) / (3 * s)  # lighter back, darker belly
    colour = np.clip(fur * shade[..., None], 0, 1)
    return mask, colour


@renamed_arguments(old_positional=('split', 'n', 'size', 'random_state'))
def load_husky_wolf(split: str = "train", n: int | None = None, size: int = 64,
                    *, random_state: RandomState = 0, agreement: float = 0.95) -> ImageDataset:
    """Synthetic husky and wolf silhouettes on grass or snow backgrounds.

    Class 0 = husky, 1 = wolf (told apart by snout, ears, legs and tail); background
    0 = grass, 1 = snow. The planted shortcut: ``P(background = label) = agreement``
    (0.95) in the "train" and "test" splits, and 0 in the "swapped" split (wolves on
    grass, huskies on snow). Classes are exactly balanced. ``masks`` are the animal's
    pixels (the ground truth an explanation *should* point at); ``boxes`` their
    bounding boxes.

    See the course notebook ``course/05_lime_images.ipynb``.

    Parameters
    ----------
    split : {"train", "test", "swapped"}
    n : int, optional
        Number of images; default 1000 for "train", 200 otherwise.
    size : int
        Side in pixels (a multiple of 8; the cached CNN expects 64).
    random_state : int or numpy.random.Generator
        An int seed gives each split its own stream (same seed, same images).
    agreement : float
        Background/class agreement in "train" and "test".

    Returns
    -------
    ImageDataset
    """
    split = check_choice(split, "split", SPLITS)
    n = (1000 if split == "train" else 200) if n is None else check_int(n, "n", minimum=1)
    size = check_int(size, "size", minimum=16)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    agreement = check_positive(agreement, "agreement", allow_zero=True)
    if agreement > 1:
        raise ValueError(f"agreement must be in [0, 1], got {agreement}")
    rng, recorded = _split_rng(random_state, split)
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    if split == "swapped":
        agree = np.zeros(n, dtype=bool)
    else:
        agree = rng.random(n) < agreement
    backgrounds = np.where(agree, labels, 1 - labels)
    images = np.empty((n, size, size, 3), dtype=np.float32)
    masks = np.empty((n, size, size), dtype=bool)
    for i in range(n):
        back = _background(rng, int(backgrounds[i]), size)
        mask, colour = _animal(rng, bool(labels[i]), size)
        images[i] = np.clip(np.where(mask[..., None], colour, back), 0, 1)
        masks[i] = mask
    return ImageDataset(images, labels.astype(np.int64), HUSKY_WOLF_CLASSES, masks,
                        _mask_boxes(masks), backgrounds.astype(np.int64), split, recorded,
                        f"husky vs wolf, background agrees with class "
                        f"{'never' if split == 'swapped' else f'{agreement:.0%} of the time'}",
                        {"background_names": BACKGROUNDS})


def _mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Bounding boxes ``(row0, col0, row1, col1)`` (end exclusive) of boolean masks."""
    boxes = np.full((len(masks), 4), -1, dtype=np.int64)
    for i, m in enumerate(masks):
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        if rows.size:
            boxes[i] = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)
    return boxes



# --------------------------------------------------------------------------- scenes


def _shape_mask(rng: np.random.Generator, cls: int, yy, xx, cy, cx, r) -> np.ndarray:
    if cls == 0:  # ball
        return _ellipse(yy, xx, cy, cx, r, r)
    if cls == 1:  # box
        return (np.abs(yy - cy) <= 0.8 * r) & (np.abs(xx - cx) <= 0.8 * r)
    if cls == 2:  # triangle pointing up
        return (yy <= cy + 0.8 * r) & (yy >= cy - r + 2.0 * np.abs(xx - cx))
    if cls == 3:  # ring
        return _ellipse(yy, xx, cy, cx, r, r) & ~_ellipse(yy, xx, cy, cx, 0.55 * r, 0.55 * r)
    bar = 0.28 * r  # cross
    return (((np.abs(yy - cy) <= bar) & (np.abs(xx - cx) <= r))
            | ((np.abs(xx - cx) <= bar) & (np.abs(yy - cy) <= r)))


@renamed_arguments(old_positional=('split', 'n', 'size', 'random_state'))
def load_scenes(split: str = "train", n: int | None = None, size: int = 64,
                *, random_state: RandomState = 0) -> ImageDataset:
    """Scenes of 2 or 3 shapes of different classes, for multi-label explanations.

    Classes: ball, box, triangle, ring, cross. Each scene picks 2 or 3 distinct
    classes (uniformly), places each in its own quadrant of the image with random
    size and colour (colours do not depend on the class) on a light textured
    background. ``labels`` is the multi-hot ``(n, 5)`` matrix, ``masks`` is
    ``(n, 5, H, W)`` and ``boxes`` ``(n, 5, 4)`` (-1 for absent classes), so IoU and
    the pointing game can be scored per class. The "swapped" split is not defined
    here; "test" is a fresh draw.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    split : {"train", "test", "swapped"}
    n : int, optional
        Number of scenes.
    size : int
        Side of the images.
    random_state : int or numpy.random.Generator

    Returns
    -------
    ImageDataset
    """
    split = check_choice(split, "split", ("train", "test"))
    n = (1500 if split == "train" else 300) if n is None else check_int(n, "n", minimum=1)
    size = check_int(size, "size", minimum=16)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    rng, recorded = _split_rng(random_state, split)
    yy, xx = _grid(size)
    c = len(SCENE_CLASSES)
    images = np.empty((n, size, size, 3), dtype=np.float32)
    masks = np.zeros((n, c, size, size), dtype=bool)
    labels = np.zeros((n, c), dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(2, 4))
        classes = rng.choice(c, size=k, replace=False)
        quadrants = rng.choice(4, size=k, replace=False)
        tone = rng.uniform(0.75, 0.95)
        img = tone + 0.04 * rng.normal(size=(size, size, 1)) + np.zeros(3)
        for cls, q in zip(classes, quadrants, strict=True):
            r = rng.uniform(0.12, 0.2)
            cy = 0.25 + 0.5 * (q // 2) + rng.uniform(-0.04, 0.04)
            cx = 0.25 + 0.5 * (q % 2) + rng.uniform(-0.04, 0.04)
            m = _shape_mask(rng, int(cls), yy, xx, cy, cx, r)
            colour = rng.uniform(0.0, 0.7, size=3)
            img = np.where(m[..., None], colour, img)
            masks[i, cls] = m
            labels[i, cls] = 1
        images[i] = np.clip(img, 0, 1)
    boxes = np.stack([_mask_boxes(masks[:, j]) for j in range(c)], axis=1)
    return ImageDataset(images, labels, SCENE_CLASSES, masks, boxes, None, split, recorded,
                        "scenes of 2-3 shapes; multi-hot labels")



# --------------------------------------------------------------------------- digits


@renamed_arguments(old_positional=('size', 'split', 'random_state'))
def load_digits(size: int = 32, split: str = "train", *, random_state: RandomState = 0,
                test_fraction: float = 0.25) -> ImageDataset:
    """scikit-learn's bundled 8x8 handwritten digits, upscaled to ``size`` x ``size``.

    Pixel values ``v / 16`` are upscaled bilinearly and the grey level copied to the
    three channels (white digit on black). The 1797 images are shuffled with
    ``random_state`` and the last ``test_fraction`` form the "test" split.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    size : int
        Side of the upscaled images.
    split : {"train", "test"}
    random_state : int or numpy.random.Generator
        Draws the split.
    test_fraction : float

    Returns
    -------
    ImageDataset
    """
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits as _load

    split = check_choice(split, "split", ("train", "test"))
    size = check_int(size, "size", minimum=8)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    rng, recorded = check_random_state(random_state)
    data = _load()
    order = rng.permutation(len(data.target))
    n_test = int(round(test_fraction * len(order)))
    rows = order[-n_test:] if split == "test" else order[:-n_test]
    small = data.images[rows] / 16.0
    big = zoom(small, (1, size / 8, size / 8), order=1, grid_mode=True, mode="nearest")
    big = np.clip(big, 0, 1).astype(np.float32)
    images = np.repeat(big[..., None], 3, axis=3)
    return ImageDataset(images, data.target[rows].astype(np.int64),
                        tuple(str(d) for d in range(10)), None, None, None, split, recorded,
                        f"sklearn digits upscaled to {size}x{size}")



# --------------------------------------------------------------------------- photos


PHOTOS = {"cat": "chelsea", "astronaut": "astronaut", "coffee": "coffee"}


def load_photo(name: str = "cat", size: int = 64) -> np.ndarray:
    """One of scikit-image's bundled photos, centre-cropped to a square and resized.

    The result is a ``(size, size, 3)`` float array in [0, 1]. Names: "cat" (Chelsea),
    "astronaut", "coffee". Nothing is downloaded: these ship with scikit-image.

    Parameters
    ----------
    name : {"cat", "astronaut", "coffee"}
    size : int
        Side of the square result.

    Returns
    -------
    numpy.ndarray, shape ``(size, size, 3)``, floats in [0, 1]
    """
    import skimage.data
    from skimage.transform import resize

    name = check_choice(name, "name", tuple(PHOTOS))
    size = check_int(size, "size", minimum=8)
    img = getattr(skimage.data, PHOTOS[name])()
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    img = img[top:top + side, left:left + side] / 255.0
    return resize(img, (size, size), anti_aliasing=True).astype(np.float64)


#: The models moved to lime_core.zoo.image_models; ``lime_core.zoo.images.X`` still works.
_MODELS = (
    "AnalyticalModel", "ImageModel", "check_images", "imagenet_status", "linear_image_model",
    "load_digits_cnn", "load_husky_wolf_cnn", "load_imagenet_classifier", "load_scenes_cnn",
    "shape_detector_model", "small_cnn", "train_cnn", "train_digits_cnn",
    "train_husky_wolf_cnn", "train_scenes_cnn",
)


def __getattr__(name: str):
    """The image models, importable from here as before (:mod:`lime_core.zoo.image_models`)."""
    if name in _MODELS:
        from lime_core.zoo import image_models

        return getattr(image_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
