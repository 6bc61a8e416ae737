"""What every gradient method shares: tensors in, targets, batched gradients, numpy out.

``_prepare`` turns ``(model, inputs, target, batch_size)`` into a float tensor batch and
a long tensor of target classes; ``_gradients`` computes ``dS_c/dx`` in batches;
``_output`` gives numpy back to numpy callers. torch is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lime_core._validation import (
    _describe,
    check_callable,
    check_int,
)

DEFAULT_BATCH_SIZE = 64
# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------


def _model_dtype(model: Any):
    """The floating dtype of the model's parameters (float32 for plain callables)."""
    import torch

    if isinstance(model, torch.nn.Module):
        for param in model.parameters():
            if param.is_floating_point():
                return param.dtype
    return torch.float32


def _as_tensor(inputs: Any, model: Any, name: str = "inputs"):
    """Return ``(tensor, was_numpy)``: ``inputs`` as a detached floating tensor.

    NaN or infinite entries are refused, and so are finite numbers too large for the
    model's dtype (1e300 is finite in float64 and infinite in float32).
    """
    import torch

    if isinstance(inputs, torch.Tensor):
        if inputs.is_complex():
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {inputs.dtype}")
        if inputs.is_floating_point() and not bool(torch.isfinite(inputs).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        if not inputs.is_floating_point() or isinstance(model, torch.nn.Module):
            inputs = inputs.to(_model_dtype(model))  # a float64 tensor for a float32 net
        tensor, was_numpy = inputs.detach(), False
    else:
        if isinstance(inputs, (str, bytes, dict, set)) or inputs is None:
            raise TypeError(
                f"{name} must be a numpy array or a torch tensor of numbers, got {_describe(inputs)}"
            )
        try:
            array = np.asarray(inputs)
            if array.dtype.kind in "cOSUV":  # complex, objects, text
                raise TypeError(f"dtype {array.dtype}")
            array = array.astype(float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be a numpy array or a torch tensor of real numbers, got "
                f"{_describe(inputs)}"
            ) from err
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        tensor, was_numpy = torch.as_tensor(array, dtype=_model_dtype(model)), True
    if tensor.ndim < 1 or tensor.shape[0] == 0:
        raise ValueError(
            f"{name} must be a batch with at least one row (shape (n, ...)), "
            f"got shape {tuple(tensor.shape)}"
        )
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(
            f"{name} holds values too large for the model's dtype {tensor.dtype} "
            f"(largest {torch.finfo(tensor.dtype).max:.3g})"
        )
    return tensor, was_numpy


def _as_baseline(baseline: Any, x, name: str = "baseline"):
    """Broadcast ``baseline`` to the shape of ``x``.

    ``None`` means zeros; a number fills every entry; an array of the shape of
    one row is used for every row; an array of the shape of ``x`` pairs row by row.
    """
    import torch

    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        if not math.isfinite(baseline):
            raise ValueError(f"{name} must be a finite number, got {baseline}")
        base = torch.full_like(x, float(baseline))
        if not bool(torch.isfinite(base).all()):
            raise ValueError(f"{name} {baseline} is too large for the model's dtype {x.dtype}")
        return base
    if isinstance(baseline, torch.Tensor):
        if baseline.is_complex():
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {baseline.dtype}")
        base = baseline.detach().to(dtype=x.dtype)
    else:
        try:
            if isinstance(baseline, (str, bytes, dict, set)) or np.asarray(baseline).dtype.kind in "cOSUV":
                raise TypeError("not real numbers")
            base = torch.as_tensor(np.asarray(baseline, dtype=float), dtype=x.dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be None, a number, a numpy array or a torch tensor, "
                f"got {_describe(baseline)}"
            ) from err
    if not bool(torch.isfinite(base).all()):
        raise ValueError(f"{name} contains NaN or infinite values, or values too large "
                         f"for the model's dtype {x.dtype}")
    if tuple(base.shape) == tuple(x.shape):
        return base
    if tuple(base.shape) == tuple(x.shape[1:]):
        return base.unsqueeze(0).expand_as(x)
    raise ValueError(
        f"{name} must have the shape of the inputs {tuple(x.shape)} or of one row "
        f"{tuple(x.shape[1:])}, got shape {tuple(base.shape)}"
    )


def _as_targets(target: Any, n_rows: int):
    """Turn ``target`` into a long tensor of shape ``(n_rows,)`` (or None)."""
    import torch

    if target is None:
        return None
    if isinstance(target, bool):
        raise TypeError(f"target must be an int or a sequence of ints, got {_describe(target)}")
    if isinstance(target, (int, np.integer)):
        if target < 0:
            raise ValueError(f"target must be a class index >= 0, got {int(target)}")
        if target >= 2**63:
            raise ValueError(f"target must be a class index < 2**63, got {int(target)}")
        return torch.full((n_rows,), int(target), dtype=torch.long)
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    values = np.asarray(target)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise TypeError(
            f"target must be an int or a 1-D sequence of ints, got {_describe(target)}"
        )
    if values.shape[0] != n_rows:
        raise ValueError(
            f"target must have one class index per row ({n_rows}), got {values.shape[0]}"
        )
    if np.any(values < 0):
        raise ValueError(f"target must hold class indices >= 0, got {values.min()}")
    return torch.as_tensor(values, dtype=torch.long)


def _call_model(model: Callable, *xs):
    """``model(*xs)``, with the model's failures reported as errors naming ``model``.

    torch's shape and dtype errors become a ``ValueError`` naming the inputs' shapes;
    a model that leaves autograd (``.numpy()`` on its input) a ``TypeError``; any other
    exception from inside the model (not a ``ValueError``/``TypeError`` of its own) a
    ``ValueError`` that keeps it as the cause.
    """
    shapes = ", ".join(str(tuple(x.shape)) for x in xs)
    try:
        return model(*xs)
    except (ValueError, TypeError):
        raise
    except RuntimeError as err:  # torch's shape and dtype errors
        if "requires grad" in str(err):
            raise _not_differentiable(f"it failed with: {err}") from err
        raise ValueError(
            f"model failed on inputs of shape {shapes} and dtype {xs[0].dtype}; check that "
            f"inputs match what the model expects. torch said: {err}"
        ) from err
    except Exception as err:  # noqa: BLE001 (the model's own failure, kept as the cause)
        raise ValueError(
            f"model raised {type(err).__name__} on inputs of shape {shapes}: {err}"
        ) from err


def _not_differentiable(why: str) -> TypeError:
    return TypeError(
        "model must be differentiable with torch autograd from its inputs to its scores "
        "(no .detach(), .numpy(), torch.no_grad() or non-torch model inside), but "
        f"{why}"
    )


def _selected_scores(model: Callable, x, targets):
    """Return ``S_c(x)`` for every row: the model's score of each row's target class."""
    return _pick_scores(_call_model(model, x), x.shape[0], targets)


def _pick_scores(out, n_rows: int, targets):
    """Check a model output of ``n_rows`` rows and keep each row's target score.

    The kept scores must be finite: a NaN or infinite score would turn every
    attribution of its row into NaN.
    """
    import torch

    if not hasattr(out, "ndim") or not hasattr(out, "gather"):
        raise TypeError(f"model must return a torch tensor, got {_describe(out)}")
    if out.ndim == 1:
        out = out.unsqueeze(1)
    if out.ndim != 2 or out.shape[0] != n_rows:
        raise ValueError(
            f"model must return scores of shape ({n_rows}, n_classes) or "
            f"({n_rows},) for a batch of {n_rows} rows, got shape {tuple(out.shape)}; "
            "check that inputs have the shape the model expects"
        )
    if not out.is_floating_point():
        raise TypeError(f"model must return floating-point scores, got dtype {out.dtype}")
    n_classes = out.shape[1]
    if targets is None:
        if n_classes != 1:
            raise ValueError(
                f"target must be given: the model returns {n_classes} scores per row"
            )
        scores = out[:, 0]
    else:
        top = int(targets.max())
        if top >= n_classes:
            raise ValueError(
                f"target must be a class index < {n_classes} (the model's number of "
                f"outputs), got {top}"
            )
        scores = out.gather(1, targets.to(out.device).unsqueeze(1)).squeeze(1)
    finite = torch.isfinite(scores.detach())
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"model returned NaN or infinite scores for {bad} of {n_rows} rows "
            "(the attributions would be NaN); check the model and the size of the inputs"
        )
    return scores


