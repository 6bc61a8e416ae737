"""The result of a LIME run, shared by the image, text and tabular explainers.

An :class:`Explanation` keeps everything the run computed: the interpretable samples
``Z``, the model outputs, the distances and kernel weights, and one
:class:`~lime_core.surrogate.SurrogateFit` per explained label. Widgets re-weight and
re-fit from these cached arrays (:meth:`Explanation.refit`) without calling the model
again. See the course notebooks ``course/03_lime_algorithm.ipynb``,
``course/04_lime_text.ipynb``, ``course/05_lime_images.ipynb`` and
``course/06_lime_tabular.ipynb``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lime_core._validation import check_choice, check_int, check_positive
from lime_core.kernels import exponential_kernel
from lime_core.surrogate import FEATURE_SELECTIONS, SurrogateFit, fit_surrogate

MODES = ("image", "text", "tabular")


def fit_labels(
    Z: np.ndarray,
    predictions: np.ndarray,
    weights: np.ndarray,
    labels: list[int],
    num_features: int,
    feature_selection: str,
    alpha: float,
) -> dict[int, SurrogateFit]:
    """One surrogate per label: ``fit_surrogate(Z, predictions[:, label], weights, ...)``."""
    return {
        int(label): fit_surrogate(
            Z, predictions[:, label], weights, num_features, feature_selection, alpha
        )
        for label in labels
    }


def choose_labels(first_prediction: np.ndarray, labels, top_labels) -> tuple[list[int], list | None]:
    """The labels to explain: ``labels`` if given, else the ``top_labels`` classes with
    the highest output on the instance (row 0), highest first (as lime)."""
    k = first_prediction.shape[0]
    if labels is not None:
        chosen = [int(lab) for lab in np.atleast_1d(labels)]
        for lab in chosen:
            if not 0 <= lab < k:
                raise ValueError(f"labels must be class indices in 0..{k - 1}, got {lab}")
        return chosen, None
    top_labels = check_int(top_labels, "top_labels", minimum=1)
    top = [int(i) for i in np.argsort(first_prediction, kind="stable")[-top_labels:][::-1]]
    return top, top


@dataclass
class Explanation:
    """A local explanation.

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Attributes
    ----------
    mode : {"image", "text", "tabular"}
    feature_names : list
        Superpixel ids (image), words (text) or conditions such as ``"age > 45.00"``
        (tabular).
    Z : (n, d) array
        Interpretable samples; row 0 is the instance (all ones for image and text).
    predictions : (n, k) array
        Model outputs on the perturbed inputs.
    distances, weights : (n,) arrays
        ``D(x, z_i)`` and kernel weights ``pi_x(z_i) = exp(-D^2 / (2 w^2))``.
    kernel_width : float
    fits : dict label -> SurrogateFit
    labels : list of int
        The explained labels, in order.
    top_labels : list of int or None
        Labels picked by ``top_labels`` (highest first), None if ``labels`` were given.
    num_features, feature_selection, alpha
        Surrogate settings.
    random_state : int or numpy.random.Generator
        What reproduces the run.
    model_calls : int
        Number of calls made to ``classifier_fn``.
    image, segments : arrays, image mode only
    text : str, text mode only
    row : (p,) array, tabular mode only
    """

    mode: str
    feature_names: list
    Z: np.ndarray
    predictions: np.ndarray
    distances: np.ndarray
    weights: np.ndarray
    kernel_width: float
    fits: dict[int, SurrogateFit]
    labels: list[int]
    top_labels: list[int] | None
    num_features: int
    feature_selection: str
    alpha: float
    random_state: Any
    model_calls: int
    image: np.ndarray | None = None
    segments: np.ndarray | None = None
    text: str | None = None
    row: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    # -- per-label views (dicts keyed by label, like lime's ``intercept``) --
    @property
    def intercept(self) -> dict[int, float]:
        return {lab: fit.intercept for lab, fit in self.fits.items()}

    @property
    def score(self) -> dict[int, float]:
        """Weighted R^2 of each label's surrogate."""
        return {lab: fit.score for lab, fit in self.fits.items()}

    @property
    def local_pred(self) -> dict[int, float]:
        return {lab: fit.local_pred for lab, fit in self.fits.items()}

    @property
    def stderr(self) -> dict[int, np.ndarray]:
        """Standard error of every coefficient (NaN for unselected features)."""
        return {lab: fit.stderr for lab, fit in self.fits.items()}

    def _label(self, label: int | None) -> int:
        if label is None:
            return self.labels[0]
        if label not in self.fits:
            raise ValueError(f"label must be one of the explained labels {self.labels}, got {label!r}")
        return int(label)

    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """``{label: [(feature index, weight)]}`` sorted by ``|weight|`` (lime's ``local_exp``)."""
        return {lab: fit.as_list() for lab, fit in self.fits.items()}

    def as_list(self, label: int | None = None) -> list[tuple[Any, float]]:
        """``[(feature name, weight)]`` for ``label`` (default: the first explained one),
        sorted by ``|weight|``."""
        fit = self.fits[self._label(label)]
        return [(self.feature_names[j], w) for j, w in fit.as_list()]

    def refit(
        self,
        kernel_width: float | None = None,
        num_features: int | None = None,
        feature_selection: str | None = None,
        alpha: float | None = None,
    ) -> Explanation:
        """A new explanation from the cached samples and predictions, with new
        surrogate settings. No model calls: ``model_calls`` is unchanged.

        ``weights = exponential_kernel(distances, kernel_width)`` is recomputed when
        ``kernel_width`` changes; every label's surrogate is refitted.
        """
        kw = self.kernel_width if kernel_width is None else check_positive(kernel_width, "kernel_width")
        nf = self.num_features if num_features is None else check_int(num_features, "num_features", minimum=1)
        fs = self.feature_selection if feature_selection is None else feature_selection
        check_choice(fs, "feature_selection", FEATURE_SELECTIONS)
        a = self.alpha if alpha is None else check_positive(alpha, "alpha", allow_zero=True)
        weights = self.weights if kw == self.kernel_width else exponential_kernel(self.distances, kw)
        fits = fit_labels(self.Z, self.predictions, weights, self.labels, nf, fs, a)
        return replace(
            self, weights=weights, kernel_width=kw, num_features=nf,
            feature_selection=fs, alpha=a, fits=fits,
        )

    def image_mask(
        self, label: int | None = None, num_features: int = 5, positive_only: bool = True
    ) -> np.ndarray:
        """(H, W) int mask of the ``num_features`` superpixels with the largest ``|weight|``:
        +1 where the superpixel pushes the label's output up, -1 where it pushes it down
        (only +1 with ``positive_only``), 0 elsewhere. Image mode only.
        See ``course/05_lime_images.ipynb``."""
        if self.mode != "image":
            raise ValueError(f"image_mask needs an image explanation, this one is mode={self.mode!r}")
        num_features = check_int(num_features, "num_features", minimum=1)
        values = np.zeros(len(self.feature_names), dtype=np.int8)
        for j, w in self.fits[self._label(label)].as_list()[:num_features]:
            if w > 0:
                values[j] = 1
            elif w < 0 and not positive_only:
                values[j] = -1
        return values[self.segments]

    def plot(self, label: int | None = None, num_features: int = 10, ax=None):
        """Matplotlib view: the image with supporting (green) and opposing (red)
        superpixels, or a bar chart of the weights for text and tables. Returns the axes."""
        import matplotlib.pyplot as plt

        label = self._label(label)
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        if self.mode == "image":
            img = np.asarray(self.image, dtype=float)
            if img.ndim == 2:  # grayscale: three equal channels, so colours can be blended in
                img = np.stack([img] * 3, axis=-1)
            low, high = float(img.min()), float(img.max())
            if low >= 0 and 1 < high <= 255:  # 8-bit values
                img = img / 255.0
            elif low < 0 or high > 1:  # any other range: stretch it to [0, 1]
                img = (img - low) / max(high - low, 1e-12)
            mask = self.image_mask(label, num_features, positive_only=False)
            overlay = img.copy()
            overlay[mask == 1] = 0.5 * overlay[mask == 1] + 0.5 * np.array([0.0, 0.8, 0.0])
            overlay[mask == -1] = 0.5 * overlay[mask == -1] + 0.5 * np.array([0.9, 0.0, 0.0])
            ax.imshow(np.clip(overlay, 0, 1))
            ax.set_axis_off()
        else:
            items = self.as_list(label)[:num_features][::-1]
            names = [str(n) for n, _ in items]
            vals = [w for _, w in items]
            ax.barh(names, vals, color=["tab:green" if v > 0 else "tab:red" for v in vals])
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_xlabel("surrogate weight")
        ax.set_title(f"LIME, label {label} (R² = {self.fits[label].score:.2f})")
        return ax

    def _repr_html_(self) -> str:
        """Plain HTML + inline SVG bar charts, one per explained label (no JavaScript,
        renders in JupyterLab and in exports)."""
        return "<div>" + "<hr/>".join(self._label_html(label) for label in self.labels) + "</div>"

    def _label_html(self, label: int) -> str:
        """The summary line, the weights as an SVG bar chart and (text) the tinted text."""
        fit = self.fits[label]
        items = self.as_list(label)[: self.num_features]
        scale = max([abs(w) for _, w in items] + [1e-12])
        bar_h, half = 20, 150
        rows = []
        for i, (name, w) in enumerate(items):
            y = i * bar_h
            length = half * abs(w) / scale
            x = 160 + half if w >= 0 else 160 + half - length
            colour = "#2ca02c" if w > 0 else "#d62728"
            rows.append(
                f'<text x="155" y="{y + 14}" text-anchor="end" font-size="12">'
                f"{html.escape(str(name))}</text>"
                f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" height="{bar_h - 6}" '
                f'fill="{colour}"/>'
                f'<text x="{160 + 2 * half + 5}" y="{y + 14}" font-size="11">{w:+.3f}</text>'
            )
        height = max(bar_h * len(items), bar_h)
        svg = (
            f'<svg width="{160 + 2 * half + 70}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="{160 + half}" y1="0" x2="{160 + half}" y2="{height}" stroke="black"/>'
            + "".join(rows)
            + "</svg>"
        )
        head = (
            f"<b>LIME ({self.mode})</b>, label {label}: intercept {fit.intercept:.3f}, "
            f"R² {fit.score:.3f}, local prediction {fit.local_pred:.3f}, "
            f"model output {self.predictions[0, label]:.3f}; {self.Z.shape[0]} samples, "
            f"{self.model_calls} model calls"
        )
        return f"{head}<br/>{svg}{self._text_html(label)}"

    def _text_html(self, label: int) -> str:
        """Text mode: the text with every word tinted by its weight (green +, red -)."""
        domain = self.extra.get("domain")
        if self.mode != "text" or domain is None:
            return ""
        coef = self.fits[label].coef
        scale = max(float(np.max(np.abs(coef))), 1e-12)
        spans = []
        for piece, j in zip(domain.pieces, domain.piece_feature, strict=True):
            text = html.escape(str(piece))
            if j < 0 or coef[j] == 0:
                spans.append(text)
                continue
            strength = abs(coef[j]) / scale
            rgb = "44,160,44" if coef[j] > 0 else "214,39,40"
            spans.append(f'<span style="background: rgba({rgb},{0.15 + 0.6 * strength:.2f})">{text}</span>')
        return '<p style="line-height: 1.8">' + "".join(spans) + "</p>"


def explain_from_samples(
    mode: str,
    feature_names: list,
    Z: np.ndarray,
    predictions: np.ndarray,
    distances: np.ndarray,
    kernel_width: float,
    labels,
    top_labels,
    num_features: int,
    feature_selection: str,
    alpha: float,
    random_state: Any,
    model_calls: int,
    **data: Any,
) -> Explanation:
    """The common second half of every explainer: kernel weights, label choice and one
    surrogate per label. ``data`` fills the mode-specific fields (image, segments, ...)."""
    check_choice(mode, "mode", MODES)
    weights = exponential_kernel(distances, kernel_width)
    chosen, top = choose_labels(predictions[0], labels, top_labels)
    fits = fit_labels(Z, predictions, weights, chosen, num_features, feature_selection, alpha)
    return Explanation(
        mode=mode, feature_names=list(feature_names), Z=Z, predictions=predictions,
        distances=distances, weights=weights, kernel_width=float(kernel_width), fits=fits,
        labels=chosen, top_labels=top, num_features=num_features,
        feature_selection=feature_selection, alpha=alpha, random_state=random_state,
        model_calls=model_calls, **data,
    )
