"""Kernel-side cost of every control of every course widget, at the course's settings.

Issue 14 asks that a control's change reach the screen within 0.2 s for controls that
only refit (cached predictions) and 1 s for controls that call the model, on 2 cores.
The real-browser test (``tests/test_browser.py``) measures the whole path; this
benchmark measures the kernel's part (callback, refit, draw, PNG encode), median of
``ROUNDS`` changes back and forth, and sets each saving side by side in the same rounds:

* **layout kept**: a redraw whose texts did not grow keeps the frozen layout
  (``widgets._base._layout_state``) vs the same change with the constrained-layout pass
  forced (what every redraw cost before);
* **rows reused**: the kernel-width explorer's new N reuses the predictions of the rows
  it already has (``widgets._base.PrefixReuse``) vs predicting all N again.

Run ``python -m benchmarks widget_controls`` (one BLAS thread, as ``make bench`` sets it).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

ROUNDS = 4
REFIT_GOAL_S, MODEL_GOAL_S = 0.2, 1.0


def _course_widgets():
    """The widgets as the course notebooks build them (tests/test_browser.py's list)."""
    from lime_core import zoo
    from widgets import (
        DeletionInsertionCurves,
        ImagePerturbationPlayer,
        IntegratedGradientsPath,
        KernelWidthExplorer,
        LimeIntuition2D,
        SanityCheckCascade,
        ShapleyExplorer,
        TextPerturbationPlayer,
    )

    def image_player():
        animals = zoo.load_husky_wolf("test", n=4, random_state=0)
        cnn = zoo.load_husky_wolf_cnn()
        return ImagePerturbationPlayer(animals.images[0], cnn.predict_proba,
                                       class_names=animals.class_names, baseline="grey",
                                       num_samples=150, num_features=5, debounce=0)

    return {
        "LIME in 2-D": lambda: LimeIntuition2D(debounce=0),
        "text player": lambda: TextPerturbationPlayer(debounce=0),
        "image player": image_player,
        "kernel width": lambda: KernelWidthExplorer(debounce=0),
        "IG path": lambda: IntegratedGradientsPath(steps=20, method="riemann_right",
                                                   debounce=0),
        "Shapley": lambda: ShapleyExplorer(num_permutations=40, random_state=0, debounce=0),
        "deletion curves": lambda: DeletionInsertionCurves(steps=16, debounce=0),
        "sanity cascade": lambda: SanityCheckCascade(random_state=0, debounce=0),
    }


def _two_values(control):
    """Two values of ``control`` to move between (a neighbour of its value, and back)."""
    import ipywidgets

    value = control.value
    if isinstance(control, ipywidgets.Dropdown):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        other = [o for o in options if o != value]
        return (other[0], value) if other else None
    if isinstance(control, ipywidgets.FloatLogSlider):
        return (value * 1.5, value)
    step = control.step or 1
    other = value + step if value + step <= control.max else value - step
    return (type(value)(other), value)


def _cost(widget, control, values, before=None):
    """Median wall and CPU seconds of moving ``control`` through ``values`` ROUNDS times."""
    wall, cpu, calls = [], [], 0
    for _ in range(ROUNDS):
        for v in values:
            if before is not None:
                before()
            c0 = widget.model_calls
            w0, p0 = time.perf_counter(), time.process_time()
            control.value = v
            widget.flush()
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - p0)
            calls += widget.model_calls - c0
    return float(np.median(wall)), float(np.median(cpu)), calls / (ROUNDS * len(values))


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"kernel-side cost per control change, median of {ROUNDS} round trips; "
          f"load average {load:.1f}")
    print("| widget | control | kind | wall | CPU | model calls | forced relayout (wall) | "
          "saving | goal |")
    print("|---|---|---|---|---|---|---|---|---|")
    met = total = 0
    with threadpool_limits(limits=1):
        for name, build in _course_widgets().items():
            widget = build()
            for control in [*widget.controls, widget.frame_slider]:
                values = _two_values(control)
                if values is None:
                    continue
                wall, cpu, calls = _cost(widget, control, values)
                kind = "model" if calls else "refit"

                def forget_layout(w=widget):
                    w._layout_memo = ((), np.zeros(0))

                forced, _, _ = _cost(widget, control, values, before=forget_layout)
                goal = MODEL_GOAL_S if calls else REFIT_GOAL_S
                total += 1
                met += wall <= goal
                print(f"| {name} | {control.description} | {kind} | {1000 * wall:.0f} ms | "
                      f"{1000 * cpu:.0f} ms | {calls:.1f} | {1000 * forced:.0f} ms | "
                      f"{forced / wall:.2f}x | {'met' if wall <= goal else 'NOT met'} |",
                      flush=True)
            if name == "kernel width":  # the same N change without reusing rows
                control = widget.num_samples_control
                values = _two_values(control)

                def forget_rows(w=widget):
                    w._reuse.Z = w._reuse.predictions = None

                wall, _, calls = _cost(widget, control, values, before=forget_rows)
                print(f"| {name} | samples N, all rows predicted again | model | "
                      f"{1000 * wall:.0f} ms | - | {calls:.1f} | - | - | - |")
    print(f"{met} of {total} controls within the kernel-side goal (0.2 s refit, 1 s model)")


if __name__ == "__main__":
    main()
