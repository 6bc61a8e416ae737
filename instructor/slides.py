"""Build one reveal.js slide deck per course notebook, offline (``make slides``).

``jupyter nbconvert --to slides`` turns a notebook into a reveal.js page, cut into
slides by each cell's ``metadata.slideshow.slide_type`` (set by
``instructor/slide_metadata.py``). Out of the box that page loads reveal.js, jQuery,
require.js, MathJax, Mermaid and the widget renderer from CDNs, which a classroom
without network (or a student's laptop on a train) cannot reach. Here every one of
them comes from ``node_modules/``, installed from the npm registry by ``npm ci``
(``package.json`` / ``package-lock.json`` pin the versions), and the Mermaid import,
which no course notebook needs, is dropped by the small template in
``instructor/templates/limelab_reveal``.

The decks are written to ``build/slides/NN_name.slides.html`` and refer to
``node_modules`` by relative paths, so open them from there (double-click, or
``chromium build/slides/05_lime_images.slides.html``). With ``--execute`` the
notebooks are run first, so the decks carry their figures, tables and widget
snapshots (a few minutes for the whole course on two cores); without it the decks
show the text and code only (a few seconds), which is what the test checks.

Usage::

    python instructor/slides.py [--execute] [--out build/slides] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
NODE_MODULES = ROOT / "node_modules"
TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_OUT = ROOT / "build" / "slides"

# What the stock template fetches from CDNs, and the local file that replaces it.
ASSETS = {
    "reveal_url_prefix": "reveal.js",
    "jquery_url": "jquery/dist/jquery.min.js",
    "require_js_url": "requirejs/require.js",
    "mathjax_url": "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "widget_renderer_url": "@jupyter-widgets/html-manager/dist/embed-amd.js",
}


@dataclass
class Deck:
    """One built deck: where it is, how many slides and how long it took."""

    notebook: Path
    html: Path
    slides: int
    seconds: float


def missing_assets(node_modules: Path = NODE_MODULES) -> list[str]:
    """The local files a deck needs that are not in ``node_modules`` (run ``npm ci``)."""
    return [path.split("?")[0] for path in ASSETS.values()
            if not (node_modules / path.split("?")[0]).exists()]


def exporter_config(out_dir: Path, node_modules: Path = NODE_MODULES):
    """nbconvert configuration pointing every script and style at ``node_modules``."""
    from traitlets.config import Config

    prefix = Path(os.path.relpath(node_modules, out_dir)).as_posix()
    config = Config()
    for option, path in ASSETS.items():
        setattr(config.SlidesExporter, option, f"{prefix}/{path}")
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.template_name = "limelab_reveal"
    # reveal.js's "white" theme uses fonts shipped with reveal.js; nbconvert's default,
    # "simple", imports its fonts from a web font service.
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_scroll = True  # tall figures scroll instead of overflowing
    config.SlidesExporter.reveal_number = "c/t"
    return config


def course_notebooks() -> list[Path]:
    return sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))


def build_decks(notebooks: list[Path] | None = None, out_dir: Path = DEFAULT_OUT, *,
                execute: bool = False, timeout: int = 300,
                node_modules: Path = NODE_MODULES) -> list[Deck]:
    """Write ``out_dir/<notebook>.slides.html`` for each notebook and return the decks.

    Parameters
    ----------
    notebooks : list of Path, optional
        Default: every ``course/NN_*.ipynb``.
    out_dir : Path
        Folder for the decks (created).
    execute : bool
        Run each notebook first (from its own folder, as nbval does) so that the deck
        shows its outputs.
    timeout : int
        Per-cell timeout in seconds when executing.
    """
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    missing = missing_assets(node_modules)
    if missing:
        raise FileNotFoundError(
            f"node_modules lacks {missing}: run `npm ci` in {ROOT} (needs the npm registry once)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = SlidesExporter(config=exporter_config(out_dir, node_modules))
    decks = []
    for notebook in notebooks or course_notebooks():
        start = time.perf_counter()
        nb = nbformat.read(notebook, as_version=4)
        if execute:
            runner = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
            runner.preprocess(nb, {"metadata": {"path": str(Path(notebook).parent)}})
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
        html = out_dir / f"{Path(notebook).stem}.slides.html"
        html.write_text(body, encoding="utf-8")
        slides = sum(1 for c in nb.cells
                     if c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "slide")
        decks.append(Deck(Path(notebook), html, slides, time.perf_counter() - start))
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build reveal.js decks of the course, offline.")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--execute", action="store_true", help="run the notebooks first")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        decks = build_decks(args.notebooks or None, args.out, execute=args.execute)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    for deck in decks:
        print(f"{deck.html.relative_to(ROOT) if deck.html.is_relative_to(ROOT) else deck.html}"
              f"  {deck.slides:3d} slides  {deck.seconds:5.1f} s")
    print(f"{len(decks)} decks in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
