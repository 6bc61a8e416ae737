"""Cascading randomisation: maps and rank correlation as layers are randomised top-down. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class SanityCheckCascade(AnimatedWidget):
    """Cascading randomisation: maps and rank correlation as layers are randomised top-down.

    Planned signature: ``SanityCheckCascade(model=None, image=None, *, target=None, methods=('saliency', 'integrated_gradients'))``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("SanityCheckCascade is being written")
