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
# Gauss-Legendre nodes: up to this many, numpy's ``leggauss`` (captum's own call, so both
# libraries use the same numbers). It finds the nodes as eigenvalues of an m x m matrix:
# O(m^2) memory and O(m^3) time (11 s at m = 1,000; 74.5 GiB asked for at m = 10^5).
GAUSS_LEGENDRE_EIGEN_MAX = 100
# Above it, the asymptotic expansion below (O(m) time and memory), polished by one Newton
# step on the three-term recurrence (O(m^2) time) up to this many nodes. Above this the
# expansion alone is accurate to < 3e-14 (its error falls like m^-4).
GAUSS_LEGENDRE_NEWTON_MAX = 1000
# More points than this on one path is a typo, not a request: the nodes alone would take
# more than 160 MB (a million steps already give float32 gradients nothing to gain).
MAX_STEPS = 10**7


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
        steps = check_int(steps, "steps", minimum=1, maximum=MAX_STEPS)
        if steps <= GAUSS_LEGENDRE_EIGEN_MAX:
            t, v = np.polynomial.legendre.leggauss(steps)
            return 0.5 * (1.0 + t), 0.5 * v
        return _gauss_legendre_unit(steps)
    steps = check_int(steps, "steps", minimum=2, maximum=MAX_STEPS)
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


def _gauss_legendre_angles(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Angles ``theta_k`` (nodes ``t_k = cos theta_k``) and weights ``v_k`` of the
    ``m``-point Gauss-Legendre rule on ``[-1, 1]``, for ``k = 1..ceil(m/2)`` (the nodes
    in ``(0, 1]``, from 1 inwards; the others are their mirror images ``-t_k``).

    With ``nu = m + 1/2``, ``j_k`` the k-th zero of the Bessel function ``J_0`` and
    ``alpha_k = j_k / nu`` (Frenzen and Wong 1985; Bogaert 2014):

    * ``theta_k = alpha_k + (alpha_k cot alpha_k - 1) / (8 alpha_k nu^2) + O(nu^-4)``
    * ``v_k = 2 sin(alpha_k) / (nu j_k J_1(j_k)^2)
      * (1 - (alpha_k^2 + alpha_k cot alpha_k - 1) / (8 alpha_k^2 nu^2)) + O(nu^-4)``

    O(m) time and memory. Against 30-digit values the errors are below 5e-13 at
    ``m = 500``, 3e-14 at ``m = 1000``, 1e-15 at ``m = 3000`` (nodes and relative
    weights). For ``m <= GAUSS_LEGENDRE_NEWTON_MAX`` one Newton step on
    ``P_m(t) = 0`` (three-term recurrence) brings both to rounding level.
    """
    from scipy.special import j1, jn_zeros

    half = (m + 1) // 2
    nu = m + 0.5
    j = jn_zeros(0, half)
    alpha = j / nu
    cot = np.cos(alpha) / np.sin(alpha)
    theta = alpha + (alpha * cot - 1.0) / (8.0 * alpha * nu**2)
    weights = (2.0 * np.sin(alpha) / (nu * j * j1(j) ** 2)
               * (1.0 - (alpha**2 + alpha * cot - 1.0) / (8.0 * alpha**2 * nu**2)))
    if m % 2:
        theta[-1] = 0.5 * np.pi  # the middle node is exactly t = 0
    if m <= GAUSS_LEGENDRE_NEWTON_MAX:
        theta, weights = _newton_polish(m, theta)
    return theta, weights


def _newton_polish(m: int, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Newton step ``t <- t - P_m(t) / P_m'(t)`` and the weights
    ``v = 2 / ((1 - t^2) P_m'(t)^2)``, with ``P_m`` from the recurrence
    ``(k + 1) P_{k+1} = (2k + 1) t P_k - k P_{k-1}`` (O(m) per node)."""

    def legendre(t):
        before, p = np.ones_like(t), t.copy()
        for k in range(1, m):
            before, p = p, ((2 * k + 1) * t * p - k * before) / (k + 1)
        return p, m * (t * p - before) / (t * t - 1.0)  # P_m(t), P_m'(t)

    t = np.cos(theta)
    p, dp = legendre(t)
    t = t - p / dp
    if m % 2:
        t[-1] = 0.0
    _, dp = legendre(t)
    return np.arccos(t), 2.0 / ((1.0 - t * t) * dp * dp)


def _gauss_legendre_unit(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``m``-point Gauss-Legendre rule mapped to ``[0, 1]``, nodes ascending:
    ``a = (1 + t)/2``, ``w = v/2``; ``(1 - cos theta)/2 = sin^2(theta/2)`` keeps the
    nodes next to 0 accurate."""
    theta, v = _gauss_legendre_angles(m)
    low = np.sin(0.5 * theta) ** 2        # mirror images -t_k, ascending
    high = np.cos(0.5 * theta[::-1]) ** 2  # t_k, ascending
    if m % 2:  # the middle node appears once
        high = high[1:]
        return np.concatenate([low, high]), 0.5 * np.concatenate([v, v[::-1][1:]])
    return np.concatenate([low, high]), 0.5 * np.concatenate([v, v[::-1]])


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
        Number of points ``m`` on each path (>= 2 for the Riemann rules, at most
        ``MAX_STEPS`` = 10^7). Memory does not grow with ``steps`` beyond the nodes
        (``O(m)``); time grows as ``n * steps / batch_size`` passes.
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
