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
import numbers
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import check_choice, check_int, check_positive
from lime_core.kernels import exponential_kernel
from lime_core.surrogate import FEATURE_SELECTIONS, SurrogateFit, fit_surrogate

MODES = ("image", "text", "tabular")


@dataclass
class LimeSamples:
    """The first half of a LIME run: everything that needs the model, nothing that fits.

    Made by :func:`lime_core.lime_image.image_samples`,
    :func:`lime_core.lime_text.text_samples` and
    :func:`lime_core.lime_tabular.tabular_samples`; turned into an
    :class:`Explanation` by :func:`explain_from_samples`, as often as you like, with
    no further model calls (a widget's kernel-width slider does exactly that).

    Attributes
    ----------
    mode : {"image", "text", "tabular"}
    feature_names : list
        Superpixel ids, words, or conditions such as ``"age > 45.00"``.
    Z : numpy.ndarray, shape ``(n, d)``
        Interpretable samples (masks); row 0 is the instance.
    predictions : numpy.ndarray, shape ``(n, k)``
        Model outputs on the perturbed inputs.
    distances : numpy.ndarray, shape ``(n,)``
        ``D(x, z_i)`` used by the kernel.
    random_state : int or numpy.random.Generator
        What reproduces the samples.
    model_calls : int
        Calls made to ``classifier_fn``.
    data : dict
        Mode-specific pieces: ``image``, ``segments``, ``baseline`` (the image hidden
        superpixels show); ``text``, ``domain``, ``texts``; ``row``, ``sampler``,
        ``inputs``.
    """

    mode: str
    feature_names: list
    Z: np.ndarray
    predictions: np.ndarray
    distances: np.ndarray
    random_state: Any
    model_calls: int
    data: dict = field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        """Number of samples ``n`` (row 0 included)."""
        return int(self.Z.shape[0])

    def perturb(self, mask) -> Any:
        """The model input for any mask ``z`` (an image or a text; not for tables).

        Parameters
        ----------
        mask : array-like of bool, shape ``(d,)``

        Returns
        -------
        numpy.ndarray or str
        """
        z = np.asarray(mask, dtype=bool).reshape(1, -1)
        if z.shape[1] != self.Z.shape[1]:
            raise ValueError(f"mask must have {self.Z.shape[1]} entries, got {z.shape[1]}")
        if self.mode == "image":
            from lime_core.perturbation import masked_images

            d = self.data
            return masked_images(d["image"], d["segments"], z, d["baseline"])[0]
        if self.mode == "text":
            from lime_core.perturbation import perturb_text

            return perturb_text(self.data["domain"], z)[0]
        raise ValueError("perturb needs an image or text sample; tabular rows are drawn, not masked")

    def perturbed_input(self, i: int) -> Any:
        """The model input of sample ``i``: an image, a text or a table row."""
        i = check_int(i, "i", minimum=0, maximum=self.num_samples - 1)
        if self.mode == "image":
            from lime_core.perturbation import masked_images

            d = self.data
            return masked_images(d["image"], d["segments"], self.Z[i : i + 1], d["baseline"])[0]
        if self.mode == "text":
            return self.data["texts"][i]
        return self.data["inputs"][i]


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


def _label_index(label, k: int, name: str) -> int:
    """One output index: an int (numpy ints too, not bool, not 0.7) in ``0 .. k-1``."""
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, numbers.Integral):
        raise TypeError(f"{name} must be output indices (ints), got {type(label).__name__} {label!r}")
    label = int(label)
    if not 0 <= label < k:
        raise ValueError(
            f"{name} must be output indices in 0..{k - 1} (the model returns {k} "
            f"output{'s' if k != 1 else ''} per row), got {label}")
    return label


