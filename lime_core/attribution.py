"""The attribution-map contract shared by every method, metric and sanity check.

After captum: an attribution has **the shape of the input it explains**. Gradient
methods return a batch shaped like ``inputs``; LIME returns an
:class:`~lime_core.explanation.Explanation` whose :meth:`~Explanation.attribution`
paints the superpixel weights on the pixels (words in text order, one weight per
column for tables); KernelSHAP's :class:`~lime_core.shapley.ShapleyResult` holds one
value per feature of ``x``.

Metrics (:mod:`lime_core.metrics`) and sanity checks (:mod:`lime_core.sanity`) take
any of these directly, or the method itself, and call it with :func:`attribution_map`:

>>> import numpy as np, lime_core
>>> w = np.array([3.0, -1.0, 0.0])
>>> model = lambda rows: rows @ w            # a linear model, one score per row
>>> x = np.array([1.0, 1.0, 1.0])
>>> phi = lime_core.kernel_shap(model, x, np.zeros((1, 3)), random_state=0)
>>> lime_core.attribution_map(phi, model, x).round(6).tolist()
[3.0, -1.0, 0.0]

Layouts. An input ``x`` is one example, possibly with a leading batch axis of size 1:
``(d,)`` features, ``(H, W)`` grey image, ``(H, W, C)`` numpy image (channels last,
what LIME perturbs) or ``(C, H, W)`` torch image (channels first, when ``x`` is a
tensor or the model a ``torch.nn.Module``). :class:`Layout` records which, so a
metric can work on ``(H, W, C)`` and hand the model batches in the input's own layout.

See the course notebooks ``course/11_evaluating_explanations.ipynb``,
``course/12_sanity_checks_axioms.ipynb`` and ``course/14_choosing_a_method.ipynb``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._validation import _describe, check_callable, check_model_output


def is_torch_module(model: Any) -> bool:
    """True for a ``torch.nn.Module`` (checked without importing torch)."""
    return any(cls.__name__ == "Module" and cls.__module__.startswith("torch")
               for cls in type(model).__mro__)


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "detach") and hasattr(value, "numel")


def to_numpy(value: Any) -> np.ndarray:
    """A numpy float array from a numpy array, a list or a torch tensor."""
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


@dataclass(frozen=True)
class Layout:
    """Where the axes of one input are.

    Attributes
    ----------
    shape : tuple
        The input's shape as given.
    batch_axis : bool
        A leading axis of size 1 (a batch of one example) is present.
    channels_first : bool
        ``(C, H, W)`` (torch) rather than ``(H, W, C)``.
    tensor : bool
        Batches are handed to the model as torch tensors.
    """

    shape: tuple
    batch_axis: bool
    channels_first: bool
    tensor: bool

    @property
    def example_shape(self) -> tuple:
        """The shape of one example (without the batch axis)."""
        return self.shape[1:] if self.batch_axis else self.shape

    @property
    def canonical_shape(self) -> tuple:
        """``(d,)``, ``(H, W)`` or ``(H, W, C)``: the shape metrics work in."""
        s = self.example_shape
        return (s[1], s[2], s[0]) if self.channels_first else s

    @property
    def spatial_shape(self) -> tuple:
        """``(d,)`` for features, ``(H, W)`` for images."""
        c = self.canonical_shape
        return c[:2] if len(c) == 3 else c

    def to_canonical(self, value: Any) -> np.ndarray:
        """An array in this layout (``shape``) -> ``canonical_shape``."""
        a = to_numpy(value)
        if self.batch_axis:
            a = a[0]
        return np.moveaxis(a, 0, -1) if self.channels_first else a

    def from_canonical(self, batch: np.ndarray) -> Any:
        """A batch ``(b, *canonical_shape)`` -> ``(b, *example_shape)`` for the model."""
        if self.channels_first:
            batch = np.moveaxis(batch, -1, 1)
        if self.tensor:
            import torch

            return torch.as_tensor(np.ascontiguousarray(batch), dtype=torch.float32)
        return batch


def input_layout(x: Any, model: Any = None) -> Layout:
    """Infer the :class:`Layout` of one input ``x`` (see the module docstring).

    A leading axis of size 1 on a 2-D or 4-D ``x`` is a batch axis. A 3-D example is
    channels first when ``x`` is a torch tensor or ``model`` a ``torch.nn.Module``.
    """
    tensor = _is_tensor(x) or is_torch_module(model)
    shape = tuple(np.shape(x))
    if len(shape) not in (1, 2, 3, 4):
        raise ValueError(
            f"x must be one example of shape (d,), (H, W), (H, W, C) or (C, H, W), with an "
            f"optional batch axis of 1, got shape {shape}"
        )
    batch_axis = len(shape) in (2, 4) and shape[0] == 1 and (len(shape) == 4 or tensor
                                                             or shape[1] > 1)
    if len(shape) == 4 and shape[0] != 1:
        raise ValueError(f"x must be one example (a batch axis of size 1), got shape {shape}")
    example = shape[1:] if batch_axis else shape
    channels_first = len(example) == 3 and tensor
    return Layout(shape, batch_axis, channels_first, tensor)


def call_model(model: Callable, batch: Any, name: str = "model") -> np.ndarray:
    """One model call on ``batch``: a ``(n, k)`` numpy array (torch runs without gradients)."""
    if is_torch_module(model) or _is_tensor(batch):
        import torch

        with torch.no_grad():
            out = model(batch)
    else:
        out = model(batch)
    return check_model_output(out, len(batch), name=name)


def classifier_fn_for(model: Callable, layout: Layout) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` as a numpy ``classifier_fn`` on batches ``(b, *canonical_shape)``.

    This is how LIME (which perturbs ``(H, W, C)`` numpy images) explains a torch model
    that takes ``(n, C, H, W)`` tensors: the batch is moved to the model's layout,
    scored without gradients and returned as numpy scores.
    """

    def classifier_fn(batch: np.ndarray) -> np.ndarray:
        return call_model(model, layout.from_canonical(np.asarray(batch, dtype=float)))

    return classifier_fn


