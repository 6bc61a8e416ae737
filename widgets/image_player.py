"""Image LIME, one perturbed image at a time (``course/05_lime_images.ipynb``).

The player runs image LIME once (segment, draw masks, build the perturbed images,
ask the model in batches, weigh every sample) and then animates the result: frame
``n`` shows the ``n``-th perturbed image, the model's output for it, its kernel
weight, and the surrogate refitted on the first ``n`` samples, with its standard
errors. The last frame shows the top-K superpixels.

Knobs that only change the fit (kernel width, K, feature selection, ridge alpha,
target class) reuse the cached model outputs: ``model_calls`` does not move.
Knobs that change the perturbed images (segmentation, granularity, replacement,
number of samples) run LIME again.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    check_choice,
    check_int,
    check_positive,
    check_random_state,
)
from widgets._base import AnimatedWidget, CountingModel, choice, int_slider, log_slider
from widgets._paths import ridge_path

SEGMENTATIONS = ("quickshift", "slic", "felzenszwalb", "grid")
GRANULARITIES = ("coarse", "medium", "fine")
REPLACEMENTS = ("mean", "black", "grey", "blur")
FEATURE_SELECTIONS = ("auto", "none", "forward_selection", "highest_weights", "lasso_path")

# Parameters of every segmentation method at three granularities (medium = lime's
# quickshift default). The keyword names are those of lime_core.segmentation.segment.
SEGMENTATION_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "quickshift": {
        "coarse": {"kernel_size": 6, "max_dist": 400, "ratio": 0.2},
        "medium": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
        "fine": {"kernel_size": 2, "max_dist": 100, "ratio": 0.2},
    },
    "slic": {
        "coarse": {"n_segments": 30, "compactness": 10.0},
        "medium": {"n_segments": 100, "compactness": 10.0},
        "fine": {"n_segments": 250, "compactness": 10.0},
    },
    "felzenszwalb": {
        "coarse": {"scale": 400.0, "sigma": 0.8, "min_size": 80},
        "medium": {"scale": 100.0, "sigma": 0.8, "min_size": 40},
        "fine": {"scale": 30.0, "sigma": 0.5, "min_size": 20},
    },
    "grid": {
        "coarse": {"n_rows": 3, "n_cols": 3},
        "medium": {"n_rows": 5, "n_cols": 5},
        "fine": {"n_rows": 8, "n_cols": 8},
    },
}


def _default_image_and_model(with_module: bool = False):
    """A husky/wolf test image of the zoo, the zoo's CNN and its class names."""
    from lime_core.zoo.images import load_husky_wolf, load_husky_wolf_cnn

    data = load_husky_wolf(split="test", n=4, size=64, random_state=0)
    model = load_husky_wolf_cnn()
    image = np.asarray(data.images[0], dtype=float)
    if with_module:
        return image, model.predict_proba, list(model.class_names), model.module
    return image, model.predict_proba, list(model.class_names)


#: Title of the bar chart at frames 1..N (the diamonds: the final fit's coefficients).
BARS_TITLE = "coefficients at n\n(±1 s.e., ◆ final fit)"

#: The replacement menu, in lime_core's vocabulary (``baseline=`` of image_samples).
_BASELINES = {"mean": "superpixel_mean", "blur": "blur", "black": 0.0, "grey": 0.5}


