"""Image models of the zoo: the CNN wrapper, training, cached weights, analytical models.

The datasets they are trained on live in :mod:`lime_core.zoo.images`.
:class:`ImageModel` bridges numpy channels-last images ``(n, H, W, 3)`` (what LIME
perturbs) and torch modules on ``(n, 3, H, W)`` tensors (what gradient methods call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    RandomState,
    check_array,
    check_int,
    check_random_state,
)
from lime_core.zoo.images import (
    HUSKY_WOLF_CLASSES,
    SCENE_CLASSES,
    load_digits,
    load_husky_wolf,
    load_scenes,
)

# --------------------------------------------------------------------------- models


def check_images(images: Any, name: str = "images") -> np.ndarray:
    """Return ``images`` as float32 ``(n, H, W, 3)``; a single ``(H, W, 3)`` image is refused."""
    arr = check_array(images, name, ndim=4, dtype=np.float32)
    if arr.shape[-1] != 3:
        raise ValueError(f"{name} must be (n, H, W, 3) channels-last, got shape {arr.shape}")
    return arr


@dataclass
class ImageModel:
    """A torch CNN plus the numpy interface LIME needs.

    Attributes
    ----------
    module : torch.nn.Sequential
        In eval mode; ``module(x)`` with ``x`` of shape ``(n, 3, H, W)`` float32
        returns logits ``(n, k)``. Gradient methods call this.
    class_names : tuple of str
    image_size : int
        ``H = W`` the module was trained on.
    multilabel : bool
        If True, ``predict_proba`` returns independent sigmoid scores per class;
        otherwise softmax probabilities (rows sum to one).
    description : str
    """

    module: Any
    class_names: tuple[str, ...]
    image_size: int
    multilabel: bool = False
    description: str = ""
    batch_size: int = 256

    def predict_proba(self, images: Any) -> np.ndarray:
        """Probabilities ``(n, k)`` for a numpy batch ``(n, H, W, 3)`` in [0, 1].

        Runs the module in batches of ``batch_size`` under ``torch.no_grad``.
        """
        import torch

        arr = check_images(images)
        if arr.shape[1:3] != (self.image_size, self.image_size):
            raise ValueError(f"images must be {self.image_size}x{self.image_size}, "
                             f"got shape {arr.shape}")
        out = []
        with torch.no_grad():
            for start in range(0, len(arr), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(
                    arr[start:start + self.batch_size].transpose(0, 3, 1, 2)))
                logits = self.module(x)
                probs = torch.sigmoid(logits) if self.multilabel else torch.softmax(logits, 1)
                out.append(probs.numpy())
        if not out:
            return np.zeros((0, len(self.class_names)))
        return np.concatenate(out).astype(float)

    def logits(self, images: Any) -> np.ndarray:
        """Class scores (logits) ``(n, k)`` for a numpy batch ``(n, H, W, 3)`` in [0, 1].

        ``S(x) = module(x)`` before the softmax/sigmoid: the quantity gradient methods
        explain, so perturbation methods (LIME, deletion curves) called with
        ``model.logits`` explain the same output. Channels-last numpy in, numpy out;
        runs in batches of ``batch_size`` under ``torch.no_grad``. See the course
        notebooks ``course/13_lime_theory.ipynb`` and ``course/14_choosing_a_method.ipynb``.
        """
        import torch

        arr = check_images(images)
        if arr.shape[1:3] != (self.image_size, self.image_size):
            raise ValueError(f"images must be {self.image_size}x{self.image_size}, "
                             f"got shape {arr.shape}")
        out = []
        with torch.no_grad():
            for start in range(0, len(arr), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(
                    arr[start:start + self.batch_size].transpose(0, 3, 1, 2)))
                out.append(self.module(x).numpy())
        if not out:
            return np.zeros((0, len(self.class_names)))
        return np.concatenate(out).astype(float)

    def predict(self, images: Any) -> np.ndarray:
        """Most probable class per image (argmax of ``predict_proba``)."""
        return self.predict_proba(images).argmax(axis=1)

    def __call__(self, images: Any) -> np.ndarray:
        return self.predict_proba(images)


def small_cnn(n_classes: int, image_size: int, width: int = 16):
    """The zoo's CNN: three conv(3x3)-ReLU-maxpool(2) blocks and a linear layer.

    ``nn.Sequential`` of Conv2d, ReLU, MaxPool2d, Flatten, Linear only, so every
    gradient method (and DeepLIFT) can walk it layer by layer. Channels:
    3 -> width -> 2 width -> 2 width; the linear layer sees
    ``2 width * (image_size / 8)^2`` features.

    Parameters
    ----------
    n_classes : int
    image_size : int
        Side of the square input images.
    width : int
        Channels of the first block.

    Returns
    -------
    torch.nn.Sequential
    """
    from torch import nn

    side = image_size // 8
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * side * side, n_classes),
    )


def train_cnn(images: Any, labels: Any, n_classes: int, *, multilabel: bool = False,
              epochs: int = 8, lr: float = 3e-3, batch_size: int = 64,
              random_state: int = 0, width: int = 16) -> Any:
    """Train :func:`small_cnn` with Adam; returns the module in eval mode.

    Loss: cross-entropy (single label) or binary cross-entropy per class (multi-label).
    Mini-batches are shuffled with ``random_state``; torch's global RNG is forked
    for the weight initialisation, so the caller's RNG is untouched.

    Parameters
    ----------
    images : array ``(n, H, W, 3)``
    labels : array ``(n,)`` of int, or ``(n, C)`` 0/1 for multi-label data
    n_classes : int
    multilabel : bool
    epochs, lr, batch_size : training settings
    random_state : int
        Seeds torch's generator for the run.

    Returns
    -------
    torch.nn.Sequential
        In eval mode.
    """
    import torch

    from lime_core.zoo._cache import seeded_torch

    arr = check_images(images)
    epochs = check_int(epochs, "epochs", minimum=1)
    rng, _ = check_random_state(random_state)
    x = torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))
    if multilabel:
        y = torch.from_numpy(np.asarray(labels, dtype=np.float32))
        loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    else:
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        loss_fn = torch.nn.functional.cross_entropy
    if len(y) != len(x):
        raise ValueError(f"labels must have one row per image ({len(x)}), got {len(y)}")
    with seeded_torch(int(rng.integers(2**31))):
        module = small_cnn(n_classes, arr.shape[1], width)
        opt = torch.optim.Adam(module.parameters(), lr=lr)
        module.train()
        for _ in range(epochs):
            order = torch.from_numpy(rng.permutation(len(x)))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                opt.zero_grad()
                loss_fn(module(x[batch]), y[batch]).backward()
                opt.step()
    return module.eval()


def _cached_or_trained(name: str, retrain: bool, n_classes: int, image_size: int,
                       train: Callable[[], Any]) -> Any:
    from lime_core.zoo._cache import has_weights, load_weights

    if retrain or not has_weights(name):
        return train()
    return load_weights(small_cnn(n_classes, image_size), name)



@renamed_arguments(old_positional=('epochs', 'random_state'))
def train_husky_wolf_cnn(epochs: int = 6, *, random_state: int = 0) -> ImageModel:
    """Train the husky/wolf CNN on ``load_husky_wolf("train")`` (about 10-20 s).

    Parameters
    ----------
    epochs : int
    random_state : int

    Returns
    -------
    ImageModel
    """
    data = load_husky_wolf("train")
    module = train_cnn(data.images, data.labels, 2, epochs=epochs, random_state=random_state)
    return ImageModel(module, HUSKY_WOLF_CLASSES, 64, False, "husky/wolf CNN (learns the snow)")


def load_husky_wolf_cnn(retrain: bool = False) -> ImageModel:
    """The husky/wolf CNN from cached weights (or retrained when ``retrain``).

    Stated accuracy: >= 0.9 on ``load_husky_wolf("test")`` and at least 25 points
    lower on ``load_husky_wolf("swapped")``: it learned the background.

    Parameters
    ----------
    retrain : bool
        Train again instead of loading the cached weights.

    Returns
    -------
    ImageModel
    """
    module = _cached_or_trained("husky_wolf_cnn", retrain, 2, 64,
                                lambda: train_husky_wolf_cnn().module)
    return ImageModel(module, HUSKY_WOLF_CLASSES, 64, False, "husky/wolf CNN (learns the snow)")



@renamed_arguments(old_positional=('epochs', 'random_state'))
def train_scenes_cnn(epochs: int = 10, *, random_state: int = 0) -> ImageModel:
    """Train the multi-label scenes CNN on ``load_scenes("train")``.

    Parameters
    ----------
    epochs : int
    random_state : int

    Returns
    -------
    ImageModel
    """
    data = load_scenes("train")
    module = train_cnn(data.images, data.labels, len(SCENE_CLASSES), multilabel=True,
                       epochs=epochs, random_state=random_state)
    return ImageModel(module, SCENE_CLASSES, 64, True, "multi-label scenes CNN")


def load_scenes_cnn(retrain: bool = False) -> ImageModel:
    """The multi-label scenes CNN (cached weights, or retrained when ``retrain``).

    ``predict_proba`` returns one sigmoid score per class (rows do not sum to one).
    Stated accuracy on ``load_scenes("test")``: >= 0.95 per-label accuracy at 0.5, and
    the top-k scores name exactly the k present classes for >= 0.85 of the scenes.

    Parameters
    ----------
    retrain : bool
        Train again instead of loading the cached weights.

    Returns
    -------
    ImageModel
    """
    module = _cached_or_trained("scenes_cnn", retrain, len(SCENE_CLASSES), 64,
                                lambda: train_scenes_cnn().module)
    return ImageModel(module, SCENE_CLASSES, 64, True, "multi-label scenes CNN")



def train_digits_cnn(images: Any = None, labels: Any = None, *, epochs: int = 8,
                     random_state: int = 0) -> ImageModel:
    """Train the digits CNN (also the retraining step of remove-and-retrain).

    Defaults to ``load_digits()``'s train split; pass modified images to retrain.

    Parameters
    ----------
    images, labels : arrays, optional
        Default: the digits training split.
    epochs : int
    random_state : int

    Returns
    -------
    ImageModel
    """
    if images is None:
        data = load_digits()
        images, labels = data.images, data.labels
    arr = check_images(images)
    module = train_cnn(arr, labels, 10, epochs=epochs, random_state=random_state)
    return ImageModel(module, tuple(str(d) for d in range(10)), arr.shape[1], False,
                      "digits CNN")


def load_digits_cnn(retrain: bool = False) -> ImageModel:
    """The 32x32 digits CNN (cached weights, or retrained when ``retrain``).

    Stated accuracy on ``load_digits(split="test")``: >= 0.95.

    Parameters
    ----------
    retrain : bool
        Train again instead of loading the cached weights.

    Returns
    -------
    ImageModel
    """
    module = _cached_or_trained("digits_cnn", retrain, 10, 32,
                                lambda: train_digits_cnn().module)
    return ImageModel(module, tuple(str(d) for d in range(10)), 32, False, "digits CNN")



@dataclass
class AnalyticalModel:
    """A model from the theory talk, with its parameters exposed.

    Attributes
    ----------
    classifier_fn : callable
        ``(n, H, W, 3) -> (n,)`` scores (``f`` is its deprecated name).
    kind : str
        "linear" or "shape_detector".
    weights : ndarray or None
        ``lambda`` of the linear model (image shape).
    bias : float
    shape : ndarray of bool or None
        ``S`` of the shape detector, ``(H, W)``.
    threshold : float or None
        ``tau`` of the shape detector.
    """

    classifier_fn: Callable[[np.ndarray], np.ndarray]
    kind: str
    weights: np.ndarray | None = None
    bias: float = 0.0
    shape: np.ndarray | None = None
    threshold: float | None = None

    @property
    def f(self) -> Callable[[np.ndarray], np.ndarray]:
        """Deprecated name of :attr:`classifier_fn`."""
        warn_renamed("AnalyticalModel", "f", "classifier_fn")
        return self.classifier_fn

    def __call__(self, images: Any) -> np.ndarray:
        return self.classifier_fn(check_array(images, "images", ndim=4))


@renamed_arguments(old_positional=('image_shape', 'random_state'))
def linear_image_model(image_shape: tuple[int, ...] = (64, 64, 3), *, random_state: RandomState = 0, bias: float = 0.0) -> AnalyticalModel:
    """The linear model ``f(x) = sum_u lambda_u x_u + b`` with smooth random ``lambda``.

    ``lambda`` is a sum of two Gaussian bumps (one positive, one negative) placed with
    ``random_state``, so the truth is a picture a student can look at. Uses
    :func:`lime_core.theory.linear_model`; ``linear_model_limit`` gives LIME's answer.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    image_shape : tuple of int
    random_state : int or numpy.random.Generator
        Places the bumps.
    bias : float

    Returns
    -------
    AnalyticalModel
    """
    from lime_core.theory import linear_model

    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"image_shape must be (H, W, 3), got {image_shape}")
    rng, _ = check_random_state(random_state)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    yy, xx = yy / shape[0], xx / shape[1]
    lam = np.zeros(shape[:2])
    for sign in (1.0, -1.0):
        cy, cx = rng.uniform(0.2, 0.8, size=2)
        lam += sign * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 0.12 ** 2))
    lam = np.repeat(lam[..., None], 3, axis=2) / lam.size
    return AnalyticalModel(linear_model(lam, bias), "linear", weights=lam, bias=float(bias))


def shape_detector_model(shape_mask: Any, threshold: float = 0.5) -> AnalyticalModel:
    """The shape detector ``f(x) = prod_{u in S} 1[x_u > tau]`` for a boolean ``S``.

    ``f`` is 1 exactly when every pixel (every channel) of the shape is brighter than
    ``tau``. Uses :func:`lime_core.theory.shape_detector`.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    shape_mask : bool array ``(H, W)``
        The shape ``S``.
    threshold : float
        ``tau``.

    Returns
    -------
    AnalyticalModel
    """
    from lime_core.theory import shape_detector

    mask = np.asarray(shape_mask)
    if mask.dtype != bool or mask.ndim != 2:
        raise TypeError(f"shape_mask must be a 2-D boolean array, got {mask.dtype} {mask.shape}")
    if not mask.any():
        raise ValueError("shape_mask must select at least one pixel, got an empty mask")
    tau = float(threshold)
    return AnalyticalModel(shape_detector(mask, tau), "shape_detector", shape=mask,
                           threshold=tau)


# --------------------------------------------------------------------------- optional


def imagenet_status() -> str:
    """One sentence: is a pretrained ImageNet classifier available offline?

    Returns
    -------
    str
    """
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        return ("torchvision is not installed, so no pretrained ImageNet classifier is "
                "available; the course uses the zoo CNNs instead.")
    path = _imagenet_weights_path()
    if path is None:
        return ("torchvision is installed but no pretrained ResNet-18 weights are on disk "
                "(nothing is downloaded); the course uses the zoo CNNs instead.")
    return f"A pretrained ResNet-18 is available offline from {path}."


def _imagenet_weights_path():
    import glob
    import os

    hub = os.environ.get("TORCH_HOME", os.path.join(os.path.expanduser("~"), ".cache", "torch"))
    found = sorted(glob.glob(os.path.join(hub, "hub", "checkpoints", "resnet18-*.pth")))
    return found[0] if found else None


def load_imagenet_classifier() -> ImageModel:
    """A pretrained torchvision ResNet-18, only if its weights are already on disk.

    Raises ``RuntimeError`` with the sentence from :func:`imagenet_status` otherwise;
    no download is ever attempted. Inputs: 224x224 images in [0, 1], normalised
    inside the module.

    Returns
    -------
    ImageModel
    """
    path = _imagenet_weights_path()
    import importlib.util

    if importlib.util.find_spec("torchvision") is None or path is None:
        raise RuntimeError(imagenet_status())
    import torch
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    class Normalised(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net((x - mean) / std)

    names = tuple(f"class_{i}" for i in range(1000))
    return ImageModel(Normalised().eval(), names, 224, False, "pretrained ResNet-18", 32)
