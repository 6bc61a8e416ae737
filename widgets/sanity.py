"""Model-randomisation sanity check, cascading (``course/12_sanity_checks_axioms.ipynb``).

The slider randomises the network's layers from the top (output) down, cumulatively.
Each frame shows every method's map for the model randomised so far, next to the
original map, and the Spearman rank correlation ``rho(|m_orig|, |m_rand|)`` of every
method against the number of randomised layers. A method that explains the model
decorrelates quickly; one that only looks at the input (the edge detector) stays at 1
and fails the check. All maps are computed once by
:func:`lime_core.sanity.cascading_randomization`; frames only index them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lime_core._validation import check_int
from widgets._base import AnimatedWidget


def edge_detector(model: Any, x: Any, target: Any) -> np.ndarray:
    """A "saliency map" that ignores the model: the input's gradient magnitude (Sobel).

    ``m = sqrt(sobel_x(g)^2 + sobel_y(g)^2)`` of the channel-mean image ``g``. It looks
    plausible and cannot pass the randomisation check, which is the point.
    """
    from scipy.ndimage import sobel

    arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    grey = arr.reshape(-1, *arr.shape[-2:]).mean(axis=0)
    return np.hypot(sobel(grey, axis=0), sobel(grey, axis=1))


def default_methods() -> dict[str, Any]:
    """Gradient, gradient x input, Integrated Gradients, SmoothGrad and the edge detector."""
    from functools import partial

    from lime_core.gradients import gradient_times_input, integrated_gradients, saliency, smoothgrad

    return {
        "gradient": saliency,
        "gradient × input": gradient_times_input,
        "integrated gradients": partial(integrated_gradients, steps=16),
        "SmoothGrad": partial(smoothgrad, num_samples=10, random_state=0),
        "edge detector": edge_detector,
    }


def _default_model_and_input():
    """The zoo's husky/wolf CNN (cached weights) and a test image of it."""
    from widgets.image_player import _default_image_and_model

    image, _, _, module = _default_image_and_model(with_module=True)
    x = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)[None]
    return module, x, image


def _two_lines(name: str, width: int = 11) -> str:
    """Break a method name at a space so that each line has at most ~``width`` characters."""
    if len(name) <= width or " " not in name:
        return name
    _, cut = min((abs(i - len(name) / 2), i) for i, ch in enumerate(name) if ch == " ")
    return name[:cut] + "\n" + name[cut + 1:]


def _short(layer: str, width: int = 12) -> str:
    """A layer name short enough for a tick label (its last dotted parts)."""
    return layer if len(layer) <= width else "…" + layer[-(width - 1):]


