"""The image player in a real browser: JupyterLab + headless Chromium + Playwright.

Starts JupyterLab on a free local port (empty token, 127.0.0.1 only) serving a copy of
``tests/data/browser_demo.ipynb`` (a small notebook that displays an
``ImagePerturbationPlayer`` on zoo data), opens it in Debian's Chromium through
Playwright (no browser download), runs it, checks that the player's image renders,
presses Play (the Play button drives the step slider in the browser through
``jslink``; the kernel observes the slider and sends new frames), moves the kernel-width
slider, and checks that the picture changed each time. A screenshot is saved to
``tests/artifacts/`` (gitignored).

Where Chromium or Playwright is missing the test is skipped with a one-line reason,
except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "data" / "browser_demo.ipynb"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
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


@pytest.fixture
def lab_server(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of the fixture notebook."""
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
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
            page.goto(f"{lab_server}/lab/tree/{NOTEBOOK.name}")
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