def choose_labels(first_prediction: np.ndarray, labels, top_labels) -> tuple[list[int], list | None]:
    """The labels to explain: ``labels`` if given, else the ``top_labels`` classes with
    the highest output on the instance (row 0), highest first (as lime).

    ``labels`` must be a non-empty sequence of distinct ints in ``0 .. k-1`` (or one
    int), with ``k`` the number of model outputs; ``top_labels`` an int in ``1 .. k``.
    """
    k = int(np.shape(first_prediction)[0])
    if k == 0:
        raise ValueError("classifier_fn must return at least one output per row, got 0 columns")
    if labels is not None:
        if isinstance(labels, (str, bytes)):
            raise TypeError(f"labels must be a sequence of output indices (ints), got str {labels!r}")
        try:
            rank = np.ndim(labels)
        except ValueError:  # a ragged nest numpy cannot shape
            rank = 2
        if rank > 1:
            raise ValueError(f"labels must be one output index or a 1-D sequence of them, got {labels!r}")
        items = [labels] if rank == 0 else list(labels)
        if not items:
            raise ValueError("labels must name at least one output to explain, got an empty sequence")
        chosen = [_label_index(lab, k, "labels") for lab in items]
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"labels must be distinct, got {chosen}")
        return chosen, None
    top_labels = check_int(top_labels, "top_labels", minimum=1)
    if top_labels > k:
        raise ValueError(f"top_labels must be <= {k}, the number of model outputs, got {top_labels}")
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

    def _label(self, target: int | None) -> int:
        if target is None:
            return self.labels[0]
        if isinstance(target, (bool, np.bool_)) or not isinstance(target, numbers.Integral):
            raise TypeError(
                f"target must be one of the explained labels {self.labels} (an int), "
                f"got {type(target).__name__} {target!r}")
        if target not in self.fits:
            raise ValueError(
                f"target must be one of the explained labels {self.labels}, got {target!r}")
        return int(target)

    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """``{label: [(feature index, weight)]}`` sorted by ``|weight|`` (lime's ``local_exp``)."""
        return {lab: fit.as_list() for lab, fit in self.fits.items()}

    @renamed_arguments({"label": "target"})
    def as_list(self, target: int | None = None) -> list[tuple[Any, float]]:
        """``[(feature name, weight)]`` for ``target`` (default: the first explained
        label), sorted by ``|weight|``.

        Parameters
        ----------
        target : int, optional
            One of ``labels``.

        Returns
        -------
        list of (name, float)
        """
        fit = self.fits[self._label(target)]
        return [(self.feature_names[j], w) for j, w in fit.as_list()]

    def attribution(self, target: int | None = None) -> np.ndarray:
        """The surrogate's weights shaped like the explained input (the map contract).

        * image: every pixel gets its superpixel's weight ``beta_j`` (in every channel),
          an array of the image's shape;
        * text: one weight per word of the text, in reading order (a word that occurs
          twice gets its weight twice in bag-of-words mode);
        * tabular: one weight per column of ``row``.

        Unselected features get 0. See :mod:`lime_core.attribution`.

        Parameters
        ----------
        target : int, optional
            One of ``labels`` (default the first).

        Returns
        -------
        numpy.ndarray
        """
        coef = np.asarray(self.fits[self._label(target)].coef, dtype=float)
        if self.mode == "image":
            painted = coef[self.segments]
            image = np.asarray(self.image)
            if image.ndim == 3:
                painted = np.repeat(painted[..., None], image.shape[2], axis=2)
            return painted
        if self.mode == "text":
            domain = self.extra["domain"]
            words = domain.piece_feature[domain.piece_feature >= 0]
            return coef[words]
        return coef.copy()

    def refit(
        self,
        kernel_width: float | None = None,
        num_features: int | None = None,
        feature_selection: str | None = None,
        alpha: float | None = None,
        *,
        labels=None,
    ) -> Explanation:
        """A new explanation from the cached samples and predictions, with new
        surrogate settings. No model calls: ``model_calls`` is unchanged.

        ``weights = exponential_kernel(distances, kernel_width)`` is recomputed when
        ``kernel_width`` changes; every label's surrogate is refitted. This is what the
        widgets call when a surrogate slider moves (``widgets/image_player.py``,
        ``widgets/text_player.py``).

        Parameters
        ----------
        kernel_width, num_features, feature_selection, alpha : optional
            New settings; ``None`` keeps the current one.
        labels : sequence of int, optional
            Explain these outputs instead (any column of ``predictions``).

        Returns
        -------
        Explanation

        Examples
        --------
        >>> import numpy as np, lime_core
        >>> train = np.random.default_rng(0).normal(size=(100, 2))
        >>> exp = lime_core.explain_tabular(np.zeros(2), lambda X: X[:, 0], train,
        ...                                 num_samples=300, random_state=0)
        >>> wide = exp.refit(kernel_width=10.0)
        >>> wide.kernel_width, wide.model_calls == exp.model_calls
        (10.0, True)
        """
        kw = self.kernel_width if kernel_width is None else check_positive(kernel_width, "kernel_width")
        nf = self.num_features if num_features is None else check_int(num_features, "num_features", minimum=1)
        fs = self.feature_selection if feature_selection is None else feature_selection
        check_choice(fs, "feature_selection", FEATURE_SELECTIONS)
        a = self.alpha if alpha is None else check_positive(alpha, "alpha", allow_zero=True)
        chosen, top = self.labels, self.top_labels
        if labels is not None:
            chosen, top = choose_labels(self.predictions[0], labels, None)
        weights = self.weights if kw == self.kernel_width else exponential_kernel(self.distances, kw)
        fits = fit_labels(self.Z, self.predictions, weights, chosen, nf, fs, a)
        return replace(
            self, weights=weights, kernel_width=kw, num_features=nf,
            feature_selection=fs, alpha=a, fits=fits, labels=chosen, top_labels=top,
        )

    def coefficient_stderr(self, coef, intercept: float, *, n: int | None = None,
                           target: int | None = None) -> np.ndarray:
        """Standard errors of given surrogate coefficients on the first ``n`` samples.

        The ridge sandwich estimate of :func:`lime_core.surrogate.ridge_stderr` with this
        explanation's weights, predictions and ``alpha``: what a widget shows next to
        the coefficients fitted on the samples seen so far. No model calls.

        Parameters
        ----------
        coef : array-like, shape ``(d,)``
            Coefficients fitted on the first ``n`` samples.
        intercept : float
        n : int, optional
            Samples used (default all).
        target : int, optional
            One of ``labels`` (default the first).

        Returns
        -------
        numpy.ndarray, shape ``(d,)``
            NaN where it is not defined (too few samples).
        """
        from lime_core.surrogate import ridge_stderr

        label = self._label(target)
        n = self.Z.shape[0] if n is None else check_int(n, "n", minimum=1,
                                                          maximum=self.Z.shape[0])
        if n < 2:
            return np.full(self.Z.shape[1], np.nan)
        return ridge_stderr(self.Z[:n], self.predictions[:n, label], self.weights[:n],
                            self.alpha, np.asarray(coef, dtype=float), float(intercept))

    def perturb(self, mask) -> Any:
        """The model input for any mask ``z`` over the features (no model call).

        Parameters
        ----------
        mask : array-like of bool, shape ``(d,)``

        Returns
        -------
        numpy.ndarray (image mode) or str (text mode)
        """
        return self.extra["samples"].perturb(mask)

    @renamed_arguments({"label": "target"})
    def image_mask(
        self, target: int | None = None, num_features: int = 5, positive_only: bool = True
    ) -> np.ndarray:
        """(H, W) int mask of the ``num_features`` superpixels with the largest ``|weight|``:
        +1 where the superpixel pushes the target's output up, -1 where it pushes it down
        (only +1 with ``positive_only``), 0 elsewhere. Image mode only.
        See ``course/05_lime_images.ipynb``.

        Parameters
        ----------
        target : int, optional
            One of ``labels`` (default the first).
        num_features : int
        positive_only : bool

        Returns
        -------
        numpy.ndarray of int8, shape ``(H, W)``
        """
        if self.mode != "image":
            raise ValueError(f"image_mask needs an image explanation, this one is mode={self.mode!r}")
        num_features = check_int(num_features, "num_features", minimum=1)
        values = np.zeros(len(self.feature_names), dtype=np.int8)
        for j, w in self.fits[self._label(target)].as_list()[:num_features]:
            if w > 0:
                values[j] = 1
            elif w < 0 and not positive_only:
                values[j] = -1
        return values[self.segments]

    @renamed_arguments({"label": "target"})
    def plot(self, target: int | None = None, num_features: int = 10, ax=None):
        """Matplotlib view: the image with supporting (green) and opposing (red)
        superpixels, or a bar chart of the weights for text and tables.

        Parameters
        ----------
        target : int, optional
            One of ``labels`` (default the first).
        num_features : int
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        label = self._label(target)
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
    samples: LimeSamples,
    *,
    kernel_width: float,
    target: int | None = None,
    labels=None,
    top_labels: int = 1,
    num_features: int = 10,
    feature_selection: str = "auto",
    alpha: float = 1.0,
) -> Explanation:
    """The second half of every LIME explainer: kernel weights, labels, surrogates.

    ``weights = exponential_kernel(samples.distances, kernel_width)``, then for every
    explained label the weighted ridge surrogate ``g(z) = b + sum_j beta_j z_j`` of
    :func:`lime_core.surrogate.fit_surrogate`. No model calls.

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Parameters
    ----------
    samples : LimeSamples
        From ``image_samples``, ``text_samples`` or ``tabular_samples``.
    kernel_width : float > 0
    target : int, optional
        The one output explained (same as ``labels=[target]``).
    labels : sequence of int, optional
        Outputs explained; default the ``top_labels`` highest on the instance.
    top_labels : int
    num_features : int
        Features kept by the surrogate.
    feature_selection : str
        See :func:`lime_core.surrogate.fit_surrogate`.
    alpha : float
        Ridge penalty of the surrogate.

    Returns
    -------
    Explanation

    Examples
    --------
    >>> import numpy as np
    >>> from lime_core.lime_tabular import tabular_samples
    >>> train = np.random.default_rng(0).normal(size=(100, 2))
    >>> samples = tabular_samples(np.zeros(2), lambda X: X[:, 0], train,
    ...                           num_samples=500, random_state=0)
    >>> narrow = explain_from_samples(samples, kernel_width=0.5)
    >>> wide = explain_from_samples(samples, kernel_width=5.0)
    >>> samples.model_calls, narrow.model_calls, wide.kernel_width
    (1, 1, 5.0)
    """
    if not isinstance(samples, LimeSamples):
        raise TypeError(
            "samples must be a LimeSamples (from image_samples, text_samples or "
            f"tabular_samples), got {type(samples).__name__}"
        )
    check_choice(samples.mode, "mode", MODES)
    kernel_width = check_positive(kernel_width, "kernel_width")
    num_features = check_int(num_features, "num_features", minimum=1)
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    if target is not None:
        if labels is not None:
            raise ValueError("target and labels: give at most one of them, got both")
        labels = [check_int(target, "target", minimum=0)]
    weights = exponential_kernel(samples.distances, kernel_width)
    chosen, top = choose_labels(samples.predictions[0], labels, top_labels)
    fits = fit_labels(samples.Z, samples.predictions, weights, chosen, num_features,
                      feature_selection, alpha)
    data = dict(samples.data)
    fields = {key: data.pop(key) for key in ("image", "segments", "text", "row") if key in data}
    data["samples"] = samples
    return Explanation(
        mode=samples.mode, feature_names=list(samples.feature_names), Z=samples.Z,
        predictions=samples.predictions, distances=samples.distances, weights=weights,
        kernel_width=float(kernel_width), fits=fits, labels=chosen, top_labels=top,
        num_features=num_features, feature_selection=feature_selection, alpha=alpha,
        random_state=samples.random_state, model_calls=samples.model_calls, extra=data,
        **fields,
    )
