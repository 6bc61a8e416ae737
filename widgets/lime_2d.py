"""LIME in two dimensions, the lecture's picture (``course/02_lime_intuition_2d.ipynb``).

A 2-D classifier's decision regions fill the background; the explained instance is a
bold red cross inside a dashed ring of radius one kernel width; perturbation samples appear one per frame with a size proportional to
their kernel weight and the colour of the class the model predicts for them; the
dashed line is where the weighted linear surrogate fitted on the samples so far
crosses 1/2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lime_core._validation import (
    check_array,
    check_int,
    check_positive,
    check_random_state,
)
from widgets._base import AnimatedWidget, CountingModel, float_slider, int_slider, log_slider
from widgets._paths import ridge_path

CLASS_COLOURS = np.array([[0.23, 0.40, 0.80, 1.0], [0.85, 0.35, 0.10, 1.0],
                          [0.20, 0.65, 0.25, 1.0], [0.55, 0.30, 0.65, 1.0]])


def _default_model_and_data():
    """The zoo's two-moons data and its nonlinear classifier."""
    from lime_core import zoo

    data = zoo.load_two_moons(random_state=0)
    model = zoo.train_two_moons_model(data)
    return model.predict_proba, np.asarray(data.X_train if hasattr(data, "X_train") else data.X)


def gaussian_cloud(x: np.ndarray, num_samples: int, scale: np.ndarray,
                   random_state: Any = None) -> tuple[np.ndarray, Any]:
    """``z_i = x + scale * e_i`` with ``e_i ~ N(0, I)``; row 0 is ``x`` itself.

    Returns the samples and the recorded random state.
    """
    rng, recorded = check_random_state(random_state)
    noise = rng.normal(size=(num_samples, len(x)))
    noise[0] = 0.0
    return x + noise * scale, recorded


def _nice_step(lo: float, hi: float) -> float:
    """A round slider step giving about 200-2000 positions between ``lo`` and ``hi``."""
    span = float(hi - lo)
    return float(10 ** np.floor(np.log10(span / 200))) if span > 0 else 0.01


