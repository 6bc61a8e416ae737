"""The course's layout rule for figures, checked with matplotlib's own renderer.

A figure passes when, at the size a student sees it,

* no two drawn texts overlap (titles, tick labels, axis labels, legends, annotations,
  data labels), by more than ``TOLERANCE_PX`` in both directions;
* no text is smaller than ``MIN_TEXT_PX`` CSS pixels;
* no text is cut off by the figure's edge (widgets; an inline notebook figure is saved
  with ``bbox_inches="tight"``, which grows it around every text);
* no axis shows an offset or scale text (``1e-8``, ``+1.0001``): a degenerate axis.

The texts checked are the ones Agg really draws (``Text.draw`` is observed while the
figure is drawn), so hidden tick labels and texts outside the axes' view do not count.
``display_scale`` converts rendered pixels to CSS pixels: ``1 / pixel_ratio`` for a
widget, ``min(1, output width / figure width)`` for an inline notebook figure (the
notebook shrinks a wider picture to its output area).

Used by ``tests/test_layout.py`` (widgets, and every figure of the course notebooks, from
inside their kernels).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

MIN_TEXT_PX = 10.0
TOLERANCE_PX = 1.0
# Width in CSS pixels of a notebook's output area in JupyterLab 4 at 1280x720 with the
# file browser closed (measured in Chromium: 1280 - side bars - prompt - margins).
OUTPUT_WIDTH_PX = 1100.0


@contextlib.contextmanager
def recording_texts() -> Iterator[list]:
    """Collect ``(text artist, window extent)`` of every non-empty text drawn inside."""
    from matplotlib.text import Text

    drawn: list = []
    original = Text.draw

    def draw(self: Any, renderer: Any) -> None:
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            try:
                drawn.append((self, self.get_window_extent(renderer)))
            except (RuntimeError, ValueError):  # e.g. an unparsable mathtext
                pass

    Text.draw = draw
    try:
        yield drawn
    finally:
        Text.draw = original


def _label(text: Any) -> str:
    s = text.get_text().replace("\n", " ")
    return repr(s if len(s) <= 40 else s[:37] + "...")


def check_drawn(fig: Any, drawn: list, display_scale: float, where: str = "",
                edges: bool = True) -> list[str]:
    """The rule's violations among texts ``drawn`` on ``fig`` (see the module docstring).

    ``edges=False`` skips the cut-off check (the inline backend saves with
    ``bbox_inches="tight"``, which grows the picture to include every text)."""
    problems = []
    prefix = f"{where}: " if where else ""
    width, height = fig.bbox.width, fig.bbox.height
    unique = {}
    for text, box in drawn:  # a text drawn twice (blitting) counts once, at its last place
        unique[id(text)] = (text, box)
    items = list(unique.values())
    for text, box in items:
        px = text.get_fontsize() * fig.dpi / 72.0 * display_scale
        if px < MIN_TEXT_PX - 0.05:
            problems.append(f"{prefix}text {_label(text)} is {px:.1f} px (< {MIN_TEXT_PX:.0f})")
        if edges and (box.x0 < -TOLERANCE_PX or box.y0 < -TOLERANCE_PX
                or box.x1 > width + TOLERANCE_PX or box.y1 > height + TOLERANCE_PX):
            problems.append(f"{prefix}text {_label(text)} is cut off by the figure's edge")
    tol = TOLERANCE_PX / display_scale
    for a in range(len(items)):
        ta, ba = items[a]
        for b in range(a + 1, len(items)):
            tb, bb = items[b]
            dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if dx > tol and dy > tol:
                problems.append(f"{prefix}texts {_label(ta)} and {_label(tb)} overlap "
                                f"({dx * display_scale:.0f} x {dy * display_scale:.0f} px)")
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            offset = axis.get_offset_text()
            if offset.get_visible() and offset.get_text().strip() and any(
                    t is offset for t, _ in items):
                problems.append(f"{prefix}axis shows an offset/scale text "
                                f"{_label(offset)} (degenerate axis)")
    return problems


def check_figure(fig: Any, display_scale: float | None = None, where: str = "",
                 edges: bool = True) -> list[str]:
    """Draw ``fig`` with Agg and return the rule's violations (empty list: it passes).

    ``display_scale`` defaults to an inline notebook figure's: the figure is shown at
    its pixel size, shrunk to ``OUTPUT_WIDTH_PX`` when wider.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if display_scale is None:
        display_scale = min(1.0, OUTPUT_WIDTH_PX / fig.bbox.width)
    with recording_texts() as drawn:
        fig.canvas.draw()
    return check_drawn(fig, drawn, display_scale, where, edges)


def check_widget(widget: Any, where: str = "") -> list[str]:
    """Draw a course widget's current frame (static parts and animated artists) and check it."""
    with widget._render_lock:
        widget._invalidate()
        with recording_texts() as drawn:
            widget.to_rgba()
    return check_drawn(widget.fig, drawn, 1.0 / widget.pixel_ratio, where)


def install_notebook_hook(report: Callable[[str], None] | None = None) -> list[str]:
    """In a notebook kernel: check every figure as the inline backend renders it.

    Wraps ``FigureCanvasAgg.print_figure`` (the inline backend's and ``savefig``'s path
    to a PNG); every problem is appended to the returned list. Call before
    ``%matplotlib inline`` runs.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    problems: list[str] = []
    original = FigureCanvasAgg.print_figure
    counter = {"n": 0}

    def print_figure(self: Any, *args: Any, **kwargs: Any) -> Any:
        fig = self.figure
        counter["n"] += 1
        title = fig._suptitle.get_text() if fig._suptitle is not None else ""
        if not title:
            title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
        where = f"figure {counter['n']} {title[:50]!r}"
        found = check_figure(fig, where=where, edges=False)
        problems.extend(found)
        if report is not None:
            for p in found:
                report(p)
        return original(self, *args, **kwargs)

    FigureCanvasAgg.print_figure = print_figure
    return problems
