"""Clickable tokens (counterfactuals) and text LIME animated sample by sample. (skeleton: implementation in progress)."""

from __future__ import annotations

from typing import Any

from widgets._base import AnimatedWidget


class TextPerturbationPlayer(AnimatedWidget):
    """Clickable tokens (counterfactuals) and text LIME animated sample by sample.

    Planned signature: ``TextPerturbationPlayer(text=None, classifier_fn=None, *, kernel_width=25.0, num_samples=200, num_features=6, target=None, random_state=0)``. Methods: ``step()``, ``reset()``,
    ``show_static()``; attribute ``model_calls``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("TextPerturbationPlayer is being written")
