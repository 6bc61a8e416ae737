"""The README's first command, the way a newcomer meets it: ``make lab`` in a fresh clone.

``test_make_lab_in_a_fresh_clone`` clones this repository (its committed ``HEAD``: edits
not yet committed are not in the clone) into a temporary folder and runs ``make lab``
there, as whoever runs the suite (root in CI), with no screen (``DISPLAY`` and
``BROWSER`` unset) and the default port 8888 taken. It checks that the last line
printed is one URL with a token and that a line says which port replaced 8888; that
the server answers on that URL; that headless Chromium (Debian's, through Playwright)
opens ``course/00_index.ipynb`` from it, the kernel starts and the first code cell runs
without error; and that stopping ``make lab``'s process group (SIGTERM to the group, as
``kill -- -PGID`` or a container stop sends it) leaves nothing running: not make, the
launcher, the server, nor the kernel (which ``jupyter_client`` starts in a session of
its own).

The clone does not build a venv of its own (that takes minutes): its ``.venv`` is a
symbolic link to this checkout's, and its ``pyproject.toml`` gets the modification
time of this checkout's, so ``make`` sees the venv as up to date for it (the test checks
``make -q .venv/.limelab-installed`` before it starts). The venv's editable install
still points at this checkout, so the kernel imports ``lime_core`` from here (the same
commit when the work tree is clean). With ``LIMELAB_FRESH_VENV=1`` the clone builds
its own venv instead and the test prints the time from ``git clone`` to the first
executed cell (the number in ``benchmarks/RESULTS.md``).

Jupyter's configuration, data and runtime folders and IPython's folder point into
the temporary folder, so nothing of the user's settings is read or written.
Where git, the venv, Chromium or Playwright is missing the test is skipped with a
reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from _chromium import CHROMIUM, CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".limelab-installed"
ARTIFACTS = ROOT / "tests" / "artifacts"
DEFAULT_PORT = 8888
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/lab/tree/course/00_index\.ipynb\?token=(\w+)$")
FRESH_VENV = os.environ.get("LIMELAB_FRESH_VENV") == "1"
START_TIMEOUT = 900.0 if FRESH_VENV else 300.0  # a fresh venv is a few minutes of pip
KERNEL_TIMEOUT_MS = 240_000  # kernel start and the first imports on a busy laptop

# environment variables a newcomer's shell does not have, or that would leak the
# outer `make test` (its jobserver, its venv on PATH) or the user's settings into the clone
_DROP = ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "JUPYTER_TOKEN", "MAKEFLAGS", "MFLAGS",
         "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "PYTHONPATH", "MPLBACKEND")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _load_launcher():
    spec = importlib.util.spec_from_file_location("limelab_lab_launcher", ROOT / "tools" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the launcher's small decisions, without starting anything -----------------------

def test_launcher_takes_the_next_free_port_when_the_preferred_one_is_taken():
    lab = _load_launcher()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert not lab.port_is_free("127.0.0.1", taken)
        port = lab.choose_port("127.0.0.1", taken)
        assert port != taken and lab.port_is_free("127.0.0.1", port)
    assert lab.port_is_free("127.0.0.1", taken)


def test_launcher_opens_no_browser_without_a_screen(monkeypatch):
    lab = _load_launcher()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(lab.sys, "platform", "linux")
    assert lab.browser_can_open() is False


def test_launcher_passes_allow_root_only_to_root(monkeypatch):
    lab = _load_launcher()
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    assert "--allow-root" in lab._command("127.0.0.1", 8888)
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000)
    assert "--allow-root" not in lab._command("127.0.0.1", 8888)


# --- the real thing -------------------------------------------------------------------

class _Output:
    """Collects a process's output lines in a thread, with the time each one came."""

    def __init__(self, stream) -> None:
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            with self._lock:
                self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))

    def snapshot(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.lines)

    def text(self, last: int = 60) -> str:
        return "\n".join(line for _, line in self.snapshot()[-last:])


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, command line) for every process we can see."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z":  # a zombie has stopped running
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), cmdline)
    return table


def _descendants(pid: int) -> dict[int, str]:
    table = _processes()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _, cmdline) in table.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                frontier.append(child)
    return found


def _left_running(pids, pgid: int, marker: str) -> dict[int, str]:
    """Processes still alive: among ``pids``, in group ``pgid``, or mentioning ``marker``."""
    return {pid: cmdline for pid, (_, group, cmdline) in _processes().items()
            if pid in pids or group == pgid or marker in cmdline}


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    venv_bin = str(VENV / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and p != venv_bin)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / "home" / name.lower())
    return env


def _fresh_clone(tmp_path: Path, env: dict[str, str]) -> Path:
    clone = tmp_path / "limelab"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)],
                   check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True, env=env)
    if not FRESH_VENV:
        (clone / ".venv").symlink_to(VENV, target_is_directory=True)
        shutil.copystat(ROOT / "pyproject.toml", clone / "pyproject.toml")
        up_to_date = subprocess.run(["make", "-q", ".venv/.limelab-installed"], cwd=clone,
                                    env=env)
        assert up_to_date.returncode == 0, (
            "make would reinstall the shared venv from the clone: run `make install` here first")
    return clone