class SanityCheckCascade(AnimatedWidget):
    """Cascading randomisation: maps and rank correlation as layers are randomised top-down.

    Frame 0 is the trained model; frame ``j`` has its top ``j`` layers re-initialised
    (:func:`lime_core.sanity.reinitialize_layer`). For each method the top row shows
    the map ``|m|`` at frame ``j``; the right panel plots Spearman's ``rho`` between the
    original and the randomised maps for every method, with a cursor at ``j``.

    Parameters
    ----------
    model : torch.nn.Module, optional
        Default: the zoo's husky/wolf CNN.
    x : array or tensor ``(1, C, H, W)``, optional
        Default: a husky/wolf test image.
    target : int, optional
        Class explained (default: the model's prediction for ``x``).
    methods : dict of str to callable, optional
        ``fn(model, x, target) -> map``; default :func:`default_methods`.
    layers : list of str, optional
        Layers to randomise (default: all with parameters).
    random_state : int or Generator
        Seeds the re-initialisation.
    image : (H, W, 3) array, optional
        What to show as the input (default: ``x`` in channels-last order).
    """

    figsize = (8.4, 3.4)

    def __init__(
        self,
        model: Any = None,
        x: Any = None,
        *,
        target: int | None = None,
        methods: Any = None,
        layers: Any = None,
        random_state: Any = 0,
        image: Any = None,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        import torch

        from lime_core.attribution import attribution_map
        from lime_core.sanity import cascading_randomization

        if model is None:
            model, default_x, default_image = _default_model_and_input()
            if x is None:
                x, image = default_x, default_image if image is None else image
        if x is None:
            raise ValueError("x must be given when a model is given")
        self.model = model
        self.x = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not isinstance(
            x, torch.Tensor) else x
        if self.x.ndim != 4 or self.x.shape[0] != 1:
            raise ValueError(f"x must be one image batch of shape (1, C, H, W), "
                             f"got shape {tuple(self.x.shape)}")
        if image is None:
            image = self.x[0].detach().cpu().numpy().transpose(1, 2, 0)
        self.image_array = np.asarray(image, dtype=float)
        if target is None:
            with torch.no_grad():
                target = int(model(self.x).argmax(dim=1)[0])
        self.target = check_int(target, "target", minimum=0)
        methods = default_methods() if methods is None else dict(methods)
        self.calls = 0

        def counted(fn):
            def wrapper(m, x, *, target):
                self.calls += 1
                return attribution_map(fn, m, x, target=target)
            return wrapper

        self.result = cascading_randomization(
            model, self.x, target=self.target,
            attribution_fn={k: counted(v) for k, v in methods.items()},
            layers=layers, random_state=random_state)
        self.method_names = list(self.result.method_names)
        self.frame_slider.description = "layers randomised"
        self._build_figure()
        self._layout([])
        self._set_num_frames(len(self.result.layer_names))
        self._invalidate()
        self._show_frame(0)

    # ------------------------------------------------------------------ state
    @property
    def model_calls(self) -> int:
        """Attribution computations run (each is one or more forward/backward passes)."""
        return self.calls

    @property
    def layer_names(self) -> list[str]:
        return list(self.result.layer_names)

    def correlations(self, j: int | None = None) -> dict[str, float]:
        """Spearman ``rho`` of every method at frame ``j`` (default: the current one)."""
        j = self.frame if j is None else j
        return {m: float(self.result.spearman[k, j]) for k, m in enumerate(self.method_names)}

    # ------------------------------------------------------------------ drawing
    def _build_figure(self) -> None:
        k = len(self.method_names)
        grid = self.fig.add_gridspec(2, k + 2, width_ratios=[1] * (k + 1) + [2.2])
        ax_in = self.fig.add_subplot(grid[0, 0])
        # nearest: each map pixel a flat block (what the map is); a smoothing filter
        # at this 2.7x up-scaling gives 2.8x larger PNG frames for the same picture
        ax_in.imshow(np.clip(self.image_array, 0, 1), interpolation="nearest")
        ax_in.set_title(f"input\n(class {self.target})", fontsize=8)
        self.map_images, self.original_images = [], []
        for c, name in enumerate(self.method_names):
            maps = self.result.maps[name]
            top = float(np.max(maps[0])) or 1.0
            ax_orig = self.fig.add_subplot(grid[0, c + 1])
            ax_orig.imshow(maps[0], cmap="magma", vmin=0, vmax=top, interpolation="nearest")
            ax_orig.set_title(_two_lines(name), fontsize=8)
            ax_rand = self.fig.add_subplot(grid[1, c + 1])
            im = ax_rand.imshow(maps[0], cmap="magma", interpolation="nearest")
            self.map_images.append(im)
            for ax in (ax_orig, ax_rand):
                ax.set_xticks([])
                ax.set_yticks([])
            if c == 0:
                ax_orig.set_ylabel("original", fontsize=8)
                ax_rand.set_ylabel("randomised", fontsize=8)
        ax_in.set_xticks([])
        ax_in.set_yticks([])
        self.ax_text = self.fig.add_subplot(grid[1, 0])
        self.ax_text.set_axis_off()
        self.note = self.ax_text.text(0.0, 0.9, "", fontsize=8, va="top")
        ax = self.ax_rho = self.fig.add_subplot(grid[:, -1])
        steps = np.arange(len(self.result.layer_names))
        for c, name in enumerate(self.method_names):
            ax.plot(steps, self.result.spearman[c], "o-", ms=3, label=name)
        ax.set_xticks(steps, [_short(n) for n in self.result.layer_names], rotation=60,
                      fontsize=8, ha="right", rotation_mode="anchor")
        ax.set_ylabel("Spearman ρ with original", fontsize=9)
        ax.set_ylim(-0.2, 1.05)
        ax.axhline(0, color="0.5", lw=0.8)
        # under the edge detector's line at 1 and right of the first steep drop: where the
        # randomised maps' rho has fallen, the upper right is empty (lower left hid their ends)
        ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.92), handlelength=1.2,
                  borderaxespad=0.3)
        ax.tick_params(axis="y", labelsize=8)
        self.cursor = ax.axvline(0, color="0.3", ls=":")
        self._animate(*self.map_images, self.cursor, self.note)

    def _draw_frame(self, i: int) -> None:
        i = int(np.clip(i, 0, len(self.result.layer_names) - 1))
        self.frame = i
        for im, name in zip(self.map_images, self.method_names, strict=True):
            m = self.result.maps[name][i]
            im.set_data(m)
            im.set_clim(0, float(np.max(m)) or 1.0)
        self.cursor.set_xdata([i, i])
        layer = self.result.layer_names[i]
        text = "trained\nmodel" if i == 0 else f"top {i} layer(s)\nrandom, down\nto {_short(layer)}"
        self.note.set_text(text)
