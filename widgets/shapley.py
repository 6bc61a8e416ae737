"""Shapley values as averaged marginal contributions (``course/10_shapley_shap.ipynb``).

Each frame draws one random order of the players; every player contributes what
the coalition gains when it joins, ``v(Pre_i(pi) u {i}) - v(Pre_i(pi))``, and its
running mean over the orders drawn so far converges to its Shapley value (dashed).
A second panel compares the error of three estimators as the budget of coalition
evaluations grows: the exact formula (2^d evaluations), permutation sampling
(:func:`lime_core.shapley.shapley_permutation`) and KernelSHAP
(:func:`lime_core.shapley.kernel_shap_game`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lime_core._validation import check_callable, check_int, check_random_state
from widgets._base import AnimatedWidget, CountingModel, choice


def builtin_games() -> dict[str, Any]:
    """The games of the dropdown, by name (from :mod:`lime_core.shapley`)."""
    from lime_core.shapley import football_game, glove_game

    return {"football team": football_game(), "glove game 1+2": glove_game(1, 2),
            "glove game 2+5": glove_game(2, 5)}


class ShapleyExplorer(AnimatedWidget):
    """Marginal contributions accumulating into Shapley values, one order per frame.

    ``phi_i = E_pi[v(Pre_i(pi) u {i}) - v(Pre_i(pi))]`` over uniformly random orders
    ``pi``; after ``t`` orders the estimate is the mean of ``t`` contributions. The
    orders are drawn as :func:`lime_core.shapley.shapley_permutation` draws them
    (``antithetic=False``), so the last frame equals its result for the same seed.

    Parameters
    ----------
    game : CoalitionGame, str or callable, optional
        A :class:`lime_core.shapley.CoalitionGame`, the name of a built-in game, or a
        value function ``v(masks (m, d) bool) -> (m,)`` (then give ``player_names``).
        Default: the lecture's football team.
    player_names : sequence of str, optional
    num_permutations : int
        Orders in the animation (the frame slider "orders drawn" runs from 0 to it).
    budgets : sequence of int, optional
        Coalition budgets for the error-vs-budget panel.
    random_state : int or Generator
    repeats : int
        Seeds averaged per budget in the error panel.
    """

    figsize = (8.4, 3.2)

    def __init__(
        self,
        game: Any = None,
        player_names: Any = None,
        *,
        num_permutations: int = 40,
        budgets: Any = None,
        random_state: Any = 0,
        repeats: int = 5,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        self.games = builtin_games()
        self._counters: dict[str, CountingModel] = {}
        self.random_state = random_state
        check_random_state(random_state)
        self.repeats = check_int(repeats, "repeats", minimum=1)
        self._budgets = None if budgets is None else [check_int(b, "budgets", minimum=2)
                                                       for b in budgets]
        if game is None:
            game = "football team"
        if isinstance(game, str):
            if game not in self.games:
                raise ValueError(f"game must be one of {', '.join(map(repr, self.games))} "
                                 f"or a CoalitionGame, got {game!r}")
            name = game
        elif hasattr(game, "value_fn"):
            name = str(game.name)
            self.games[name] = game
        else:
            check_callable(game, "game")
            if player_names is None:
                raise ValueError("player_names must be given with a value function")
            from lime_core.shapley import CoalitionGame

            name = "custom game"
            self.games[name] = CoalitionGame(name, tuple(str(p) for p in player_names),
                                             game, None)
        self.game_control = choice("game", list(self.games), name)
        self._num_permutations = check_int(num_permutations, "num_permutations", minimum=1)
        self.game_control.observe(lambda c: self._guarded(self._run), names="value")
        self.frame_slider.description = "orders drawn"
        self._build_figure()
        self._layout([self.game_control])
        self._run()

    # ------------------------------------------------------------------ state
    @property
    def game(self) -> Any:
        return self.games[self.game_control.value]

    @property
    def d(self) -> int:
        return len(self.game.player_names)

    @property
    def num_permutations(self) -> int:
        return self._num_permutations

    @property
    def model_calls(self) -> int:
        """Calls of the games' value functions (one per batch of coalitions)."""
        return sum(c.calls for c in self._counters.values())

    def estimate(self, t: int | None = None) -> np.ndarray:
        """Mean marginal contribution over the first ``t`` orders (default: this frame)."""
        t = self.frame if t is None else check_int(t, "t", minimum=0,
                                                   maximum=self.num_permutations)
        return self.running_mean[t]

    # ------------------------------------------------------------------ work
    def _run(self) -> None:
        from lime_core.shapley import shapley_exact

        game = self.game
        name = self.game_control.value
        if name not in self._counters:
            self._counters[name] = CountingModel(game.value_fn, "value_fn")
        self.value_fn = self._counters[name]
        d, n = self.d, self.num_permutations
        self.exact = shapley_exact(self.value_fn, d).values
        rng, self.recorded_random_state = check_random_state(self.random_state)
        self.orders = rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)
        rank = np.argsort(self.orders, axis=1)
        prefixes = rank[:, None, :] < np.arange(d + 1)[None, :, None]  # (n, d+1, d)
        values = np.asarray(self.value_fn(prefixes.reshape(-1, d)), dtype=float)
        self.prefix_values = values.reshape(n, d + 1)
        steps = np.diff(self.prefix_values, axis=1)  # contribution of the k-th player in order
        self.contributions = np.empty((n, d))
        np.put_along_axis(self.contributions, self.orders, steps, axis=1)
        counts = np.arange(1, n + 1)[:, None]
        self.running_mean = np.vstack([np.zeros((1, d)),
                                       np.cumsum(self.contributions, axis=0) / counts])
        self._error_vs_budget()
        self._prepare_axes()
        if self.num_frames != n + 1:
            self._set_num_frames(n + 1)
        self._invalidate()
        self._show_frame(min(self.frame, n))

    def _error_vs_budget(self) -> None:
        """Mean max-error of permutation sampling and KernelSHAP over ``repeats`` seeds."""
        from lime_core.shapley import kernel_shap_game, shapley_permutation

        d = self.d
        full = 2**d
        budgets = self._budgets or sorted({int(b) for b in np.geomspace(
            max(d + 1, 4), max(4 * full, 64), 7).round()})
        self.budgets = budgets
        base = np.random.SeedSequence(0 if not isinstance(self.recorded_random_state, int)
                                      else self.recorded_random_state)
        seeds = [int(s.generate_state(1)[0]) for s in base.spawn(self.repeats)]
        perm_err, kernel_err = [], []
        for b in budgets:
            p = max(1, (b - 2) // max(d - 1, 1))
            errs = [np.abs(shapley_permutation(self.value_fn, d, p, random_state=s, antithetic=False).values
                           - self.exact).max() for s in seeds]
            perm_err.append(float(np.mean(errs)))
            errs = [np.abs(kernel_shap_game(self.value_fn, d, b, random_state=s, num_bootstrap=2).values
                           - self.exact).max() for s in seeds]
            kernel_err.append(float(np.mean(errs)))
        self.permutation_error = np.array(perm_err)
        self.kernel_shap_error = np.array(kernel_err)
        self.exact_cost = full

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        self.ax_bars, self.ax_text, self.ax_err = self.fig.subplots(
            1, 3, gridspec_kw={"width_ratios": [1.2, 0.9, 1]})
        self.ax_text.set_axis_off()
        self.ax_bars.axhline(0, color="0.5", lw=0.8)
        self.ax_err.set_xscale("log")
        self.ax_err.set_yscale("log")
        self.ax_err.set_xlabel("coalition evaluations", fontsize=9)
        self.ax_err.set_title("max |error| vs budget", fontsize=9)
        from matplotlib.ticker import LogLocator, NullFormatter

        self.ax_err.xaxis.set_minor_formatter(NullFormatter())
        self.ax_err.yaxis.set_minor_formatter(NullFormatter())
        self.ax_err.yaxis.set_major_locator(LogLocator(numticks=4))
        for ax in (self.ax_bars, self.ax_err):
            ax.tick_params(labelsize=8)
        self.bars_mean = None
        self.order_text = self.ax_text.text(0.0, 0.97, "", transform=self.ax_text.transAxes,
                                            va="top", fontsize=8, family="monospace")
        self.order_text.set_text("\n".join(["x" * 30] * 5))  # room for it in the layout
        self.title = self.ax_bars.set_title("", fontsize=9)
        self._err_artists: list = []
        self._animate(self.order_text, self.title)

    def _prepare_axes(self) -> None:
        d = self.d
        x = np.arange(d)
        for artist in self._err_artists:
            artist.remove()
        if self.bars_mean is not None:
            self.bars_mean.remove()
            self.bars_last.remove()
            self.exact_marks.remove()
        self.bars_mean = self.ax_bars.bar(x - 0.18, np.zeros(d), width=0.36, color="C0",
                                          label="running mean")
        self.bars_last = self.ax_bars.bar(x + 0.18, np.zeros(d), width=0.36, color="C1",
                                          alpha=0.6, label="this order's contribution")
        (self.exact_marks,) = self.ax_bars.plot(x, self.exact, "k_", ms=28, mew=2,
                                                label="Shapley value")
        self.ax_bars.set_xticks(x, self.game.player_names, fontsize=9)
        span = np.concatenate([self.contributions.ravel(), self.exact, [0.0]])
        lo, hi = float(span.min()), float(span.max())
        pad = 0.2 * (hi - lo) + 1e-6
        self.ax_bars.set_ylim(lo - pad, hi + pad)
        self.ax_bars.legend(fontsize=8, loc="upper right")
        self._animate(*self.bars_mean, *self.bars_last)
        floor = 1e-6 * max(float(np.abs(self.exact).max()), 1.0)
        a = self.ax_err.plot(self.budgets, np.maximum(self.permutation_error, floor), "o-",
                             ms=3, label="permutation sampling")
        b = self.ax_err.plot(self.budgets, np.maximum(self.kernel_shap_error, floor), "s-",
                             ms=3, label="KernelSHAP")
        c = [self.ax_err.axvline(self.exact_cost, color="k", ls="--", lw=1,
                                 label=f"exact: 2^{self.d} = {self.exact_cost}")]
        self._err_artists = [*a, *b, *c]
        self.ax_err.relim()
        self.ax_err.autoscale_view()
        self.ax_err.legend(fontsize=8, loc="lower left")

    def _draw_frame(self, i: int) -> None:
        i = int(np.clip(i, 0, self.num_permutations))
        self.frame = i
        mean = self.running_mean[i]
        last = self.contributions[i - 1] if i > 0 else np.zeros(self.d)
        for bar, v in zip(self.bars_mean, mean, strict=True):
            bar.set_height(float(v))
        for bar, v in zip(self.bars_last, last, strict=True):
            bar.set_height(float(v))
        names = self.game.player_names
        if i == 0:
            self.order_text.set_text("press Play:\none random order\nper step")
        else:
            order = self.orders[i - 1]
            vals = self.prefix_values[i - 1]
            lines = [f"order {i}: who joins, gain"]
            for k, j in enumerate(order):
                lines.append(f"{names[j][:9]:>9} +{vals[k + 1] - vals[k]:.3g}"
                             f" (v→{vals[k + 1]:.3g})")
            self.order_text.set_text("\n".join(lines[: 1 + min(len(order), 12)]))
        err = float(np.abs(mean - self.exact).max()) if i else float("nan")
        self.title.set_text(f"{i} order(s): max |error| = {err:.3g}")
