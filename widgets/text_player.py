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

    figsize = (8.4, 2.9)
    relayout_on_redraw = False  # the words are laid out in pixels once (placeholder labels)

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
        self._show_counterfactual()
        return proba

    def _show_counterfactual(self) -> None:
        """Frame 0 shows the sentence with the clicked words veiled and its prediction."""
        if self.frame_slider.value != 0:
            self._sync(setattr, self.frame_slider, "value", 0)
        else:
            self._show_frame(0)

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
        self._show_counterfactual()

    def _update_counterfactual(self, proba: np.ndarray) -> None:  # the line under the words
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
        self._prepare_bars()
        shown = np.array([self.bar_values(c) for c in self.path.coef[min(5, self.num_samples - 1):]])
        self._scale = float(np.max(np.abs(shown), initial=0.0)) or 1.0
        # sticky limits: kept while the bars fit them and fill at least 40% of them, so
        # a kernel-width step or the other class of a two-class model (the same bars,
        # negated) redraws no background
        lo, hi = self.ax_bars.get_xlim()
        if lo != -hi or not 0.4 * hi / 1.15 <= self._scale <= hi / 1.15 * (1 + 1e-9):
            self.ax_bars.set_xlim(-1.15 * self._scale, 1.15 * self._scale)
            self._invalidate()
        if self.num_frames != self.num_samples + 1:
            self._set_num_frames(self.num_samples + 1)
        self._show_frame(self.frame)

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        from matplotlib.ticker import MaxNLocator

        self.ax_text, self.ax_bars = self.fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.55, 1]})
        ax = self.ax_text
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        # the status line is the text panel's title: above the words, never over them
        self.info = ax.set_title(" ", fontsize=10, loc="left")
        self.ax_bars.axvline(0, color="0.5", lw=0.8)
        self.ax_bars.tick_params(labelsize=9)
        self.ax_bars.xaxis.set_major_locator(MaxNLocator(4, symmetric=True))
        self.ax_bars.ticklabel_format(axis="x", useOffset=False, style="plain")
        # placeholder labels as wide as the widest real one, so the frozen layout fits them
        widest = max([*self.domain.features, f"{self.num_words} other words (sum)"], key=len)
        n = min(self.top_k, self.num_words) + 1
        self.ax_bars.set_yticks(np.arange(n), [widest] * n, fontsize=9)
        self.bars_title = self.ax_bars.set_title(" ", fontsize=10)
        self.bars = []
        self.errorbars = None
        self.bar_labels: list[str] = []
        # lay the words out once the layout engine has placed the axes
        self._freeze_layout()
        self._place_words()
        # the bar labels are animated texts where the tick labels would be: a refit that
        # reorders the top words then redraws no background
        tick = self.ax_bars.yaxis.get_major_ticks()[0]
        where, va, ha = self.ax_bars.get_yaxis_text1_transform(
            tick.get_pad() + tick.get_tick_padding())
        self.ax_bars.set_yticks(np.arange(n), [""] * n)
        self.bar_label_texts = [self.ax_bars.text(0, y, "", transform=where, va=va, ha=ha,
                                                  fontsize=9) for y in range(n)]
        self._animate(*(v for v, _ in self.veils), self.info, self.bars_title,
                      *self.bar_label_texts)

    def _place_words(self) -> None:
        """Lay the sentence out on lines inside the text panel, measured with the renderer.

        The largest font from 11 to 8 pt at which every word fits is used; a text too
        long even at 8 pt shows its first words and "... (+n words)". Each word gets a
        veil (a rectangle drawn over it: white = removed in this sample; at the last
        frame the colour of its weight).
        """
        from matplotlib.patches import Rectangle

        ax = self.ax_text
        renderer = self.canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        tokens = []  # (text, feature, gap_before)
        gap = False
        for piece, feature in zip(self.domain.pieces, self.domain.piece_feature, strict=True):
            if feature < 0:
                mark = piece.strip()
                if mark:
                    tokens.append((mark, -1, piece[:1].isspace()))
                gap = piece[-1:].isspace() or not mark
                continue
            tokens.append((piece, int(feature), gap))
            gap = False
        to_axes = ax.transAxes.inverted()
        for fontsize in (11, 10, 9, 8):
            px = fontsize * self.fig.dpi / 72.0
            line_h, space = 1.5 * px, 0.3 * px
            artists = [ax.text(0, 0, t, fontsize=fontsize, family="monospace", va="top")
                       for t, _, _ in tokens]
            widths = [a.get_window_extent(renderer).width for a in artists]
            x, y, placed, fits = 0.0, 0.0, [], True
            for (_, _f, gap_before), width in zip(tokens, widths, strict=True):
                lead = space if (gap_before and x > 0) else 0.0
                if x > 0 and x + lead + width > box.width:
                    x, y, lead = 0.0, y + line_h, 0.0
                if y + line_h > box.height:
                    fits = False
                    break
                placed.append((x + lead, y))
                x += lead + width
            if fits or fontsize == 8:
                break
            for a in artists:
                a.remove()
        self.word_fontsize = fontsize
        for a in artists[len(placed):]:
            a.remove()
        if not fits:
            # leave room for the ellipsis on the last line
            while placed and placed[-1][1] + 2 * line_h > box.height and \
                    placed[-1][0] + widths[len(placed) - 1] > box.width - 8 * px:
                artists[len(placed) - 1].remove()
                placed.pop()
            hidden = sum(1 for _, f, _ in tokens[len(placed):] if f >= 0)
            lx, ly = (placed[-1][0] + widths[len(placed) - 1] + space, placed[-1][1]) \
                if placed else (0.0, 0.0)
            ax.text(*to_axes.transform((box.x0 + lx, box.y1 - ly)), f"… (+{hidden} words)",
                    fontsize=fontsize, va="top", color="0.3")
        self.piece_artists, self.veils = [], []
        for artist, (xx, yy), (_, feature, _) in zip(artists, placed, tokens, strict=False):
            artist.set_position(to_axes.transform((box.x0 + xx, box.y1 - yy)))
            self.piece_artists.append((artist, feature))
            if feature < 0:
                continue
            (x0, y0), (x1, y1) = to_axes.transform(
                artist.get_window_extent(renderer).get_points())
            veil = Rectangle((x0 - 0.003, y0 - 0.01), x1 - x0 + 0.006, y1 - y0 + 0.02,
                             transform=ax.transAxes, fc="white", ec="none", alpha=0.8,
                             visible=False)
            ax.add_patch(veil)
            self.veils.append((veil, feature))

    top_k = 10

    def _prepare_bars(self) -> None:
        """Bars for the ``top_k`` words of the final fit; the other words share one bar."""
        from matplotlib.collections import LineCollection

        d = self.num_words
        order = np.argsort(-np.abs(self.fit.coef), kind="stable")
        k = min(self.top_k, d)
        if d == k + 1:  # grouping one word would hide nothing
            k = d
        self.bar_features = order[:k]
        self.grouped_features = np.sort(order[k:])
        labels = [self.domain.features[j] for j in self.bar_features]
        if len(self.grouped_features):
            labels.append(f"{len(self.grouped_features)} other words (sum)")
        for bar in self.bars:
            bar.remove()
        if self.errorbars is not None:
            self.errorbars.remove()
        yy = np.arange(len(labels))
        self.bars = list(self.ax_bars.barh(yy, np.zeros(len(labels)), color="0.6",
                                           edgecolor="0.3"))
        self.errorbars = LineCollection(np.zeros((len(labels), 2, 2)), colors="k",
                                        linewidths=1.0)
        self.ax_bars.add_collection(self.errorbars)
        if len(labels) != len(self.bar_labels):
            self.ax_bars.set_yticks(yy, [""] * len(labels))
            self.ax_bars.set_ylim(len(labels) - 0.5, -0.5)
            self._invalidate()
        self.bar_labels = labels
        for k, text in enumerate(self.bar_label_texts):
            text.set_text(labels[k] if k < len(labels) else "")
        self._animate(*self.bars, self.errorbars)

    def bar_values(self, coef: np.ndarray) -> np.ndarray:
        """The plotted values: the top words' coefficients, then the others' sum."""
        values = coef[self.bar_features]
        if len(self.grouped_features):
            values = np.append(values, coef[self.grouped_features].sum())
        return values

    def _draw_frame(self, i: int) -> None:
        N = self.num_samples
        i = int(np.clip(i, 0, N))
        self.frame = i
        final = i == N
        if i == 0:
            mask = ~self.removed  # the clicked counterfactual (all words when none clicked)
        else:
            mask = self.masks[i - 1]
        coef = self.path.coef[i - 1] if i > 0 else np.zeros(self.num_words)
        for veil, feature in self.veils:
            if final:
                veil.set_facecolor(_weight_colour(coef[feature], self._scale))
                veil.set_alpha(0.55)
                veil.set_visible(True)
            else:
                veil.set_facecolor("white")
                veil.set_alpha(0.8)
                veil.set_visible(not mask[feature])
        name = self._class_label(self.target)
        if i == 0 and self.removed.any():
            proba = getattr(self, "counterfactual_proba", self.original)
            self.info.set_text(f"x′ without {int(self.removed.sum())} word(s): P({name}) = "
                               f"{proba[self.target]:.3f} (was {self.original[self.target]:.3f})")
        elif i == 0:
            self.info.set_text(f"P({name}) = {self.y[0]:.3f} · N = {N}, w = "
                               f"{self.kernel_width:.3g}: press Play")
        else:
            off = int((~mask).sum())
            self.info.set_text(f"sample {i}/{N}: {off} removed, f = {self.y[i - 1]:.3f}, "
                               f"π = {self.weights[i - 1]:.3f}")
        se = np.zeros(self.num_words)
        if i >= 2:
            se = np.nan_to_num(self.explanation.coefficient_stderr(
                coef, float(self.path.intercept[i - 1]), n=i, target=self.target), nan=0.0)
        values = self.bar_values(coef)
        shown_se = se[self.bar_features]
        if len(self.grouped_features):
            shown_se = np.append(shown_se, 0.0)
        for bar, value in zip(self.bars, values, strict=True):
            bar.set_width(value)
            bar.set_color(_weight_colour(value, self._scale) if final else "0.6")
            bar.set_edgecolor("0.3")
        k = np.arange(len(values))
        self.errorbars.set_segments(
            np.stack([np.c_[values - shown_se, k], np.c_[values + shown_se, k]], axis=1)
            if i > 0 else [])
        self.shown_coef, self.shown_stderr = coef, se
        self.bars_title.set_text(f"weights after {i} samples (±1 s.e.)")
        for button, c in zip(self.token_buttons, coef, strict=True):
            button.style.button_color = _weight_colour(c, self._scale) if final else None
