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


def to_numpy(value: Any, name: str = "attribution") -> np.ndarray:
    """A numpy float array from a numpy array, a list or a torch tensor.

    Anything else (None, a string, a dict, an array of objects) is a ``TypeError``
    that names the argument ``name``.
    """
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, str | bytes | dict):
        raise TypeError(f"{name} must be an array of numbers, got {_describe(value)}")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers, got {_describe(value)}") from err


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

    def to_canonical(self, value: Any, name: str = "x") -> np.ndarray:
        """An array in this layout (``shape``) -> ``canonical_shape``."""
        a = to_numpy(value, name)
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
    return _check_finite_map(_run_method(method, model, x, layout, target, kwargs), method)


def _check_finite_map(out: Any, method: Any) -> Any:
    """``out`` unchanged, or a ``ValueError`` when the method returned NaN or infinity."""
    values = out.detach().cpu().numpy() if _is_tensor(out) else np.asarray(out)
    if values.dtype.kind not in "biufc":
        raise TypeError(f"attribution_fn must return an array of numbers, got {_describe(out)}")
    if not np.all(np.isfinite(values)):
        name = getattr(inspect.unwrap(_unwrap(method)[0]), "__name__", "attribution_fn")
        raise ValueError(
            f"method {name} returned a map with NaN or infinite values (attribution_fn must "
            "return finite numbers; check that the model's outputs on x are finite)"
        )
    return out


def _run_method(method: Callable, model: Callable, x: Any, layout: Layout,
                target: int | None, kwargs: dict) -> Any:
    """The body of :func:`attribution_map` for a callable ``method``."""
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


def superpixel_sums(attribution: Any, segments: Any) -> np.ndarray:
    """Total attribution of each superpixel: ``A_j = sum_{u in J_j} sum_c a_{u,c}``.

    The bridge from pixel attributions (saliency, Integrated Gradients) to LIME's
    superpixel weights: on a model that is linear in the pixels, LIME's limit
    coefficient of superpixel ``j`` is this sum of ``lambda_u (xi_u - baseline_u)``
    (course notebook ``course/13_lime_theory.ipynb``), and Integrated Gradients summed
    per superpixel can be set next to LIME's weights.

    Parameters
    ----------
    attribution : array or tensor
        A map over the image: ``(H, W)``, ``(H, W, C)`` (channels last), or
        ``(C, H, W)`` / ``(1, C, H, W)`` (channels first, as gradient methods return
        for a torch image). Channels are summed.
    segments : (H, W) int array
        Superpixel labels ``0 .. d-1`` (every label below the largest counts, even
        when empty: its sum is 0).

    Returns
    -------
    numpy.ndarray, shape ``(d,)``
        ``d = segments.max() + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> seg = np.array([[0, 0], [1, 2]])
    >>> superpixel_sums(np.array([[1.0, 2.0], [3.0, -4.0]]), seg).tolist()
    [3.0, 3.0, -4.0]
    >>> superpixel_sums(np.ones((1, 3, 2, 2)), seg).tolist()   # (1, C, H, W): channels summed
    [6.0, 3.0, 3.0]
    """
    seg = np.asarray(segments)
    if seg.ndim != 2 or seg.dtype.kind not in "iu" or seg.size == 0:
        raise ValueError(f"segments must be a non-empty (H, W) int array, got {_describe(segments)}")
    if seg.min() < 0:
        raise ValueError(f"segments must hold labels >= 0, got minimum {int(seg.min())}")
    a = to_numpy(attribution)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"attribution must hold real numbers, got dtype {a.dtype}")
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.shape == seg.shape:
        spatial = a
    elif a.ndim == 3 and a.shape[:2] == seg.shape:
        spatial = a.sum(axis=2)
    elif a.ndim == 3 and a.shape[1:] == seg.shape:
        spatial = a.sum(axis=0)
    else:
        raise ValueError(f"attribution must be (H, W), (H, W, C), (C, H, W) or (1, C, H, W) "
                         f"with (H, W) = segments.shape {seg.shape}, got shape {a.shape}")
    spatial = np.asarray(spatial, dtype=float)
    if not np.all(np.isfinite(spatial)):
        raise ValueError("attribution must be finite, got NaN or infinite values")
    return np.bincount(seg.ravel(), weights=spatial.ravel(), minlength=int(seg.max()) + 1)


__all__ = ["Layout", "attribution_map", "input_layout", "spatial_map", "call_model",
           "superpixel_sums"]
