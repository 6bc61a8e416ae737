"""LIME in two dimensions: decision regions, weighted samples, dashed local boundary. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class LimeIntuition2D(AnimatedWidget):
    """LIME in two dimensions: decision regions, weighted samples, dashed local boundary.

    Planned signature: ``LimeIntuition2D(classifier_fn=None, x=None, *, kernel_width=0.5, num_samples=100, sampling_scale=1.0, alpha=1e-3, random_state=0, debounce=0.15)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("LimeIntuition2D is being written")
