"""KernelSHAP: Shapley values from a Shapley-kernel weighted regression.

See the course notebook ``course/10_shapley_shap.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    check_callable,
    check_int,
    check_random_state,
)
from lime_core.shapley.games import (
    ShapleyResult,
    ValueFn,
    _check_d,
    _evaluate,
    marginal_value_fn,
)


def shapley_kernel_weight(size: Any, d: int) -> np.ndarray:
    """The Shapley kernel ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``.

    Weighting coalitions ``z`` with ``pi`` in the regression
    ``v(z) ~ phi_0 + sum_i z_i phi_i`` (with the empty and full coalitions
    forced, i.e. weight infinity) gives exactly the Shapley values
    (Lundberg & Lee, 2017). Sizes 0 and ``d`` get ``inf``.

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
    """
    d = _check_d(d)
    s = np.asarray(size, dtype=float)
    if np.any((s < 0) | (s > d)):
        raise ValueError(f"size must be between 0 and d={d}, got {size}")
    binom = np.vectorize(math.comb)(d, s.astype(int)).astype(float)
    with np.errstate(divide="ignore"):
        return (d - 1) / (binom * s * (d - s))


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
    import itertools

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

    sampled: dict[bytes, int] = {}
    sampled_rows: list[np.ndarray] = []
    counts: list[int] = []
    draws: list[tuple[int, int]] = []
    if left > 0 and first_sampled <= d // 2:
        probs = masses[first_sampled - 1 :] / weight_left
        half_sizes = np.arange(first_sampled, d // 2 + 1)
        max_draws = 40 * budget + 100
        n_draws = 0
        while left > 0 and n_draws < max_draws:
            block = max(16, left)
            hs = rng.choice(half_sizes, size=block, p=probs)
            order_rank = np.argsort(rng.random((block, d)), axis=1)
            members = order_rank < hs[:, None]  # a uniform random coalition of size h
            for row in members:
                pair = []
                for z in (row, ~row):
                    key = z.tobytes()
                    idx = sampled.get(key)
                    if idx is None:
                        if left == 0:
                            pair.append(-1)
                            continue
                        idx = len(sampled_rows)
                        sampled[key] = idx
                        sampled_rows.append(z)
                        counts.append(0)
                        left -= 1
                    counts[idx] += 1
                    pair.append(idx)
                draws.append((pair[0], pair[1]))
                n_draws += 1
                if left == 0 or n_draws >= max_draws:
                    break
    n_enum = enum_masks.shape[0]
    sampled_masks = np.array(sampled_rows, dtype=bool).reshape(-1, d)
    sampled_w = np.asarray(counts, dtype=float)
    if sampled_w.size:
        sampled_w *= weight_left / sampled_w.sum()
    draws_arr = np.asarray(draws, dtype=np.int64).reshape(-1, 2)
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


def _reduced_problem(masks: np.ndarray, y: np.ndarray, v_empty: float,
                     v_full: float) -> tuple[np.ndarray, np.ndarray]:
    """Design and target of the regression with the efficiency constraint eliminated.

    ``phi_d = (v_full - v_empty) - sum_{j<d} phi_j``, so
    ``y - v_empty - z_d (v_full - v_empty) ~ sum_{j<d} (z_j - z_d) phi_j``.
    """
    z = masks.astype(float)
    target = y - v_empty - z[:, -1] * (v_full - v_empty)
    return z[:, :-1] - z[:, -1:], target


def _solve_normal_equations(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``gram @ beta = rhs`` (stacked), falling back to least squares if singular."""
    try:
        return np.linalg.solve(gram, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.lstsq(g, r, rcond=None)[0]
                         for g, r in zip(gram.reshape(-1, *gram.shape[-2:]),
                                         rhs.reshape(-1, rhs.shape[-1]), strict=True)]
                        ).reshape(rhs.shape)


