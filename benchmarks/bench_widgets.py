"""How snappy is the image player? Python-side time per frame and per kernel-width change.

Setting (issue 5): ``ImagePerturbationPlayer`` on a 224x224 photo (scikit-image's
astronaut via the zoo), quickshift superpixels (lime's defaults), N = 500 samples, a
near-free classifier, matplotlib's Agg backend. Goals:

* median time per animation frame (one ``step()``: update the artists, draw, encode the
  frame for the ``ipywidgets.Image``) <= 50 ms;
* median time per kernel-width change (new weights, the whole ridge path and the final
  fit from the cached model outputs, then the new frame) <= 100 ms.

Side by side, in the same rounds:

* a frame against the naive way of animating in a notebook: a new figure with the same
  four panels per frame, drawn and encoded (what ``Output`` + ``clear_output`` does, minus
  the flicker);
* a kernel-width change against what it costs without cached predictions: running LIME
  again (lime_core's ``explain_image``, and lime 0.2.0.1's ``LimeImageExplainer`` as the
  reference) at N = 500.

Times are wall-clock medians; the CPU time of this process is printed too, since the
course machines are often shared (compare load averages). Run ``python -m benchmarks
widgets`` (one BLAS thread, as ``make bench`` sets it).
"""

from __future__ import annotations

import io
import os
import time

import numpy as np

N_SAMPLES = 500
# (format, pixel ratio): the default (PNG at 2x, sharp on a projector and a 2x display),
# JPEG at 2x, and the first version's frames (JPEG at 80 dpi = 0.8x, stretched by the browser)
CONFIGS = (("png", 2.0), ("jpeg", 2.0), ("jpeg", 0.8))
SIZE = 224
FRAMES = 40
# a drag of the kernel-width slider from 0.1 to 1 and back (what the throttle lets through)
WIDTHS = tuple(np.round(np.r_[np.geomspace(0.1, 1.0, 20), np.geomspace(1.0, 0.1, 20)[1:]], 4))


def _classifier(image_shape):
    """A near-free two-class model: a logistic function of a fixed linear score."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=image_shape) / np.sqrt(np.prod(image_shape))

    def predict_proba(batch):
        s = np.asarray(batch).reshape(len(batch), -1) @ weights.ravel()
        p = 1.0 / (1.0 + np.exp(-4.0 * s))
        return np.c_[1.0 - p, p]

    return predict_proba


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _naive_frame(player, i: int) -> bytes:
    """The same frame drawn the naive way: a new figure every time, drawn and encoded."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=player.figsize, dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    ax0, ax1, ax2, ax3 = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1.4, 1.2]})
    ax0.imshow(player.image_array)
    ax1.imshow(np.clip(player.perturbed_image(i - 1), 0, 1))
    ax1.set_title(f"sample {i}: f = {player.y[i - 1]:.3f}, π = {player.weights[i - 1]:.3f}")
    n = np.arange(1, i + 1)
    for j in player.shown_features:
        ax2.plot(n, player.path.coef[:i, j])
    coef = player.path.coef[i - 1, player.shown_features]
    ax3.barh(np.arange(len(coef)), coef)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from threadpoolctl import threadpool_limits

    from lime_core.lime_image import explain_image
    from lime_core.zoo.images import load_photo
    from widgets.image_player import ImagePerturbationPlayer

    image = load_photo("astronaut", size=SIZE)
    f = _classifier(image.shape)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"image {SIZE}x{SIZE}, N = {N_SAMPLES}, Agg; load average {load:.1f}")

    with threadpool_limits(limits=1):
        results = {}
        for fmt, ratio in CONFIGS:
            player = ImagePerturbationPlayer(image, f, num_samples=N_SAMPLES, debounce=0,
                                             image_format=fmt, pixel_ratio=ratio,
                                             random_state=0)
            d = player.num_superpixels
            frame_wall, frame_cpu, naive_wall = [], [], []
            for k in range(FRAMES):  # rounds alternate ours / naive
                w, c = _timed(player.step)
                frame_wall.append(w)
                frame_cpu.append(c)
                if (fmt, ratio) == CONFIGS[0] and k % 4 == 0:
                    naive_wall.append(_timed(lambda p=player: _naive_frame(p, p.frame))[0])
            player.go_to(N_SAMPLES // 2)
            calls = player.model_calls
            kw_wall, kw_cpu = [], []
            redraws_before = player.renders
            backgrounds_before = player.background_draws
            for width in WIDTHS:
                w, c = _timed(lambda v=width, p=player: setattr(p.kernel_width_control,
                                                                    "value", v))
                kw_wall.append(w)
                kw_cpu.append(c)
            assert player.model_calls == calls, "a kernel-width change called the model"
            assert player.renders == redraws_before + len(WIDTHS)
            backgrounds = player.background_draws - backgrounds_before
            results[f"{fmt} at {ratio:g}x"] = (np.median(frame_wall), np.median(frame_cpu),
                            np.median(kw_wall), np.median(kw_cpu),
                            np.median(naive_wall) if naive_wall else float("nan"), backgrounds)

        rerun_ours = _timed(lambda: explain_image(
            image, f, segments=player.segments, num_samples=N_SAMPLES, num_features=5,
            kernel_width=0.5, random_state=0))[0]
        try:
            from lime import lime_image

            explainer = lime_image.LimeImageExplainer(kernel_width=0.5, random_state=0)
            segments = player.segments
            rerun_lime = _timed(lambda: explainer.explain_instance(
                image, f, top_labels=1, num_samples=N_SAMPLES, num_features=5,
                segmentation_fn=lambda img: segments, batch_size=50))[0]
        except ImportError:
            rerun_lime = float("nan")

    print(f"{d} quickshift superpixels")
    print("| frame format | frame (wall) | frame (CPU) | naive new figure | ratio | "
          "kernel width (wall) | kernel width (CPU) |")
    print("|---|---|---|---|---|---|---|")
    for fmt, (fw, fc, kw, kc, naive, _) in results.items():
        ratio = f"{fw / naive:.2f}" if np.isfinite(naive) else "-"
        naive_text = f"{1000 * naive:.1f} ms" if np.isfinite(naive) else "-"
        print(f"| {fmt} | {1000 * fw:.1f} ms | {1000 * fc:.1f} ms | {naive_text} | {ratio} | "
              f"{1000 * kw:.1f} ms | {1000 * kc:.1f} ms |")
    default = results[f"{CONFIGS[0][0]} at {CONFIGS[0][1]:g}x"]
    kw = default[2]
    print(f"{len(WIDTHS)} kernel-width values (a drag 0.1 -> 1 -> 0.1): the static background "
          f"was redrawn {default[5]} times (axis limits left behind)")
    print(f"kernel-width change: {1000 * kw:.1f} ms vs running LIME again: lime_core "
          f"{1000 * rerun_ours:.0f} ms ({rerun_ours / kw:.0f}x), lime 0.2.0.1 "
          f"{1000 * rerun_lime:.0f} ms ({rerun_lime / kw:.0f}x)")
    frame_ok = default[0] <= 0.050
    kw_ok = default[2] <= 0.100
    print(f"goals: frame <= 50 ms {'met' if frame_ok else 'NOT met'}, "
          f"kernel width <= 100 ms {'met' if kw_ok else 'NOT met'} (wall, default PNG at 2x)")


if __name__ == "__main__":
    main()
