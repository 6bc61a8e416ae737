"""DeepLIFT (rescale rule) and DeepSHAP for sequential networks.

See the course notebooks ``course/10_shapley_shap.ipynb`` and
``course/12_sanity_checks_axioms.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    _describe,
    check_positive,
)
from lime_core.gradients._common import (
    DEFAULT_BATCH_SIZE,
    _as_baseline,
    _as_tensor,
    _output,
    _pick_scores,
    _prepare,
)

# --------------------------------------------------------------------------
# DeepLIFT (rescale rule) and DeepSHAP
# --------------------------------------------------------------------------
#
# DeepLIFT explains the difference S_c(x) - S_c(x') with "multipliers"
# m = Delta y / Delta h, chained through the network like gradients. Linear
# layers (Linear, Conv2d, AvgPool2d, Flatten) keep their ordinary gradient: it
# already is Delta y / Delta h. Each elementwise nonlinearity y = g(h) gets the
# rescale multiplier m = (g(h) - g(h')) / (h - h'), or the plain gradient g'(h)
# when |h - h'| < eps. We obtain it with autograd: run the baseline through the
# network (no gradient) next to the input, each nonlinearity of the input's pass
# replaced by a custom autograd.Function whose forward is g(h) and whose backward
# multiplies by m instead of g'(h). Then "gradient" x (x - x') is the attribution.

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
    """The autograd.Function for MaxPool2d (see :func:`deeplift` for the rule)."""
    import torch
    import torch.nn.functional as F

    class MaxPoolRule(torch.autograd.Function):
        @staticmethod
        def forward(ctx, h, h_ref, pool, eps):
            kwargs = dict(kernel_size=pool.kernel_size, stride=pool.stride,
                          padding=pool.padding, dilation=pool.dilation,
                          ceil_mode=pool.ceil_mode, return_indices=True)
            y, where_x = F.max_pool2d(h, **kwargs)
            y_ref, where_ref = F.max_pool2d(h_ref, **kwargs)
            # Delta y goes to the winning position of whichever max is larger
            winner = torch.where(y >= y_ref, where_x, where_ref)
            ctx.save_for_backward(h - h_ref, y - y_ref, winner, where_x)
            ctx.eps = eps
            return y

        @staticmethod
        def backward(ctx, grad_out):
            delta_in, delta_out, winner, where_x = ctx.saved_tensors
            n, c = delta_in.shape[:2]
            flat = (n, c, -1)
            # scatter-add grad * Delta y onto the winners, then divide by Delta h there
            credit = torch.zeros_like(delta_in).reshape(flat)
            credit.scatter_add_(2, winner.reshape(flat), (grad_out * delta_out).reshape(flat))
            # the plain max-pool gradient, used where Delta h is ~0
            plain = torch.zeros_like(delta_in).reshape(flat)
            plain.scatter_add_(2, where_x.reshape(flat), grad_out.reshape(flat))
            credit, plain = credit.reshape(delta_in.shape), plain.reshape(delta_in.shape)
            small = delta_in.abs() < ctx.eps
            safe = torch.where(small, torch.ones_like(delta_in), delta_in)
            return torch.where(small, plain, credit / safe), None, None, None

    return MaxPoolRule


def _deeplift_layers(model: Any) -> list:
    """The layers of a (possibly nested) ``nn.Sequential``; reject anything else."""
    import torch.nn as nn

    supported = (nn.Linear, nn.Conv2d, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.MaxPool2d,
                 nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d,
                 nn.Flatten, nn.Identity, nn.Dropout)
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            "model must be a torch.nn.Sequential of Linear, Conv2d, ReLU, Sigmoid, Tanh, "
            f"MaxPool2d, AvgPool2d and Flatten layers for deeplift, got {_describe(model)}"
        )
    layers = []
    for layer in model:
        if isinstance(layer, nn.Sequential):
            layers.extend(_deeplift_layers(layer))
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and layer.training:
            raise ValueError(
                "model must be in eval() mode for deeplift: a BatchNorm layer in training "
                "mode mixes the rows of a batch"
            )
        elif isinstance(layer, supported):
            layers.append(layer)
        else:
            raise TypeError(
                "model must contain only Linear, Conv2d, ReLU, Sigmoid, Tanh, MaxPool2d, "
                "AvgPool2d, AdaptiveAvgPool2d, BatchNorm (eval), Flatten, Identity and "
                "Dropout layers for deeplift, "
                f"got a {type(layer).__name__} layer"
            )
    return layers


def _deeplift_forward(layers: list, x, x_ref, eps: float):
    """Run ``x`` through ``layers`` with the DeepLIFT backward rules; ``x_ref`` has no gradient."""
    import torch
    import torch.nn as nn

    rescale = _rescale_function()
    maxpool = _maxpool_function()
    # the functional forms never work in place (nn.ReLU(inplace=True) would
    # overwrite the activations the rescale rule needs)
    activations = {nn.ReLU: torch.relu, nn.Sigmoid: torch.sigmoid, nn.Tanh: torch.tanh}
    h, h_ref = x, x_ref
    for layer in layers:
        g = activations.get(type(layer))
        if g is not None:
            with torch.no_grad():
                y_ref = g(h_ref)
            h = rescale.apply(h, h_ref, g(h), y_ref, eps)
        else:
            with torch.no_grad():
                y_ref = layer(h_ref)
            h = maxpool.apply(h, h_ref, layer, eps) if isinstance(layer, nn.MaxPool2d) else layer(h)
        h_ref = y_ref
    return h


def deeplift(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """DeepLIFT with the rescale rule (Shrikumar et al., 2017) for sequential networks.

    Every neuron's change from the baseline, ``Delta y = y(x) - y(x')``, is split
    over its inputs with multipliers ``m = Delta y / Delta h``:

    * Linear, Conv2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm in eval mode, Flatten:
      affine maps, whose ordinary gradient already is ``Delta y / Delta h``.
    * ReLU, Sigmoid, Tanh (rescale rule): ``m = (g(h) - g(h')) / (h - h')``, or
      the gradient ``g'(h)`` when ``|h - h'| < eps``.
    * MaxPool2d (our choice, the same as captum's): each window's ``Delta y`` is
      credited to the position that wins the max of whichever of ``x`` and ``x'``
      has the larger max, divided by that position's ``Delta h``.

    Multipliers chain like gradients and the attribution is
    ``a_i = m_i (x_i - x'_i)``. Summation-to-delta: ``sum_i a_i = S_c(x) - S_c(x')``
    (exact up to the ``eps`` fallback). Unlike Integrated Gradients, DeepLIFT
    depends on how the network is written, not only on the function it computes.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.

    Parameters
    ----------
    model : torch.nn.Sequential
        Made of Linear, Conv2d, ReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
        AdaptiveAvgPool2d, BatchNorm1d/2d, Flatten (Identity and Dropout pass
        through); in ``eval()`` mode.
    inputs, target, batch_size
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).
    eps : float
        Below this ``|Delta h|`` the plain gradient is used.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    import torch

    layers = _deeplift_layers(model)
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    base = _as_baseline(baseline, x)
    eps = check_positive(eps, "eps", allow_zero=True)
    multipliers = torch.empty_like(x)
    for start in range(0, x.shape[0], batch_size):
        stop = start + batch_size
        xb = x[start:stop].detach().clone().requires_grad_(True)
        tb = None if targets is None else targets[start:stop]
        with torch.enable_grad():
            out = _deeplift_forward(layers, xb, base[start:stop], eps)
            scores = _pick_scores(out, xb.shape[0], tb)
            (grad,) = torch.autograd.grad(scores.sum(), xb)
        multipliers[start:stop] = grad
    return _output(multipliers * (x - base), was_numpy)


@renamed_arguments({"background": "baseline"})
def deep_shap(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
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
        As in :func:`deeplift`.
    baseline : array or tensor, shape ``(B, ...)``, rows shaped like one input row
        The background baselines, ``B >= 1`` (the same ``baseline=`` keyword as the
        other methods; here it holds a set of rows, what shap calls the background;
        the old keyword ``background=`` still works, deprecated).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    import torch

    if baseline is None:
        raise TypeError("baseline must be a set of baseline rows (B, ...) for deep_shap, got None")
    background, name = baseline, "baseline"
    _deeplift_layers(model)
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    # an empty background is refused here ("must be a batch with at least one row")
    back, _ = _as_tensor(background, model, name=name)
    if tuple(back.shape[1:]) != tuple(x.shape[1:]):
        raise ValueError(
            f"{name} rows must have the shape of one input row {tuple(x.shape[1:])}, "
            f"got {name} of shape {tuple(back.shape)}"
        )
    b = back.shape[0]
    total = []
    for r in range(x.shape[0]):
        # pair input row r with every background row, batch_size pairs at a time
        row_sum = 0
        for start in range(0, b, batch_size):
            chunk = back[start:start + batch_size]
            t = None if targets is None else targets[r].repeat(len(chunk))
            pairs = deeplift(model, x[r:r + 1].expand(len(chunk), *x.shape[1:]), target=t,
                             baseline=chunk, eps=eps, batch_size=batch_size)
            row_sum = row_sum + pairs.sum(dim=0)
        total.append(row_sum / b)
    return _output(torch.stack(total), was_numpy)
