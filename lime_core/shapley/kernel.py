"""KernelSHAP: Shapley values from a Shapley-kernel weighted regression.

See the course notebook ``course/10_shapley_shap.ipynb``.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_random_state,
    select_target,
)
from lime_core.shapley.games import (
    MAX_BATCH_BYTES,
    MAX_MASK_CELLS,
    MarginalValueFunction,
    ShapleyResult,
    ValueFn,
    _check_d,
    _check_x_baseline,
    _evaluate,
    marginal_value_fn,  # noqa: F401 (was importable from here)
)

#: Most players KernelSHAP takes: the regression is a ``(d-1) x (d-1)`` system and the
#: bootstrap keeps at least 16 of them (16 * 8 * 1023^2 bytes = 128 MiB).
MAX_KERNEL_PLAYERS = 1024
#: Up to this many players the kernel weight is computed with exact integers.
_EXACT_WEIGHT_PLAYERS = 1024
#: Memory for the bootstrap's per-group sufficient statistics (``X^T X`` and ``X^T t``).
_BOOTSTRAP_BYTES = 2**27
#: Most groups of draws the bootstrap resamples.
_MAX_GROUPS = 256


def _log_binom(n: Any, k: Any) -> np.ndarray:
    """``log C(n, k)`` with ``lgamma`` (no overflow for any ``n``)."""
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return lgamma(np.asarray(n, float) + 1) - lgamma(np.asarray(k, float) + 1) \
        - lgamma(np.asarray(n, float) - np.asarray(k, float) + 1)


def shapley_kernel_weight(size: Any, d: int) -> np.ndarray:
    """The Shapley kernel ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``.

    Weighting coalitions ``z`` with ``pi`` in the regression
    ``v(z) ~ phi_0 + sum_i z_i phi_i`` (with the empty and full coalitions
    forced, i.e. weight infinity) gives exactly the Shapley values
    (Lundberg & Lee, 2017). Sizes 0 and ``d`` get ``inf``.

    ``C(d, |z|)`` overflows a float from ``d`` about 1030, so the weight is never
    computed with a float binomial: up to ``d = 1024`` with Python's exact integers and
    one correctly rounded division, above in log space,
    ``log pi = log(d - 1) - log C(d, |z|) - log |z| - log(d - |z|)`` with
    ``log C(n, k) = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)``; a weight below
    the smallest float comes back as 0, never as NaN or an ``OverflowError``.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    size : int or array of int
        Coalition sizes ``|z|``, ``0 <= |z| <= d``.
    d : int
        Number of players.

    Returns
    -------
    numpy.ndarray
        ``inf`` for sizes 0 and ``d``.

    Examples
    --------
    >>> shapley_kernel_weight([1, 2], 3).tolist()
    [0.3333333333333333, 0.3333333333333333]
    >>> float(shapley_kernel_weight(1000, 2000))   # C(2000, 1000) ~ 1e600 does not overflow
    0.0
    """
    d = _check_d(d)
    s = check_array(size, "size")
    if s.dtype.kind not in "iuf" or np.any(s != np.round(s)):
        raise ValueError(f"size must hold whole numbers (coalition sizes), got {size!r}")
    if np.any((s < 0) | (s > d)):
        raise ValueError(f"size must be between 0 and d={d}, got {size}")
    out = np.full(s.shape, np.inf)
    inner = (s > 0) & (s < d)
    if not np.any(inner):  # (d = 1 has no sizes strictly between 0 and d)
        return out[()] if out.ndim == 0 else out
    k = s[inner]
    if d <= _EXACT_WEIGHT_PLAYERS:  # Python integers: exact, then one correctly rounded division
        out[inner] = [(d - 1) / (math.comb(d, int(j)) * int(j) * (d - int(j))) for j in k]
    else:
        out[inner] = np.exp(math.log(d - 1) - _log_binom(d, k) - np.log(k) - np.log(d - k))
    return out[()] if out.ndim == 0 else out


# --------------------------------------------------------------------------
# KernelSHAP
# --------------------------------------------------------------------------


@dataclass
class _CoalitionSample:
    """The coalitions chosen by KernelSHAP and their regression weights."""

    masks: np.ndarray  # (m, d) bool, enumerated first, then sampled
    weights: np.ndarray  # (m,) regression weights
    num_enumerated: int  # masks[:num_enumerated] are whole sizes, fixed weights
    draws: np.ndarray  # (n_draws, 2) indices into masks of each sampled pair (-1: none)
    weight_left: float  # kernel mass given to the sampled part


def _size_masses(d: int) -> np.ndarray:
    """Kernel mass of the half-size ``h`` (sizes ``h`` and ``d - h`` together), ``h = 1..d//2``.

    All ``C(d, s)`` coalitions of size ``s`` together weigh
    ``C(d, s) * pi(s) = (d - 1) / (s (d - s))``.
    """
    h = np.arange(1, d // 2 + 1)
    mass = (d - 1) / (h * (d - h))
    return np.where(h == d - h, mass, 2 * mass)


def _subsets_of_size(d: int, s: int) -> np.ndarray:
    """All coalitions of exactly ``s`` players, as a bool array ``(C(d, s), d)``."""
    rows = np.zeros((math.comb(d, s), d), dtype=bool)
    for j, members in enumerate(itertools.combinations(range(d), s)):
        rows[j, list(members)] = True
    return rows


def _choose_coalitions(d: int, budget: int, rng: np.random.Generator) -> _CoalitionSample:
    """Pick ``budget`` coalitions (no empty, no full) and their weights.

    1. Whole sizes are enumerated from the outside in (sizes 1 and d-1, then
       2 and d-2, ...) while the budget left, shared out in proportion to the
       kernel mass, can pay for every coalition of that size.
    2. The rest of the budget is filled with random coalitions: a half-size ``h``
       is drawn with probability proportional to its kernel mass, then a uniform
       random coalition of size ``h`` *and its complement* (paired sampling).
       Repeated coalitions are evaluated once and counted twice. Their weights are
       proportional to these counts, scaled to the kernel mass left.
    """
    masses = _size_masses(d)
    enumerated: list[np.ndarray] = []
    enum_weights: list[np.ndarray] = []
    left = budget
    h = 1
    while h <= d // 2:
        sizes = (h,) if h == d - h else (h, d - h)
        n_here = sum(math.comb(d, s) for s in sizes)
        share = masses[h - 1] / masses[h - 1 :].sum()  # this size's share of the mass left
        if left * share < n_here - 1e-8:
            break
        for s in sizes:
            enumerated.append(_subsets_of_size(d, s))
            enum_weights.append(np.full(math.comb(d, s), float(shapley_kernel_weight(s, d))))
        left -= n_here
        h += 1
    first_sampled = h
    enum_masks = np.concatenate(enumerated) if enumerated else np.zeros((0, d), bool)
    enum_w = np.concatenate(enum_weights) if enum_weights else np.zeros(0)
    # enumerated coalitions weigh pi(z) each; the sampled ones share the mass of the other sizes
    weight_left = float(masses[first_sampled - 1 :].sum()) if first_sampled <= d // 2 else 0.0

    # sampled coalitions are kept as packed bits (d / 8 bytes each): the dict key and the row
    index: dict[bytes, int] = {}
    keys: list[bytes] = []
    counts: list[int] = []
    firsts, seconds = array("q"), array("q")  # the two members of each draw (-1: none)
    if left > 0 and first_sampled <= d // 2:
        probs = masses[first_sampled - 1 :] / weight_left
        half_sizes = np.arange(first_sampled, d // 2 + 1)
        max_draws = 40 * budget + 100
        max_block = max(16, MAX_BATCH_BYTES // (8 * d))  # bounds the (block, d) random array
        n_draws = 0
        while left > 0 and n_draws < max_draws:
            block = min(max(16, left), max_block)
            hs = rng.choice(half_sizes, size=block, p=probs)
            order_rank = np.argsort(rng.random((block, d)), axis=1)
            members = order_rank < hs[:, None]  # a uniform random coalition of size h
            packed, packed_complement = np.packbits(members, axis=1), np.packbits(~members, axis=1)
            for row, complement in zip(packed, packed_complement, strict=True):
                pair = []
                for key in (row.tobytes(), complement.tobytes()):
                    idx = index.get(key)
                    if idx is None:
                        if left == 0:
                            pair.append(-1)
                            continue
                        idx = len(keys)
                        index[key] = idx
                        keys.append(key)
                        counts.append(0)
                        left -= 1
                    counts[idx] += 1
                    pair.append(idx)
                firsts.append(pair[0])
                seconds.append(pair[1])
                n_draws += 1
                if left == 0 or n_draws >= max_draws:
                    break
    del index
    n_enum = enum_masks.shape[0]
    if keys:
        packed_rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), -1)
        sampled_masks = np.unpackbits(packed_rows, axis=1, count=d).astype(bool)
    else:
        sampled_masks = np.zeros((0, d), dtype=bool)
    sampled_w = np.asarray(counts, dtype=float)
    if sampled_w.size:
        sampled_w *= weight_left / sampled_w.sum()
    draws_arr = np.column_stack([np.frombuffer(firsts, dtype=np.int64),
                                 np.frombuffer(seconds, dtype=np.int64)]).reshape(-1, 2)
    # all coalitions enumerated: the regression is exact, report no sampled mass
    if not sampled_w.size:
        weight_left = 0.0
    return _CoalitionSample(
        masks=np.concatenate([enum_masks, sampled_masks]),
        weights=np.concatenate([enum_w, sampled_w]),
        num_enumerated=n_enum,
        draws=draws_arr,
        weight_left=weight_left,
    )


# --------------------------------------------------------------------------
# the regression, streamed: only X^T W X and X^T W t are ever held
# --------------------------------------------------------------------------


def _reduced_problem(masks: np.ndarray, y: np.ndarray, v_empty: Any,
                     v_full: Any) -> tuple[np.ndarray, np.ndarray]:
    """Design and target of the regression with the efficiency constraint eliminated.

    ``phi_d = (v_full - v_empty) - sum_{j<d} phi_j``, so
    ``y - v_empty - z_d (v_full - v_empty) ~ sum_{j<d} (z_j - z_d) phi_j``.
    ``y`` is ``(m,)`` (one output) or ``(m, k)`` with ``v_empty``, ``v_full`` of shape ``(k,)``.
    """
    z = masks.astype(float)
    gap = np.asarray(v_full, dtype=float) - np.asarray(v_empty, dtype=float)
    z_last = z[:, -1] if np.ndim(y) == 1 else z[:, -1:]
    target = y - v_empty - z_last * gap
    return z[:, :-1] - z[:, -1:], target


def _rows_per_chunk(d: int) -> int:
    """Rows of the float design built at once (about ``MAX_BATCH_BYTES / 4``)."""
    return max(1, MAX_BATCH_BYTES // (32 * d))


def _normal_equations(masks: np.ndarray, y: np.ndarray, weights: np.ndarray, v_empty: Any,
                      v_full: Any) -> tuple[np.ndarray, np.ndarray]:
    """``X^T W X`` and ``X^T W t`` of the reduced problem (:func:`_reduced_problem`).

    Summed over chunks of rows, so the float design ``(m, d - 1)`` is never built whole.
    ``y`` is ``(m, k)``; returns ``(d - 1, d - 1)`` and ``(d - 1, k)``.
    """
    p = masks.shape[1] - 1
    gram = np.zeros((p, p))
    rhs = np.zeros((p, y.shape[1]))
    step = _rows_per_chunk(masks.shape[1])
    for start in range(0, masks.shape[0], step):
        rows = slice(start, start + step)
        design, target = _reduced_problem(masks[rows], y[rows], v_empty, v_full)
        weighted = weights[rows, None] * design
        gram += weighted.T @ design
        rhs += design.T @ (weights[rows, None] * target)
    return gram, rhs


def _pair_statistics(masks: np.ndarray, y: np.ndarray, draws: np.ndarray, v_empty: Any,
                     v_full: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """``sum X^T X``, ``sum X^T t`` and the count over the coalitions of ``draws`` (unit weights).

    A draw is a coalition ``z`` (index ``draws[j, 0]`` into ``masks``) and its complement
    (``draws[j, 1]``, ``-1`` when the budget ran out first). In the reduced design the
    complement's row is exactly ``-x`` (``(1 - z_j) - (1 - z_d) = -(z_j - z_d)``), so a pair
    adds ``2 x x^T`` to the Gram matrix and ``x (t_z - t_zbar)`` to the right-hand side:
    half the arithmetic of treating the two rows apart.
    """
    p = masks.shape[1] - 1
    gram = np.zeros((p, p))
    rhs = np.zeros((p, y.shape[1]))
    count = 0
    step = _rows_per_chunk(masks.shape[1])
    for start in range(0, draws.shape[0], step):
        first, second = draws[start : start + step, 0], draws[start : start + step, 1]
        design, target = _reduced_problem(masks[first], y[first], v_empty, v_full)
        present = second >= 0
        if np.any(present):
            _, target_complement = _reduced_problem(masks[second[present]], y[second[present]],
                                                    v_empty, v_full)
            target[present] -= target_complement
        members = 1.0 + present
        gram += (members[:, None] * design).T @ design
        rhs += design.T @ target
        count += int(members.sum())
    return gram, rhs, count


def _pseudo_solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Minimum-norm solution of ``gram @ beta = rhs`` for symmetric PSD ``gram`` (stacked).

    ``gram = V diag(lam) V^T``; eigenvalues below ``p * eps * lam_max`` count as 0, so a
    direction no coalition measured gets no value instead of noise divided by rounding.
    """
    lam, vecs = np.linalg.eigh(gram)
    cutoff = gram.shape[-1] * np.finfo(float).eps * lam[..., -1:]
    inverse = np.where(lam > cutoff, 1.0 / np.where(lam > cutoff, lam, 1.0), 0.0)
    return vecs @ (inverse[..., :, None] * (np.swapaxes(vecs, -1, -2) @ rhs))


