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

One idea per module: ``games`` (results, value functions, the SHAP game of a model,
the course's toy games), ``exact`` (the coalition formula and permutation sampling),
``kernel`` (KernelSHAP).
"""

from lime_core.shapley.exact import (  # noqa: F401
    all_coalitions,
    shapley_exact,
    shapley_permutation,
    shapley_weight,
)
from lime_core.shapley.games import (  # noqa: F401
    MAX_EXACT_PLAYERS,
    CoalitionGame,
    MarginalValueFunction,
    ShapleyResult,
    ValueFn,
    _check_d,
    _check_x_baseline,
    _evaluate,
    football_game,
    game_from_table,
    glove_game,
    linear_game,
    marginal_value_fn,
)
from lime_core.shapley.kernel import (  # noqa: F401
    MAX_KERNEL_PLAYERS,
    _choose_coalitions,
    _constrained_wls,
    _size_masses,
    _subsets_of_size,
    kernel_shap,
    kernel_shap_game,
    shapley_kernel_weight,
)

__all__ = [
    "ShapleyResult", "CoalitionGame", "MarginalValueFunction", "all_coalitions",
    "shapley_weight", "shapley_kernel_weight", "shapley_exact", "shapley_permutation",
    "marginal_value_fn", "kernel_shap_game", "kernel_shap", "game_from_table",
    "football_game", "glove_game", "linear_game",
]
