"""Deletion and insertion curves, animated (``course/11_evaluating_explanations.ipynb``).

Several attribution maps of one image are ranked unit by unit (patches of the image).
Deletion removes the most relevant units first and follows the model's score (a
faithful map makes it fall fast: low AUC); insertion starts from a blurred image and
puts the most relevant units back first (a faithful map makes it rise fast: high AUC).
Each frame removes/inserts one more step of units; the curves of all methods grow
together and the images show the selected method's current input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lime_core._validation import check_array, check_choice, check_int, check_random_state
from widgets._base import AnimatedWidget, CountingModel, choice, int_slider


def _default_image_model_and_maps(random_state: Any = 0):
    """A husky/wolf test image, the zoo's CNN and five attribution maps of it.

    Maps (all ``(H, W)``): |gradient|, gradient x input, Integrated Gradients (black
    baseline), LIME (superpixel weights spread over their pixels) and a random map
    (the reference every method should beat).
    """
    import torch

    from lime_core.gradients import gradient_times_input, integrated_gradients, saliency
    from lime_core.lime_image import explain_image
    from widgets.image_player import _default_image_and_model

    image, predict_proba, _, module = _default_image_and_model(with_module=True)
    target = int(np.argmax(predict_proba(image[None])[0]))
    x = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1))[None], dtype=torch.float32)
    maps = {
        "gradient": saliency(module, x, target=target).numpy()[0].sum(axis=0),
        "gradient × input": gradient_times_input(module, x, target=target).numpy()[0].sum(axis=0),
        "integrated gradients": integrated_gradients(module, x, target=target, steps=32)
        .numpy()[0].sum(axis=0),
    }
    explanation = explain_image(image, predict_proba, labels=[target], num_samples=300,
                                random_state=random_state)
    coef = explanation.fits[target].coef
    maps["LIME"] = coef[explanation.segments]
    rng, _ = check_random_state(random_state)
    maps["random"] = rng.random(image.shape[:2])
    return image, predict_proba, maps, target


class DeletionInsertionCurves(AnimatedWidget):
    """Deletion and insertion curves with AUC for several attribution maps of one image.

    For a map ``a``, units (``patch_size`` x ``patch_size`` patches) are ranked by
    ``sum_{u in unit} a_u``; at step ``t`` of ``T`` the top ``round(t U / T)`` units are
    removed (deletion: replaced by ``deletion_baseline``, zeros by default) or inserted
    (insertion: shown over ``insertion_baseline``, a blurred image by default), and ``AUC = integral_0^1 score(fraction) d fraction`` (trapezoid rule).
    The curves come from :func:`lime_core.metrics.deletion_curve` and
    :func:`lime_core.metrics.insertion_curve`, computed once; frames only index them.

    Parameters
    ----------
    image : (H, W, 3) array, optional
    classifier_fn : callable, optional
        ``f(images) -> (n, k)`` probabilities.
    attributions : dict of str to (H, W) or (H, W, 3) arrays, optional
        Default: gradient, gradient x input, Integrated Gradients, LIME and random maps
        of a husky/wolf test image under the zoo's CNN.
    target : int, optional
        Class followed (default: the top class).
    steps : int
        Steps ``T`` of the curves.
    patch_size : int
        Side of a unit, in pixels.
    blur_sigma : float
        Blur of a ``"blur"`` baseline.
    deletion_baseline, insertion_baseline : {"zero", "channel_mean", "blur"}
        What a removed unit shows (deletion) and the image insertion starts from, as the
        ``baseline`` of :func:`lime_core.metrics.deletion_curve` /
        :func:`~lime_core.metrics.insertion_curve`. Defaults ``"zero"`` and ``"blur"``.
    """

    figsize = (8.4, 3.0)

    def __init__(
        self,
        image: Any = None,
        classifier_fn: Any = None,
        attributions: Any = None,
        *,
        target: int | None = None,
        steps: int = 32,
        patch_size: int = 4,
        blur_sigma: float = 5.0,
        deletion_baseline: str = "zero",
        insertion_baseline: str = "blur",
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        if image is None or classifier_fn is None or attributions is None:
            d_image, d_fn, d_maps, d_target = _default_image_model_and_maps()
            image = d_image if image is None else image
            classifier_fn = d_fn if classifier_fn is None else classifier_fn
            attributions = d_maps if attributions is None else attributions
            target = d_target if target is None else target
        self.image_array = check_array(image, "image", ndim=3)
        if not isinstance(attributions, dict) or not attributions:
            raise TypeError("attributions must be a non-empty dict of name -> map, "
                            f"got {type(attributions).__name__}")
        self.attributions = {str(k): check_array(v, f"attributions[{k!r}]", ndim=(2, 3))
                             for k, v in attributions.items()}
        self.model = CountingModel(classifier_fn)
        if target is None:
            target = int(np.argmax(self.model.predict(self.image_array[None])[0]))
        self.target = check_int(target, "target", minimum=0)
        self.patch_size = check_int(patch_size, "patch_size", minimum=1)
        self.blur_sigma = float(blur_sigma)
        from lime_core.metrics import BASELINES

        self.deletion_baseline = check_choice(deletion_baseline, "deletion_baseline", BASELINES)
        self.insertion_baseline = check_choice(insertion_baseline, "insertion_baseline",
                                               BASELINES)
        names = list(self.attributions)
        self.method_control = choice("images of", names, names[0])
        self.steps_control = int_slider("steps", check_int(steps, "steps", minimum=2), 4, 128)
        # the method's images, titles and bold curves are all animated: no background redraw
        self.method_control.observe(lambda c: self._guarded(self._show_frame, self.frame),
                                    names="value")
        self.steps_control.observe(lambda c: self._guarded(self._run), names="value")
        self._build_figure()
        self._layout([self.method_control, self.steps_control])
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

    def auc(self, kind: str = "deletion") -> dict[str, float]:
        """AUC of every method's ``kind`` curve."""
        curves = self.deletion if kind == "deletion" else self.insertion
        return {name: c.auc for name, c in curves.items()}

    # ------------------------------------------------------------------ work
    def _run(self) -> None:
        from lime_core.metrics import deletion_curve, insertion_curve
        from lime_core.segmentation import grid_segments

        h, w = self.image_array.shape[:2]
        self.units = grid_segments((h, w), -(-h // self.patch_size), -(-w // self.patch_size))
        common = {"target": self.target, "steps": self.steps, "unit": "superpixel",
                  "segments": self.units, "blur_sigma": self.blur_sigma}
        self.deletion = {name: deletion_curve(self.model, self.image_array, a,
                                              baseline=self.deletion_baseline, **common)
                         for name, a in self.attributions.items()}
        self.insertion = {name: insertion_curve(self.model, self.image_array, a,
                                                baseline=self.insertion_baseline, **common)
                          for name, a in self.attributions.items()}
        self.removed_image = self._baseline_image(self.deletion_baseline)
        self.blurred = self._baseline_image(self.insertion_baseline)  # insertion's start
        self._prepare_axes()
        n_frames = len(next(iter(self.deletion.values())).fractions)
        if self.num_frames != n_frames:
            self._set_num_frames(n_frames)
        self._invalidate()
        self._show_frame(min(self.frame, n_frames - 1))

    def _baseline_image(self, name: str) -> np.ndarray:
        """The image with every unit removed, for a baseline name (as the metrics build it)."""
        if name == "zero":
            return np.zeros_like(self.image_array)
        if name == "channel_mean":
            return np.broadcast_to(self.image_array.mean(axis=(0, 1)), self.image_array.shape)
        from scipy.ndimage import gaussian_filter

        return gaussian_filter(self.image_array, sigma=(self.blur_sigma, self.blur_sigma, 0))

    def step_images(self, t: int, method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The deletion and insertion inputs of ``method`` at step ``t``."""
        method = self.method if method is None else method
        out = []
        for curve, base in ((self.deletion[method], self.removed_image),
                            (self.insertion[method], self.blurred)):
            n_units = len(curve.order)
            count = int(round(curve.fractions[t] * n_units))
            changed = np.zeros(n_units, dtype=bool)
            changed[curve.order[:count]] = True
            take_base = changed if curve.kind == "deletion" else ~changed
            out.append(np.where(take_base[self.units][..., None], base, self.image_array))
        return out[0], out[1]

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        self.ax_del_img, self.ax_ins_img, self.ax_del, self.ax_ins = self.fig.subplots(
            1, 4, gridspec_kw={"width_ratios": [1, 1, 1.5, 1.5]})
        for ax in (self.ax_del_img, self.ax_ins_img):
            ax.set_xticks([])
            ax.set_yticks([])
        self.im_del = self.ax_del_img.imshow(np.zeros((2, 2, 3)), interpolation="nearest")
        self.im_ins = self.ax_ins_img.imshow(np.zeros((2, 2, 3)), interpolation="nearest")
        for ax in (self.ax_del_img, self.ax_ins_img):  # two-line titles: room in the layout
            ax.set_title(" \n ", fontsize=9)
        for ax, kind in ((self.ax_del, "deletion"), (self.ax_ins, "insertion")):
            ax.set_xlim(0, 1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(f"fraction {'removed' if kind == 'deletion' else 'inserted'}",
                          fontsize=9)
            ax.tick_params(labelsize=8)
        self.cursors = [ax.axvline(0, color="0.3", ls=":") for ax in (self.ax_del, self.ax_ins)]
        self.lines: dict[str, Any] = {}
        self._animate(self.im_del, self.im_ins, *self.cursors, self.ax_del_img.title,
                      self.ax_ins_img.title)

    def _prepare_axes(self) -> None:
        for lines in self.lines.values():
            for line in lines:
                line.remove()
        self.lines = {}
        for k, name in enumerate(self.attributions):
            colour = "0.5" if name == "random" else f"C{k % 10}"
            d_line = self.ax_del.plot([], [], "-", color=colour, lw=1.4,
                                      label=f"{name}: {self.deletion[name].auc:.3f}")[0]
            i_line = self.ax_ins.plot([], [], "-", color=colour, lw=1.4,
                                      label=f"{name}: {self.insertion[name].auc:.3f}")[0]
            self.lines[name] = (d_line, i_line)
            self._animate(d_line, i_line)
        self.ax_del.set_title("deletion AUC\n(lower is better)", fontsize=9)
        self.ax_ins.set_title("insertion AUC\n(higher is better)", fontsize=9)
        self.ax_del.legend(fontsize=8, loc="upper right", handlelength=1.2, borderaxespad=0.3)
        self.ax_ins.legend(fontsize=8, loc="lower right", handlelength=1.2, borderaxespad=0.3)
        h, w = self.image_array.shape[:2]
        for im in (self.im_del, self.im_ins):
            im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))

    def _draw_frame(self, i: int) -> None:
        n = len(next(iter(self.deletion.values())).fractions)
        i = int(np.clip(i, 0, n - 1))
        self.frame = i
        for name, (d_line, i_line) in self.lines.items():
            d, s = self.deletion[name], self.insertion[name]
            d_line.set_data(d.fractions[: i + 1], d.scores[: i + 1])
            i_line.set_data(s.fractions[: i + 1], s.scores[: i + 1])
            bold = name == self.method
            d_line.set_linewidth(2.6 if bold else 1.2)
            i_line.set_linewidth(2.6 if bold else 1.2)
        frac = float(next(iter(self.deletion.values())).fractions[i])
        for cursor in self.cursors:
            cursor.set_xdata([frac, frac])
        deleted, inserted = self.step_images(i)
        self.im_del.set_data(np.clip(deleted, 0, 1))
        self.im_ins.set_data(np.clip(inserted, 0, 1))
        m = self.method
        self.ax_del_img.set_title(f"{m[:18]}\n{frac:.0%} removed, f = "
                                  f"{self.deletion[m].scores[i]:.2f}", fontsize=9)
        self.ax_ins_img.set_title(f"{m[:18]}\n{frac:.0%} inserted, f = "
                                  f"{self.insertion[m].scores[i]:.2f}", fontsize=9)
