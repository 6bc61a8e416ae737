"""Coefficient paths as the kernel width sweeps, with the closed-form limit. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class KernelWidthExplorer(AnimatedWidget):
    """Coefficient paths as the kernel width sweeps, with the closed-form limit.

    Planned signature: ``KernelWidthExplorer(image=None, classifier_fn=None, segments=None, *, widths=None, num_samples=500, random_state=0)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("KernelWidthExplorer is being written")