def _constrained_wls(masks: np.ndarray, y: np.ndarray, weights: np.ndarray,
                     v_empty: float, v_full: float) -> np.ndarray:
    """Weighted least squares ``y ~ v_empty + masks @ phi`` with ``sum(phi) = v_full - v_empty``.

    Efficiency is enforced exactly by eliminating the last coefficient
    (:func:`_reduced_problem`); the remaining ``d - 1`` coefficients solve the
    weighted normal equations ``X^T W X beta = X^T W t``. ``weights`` may be a
    stack ``(r, m)`` of weight vectors (bootstrap replicates): then ``(r, d)`` comes back.
    When the budget is too small to determine every coefficient, the solution
    closest to the equal split ``(v_full - v_empty) / d`` is returned.
    """
    gap = v_full - v_empty
    w = np.asarray(weights, dtype=float)
    if masks.shape[1] == 1:
        return np.full(w.shape[:-1] + (1,), gap)
    design, target = _reduced_problem(masks, y, v_empty, v_full)
    weighted = w[..., :, None] * design  # rows of X scaled by their weights
    gram = np.swapaxes(weighted, -1, -2) @ design
    rhs = (w * target) @ design
    # solve for the deviation from the equal split gap / d: identical when the system is
    # regular; with fewer coalitions than features the smallest deviation is returned
    equal = np.full(design.shape[1], gap / masks.shape[1])
    coef = equal + _solve_normal_equations(gram, rhs - gram @ equal)
    return np.concatenate([coef, gap - coef.sum(axis=-1, keepdims=True)], axis=-1)


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

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)``.
    d : int
        Number of players (>= 1).
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

    if d == 1 or budget == 0:
        v = _evaluate(value_fn, np.array([[False] * d, [True] * d]))
        values = np.array([v[1] - v[0]]) if d == 1 else np.full(d, (v[1] - v[0]) / d)
        return ShapleyResult(values, float(v[0]), np.zeros(d), 2, recorded)

    plan = _choose_coalitions(d, budget, rng)
    ends = np.array([[False] * d, [True] * d])
    v_all = _evaluate(value_fn, np.concatenate([ends, plan.masks]))
    v_empty, v_full, y = float(v_all[0]), float(v_all[1]), v_all[2:]
    values = _constrained_wls(plan.masks, y, plan.weights, v_empty, v_full)

    stderr = np.zeros(d)
    n_draws = plan.draws.shape[0]
    if n_draws > 1:
        n_enum = plan.num_enumerated
        n_sampled = plan.masks.shape[0] - n_enum
        picks = plan.draws[rng.integers(0, n_draws, size=(num_bootstrap, n_draws))]
        picks = picks.reshape(num_bootstrap, -1)
        boot_w = np.tile(plan.weights, (num_bootstrap, 1))
        for b in range(num_bootstrap):
            counts = np.bincount(picks[b][picks[b] >= 0], minlength=n_sampled).astype(float)
            boot_w[b, n_enum:] = counts * (plan.weight_left / counts.sum())
        boots = _constrained_wls(plan.masks, y, boot_w, v_empty, v_full)
        stderr = boots.std(axis=0, ddof=1)
    return ShapleyResult(
        values=values,
        base_value=v_empty,
        stderr=stderr,
        num_coalitions=int(plan.masks.shape[0] + 2),
        random_state=recorded,
    )


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
) -> ShapleyResult:
    """KernelSHAP explanation of the prediction ``f(x)`` (Lundberg & Lee, 2017).

    The game is ``v(S) = E_b[f(x_S u b_Sbar)]`` over the ``baseline`` rows
    (:func:`marginal_value_fn`, which assumes independent features). The Shapley
    values are the solution of the weighted regression

    ``min_phi sum_z pi(z) [v(z) - phi_0 - sum_i z_i phi_i]^2``,
    ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``,

    with ``phi_0 = v(empty) = E_b[f(b)]`` and ``sum_i phi_i = f(x) - phi_0``
    enforced exactly. The budget ``num_samples`` counts coalitions, like shap's
    ``nsamples``: sizes 1 and d-1, then 2 and d-2, ... are enumerated completely while
    the budget allows; the rest is sampled in complement pairs (a coalition and
    its complement), and every coalition is evaluated on the whole background,
    so the model sees ``(num_samples + 2) * B`` rows, in batches of ``batch_size``.
    The standard errors come from a bootstrap over the sampled pairs
    (see :func:`kernel_shap_game`).

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    model : callable
        ``model(rows (n, d)) -> (n,)`` or ``(n, k)`` numpy scores.
    x : array-like, shape (d,)
    baseline : array-like, shape (B, d) or (d,)
        The rows that stand for absent features (shap's background; ``background=``
        is the deprecated keyword).
    num_samples : int
        Coalitions evaluated besides the empty and full ones (capped at ``2^d - 2``).
    random_state : int, numpy.random.Generator or None
    target : int or None
        Output column explained when ``f`` returns several.
    batch_size : int
        Maximum rows per model call.
    num_bootstrap : int
        Bootstrap replicates for ``stderr``.

    Returns
    -------
    ShapleyResult
        ``values`` (phi), ``base_value`` (E_b f(b)), ``stderr``, ``num_coalitions``,
        ``model_calls`` and ``num_model_rows``.

    Examples
    --------
    >>> import numpy as np, lime_core
    >>> w = np.array([2.0, -1.0, 0.5])
    >>> res = lime_core.kernel_shap(lambda rows: rows @ w, np.ones(3), np.zeros((5, 3)),
    ...                             random_state=0)
    >>> np.round(res.values, 6).tolist(), res.base_value
    ([2.0, -1.0, 0.5], 0.0)
    """
    game = marginal_value_fn(model, x, baseline, target=target, batch_size=batch_size)
    result = kernel_shap_game(game, game.d, num_samples, random_state=random_state,
                              num_bootstrap=num_bootstrap)
    result.num_model_rows = game.num_model_rows
    result.model_calls = game.model_calls
    return result
