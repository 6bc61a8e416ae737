"""Cooperative games: results, value functions on masks, the SHAP game of a model, toy games.

See the course notebook ``course/10_shapley_shap.ipynb`` and homework ``hw3_shapley``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    check_array,
    check_callable,
    check_int,
    check_model_output,
    select_target,
)

#: The exact formula evaluates 2^d coalitions; above this it is refused.
MAX_EXACT_PLAYERS = 20

#: Largest block of model input (bytes of float64) built at once; bounds memory for huge d.
MAX_BATCH_BYTES = 2**25

#: Most cells (coalitions x players) a sampler holds: masks take one byte a cell.
MAX_MASK_CELLS = 2**28
# a glove game names every player: a million on each side is plenty for a lesson
MAX_GLOVE_PLAYERS = 10**6

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
        ``phi_i`` for every player/feature. :func:`kernel_shap` returns them shaped
        like its ``x`` (``(d,)`` or ``(n, d)``), with a last axis of ``k`` outputs when
        it explains all outputs of a model at once (``(d, k)`` or ``(n, d, k)``, as shap).
    base_value : float or numpy.ndarray
        ``v(empty)``; for a model explained by :func:`kernel_shap` this is
        ``E_b[f(b)]``, the mean prediction on the background (through the ``link``),
        an array ``(k,)`` when all ``k`` outputs are explained.
    stderr : numpy.ndarray, shape like ``values``
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
    num_rows : int or None
        ``None`` when one row ``x`` of shape ``(d,)`` was explained; else the number of
        rows ``n`` of an ``x`` of shape ``(n, d)`` (the first axis of ``values``).
    link : str
        ``"identity"`` or ``"logit"``: the scale on which ``v`` and the values add up.
    """

    values: np.ndarray
    base_value: Any
    stderr: np.ndarray
    num_coalitions: int
    random_state: Any = None
    num_model_rows: int | None = None
    model_calls: int = 1
    num_rows: int | None = None
    link: str = "identity"

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
    def full_value(self) -> Any:
        """``base_value + sum_i values_i``, which equals ``v(N)`` (efficiency).

        A float for one row and one output; an array ``(n,)``, ``(k,)`` or ``(n, k)``
        when several rows or outputs were explained.
        """
        feature_axis = 0 if self.num_rows is None else 1
        total = np.asarray(self.base_value) + np.sum(self.values, axis=feature_axis)
        return float(total) if total.ndim == 0 else total


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

    def predict_all(self, rows: np.ndarray) -> np.ndarray:
        """All the model's outputs on ``rows`` (one call), shape ``(n, k)``, checked."""
        out = check_model_output(self.model(rows), rows.shape[0], name="model")
        if out.shape[1] == 0:
            raise ValueError(f"model must return at least one output per row, got shape "
                             f"{out.shape}")
        self.model_calls += 1
        self.num_model_rows += rows.shape[0]
        return out

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The model's score for ``target`` on ``rows`` (one call), shape ``(n,)``."""
        return select_target(self.predict_all(rows), self.target)

    def coalitions_per_call(self) -> int:
        """Coalitions per model call: ``batch_size`` rows, and at most ``MAX_BATCH_BYTES``."""
        rows = min(self.batch_size, max(1, MAX_BATCH_BYTES // (8 * self.d)))
        return max(1, rows // self.baseline.shape[0])

    def outputs(self, masks: np.ndarray) -> np.ndarray:
        """``E_b[f(x_S u b_Sbar)]`` for every output of the model: shape ``(m, k)``."""
        masks = np.asarray(masks)
        if masks.ndim != 2 or masks.shape[1] != self.d:
            raise ValueError(f"masks must have shape (m, {self.d}), got shape {masks.shape}")
        masks = masks.astype(bool)
        n_bg = self.baseline.shape[0]
        chunk = self.coalitions_per_call()
        values: np.ndarray | None = None
        for start in range(0, masks.shape[0], chunk):
            m = masks[start : start + chunk]
            # hybrid rows: x where the coalition is on, the background row elsewhere
            hybrid = np.where(m[:, None, :], self.x[None, None, :], self.baseline[None, :, :])
            scores = self.predict_all(hybrid.reshape(-1, self.d))
            if values is None:
                values = np.empty((masks.shape[0], scores.shape[1]))
            elif scores.shape[1] != values.shape[1]:
                raise ValueError(f"model must return the same number of outputs on every "
                                 f"call, got {values.shape[1]} and then {scores.shape[1]}")
            values[start : start + chunk] = scores.reshape(m.shape[0], n_bg, -1).mean(axis=1)
        return values if values is not None else np.empty((0, 1))

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        out = self.outputs(masks)
        return select_target(out, self.target) if out.shape[0] else np.empty(0)


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

    Returns
    -------
    CoalitionGame
        With ``shapley_values = [46, 22, 22]``.

    Examples
    --------
    >>> from lime_core.shapley import shapley_exact
    >>> game = football_game()
    >>> shapley_exact(game.value_fn, game.d).values.round(9).tolist()
    [46.0, 22.0, 22.0]
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

    Parameters
    ----------
    n_left, n_right : int
        Players holding a left / a right glove (>= 1 each).

    Returns
    -------
    CoalitionGame
    """
    n_left = check_int(n_left, "n_left", minimum=1, maximum=MAX_GLOVE_PLAYERS)
    n_right = check_int(n_right, "n_right", minimum=1, maximum=MAX_GLOVE_PLAYERS)
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

    Parameters
    ----------
    weights : array-like, shape ``(d,)``
        ``w``.
    x : array-like, shape ``(d,)``
        The instance explained.
    baseline : array-like, shape ``(B, d)`` or ``(d,)``
        The rows standing for absent features (was ``background``).
    intercept : float
        ``b``.

    Returns
    -------
    CoalitionGame
        With ``shapley_values = w * (x - mean(baseline))``.
    """
    try:
        intercept = float(intercept)
    except (TypeError, ValueError):
        raise TypeError(f"intercept must be a real number, got {type(intercept).__name__} "
                        f"{intercept!r:.60}") from None
    if not np.isfinite(intercept):
        raise ValueError(f"intercept must be finite, got {intercept}")
    w = check_array(weights, "weights", ndim=1)
    x, background = _check_x_baseline(x, baseline)
    if w.shape != x.shape:
        raise ValueError(f"weights must have shape {x.shape} like x, got shape {w.shape}")

    def model(rows: np.ndarray) -> np.ndarray:
        return rows @ w + intercept

    names = tuple(f"x{i}" for i in range(x.shape[0]))
    game = marginal_value_fn(model, x, background)
    return CoalitionGame("linear model", names, game, w * (x - background.mean(axis=0)))
