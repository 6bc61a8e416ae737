"""Every figure the course shows follows the layout rule of ``tests/layout_rules.py``.

* Widgets: each course widget, built as the course builds it, is drawn at its first,
  middle and last frame and after each of its controls is moved (at frame 0 and at a
  middle frame); no two texts may overlap, no text may be under 10 CSS pixels, no axis
  may show an offset text. Moving a control must also change the picture at once, at
  frame 0 too (a control that changes nothing visible is a defect).
* Course figures: every notebook of ``course/`` runs in a kernel in which the inline
  backend's ``print_figure`` is wrapped by :func:`layout_rules.install_notebook_hook`,
  so every figure a student sees is checked as it is rendered.

The notebook tests take about as long as running the notebooks (marked ``slow``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from layout_rules import check_figure, check_widget  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"


# --------------------------------------------------------------------------- the rule itself


def test_the_rule_finds_overlaps_small_text_and_offsets():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_subplot()
    ax.text(0.3, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.32, 0.5, "second label", transform=ax.transAxes)
    ax.set_title("tiny", fontsize=5)
    ax.plot([0, 1], [1.0, 1.0 + 1e-8])
    problems = check_figure(fig, display_scale=1.0)
    assert any("overlap" in p and "first label" in p for p in problems)
    assert any("'tiny'" in p and "px" in p for p in problems)
    assert any("offset" in p for p in problems)
    clean = Figure(figsize=(4, 3), dpi=100, layout="constrained")
    ax = clean.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title("fine")
    assert check_figure(clean, display_scale=1.0) == []


# --------------------------------------------------------------------------- widgets


def _books_review_player():
    from lime_core import zoo
    from widgets import TextPerturbationPlayer

    books = zoo.load_books(random_state=0)
    m = zoo.train_books_logreg(books, n_words=10)
    return TextPerturbationPlayer(books.test_texts[1], m.predict_proba,
                                  class_names=m.class_names, num_samples=200, debounce=0)


def _flu_plane():
    from lime_core import zoo
    from widgets import LimeIntuition2D

    flu = zoo.load_flu(random_state=0)
    model = zoo.train_flu_model(flu)
    names = list(flu.feature_names)
    t, a = names.index("temperature"), names.index("age")
    proba = model.predict_proba(flu.X_test)[:, 1]  # course 06's patient
    k = int(np.flatnonzero((proba > 0.8) & (flu.X_test[:, names.index("cough")] == 1))[0])
    patient = np.asarray(flu.X_test[k], dtype=float)

    def on_plane(points):
        rows = np.repeat(patient[None], len(points), axis=0)
        rows[:, t], rows[:, a] = points[:, 0], points[:, 1]
        return model.predict_proba(rows)

    return LimeIntuition2D(on_plane, patient[[t, a]], data=flu.X_train[:, [t, a]],
                           kernel_width=1.0, feature_names=("temperature", "age"), debounce=0)


def _one_output_kernel_explorer():
    from lime_core.segmentation import grid_segments
    from widgets import KernelWidthExplorer

    rng = np.random.default_rng(0)
    image = rng.random((24, 32, 3))
    segments = grid_segments((24, 32), 3, 4)

    def f(batch):  # one output, as course 13's shape detector
        return np.asarray(batch)[:, 8:16, 8:24].mean(axis=(1, 2, 3))

    return KernelWidthExplorer(image, f, segments, num_samples=300, baseline=0.0,
                               random_state=0, debounce=0)


def _build(name):
    import widgets

    if name == "lime_2d":
        return widgets.LimeIntuition2D(debounce=0)
    if name == "lime_2d_flu":
        return _flu_plane()
    if name == "text":
        return widgets.TextPerturbationPlayer(debounce=0)
    if name == "text_long_review":
        return _books_review_player()
    if name == "image":
        return widgets.ImagePerturbationPlayer(num_samples=60, debounce=0)
    if name == "kernel_width":
        return widgets.KernelWidthExplorer(num_samples=300, debounce=0)
    if name == "kernel_width_one_output":
        return _one_output_kernel_explorer()
    if name == "ig":
        return widgets.IntegratedGradientsPath(debounce=0)
    if name == "shapley":
        return widgets.ShapleyExplorer(debounce=0, repeats=2)
    if name == "curves":
        return widgets.DeletionInsertionCurves(steps=16, debounce=0)
    if name == "sanity":
        return widgets.SanityCheckCascade(random_state=0, debounce=0)
    raise KeyError(name)


WIDGETS = ["lime_2d", "lime_2d_flu", "text", "text_long_review", "image", "kernel_width",
           "kernel_width_one_output", "ig", "shapley", "curves", "sanity"]


def _moved_value(control):
    """A different, valid value for ``control`` (what a student's move would give)."""
    import ipywidgets

    if isinstance(control, ipywidgets.Dropdown):
        values = [v[1] if isinstance(v, tuple) else v for v in control.options]
        return values[(values.index(control.value) + 1) % len(values)]
    if isinstance(control, ipywidgets.FloatLogSlider):
        lo, hi = control.base ** control.min, control.base ** control.max
        return float(np.clip(control.value * 4 if control.value * 4 <= hi else control.value / 4,
                             lo, hi))
    if isinstance(control, ipywidgets.FloatSlider):
        span = control.max - control.min
        v = control.value + 0.2 * span
        return float(v if v <= control.max else control.value - 0.2 * span)
    if isinstance(control, ipywidgets.IntSlider):
        v = (control.min + control.value) // 2
        return int(v if v != control.value else control.max)
    raise TypeError(f"no move known for {type(control).__name__}")


def _label(control) -> str:
    return getattr(control, "description", type(control).__name__) or type(control).__name__


@pytest.mark.slow  # zoo models; a few seconds each on 2 cores
@pytest.mark.parametrize("name", WIDGETS)
def test_widget_frames_and_controls_follow_the_layout_rule(name):
    w = _build(name)
    problems = []

    def check(where):
        problems.extend(check_widget(w, f"{name} {where}"))

    last = w.num_frames - 1
    for frame in sorted({0, last // 2, last}):
        w.go_to(frame)
        check(f"frame {frame}")
    silent = []
    for control in w.controls:
        for frame in (0, w.num_frames // 2):
            w.go_to(frame)
            before = w.to_rgba()
            control.value = _moved_value(control)
            w.flush()
            assert w.error_area.value == "", (name, _label(control), w.error_area.value)
            check(f"after moving {_label(control)!r} at frame {w.frame}")
            if np.array_equal(before, w.to_rgba()):
                silent.append(f"{name}: moving {_label(control)!r} at frame {frame} "
                              "changed nothing on screen")
    if hasattr(w, "token_buttons"):  # the text players: a clicked word shows in the figure
        w.go_to(w.num_frames // 2)
        before = w.to_rgba()
        w.token_buttons[0].value = True
        assert not np.array_equal(before, w.to_rgba()), "clicking a word changed nothing drawn"
        veiled = {f for veil, f in w.veils if veil.get_visible()}
        assert veiled == {0}, veiled
        check("after clicking word 0")
    assert not problems, "\n".join(problems)
    assert not silent, "\n".join(silent)


@pytest.mark.slow
def test_widgets_fit_a_1280x720_lecture_window():
    """The pictures are small enough that controls, picture and counters fit the window
    (the browser test measures the whole widget; this is the kernel-side bound)."""
    import widgets

    for cls in (widgets.LimeIntuition2D, widgets.TextPerturbationPlayer,
                widgets.ImagePerturbationPlayer, widgets.KernelWidthExplorer,
                widgets.IntegratedGradientsPath, widgets.ShapleyExplorer,
                widgets.DeletionInsertionCurves, widgets.SanityCheckCascade):
        width, height = (100 * v for v in cls.figsize)
        assert width <= 840 and height <= 420, (cls.__name__, width, height)


# --------------------------------------------------------------------------- course figures

NOTEBOOKS = sorted(p.name for p in COURSE.glob("*.ipynb"))

_HOOK = """\
import sys as _sys
_sys.path.insert(0, {tests!r})
import layout_rules as _layout_rules
_layout_problems = _layout_rules.install_notebook_hook()
"""
_REPORT = "import json as _json; print('LAYOUT-PROBLEMS ' + _json.dumps(_layout_problems))"


@pytest.mark.slow  # runs the notebook: as long as nbval's run of it
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_course_figures_follow_the_layout_rule(notebook):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    nb = nbformat.read(COURSE / notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_HOOK.format(tests=str(ROOT / "tests"))))
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT))
    env_backup = dict(os.environ)
    os.environ.update({"MPLBACKEND": "module://matplotlib_inline.backend_inline",
                       "OMP_NUM_THREADS": "1",
                       "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    try:
        client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                         resources={"metadata": {"path": str(COURSE)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    assert out.startswith("LAYOUT-PROBLEMS "), out
    problems = json.loads(out.split(" ", 1)[1])
    problems += _noise(nb.cells[1:-1])
    assert not problems, f"{notebook}:\n" + "\n".join(problems)


# printed output a student should not see: object reprs, numpy scalar reprs, 16-digit floats
NOISE = [
    (re.compile(r"^(Text|Line2D|<matplotlib|<Figure|\[<matplotlib)"), "a matplotlib object's repr"),
    (re.compile(r"np\.(float|int|bool)\w*\("), "a numpy scalar repr"),
    (re.compile(r"\d\.\d{12,}"), "a full-precision float"),
]


def _noise(cells) -> list[str]:
    found = []
    for k, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
            elif output.get("output_type") == "execute_result":
                text = output.get("data", {}).get("text/plain", "")
                if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                    continue
            else:
                continue
            for line in text.splitlines():
                for pattern, what in NOISE:
                    if pattern.search(line.strip()):
                        found.append(f"cell {k}: {what}: {line.strip()[:80]!r}")
    return found
