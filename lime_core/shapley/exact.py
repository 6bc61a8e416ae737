"""Exact Shapley values (the coalition formula) and permutation sampling.

See the course notebook ``course/10_shapley_shap.ipynb``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    check_array,
    check_callable,
    check_int,
    check_random_state,
)
from lime_core.sampling import all_masks
from lime_core.shapley.games import (
    MAX_BATCH_BYTES,
    MAX_EXACT_PLAYERS,
    MAX_MASK_CELLS,
    ShapleyResult,
    ValueFn,
    _check_d,
    _evaluate,
)


def all_coalitions(d: int) -> np.ndarray:
    """All ``2^d`` coalitions as a ``(2^d, d)`` bool array (:func:`lime_core.sampling.all_masks`).

    Row ``k`` is the coalition whose members are the set bits of ``k``
    (player ``i`` is bit ``i``), so row 0 is the empty set and the last row is N.
    """
    return all_masks(d, maximum=MAX_EXACT_PLAYERS)


def shapley_weight(size: Any, d: int) -> np.ndarray:
    """The coalition-formula weight ``|S|! (d - |S| - 1)! / d!`` for coalitions of ``size``.

    Computed with ``lgamma`` so it does not overflow for large ``d`` (a weight below
    the smallest float is 0).

    Parameters
    ----------
    size : int or array of int
        Coalition sizes ``|S|`` of coalitions without the player, ``0 <= |S| <= d - 1``.
    d : int
        Number of players (>= 1).
    """
    d = _check_d(d)
    s = check_array(size, "size")
    if s.dtype.kind not in "iuf" or np.any(s != np.round(s)):
        raise ValueError(f"size must hold whole numbers (coalition sizes), got {size!r}")
    if np.any((s < 0) | (s > d - 1)):
        raise ValueError(f"size must be between 0 and d - 1 = {d - 1}, got {size}")
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return np.exp(lgamma(s + 1) + lgamma(d - s) - math.lgamma(d + 1))

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
    orders when antithetic, single orders otherwise). With ``d <= 2`` players a pair
    holds every order, so antithetic sampling is exact and its standard error 0.

    ``v(empty)`` and ``v(N)`` are shared by every order, so the cost is
    ``2 + num_permutations * (d - 1)`` coalitions, all evaluated in one call (in blocks
    of at most 32 MiB of masks when ``num_permutations * d * d`` is larger).

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks (m, d) bool) -> (m,)``.
    d : int
        Number of players (>= 1).
    num_permutations : int
        Number of orders (even when ``antithetic``; at least 2 for a standard error;
        ``num_permutations * d <= 2^23`` so the orders fit in bounded memory).
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
    >>> float(res.values.sum()), res.num_coalitions    # efficiency holds order by order
    (90.0, 6)
    """
    check_callable(value_fn, "value_fn")
    d = _check_d(d)
    n = check_int(num_permutations, "num_permutations", minimum=1)
    if antithetic and n % 2:
        raise ValueError(
            f"num_permutations must be even when antithetic=True (orders come in pairs), got {n}"
        )
    if n * d > MAX_MASK_CELLS // 32:  # orders, ranks, values, contributions: n * d * 8 bytes each
        raise ValueError(f"num_permutations must be <= {MAX_MASK_CELLS // 32 // d} for d={d} "
                         f"(the orders take num_permutations * d * 8 bytes), got {n}")
    rng, recorded = check_random_state(random_state)

    if antithetic:
        half = rng.permuted(np.tile(np.arange(d), (n // 2, 1)), axis=1)
        perms = np.concatenate([half, half[:, ::-1]])  # row j and row j + n/2 are a pair
    else:
        perms = rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)

    # rank[j, i] = position of player i in order j; prefix k holds players of rank < k
    rank = np.argsort(perms, axis=1)
    ends = np.array([[False] * d, [True] * d])
    num_rows = n * (d - 1)
    per_call = max(1, MAX_BATCH_BYTES // (8 * d))  # mask rows per value_fn call
    if num_rows + 2 <= per_call:  # one call, as the docstring says
        middle = rank[:, None, :] < np.arange(1, d)[None, :, None]  # (n, d-1, d)
        v = _evaluate(value_fn, np.concatenate([ends, middle.reshape(-1, d)]))
        calls = 1
    else:  # huge n * d * d: the prefixes are built and evaluated a block at a time
        v = np.empty(num_rows + 2)
        v[:2] = _evaluate(value_fn, ends)
        calls = 1
        for start in range(0, num_rows, per_call):
            row = np.arange(start, min(start + per_call, num_rows))
            order, k = row // (d - 1), row % (d - 1) + 1
            v[2 + start : 2 + start + row.size] = _evaluate(value_fn, rank[order] < k[:, None])
            calls += 1
    v_prefix = np.empty((n, d + 1))
    v_prefix[:, 0] = v[0]
    v_prefix[:, d] = v[1]
    v_prefix[:, 1:d] = v[2:].reshape(n, d - 1)
    steps = np.diff(v_prefix, axis=1)  # steps[j, k]: contribution of player perms[j, k]
    contrib = np.empty((n, d))
    np.put_along_axis(contrib, perms, steps, axis=1)

    units = (contrib[: n // 2] + contrib[n // 2 :]) / 2 if antithetic else contrib
    values = units.mean(axis=0)
    if antithetic and d <= 2:
        # an order and its reverse are all d! <= 2 orders: every pair is the exact value
        stderr = np.zeros(d)
    elif units.shape[0] > 1:
        stderr = units.std(axis=0, ddof=1) / np.sqrt(units.shape[0])
    else:
        stderr = np.full(d, np.nan)
    return ShapleyResult(
        values=values,
        base_value=float(v[0]),
        stderr=stderr,
        num_coalitions=int(num_rows + 2),
        random_state=recorded,
        model_calls=calls,
    )
