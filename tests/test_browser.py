"""The course widgets in a real browser: JupyterLab + headless Chromium + Playwright.

Starts one JupyterLab server on a free local port (empty token, 127.0.0.1 only) for the
module and opens notebooks in Debian's Chromium through Playwright (no browser
download):

* ``tests/data/browser_demo.ipynb``: the image player renders, Play drives the step
  slider in the browser (``jslink``), the kernel sends new frames, a slider redraws;
* a generated notebook with every widget of the course, built as the course builds it,
  seen at 1280x720 and 1920x1080 with device pixel ratio 1 and 2: each picture's
  natural width is at least its displayed width times the pixel ratio (never scaled
  up), each widget with its controls and counters fits the notebook's visible area,
  each control's change reaches the screen (the time is measured against the goals of
  0.2 s for refit-only controls and 1 s for controls that call the model, written to
  ``tests/artifacts/widget_timings.json`` and printed; asserted only up to a functional
  10 s, since speed goals belong in benchmarks), and Play under an artificial CPU load stops within
  0.5 s of reaching its last frame.

Timings are measured in the page (``performance.now()``): from the control's change
to the new picture being decoded. ``LIMELAB_BROWSER_SLACK`` (default 1) multiplies the
time limits on a machine shared with other work. Screenshots go to ``tests/artifacts/``
(gitignored).

Where Chromium or Playwright is missing the tests are skipped with a one-line reason,
except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _chromium import CHROMIUM, CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "data" / "browser_demo.ipynb"
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT_MS = 240_000  # kernel start, torch import and the first LIME run on a busy laptop

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving copies of the fixture notebooks."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    _write_course_widgets_notebook(root / COURSE_WIDGETS)
    settings = tmp_path / "settings"
    for name, value in _LAB_SETTINGS.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    })
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", "--IdentityProvider.token=",
        "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        try:
            _wait_for_server(f"http://127.0.0.1:{port}/api/status", proc)
        except (RuntimeError, TimeoutError) as err:
            log.flush()
            tail = (tmp_path / "jupyterlab.log").read_text()[-2000:]
            raise RuntimeError(f"{err}; server log ends with:\n{tail}") from err
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


COURSE_WIDGETS = "course_widgets.ipynb"
_LAB_SETTINGS = {
    # no news pop-up over the widgets, no windowed notebook (every cell is laid out)
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# Every widget of the course, built as its notebook builds it (cell k shows widget k).
# controls: (label, "refit" | "model", how to move it)
COURSE_CELLS = [
    ("lime_2d", "from widgets import LimeIntuition2D\nw = LimeIntuition2D()\nfor _ in range(10):\n"
                "    w.step()\nw",
     [("step", "refit", "slider"), ("kernel width", "refit", "slider"),
      ("samples N", "model", "readout"), ("x₁", "model", "slider")]),
    ("text", "from widgets import TextPerturbationPlayer\nw = TextPerturbationPlayer()\n"
             "for _ in range(5):\n    w.step()\nw",
     [("step", "refit", "slider"), ("kernel width", "refit", "slider"),
      ("samples N", "model", "readout"), ("target", "refit", "dropdown")]),
    ("text_review", "from lime_core import zoo\nfrom widgets import TextPerturbationPlayer\n"
                    "books = zoo.load_books(random_state=0)\n"
                    "m = zoo.train_books_logreg(books, n_words=10)\n"
                    "w = TextPerturbationPlayer(books.test_texts[1], m.predict_proba, "
                    "class_names=m.class_names, num_samples=200)\nw.go_to(-1)\nw",
     [("step", "refit", "slider")]),
    ("image", "from lime_core import zoo\nfrom widgets import ImagePerturbationPlayer\n"
              "animals = zoo.load_husky_wolf('test', n=4, random_state=0)\n"
              "cnn = zoo.load_husky_wolf_cnn()\n"
              "w = ImagePerturbationPlayer(animals.images[0], cnn.predict_proba, "
              "class_names=animals.class_names, baseline='grey', num_samples=150, "
              "num_features=5)\nfor _ in range(5):\n    w.step()\nw",
     [("step", "refit", "slider"), ("kernel width", "refit", "slider"),
      ("K", "refit", "readout"), ("ridge alpha", "refit", "slider"),
      ("selection", "refit", "dropdown"), ("target", "refit", "dropdown"),
      ("samples N", "model", "readout"), ("baseline", "model", "dropdown"),
      ("segmentation", "model", "dropdown"), ("granularity", "model", "dropdown")]),
    ("kernel_width", "from widgets import KernelWidthExplorer\nw = KernelWidthExplorer()\nw",
     [("step", "refit", "slider"), ("superpixel", "refit", "dropdown"),
      ("target", "refit", "dropdown"), ("samples N", "model", "readout")]),
    ("ig", "from widgets import IntegratedGradientsPath\n"
           "w = IntegratedGradientsPath(steps=20, method='riemann_right')\nw.step()\nw",
     [("α step", "refit", "slider"), ("steps m", "model", "readout"),
      ("rule", "model", "dropdown")]),
    ("shapley", "from widgets import ShapleyExplorer\n"
                "w = ShapleyExplorer(num_permutations=40, random_state=0)\nw.step()\nw",
     [("orders drawn", "refit", "slider"), ("game", "model", "dropdown")]),
    ("curves", "from widgets import DeletionInsertionCurves\n"
               "w = DeletionInsertionCurves(steps=16)\nw.step()\nw",
     [("step", "refit", "slider"), ("images of", "refit", "dropdown"),
      ("steps", "model", "readout")]),
    ("sanity", "from widgets import SanityCheckCascade\n"
               "w = SanityCheckCascade(random_state=0)\nw.step()\nw",
     [("layers randomised", "refit", "slider")]),
]
VIEWPORTS = [(1280, 720), (1920, 1080)]
PIXEL_RATIOS = [1, 2]
REFIT_LIMIT_S, MODEL_LIMIT_S, PLAY_STOP_LIMIT_S = 0.2, 1.0, 0.5
FUNCTIONAL_LIMIT_S = 10.0  # a control whose change takes longer than this is broken, not slow


def _write_course_widgets_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for _, src, _ in COURSE_CELLS]
    nbformat.write(nb, path)


# JavaScript helpers run in the page
_KERNEL_IDLE = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session &&
              w.sessionContext.session.kernel;
    return !!k && k.status === 'idle';
}"""
_IMAGE_READY = """() => {
    const img = document.querySelector('img.widget-image');
    return !!img && img.complete && img.naturalWidth > 100;
}"""
_IMAGE_STATE = """() => {
    const img = document.querySelector('img.widget-image');
    return img ? img.src : null;
}"""
_READOUT_OF = """(label) => {
    for (const box of document.querySelectorAll('.widget-slider')) {
        const l = box.querySelector('.widget-label');
        if (l && l.textContent.trim() === label) {
            const r = box.querySelector('.widget-readout');
            return r ? r.textContent.trim() : null;
        }
    }
    return null;
}"""


