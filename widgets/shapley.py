"""Shapley values: marginal contributions accumulating; exact vs permutation vs KernelSHAP. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class ShapleyExplorer(AnimatedWidget):
    """Shapley values: marginal contributions accumulating; exact vs permutation vs KernelSHAP.

    Planned signature: ``ShapleyExplorer(game=None, players=None, *, budget=200, random_state=0)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("ShapleyExplorer is being written")
