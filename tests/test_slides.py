"""The instructor's slide decks: slide types by rule, one offline deck per notebook.

- ``instructor/slide_metadata.py`` gives each cell a reveal.js slide type by a stated
  rule, rewrites nothing else, is idempotent, and the committed notebooks are up to
  date with it.
- ``instructor/slides.py`` (what ``make slides`` runs) writes one deck per course
  notebook; each deck opens in headless Chromium (Debian's, through Playwright) from
  ``file://`` with reveal.js ready, no console error, no failed request and no request
  that leaves the machine; MathJax typesets the formulas and, in a deck built from an
  executed notebook, the widget renderer draws the saved widget.

Where Chromium, Playwright or npm is missing the browser test is skipped with a
one-line reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from _chromium import CHROMIUM, CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[1]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"instructor_{name}",
                                                  ROOT / "instructor" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


meta = _load("slide_metadata")
slides = _load("slides")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text):
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
            "execution_count": None}


# ---------------------------------------------------------------- the rule


def test_slide_types_follow_the_rule():
    cells = [
        _md("# 3 · Title\n\nGoals ..."),
        _code("%matplotlib inline\nimport numpy as np\nfrom x import y  # comment"),
        _md("## Short section"),
        _code("z = np.ones(3)\nplt.plot(z)"),
        _md("Reading of the figure."),
        _code("assert z.sum() == 3"),
        _md("### A knob\n\nline 1\nline 2\nline 3"),
        _code("fig = draw()"),
        _md("More text."),
        _md("Even more text."),
        {"cell_type": "raw", "metadata": {}, "source": "raw"},
    ]
    assert meta.slide_types(cells) == [
        "slide", "skip", "slide", "-", "fragment", "subslide", "subslide", "subslide",
        "fragment", "fragment", "skip",
    ]


@pytest.mark.parametrize(
    ("source", "setup"),
    [
        ("import numpy as np", True),
        ("%matplotlib inline\n\n# only imports\nfrom a import (b,\n    c)", True),
        ("import numpy as np\nx = np.zeros(3)", False),
        ("print('hi')", False),
        ("", True),
    ],
)
def test_setup_cells_are_imports_magics_and_comments_only(source, setup):
    assert meta.is_setup_code(_code(source)) is setup


def test_rewrites_only_slide_metadata_and_is_idempotent(tmp_path):
    source = ROOT / "course" / "02_lime_intuition_2d.ipynb"
    path = tmp_path / source.name
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb["cells"]:  # start from no slide metadata, plus an unrelated key to keep
        cell["metadata"].pop("slideshow", None)
    nb["cells"][0]["metadata"]["tags"] = ["keep-me"]
    path.write_text(meta.dumps(nb), encoding="utf-8")
    before = json.loads(path.read_text(encoding="utf-8"))

    assert meta.process(path) == len(nb["cells"])
    once = path.read_text(encoding="utf-8")
    assert meta.process(path) == 0 and path.read_text(encoding="utf-8") == once
    after = json.loads(once)
    assert after["cells"][0]["metadata"] == {"tags": ["keep-me"],
                                             "slideshow": {"slide_type": "slide"}}
    for old, new in zip(before["cells"], after["cells"], strict=True):
        new = dict(new, metadata={k: v for k, v in new["metadata"].items() if k != "slideshow"})
        assert new == old
    assert once.endswith("}\n") and '\n "cells": [\n  {\n' in once  # indent=1, trailing newline


def test_course_notebooks_have_current_slide_metadata():
    stale = {p.name: n for p in meta.course_notebooks() if (n := meta.process(p, check=True))}
    assert not stale, (f"slide types out of date in {stale}: run "
                       "`python instructor/slide_metadata.py` (or `make slide-metadata`)")


def test_every_course_deck_opens_with_a_title_slide():
    for path in meta.course_notebooks():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        types = meta.slide_types(cells)
        assert types[0] == "slide" and meta.heading_level(cells[0]) == 1, path.name
        assert types.count("slide") >= 3, f"{path.name}: fewer than 3 slides"


# ---------------------------------------------------------------- the decks in a browser


def _node_modules():
    if slides.missing_assets():
        if shutil.which("npm") is None:
            _missing("npm is not installed, so reveal.js cannot be installed for the decks")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT,
                       check=True, timeout=900)
    assert not slides.missing_assets()


def _open_offline(browser, deck):
    """Open one deck from file://; return (slides shown, formulas, widgets, errors, outbound)."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors, outbound = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url[:100]}"))

    def route(r):
        url = urlparse(r.request.url)
        if url.scheme in LOCAL_SCHEMES or url.hostname in LOCAL_HOSTS:
            r.continue_()
        else:  # record it and never let it leave the machine
            outbound.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(deck.html.as_uri())
        page.wait_for_selector(".reveal.ready", timeout=60_000)
        page.wait_for_load_state("load")
        shown, math, widgets = page.evaluate(
            "[document.querySelectorAll('.reveal .slides > section').length,"
            " document.querySelectorAll('.MathJax_CHTML, .MathJax').length,"
            " document.querySelectorAll('.jupyter-widgets').length]")
    finally:
        page.close()
    return shown, math, widgets, errors, outbound


# One test (not several sharing a module fixture): under pytest-xdist each worker would
# build the decks and run npm again.
@pytest.mark.browser
@pytest.mark.slow
def test_one_offline_deck_per_notebook_opens_in_chromium_without_errors(tmp_path):
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    _node_modules()

    built = slides.build_decks(out_dir=tmp_path)          # what `make slides` runs
    notebooks = slides.course_notebooks()
    assert [d.html.name for d in built] == [f"{p.stem}.slides.html" for p in notebooks]
    for deck in built:
        html = deck.html.read_text(encoding="utf-8")
        assert html.count("<section") >= deck.slides >= 3, deck.html.name
        for cdn in ("cdnjs", "unpkg", "jsdelivr", "googleapis"):
            assert cdn not in html, f"{deck.html.name} still refers to {cdn}"
    # One deck from an executed notebook: figures and a saved widget, drawn offline.
    executed = slides.build_decks([ROOT / "course" / "02_lime_intuition_2d.ipynb"],
                                  out_dir=tmp_path / "executed", execute=True, timeout=300)[0]

    problems = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for deck in [*built, executed]:
                name = deck.html.name if deck is not executed else f"executed {deck.html.name}"
                shown, math, widgets, errors, outbound = _open_offline(browser, deck)
                if errors or outbound:
                    problems[name] = {"errors": errors[:5], "outbound": outbound[:5]}
                assert shown == deck.slides, (name, shown, deck.slides)
                if deck.notebook.stem.startswith("13_"):
                    assert math > 50, f"{name}: MathJax typeset only {math} formulas"
                if deck is executed:
                    assert widgets > 0, "the executed deck shows no widget"
        finally:
            browser.close()
    assert not problems, problems