def _pixels(page) -> str:
    """A fingerprint of the decoded frame (the image drawn into a canvas)."""
    return page.evaluate("""() => {
        const img = document.querySelector('img.widget-image');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let h = 0;
        for (let i = 0; i < d.length; i += 7) { h = (h * 31 + d[i]) % 1000000007; }
        return String(h);
    }""")


def test_image_player_renders_plays_and_reacts_in_chromium(lab_server):
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{lab_server}/lab/tree/{NOTEBOOK.name}?reset")
            page.wait_for_selector(".jp-NotebookPanel")
            page.wait_for_function(_KERNEL_IDLE, timeout=TIMEOUT_MS)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            # the player renders: a real PNG frame in an <img>, no widget error
            page.wait_for_function(_IMAGE_READY, timeout=TIMEOUT_MS)
            assert page.locator("text=Error displaying widget").count() == 0
            assert page.evaluate(_READOUT_OF, "step") == "0"
            first_src, first_pixels = page.evaluate(_IMAGE_STATE), _pixels(page)

            # Play drives the step slider in the browser; the kernel sends new frames
            page.locator(".widget-play button").first.click()
            page.wait_for_function(f"() => ({_READOUT_OF})('step') >= 5", timeout=60_000)
            page.wait_for_function(f"() => ({_IMAGE_STATE})() !== {first_src!r}",
                                   timeout=60_000)
            page.wait_for_function(_IMAGE_READY)
            played_pixels = _pixels(page)
            assert played_pixels != first_pixels
            page.screenshot(path=str(ARTIFACTS / "browser_image_player_playing.png"))

            # wait for the animation to reach its end (60 samples), then move a slider
            page.wait_for_function(f"() => ({_READOUT_OF})('step') === '60'", timeout=90_000)
            page.wait_for_timeout(500)
            before_src, before_pixels = page.evaluate(_IMAGE_STATE), _pixels(page)
            kernel_before = page.evaluate(_READOUT_OF, "kernel width")
            handle = page.locator(".widget-slider", has_text="kernel width").locator(
                ".noUi-handle")
            handle.focus()
            for _ in range(15):
                handle.press("ArrowRight")
            page.wait_for_function(
                f"() => ({_READOUT_OF})('kernel width') !== {kernel_before!r}")
            page.wait_for_function(f"() => ({_IMAGE_STATE})() !== {before_src!r}",
                                   timeout=60_000)
            page.wait_for_function(_IMAGE_READY)
            assert _pixels(page) != before_pixels
            assert page.locator("text=Error displaying widget").count() == 0
            page.screenshot(path=str(ARTIFACTS / "browser_image_player.png"), full_page=True)
        finally:
            browser.close()


