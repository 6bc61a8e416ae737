"""Animated deletion and insertion curves with AUC for several attribution methods. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class DeletionInsertionCurves(AnimatedWidget):
    """Animated deletion and insertion curves with AUC for several attribution methods.

    Planned signature: ``DeletionInsertionCurves(image=None, model=None, attributions=None, *, target=None, steps=32)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("DeletionInsertionCurves is being written")
