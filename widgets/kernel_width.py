"""How the kernel width changes an image LIME explanation (``course/13_lime_theory.ipynb``).

Image LIME has one free parameter, the bandwidth ``nu`` of its kernel. The explorer
draws the masks and asks the model once, then refits the surrogate for a sweep of
widths (no new model calls) and plots every superpixel's coefficient against ``nu``:
solid lines from the samples, dashed lines from the closed-form limit of Garreau and
Mardaoui (:mod:`lime_core.theory`), computed exactly over all ``2^d`` masks. A
coefficient that crosses zero changes the explanation's sign as ``nu`` moves: the
"undesirable behaviour" the theory lecture warns about.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import check_array, check_int, check_positive, check_random_state
from widgets._base import AnimatedWidget, CountingModel, PrefixReuse, choice, int_slider

# A model with at most this many outputs gets the paths of every class computed with
# the samples (a target change then only draws); with more, each class's on first use.
MAX_PRECOMPUTED_TARGETS = 10


def _default_image_and_model():
    from widgets.image_player import _default_image_and_model as default

    image, fn, _ = default()
    return image, fn


class KernelWidthExplorer(AnimatedWidget):
    """Coefficient paths of image LIME as the kernel width ``nu`` sweeps.

    For every ``nu`` of the sweep the surrogate is the weighted ridge fit on the same
    cached samples with weights ``pi = exp(-D(z, 1)^2 / (2 nu^2))``. The limit for
    ``n -> infinity`` is ``beta(nu) = Sigma(nu)^{-1} Gamma(nu)`` with
    ``Gamma = E[pi (1, z) f(x)]`` (exact over all masks) and ``Sigma^{-1}`` from
    :func:`lime_core.theory.sigma_inverse`: the same numbers as
    :func:`lime_core.theory.lime_limit`, but the ``2^d`` model outputs are computed
    once for the whole sweep instead of once per ``nu``.

    Each animation frame is one ``nu`` of the sweep: the cursor moves along the paths
    and the image shows the coefficients at that width.

    Parameters
    ----------
    image : (H, W, 3) array, optional
        Default: the husky/wolf test image of the zoo.
    classifier_fn : callable, optional
        ``f(images) -> (n, k)``; default: the zoo's husky/wolf CNN.
    segments : (H, W) int array, optional
        Superpixels; default a 3 x 3 grid. The exact limit is drawn for at most 16
        superpixels (it visits all 2^d masks); with more, only the sample paths are shown
        and sign changes are read from them.
    widths : array, optional
        The sweep of ``nu`` (default 41 values from 0.05 to 5, log-spaced).
    num_samples : int
        Samples for the empirical fits.
    target : int, optional
        Class explained (default: the top class of the image).
    alpha : float
        Ridge penalty of the empirical fits (lime's 1; the limit has none).
    baseline : "superpixel_mean" or number
        What switched-off superpixels show (each superpixel's own mean colour, or a
        constant).
    random_state : int or Generator
    batch_size : int
    """

    figsize = (8.4, 3.1)

    @renamed_arguments({"replacement": "baseline"})
    def __init__(
        self,
        image: Any = None,
        classifier_fn: Any = None,
        segments: Any = None,
        *,
        widths: Any = None,
        num_samples: int = 1000,
        target: int | None = None,
        alpha: float = 1.0,
        baseline: Any = "superpixel_mean",
        random_state: Any = 0,
        batch_size: int = 256,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        from lime_core.segmentation import grid_segments
        from lime_core.theory import MAX_EXACT_SUPERPIXELS

        if image is None or classifier_fn is None:
            default_image, default_fn = _default_image_and_model()
            image = default_image if image is None else image
            classifier_fn = default_fn if classifier_fn is None else classifier_fn
        self.image_array = check_array(image, "image", ndim=(2, 3))
        if segments is None:
            segments = grid_segments(self.image_array.shape[:2], 3, 3)
        segments = check_array(segments, "segments", ndim=2, dtype=None)
        if segments.shape != self.image_array.shape[:2]:
            raise ValueError(f"segments must have the image's height and width "
                             f"{self.image_array.shape[:2]}, got shape {segments.shape}")
        labels, index = np.unique(segments, return_inverse=True)
        self.segment_index = index.reshape(segments.shape)
        self.d = len(labels)
        if self.d < 2:
            raise ValueError(f"segments must have at least 2 superpixels, got {self.d}")
        # the closed form needs all 2^d masks: only for small d
        self.has_limit = self.d <= MAX_EXACT_SUPERPIXELS
        self.widths = np.geomspace(0.05, 5.0, 41) if widths is None else \
            np.sort(check_array(widths, "widths", ndim=1, min_rows=2))
        if np.any(self.widths <= 0):
            raise ValueError("widths must all be > 0")
        self.model = CountingModel(classifier_fn)
        self._reuse = PrefixReuse(self.model.predict)
        self.alpha = check_positive(alpha, "alpha", allow_zero=True)
        self.baseline = baseline
        self.random_state = random_state
        check_random_state(random_state)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        num_samples = check_int(num_samples, "num_samples", minimum=self.d + 2)

        from lime_core.theory import replacement_for

        self.replacement_array = replacement_for(self.image_array, self.segment_index, self.d,
                                                 self.baseline)
        if self.has_limit:
            self._predict_all_masks()
            original = self.exact_values[-1]  # the all-ones mask is the last row
        else:
            original = self.model.predict(self.image_array[None])[0]
        k = len(original)
        if target is None:
            target = int(np.argmax(original))
        target = check_int(target, "target", minimum=0, maximum=k - 1)
        self.num_samples_control = int_slider("samples N", num_samples, 50,
                                              max(5000, num_samples))
        self.target_control = ipywidgets.Dropdown(options=list(range(k)), value=target,
                                                  description="target")
        self.highlight_control = choice("superpixel", list(range(self.d)), 0)
        self.num_samples_control.observe(lambda c: self._guarded(self._run), names="value")
        self.target_control.observe(lambda c: self._guarded(self._refit), names="value")
        self.highlight_control.observe(lambda c: self._guarded(self._restyle), names="value")
        self._build_figure()
        # a model with one output has nothing to choose: no one-option dropdown
        controls = [self.num_samples_control, self.highlight_control]
        if k > 1:
            controls.insert(1, self.target_control)
        self._layout(controls)
        self._run()
        self.go_to(int(np.argmin(np.abs(self.widths - 0.25))))

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        return self.model.calls

    @property
    def target(self) -> int:
        return int(self.target_control.value)

    @property
    def num_samples(self) -> int:
        return int(self.num_samples_control.value)

    @property
    def nu(self) -> float:
        """The kernel width of the current frame."""
        return float(self.widths[self.frame])

    # ------------------------------------------------------------------ work
    def _predict_all_masks(self) -> None:
        """Model outputs for all ``2^d`` masks (the exact expectations), once."""
        from lime_core.theory import all_masks, masked_images

        self.all_masks = all_masks(self.d)
        out = []
        for start in range(0, len(self.all_masks), self.batch_size):
            batch = masked_images(self.all_masks[start:start + self.batch_size],
                                  self.image_array, self.replacement_array,
                                  self.segment_index)
            out.append(self.model.predict(batch))
        self.exact_values = np.vstack(out)

    def limit_path(self, target: int | None = None) -> np.ndarray:
        """``(len(widths), d)`` limit coefficients ``beta(nu)`` (no model call); NaN
        when there are too many superpixels for the exact expectation, and for widths
        below :func:`lime_core.theory.smallest_bandwidth` (Sigma singular there)."""
        from lime_core.theory import kernel_weight, sigma_inverse, smallest_bandwidth

        if not self.has_limit:
            return np.full((len(self.widths), self.d), np.nan)
        target = self.target if target is None else target
        values = self.exact_values[:, target]
        design = np.hstack([np.ones((len(self.all_masks), 1)), self.all_masks])
        num_off = self.d - self.all_masks.sum(axis=1)
        path = np.empty((len(self.widths), self.d))
        for r, nu in enumerate(self.widths):
            if nu < smallest_bandwidth(self.d):
                path[r] = np.nan
                continue
            weights = kernel_weight(num_off, self.d, nu)
            gamma = design.T @ (weights * values) / len(self.all_masks)
            path[r] = (sigma_inverse(self.d, float(nu)) @ gamma)[1:]
        return path

    def _run(self) -> None:
        from lime_core.explanation import explain_from_samples
        from lime_core.lime_image import image_samples

        # a new N with the same seed: the first rows are the same masks, predicted before
        settings = (self.random_state, self.batch_size, self.image_array,
                    self.segment_index, self.replacement_array)
        for _ in range(2):
            self.samples = image_samples(
                self.image_array, self._reuse.start(settings), segments=self.segment_index,
                num_samples=self.num_samples, baseline=self.replacement_array,
                batch_size=self.batch_size, random_state=self.random_state)
            if self._reuse.keep(self.samples.Z, self.samples.predictions):
                break
        self.recorded_random_state = self.samples.random_state
        self.masks = self.samples.Z.astype(bool)
        self.predictions = self.samples.predictions
        self.distances = self.samples.distances
        self.explanation = explain_from_samples(
            self.samples, kernel_width=0.25, target=self.target, num_features=self.d,
            feature_selection="none", alpha=self.alpha)
        # the paths of every class at once (a few classes): a target change then only
        # draws, and the y-axis covers them all, so its limits and ticks stay put
        k = self.predictions.shape[1]
        self._paths: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._compute_paths(list(range(k)) if k <= MAX_PRECOMPUTED_TARGETS else [self.target])
        self._refit()

    def _compute_paths(self, targets: list[int]) -> None:
        """Empirical (Explanation.refit, all ``targets`` in one refit per width) and limit
        paths of ``targets`` over the sweep; no model call."""
        fits = [self.explanation.refit(kernel_width=float(nu), labels=targets).fits
                for nu in self.widths]
        for t in targets:
            self._paths[t] = (np.stack([f[t].coef for f in fits]), self.limit_path(t))

    def _refit(self) -> None:
        """Show the current target's paths (computed here if not cached); no model call."""
        target = self.target
        if target not in self._paths:
            self._compute_paths([target])
        self.empirical, self.limit = self._paths[target]
        signs = np.sign(self.limit if self.has_limit else self.empirical)
        self.sign_flips = [j for j in range(self.d) if np.any(signs[:, j] > 0)
                           and np.any(signs[:, j] < 0)]
        if self.num_frames != len(self.widths):
            self._set_num_frames(len(self.widths))
        if self.sign_flips and not getattr(self, "_highlight_chosen", False):
            self._highlight_chosen = True
            self.highlight_control.value = self.sign_flips[0]
        self._restyle()

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        self.ax_image, self.ax_paths = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        self.ax_image.set_xticks([])
        self.ax_image.set_yticks([])
        self.ax_image.imshow(np.clip(self.image_array, 0, 1), cmap="gray")
        self.im_coef = self.ax_image.imshow(np.zeros(self.segment_index.shape), cmap="RdBu_r",
                                            alpha=0.55, vmin=-1, vmax=1)
        ys, xs = np.indices(self.segment_index.shape)
        self.labels = []
        for j in range(self.d):
            sel = self.segment_index == j
            self.labels.append(self.ax_image.text(xs[sel].mean(), ys[sel].mean(), "",
                                                  ha="center", va="center", fontsize=8))
        ax = self.ax_paths
        ax.set_xscale("log")
        ax.set_xlabel("kernel width ν")
        ax.set_ylabel("coefficient")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axvline(0.25, color="r", lw=0.8, ls=":")
        self.cursor = ax.axvline(self.widths[0], color="k", lw=1.0)
        self.emp_lines = [ax.plot(self.widths, np.zeros(len(self.widths)), color=f"C{j % 10}",
                                  lw=1.0)[0] for j in range(self.d)]
        self.lim_lines = [ax.plot(self.widths, np.zeros(len(self.widths)), color=f"C{j % 10}",
                                  lw=1.0, ls="--")[0] for j in range(self.d)]
        from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.5, 5.0)))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        self.ax_paths.tick_params(labelsize=8)
        self.title = ax.set_title(" \n ", fontsize=9)
        self._animate(self.im_coef, *self.labels, self.cursor, self.title)
        self._data(*self.emp_lines, *self.lim_lines)

    def _restyle(self) -> None:
        h = int(self.highlight_control.value)
        for j in range(self.d):
            bold = j == h
            for lines, data in ((self.emp_lines, self.empirical), (self.lim_lines, self.limit)):
                lines[j].set_ydata(data[:, j])
                lines[j].set_linewidth(2.5 if bold else 0.8)
                lines[j].set_alpha(1.0 if bold else 0.35)
                lines[j].set_zorder(3 if bold else 2)
        both = np.concatenate([p.ravel() for paths in self._paths.values() for p in paths])
        both = both[np.isfinite(both)]
        lo, hi = float(both.min()), float(both.max())
        pad = 0.08 * (hi - lo) + 1e-9
        self._scale = max(abs(lo), abs(hi), 1e-9)
        self.im_coef.set_clim(-self._scale, self._scale)
        if self.ax_paths.get_ylim() != (lo - pad, hi + pad):
            self.ax_paths.set_ylim(lo - pad, hi + pad)
            self._invalidate()  # new limits and ticks: draw everything
        else:
            self._invalidate_data()  # same axes: draw only the paths again
        self._show_frame(self.frame)

    def _draw_frame(self, i: int) -> None:
        i = int(np.clip(i, 0, len(self.widths) - 1))
        self.frame = i
        nu = self.widths[i]
        self.cursor.set_xdata([nu, nu])
        coef = self.empirical[i]
        self.im_coef.set_data(coef[self.segment_index])
        for j, label in enumerate(self.labels):
            label.set_text(f"{j}\n{coef[j]:+.3f}")
        h = int(self.highlight_control.value)
        flips = ", ".join(str(j) for j in self.sign_flips) or "none"
        limit = f"limit {self.limit[i, h]:+.3f}" if self.has_limit else "no closed form: d > 16"
        self.title.set_text(f"ν = {nu:.3f}: superpixel {h} = {coef[h]:+.3f} ({limit})\n"
                            f"superpixels whose sign flips: {flips}")
