"""Text LIME and counterfactuals on clickable words (``course/04_lime_text.ipynb``).

The sentence is a row of toggle buttons, one per word. Clicking a word removes it
(every occurrence, as text LIME does) and shows the model's new prediction: the
counterfactual "if the input were x'". Play runs text LIME with the same animation
as the image player: frame ``n`` shows the ``n``-th perturbed sentence, the model's
output for it, its kernel weight, and the surrogate refitted on the first ``n``
samples. At the last frame the words are coloured by their weight.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets
import numpy as np

from lime_core._validation import (
    check_int,
    check_positive,
    check_random_state,
)
from widgets._base import AnimatedWidget, CountingModel, int_slider, log_slider
from widgets._paths import ridge_path

DEFAULT_TEXT = "the movie was not truly enjoyable , in fact it was not superb !"


def _default_model():
    """The zoo's bag-of-words sentiment model (trained on the zoo's reviews)."""
    from lime_core.zoo.text import load_sentiment, train_sentiment_bow

    model = train_sentiment_bow(load_sentiment())
    return model.predict_proba, list(model.class_names)


def _weight_colour(value: float, scale: float) -> str:
    """Green for positive, red for negative weights, stronger for larger ``|value|``."""
    t = 0.0 if scale <= 0 else min(abs(value) / scale, 1.0)
    if value > 0:
        rgb = (1 - 0.6 * t, 1 - 0.2 * t, 1 - 0.6 * t)
    else:
        rgb = (1 - 0.1 * t, 1 - 0.6 * t, 1 - 0.6 * t)
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgb)


class TextPerturbationPlayer(AnimatedWidget):
    """Clickable counterfactuals and text LIME animated one sample at a time.

    Text LIME (lime's defaults): the interpretable features are the distinct words;
    a mask removes a uniformly random number ``s in 1..d`` of them; the weight is

        pi(z) = exp(-D(z, 1)^2 / (2 w^2)),   D = 100 * cosine distance to the all-ones mask,

    with ``w = 25``; the surrogate is a weighted ridge regression ``g(z) = b + beta . z``
    of the model's probability for ``target``.

    Parameters
    ----------
    text : str, optional
        The sentence (default: a review of the zoo's sentiment data).
    classifier_fn : callable, optional
        ``f(list of str) -> (n, k)`` probabilities (default: the zoo's bag-of-words
        sentiment model).
    kernel_width : float
    num_samples : int
    target : int, optional
        Class explained (default: the model's top class for ``text``).
    alpha : float
        Ridge penalty.
    random_state : int or Generator
    class_names : sequence of str, optional
    batch_size : int
        Sentences per model call.
    debounce : float
    """

    figsize = (10.0, 3.2)

    def __init__(
        self,
        text: str | None = None,
        classifier_fn: Any = None,
        *,
        kernel_width: float = 25.0,
        num_samples: int = 200,
        target: int | None = None,
        alpha: float = 1.0,
        random_state: Any = 0,
        class_names: Any = None,
        batch_size: int = 500,
        debounce: float = 0.15,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(debounce=debounce, **base_kwargs)
        from lime_core.perturbation import tokenise

        if classifier_fn is None:
            classifier_fn, default_names = _default_model()
            class_names = default_names if class_names is None else class_names
        text = DEFAULT_TEXT if text is None else text
        self.domain = tokenise(text, bow=True)
        self.model = CountingModel(classifier_fn)
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.random_state = random_state
        check_random_state(random_state)
        self.alpha = check_positive(alpha, "alpha")
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        num_samples = check_int(num_samples, "num_samples", minimum=2)

        self.original = self._predict([text])[0]
        k = len(self.original)
        if target is None:
            target = int(np.argmax(self.original))
        self.target = check_int(target, "target", minimum=0, maximum=k - 1)
        self.removed = np.zeros(self.num_words, dtype=bool)

        # --- controls
        self.kernel_width_control = log_slider("kernel width", check_positive(
            kernel_width, "kernel_width"), 1.0, 200.0)
        self.num_samples_control = int_slider("samples N", num_samples, 10,
                                              max(2000, num_samples))
        options = [(self._class_label(c), c) for c in range(k)]
        self.target_control = ipywidgets.Dropdown(options=options, value=self.target,
                                                  description="target")
        self._kernel_width_update = self._throttled(self._refit)
        self.kernel_width_control.observe(lambda c: self._kernel_width_update(), names="value")
        self.num_samples_control.observe(lambda c: self._guarded(self._run), names="value")
        self.target_control.observe(self._on_target, names="value")
        self.token_buttons = [self._token_button(i, w) for i, w in enumerate(self.domain.features)]
        self.counterfactual = ipywidgets.HTML()
        self.restore_button = ipywidgets.Button(description="restore all words")
        self.restore_button.on_click(lambda b: self._guarded(self.restore))

        self._build_figure()
        self._layout([self.kernel_width_control, self.num_samples_control, self.target_control])
        tokens = ipywidgets.HBox(self.token_buttons,
                                 layout=ipywidgets.Layout(flex_flow="row wrap"))
        self.children = [tokens, ipywidgets.HBox([self.counterfactual, self.restore_button]),
                         *self.children]
        self._update_counterfactual(self.original)
        self._run()

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        return self.model.calls

    @property
    def words(self) -> list[str]:
        return list(self.domain.features)

    @property
    def num_words(self) -> int:
        return len(self.domain.features)

    @property
    def kernel_width(self) -> float:
        return float(self.kernel_width_control.value)

    @property
    def num_samples(self) -> int:
        return int(self.num_samples_control.value)

    def coefficients_at(self, n: int) -> np.ndarray:
        n = check_int(n, "n", minimum=1, maximum=self.num_samples)
        return self.path.coef[n - 1]

    def _class_label(self, c: int) -> str:
        if self.class_names and c < len(self.class_names):
            return self.class_names[c]
        return f"class {c}"

    def _predict(self, texts: list[str]) -> np.ndarray:
        out = [self.model.predict(texts[s:s + self.batch_size])
               for s in range(0, len(texts), self.batch_size)]
        return np.vstack(out)

    # ------------------------------------------------------------------ counterfactuals
    def _token_button(self, i: int, word: str) -> ipywidgets.ToggleButton:
        button = ipywidgets.ToggleButton(value=False, description=word, tooltip="remove " + word,
                                         layout=ipywidgets.Layout(width="auto"))
        button.observe(lambda change: self._on_token(i, bool(change["new"])), names="value")
        return button

    _syncing = False

    def _on_token(self, i: int, removed: bool) -> None:
        if not self._syncing:
            self._guarded(self.toggle_word, i, removed)

    def counterfactual_text(self) -> str:
        """The sentence with the clicked words removed."""
        return self.samples.perturb(~self.removed)

    def toggle_word(self, i: int, removed: bool | None = None) -> np.ndarray:
        """Remove (or restore) word ``i`` and predict the counterfactual sentence.

        One model call. Returns the new probabilities.
        """
        i = check_int(i, "i", minimum=0, maximum=self.num_words - 1)
        self.removed[i] = (not self.removed[i]) if removed is None else removed
        self._syncing = True
        try:
            self.token_buttons[i].value = bool(self.removed[i])
        finally:
            self._syncing = False
        proba = self._predict([self.counterfactual_text()])[0]
        self.counterfactual_proba = proba
        self._update_counterfactual(proba)
        return proba

    def restore(self) -> None:
        """Put every removed word back (no model call)."""
        self.removed[:] = False
        self._syncing = True
        try:
            for b in self.token_buttons:
                b.value = False
        finally:
            self._syncing = False
        self.counterfactual_proba = self.original
        self._update_counterfactual(self.original)

    def _update_counterfactual(self, proba: np.ndarray) -> None:
        t = self.target
        name = html.escape(self._class_label(t))
        if self.removed.any():
            sentence = html.escape(self.counterfactual_text())
            self.counterfactual.value = (
                f"<b>x′</b> = “{sentence}”: P({name}) = <b>{proba[t]:.3f}</b> "
                f"(original {self.original[t]:.3f}, change {proba[t] - self.original[t]:+.3f})")
        else:
            self.counterfactual.value = (f"P({name} | original) = <b>{proba[t]:.3f}</b>. "
                                         "Click words to remove them.")

    # ------------------------------------------------------------------ LIME
    def _run(self) -> None:
        from lime_core.lime_text import text_samples

        self.samples = text_samples(self.domain.text, self._predict, num_samples=self.num_samples,
                                    random_state=self.random_state)
        self.recorded_random_state = self.samples.random_state
        self.masks = self.samples.Z.astype(bool)
        self.texts = self.samples.data["texts"]
        self.predictions = self.samples.predictions
        self.distances = self.samples.distances
        self.explanation = None
        self._refit()

    def _on_target(self, change: dict) -> None:
        self.target = int(change["new"])
        self._guarded(self._refit)
        proba = getattr(self, "counterfactual_proba", self.original)
        self._update_counterfactual(proba)

    def _refit(self) -> None:
        from lime_core.explanation import explain_from_samples

        settings = dict(kernel_width=self.kernel_width, num_features=self.num_words,
                        feature_selection="none", alpha=self.alpha)
        if self.explanation is None:
            self.explanation = explain_from_samples(self.samples, target=self.target, **settings)
        else:
            self.explanation = self.explanation.refit(labels=[self.target], **settings)
        self.weights = self.explanation.weights
        self.fit = self.explanation.fits[self.target]
        self.y = self.predictions[:, self.target]
        Z = self.masks.astype(float)
        self.path = ridge_path(Z, self.y, self.weights, self.alpha)
        values = self.path.coef[min(5, self.num_samples - 1):]
        self._scale = float(np.max(np.abs(values), initial=1e-6))
        self.ax_bars.set_xlim(-1.15 * self._scale, 1.15 * self._scale)
        if self.num_frames != self.num_samples + 1:
            self._set_num_frames(self.num_samples + 1)
        self._redraw()

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        from matplotlib.collections import LineCollection

        self.ax_text, self.ax_bars = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        ax = self.ax_text
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        # one text artist per piece, laid out once on wrapped lines
        self.piece_artists = []
        x, y, line_chars = 0.0, 0.85, 42
        for piece, feature in zip(self.domain.pieces, self.domain.piece_feature, strict=True):
            if feature < 0 and piece.strip() == "":
                x += 0.012
                continue
            width = (len(piece) + 0.3) / line_chars
            if x + width > 1.0:
                x, y = 0.0, y - 0.13
            artist = ax.text(x, y, piece, fontsize=11, family="monospace", va="center")
            self.piece_artists.append((artist, int(feature)))
            x += width
        self.info = ax.text(0.0, 0.05, "", fontsize=9, va="bottom")
        d = self.num_words
        yy = np.arange(d)
        self.bars = self.ax_bars.barh(yy, np.zeros(d), color="0.6")
        self.errorbars = LineCollection(np.zeros((d, 2, 2)), colors="k", linewidths=1.0)
        self.ax_bars.add_collection(self.errorbars)
        self.ax_bars.set_yticks(yy, self.domain.features, fontsize=8)
        self.ax_bars.set_ylim(d - 0.5, -0.5)
        self.ax_bars.axvline(0, color="0.5", lw=0.8)
        self.ax_bars.tick_params(labelsize=7)
        self.bars_title = self.ax_bars.set_title("", fontsize=9)
        # the words are static; a removed word is covered by a white veil, and at the
        # end every word gets a veil in its weight's colour. Veils are rectangles, far
        # cheaper to draw per frame than text, placed once the layout is frozen.
        self._freeze_layout()
        from matplotlib.patches import Rectangle

        renderer = self.canvas.get_renderer()
        to_axes = ax.transAxes.inverted()
        self.veils = []
        for artist, feature in self.piece_artists:
            (x0, y0), (x1, y1) = to_axes.transform(artist.get_window_extent(renderer).get_points())
            veil = Rectangle((x0 - 0.004, y0 - 0.01), x1 - x0 + 0.008, y1 - y0 + 0.02,
                             transform=ax.transAxes, fc="white", ec="none", alpha=0.75,
                             visible=False)
            ax.add_patch(veil)
            self.veils.append((veil, feature))
        self._animate(*(v for v, _ in self.veils), self.info, *self.bars, self.errorbars,
                      self.bars_title)

    def _draw_frame(self, i: int) -> None:
        N = self.num_samples
        i = int(np.clip(i, 0, N))
        self.frame = i
        final = i == N
        mask = self.masks[i - 1] if i > 0 else np.ones(self.num_words, dtype=bool)
        coef = self.path.coef[i - 1] if i > 0 else np.zeros(self.num_words)
        for veil, feature in self.veils:
            if feature < 0:
                continue
            if final:
                veil.set_facecolor(_weight_colour(coef[feature], self._scale))
                veil.set_alpha(0.55)
                veil.set_visible(True)
            else:
                veil.set_facecolor("white")
                veil.set_alpha(0.8)
                veil.set_visible(not mask[feature])
        if i == 0:
            self.info.set_text(f"the sentence: P({self._class_label(self.target)}) = "
                               f"{self.y[0]:.3f}.  Press Play.")
        else:
            off = int((~mask).sum())
            self.info.set_text(f"sample {i}/{N}: {off} word(s) removed, "
                               f"f = {self.y[i - 1]:.3f}, π = {self.weights[i - 1]:.3f}")
        se = np.zeros(self.num_words)
        if i >= 2:
            se = np.nan_to_num(self.explanation.coefficient_stderr(
                coef, float(self.path.intercept[i - 1]), n=i, target=self.target), nan=0.0)
        for bar, value in zip(self.bars, coef, strict=True):
            bar.set_width(value)
            bar.set_color(_weight_colour(value, self._scale) if final else "0.6")
            bar.set_edgecolor("0.3")
        k = np.arange(self.num_words)
        self.errorbars.set_segments(np.stack([np.c_[coef - se, k], np.c_[coef + se, k]], axis=1)
                                    if i > 0 else [])
        self.shown_coef, self.shown_stderr = coef, se
        self.bars_title.set_text(f"word weights after {i} samples (±1 s.e.)")
        for button, c in zip(self.token_buttons, coef, strict=True):
            button.style.button_color = _weight_colour(c, self._scale) if final else None
