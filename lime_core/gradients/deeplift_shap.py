"""DeepLIFT (rescale rule) and DeepSHAP for networks built from standard torch layers.

See the course notebooks ``course/10_shapley_shap.ipynb`` and
``course/12_sanity_checks_axioms.ipynb``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Sequence
from typing import Any

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    _describe,
    check_int,
    check_positive,
)
from lime_core.gradients._common import (
    DEFAULT_BATCH_SIZE,
    _as_baseline,
    _as_targets,
    _as_tensor,
    _call_model,
    _checked_grad,
    _output,
    _pick_scores,
)

# --------------------------------------------------------------------------
# DeepLIFT (rescale rule) and DeepSHAP
# --------------------------------------------------------------------------
#
# DeepLIFT explains the difference S_c(x) - S_c(x') with "multipliers"
# m = Delta y / Delta h, chained through the network like gradients. Linear
# layers (Linear, Conv1d/2d, average pooling, BatchNorm in eval mode, Flatten) keep
# their ordinary gradient: it already is Delta y / Delta h. Each elementwise
# nonlinearity y = g(h) gets the rescale multiplier m = (g(h) - g(h')) / (h - h'),
# or the plain gradient g'(h) when |h - h'| < eps.
#
# We obtain it with autograd, the way captum does: the input x and the baseline x'
# go through the model together, as one batch [x; x'] (rows never mix in these
# layers). A forward hook on every nonlinear layer sees h = [h; h'] and g([h; h']),
# and hands on, for the x half, a custom autograd.Function whose forward is g(h) and
# whose backward multiplies by m instead of g'(h). Then "gradient" x (x - x') is the
# attribution. The hooks sit on layer modules (nn.ReLU, nn.MaxPool2d, ...), so any
# nn.Module whose forward calls such layers works, however it is written; a
# nonlinearity called as a function inside forward (torch.relu(h), F.max_pool2d)
# is invisible to the hooks and gets its plain gradient, so the attributions stop
# adding up to S_c(x) - S_c(x'). deeplift checks that sum and warns when it is off.

_DEEPLIFT_EPS = 1e-10


def _rescale_function():
    """The autograd.Function for the rescale rule (built here, so torch loads lazily)."""
    import torch

    class RescaleRule(torch.autograd.Function):
        """Forward ``y = g(h)``; backward multiplies by ``(g(h) - g(h')) / (h - h')``."""

        @staticmethod
        def forward(ctx, h, h_ref, y, y_ref, eps):
            # y = g(h) (with its own graph) and y_ref = g(h') come from the caller
            delta_in = h - h_ref
            small = delta_in.abs() < eps
            ctx.save_for_backward(delta_in, y - y_ref, small)
            return y.detach().clone()

        @staticmethod
        def backward(ctx, grad_out):
            delta_in, delta_out, small = ctx.saved_tensors
            safe = torch.where(small, torch.ones_like(delta_in), delta_in)
            multiplier = torch.where(small, torch.zeros_like(delta_in), delta_out / safe)
            # grad_out * m reaches h directly; where |Delta h| < eps the plain
            # gradient g'(h) flows instead, through y's own graph
            return grad_out * multiplier, None, grad_out * small.to(grad_out.dtype), None, None

    return RescaleRule


def _maxpool_function():
    """The autograd.Function for MaxPool1d/MaxPool2d (see :func:`deeplift` for the rule)."""
    import torch
    import torch.nn.functional as F

    class MaxPoolRule(torch.autograd.Function):
        @staticmethod
        def forward(ctx, h, h_ref, pool, eps):
            kwargs = dict(kernel_size=pool.kernel_size, stride=pool.stride,
                          padding=pool.padding, dilation=pool.dilation,
                          ceil_mode=pool.ceil_mode, return_indices=True)
            pool_fn = F.max_pool1d if isinstance(pool, torch.nn.MaxPool1d) else F.max_pool2d
            ctx.plane = 1 if pool_fn is F.max_pool1d else 2  # number of pooled dimensions
            y, where_x = pool_fn(h, **kwargs)
            y_ref, where_ref = pool_fn(h_ref, **kwargs)
            # Delta y goes to the winning position of whichever max is larger
            winner = torch.where(y >= y_ref, where_x, where_ref)
            ctx.save_for_backward(h - h_ref, y - y_ref, winner, where_x)
            ctx.eps = eps
            return y

        @staticmethod
        def backward(ctx, grad_out):
            delta_in, delta_out, winner, where_x = ctx.saved_tensors

            def planes(t):  # one row per (row, channel) plane; indices count within a plane
                return t.reshape(-1, int(math.prod(t.shape[-ctx.plane:])))

            # scatter-add grad * Delta y onto the winners, then divide by Delta h there
            credit = planes(torch.zeros_like(delta_in))
            credit.scatter_add_(1, planes(winner), planes(grad_out * delta_out))
            # the plain max-pool gradient, used where Delta h is ~0
            plain = planes(torch.zeros_like(delta_in))
            plain.scatter_add_(1, planes(where_x), planes(grad_out))
            credit, plain = credit.reshape(delta_in.shape), plain.reshape(delta_in.shape)
            small = delta_in.abs() < ctx.eps
            safe = torch.where(small, torch.ones_like(delta_in), delta_in)
            return torch.where(small, plain, credit / safe), None, None, None

    return MaxPoolRule


def _layer_kinds():
    """The layers deeplift knows: affine ones, elementwise nonlinearities, max pooling."""
    import torch.nn as nn

    affine = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.AvgPool1d, nn.AvgPool2d,
              nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d,
              nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout)
    elementwise = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.ELU, nn.LeakyReLU, nn.Softplus)
    max_pool = (nn.MaxPool1d, nn.MaxPool2d)
    return affine, elementwise, max_pool


_LAYER_NAMES = ("Linear, Conv1d, Conv2d, ReLU, Sigmoid, Tanh, ELU, LeakyReLU, Softplus, "
                "MaxPool1d, MaxPool2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, BatchNorm1d/2d "
                "(eval), Flatten, Unflatten, Identity and Dropout")


def _check_deeplift_model(model: Any) -> list:
    """The layers (leaf modules) of ``model``; a TypeError for anything deeplift cannot
    explain, a ValueError for a layer in training mode."""
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        raise TypeError(
            "model must be a torch.nn.Module (deeplift hooks into its layers) made of "
            f"{_LAYER_NAMES} layers, got {_describe(model)}"
        )
    affine, elementwise, max_pool = _layer_kinds()
    layers = [m for m in model.modules() if not any(True for _ in m.children())]
    for layer in layers:
        if not isinstance(layer, affine + elementwise + max_pool):
            raise TypeError(
                f"model must contain only {_LAYER_NAMES} layers for deeplift, "
                f"got a {type(layer).__name__} layer"
            )
        if isinstance(layer, max_pool) and layer.return_indices:
            raise TypeError("model must not use max pooling with return_indices=True for deeplift")
        if layer.training and isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout)):
            raise ValueError(
                f"model must be in eval() mode for deeplift: a {type(layer).__name__} layer "
                "in training mode mixes the rows of a batch or is random"
            )
    return layers


@contextlib.contextmanager
def _deeplift_hooks(layers: list, eps: float):
    """Forward hooks that give every nonlinear layer its DeepLIFT backward rule.

    Every batch that goes through the model is ``[x; x']``: its first half the
    inputs, its second half their baselines. The hooks return, for the first half,
    the rescale (or max-pool) rule, and for the second half the detached output.
    """
    import torch

    _, elementwise, max_pool = _layer_kinds()
    rescale, maxpool = _rescale_function(), _maxpool_function()
    saved: dict[int, list] = {}

    def keep_input(layer, args):
        # keep h before the layer runs: an in-place layer (ReLU(inplace=True))
        # would overwrite it, so it runs on a copy
        saved.setdefault(id(layer), []).append(args[0])
        if getattr(layer, "inplace", False):
            return (args[0].clone(),) + tuple(args[1:])
        return None

    def apply_rule(layer, args, output):
        h = saved[id(layer)].pop()
        n = h.shape[0] // 2
        h_x, h_ref = h[:n], h[n:].detach()
        y_ref = output[n:].detach()
        if isinstance(layer, max_pool):
            y_x = maxpool.apply(h_x, h_ref, layer, eps)
        else:
            y_x = rescale.apply(h_x, h_ref, output[:n], y_ref, eps)
        return torch.cat([y_x, y_ref])

    handles = []
    try:
        for layer in layers:
            if isinstance(layer, elementwise + max_pool):
                handles.append(layer.register_forward_pre_hook(keep_input))
                handles.append(layer.register_forward_hook(apply_rule))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _as_inputs(inputs: Any, model: Any) -> tuple[tuple, bool, bool]:
    """``(tensors, was_numpy, was_tuple)``: one input, or a tuple of inputs (one per
    argument of ``model``, like captum), all with the same number of rows."""
    was_tuple = isinstance(inputs, tuple)
    parts = inputs if was_tuple else (inputs,)
    if was_tuple and len(parts) == 0:
        raise ValueError("inputs must hold at least one input, got an empty tuple")
    xs, kinds = [], []
    for i, part in enumerate(parts):
        x, was_numpy = _as_tensor(part, model, name=f"inputs[{i}]" if was_tuple else "inputs")
        xs.append(x)
        kinds.append(was_numpy)
    rows = {x.shape[0] for x in xs}
    if len(rows) > 1:
        raise ValueError(
            f"inputs must all have the same number of rows, got shapes "
            f"{[tuple(x.shape) for x in xs]}"
        )
    return tuple(xs), kinds[0], was_tuple


def _as_baselines(baseline: Any, xs: tuple, was_tuple: bool) -> tuple:
    """One baseline per input, each broadcast to its input's shape."""
    if was_tuple and isinstance(baseline, tuple):
        if len(baseline) != len(xs):
            raise ValueError(
                f"baseline must have one entry per input ({len(xs)}), got {len(baseline)}"
            )
        return tuple(_as_baseline(b, x, name=f"baseline[{i}]")
                     for i, (b, x) in enumerate(zip(baseline, xs, strict=True)))
    if was_tuple and baseline is not None and not isinstance(baseline, (int, float)):
        raise TypeError(
            f"baseline must be None, a number, or a tuple with one baseline per input "
            f"({len(xs)}) when inputs is a tuple, got {_describe(baseline)}"
        )
    if isinstance(baseline, tuple):
        raise TypeError("baseline must not be a tuple when inputs is a single input")
    return tuple(_as_baseline(baseline, x) for x in xs)


def _deeplift_multipliers(model, layers, xs, bases, targets, eps, batch_size):
    """The multipliers ``m`` of every input (checked tensors in, ``batch_size`` rows per
    pass), with the largest summation-to-delta gap and the largest output change."""
    import torch

    n = xs[0].shape[0]
    multipliers = [torch.empty_like(x) for x in xs]
    worst_gap, worst_change = 0.0, 0.0
    with _deeplift_hooks(layers, eps):
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            k = stop - start
            xb = tuple(x[start:stop].detach().clone().requires_grad_(True) for x in xs)
            both = tuple(torch.cat([a, b[start:stop]]) for a, b in zip(xb, bases, strict=True))
            tb = None if targets is None else targets[start:stop].repeat(2)
            with torch.enable_grad():
                out = _call_model(model, *both)
                scores = _pick_scores(out, 2 * k, tb)
                grads = _checked_grad(scores[:k], xb)
            for mult, grad in zip(multipliers, grads, strict=True):
                mult[start:stop] = grad
            # summation-to-delta, checked on the way
            change = (scores[:k] - scores[k:]).detach()
            total = sum((g * (a - b[start:stop])).reshape(k, -1).sum(dim=1)
                        for g, a, b in zip(grads, xb, bases, strict=True)).detach()
            worst_gap = max(worst_gap, float((total - change).abs().max()))
            worst_change = max(worst_change, float(change.abs().max()))
    return multipliers, worst_gap, worst_change


def _warn_unless_it_adds_up(worst_gap: float, worst_change: float, dtype) -> None:
    """Warn when the attributions miss ``S_c(x) - S_c(x')`` by more than rounding."""
    import torch

    relative = 1e-6 if dtype == torch.float64 else 1e-3
    if worst_gap > relative * max(worst_change, relative):
        warnings.warn(
            f"deeplift's attributions miss S_c(x) - S_c(x') by up to {worst_gap:.3g} "
            f"(largest |S_c(x) - S_c(x')| {worst_change:.3g}): model probably calls a "
            "nonlinearity as a function (torch.relu, F.max_pool2d) that deeplift's hooks "
            "on layer modules do not see; use the nn layer (nn.ReLU(), ...) instead",
            UserWarning, stacklevel=3,
        )



def _check_settings(model, batch_size, eps, multiply_by_inputs) -> tuple[list, int, float]:
    """The settings DeepLIFT and DeepSHAP share, checked: the model's hooked layers,
    ``batch_size``, ``eps`` and ``multiply_by_inputs``."""
    layers = _check_deeplift_model(model)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    eps = check_positive(eps, "eps", allow_zero=True)
    if not isinstance(multiply_by_inputs, bool):
        raise TypeError(f"multiply_by_inputs must be True or False, got {_describe(multiply_by_inputs)}")
    return layers, batch_size, eps


def deeplift(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    multiply_by_inputs: bool = True,
):
    """DeepLIFT with the rescale rule (Shrikumar et al., 2017).

    Every neuron's change from the baseline, ``Delta y = y(x) - y(x')``, is split
    over its inputs with multipliers ``m = Delta y / Delta h``:

    * Linear, Conv1d, Conv2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, BatchNorm in eval
      mode, Flatten: affine maps, whose ordinary gradient already is ``Delta y / Delta h``.
    * ReLU, Sigmoid, Tanh, ELU, LeakyReLU, Softplus (rescale rule):
      ``m = (g(h) - g(h')) / (h - h')``, or the gradient ``g'(h)`` when ``|h - h'| < eps``.
    * MaxPool1d, MaxPool2d (the same rule as captum's): each window's ``Delta y`` is
      credited to the position that wins the max of whichever of ``x`` and ``x'``
      has the larger max, divided by that position's ``Delta h``. (captum's hooks
      give the same numbers, except when two nonlinear layers follow each other, as
      ReLU then MaxPool: there captum's attributions stop adding up, ours do not.)

    Multipliers chain like gradients and the attribution is
    ``a_i = m_i (x_i - x'_i)``. Summation-to-delta: ``sum_i a_i = S_c(x) - S_c(x')``
    (exact up to the ``eps`` fallback). Unlike Integrated Gradients, DeepLIFT
    depends on how the network is written, not only on the function it computes.

    How it works (as in captum): ``x`` and ``x'`` run through ``model`` as one
    batch, and forward hooks on its nonlinear layer modules replace their backward
    pass. So ``model`` can be any ``nn.Module`` (an ``nn.Sequential``, or a subclass
    whose ``forward`` calls its layers, with several inputs, reusing a layer), as
    long as every nonlinearity is a layer module from the list above: a
    nonlinearity called as a function in ``forward`` (``torch.relu(h)``) is not
    seen and keeps its plain gradient. deeplift then warns, because the
    attributions no longer add up to ``S_c(x) - S_c(x')``.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.

    Parameters
    ----------
    model : torch.nn.Module
        Built from the layers listed above (others raise a TypeError), in ``eval()``
        mode. It is called as ``model(*inputs)``.
    inputs : array/tensor ``(n, ...)``, or a tuple of them (one per model argument)
        With a tuple, every input needs ``n`` rows and the attributions come back
        as a tuple (captum's convention).
    target, batch_size
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros). With a tuple of inputs: None, a number, or a
        tuple with one baseline per input.
    eps : float
        Below this ``|Delta h|`` the plain gradient is used.
    multiply_by_inputs : bool, keyword-only
        True (default): the attributions ``m_i (x_i - x'_i)``. False: the multipliers
        ``m_i`` alone (captum's ``multiply_by_inputs=False``).

    Returns
    -------
    numpy.ndarray or torch.Tensor, or a tuple of them
        Same shape and kind as ``inputs``.
    """

    layers, batch_size, eps = _check_settings(model, batch_size, eps, multiply_by_inputs)
    xs, was_numpy, was_tuple = _as_inputs(inputs, model)
    bases = _as_baselines(baseline, xs, was_tuple)
    targets = _as_targets(target, xs[0].shape[0])
    multipliers, gap, change = _deeplift_multipliers(model, layers, xs, bases, targets, eps,
                                                     batch_size)
    _warn_unless_it_adds_up(gap, change, xs[0].dtype)
    results = tuple(m * (x - b) if multiply_by_inputs else m
                    for m, x, b in zip(multipliers, xs, bases, strict=True))
    results = tuple(_output(r, was_numpy) for r in results)
    return results if was_tuple else results[0]


@renamed_arguments({"background": "baseline"})
def deep_shap(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    multiply_by_inputs: bool = True,
):
    """DeepSHAP: DeepLIFT averaged over a background set of baselines.

    ``phi_i(x) = (1/B) sum_b DeepLIFT_i(x; x'_b)`` for background rows
    ``x'_1, ..., x'_B`` (Lundberg and Lee, 2017). It approximates Shapley values
    with the background as the distribution of "missing" features, and adds up
    to ``S_c(x) - (1/B) sum_b S_c(x'_b)``. With one background row it is DeepLIFT.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    model, inputs, target, eps, batch_size
        As in :func:`deeplift` (any ``nn.Module`` of the layers listed there; a tuple
        of inputs gives a tuple of attributions).
    baseline : array or tensor, shape ``(B, ...)``, rows shaped like one input row
        The background baselines, ``B >= 1`` (the same ``baseline=`` keyword as the
        other methods; here it holds a set of rows, what shap calls the background;
        the old keyword ``background=`` still works, deprecated). With a tuple of
        inputs, a tuple of background sets with the same ``B``.
    multiply_by_inputs : bool, keyword-only
        False: the average multipliers ``(1/B) sum_b m_i(x; x'_b)`` instead of the
        attributions (captum's ``DeepLiftShap(model, multiply_by_inputs=False)``).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    import torch

    if baseline is None:
        raise TypeError("baseline must be a set of baseline rows (B, ...) for deep_shap, got None")
    layers, batch_size, eps = _check_settings(model, batch_size, eps, multiply_by_inputs)
    xs, was_numpy, was_tuple = _as_inputs(inputs, model)
    targets = _as_targets(target, xs[0].shape[0])
    if was_tuple != isinstance(baseline, tuple) or (was_tuple and len(baseline) != len(xs)):
        raise TypeError(
            f"baseline must be a tuple with one background set per input ({len(xs)}) when "
            "inputs is a tuple, and a single background set (B, ...) otherwise, got "
            f"{_describe(baseline)}"
        )
    backs = []
    for i, (part, x) in enumerate(zip(baseline if was_tuple else (baseline,), xs, strict=True)):
        name = f"baseline[{i}]" if was_tuple else "baseline"
        # an empty background is refused here ("must be a batch with at least one row")
        back, _ = _as_tensor(part, model, name=name)
        if tuple(back.shape[1:]) != tuple(x.shape[1:]):
            raise ValueError(
                f"{name} rows must have the shape of one row of inputs {tuple(x.shape[1:])}, "
                f"got {name} of shape {tuple(back.shape)}"
            )
        backs.append(back)
    b = backs[0].shape[0]
    if any(back.shape[0] != b for back in backs):
        raise ValueError(
            f"baseline must hold the same number of background rows for every input, got "
            f"{[back.shape[0] for back in backs]}"
        )
    totals = [[] for _ in xs]
    worst_gap, worst_change = 0.0, 0.0
    for r in range(xs[0].shape[0]):
        # pair input row r with every background row, batch_size pairs at a time
        row_sums = [0 for _ in xs]
        for start in range(0, b, batch_size):
            chunks = tuple(back[start:start + batch_size] for back in backs)
            size = chunks[0].shape[0]
            t = None if targets is None else targets[r].repeat(size)
            rows = tuple(x[r:r + 1].expand(size, *x.shape[1:]) for x in xs)
            mults, gap, change = _deeplift_multipliers(model, layers, rows, chunks, t, eps,
                                                       batch_size)
            worst_gap, worst_change = max(worst_gap, gap), max(worst_change, change)
            row_sums = [acc + (m * (x - c) if multiply_by_inputs else m).sum(dim=0)
                        for acc, m, x, c in zip(row_sums, mults, rows, chunks, strict=True)]
        for total, acc in zip(totals, row_sums, strict=True):
            total.append(acc / b)
    _warn_unless_it_adds_up(worst_gap, worst_change, xs[0].dtype)
    results = tuple(_output(torch.stack(total), was_numpy) for total in totals)
    return results if was_tuple else results[0]