#: Below this ratio of the smallest to the largest squared Cholesky pivot a solve is not
#: trusted (``cond(gram)`` is at least the inverse of that ratio).
_MIN_PIVOT_RATIO = 1e-10


def _solve_normal_equations(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``gram @ beta = rhs`` (stacked ``(..., p, p)`` and ``(..., p, k)``), safely.

    Each symmetric system is solved directly when its Cholesky factor exists and its
    pivots do not betray a near-singular matrix (smallest / largest squared pivot above
    ``1e-10``). A bootstrap replicate (or a budget with repeated coalitions) can leave a
    direction unmeasured, a singular ``gram`` where a plain solve returns rounding noise
    blown up to any size: then the minimum-norm solution is used (:func:`_pseudo_solve`,
    an eigendecomposition) up to ``p = 300``, and above, where that costs many solves,
    its ridge limit ``(gram + 1e-10 tr(gram) / p I)^-1 rhs``.
    """
    p = gram.shape[-1]
    flat_g, flat_r = gram.reshape(-1, p, p), rhs.reshape(-1, p, rhs.shape[-1])
    out = np.empty(flat_r.shape)
    for j, (g, r) in enumerate(zip(flat_g, flat_r, strict=True)):
        try:
            pivots = np.diagonal(np.linalg.cholesky(g)) ** 2
            if pivots.min() > _MIN_PIVOT_RATIO * pivots.max():
                out[j] = np.linalg.solve(g, r)
                continue
        except np.linalg.LinAlgError:
            pass
        if p <= 300:
            out[j] = _pseudo_solve(g, r)
        else:
            ridge = g + (1e-10 * max(np.trace(g), 1e-300) / p) * np.eye(p)
            out[j] = np.linalg.solve(ridge, r)
    return out.reshape(rhs.shape)


def _complete(deviation: np.ndarray, gap: np.ndarray, d: int) -> np.ndarray:
    """``phi`` from the deviation of its first ``d - 1`` entries from the equal split ``gap / d``.

    ``deviation`` is ``(..., d - 1, k)``; the last value is ``gap - sum(others)`` (efficiency).
    """
    coef = gap / d + deviation
    return np.concatenate([coef, gap - coef.sum(axis=-2, keepdims=True)], axis=-2)


def _constrained_wls(masks: np.ndarray, y: np.ndarray, weights: np.ndarray,
                     v_empty: float, v_full: float) -> np.ndarray:
    """Weighted least squares ``y ~ v_empty + masks @ phi`` with ``sum(phi) = v_full - v_empty``.

    Efficiency is enforced exactly by eliminating the last coefficient
    (:func:`_reduced_problem`); the remaining ``d - 1`` coefficients solve the
    weighted normal equations ``X^T W X beta = X^T W t``. ``weights`` may be a
    stack ``(r, m)`` of weight vectors: then ``(r, d)`` comes back (one at a time,
    so memory stays ``O(m d)``). When the budget is too small to determine every
    coefficient, the solution closest to the equal split ``(v_full - v_empty) / d``
    is returned.
    """
    gap = np.array([float(v_full) - float(v_empty)])
    w = np.asarray(weights, dtype=float)
    d = masks.shape[1]
    y2 = np.asarray(y, dtype=float).reshape(-1, 1)
    out = []
    for row in w.reshape(-1, w.shape[-1]):
        if d == 1:
            out.append(gap.copy())
            continue
        gram, rhs = _normal_equations(masks, y2, row, v_empty, v_full)
        equal = np.full((d - 1, 1), gap[0] / d)
        deviation = _solve_normal_equations(gram, rhs - gram @ equal)
        out.append(_complete(deviation, gap, d)[:, 0])
    return np.stack(out).reshape(w.shape[:-1] + (d,))


def _fit(plan: _CoalitionSample, y: np.ndarray, v_empty: np.ndarray, v_full: np.ndarray,
         num_bootstrap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """KernelSHAP values and bootstrap standard errors, both ``(d, k)``, from computed values.

    ``y`` ``(m, k)`` are the values of ``plan.masks``; ``v_empty``, ``v_full`` ``(k,)``.

    The regression is held as sufficient statistics: the enumerated coalitions give
    ``G_e = X_e^T W_e X_e`` and ``r_e = X_e^T W_e t_e``; the sampled draws (a coalition and
    its complement) are cut into ``K`` consecutive groups, and group ``g`` gives
    ``G_g = sum X^T X``, ``r_g = sum X^T t`` and ``c_g`` (coalitions it holds, repeats
    counted). The fit is ``G = G_e + s sum_g G_g``, ``s = weight_left / sum_g c_g`` (the
    sampled weights are proportional to the counts). A bootstrap replicate draws ``K``
    groups with replacement, ``n_g`` times each, and solves with
    ``G_e + s_b sum_g n_g G_g``, ``s_b = weight_left / sum_g n_g c_g``: no replicate ever
    holds more than ``d x d`` numbers. With at most ``_MAX_GROUPS`` draws each draw is its
    own group (the plain bootstrap over draws); otherwise ``K`` groups of i.i.d. draws are
    i.i.d. units, and their bootstrap estimates the same variance.
    """
    d = plan.masks.shape[1]
    k = y.shape[1]
    gap = v_full - v_empty
    if d == 1:
        return gap[None, :].copy(), np.zeros((1, k))
    p = d - 1
    if plan.masks.shape[0] < p:
        return _fit_underdetermined(plan, y, v_empty, v_full, num_bootstrap, rng)
    n_enum = plan.num_enumerated
    equal = np.broadcast_to(gap / d, (p, k))
    g_enum, r_enum = _normal_equations(plan.masks[:n_enum], y[:n_enum], plan.weights[:n_enum],
                                       v_empty, v_full)
    n_draws = plan.draws.shape[0]
    n_groups = min(n_draws, _MAX_GROUPS, max(16, _BOOTSTRAP_BYTES // (8 * p * (p + k))))
    g_groups = np.zeros((n_groups, p, p))
    r_groups = np.zeros((n_groups, p, k))
    c_groups = np.zeros(n_groups)
    sampled, y_sampled = plan.masks[n_enum:], y[n_enum:]
    for g, draws in enumerate(np.array_split(plan.draws, n_groups) if n_groups else []):
        g_groups[g], r_groups[g], c_groups[g] = _pair_statistics(sampled, y_sampled, draws,
                                                                 v_empty, v_full)
    gram, rhs = g_enum, r_enum
    if n_groups:
        scale = plan.weight_left / c_groups.sum()
        gram = g_enum + scale * g_groups.sum(axis=0)
        rhs = r_enum + scale * r_groups.sum(axis=0)
    deviation = _solve_normal_equations(gram, rhs - gram @ equal)
    values = _complete(deviation, gap, d)

    stderr = np.zeros((d, k))
    if n_draws > 1:
        picks = rng.integers(0, n_groups, size=(num_bootstrap, n_groups))
        times = np.stack([np.bincount(row, minlength=n_groups) for row in picks]).astype(float)
        boots = []
        per_chunk = max(1, MAX_BATCH_BYTES // (8 * p * (p + k)))
        for start in range(0, num_bootstrap, per_chunk):
            n_b = times[start : start + per_chunk]
            scale_b = (plan.weight_left / (n_b @ c_groups))[:, None, None]
            gram_b = g_enum + scale_b * np.tensordot(n_b, g_groups, axes=1)
            rhs_b = r_enum + scale_b * np.tensordot(n_b, r_groups, axes=1)
            dev_b = _solve_normal_equations(gram_b, rhs_b - gram_b @ equal)
            boots.append(_complete(dev_b, gap, d))
        stderr = np.concatenate(boots).std(axis=0, ddof=1)
    return values, stderr


def _fit_underdetermined(plan: _CoalitionSample, y: np.ndarray, v_empty: np.ndarray,
                         v_full: np.ndarray, num_bootstrap: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_fit` with fewer coalitions ``m`` than unknowns ``d - 1``: the closest solution.

    The regression cannot pin every value down; the solution whose deviation ``delta`` from
    the equal split ``gap / d`` is smallest is ``delta = A^+ b = A^T (A A^T)^+ b`` with
    ``A = W^(1/2) X`` and ``b = W^(1/2) (t - X gap / d)``, so only the ``m x m`` matrix
    ``X X^T`` is needed (never ``(d-1) x (d-1)``). The bootstrap reweights the draws
    as in :func:`_fit` (each draw its own unit).
    """
    d = plan.masks.shape[1]
    gap = v_full - v_empty
    design, target = _reduced_problem(plan.masks, y, v_empty, v_full)  # (m, d-1), (m, k)
    residual = target - design @ np.broadcast_to(gap / d, (d - 1, gap.shape[0]))
    kernel = design @ design.T  # X X^T, (m, m)

    def closest(weights: np.ndarray) -> np.ndarray:
        root = np.sqrt(weights)[:, None]
        alpha = np.linalg.pinv(root * kernel * root.T) @ (root * residual)
        return _complete(design.T @ (root * alpha), gap, d)

    values = closest(plan.weights)
    stderr = np.zeros_like(values)
    n_draws, n_enum = plan.draws.shape[0], plan.num_enumerated
    if n_draws > 1:
        n_sampled = plan.masks.shape[0] - n_enum
        picks = plan.draws[rng.integers(0, n_draws, size=(num_bootstrap, n_draws))]
        boots = []
        for row in picks.reshape(num_bootstrap, -1):
            counts = np.bincount(row[row >= 0], minlength=n_sampled).astype(float)
            weights = plan.weights.copy()
            weights[n_enum:] = counts * (plan.weight_left / counts.sum())
            boots.append(closest(weights))
        stderr = np.stack(boots).std(axis=0, ddof=1)
    return values, stderr


def _check_size(d: int, budget: int) -> None:
    """Refuse problems whose regression or masks would not fit in bounded memory."""
    if d > MAX_KERNEL_PLAYERS:
        raise ValueError(
            f"d must be <= {MAX_KERNEL_PLAYERS} for KernelSHAP (its regression is a "
            f"(d-1) x (d-1) system, kept for every bootstrap group), got d={d}; group the "
            "features (superpixels, words, column groups) or use shapley_permutation")
    if budget * d > MAX_MASK_CELLS:
        raise ValueError(
            f"num_samples must be <= {MAX_MASK_CELLS // d} for d={d} (the masks take "
            f"num_samples * d bytes, at most {MAX_MASK_CELLS}), got {budget}")


@renamed_arguments(old_positional=("value_fn", "d", "num_samples", "random_state"))
def kernel_shap_game(
    value_fn: ValueFn,
    d: int,
    num_samples: int = 1000,
    *,
    random_state: RandomState = None,
    num_bootstrap: int = 100,
) -> ShapleyResult:
    """KernelSHAP on any game: Shapley values from a Shapley-kernel weighted regression.

    Solves ``min_phi sum_z pi(z) [v(z) - v(empty) - sum_i z_i phi_i]^2`` subject to
    ``sum_i phi_i = v(N) - v(empty)`` (efficiency, enforced exactly), with
    ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``. Over all ``2^d - 2``
    coalitions the solution *is* the Shapley value; KernelSHAP uses ``num_samples``
    of them: whole sizes enumerated from the outside in while the budget allows,
    the rest sampled with their complements (see :func:`kernel_shap`).

    Standard errors: a bootstrap over the sampled coalition pairs (the enumerated
    sizes are fixed), resampling the draws with replacement ``num_bootstrap`` times
    with the same seeded generator and re-solving the regression with the already
    computed values (no new model calls). Zero when every coalition is enumerated.
    Beyond 256 draws they are resampled in 256 groups of consecutive draws (fewer
    for ``d`` above about 256, at least 16), so memory stays bounded: the regression
    is kept as ``X^T W X`` and ``X^T W y`` sums, never as a replicates x coalitions x
    features array.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)``.
    d : int
        Number of players (``1 <= d <= MAX_KERNEL_PLAYERS = 1024``).
    num_samples : int
        Budget of coalitions besides the empty and full ones (like shap's ``nsamples``);
        capped at ``2^d - 2``.
    random_state : int, numpy.random.Generator or None
    num_bootstrap : int
        Bootstrap replicates for the standard errors (>= 2).

    Returns
    -------
    ShapleyResult
    """
    check_callable(value_fn, "value_fn")
    d = _check_d(d)
    budget = check_int(num_samples, "num_samples", minimum=1)
    num_bootstrap = check_int(num_bootstrap, "num_bootstrap", minimum=2)
    rng, recorded = check_random_state(random_state)
    if d <= 62:
        budget = min(budget, 2**d - 2)
    _check_size(d, budget)

    plan = _choose_coalitions(d, budget, rng)
    ends = np.array([[False] * d, [True] * d])
    v_all = _evaluate(value_fn, np.concatenate([ends, plan.masks]))[:, None]
    values, stderr = _fit(plan, v_all[2:], v_all[0], v_all[1], num_bootstrap, rng)
    return ShapleyResult(
        values=values[:, 0],
        base_value=float(v_all[0, 0]),
        stderr=stderr[:, 0],
        num_coalitions=int(plan.masks.shape[0] + 2),
        random_state=recorded,
    )


def _apply_link(v: np.ndarray, link: str) -> np.ndarray:
    """``link(v)``: the identity, or ``logit(v) = log(v / (1 - v))`` for probabilities."""
    if link == "identity":
        return v
    bad = (v <= 0) | (v >= 1)
    if np.any(bad):
        raise ValueError(
            f"link='logit' needs model outputs strictly between 0 and 1 (probabilities); the "
            f"mean output over the baseline reached {v[bad].flat[0]!r}; use link='identity'")
    return np.log(v) - np.log1p(-v)


def _check_rows(x: Any) -> tuple[np.ndarray, bool]:
    """``x`` as ``(n, d)`` rows, and whether it was one row of shape ``(d,)``."""
    rows = check_array(x, "x", ndim=(1, 2))
    one_row = rows.ndim == 1
    rows = rows[None, :] if one_row else rows
    if rows.shape[0] == 0:
        raise ValueError(f"x must have at least one row, got shape {rows.shape}")
    if rows.shape[1] == 0:
        raise ValueError(f"x must have at least one feature, got shape {np.shape(x)}")
    return rows, one_row


@renamed_arguments({"f": "model", "background": "baseline"},
                   old_positional=("model", "x", "baseline", "num_samples", "random_state"))
def kernel_shap(
    model: Callable,
    x: Any,
    baseline: Any,
    num_samples: int = 1000,
    *,
    random_state: RandomState = None,
    target: int | None = None,
    batch_size: int = 10_000,
    num_bootstrap: int = 100,
    link: str = "identity",
) -> ShapleyResult:
    """KernelSHAP explanation of the prediction ``f(x)`` (Lundberg & Lee, 2017).

    The game is ``v(S) = link(E_b[f(x_S u b_Sbar)])`` over the ``baseline`` rows
    (:func:`marginal_value_fn`, which assumes independent features). The Shapley
    values are the solution of the weighted regression

    ``min_phi sum_z pi(z) [v(z) - phi_0 - sum_i z_i phi_i]^2``,
    ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``,

    with ``phi_0 = v(empty) = link(E_b[f(b)])`` and ``sum_i phi_i = link(f(x)) - phi_0``
    enforced exactly. The budget ``num_samples`` counts coalitions, like shap's
    ``nsamples``: sizes 1 and d-1, then 2 and d-2, ... are enumerated completely while
    the budget allows; the rest is sampled in complement pairs (a coalition and
    its complement), and every coalition is evaluated on the whole background,
    so the model sees ``(num_samples + 2) * B`` rows, in batches of ``batch_size``.
    The standard errors come from a bootstrap over the sampled pairs
    (see :func:`kernel_shap_game`); memory stays bounded in ``num_samples``.

    Like shap's ``KernelExplainer``: ``x`` may be a matrix of rows ``(n, d)`` (each row
    gets its own coalitions, drawn in turn from one generator); with ``target=None``
    a model with ``k > 1`` outputs (``predict_proba``) has all of them explained at once
    on the same coalitions; ``link="logit"`` explains log-odds.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    model : callable
        ``model(rows (n, d)) -> (n,)`` or ``(n, k)`` numpy scores.
    x : array-like, shape (d,) or (n, d)
        One row, or ``n`` rows explained one after the other (``(1, d)`` is one row,
        and its values come back shaped ``(1, d)``).
    baseline : array-like, shape (B, d) or (d,)
        The rows that stand for absent features (shap's background; ``background=``
        is the deprecated keyword).
    num_samples : int
        Coalitions evaluated besides the empty and full ones, per row (capped at
        ``2^d - 2``).
    random_state : int, numpy.random.Generator or None
    target : int or None
        Output column explained; ``None`` explains the only output, or all ``k``
        outputs of a model that returns several (as shap does).
    batch_size : int
        Maximum rows per model call (fewer when one batch would pass 32 MiB).
    num_bootstrap : int
        Bootstrap replicates for ``stderr``.
    link : {"identity", "logit"}
        Scale on which the values add up (shap's ``link``): ``"logit"`` explains
        ``log(p / (1 - p))`` of probabilities ``p`` strictly between 0 and 1.

    Returns
    -------
    ShapleyResult
        ``values`` (phi) and ``stderr`` shaped like ``x``, with a last axis of ``k`` when
        all ``k > 1`` outputs are explained (``(d,)``, ``(d, k)``, ``(n, d)`` or
        ``(n, d, k)``, as shap's ``shap_values``); ``base_value`` (``link(E_b f(b))``,
        ``(k,)`` for all outputs; shap's ``expected_value``), ``num_coalitions`` (summed
        over rows), ``model_calls``, ``num_model_rows``, ``num_rows`` and ``link``.

    Examples
    --------
    >>> import numpy as np, lime_core
    >>> w = np.array([2.0, -1.0, 0.5])
    >>> res = lime_core.kernel_shap(lambda rows: rows @ w, np.ones(3), np.zeros((5, 3)),
    ...                             random_state=0)
    >>> np.round(res.values, 6).tolist(), res.base_value
    ([2.0, -1.0, 0.5], 0.0)
    >>> two = lime_core.kernel_shap(lambda rows: rows @ w, np.eye(3)[:2], np.zeros((5, 3)),
    ...                             random_state=0)
    >>> np.round(two.values, 6).tolist()
    [[2.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
    """
    check_callable(model, "model")
    rows, one_row = _check_rows(x)
    _, baseline = _check_x_baseline(rows[0], baseline)
    if target is not None:
        target = check_int(target, "target", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    budget = check_int(num_samples, "num_samples", minimum=1)
    num_bootstrap = check_int(num_bootstrap, "num_bootstrap", minimum=2)
    link = check_choice(link, "link", ("identity", "logit"))
    rng, recorded = check_random_state(random_state)
    d = rows.shape[1]
    if d <= 62:
        budget = min(budget, 2**d - 2)
    _check_size(d, budget)

    values, stderr = [], []
    v_empty: np.ndarray | None = None
    model_calls = num_model_rows = num_coalitions = 0
    for row in rows:
        game = MarginalValueFunction(model, row, baseline, target, batch_size)
        plan = _choose_coalitions(d, budget, rng)
        ends = np.array([[False] * d, [True] * d]) if v_empty is None else np.ones((1, d), bool)
        out = game.outputs(np.concatenate([ends, plan.masks]))  # (m, k): every output
        if target is not None:
            out = select_target(out, target)[:, None]
        if v_empty is not None and out.shape[1] != v_empty.shape[0]:
            raise ValueError(f"model must return the same number of outputs on every call, "
                             f"got {v_empty.shape[0]} and then {out.shape[1]}")
        out = _apply_link(out, link)
        if v_empty is None:
            v_empty, out = out[0], out[1:]
        phi, err = _fit(plan, out[1:], v_empty, out[0], num_bootstrap, rng)
        values.append(phi)
        stderr.append(err)
        model_calls += game.model_calls
        num_model_rows += game.num_model_rows
        num_coalitions += plan.masks.shape[0] + 2
    assert v_empty is not None
    all_values, all_stderr = np.stack(values), np.stack(stderr)  # (n, d, k)
    if not np.all(np.isfinite(all_values)):
        raise ValueError("the Shapley values overflow float64: the model's outputs on x and "
                         "baseline rows differ by more than a float can hold; rescale x, "
                         "baseline or the model's outputs")
    base: Any = v_empty
    if v_empty.shape[0] == 1:  # one output explained: no output axis, a float base value
        all_values, all_stderr, base = all_values[..., 0], all_stderr[..., 0], float(v_empty[0])
    if one_row:
        all_values, all_stderr = all_values[0], all_stderr[0]
    return ShapleyResult(
        values=all_values,
        base_value=base,
        stderr=all_stderr,
        num_coalitions=int(num_coalitions),
        random_state=recorded,
        num_model_rows=int(num_model_rows),
        model_calls=int(model_calls),
        num_rows=None if one_row else rows.shape[0],
        link=link,
    )