def _boundaries(segments: np.ndarray) -> np.ndarray:
    """Boolean mask of pixels whose right or lower neighbour is in another superpixel."""
    edge = np.zeros(segments.shape, dtype=bool)
    edge[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    edge[:-1, :] |= segments[:-1, :] != segments[1:, :]
    return edge


class ImagePerturbationPlayer(AnimatedWidget):
    """Watch image LIME draw, query, weigh and refit, one perturbed image per frame.

    Frame ``n`` (``1 .. N``) shows

    * the ``n``-th perturbed image ``x'_n`` (mask ``z_n``; switched-off superpixels
      show the replacement), the model's output ``f(x'_n)`` for the target class and
      the kernel weight ``pi(z_n) = exp(-D(z_n, 1)^2 / (2 w^2))`` (cosine distance to the
      all-ones mask, width ``w``);
    * the weighted ridge surrogate ``g(z) = b + z . beta`` fitted on samples
      ``1 .. n``: the paths of the K largest coefficients and, for frame ``n``, the
      coefficients with their standard errors;
    * the image with its superpixels and the current top-K overlay (green pushes the
      target class up, red down).

    Frame 0 is the image and its superpixels before any sample. The last frame's
    top-K come from :func:`lime_core.surrogate.fit_surrogate` on all ``N`` samples
    with the chosen feature selection.

    Parameters
    ----------
    image : array (H, W, 3) of floats in [0, 1], optional
        Default: a husky/wolf test image of :mod:`lime_core.zoo`. uint8 images are a
        ``TypeError`` and values outside [0, 1] a ``ValueError``
        (:func:`lime_core.zoo.image_models.check_unit_images`): divide by 255.0.
    classifier_fn : callable, optional
        ``classifier_fn(images (n, H, W, 3)) -> (n, k)`` probabilities. Default: the
        zoo's husky/wolf CNN.
    segmentation : {"quickshift", "slic", "felzenszwalb", "grid"}
    granularity : {"coarse", "medium", "fine"}, optional
        Size of the superpixels; "medium" is lime's quickshift setting. Default:
        "medium" for images of at least 128 pixels a side, "fine" for smaller ones
        (lime's setting, tuned for photos of about 224 pixels, cuts a 64-pixel zoo image
        into only a handful of pieces).
    baseline : {"mean", "black", "grey", "blur"}, optional
        What a switched-off superpixel shows. Default: its mean colour (lime's
        default) for your own image; "black" for the zoo demo, whose husky/wolf CNN
        reads the background colour that mean replacement keeps.
    kernel_width : float
        ``w`` (lime's default 0.25).
    num_samples : int
        ``N``, perturbed images per run (row 0 is the image itself).
    num_features : int
        ``K`` for the overlay.
    target : int, optional
        Class explained (default: the model's top class for the image).
    feature_selection : str
        As in :func:`lime_core.surrogate.fit_surrogate` (used for the final top-K).
    alpha : float
        Ridge penalty of the surrogate (lime's final ``Ridge(alpha=1)``).
    random_state : int or numpy.random.Generator
        Seeds the masks; every run (also after changing a knob) starts from it.
    batch_size : int
        Perturbed images per model call.
    class_names : sequence of str, optional
    debounce : float
        Seconds between updates while the kernel-width slider is dragged (0 in tests).

    Attributes
    ----------
    segments, masks, predictions, distances, weights, path, fit, model_calls
        The state of the current run (see the properties).
    """

    figsize = (8.4, 2.75)

    @renamed_arguments({"replacement": "baseline"})
    def __init__(
        self,
        image: Any = None,
        classifier_fn: Any = None,
        *,
        segmentation: str = "quickshift",
        granularity: str | None = None,
        baseline: str | None = None,
        kernel_width: float = 0.25,
        num_samples: int = 200,
        num_features: int = 5,
        target: int | None = None,
        feature_selection: str = "auto",
        alpha: float = 1.0,
        random_state: Any = 0,
        batch_size: int = 50,
        class_names: Any = None,
        debounce: float = 0.15,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(debounce=debounce, **base_kwargs)
        if image is None or classifier_fn is None:
            default_image, default_fn, default_names = _default_image_and_model()
            image = default_image if image is None else image
            classifier_fn = default_fn if classifier_fn is None else classifier_fn
            class_names = default_names if class_names is None else class_names
            if baseline is None:
                # The zoo's husky/wolf CNN learned the background *colour*; hiding a
                # superpixel with its own mean colour barely moves it, black does.
                baseline = "black"
        if baseline is None:
            baseline = "mean"  # lime's default: each superpixel's own mean colour
        # floats in [0, 1], as the zoo's models take and as the image is drawn: a uint8
        # image would be shown white and fed to the zoo CNN 255 times too bright
        from lime_core.zoo.image_models import check_unit_images

        self.image_array = check_unit_images(image, "image", ndim=3, dtype=float)
        if self.image_array.shape[2] != 3:
            raise ValueError(f"image must have 3 colour channels (H, W, 3), "
                             f"got shape {self.image_array.shape}")
        if granularity is None:
            granularity = "medium" if min(self.image_array.shape[:2]) >= 128 else "fine"
        self.model = CountingModel(classifier_fn)
        self.random_state = random_state
        check_random_state(random_state)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        check_choice(segmentation, "segmentation", SEGMENTATIONS)
        check_choice(granularity, "granularity", GRANULARITIES)
        check_choice(baseline, "baseline", REPLACEMENTS)
        check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
        kernel_width = check_positive(kernel_width, "kernel_width")
        alpha = check_positive(alpha, "alpha")
        num_samples = check_int(num_samples, "num_samples", minimum=2)
        num_features = check_int(num_features, "num_features", minimum=1)
        self._segment_cache: dict[tuple[str, str], np.ndarray] = {}
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self._requested_target = target

        # --- controls
        self.segmentation_control = choice("segmentation", SEGMENTATIONS, segmentation)
        self.granularity_control = choice("granularity", GRANULARITIES, granularity)
        self.baseline_control = choice("baseline", REPLACEMENTS, baseline)
        self.num_samples_control = int_slider("samples N", num_samples, 10, max(1000, num_samples))
        self.kernel_width_control = log_slider("kernel width", kernel_width, 0.02, 10.0)
        self.num_features_control = int_slider("K", num_features, 1, 20, continuous=True)
        self.feature_selection_control = choice("selection", FEATURE_SELECTIONS,
                                                feature_selection)
        self.alpha_control = log_slider("ridge alpha", alpha, 1e-3, 100.0)
        self.target_control = ipywidgets.Dropdown(options=[("?", 0)], description="target")

        for control in (self.segmentation_control, self.granularity_control,
                        self.baseline_control, self.num_samples_control):
            control.observe(lambda change: self._guarded(self._run), names="value")
        self._kernel_width_update = self._throttled(self._refit)
        self.kernel_width_control.observe(lambda change: self._kernel_width_update(),
                                          names="value")
        self._alpha_update = self._throttled(self._refit)
        self.alpha_control.observe(lambda change: self._alpha_update(), names="value")
        for control in (self.num_features_control, self.feature_selection_control):
            control.observe(lambda change: self._guarded(self._refit), names="value")
        self.target_control.observe(self._on_target, names="value")

        self._build_figure()
        self._layout([
            self.segmentation_control, self.granularity_control, self.baseline_control,
            self.num_samples_control, self.kernel_width_control, self.num_features_control,
            self.target_control, self.feature_selection_control, self.alpha_control,
        ])
        self._run()

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        """Number of times the classifier has been called (one call per batch)."""
        return self.model.calls

    @property
    def kernel_width(self) -> float:
        return float(self.kernel_width_control.value)

    @property
    def num_samples(self) -> int:
        return int(self.num_samples_control.value)

    @property
    def num_features(self) -> int:
        return int(self.num_features_control.value)

    @property
    def alpha(self) -> float:
        return float(self.alpha_control.value)

    @property
    def target(self) -> int:
        return int(self.target_control.value)

    @property
    def num_superpixels(self) -> int:
        return int(self.masks.shape[1])

    def coefficients_at(self, n: int) -> np.ndarray:
        """Surrogate coefficients fitted on the first ``n`` samples."""
        n = check_int(n, "n", minimum=1, maximum=self.num_samples)
        return self.path.coef[n - 1]

    def perturbed_image(self, i: int) -> np.ndarray:
        """Sample ``i``'s perturbed image: ``x' = z[segments] * image + (1 - z[segments]) * replacement``."""
        return self.samples.perturbed_input(i)

    # ------------------------------------------------------------------ running
    def _segments(self) -> np.ndarray:
        key = (self.segmentation_control.value, self.granularity_control.value)
        if key not in self._segment_cache:
            from lime_core.segmentation import segment

            params = SEGMENTATION_PARAMS[key[0]][key[1]]
            self._segment_cache[key] = np.asarray(segment(self.image_array, key[0], **params))
        return self._segment_cache[key]

    def _run(self) -> None:
        """Run LIME's expensive part once: segment, sample, perturb, predict (image_samples)."""
        from lime_core.lime_image import image_samples

        segments = self._segments()
        self.segments = segments
        self.samples = image_samples(
            self.image_array, self.model.predict, segments=segments,
            num_samples=self.num_samples, baseline=_BASELINES[self.baseline_control.value],
            blur_sigma=max(self.image_array.shape[:2]) / 30.0, batch_size=self.batch_size,
            random_state=self.random_state)
        self.segment_index = self.samples.data["segments"]
        self.replacement_array = np.asarray(self.samples.data["baseline"], dtype=float)
        self.recorded_random_state = self.samples.random_state
        self.masks = self.samples.Z.astype(bool)
        self.predictions = self.samples.predictions
        self.distances = self.samples.distances
        self.explanation = None
        self._update_target_options()
        self._edges = _boundaries(self.segment_index)
        self._refit(new_run=True)

    def _update_target_options(self) -> None:
        k = self.predictions.shape[1]
        names = self.class_names if self.class_names and len(self.class_names) == k \
            else [str(c) for c in range(k)]
        options = [(f"{c}: {names[c]}" if names[c] != str(c) else str(c), c) for c in range(k)]
        current = self.target_control.value if self.target_control.options != (("?", 0),) \
            else None
        if current is None:
            current = self._requested_target
        if current is None:
            current = int(np.argmax(self.predictions[0]))
        check_int(current, "target", minimum=0, maximum=k - 1)
        self._setting_target = True
        try:
            if list(self.target_control.options) != options:
                self.target_control.options = options
            self.target_control.value = current
        finally:
            self._setting_target = False

    _setting_target = False

    def _on_target(self, change: dict) -> None:
        if not self._setting_target:
            self._guarded(self._refit)

    def _refit(self, new_run: bool = False) -> None:
        """Everything that needs no model call: weights, the ridge path, the final fit."""
        from threadpoolctl import threadpool_limits

        from lime_core.explanation import explain_from_samples

        y = self.predictions[:, self.target]
        Z = self.masks.astype(float)
        with threadpool_limits(limits=1):
            settings = dict(kernel_width=self.kernel_width, num_features=self.num_features,
                            feature_selection=self.feature_selection_control.value,
                            alpha=self.alpha)
            if self.explanation is None:
                self.explanation = explain_from_samples(self.samples, target=self.target,
                                                        **settings)
            else:
                self.explanation = self.explanation.refit(labels=[self.target], **settings)
            self.weights = self.explanation.weights
            self.fit = self.explanation.fits[self.target]
            self.path = ridge_path(Z, y, self.weights, self.alpha)
        self.y = y
        self.refits = getattr(self, "refits", 0) + 1
        self._prepare_axes(new_run)
        n_frames = self.num_samples + 1
        if self.num_frames != n_frames:
            self._set_num_frames(n_frames)
        self._show_frame(min(self.frame, n_frames - 1))

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        fig = self.fig
        self.ax_overlay, self.ax_sample, self.ax_path, self.ax_bars = fig.subplots(
            1, 4, gridspec_kw={"width_ratios": [1, 1, 1.4, 1.2]})
        for ax in (self.ax_overlay, self.ax_sample):
            ax.set_xticks([])
            ax.set_yticks([])
        blank = np.zeros((2, 2, 3))
        self.im_overlay_base = self.ax_overlay.imshow(blank, interpolation="nearest")
        self.im_overlay = self.ax_overlay.imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.im_sample = self.ax_sample.imshow(blank, interpolation="nearest")
        self.ax_overlay.set_title("superpixels\n ", fontsize=9)
        self.ax_sample.set_title(" \n ", fontsize=9)
        self.ax_path.set_title("coefficients vs samples", fontsize=9)
        self.ax_path.set_xlabel("samples n", fontsize=9)
        self.ax_path.axhline(0.0, color="0.6", lw=0.8)
        self.cursor = self.ax_path.axvline(0.0, color="0.3", lw=0.8, ls=":")
        self.path_lines: list = []
        self.ax_bars.set_title(BARS_TITLE, fontsize=9)
        self.ax_bars.axvline(0.0, color="0.6", lw=0.8)
        self.final_marks = None  # built with the bars, drawn over them (_prepare_axes)
        self.bars = None
        self.errorbars = None
        self.bar_labels: list[str] = []
        from matplotlib.ticker import MaxNLocator

        self.ax_path.yaxis.set_major_locator(MaxNLocator(4))
        self.ax_path.xaxis.set_major_locator(MaxNLocator(3, integer=True))
        self.ax_bars.xaxis.set_major_locator(MaxNLocator(3, symmetric=True))
        for ax in (self.ax_path, self.ax_bars):
            ax.tick_params(labelsize=8)
            ax.ticklabel_format(useOffset=False, style="plain")
        # placeholder bar labels as wide as the real ones, for the frozen layout
        self.ax_bars.set_yticks([0], ["sp 00"], fontsize=9)
        self._label_room = len("sp 00")
        # the bar labels change with K, the selection or the target: the y-axis is drawn
        # with the refit's artists on the saved axes, not with a full redraw
        self._data(self.ax_bars.yaxis)
        # the overlay's title names K and the class: animated, so neither redraws the figure
        self._animate(self.im_overlay, self.im_sample, self.cursor, self.ax_sample.title,
                      self.ax_overlay.title)

    def _prepare_axes(self, new_run: bool = False) -> None:
        """Per run / refit: rebuild the animated lines and bars for the shown features.

        Everything that changes with a refit is animated (drawn per frame), so a refit
        redraws the static background only when the image changed (a new run) or the
        coefficients left the current axis limits.
        """
        from matplotlib.collections import LineCollection

        if new_run:
            h, w = self.segment_index.shape
            extent = (-0.5, w - 0.5, h - 0.5, -0.5)
            base = np.clip(self.image_array, 0, 1).copy()
            base[self._edges] = (1.0, 1.0, 0.0)
            self.im_overlay_base.set_data(base)
            for im in (self.im_overlay_base, self.im_overlay, self.im_sample):
                im.set_extent(extent)
            self.ax_path.set_xlim(1, self.num_samples)
            self._invalidate()
        K = min(self.num_features, self.num_superpixels)
        shown = self.fit.features if len(self.fit.features) else np.arange(K)
        order = np.argsort(-np.abs(self.fit.coef[shown]), kind="stable")
        self.shown_features = np.sort(np.asarray(shown)[order][:K])
        colours = [f"C{i % 10}" for i in range(K)]
        for artist in self.path_lines:
            artist.remove()
        n = np.arange(1, self.num_samples + 1)
        self.path_lines = [self.ax_path.plot(n[:1], self.path.coef[:1, j], color=c, lw=1.2)[0]
                           for j, c in zip(self.shown_features, colours, strict=True)]
        values = self.path.coef[min(5, self.num_samples - 1):, self.shown_features]
        lo, hi = float(np.min(values, initial=0.0)), float(np.max(values, initial=0.0))
        # both coefficient axes symmetric about 0: signs read alike, and the other class
        # of a two-class model (coefficients negated) fits the same limits and ticks, so a
        # target change redraws no background
        span = max(abs(lo), abs(hi)) or 1.0
        self._sticky_limits(self.ax_path, "y", -span, span)
        bar_span = max(span, float(np.max(np.abs(self.fit.coef[self.shown_features]),
                                          initial=0.0)))
        self._sticky_limits(self.ax_bars, "x", -1.3 * bar_span, 1.3 * bar_span)
        # bar chart of the current coefficients with error bars, labelled by animated texts
        if self.bars is not None:
            self.bars.remove()
            self.errorbars.remove()
            self.final_marks.remove()
        y = np.arange(K)
        self.bars = self.ax_bars.barh(y, np.zeros(K), color=colours)
        self.errorbars = LineCollection(np.zeros((K, 2, 2)), colors="k", linewidths=1.2)
        self.ax_bars.add_collection(self.errorbars)
        labels = [f"sp {j}" for j in self.shown_features]
        if labels != self.bar_labels:  # the y-axis is a data-layer artist (see _build_figure)
            self.bar_labels = labels
            self.ax_bars.set_yticks(y, labels, fontsize=9)
            self._invalidate_data()
            if max(map(len, labels)) > self._label_room:  # wider labels: a new layout
                self._label_room = max(map(len, labels))
                self._invalidate()
        # the final surrogate's coefficients (after feature selection) on every bar, at
        # every frame: where the running fit ends up, and what the selection changes
        self.final_marks = self.ax_bars.plot([], [], "D", color="k", ms=4, zorder=4)[0]
        self._animate(*self.path_lines, *self.bars, self.errorbars, self.final_marks)
        if self.ax_bars.get_ylim() != (K - 0.5, -0.5):  # moves only data-layer artists
            self.ax_bars.set_ylim(K - 0.5, -0.5)
            self._invalidate_data()

    def _sticky_limits(self, ax: Any, which: str, lo: float, hi: float) -> None:
        """Keep the axis limits while the data range ``[lo, hi]`` stays inside them and
        fills at least 40% of them; otherwise set them to the range plus 10% on each
        side. Small refits (a kernel-width drag) then do not redraw the background."""
        cur_lo, cur_hi = ax.get_ylim() if which == "y" else ax.get_xlim()
        outside = lo < cur_lo or hi > cur_hi
        too_wide = (hi - lo) < 0.4 * (cur_hi - cur_lo)
        if outside or too_wide or self._chrome is None:
            pad = 0.1 * (hi - lo) or 0.5 * max(abs(lo), abs(hi)) or 1.0
            (ax.set_ylim if which == "y" else ax.set_xlim)(lo - pad, hi + pad)
            self._invalidate()

    def _topk_overlay(self, coef: np.ndarray, features: np.ndarray) -> np.ndarray:
        colours = np.zeros((self.num_superpixels, 4))
        pos = features[coef[features] > 0]
        neg = features[coef[features] <= 0]
        colours[pos] = (0.0, 0.8, 0.0, 0.45)
        colours[neg] = (0.9, 0.0, 0.0, 0.45)
        return colours[self.segment_index]

    def current_stderr(self, n: int) -> np.ndarray:
        """Standard errors of the surrogate on the first ``n`` samples (NaN when ``n`` is too small)."""
        if n < 2:
            return np.full(self.num_superpixels, np.nan)
        return self.explanation.coefficient_stderr(
            self.path.coef[n - 1], float(self.path.intercept[n - 1]), n=n, target=self.target)

    def _draw_frame(self, i: int) -> None:
        N = self.num_samples
        i = int(np.clip(i, 0, N))
        self.frame = i
        self.final_marks.set_data(self.fit.coef[self.shown_features],
                                  np.arange(len(self.shown_features)))
        label = self.target_label
        if i == 0:
            self.im_sample.set_data(np.clip(self.image_array, 0, 1))
            self.ax_sample.set_title(f"the image: f = {self.y[0]:.3f}\nw = "
                                     f"{self.kernel_width:.3g}: press Play", fontsize=9)
            self.im_overlay.set_data(np.zeros((*self.segment_index.shape, 4)))
            self.ax_overlay.title.set_text(f"{self.num_superpixels} superpixels\n({label})")
            for line in self.path_lines:
                line.set_data([], [])
            self.cursor.set_xdata([0, 0])
            # no sample yet: the bars preview, faded, where the fit on all N samples ends
            # (so every fit knob shows its effect at frame 0 too)
            for bar, value in zip(self.bars, self.path.coef[-1, self.shown_features],
                                  strict=True):
                bar.set_width(value)
                bar.set_alpha(0.3)
            self._set_static_text(self.ax_bars.title, f"preview: fit on all\n{N} samples, ◆ final")
            self.errorbars.set_segments([])
            self.shown_coef = np.zeros(len(self.shown_features))
            self.shown_stderr = np.full(len(self.shown_features), np.nan)
            return
        self._set_static_text(self.ax_bars.title, BARS_TITLE)
        for bar in self.bars:
            bar.set_alpha(1.0)
        s = i - 1  # the sample shown
        self.im_sample.set_data(np.clip(self.perturbed_image(s), 0, 1))
        off = int((~self.masks[s]).sum())
        self.ax_sample.set_title(
            f"sample {i}/{N}: {off} off\nf = {self.y[s]:.3f}, π = {self.weights[s]:.3f}",
            fontsize=9)
        n = np.arange(1, i + 1)
        for line, j in zip(self.path_lines, self.shown_features, strict=True):
            line.set_data(n, self.path.coef[:i, j])
        self.cursor.set_xdata([i, i])
        coef = self.path.coef[i - 1]
        stderr = self.current_stderr(i)
        shown = coef[self.shown_features]
        se = np.nan_to_num(stderr[self.shown_features], nan=0.0)
        for bar, value in zip(self.bars, shown, strict=True):
            bar.set_width(value)
        k = np.arange(len(shown))
        self.errorbars.set_segments(np.stack([np.c_[shown - se, k], np.c_[shown + se, k]],
                                             axis=1))
        self.shown_coef = shown
        self.shown_stderr = stderr[self.shown_features]
        if i == N:
            features = self.fit.features[np.argsort(-np.abs(self.fit.coef[self.fit.features]),
                                                    kind="stable")][:self.num_features]
            self.overlay_features = features
            self.im_overlay.set_data(self._topk_overlay(self.fit.coef, features))
            self.ax_overlay.title.set_text(f"top-{len(features)} superpixels\n(final fit)")
        else:
            features = np.argsort(-np.abs(coef), kind="stable")[:self.num_features]
            self.overlay_features = features
            self.im_overlay.set_data(self._topk_overlay(coef, features))
            self.ax_overlay.title.set_text(f"top-{len(features)} so far\n(green +, red −)")

    @property
    def target_label(self) -> str:
        t = self.target
        if self.class_names and t < len(self.class_names):
            return self.class_names[t]
        return f"class {t}"

    def static_frames(self, num: int = 6) -> list[int]:
        N = self.num_samples
        return sorted({0, 1, *np.geomspace(2, N, max(num - 2, 1)).round().astype(int).tolist()})
