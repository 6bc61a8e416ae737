"""Shapley values: the exact coalition formula, permutation sampling and KernelSHAP.

A *cooperative game* on ``d`` players (for us: features) is a value function
``v`` that gives a number to every coalition ``S`` of players. The Shapley value
of player ``i`` is its marginal contribution ``v(S u {i}) - v(S)`` averaged over
all orders in which the team can be formed::

    phi_i = sum_{S subset of N without i} |S|! (d - |S| - 1)! / d! * [v(S u {i}) - v(S)]

It is the only attribution with four properties (axioms): *efficiency*
(``sum_i phi_i = v(N) - v(empty)``), *symmetry* (interchangeable players get the
same value), *dummy* (a player that never changes ``v`` gets 0) and *linearity*
(``phi(v + w) = phi(v) + phi(w)``).

Value-function convention used everywhere in this module: ``value_fn(masks)``
takes a boolean array of shape ``(m, d)`` (row ``j`` is coalition ``S_j``,
``masks[j, i]`` is True when player ``i`` is in it) and returns the ``m`` values
``v(S_j)`` at once, so a model behind it can be called in batches.

To explain a model prediction ``f(x)`` SHAP uses the game
``v(S) = E_b[f(x_S u b_Sbar)]`` (:func:`marginal_value_fn`), and KernelSHAP
(:func:`kernel_shap`) estimates its Shapley values with a weighted linear
regression instead of the 2^d coalitions.

See the course notebook ``course/10_shapley_shap.ipynb`` and homework ``hw3_shapley``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    RandomState,
    check_array,
    check_callable,
    check_int,
    check_model_output,
    check_random_state,
    select_target,
)
from lime_core.sampling import all_masks

#: The exact formula evaluates 2^d coalitions; above this it is refused.
MAX_EXACT_PLAYERS = 20

ValueFn = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class ShapleyResult:
    """Shapley values of one game (or one prediction).

    Attributes
    ----------
    values : numpy.ndarray, shape (d,)
        ``phi_i`` for every player/feature.
    base_value : float
        ``v(empty)``; for a model explained by :func:`kernel_shap` this is
        ``E_b[f(b)]``, the mean prediction on the background.
    stderr : numpy.ndarray, shape (d,)
        Standard error of each ``phi_i`` (zeros for the exact formula).
    num_coalitions : int
        Number of coalitions whose value was computed (``num_evaluations`` is its
        deprecated name).
    random_state : int, numpy.random.Generator or None
        The seed (or generator) used; ``None`` for deterministic methods.
    num_model_rows : int or None
        Rows passed to the model, when the game is a model (coalitions x baseline rows).
    model_calls : int
        Calls made to the value function, or to the model when the game is a model.
    """

    values: np.ndarray
    base_value: float
    stderr: np.ndarray
    num_coalitions: int
    random_state: Any = None
    num_model_rows: int | None = None
    model_calls: int = 1

    @property
    def num_evaluations(self) -> int:
        """Deprecated name of :attr:`num_coalitions`."""
        warn_renamed("ShapleyResult", "num_evaluations", "num_coalitions")
        return self.num_coalitions

    @property
    def attributions(self) -> np.ndarray:
        """The values ``phi`` (the attribution-map contract: one per feature of ``x``)."""
        return self.values

    @property
    def full_value(self) -> float:
        """``base_value + sum(values)``, which equals ``v(N)`` (efficiency)."""
        return float(self.base_value + np.sum(self.values))


@dataclass
class CoalitionGame:
    """A small cooperative game with known Shapley values, for the course.

    Attributes
    ----------
    name : str
    player_names : tuple of str
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)`` values.
    shapley_values : numpy.ndarray or None
        The Shapley values known in closed form (``None`` if there is no closed form).
    """

    name: str
    player_names: tuple[str, ...]
    value_fn: ValueFn
    shapley_values: np.ndarray | None

    @property
    def d(self) -> int:
        """Number of players."""
        return len(self.player_names)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _check_d(d: Any, maximum: int | None = None) -> int:
    return check_int(d, "d", minimum=1, maximum=maximum)


def _evaluate(value_fn: ValueFn, masks: np.ndarray) -> np.ndarray:
    """Call ``value_fn`` on ``masks`` and check it returned one finite number per row."""
    raw = value_fn(masks)
    try:
        out = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"value_fn must return numbers, one per mask row; got {type(raw).__name__} "
                         f"that numpy cannot read as floats ({err})") from err
    if out.shape == (masks.shape[0], 1):
        out = out[:, 0]
    if out.shape != (masks.shape[0],):
        raise ValueError(
            f"value_fn must return shape ({masks.shape[0]},) for a mask array of shape "
            f"{masks.shape}, got shape {out.shape}"
        )
    if not np.all(np.isfinite(out)):
        raise ValueError("value_fn returned NaN or infinite values")
    return out


def all_coalitions(d: int) -> np.ndarray:
    """All ``2^d`` coalitions as a ``(2^d, d)`` bool array (:func:`lime_core.sampling.all_masks`).

    Row ``k`` is the coalition whose members are the set bits of ``k``
    (player ``i`` is bit ``i``), so row 0 is the empty set and the last row is N.
    """
    return all_masks(d, maximum=MAX_EXACT_PLAYERS)


def shapley_weight(size: Any, d: int) -> np.ndarray:
    """The coalition-formula weight ``|S|! (d - |S| - 1)! / d!`` for coalitions of ``size``.

    Computed with ``lgamma`` so it does not overflow for large ``d``.
    """
    s = np.asarray(size, dtype=float)
    return np.exp(
        np.vectorize(math.lgamma)(s + 1) + np.vectorize(math.lgamma)(d - s) - math.lgamma(d + 1)
    )


def shapley_kernel_weight(size: Any, d: int) -> np.ndarray:
    """The Shapley kernel ``pi(z) = (d - 1) / (C(d, |z|) |z| (d - |z|))``.

    Weighting coalitions ``z`` with ``pi`` in the regression
    ``v(z) ~ phi_0 + sum_i z_i phi_i`` (with the empty and full coalitions
    forced, i.e. weight infinity) gives exactly the Shapley values
    (Lundberg & Lee, 2017). Sizes 0 and ``d`` get ``inf``.

    See the course notebook ``course/10_shapley_shap.ipynb``.
    """
    d = _check_d(d)
    s = np.asarray(size, dtype=float)
    if np.any((s < 0) | (s > d)):
        raise ValueError(f"size must be between 0 and d={d}, got {size}")
    binom = np.vectorize(math.comb)(d, s.astype(int)).astype(float)
    with np.errstate(divide="ignore"):
        return (d - 1) / (binom * s * (d - s))


# --------------------------------------------------------------------------
# exact and permutation Shapley values
# --------------------------------------------------------------------------


def shapley_exact(value_fn: ValueFn, d: int) -> ShapleyResult:
    """Exact Shapley values by the coalition formula.

    ``phi_i = sum_{S not containing i} |S|! (d - |S| - 1)! / d! * [v(S u {i}) - v(S)]``

    ``value_fn`` is called **once** on all ``2^d`` coalitions (a ``(2^d, d)`` bool
    array); every coalition value is then reused by the ``d`` players that need it.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)`` coalition values.
    d : int
        Number of players, ``1 <= d <= 20`` (2^20 coalitions is already a million).

    Returns
    -------
    ShapleyResult
        ``stderr`` is all zeros; ``num_evaluations = 2^d``.
    """
    check_callable(value_fn, "value_fn")
    if isinstance(d, int) and not isinstance(d, bool) and d > MAX_EXACT_PLAYERS:
        raise ValueError(
            f"d must be <= {MAX_EXACT_PLAYERS} for exact Shapley values (2^d coalitions), "
            f"got {d}; use kernel_shap or shapley_permutation instead"
        )
    d = _check_d(d, maximum=MAX_EXACT_PLAYERS)
    masks = all_coalitions(d)
    v = _evaluate(value_fn, masks)
    codes = np.arange(2**d, dtype=np.int64)
    sizes = masks.sum(axis=1)
    weights = shapley_weight(np.arange(d), d)  # weight by |S| = 0 .. d-1
    phi = np.empty(d)
    for i in range(d):
        without_i = codes[(codes >> i) & 1 == 0]  # coalitions S not containing i
        with_i = without_i | (1 << i)  # S u {i}
        phi[i] = np.sum(weights[sizes[without_i]] * (v[with_i] - v[without_i]))
    return ShapleyResult(
        values=phi,
        base_value=float(v[0]),
        stderr=np.zeros(d),
        num_coalitions=int(2**d),
        random_state=None,
    )


@renamed_arguments(old_positional=("value_fn", "d", "num_permutations", "random_state",
                                   "antithetic"))
def shapley_permutation(
    value_fn: ValueFn,
    d: int,
    num_permutations: int = 100,
    *,
    random_state: RandomState = None,
    antithetic: bool = True,
) -> ShapleyResult:
    """Shapley values estimated by averaging marginal contributions over random orders.

    For a random order ``pi`` of the players, player ``i`` contributes
    ``v(Pre_i(pi) u {i}) - v(Pre_i(pi))`` where ``Pre_i(pi)`` are the players before
    ``i``; the Shapley value is the mean of this over all ``d!`` orders, so the
    sample mean over ``num_permutations`` random orders is unbiased.

    With ``antithetic=True`` the orders come in pairs, an order and its reverse
    (a player early in one is late in the other), which lowers the variance.
    The standard error is ``std / sqrt(n)`` over the independent units (pairs of
    orders when antithetic, single orders otherwise).

    ``v(empty)`` and ``v(N)`` are shared by every order, so the cost is
    ``2 + num_permutations * (d - 1)`` coalitions, all evaluated in one call.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)``.
    d : int
        Number of players (>= 1).
    num_permutations : int
        Number of orders (even when ``antithetic``; at least 2 for a standard error).
    random_state : int, numpy.random.Generator or None
    antithetic : bool
        Pair every order with its reverse.

    Returns
    -------
    ShapleyResult

    Examples
    --------
    >>> from lime_core.shapley import football_game
    >>> game = football_game()
    >>> res = shapley_permutation(game.value_fn, game.d, 2, random_state=0)
    >>> res.values.sum(), res.num_coalitions      # efficiency holds order by order
    (90.0, 6)
    """
    check_callable(value_fn, "value_fn")
    d = _check_d(d)
    n = check_int(num_permutations, "num_permutations", minimum=1)
    if antithetic and n % 2:
        raise ValueError(
            f"num_permutations must be even when antithetic=True (orders come in pairs), got {n}"
        )
    rng, recorded = check_random_state(random_state)

    if antithetic:
        half = rng.permuted(np.tile(np.arange(d), (n // 2, 1)), axis=1)
        perms = np.concatenate([half, half[:, ::-1]])  # row j and row j + n/2 are a pair
    else:
        perms = rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)

    # rank[j, i] = position of player i in order j; prefix k holds players of rank < k
    rank = np.argsort(perms, axis=1)
    middle = rank[:, None, :] < np.arange(1, d)[None, :, None]  # (n, d-1, d)
    masks = np.concatenate(
        [np.zeros((1, d), bool), np.ones((1, d), bool), middle.reshape(-1, d)]
    )
    v = _evaluate(value_fn, masks)
    v_prefix = np.empty((n, d + 1))
    v_prefix[:, 0] = v[0]
    v_prefix[:, d] = v[1]
    v_prefix[:, 1:d] = v[2:].reshape(n, d - 1)
    steps = np.diff(v_prefix, axis=1)  # steps[j, k]: contribution of player perms[j, k]
    contrib = np.empty((n, d))
    np.put_along_axis(contrib, perms, steps, axis=1)

    units = (contrib[: n // 2] + contrib[n // 2 :]) / 2 if antithetic else contrib
    values = units.mean(axis=0)
    if units.shape[0] > 1:
        stderr = units.std(axis=0, ddof=1) / np.sqrt(units.shape[0])
    else:
        stderr = np.full(d, np.nan)
    return ShapleyResult(
        values=values,
        base_value=float(v[0]),
        stderr=stderr,
        num_coalitions=int(masks.shape[0]),
        random_state=recorded,
    )


# --------------------------------------------------------------------------
# the SHAP game of a model: v(S) = E_b[f(x_S u b_Sbar)]
# --------------------------------------------------------------------------


class MarginalValueFunction:
    """``v(S) = E_b[f(x_S u b_Sbar)]`` as a vectorised value function (see :func:`marginal_value_fn`).

    Attributes ``model_calls`` and ``num_model_rows`` count the work done.
    """

    def __init__(self, model: Callable, x: np.ndarray, baseline: np.ndarray,
                 target: int | None, batch_size: int):
        self.model = model
        self.x = x
        self.baseline = baseline
        self.target = target
        self.batch_size = batch_size
        self.model_calls = 0
        self.num_model_rows = 0

    @property
    def num_model_calls(self) -> int:
        """Deprecated name of ``model_calls``."""
        warn_renamed("MarginalValueFunction", "num_model_calls", "model_calls")
        return self.model_calls

    @property
    def background(self) -> np.ndarray:
        """Deprecated name of ``baseline``."""
        warn_renamed("MarginalValueFunction", "background", "baseline")
        return self.baseline

    @property
    def f(self) -> Callable:
        """Deprecated name of ``model``."""
        warn_renamed("MarginalValueFunction", "f", "model")
        return self.model

    @property
    def d(self) -> int:
        return self.x.shape[0]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The model's score for ``target`` on ``rows`` (one call), shape ``(n,)``."""
        out = check_model_output(self.model(rows), rows.shape[0], name="model")
        self.model_calls += 1
        self.num_model_rows += rows.shape[0]
        return select_target(out, self.target)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks)
        if masks.ndim != 2 or masks.shape[1] != self.d:
            raise ValueError(f"masks must have shape (m, {self.d}), got shape {masks.shape}")
        masks = masks.astype(bool)
        n_bg = self.baseline.shape[0]
        chunk = max(1, self.batch_size // n_bg)  # coalitions per model call
        values = np.empty(masks.shape[0])
        for start in range(0, masks.shape[0], chunk):
            m = masks[start : start + chunk]
            # hybrid rows: x where the coalition is on, the background row elsewhere
            hybrid = np.where(m[:, None, :], self.x[None, None, :], self.baseline[None, :, :])
            scores = self.predict(hybrid.reshape(-1, self.d))
            values[start : start + chunk] = scores.reshape(m.shape[0], n_bg).mean(axis=1)
        return values


def _check_x_baseline(x: Any, baseline: Any) -> tuple[np.ndarray, np.ndarray]:
    x = check_array(x, "x", ndim=1)
    if x.shape[0] == 0:
        raise ValueError("x must have at least one feature, got shape (0,)")
    baseline = check_array(baseline, "baseline", ndim=(1, 2))
    if baseline.ndim == 1:
        baseline = baseline[None, :]
    if baseline.shape[0] == 0:
        raise ValueError("baseline must have at least one row, got an empty array")
    if baseline.shape[1] != x.shape[0]:
        raise ValueError(
            f"baseline must have {x.shape[0]} columns like x, got shape {baseline.shape}"
        )
    return x, baseline


@renamed_arguments({"f": "model", "background": "baseline"})
def marginal_value_fn(
    model: Callable,
    x: Any,
    baseline: Any,
    *,
    target: int | None = None,
    batch_size: int = 10_000,
) -> MarginalValueFunction:
    """The SHAP game of one prediction: ``v(S) = E_b[f(x_S u b_Sbar)]``.

    The features in ``S`` keep the values of ``x``; the others are filled in from
    each background row ``b`` and the model outputs are averaged over the
    background. The exact SHAP definition conditions on ``x_S``,
    ``v(S) = E[f(X) | X_S = x_S]``; replacing the conditional distribution by the
    marginal one is **the independence assumption of SHAP** (features assumed
    independent), which is what KernelSHAP and shap's KernelExplainer compute.
    ``v(empty) = E_b[f(b)]`` and ``v(N) = f(x)``.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    model : callable
        ``model(rows (n, d)) -> (n,)`` or ``(n, k)`` numpy scores.
    x : array-like, shape (d,)
        The instance explained.
    baseline : array-like, shape (B, d) or (d,)
        Rows standing for "feature absent" (shap's background: a sample of the
        training data; ``background=`` is the deprecated keyword).
    target : int or None
        Output column explained when ``f`` returns ``(n, k)`` with ``k > 1``.
    batch_size : int
        Maximum rows per model call; ``m`` coalitions need ``m * B`` rows.

    Returns
    -------
    MarginalValueFunction
        Call it on an ``(m, d)`` bool mask array; it counts ``model_calls`` and
        ``num_model_rows``.
    """
    check_callable(model, "model")
    x, baseline = _check_x_baseline(x, baseline)
    if target is not None:
        target = check_int(target, "target", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    return MarginalValueFunction(model, x, baseline, target, batch_size)


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


# --------------------------------------------------------------------------
# toy games for the course
# --------------------------------------------------------------------------


def game_from_table(table: Any, player_names: Any) -> ValueFn:
    """A value function that looks coalition values up in a table.

    ``table[k]`` is ``v(S)`` for the coalition whose members are the set bits of
    ``k`` (player ``i`` is bit ``i``), the same order as :func:`all_coalitions`.
    """
    names = tuple(str(n) for n in player_names)
    d = len(names)
    if d == 0:
        raise ValueError("player_names must name at least one player, got none")
    table = check_array(table, "table", ndim=1)
    if table.shape[0] != 2**d:
        raise ValueError(
            f"table must have 2^d = {2**d} entries for {d} players, got {table.shape[0]}"
        )
    bits = 1 << np.arange(d, dtype=np.int64)

    def value_fn(masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        if masks.ndim != 2 or masks.shape[1] != d:
            raise ValueError(f"masks must have shape (m, {d}), got shape {masks.shape}")
        return table[masks.astype(np.int64) @ bits]

    return value_fn


def football_game() -> CoalitionGame:
    """The football-team game from the lecture: how much does Messi bring to the team?

    Three players, Messi, Xavi and Iniesta; ``v(S)`` is the number of goals the
    coalition ``S`` scores in a season (made-up numbers, chosen to give round
    Shapley values):

    ============================  =====
    coalition                     goals
    ============================  =====
    nobody                        0
    Messi                         30
    Xavi                          12
    Iniesta                       12
    Messi + Xavi                  60
    Messi + Iniesta               60
    Xavi + Iniesta                30
    Messi + Xavi + Iniesta        90
    ============================  =====

    Shapley values: Messi 46, Xavi 22, Iniesta 22 (sum 90 = v(N), efficiency;
    Xavi and Iniesta are interchangeable, symmetry). For Messi:
    ``1/3 * 30 + 1/6 * (60 - 12) + 1/6 * (60 - 12) + 1/3 * (90 - 30) = 46``.

    See the course notebook ``course/10_shapley_shap.ipynb``.
    """
    names = ("Messi", "Xavi", "Iniesta")
    # index = bits (Messi=1, Xavi=2, Iniesta=4)
    table = np.array([0, 30, 12, 60, 12, 60, 30, 90], dtype=float)
    return CoalitionGame("football team", names, game_from_table(table, names),
                         np.array([46.0, 22.0, 22.0]))


def glove_game(n_left: int = 1, n_right: int = 2) -> CoalitionGame:
    """The glove game: ``v(S) = min(#left gloves in S, #right gloves in S)`` (pairs made).

    Players ``0 .. n_left-1`` hold a left glove, the others a right glove.
    Known closed forms (``shapley_values``; ``None`` in other cases):

    * ``n_left == n_right``: everyone gets ``1/2`` (symmetry and efficiency).
    * one scarce glove (``n_left = 1 < n_right = r``): the single left glove gets
      ``r / (r + 1)`` and each right glove ``1 / (r (r + 1))``; symmetrically when the
      right glove is the scarce one. With ``r = 2``: ``2/3, 1/6, 1/6``.

    See the course notebook ``course/10_shapley_shap.ipynb``.
    """
    n_left = check_int(n_left, "n_left", minimum=1)
    n_right = check_int(n_right, "n_right", minimum=1)
    d = n_left + n_right
    names = tuple([f"left{j}" for j in range(n_left)] + [f"right{j}" for j in range(n_right)])
    is_left = np.arange(d) < n_left

    def value_fn(masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        if masks.ndim != 2 or masks.shape[1] != d:
            raise ValueError(f"masks must have shape (m, {d}), got shape {masks.shape}")
        return np.minimum(masks[:, is_left].sum(axis=1),
                          masks[:, ~is_left].sum(axis=1)).astype(float)

    known: np.ndarray | None = None
    if n_left == n_right:
        known = np.full(d, 0.5)
    elif min(n_left, n_right) == 1:
        r = max(n_left, n_right)
        scarce, plenty = r / (r + 1), 1 / (r * (r + 1))
        known = np.where(is_left == (n_left == 1), scarce, plenty)
    return CoalitionGame(f"glove game ({n_left} left, {n_right} right)", names, value_fn, known)


@renamed_arguments({"background": "baseline"})
def linear_game(weights: Any, x: Any, baseline: Any, intercept: float = 0.0) -> CoalitionGame:
    """The SHAP game of a linear model ``f(z) = w . z + b``.

    With the marginal game ``v(S) = E_b[f(x_S u b_Sbar)]`` the Shapley values are
    ``phi_i = w_i (x_i - E[b_i])`` (the mean over the background rows): each
    feature's term of the model changes only when that feature joins.

    See the course notebook ``course/10_shapley_shap.ipynb``.
    """
    w = check_array(weights, "weights", ndim=1)
    x, background = _check_x_baseline(x, baseline)
    if w.shape != x.shape:
        raise ValueError(f"weights must have shape {x.shape} like x, got shape {w.shape}")

    def model(rows: np.ndarray) -> np.ndarray:
        return rows @ w + intercept

    names = tuple(f"x{i}" for i in range(x.shape[0]))
    game = marginal_value_fn(model, x, background)
    return CoalitionGame("linear model", names, game, w * (x - background.mean(axis=0)))
