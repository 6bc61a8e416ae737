"""An optional pretrained ImageNet ResNet-18, loaded only from the user's torch cache.

The course runs on synthetic images so that it works offline, on a CPU, with a planted
truth to measure explanations against. A student who already has torchvision's
ImageNet weights on disk can also try the explainers on a real network and real
photos (scikit-image's cat, astronaut and coffee cup). Nothing here downloads: the
weights are used only if a file ``resnet18-*.pth`` is already in the torch cache
(``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``, where
``torchvision.models.resnet18(weights="IMAGENET1K_V1")`` leaves it).

torchvision itself is not needed: :func:`resnet18_module` builds the ResNet-18 of He et
al. (2016) in plain torch, with the same parameter names as torchvision's, so the same
``state_dict`` file loads into it. (torchvision from the package index may not import
beside the course's torch build.) When torchvision does import, its 1000 ImageNet
class names are used; otherwise the classes are called ``"ImageNet class <i>"``.

See the course notebooks ``course/05_lime_images.ipynb`` and
``course/15_real_tools.ipynb``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lime_core.zoo.images import ImageModel

WEIGHTS_PATTERN = "resnet18-*.pth"
IMAGE_SIZE = 224
# ImageNet channel statistics that torchvision's pretrained weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def torch_cache_dir() -> Path:
    """torch's cache folder: ``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``.

    The same rule as ``torch.hub.get_dir()`` (without importing torch).
    """
    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(xdg).expanduser() / "torch"


def find_resnet18_weights(cache_dir: str | os.PathLike | None = None) -> Path | None:
    """The first ``resnet18-*.pth`` in ``<cache_dir>/hub/checkpoints``, or None.

    Parameters
    ----------
    cache_dir : path, optional
        A torch cache folder; default :func:`torch_cache_dir`.
    """
    root = Path(cache_dir) if cache_dir is not None else torch_cache_dir()
    found = sorted((root / "hub" / "checkpoints").glob(WEIGHTS_PATTERN))
    return found[0] if found else None


def pretrained_status(cache_dir: str | os.PathLike | None = None) -> str:
    """One sentence: can the pretrained ResNet-18 be used, and if not, why not.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        The torch cache folder to look in (default: torch's own, ``$TORCH_HOME`` or
        ``~/.cache/torch``); the weights are looked for in ``hub/checkpoints/``.

    Returns
    -------
    str
        Where the weights were found, or why the optional cells are skipped.
    """
    path = find_resnet18_weights(cache_dir)
    if path is None:
        where = (Path(cache_dir) if cache_dir is not None else torch_cache_dir())
        return (f"No pretrained ResNet-18 weights in {where / 'hub' / 'checkpoints'} "
                "(nothing is downloaded), so this optional cell is skipped.")
    return f"A pretrained ResNet-18 is available offline from {path}."


def resnet18_module(num_classes: int = 1000):
    """ResNet-18 in plain torch, with torchvision's layer names (random weights).

    Stem: conv 7x7/2 (64) - BN - ReLU - max-pool 3x3/2; then four stages of two
    basic blocks with 64, 128, 256, 512 channels (stride 2 from the second stage on),
    each block ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` where the
    shortcut is the identity or, when the shape changes, ``downsample`` = conv 1x1
    plus BN; then global average pooling and ``fc``. Input ``(n, 3, H, W)``
    normalised with the ImageNet mean and std; output logits ``(n, num_classes)``.
    """
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU(inplace=False)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                                nn.BatchNorm2d(c_out))

        def forward(self, x):
            shortcut = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + shortcut)

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths, c_in = (64, 128, 256, 512), 64
            for i, width in enumerate(widths, start=1):
                stride = 1 if i == 1 else 2
                setattr(self, f"layer{i}", nn.Sequential(BasicBlock(c_in, width, stride),
                                                         BasicBlock(width, width, 1)))
                c_in = width
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def imagenet_class_names() -> tuple[str, ...]:
    """torchvision's 1000 ImageNet class names if torchvision imports, else numbered names."""
    try:
        from torchvision.models import ResNet18_Weights

        return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
    except Exception:  # noqa: BLE001 - missing, or broken beside this torch build
        return tuple(f"ImageNet class {i}" for i in range(1000))


def _normalised(net: Any):
    """``net`` behind a layer that maps [0, 1] pixels to ImageNet-normalised inputs."""
    import torch
    from torch import nn

    class Normalise(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

        def forward(self, x):
            return (x - self.mean) / self.std

    return nn.Sequential(Normalise(), net)


def load_pretrained_resnet18(cache_dir: str | os.PathLike | None = None, *,
                             batch_size: int = 32) -> ImageModel:
    """The pretrained ResNet-18 as an :class:`~lime_core.zoo.images.ImageModel`.

    Reads ``resnet18-*.pth`` from the torch cache (see :func:`find_resnet18_weights`)
    into :func:`resnet18_module`; never downloads. The model takes ``(n, 224, 224, 3)``
    images in [0, 1] (``predict_proba``, softmax over 1000 classes); ``model.module``
    normalises inside, so gradient methods can be called on [0, 1] tensors too.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        The torch cache folder (default: torch's own); weights in ``hub/checkpoints/``.
    batch_size : int
        Images per forward pass in ``predict_proba``.

    Returns
    -------
    ImageModel
        The classifier, with ``.module`` the torch network (eval mode).

    Raises
    ------
    FileNotFoundError
        With the sentence of :func:`pretrained_status` when no weights are on disk.
    ValueError
        If the file is not a ResNet-18 ``state_dict`` (names or shapes differ).
    """
    import torch

    path = find_resnet18_weights(cache_dir)
    if path is None:
        raise FileNotFoundError(pretrained_status(cache_dir))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"weights file {path} must hold a state_dict, got {type(state).__name__}")
    net = resnet18_module(num_classes=1000)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"weights file {path} is not a ResNet-18 state_dict: "
                         f"{str(err).splitlines()[0]}") from err
    module = _normalised(net).eval()
    return ImageModel(module, imagenet_class_names(), IMAGE_SIZE, False,
                      f"pretrained ResNet-18 ({path.name})", batch_size)
