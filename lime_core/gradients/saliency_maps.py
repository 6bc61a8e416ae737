"""Saliency maps: the gradient, gradient x input, and SmoothGrad.

See the course notebook ``course/08_gradients.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._validation import (
    RandomState,
    check_choice,
    check_int,
    check_positive,
    check_random_state,
)
from lime_core.gradients._common import (
    DEFAULT_BATCH_SIZE,
    _as_baseline,
    _batch_gradient,
    _gradients,
    _output,
    _prepare,
)

SMOOTHGRAD_VARIANTS = ("smoothgrad", "smoothgrad_sq", "vargrad")
# More noisy copies per row than this is a typo, not a request (at a millisecond a
# pass it would already take hours); memory stays bounded by one batch either way.
MAX_SAMPLES = 10**7
@dataclass(frozen=True)
class SmoothGradResult:
    """What :func:`smoothgrad` returns with ``return_result=True``.

    Attributes
    ----------
    attributions : array or tensor, the input's shape
    noise_std : numpy.ndarray, shape ``(n,)``
        The standard deviation of the Gaussian noise used for every row,
        ``noise_level * (max(x) - min(x))``.
    num_samples : int
    variant : str
    random_state : int or numpy.random.Generator
        The seed (or generator) that reproduces the noise.
    model_calls : int
        Forward/backward passes made: ``ceil(n * num_samples / batch_size)``.
    """

    attributions: Any
    noise_std: np.ndarray
    num_samples: int
    variant: str
    random_state: RandomState
    model_calls: int = 0


# --------------------------------------------------------------------------
# saliency, gradient x input, SmoothGrad
# --------------------------------------------------------------------------


def saliency(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    absolute: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """Vanilla gradient saliency map.

    ``saliency_i(x) = |dS_c(x) / dx_i|`` (Simonyan et al., 2014), or the signed
    gradient ``dS_c(x) / dx_i`` with ``absolute=False``. Same as captum's
    ``Saliency(model).attribute(inputs, target, abs=absolute)``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Differentiable map from a batch ``(n, ...)`` to scores ``(n, k)`` or ``(n,)``.
    inputs : numpy.ndarray or torch.Tensor, shape ``(n, ...)``
    target : int, sequence of int or None
        Class explained, for all rows or one per row.
    absolute : bool
        Return ``|gradient|`` (default) or the signed gradient.
    batch_size : int
        Rows per forward/backward pass.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.

    Examples
    --------
    >>> import torch, lime_core
    >>> net = torch.nn.Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, -2.0, 0.0], [0.0, 0.0, 1.0]]))
    >>> lime_core.saliency(net, torch.ones(1, 3), target=0).tolist()   # |dS_0/dx|
    [[1.0, 2.0, 0.0]]
    """
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    grads = _gradients(model, x, targets, batch_size)
    return _output(grads.abs() if absolute else grads, was_numpy)


def gradient_times_input(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """Gradient times input: ``a_i(x) = (x_i - x'_i) * dS_c(x) / dx_i``.

    With the default baseline ``x' = 0`` this is ``x_i * dS_c/dx_i``, captum's
    ``InputXGradient``. For a linear model ``S(x) = w.x + b`` it is exactly the
    contribution ``w_i (x_i - x'_i)``, and the attributions add up to
    ``S(x) - S(x')``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target, batch_size
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    base = _as_baseline(baseline, x)
    grads = _gradients(model, x, targets, batch_size)
    return _output(grads * (x - base), was_numpy)


def smoothgrad(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    num_samples: int = 50,
    noise_level: float = 0.15,
    variant: str = "smoothgrad",
    absolute: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    random_state: RandomState = None,
    return_result: bool = False,
):
    """SmoothGrad: the gradient averaged over noisy copies of the input.

    With ``sigma = noise_level * (max(x) - min(x))`` (noise as a fraction of the
    row's range, Smilkov et al., 2017) and ``eps_1, ..., eps_N ~ N(0, sigma^2 I)``,
    ``g_k = dS_c(x + eps_k)/dx`` (or ``|g_k|`` with ``absolute=True``):

    * ``"smoothgrad"``:    ``(1/N) sum_k g_k``
    * ``"smoothgrad_sq"``: ``(1/N) sum_k g_k^2``
    * ``"vargrad"``:       ``(1/N) sum_k g_k^2 - ((1/N) sum_k g_k)^2`` (the variance)

    The noise comes from ``random_state`` (same seed, same map), never the global RNG.
    To reproduce a map later, pass an int seed, or ask for ``return_result=True``:
    the result records the seed that was used, even one drawn for ``random_state=None``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target, batch_size
        As in :func:`saliency`.
    num_samples : int
        Number ``N`` of noisy copies per row (at most ``MAX_SAMPLES`` = 10^7); they are
        made ``batch_size`` at a time, so memory does not grow with ``N``.
    noise_level : float
        Noise standard deviation as a fraction of each row's range (>= 0).
    variant : {"smoothgrad", "smoothgrad_sq", "vargrad"}
    absolute : bool
        Average ``|g_k|`` instead of ``g_k``.
    random_state : int, numpy.random.Generator or None
    return_result : bool
        Return a :class:`SmoothGradResult` (with the recorded ``random_state``)
        instead of the bare attributions.

    Returns
    -------
    numpy.ndarray, torch.Tensor or SmoothGradResult
    """
    import torch

    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    num_samples = check_int(num_samples, "num_samples", minimum=1, maximum=MAX_SAMPLES)
    noise_level = check_positive(noise_level, "noise_level", allow_zero=True)
    check_choice(variant, "variant", SMOOTHGRAD_VARIANTS)
    rng, recorded = check_random_state(random_state)

    n = x.shape[0]
    flat = x.reshape(n, -1)
    noise_std = (noise_level * (flat.max(dim=1).values - flat.min(dim=1).values)).double()
    std = noise_std.to(x.dtype).reshape(n, *([1] * (x.ndim - 1)))
    if not bool(torch.isfinite(std).all()):
        raise ValueError(
            "inputs span a range too large for the noise: noise_level * (max(x) - min(x)) "
            f"is not finite in {x.dtype}"
        )
    # The N * n noisy copies are numbered p = k * n + r (copy k of row r) and made
    # batch_size at a time: at most one batch of copies is in memory. Drawing the noise
    # chunk by chunk from the private generator gives the same numbers as one
    # (N, n, ...) draw.
    total = torch.zeros_like(x)
    total_sq = torch.zeros_like(x)
    copies = num_samples * n
    for start in range(0, copies, batch_size):
        rows = torch.arange(start, min(start + batch_size, copies)) % n
        eps = torch.as_tensor(rng.standard_normal((len(rows), *x.shape[1:])), dtype=x.dtype)
        noisy = x[rows] + eps * std[rows]
        grads = _batch_gradient(model, noisy, None if targets is None else targets[rows])
        if absolute:
            grads = grads.abs()
        total.index_add_(0, rows, grads)
        total_sq.index_add_(0, rows, grads**2)
    mean = total / num_samples
    if variant == "smoothgrad":
        attributions = mean
    elif variant == "smoothgrad_sq":
        attributions = total_sq / num_samples
    else:
        attributions = (total_sq / num_samples - mean**2).clamp_min(0)
    attributions = _output(attributions, was_numpy)
    if not return_result:
        return attributions
    return SmoothGradResult(
        attributions=attributions,
        noise_std=noise_std.cpu().numpy(),
        num_samples=num_samples,
        variant=variant,
        random_state=recorded,
        model_calls=math.ceil(num_samples * n / batch_size),
    )
