"""Integrated Gradients along the straight path (``course/09_integrated_gradients.ipynb``).

The α slider walks from the baseline ``x'`` (α = 0) to the input ``x`` (α = 1). Each
frame shows the interpolated input ``x' + α (x - x')``, the gradient there, and the
running Riemann sum of gradient times ``(x - x')`` that becomes the attribution at
α = 1; a second row shows the model's score along the path against the summed
attribution (completeness) and the completeness gap as the number of steps grows.
The default is the lecture's "A OR B" toy ``f(a, b) = min(1, a + b)`` at
``x = (1, 1)``: the plain gradient is zero there (the model is saturated, "neither
input matters"), Integrated Gradients gives each input 1/2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lime_core._validation import check_choice, check_int
from widgets._base import AnimatedWidget, CountingModel, choice, int_slider

RIEMANN_METHODS = ("riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid", "trapezoid",
                   "gausslegendre")
# the rules whose completeness gap the lower middle panel compares
GAP_METHODS = ("riemann_right", "riemann_middle", "gausslegendre")
RULE_LABELS = {"riemann_right": "right Riemann", "riemann_left": "left Riemann",
               "riemann_middle": "midpoint", "riemann_trapezoid": "captum trapezoid",
               "trapezoid": "trapezoid", "gausslegendre": "Gauss–Legendre"}
GAP_STEPS = (2, 4, 8, 16, 32, 64, 128)


def _default_model_and_input():
    from lime_core.zoo.toys import a_or_b_model

    return a_or_b_model(), np.array([1.0, 1.0], dtype=np.float32), None, ["a", "b"]


class IntegratedGradientsPath(AnimatedWidget):
    """Integrated Gradients, one point of the path per frame.

    With nodes ``a_k`` and weights ``w_k`` of a Riemann rule
    (:func:`lime_core.gradients.integration_nodes`), the running sum after ``k``
    nodes is

        IG^(k)_i = (x_i - x'_i) * sum_{j <= k} w_j dS_c(x' + a_j (x - x')) / dx_i,

    and at the last node it is :func:`lime_core.gradients.integrated_gradients` with
    the same rule and number of steps. Completeness: ``sum_i IG_i = S_c(x) - S_c(x')``
    up to a gap that shrinks as the number of steps grows.

    Parameters
    ----------
    model : torch.nn.Module, optional
        Differentiable model, ``model(batch) -> (n, k)`` or ``(n,)`` scores.
        Default: the zoo's "A OR B" model.
    x : array, optional
        One input (no batch axis): a vector of features or an image ``(C, H, W)``.
    baseline : array or float, optional
        ``x'`` (default zeros).
    target : int, optional
        Output explained (needed when the model has several).
    steps : int
        Nodes ``m`` on the path.
    method : {"riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid", "trapezoid", "gausslegendre"}
        The quadrature rule (:func:`lime_core.gradients.integration_nodes`);
        "gausslegendre" is captum's default.
    feature_names : list of str, optional
        Names of the features (vector inputs).
    gap_steps : sequence of int
        Numbers of steps for the completeness-gap plot.
    """

    figsize = (8.4, 4.1)

    def __init__(
        self,
        model: Any = None,
        x: Any = None,
        baseline: Any = None,
        *,
        target: int | None = None,
        steps: int = 20,
        method: str = "riemann_right",
        feature_names: Any = None,
        gap_steps: Any = GAP_STEPS,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        if model is None:
            model, default_x, default_base, default_names = _default_model_and_input()
            x = default_x if x is None else x
            baseline = default_base if baseline is None else baseline
            feature_names = default_names if feature_names is None else feature_names
        if x is None:
            raise ValueError("x must be given when a model is given")
        self.model = CountingModel(model, "model")
        self.x = np.asarray(x, dtype=np.float32)
        if self.x.ndim not in (1, 3):
            raise ValueError(f"x must be one input: a vector (d,) or an image (C, H, W), "
                             f"got shape {self.x.shape}")
        self.is_image = self.x.ndim == 3
        if baseline is None:
            self.baseline = np.zeros_like(self.x)
        else:
            self.baseline = np.broadcast_to(np.asarray(baseline, dtype=np.float32),
                                            self.x.shape).copy()
        self.target = None if target is None else check_int(target, "target", minimum=0)
        self.feature_names = ([str(f) for f in feature_names] if feature_names is not None
                              else [f"x{i}" for i in range(self.x.size)])
        self.gap_steps = [check_int(s, "gap_steps", minimum=2) for s in gap_steps]
        check_choice(method, "method", RIEMANN_METHODS)
        self.steps_control = int_slider("steps m", check_int(steps, "steps", minimum=2), 2, 200)
        self.method_control = choice("rule", [(RULE_LABELS[m], m) for m in RIEMANN_METHODS],
                                     method)
        self.steps_control.observe(lambda c: self._guarded(self._run), names="value")
        self.method_control.observe(lambda c: self._guarded(self._run), names="value")
        self.frame_slider.description = "α step"
        self._completeness_gaps()
        self._build_figure()
        self._layout([self.steps_control, self.method_control])
        self._run()

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        return self.model.calls

    @property
    def steps(self) -> int:
        return int(self.steps_control.value)

    @property
    def method(self) -> str:
        return str(self.method_control.value)

    @property
    def alpha(self) -> float:
        """α of the current frame (0 at frame 0, the baseline)."""
        return 0.0 if self.frame == 0 else float(self.nodes[self.frame - 1])

    def running_sum(self, k: int | None = None) -> np.ndarray:
        """The Riemann sum over the first ``k`` nodes (default: the current frame)."""
        k = self.frame if k is None else check_int(k, "k", minimum=0, maximum=self.steps)
        return self.cumulative[k]

    # ------------------------------------------------------------------ work
    def _scores(self, points: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.model(torch.as_tensor(points))
        out = out.detach().cpu().numpy()
        if out.ndim == 1:
            return out
        return out[:, 0 if self.target is None else self.target]

    def _completeness_gaps(self) -> None:
        """``|sum IG - (S(x) - S(x'))|`` for every number of steps of ``gap_steps``."""
        from lime_core.gradients import integrated_gradients

        self.gaps = {}
        for method in GAP_METHODS:
            self.gaps[method] = np.array([
                float(integrated_gradients(
                    self.model, self.x[None], target=self.target, baseline=self.baseline[None],
                    steps=m, method=method, return_result=True,
                ).convergence_delta[0])
                for m in self.gap_steps])

    def _run(self) -> None:
        """Gradients at every node of the path: one batched forward and backward pass."""
        from lime_core.gradients import integration_nodes, saliency

        self.nodes, self.quad_weights = integration_nodes(self.steps, self.method)
        diff = self.x - self.baseline
        shape = (-1,) + (1,) * self.x.ndim
        self.points = (self.baseline[None] + self.nodes.reshape(shape).astype(np.float32)
                       * diff[None]).astype(np.float32)
        self.gradients = saliency(self.model, self.points, target=self.target, absolute=False,
                                  batch_size=max(len(self.points), 1))
        terms = self.quad_weights.reshape(shape) * self.gradients * diff[None]
        self.cumulative = np.concatenate([np.zeros((1, *self.x.shape)),
                                          np.cumsum(terms, axis=0)])
        ends = self._scores(np.stack([self.baseline, self.x]))
        self.score_baseline, self.score_x = float(ends[0]), float(ends[1])
        self.alphas_fine = np.linspace(0, 1, 101)
        fine = (self.baseline[None] + self.alphas_fine.reshape(shape).astype(np.float32)
                * diff[None]).astype(np.float32)
        self.scores_fine = self._scores(fine)
        self.plain_gradient = saliency(self.model, self.x[None], target=self.target,
                                       absolute=False)[0]
        self.attributions = self.cumulative[-1]
        self._prepare_axes()
        if self.num_frames != self.steps + 1:
            self._set_num_frames(self.steps + 1)
        self._invalidate()
        self._show_frame(min(self.frame, self.steps))

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        axes = self.fig.subplots(2, 3)
        (self.ax_input, self.ax_grad, self.ax_sum), (self.ax_path, self.ax_gap, self.ax_text) = axes
        self.ax_text.set_axis_off()
        self.note = self.ax_text.text(0.0, 1.0, "", va="top", fontsize=9, family="monospace",
                                      linespacing=1.3)
        if self.is_image:
            for ax in (self.ax_input, self.ax_grad, self.ax_sum):
                ax.set_xticks([])
                ax.set_yticks([])
            hw = self.x.shape[1:]
            self.im_input = self.ax_input.imshow(np.zeros((*hw, 3)))
            self.im_grad = self.ax_grad.imshow(np.zeros(hw), cmap="RdBu_r")
            self.im_sum = self.ax_sum.imshow(np.zeros(hw), cmap="RdBu_r")
        else:
            pos = np.arange(self.x.size)
            self.bars_input = self.ax_input.bar(pos, np.zeros(self.x.size), color="0.5")
            self.ax_input.plot(pos, self.x.ravel(), "k_", ms=20, label="x")
            self.bars_grad = self.ax_grad.bar(pos, np.zeros(self.x.size), color="C0")
            self.bars_sum = self.ax_sum.bar(pos, np.zeros(self.x.size), color="C2")
            for ax in (self.ax_input, self.ax_grad, self.ax_sum):
                ax.set_xticks(pos, self.feature_names)
                ax.axhline(0, color="0.5", lw=0.8)
            lo = min(0.0, float(self.baseline.min()), float(self.x.min()))
            hi = max(0.0, float(self.baseline.max()), float(self.x.max()))
            self.ax_input.set_ylim(lo - 0.1 * (hi - lo) - 1e-6, hi + 0.1 * (hi - lo) + 1e-6)
        self.ax_input.set_title("x' + α (x − x'), α = 0.000", fontsize=9)
        self.ax_grad.set_title("gradient dS/dx there", fontsize=9)
        self.ax_sum.set_title("running sum of w·grad·(x − x')", fontsize=9)
        ax = self.ax_path
        ax.set_xlabel("α", fontsize=9)
        ax.set_title("S on the path vs S(x') + sum", fontsize=9)
        (self.line_score,) = ax.plot([], [], "k-", lw=1.2, label="S(x' + α(x-x'))")
        (self.line_sum,) = ax.plot([], [], "C2o-", ms=3, lw=1.0, label="S(x') + Σ IG so far")
        self.cursor = ax.axvline(0, color="0.3", ls=":")
        ax.legend(fontsize=8, loc="lower right")
        ax = self.ax_gap
        ax.set_title("completeness gap vs steps m", fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        for method, gaps in self.gaps.items():
            ax.plot(self.gap_steps, np.maximum(gaps, 1e-12), "o-", ms=3,
                    label=RULE_LABELS[method])
        self.gap_marker = ax.axvline(2, color="0.3", ls=":")
        ax.legend(fontsize=8, loc="lower left")
        from matplotlib.ticker import LogLocator, NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(LogLocator(numticks=4))
        for ax in (self.ax_input, self.ax_grad, self.ax_sum, self.ax_path, self.ax_gap):
            ax.tick_params(labelsize=8)
        if self.is_image:
            self._animate(self.im_input, self.im_grad, self.im_sum)
        else:
            self._animate(*self.bars_input, *self.bars_grad, *self.bars_sum)
        self._animate(self.line_sum, self.cursor, self.note, self.ax_input.title)

    def _prepare_axes(self) -> None:
        self.line_score.set_data(self.alphas_fine, self.scores_fine)
        totals = self.score_baseline + self.cumulative.reshape(len(self.cumulative), -1).sum(1)
        both = np.concatenate([self.scores_fine, totals])
        lo, hi = float(both.min()), float(both.max())
        pad = 0.1 * (hi - lo) + 1e-3
        self.ax_path.set_xlim(0, 1)
        self.ax_path.set_ylim(lo - pad, hi + pad)
        self.gap_marker.set_xdata([self.steps, self.steps])
        g = float(np.abs(self.gradients).max()) or 1.0
        s = float(np.abs(self.cumulative).max()) or 1.0
        if self.is_image:
            self.im_grad.set_clim(-g, g)
            self.im_sum.set_clim(-s, s)
        else:
            self.ax_grad.set_ylim(-1.1 * g, 1.1 * g)
            self.ax_sum.set_ylim(-1.1 * s, 1.1 * s)

    def _draw_frame(self, i: int) -> None:
        i = int(np.clip(i, 0, self.steps))
        self.frame = i
        a = self.alpha
        point = self.baseline + np.float32(a) * (self.x - self.baseline)
        grad = np.zeros_like(self.x) if i == 0 else self.gradients[i - 1]
        running = self.cumulative[i]
        if self.is_image:
            self.im_input.set_data(np.clip(np.moveaxis(point, 0, -1), 0, 1))
            self.im_grad.set_data(grad.sum(axis=0))
            self.im_sum.set_data(running.sum(axis=0))
        else:
            for bars, values in ((self.bars_input, point), (self.bars_grad, grad),
                                 (self.bars_sum, running)):
                for bar, v in zip(bars, values.ravel(), strict=True):
                    bar.set_height(float(v))
        alphas = np.concatenate([[0.0], self.nodes[:i]])
        totals = self.score_baseline + self.cumulative[: i + 1].reshape(i + 1, -1).sum(1)
        self.line_sum.set_data(alphas, totals)
        self.cursor.set_xdata([a, a])
        self.ax_input.set_title(f"x' + α (x − x'), α = {a:.3f}", fontsize=9)
        gap = abs(float(running.sum()) - (self.score_x - self.score_baseline))
        plain = self.plain_gradient.ravel()
        plain_text = ("(" + ", ".join(f"{v:.3g}" for v in plain) + ")") if plain.size <= 6 \
            else f"max |grad| = {np.abs(plain).max():.3g}"
        self.note.set_text(
            f"{RULE_LABELS[self.method]}, m = {self.steps}\n"
            f"node {i}/{self.steps}\n"
            f"S(x) − S(x') = {self.score_x - self.score_baseline:+.4f}\n"
            f"sum of IG so far = {float(running.sum()):+.4f}\n"
            f"gap so far = {gap:.4f}\n"
            f"plain gradient at x:\n  {plain_text}")