class LimeIntuition2D(AnimatedWidget):
    """The lecture's 2-D picture of LIME, animated one sample at a time.

    For the instance ``x`` LIME draws ``z_i = x + s e_i`` (``e_i ~ N(0, I)``), asks the
    model ``f(z_i)`` (probability of ``target``), weighs every sample by

        pi_x(z) = exp(-||z - x||^2 / (2 w^2))       (kernel width ``w``)

    and fits ``g(z) = b + beta . z`` by weighted ridge regression. The dashed line is
    ``g(z) = 1/2``, the local linear decision boundary. Frame ``n`` shows the first
    ``n`` samples and the surrogate fitted on them.

    Parameters
    ----------
    classifier_fn : callable, optional
        ``f(points (n, 2)) -> (n, k)`` probabilities (default: the zoo's two-moons
        classifier).
    x : (2,) array, optional
        The explained instance (default ``(0.5, 0.25)``, near the moons' boundary).
    data : (m, 2) array, optional
        Points used to choose the plotted region and the sampling scale (default: the
        two-moons training data).
    kernel_width : float
        ``w`` in data units.
    num_samples : int
        ``N``.
    sampling_scale : float, optional
        ``s``; default: the standard deviation of ``data`` per coordinate.
    target : int
        Class whose probability is explained.
    alpha : float
        Ridge penalty of the surrogate.
    random_state : int or Generator
    resolution : int
        Grid points per axis for the background (one model call).
    feature_names : (str, str)
        Names of the two axes (and of the sliders that move ``x``), e.g.
        ``("temperature", "age")``.
    debounce : float
        Seconds between updates while a continuous slider moves.

    Every control redraws at once, at any frame: the kernel width changes the dashed
    ring (and the dot sizes and the fit), moving ``x`` or changing ``N`` draws a new
    cloud and keeps the animation at the same step.
    """

    figsize = (6.6, 3.4)

    def __init__(
        self,
        classifier_fn: Any = None,
        x: Any = None,
        *,
        data: Any = None,
        kernel_width: float = 0.5,
        num_samples: int = 100,
        sampling_scale: float | None = None,
        target: int = 1,
        alpha: float = 1e-3,
        random_state: Any = 0,
        resolution: int = 120,
        feature_names: Any = ("x₁", "x₂"),
        debounce: float = 0.15,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(debounce=debounce, **base_kwargs)
        if classifier_fn is None:
            classifier_fn, default_data = _default_model_and_data()
            data = default_data if data is None else data
        self.model = CountingModel(classifier_fn)
        if data is None:
            data = np.array([[-1.5, -1.0], [2.5, 1.5]])
        self.data = check_array(data, "data", ndim=2, min_rows=2)
        if self.data.shape[1] != 2:
            raise ValueError(f"data must have 2 columns, got shape {self.data.shape}")
        x = np.array([0.5, 0.25]) if x is None else check_array(x, "x", ndim=1)
        if x.shape != (2,):
            raise ValueError(f"x must be a point (x1, x2), got shape {x.shape}")
        names = [str(n) for n in feature_names] if feature_names is not None else []
        if len(names) != 2:
            raise ValueError(f"feature_names must name the 2 axes, got {feature_names!r}")
        self.feature_names = names
        self.target = check_int(target, "target", minimum=0)
        self.alpha = check_positive(alpha, "alpha")
        self.random_state = random_state
        check_random_state(random_state)
        resolution = check_int(resolution, "resolution", minimum=10)
        scale = self.data.std(axis=0) if sampling_scale is None \
            else check_positive(sampling_scale, "sampling_scale")
        self.sampling_scale = np.broadcast_to(np.asarray(scale, dtype=float), (2,)).copy()
        lo, hi = self.data.min(axis=0), self.data.max(axis=0)
        pad = 0.15 * (hi - lo)
        self.lo, self.hi = lo - pad, hi + pad

        self.kernel_width_control = log_slider("kernel width", check_positive(
            kernel_width, "kernel_width"), 0.02, 20.0)
        self.num_samples_control = int_slider("samples N", check_int(
            num_samples, "num_samples", minimum=3), 5, max(500, num_samples))
        self.x1_control = float_slider(names[0], float(x[0]), float(self.lo[0]),
                                       float(self.hi[0]), _nice_step(self.lo[0], self.hi[0]))
        self.x2_control = float_slider(names[1], float(x[1]), float(self.lo[1]),
                                       float(self.hi[1]), _nice_step(self.lo[1], self.hi[1]))
        self._kernel_width_update = self._throttled(self._refit)
        self.kernel_width_control.observe(lambda c: self._kernel_width_update(), names="value")
        self._move_update = self._throttled(self._run)
        self.x1_control.observe(lambda c: self._move_update(), names="value")
        self.x2_control.observe(lambda c: self._move_update(), names="value")
        self.num_samples_control.observe(lambda c: self._guarded(self._run), names="value")

        self._decision_regions(resolution)
        self._build_figure()
        self._layout([self.kernel_width_control, self.num_samples_control,
                      self.x1_control, self.x2_control])
        self._run()

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        return self.model.calls

    @property
    def kernel_width(self) -> float:
        return float(self.kernel_width_control.value)

    @property
    def num_samples(self) -> int:
        return int(self.num_samples_control.value)

    @property
    def x(self) -> np.ndarray:
        return np.array([self.x1_control.value, self.x2_control.value], dtype=float)

    def coefficients_at(self, n: int) -> tuple[np.ndarray, float]:
        """``(beta, b)`` of the surrogate fitted on the first ``n`` samples."""
        n = check_int(n, "n", minimum=1, maximum=self.num_samples)
        return self.path.coef[n - 1], float(self.path.intercept[n - 1])

    # ------------------------------------------------------------------ work
    def _decision_regions(self, resolution: int) -> None:
        g1 = np.linspace(self.lo[0], self.hi[0], resolution)
        g2 = np.linspace(self.lo[1], self.hi[1], resolution)
        G1, G2 = np.meshgrid(g1, g2)
        grid = np.c_[G1.ravel(), G2.ravel()]
        proba = self.model.predict(grid)
        if self.target >= proba.shape[1]:
            raise ValueError(f"target must be < {proba.shape[1]} (the model's classes), "
                             f"got {self.target}")
        self.num_classes = proba.shape[1]
        self.grid_proba = proba[:, self.target].reshape(resolution, resolution)
        self.grid_class = proba.argmax(axis=1).reshape(resolution, resolution)

    def _run(self) -> None:
        """Draw the cloud around ``x`` and ask the model once."""
        from lime_core.kernels import euclidean_distance

        self.samples, self.recorded_random_state = gaussian_cloud(
            self.x, self.num_samples, self.sampling_scale, self.random_state)
        self.predictions = self.model.predict(self.samples)
        self.y = self.predictions[:, self.target]
        self.predicted_class = self.predictions.argmax(axis=1)
        self.distances = euclidean_distance(self.samples, self.x)
        self._refit()

    def _refit(self) -> None:
        """Kernel weights and the surrogate path; no model call."""
        from lime_core.kernels import exponential_kernel

        self.weights = exponential_kernel(self.distances, self.kernel_width)
        self.path = ridge_path(self.samples, self.y, self.weights, self.alpha)
        if self.num_frames != self.num_samples + 1:
            self._set_num_frames(self.num_samples + 1)
        self._show_frame(self.frame)

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        from matplotlib.colors import ListedColormap

        ax = self.ax = self.fig.add_subplot(1, 1, 1)
        extent = (self.lo[0], self.hi[0], self.lo[1], self.hi[1])
        light = CLASS_COLOURS[: self.num_classes].copy()
        light[:, :3] = 0.7 + 0.3 * light[:, :3]
        ax.imshow(self.grid_class, origin="lower", extent=extent, aspect="auto",
                  cmap=ListedColormap(light), vmin=-0.5, vmax=self.num_classes - 0.5,
                  interpolation="nearest")
        ax.contour(np.linspace(self.lo[0], self.hi[0], self.grid_proba.shape[1]),
                   np.linspace(self.lo[1], self.hi[1], self.grid_proba.shape[0]),
                   self.grid_proba, levels=[0.5], colors="0.35", linewidths=1.0)
        from matplotlib.patches import Ellipse

        self.scatter = ax.scatter([], [], s=[], edgecolors="k", linewidths=0.3, zorder=3)
        (self.boundary,) = ax.plot([], [], "k--", lw=2.0, zorder=4, label="g(z) = 1/2")
        # the kernel width as a ring of radius w around x (weight exp(-1/2) = 0.61 on it)
        self.ring = Ellipse((0, 0), 1, 1, fill=False, ec="0.15", ls=":", lw=1.5, zorder=4)
        ax.add_patch(self.ring)
        (self.cross,) = ax.plot([], [], "X", color="red", mec="k", mew=1.2, ms=15, zorder=5)
        ax.set_xlim(self.lo[0], self.hi[0])
        ax.set_ylim(self.lo[1], self.hi[1])
        ax.set_xlabel(self.feature_names[0], fontsize=10)
        ax.set_ylabel(self.feature_names[1], fontsize=10)
        ax.tick_params(labelsize=9)
        self.title = ax.set_title(" ", fontsize=10)
        self._animate(self.scatter, self.boundary, self.ring, self.cross, self.title)

    def boundary_points(self, n: int) -> np.ndarray:
        """Two points of the line ``b + beta . z = 1/2`` clipped to the plot (empty if none)."""
        beta, b = self.coefficients_at(n)
        corners_x = np.array([self.lo[0], self.hi[0]])
        corners_y = np.array([self.lo[1], self.hi[1]])
        if abs(beta[1]) >= abs(beta[0]) and beta[1] != 0:
            xs = corners_x
            ys = (0.5 - b - beta[0] * xs) / beta[1]
        elif beta[0] != 0:
            ys = corners_y
            xs = (0.5 - b - beta[1] * ys) / beta[0]
        else:
            return np.empty((0, 2))
        return np.c_[xs, ys]

    def _draw_frame(self, i: int) -> None:
        i = int(np.clip(i, 0, self.num_samples))
        self.frame = i
        x = self.x
        self.cross.set_data([x[0]], [x[1]])
        self.ring.set_center((x[0], x[1]))
        self.ring.width = self.ring.height = 2 * self.kernel_width
        self.scatter.set_offsets(self.samples[:i] if i else np.empty((0, 2)))
        self.scatter.set_sizes(8.0 + 120.0 * self.weights[:i])
        self.scatter.set_facecolor(CLASS_COLOURS[self.predicted_class[:i] % len(CLASS_COLOURS)])
        if i == 0:
            self.boundary.set_data([], [])
            self.title.set_text(f"N = {self.num_samples} samples ready, w = "
                                f"{self.kernel_width:.2g} (ring): press Play")
            return
        pts = self.boundary_points(i)
        self.boundary.set_data(pts[:, 0], pts[:, 1])
        beta, b = self.coefficients_at(i)
        self.title.set_text(
            f"n = {i} of {self.num_samples}, w = {self.kernel_width:.2g}:  g(z) = {b:.2f} "
            f"{beta[0]:+.2g}·z₁ {beta[1]:+.2g}·z₂")
