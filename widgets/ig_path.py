"""Integrated Gradients along the straight path: alpha slider, running sum, completeness gap. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class IntegratedGradientsPath(AnimatedWidget):
    """Integrated Gradients along the straight path: alpha slider, running sum, completeness gap.

    Planned signature: ``IntegratedGradientsPath(model=None, x=None, baseline=None, *, target=None, steps=50, method='riemann_right')``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("IntegratedGradientsPath is being written")
