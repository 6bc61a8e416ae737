"""Image LIME one perturbed image at a time, coefficients converging, top-K overlay. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class ImagePerturbationPlayer(AnimatedWidget):
    """Image LIME one perturbed image at a time, coefficients converging, top-K overlay.

    Planned signature: ``ImagePerturbationPlayer(image=None, classifier_fn=None, *, segmentation='quickshift', granularity=1.0, replacement='mean', kernel_width=0.25, num_samples=200, num_features=5, target=None, alpha=1.0, random_state=0, debounce=0.15)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("ImagePerturbationPlayer is being written")