def _hold_port(port: int) -> socket.socket | None:
    """Listen on the port so that it is taken (None when someone else holds it already)."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    s.listen()
    return s


def _wait_for_url(proc: subprocess.Popen, output: _Output, deadline: float) -> str:
    while time.monotonic() < deadline:
        for _, line in output.snapshot():
            if URL_LINE.match(line.strip()):
                return line.strip()
        if proc.poll() is not None:
            time.sleep(0.5)  # the last lines
            pytest.fail(f"`make lab` exited with status {proc.returncode} before it printed "
                        f"a URL to open; its output ends with:\n{output.text()}")
        time.sleep(0.2)
    pytest.fail(f"`make lab` printed no URL within {START_TIMEOUT:.0f} s; its output ends "
                f"with:\n{output.text()}")


def _stop_and_check(proc: subprocess.Popen, pids: set[int], marker: str,
                    grace: float = 30.0) -> None:
    """SIGTERM to make's process group; fail if anything it started is left running."""
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + grace
    left = _left_running(pids, pgid, marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _left_running(pids, pgid, marker)
    for pid in left:  # clean up before failing
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.poll() is not None, "make did not exit after SIGTERM to its process group"
    assert not left, f"still running after `make lab` was stopped: {left}"


def test_the_stop_check_finds_a_process_that_left_the_group(tmp_path):
    """The check can fail: a child in a session of its own (as a kernel is) that outlives
    SIGTERM to the group is reported, then killed."""
    if shutil.which("setsid") is None or not Path("/proc/self/stat").exists():
        pytest.skip("needs setsid and /proc")
    marker = str(tmp_path / "escaper")
    escaper = (f"setsid {sys.executable} -c 'import signal, time; "
               f"signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)' {marker}")
    proc = subprocess.Popen(["sh", "-c", f"{escaper} & sleep 60"], start_new_session=True)
    deadline = time.monotonic() + 20
    while not any(marker in c for c in _descendants(proc.pid).values()):
        assert time.monotonic() < deadline, "the escaping process did not start"
        time.sleep(0.1)
    pids = set(_descendants(proc.pid))
    with pytest.raises(AssertionError, match="escaper"):
        _stop_and_check(proc, pids, marker, grace=1.0)
    time.sleep(0.5)
    assert not _left_running(set(), -1, marker)


def test_make_lab_in_a_fresh_clone(tmp_path):
    if shutil.which("git") is None or shutil.which("make") is None:
        _missing("git and make are needed to clone the repository and run `make lab`")
    if not (ROOT / ".git").exists():
        _missing(f"{ROOT} is not a git checkout, so it cannot be cloned")
    if not FRESH_VENV and not STAMP.exists():
        _missing("no installed .venv to share with the clone (run `make install`)")
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")

    env = _clean_env(tmp_path)
    started = time.monotonic()
    clone = _fresh_clone(tmp_path, env)
    held = _hold_port(DEFAULT_PORT)  # the default port is taken (by us or someone else)
    proc = subprocess.Popen(["make", "lab"], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    output = _Output(proc.stdout)
    pids: set[int] = set()
    try:
        url = _wait_for_url(proc, output, time.monotonic() + START_TIMEOUT)
        url_printed = time.monotonic()
        time.sleep(3)
        lines = [line for _, line in output.snapshot() if line.strip()]
        assert lines[-1].strip() == url, (
            f"the URL is not the last line printed; the output ends with:\n{output.text(10)}")
        port = int(URL_LINE.match(url).group(1))
        assert port != DEFAULT_PORT
        assert any(f"Port {DEFAULT_PORT} is in use" in line and str(port) in line
                   for line in lines), "no line says which port replaced the default one"

        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert b"JupyterLab" in response.read()

        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                        headless=True)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.set_default_timeout(KERNEL_TIMEOUT_MS)
                page.goto(url)
                page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
                # the kernel is up when the toolbar's status reads idle
                page.wait_for_selector(
                    ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']")
                cell = page.locator(".jp-NotebookPanel .jp-CodeCell").first
                prompt = cell.locator(".jp-InputPrompt", has_text="[1]:")
                # On a busy machine the editor may not take the first key press: run the
                # cell again (never more than a few times) until its prompt reads [1].
                for attempt in range(6):
                    cell.locator(".cm-content").click()
                    page.keyboard.press("Shift+Enter")
                    try:
                        prompt.wait_for(timeout=KERNEL_TIMEOUT_MS // 6)
                        break
                    except PlaywrightTimeout:
                        if attempt == 5:
                            raise
                        page.screenshot(path=str(ARTIFACTS / f"make_lab_retry{attempt}.png"))
                page.wait_for_selector(
                    ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']")
                first_cell_ran = time.monotonic()
                outputs = cell.locator(".jp-OutputArea-output").all_inner_texts()
                page.screenshot(path=str(ARTIFACTS / "make_lab_first_cell.png"))
                started_processes = _descendants(proc.pid)  # make, launcher, server, kernel
                pids = set(started_processes)
            finally:
                browser.close()
        text = "\n".join(outputs)
        assert "Traceback" not in text and "Error" not in text, text
        assert re.search(r"Python 3\.\d+.*\| lime_core \S+", text), (
            f"the first cell printed no version line; its output:\n{text}")
        assert any("ipykernel" in cmdline for cmdline in started_processes.values()), (
            f"no kernel among the processes under `make lab`: {started_processes}")
        print(f"\ngit clone to URL printed: {url_printed - started:.1f} s; "
              f"to first cell executed: {first_cell_ran - started:.1f} s"
              f"{' (fresh venv)' if FRESH_VENV else ' (shared venv)'}")
    finally:
        if held is not None:
            held.close()
        pids |= set(_descendants(proc.pid))
        try:
            _stop_and_check(proc, pids, str(tmp_path))
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "make_lab_output.txt").write_text(output.text(last=400) + "\n")