def _checked_grad(scores, leaves):
    """``d(sum scores)/d leaves``: a TypeError if ``model`` is not differentiable,
    a ValueError if a gradient is NaN or infinite."""
    import torch

    if not scores.requires_grad:
        raise _not_differentiable("its scores do not require grad")
    grads = torch.autograd.grad(scores.sum(), leaves, allow_unused=True)
    if any(g is None for g in grads):
        raise _not_differentiable("its scores do not depend on the inputs in the autograd graph")
    for g in grads:
        if not bool(torch.isfinite(g).all()):
            raise ValueError(
                "model has NaN or infinite gradients at these inputs (the attributions "
                "would be NaN); check the model (e.g. sqrt or log at 0) and the size of "
                "the inputs"
            )
    return grads


def _batch_gradient(model: Callable, xb, tb):
    """``dS_c/dx`` for one batch ``xb`` (one forward and one backward pass)."""
    import torch

    xb = xb.detach().requires_grad_(True)  # a leaf that shares xb's memory
    with torch.enable_grad():
        scores = _selected_scores(model, xb, tb)
        (grad,) = _checked_grad(scores, (xb,))
    return grad


def _gradients(model: Callable, x, targets, batch_size: int):
    """``dS_c/dx`` for every row of ``x``, computed ``batch_size`` rows at a time."""
    import torch

    if x.shape[0] <= batch_size:
        return _batch_gradient(model, x, targets)
    grads = torch.empty_like(x)
    for start in range(0, x.shape[0], batch_size):
        stop = start + batch_size
        tb = None if targets is None else targets[start:stop]
        grads[start:stop] = _batch_gradient(model, x[start:stop], tb)
    return grads


def _scores(model: Callable, x, targets, batch_size: int):
    """``S_c(x)`` for every row of ``x`` without gradients, in batches."""
    import torch

    parts = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            tb = None if targets is None else targets[start:start + batch_size]
            parts.append(_selected_scores(model, x[start:start + batch_size], tb))
    return torch.cat(parts)


def _output(values, was_numpy: bool):
    """Give back numpy if the caller passed numpy, otherwise the tensor."""
    return values.detach().cpu().numpy() if was_numpy else values.detach()


def _prepare(model: Any, inputs: Any, target: Any, batch_size: Any):
    check_callable(model, "model")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x, was_numpy = _as_tensor(inputs, model)
    targets = _as_targets(target, x.shape[0])
    return x, was_numpy, targets, batch_size
