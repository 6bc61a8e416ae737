"""Integrated Gradients: quadrature rules and the path integral.

See the course notebook ``course/09_integrated_gradients.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import warn_renamed
from lime_core._validation import (
    check_choice,
    check_int,
)
from lime_core.gradients._common import (
    DEFAULT_BATCH_SIZE,
    _as_baseline,
    _batch_gradient,
    _output,
    _prepare,
    _scores,
)

# captum's quadrature rules (same names, same nodes and weights) ...
CAPTUM_IG_METHODS = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)
# ... and the textbook trapezoid rule, which captum's "riemann_trapezoid" is not
IG_METHODS = CAPTUM_IG_METHODS + ("trapezoid",)
# Integrated Gradients evaluates many points per input. On a CPU a pass over a few
# million input numbers is faster than one giant pass (the activations stay in the
# caches): for 3 x 224 x 224 images 13 points per pass ran ~1.7x faster than 50.
PATH_BATCH_NUMBERS = 2**21


def path_batch_size(numbers_per_point: int) -> int:
    """Default points per pass for path methods: ``PATH_BATCH_NUMBERS`` input numbers
    per pass, at least 1 and at most ``DEFAULT_BATCH_SIZE`` points."""
    return int(min(DEFAULT_BATCH_SIZE, max(1, PATH_BATCH_NUMBERS // max(1, numbers_per_point))))


@dataclass(frozen=True)
class IntegratedGradientsResult:
    """What :func:`integrated_gradients` returns with ``return_result=True``.

    Attributes
    ----------
    attributions : array or tensor, the input's shape
        ``IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c(x' + a (x - x')) / dx_i da``.
    convergence_delta : array or tensor, shape ``(n,)``
        The completeness gap ``|sum_i IG_i(x) - (S_c(x) - S_c(x'))|`` of every row.
        It tends to 0 as ``steps`` grows.
    steps : int
    method : str
    model_calls : int
        Forward/backward passes made: ``ceil(n * steps / batch_size)`` along the
        paths, plus the passes that score ``x`` and ``x'`` for the gap.
    """

    attributions: Any
    convergence_delta: Any
    steps: int
    method: str
    model_calls: int


# --------------------------------------------------------------------------
# Integrated Gradients
# --------------------------------------------------------------------------


def integration_nodes(steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``a_k`` and weights ``w_k`` with ``integral_0^1 g(a) da ~ sum_k w_k g(a_k)``.

    The conventions are captum's, so both libraries evaluate the same points:

    * ``riemann_left``:   ``a_k = k/m``,           ``k = 0..m-1``, ``w_k = 1/m``
    * ``riemann_right``:  ``a_k = k/m``,           ``k = 1..m``,   ``w_k = 1/m``
    * ``riemann_middle``: ``a_k = (k + 1/2)/m``,   ``k = 0..m-1``, ``w_k = 1/m``
    * ``riemann_trapezoid``: ``a_k = k/(m-1)``,    ``k = 0..m-1``, ``w_k = 1/m``
      with the two end weights halved (captum's rule; the weights add up to
      ``1 - 1/m``, not 1, so even a linear model keeps a completeness gap of
      ``|f(x) - f(x')| / m``)
    * ``trapezoid`` (not in captum): the textbook rule, ``a_k = k/(m-1)``,
      ``w_k = 1/(m-1)`` with the two end weights halved; the weights add up to 1 and
      the rule is exact when the gradient is linear along the path.
    * ``gausslegendre``: the Gauss-Legendre nodes and weights on ``[-1, 1]``
      mapped to ``[0, 1]``: ``a_k = (1 + t_k)/2``, ``w_k = v_k/2``. Exact for
      polynomials of degree ``2m - 1``.

    See the course notebook ``course/09_integrated_gradients.ipynb``.
    """
    check_choice(method, "method", IG_METHODS)
    if method == "gausslegendre":
        steps = check_int(steps, "steps", minimum=1)
        t, v = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (1.0 + t), 0.5 * v
    steps = check_int(steps, "steps", minimum=2)
    weights = np.full(steps, 1.0 / steps)
    if method == "riemann_left":
        nodes = np.linspace(0.0, 1.0 - 1.0 / steps, steps)
    elif method == "riemann_right":
        nodes = np.linspace(1.0 / steps, 1.0, steps)
    elif method == "riemann_middle":
        nodes = np.linspace(0.5 / steps, 1.0 - 0.5 / steps, steps)
    else:  # riemann_trapezoid (captum's) or trapezoid (the textbook rule)
        nodes = np.linspace(0.0, 1.0, steps)
        if method == "trapezoid":
            weights = np.full(steps, 1.0 / (steps - 1))
        weights[0] /= 2
        weights[-1] /= 2
    return nodes, weights


def _path_points(start, direction, alphas):
    """The points ``start + a * direction`` for every ``a`` in ``alphas``, stacked."""
    return start.unsqueeze(0) + alphas.reshape(-1, *([1] * start.ndim)) * direction.unsqueeze(0)


def _ig_deprecated_flag(fn):
    """``return_convergence_delta=`` is the old name of ``return_result=``."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "return_convergence_delta" in kwargs:
            warn_renamed("integrated_gradients()", "return_convergence_delta=", "return_result=")
            flag = kwargs.pop("return_convergence_delta")
            kwargs["return_result"] = kwargs.get("return_result", False) or flag
        return fn(*args, **kwargs)

    return wrapper


@_ig_deprecated_flag
def integrated_gradients(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int | None = None,
    return_result: bool = False,
):
    """Integrated Gradients (Sundararajan, Taly and Yan, 2017).

    ``IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c(x' + a (x - x')) / dx_i  da``
    approximated by the quadrature of :func:`integration_nodes`:
    ``IG_i(x) ~ (x_i - x'_i) * sum_k w_k dS_c(x' + a_k (x - x')) / dx_i``.

    Completeness: ``sum_i IG_i(x) = S_c(x) - S_c(x')`` for the exact integral; the
    quadrature leaves a gap that shrinks as ``steps`` grows.

    The ``n * steps`` points on the straight paths are evaluated ``batch_size``
    points per forward/backward pass (captum puts all of them in one batch).

    See the course notebook ``course/09_integrated_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).
    batch_size : int, optional
        Path points per forward/backward pass. Default :func:`path_batch_size`: up to 64
        points, fewer for large inputs (13 for a 3 x 224 x 224 image).
    steps : int
        Number of points ``m`` on each path (>= 2 for the Riemann rules).
    method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "trapezoid"}
        Quadrature rule (see :func:`integration_nodes`); the default is captum's.
    return_result : bool
        Return an :class:`IntegratedGradientsResult` with the completeness gap
        ``|sum_i IG_i(x) - (S_c(x) - S_c(x'))|`` of every row and the model calls
        (the old name ``return_convergence_delta=`` still works, deprecated).

    Returns
    -------
    numpy.ndarray or torch.Tensor, or IntegratedGradientsResult
        The attributions (input's shape and kind), or a
        :class:`IntegratedGradientsResult` holding them with the gap of every row.

    Examples
    --------
    >>> import torch, lime_core
    >>> net = torch.nn.Linear(3, 1)                      # linear: IG is exact
    >>> x = torch.ones(1, 3)
    >>> res = lime_core.integrated_gradients(net, x, target=0, return_result=True)
    >>> float(res.convergence_delta[0]) < 1e-5
    True
    >>> torch.allclose(res.attributions, net.weight * x)
    True
    """
    import torch

    x, was_numpy, targets, _ = _prepare(model, inputs, target, 1)
    if batch_size is None:
        batch_size = path_batch_size(x[0].numel())
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    base = _as_baseline(baseline, x)
    nodes, weights = integration_nodes(steps, method)
    m = len(nodes)
    n = x.shape[0]
    nodes_t = torch.as_tensor(nodes, dtype=x.dtype)
    weights_t = torch.as_tensor(weights, dtype=x.dtype)
    diff = x - base

    # The path points are numbered p = row * m + k. Each chunk of batch_size points
    # is one forward/backward pass; inside it, the points of one row are
    # x'_row + a_k (x_row - x'_row) and their gradients are summed with weights w_k.
    total = torch.zeros_like(x)
    calls = 0
    for start in range(0, n * m, batch_size):
        stop = min(start + batch_size, n * m)
        pieces = []  # (row, slice of k) for every row met in this chunk
        for row in range(start // m, (stop - 1) // m + 1):
            k_from, k_to = max(start - row * m, 0), min(stop - row * m, m)
            pieces.append((row, slice(k_from, k_to)))
        segments = [_path_points(base[row], diff[row], nodes_t[ks]) for row, ks in pieces]
        points = segments[0] if len(segments) == 1 else torch.cat(segments)
        tb = None if targets is None else torch.cat(
            [targets[row].repeat(ks.stop - ks.start) for row, ks in pieces])
        grads = _batch_gradient(model, points, tb).reshape(len(points), -1)
        calls += 1
        offset = 0
        for row, ks in pieces:
            count = ks.stop - ks.start
            # sum_k w_k grad_k as one vector-matrix product
            total[row] += (weights_t[ks] @ grads[offset:offset + count]).reshape(x.shape[1:])
            offset += count
    attributions = total * diff

    if not return_result:
        return _output(attributions, was_numpy)
    ends = _scores(model, torch.cat([x, base]), None if targets is None
                   else torch.cat([targets, targets]), batch_size)
    gap = (attributions.reshape(n, -1).sum(dim=1) - (ends[:n] - ends[n:])).abs()
    return IntegratedGradientsResult(
        attributions=_output(attributions, was_numpy),
        convergence_delta=_output(gap, was_numpy),
        steps=m,
        method=method,
        model_calls=calls + math.ceil(2 * n / batch_size),
    )