# --------------------------------------------------------------------------- every widget

_CELL_BOX = """(k) => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
    const out = cell.querySelector('.jp-OutputArea-output .widget-vbox');
    const img = out && out.querySelector('img.widget-image');
    const scroller = cell.closest('.jp-WindowedPanel-outer') || cell.closest('.jp-Notebook');
    if (!out || !img) return null;
    const r = out.getBoundingClientRect(), ir = img.getBoundingClientRect(),
          sr = scroller.getBoundingClientRect();
    return {widget: [r.width, r.height], image: [ir.width, ir.height],
            natural: [img.naturalWidth, img.naturalHeight],
            visible: [scroller.clientWidth, scroller.clientHeight, sr.width],
            complete: img.complete,
            errors: out.querySelectorAll('.widget-html-content').length};
}"""
_SCROLL_TO = """(k) => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
    const out = cell.querySelector('.jp-OutputArea-output .widget-vbox');
    (out || cell).scrollIntoView({block: 'start'});
}"""
# Watch cell k's picture: record performance.now() whenever a new frame is decoded.
_WATCH = """(k) => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
    const img = cell.querySelector('img.widget-image');
    window.__frames = [];
    img.onload = () => window.__frames.push(performance.now());
    // the moment the student's action reaches the page (key press or a new choice),
    // taken by the page itself: the driver's own round trip is not the widget's latency
    if (!window.__actionWatch) {
        window.__actionWatch = true;
        for (const type of ['keydown', 'change']) {
            document.addEventListener(type, () => {
                if (window.__armed && window.__t0 === null) window.__t0 = performance.now();
            }, true);
        }
    }
    window.__armed = false;
    window.__t0 = null;
    return performance.now();
}"""
_ARM = "() => { window.__t0 = null; window.__armed = true; return performance.now(); }"