def _unwrap(fn: Callable) -> tuple[Callable, dict]:
    """``(function, keywords)`` of a ``functools.partial`` (or the function itself)."""
    keywords: dict = {}
    while isinstance(fn, functools.partial):
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    return fn, keywords


def as_map(attribution: Any, layout: Layout | None = None, *, target: int | None = None) -> Any:
    """The attribution array of a result object (or the array itself).

    ``Explanation`` -> :meth:`Explanation.attribution` (in ``layout`` when given),
    ``ShapleyResult`` -> ``values``, a result with ``attributions`` -> those.
    """
    from lime_core.explanation import Explanation
    from lime_core.shapley import ShapleyResult

    if isinstance(attribution, Explanation):
        painted = attribution.attribution(target)
        if layout is None:
            return painted
        if painted.ndim == 2 and len(layout.canonical_shape) == 3:
            painted = np.repeat(painted[..., None], layout.canonical_shape[2], axis=2)
        out = layout.from_canonical(painted[None])
        return out if layout.batch_axis else out[0]
    if isinstance(attribution, ShapleyResult):
        values = attribution.values
        if layout is not None:
            if values.size != int(np.prod(layout.shape)):
                if tuple(values.shape[:-1]) in (layout.shape, layout.example_shape):
                    raise ValueError(
                        f"target must be given: the ShapleyResult holds values of shape "
                        f"{values.shape}, one column per model output; explain one with target=")
                raise ValueError(f"attribution must have one value per feature of x "
                                 f"{layout.shape}, got a ShapleyResult of shape {values.shape}")
            values = values.reshape(layout.shape)
        return values
    if hasattr(attribution, "attributions"):
        return attribution.attributions
    return attribution


def attribution_map(
    method: Any,
    model: Callable,
    x: Any,
    *,
    target: int | None = None,
    **kwargs: Any,
) -> Any:
    """Run any attribution method on ``(model, x, target)``; the map has ``x``'s shape.

    Parameters
    ----------
    method : callable or result
        A lime_core method (``saliency``, ``smoothgrad``, ``integrated_gradients``,
        ``deeplift``, ``deep_shap``, ``gradient_times_input``, ``explain_image``,
        ``explain_tabular``, ``kernel_shap``; a ``functools.partial`` of one carries its
        settings), any ``fn(model, x, *, target)``, an old-style ``fn(model, x, target)``,
        or an already computed map / ``Explanation`` / ``ShapleyResult``.
    model : callable
        The model explained: a ``torch.nn.Module`` or a numpy function on batches.
    x : array or tensor
        One example (see :func:`input_layout`).
    target : int, optional
        The output explained.
    **kwargs
        Passed on to ``method``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The attribution in ``x``'s layout and shape (a tensor when a gradient method
        was given a tensor).
    """
    layout = input_layout(x, model)
    if not callable(method):
        return as_map(method, layout, target=target)
    fn, keywords = _unwrap(method)
    keywords = {**keywords, **kwargs}
    inner = inspect.unwrap(fn)
    name = getattr(inner, "__name__", "")
    ours = (getattr(inner, "__module__", "") or "").startswith("lime_core")
    if ours and name in ("explain_image", "explain_tabular"):
        # LIME perturbs one canonical (H, W, C) image or (p,) row with a numpy classifier_fn
        keywords.setdefault("random_state", 0)
        explanation = fn(layout.to_canonical(x), classifier_fn_for(model, layout),
                         target=target, **keywords)
        return as_map(explanation, layout, target=target)
    if ours and name == "kernel_shap":
        flat = layout.to_canonical(x)
        if flat.ndim != 1:
            raise ValueError(
                f"kernel_shap explains feature vectors (d,), got x of shape {np.shape(x)}")
        keywords.setdefault("random_state", 0)
        result = fn(classifier_fn_for(model, layout), flat, target=target, **keywords)
        return as_map(result, layout)
    check_callable(method, "attribution_fn")
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        params = {}
    takes_target = "target" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
    if takes_target:
        out = method(model, x, target=target, **kwargs)
    else:  # the old contract fn(model, x, target)
        out = method(model, x, target, **kwargs)
    out = as_map(out, layout, target=target)
    if np.shape(out) != layout.shape and np.size(out) != np.prod(layout.spatial_shape):
        raise ValueError(
            f"attribution_fn must return a map shaped like x {layout.shape}, got "
            f"{_describe(out) if not _is_tensor(out) else tuple(out.shape)}"
        )
    return out


def spatial_map(attribution: Any, layout: Layout) -> np.ndarray:
    """A map in ``layout.spatial_shape`` (``(d,)`` or ``(H, W)``), channels summed.

    Accepts maps shaped like the input (any of its layouts), like one canonical example
    ``(H, W, C)``, or already spatial ``(H, W)``.
    """
    a = to_numpy(attribution)
    spatial = layout.spatial_shape
    canonical = layout.canonical_shape
    if a.shape == layout.shape:
        a = layout.to_canonical(a)
    elif a.shape == layout.example_shape:
        a = np.moveaxis(a, 0, -1) if layout.channels_first else a
    while a.ndim > len(canonical) and a.shape[0] == 1:
        a = a[0]
    if a.shape == canonical and a.shape != spatial:
        a = a.sum(axis=-1)
    elif a.ndim == 3 and a.shape[1:] == spatial:  # (C, H, W) for a channels-last x
        a = a.sum(axis=0)
    if a.shape != spatial:
        raise ValueError(
            f"attribution must have the shape of x {layout.shape} (or {spatial}), "
            f"got shape {np.shape(attribution)}"
        )
    return a


__all__ = ["Layout", "attribution_map", "input_layout", "spatial_map", "call_model"]