def _control(page, k: int, label: str, kind: str):
    """Cell k's control whose label is exactly ``label`` (a plain ``has_text`` matches
    substrings, case-insensitively: "step" found the curves' "steps" slider first, and
    "K" the image player's "kernel width")."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(k)
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    box = cell.locator(f".widget-{kind}").filter(
        has=page.locator(".widget-label", has_text=exact)).first
    return box


def _move(page, k: int, label: str, how: str) -> float:
    """Change a control as a student would; return the page time just before the change
    (the page also records when the key press or choice itself arrives: ``window.__t0``)."""
    if how == "slider":  # a continuous slider: the arrow key moves it one step
        handle = _control(page, k, label, "slider").locator(".noUi-handle").first
        handle.focus()
        at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        t0 = page.evaluate(_ARM)
        handle.press("ArrowLeft" if at_end else "ArrowRight")
        return t0
    if how == "readout":  # a slider that reports on release: type a value into its readout
        readout = _control(page, k, label, "slider").locator(".widget-readout").first
        value = int(float(readout.text_content().strip())) + 1
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
        t0 = page.evaluate(_ARM)
        page.keyboard.press("Enter")
        return t0
    select = _control(page, k, label, "dropdown").locator("select")
    options = select.locator("option").all_text_contents()
    current = select.evaluate("s => s.options[s.selectedIndex].textContent")
    other = options[(options.index(current) + 1) % len(options)]
    t0 = page.evaluate(_ARM)
    select.select_option(label=other)
    return t0


def _run_course_notebook(browser, server: str, width: int, height: int, ratio: float):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=ratio)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server}/lab/tree/{COURSE_WIDGETS}?reset")
    page.wait_for_selector(".jp-NotebookPanel")
    page.wait_for_function(_KERNEL_IDLE, timeout=TIMEOUT_MS)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(f"""() => document.querySelectorAll(
        '.jp-Notebook .jp-Cell img.widget-image').length === {len(COURSE_CELLS)}""",
                           timeout=3 * TIMEOUT_MS)  # nine widgets, three zoo models
    page.wait_for_function(_KERNEL_IDLE, timeout=TIMEOUT_MS)
    return context, page


def _check_sizes(page, width, height, ratio, problems):
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(400)
    for k, (name, _, _) in enumerate(COURSE_CELLS):
        page.evaluate(_SCROLL_TO, k)
        page.wait_for_function(f"() => {{ const b = ({_CELL_BOX})({k}); "
                               "return b && b.complete && b.natural[0] > 0; }")
        box = page.evaluate(_CELL_BOX, k)
        where = f"{name} at {width}x{height}, DPR {ratio}"
        if box["natural"][0] < box["image"][0] * ratio - 0.5:
            problems.append(f"{where}: picture scaled up: {box['natural'][0]} px shown "
                            f"at {box['image'][0]:.0f} CSS px x {ratio}")
        if box["widget"][1] > box["visible"][1] + 0.5 or box["widget"][0] > box["visible"][0] + 0.5:
            problems.append(f"{where}: widget {box['widget'][0]:.0f}x{box['widget'][1]:.0f} "
                            f"does not fit the visible {box['visible'][0]}x{box['visible'][1]}")
        if width == 1280 and ratio == PIXEL_RATIOS[-1]:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"widget_{name}_{width}x{height}.png"))


@pytest.fixture(scope="module")
def playwright_browser():
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _slack() -> float:
    return float(os.environ.get("LIMELAB_BROWSER_SLACK", "1") or 1)


def test_every_course_widget_fits_is_sharp_and_answers_in_time(lab_server, playwright_browser):
    problems: list[str] = []
    over_goal: list[str] = []
    timings: list[tuple[str, str, str, float]] = []
    for ratio in PIXEL_RATIOS:
        context, page = _run_course_notebook(playwright_browser, lab_server, *VIEWPORTS[0],
                                             ratio)
        try:
            assert page.locator("text=Error displaying widget").count() == 0
            for width, height in VIEWPORTS:
                _check_sizes(page, width, height, ratio, problems)
            if ratio != PIXEL_RATIOS[0]:
                continue
            # each control's change reaches the screen (course defaults, 1280x720)
            page.set_viewport_size({"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})
            for k, (name, _, controls) in enumerate(COURSE_CELLS):
                page.evaluate(_SCROLL_TO, k)
                for label, cost, how in controls:
                    page.wait_for_function(_KERNEL_IDLE)
                    page.evaluate(_WATCH, k)
                    t0 = _move(page, k, label, how)
                    page.wait_for_function("() => window.__frames.length > 0",
                                           timeout=60_000)
                    page.wait_for_timeout(300)  # a throttled trailing frame, if any
                    frames = page.evaluate("() => window.__frames")
                    acted = page.evaluate("() => window.__t0")  # None: fall back to t0
                    seconds = (frames[0] - (t0 if acted is None else acted)) / 1000.0
                    timings.append((name, label, cost, seconds))
                    # The 0.2 s / 1 s goals are measured and reported (widget_timings.json,
                    # printed below), not asserted: speed goals live in benchmarks/. What is
                    # asserted is that every control's change reaches the screen at all.
                    goal = REFIT_LIMIT_S if cost == "refit" else MODEL_LIMIT_S
                    if seconds > goal:
                        over_goal.append(f"{name}: {label!r} ({cost}) {seconds:.2f} s "
                                         f"(goal {goal:.2f} s)")
                    if seconds > FUNCTIONAL_LIMIT_S * _slack():
                        problems.append(f"{name}: moving {label!r} ({cost}) took {seconds:.2f} s "
                                        f"to reach the screen")
                errors = page.locator(".jp-Notebook .jp-Cell").nth(k).locator(
                    "text=⚠").count()
                if errors:
                    problems.append(f"{name}: the widget shows an error")
        finally:
            context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "widget_timings.json").write_text(json.dumps(timings, indent=1))
    print(f"{len(timings) - len(over_goal)} of {len(timings)} controls within the 0.2 s / 1 s "
          "goals; over the goal:\n  " + "\n  ".join(over_goal))
    assert not problems, "\n".join(problems)


def test_play_under_cpu_load_stops_within_half_a_second_of_its_end(lab_server,
                                                                  playwright_browser):
    """Play on the text player while two processes keep both cores busy."""
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    burners = []
    try:
        page.goto(f"{lab_server}/lab/tree/{COURSE_WIDGETS}?reset")
        page.wait_for_selector(".jp-NotebookPanel")
        page.wait_for_function(_KERNEL_IDLE, timeout=TIMEOUT_MS)
        k = [name for name, _, _ in COURSE_CELLS].index("text")
        cells = page.locator(".jp-Notebook .jp-Cell")
        page.evaluate("""(k) => {  // run only the text player's cell
            window.jupyterapp.shell.currentWidget.content.activeCellIndex = k;
            return window.jupyterapp.commands.execute('notebook:run-cell');
        }""", k)
        page.wait_for_function(f"""() => !!document.querySelectorAll('.jp-Notebook .jp-Cell')
            [{k}].querySelector('img.widget-image')""", timeout=TIMEOUT_MS)
        page.wait_for_function(_KERNEL_IDLE, timeout=TIMEOUT_MS)
        page.evaluate(_SCROLL_TO, k)
        # start near the end so the run is short: 40 frames at Play's 150 ms per tick
        handle = _control(page, k, "step", "slider").locator(".noUi-handle").first
        handle.focus()
        handle.press("End")
        for _ in range(40):
            handle.press("ArrowLeft")
        page.wait_for_timeout(1000)
        last = page.evaluate(_READOUT_OF, "step")
        burn = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"
        burners = [subprocess.Popen([sys.executable, "-c", burn]) for _ in range(2)]
        page.evaluate(_WATCH, k)
        page.evaluate("""(k) => {
            const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[k];
            const box = [...cell.querySelectorAll('.widget-slider')].find(b =>
                b.querySelector('.widget-label').textContent.trim() === 'step');
            const readout = box.querySelector('.widget-readout');
            window.__end = null;
            const poll = () => {
                if (readout.textContent.trim() === '200') { window.__end = performance.now(); }
                else { requestAnimationFrame(poll); }
            };
            requestAnimationFrame(poll);
        }""", k)
        cells.nth(k).locator(".widget-play button").first.click()
        page.wait_for_function("() => window.__end !== null", timeout=60_000)
        page.wait_for_timeout(3000)
        end, frames = page.evaluate("() => [window.__end, window.__frames]")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "play_under_load.json").write_text(json.dumps(
            {"start_readout": last, "end": end, "frames": frames}))
        assert frames, "no frame reached the screen while playing"
        late = (frames[-1] - end) / 1000.0
        assert late <= PLAY_STOP_LIMIT_S * _slack(), (
            f"Play kept animating {late:.2f} s after the slider reached its end "
            f"({len(frames)} frames shown for 40 ticks)")
    finally:
        for b in burners:
            b.kill()
            b.wait()
        context.close()
