"""Start JupyterLab on the course: what ``make lab`` runs.

Works the same for every newcomer, as root too (root is the normal user in containers,
cloud notebooks and CI machines) and with or without a screen:

- the server listens on 127.0.0.1 and the first free port from 8888 up; when 8888 is
  taken, it says which port it took instead;
- the token is made here, so the one URL to open is known before the server starts;
  once the server answers, a browser is opened where one can be (a desktop session
  on Linux, or macOS/Windows), and the last line printed is that URL;
- the server fetches no news and checks for no updates (the course runs offline; the
  page may still ask once whether to show news: either answer fetches nothing);
- ``--allow-root`` is passed when running as root;
- stop it with Ctrl-C (JupyterLab asks to confirm; press Ctrl-C twice to skip that).
  SIGTERM stops the server, which shuts its kernels down before it exits.

Usage: ``python tools/lab.py [--port N] [--ip ADDRESS] [--no-browser] [JupyterLab options]``
(``make lab LAB_ARGS="--port 9000"``). The server logs warnings and errors only; add
``--ServerApp.log_level=INFO`` to see everything it does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "course/00_index.ipynb"
DEFAULT_PORT = 8888
READY_TIMEOUT = 600.0  # a first start on a slow laptop can take a minute or more
QUIET = 1.0  # seconds without server output before the URL is printed


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (as JupyterLab binds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        if os.name == "posix":  # tornado sets it too; ports in TIME_WAIT are usable
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, preferred: int, tries: int = 50) -> int:
    """The first free port from ``preferred`` on, else one the system picks."""
    for port in range(preferred, min(preferred + tries, 65536)):
        if port_is_free(host, port):
            return port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def browser_can_open() -> bool:
    """Whether ``webbrowser`` would open a graphical browser (not a text one in this terminal)."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("BROWSER")):
            return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    # lynx, w3m, links, www-browser... are registered as plain GenericBrowser
    return type(browser) is not webbrowser.GenericBrowser


def url_host(ip: str) -> str:
    if ip in ("", "0.0.0.0", "*"):
        return "127.0.0.1"
    if ip == "::":
        return "[::1]"
    return f"[{ip}]" if ":" in ip else ip


class _Relay:
    """Copies the server's output to ours as it comes and remembers when it last spoke."""

    def __init__(self, stream) -> None:
        self.lock = threading.Lock()
        self.last_output = time.monotonic()
        self.text = bytearray()
        self._fd = stream.fileno()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        out = sys.stdout.buffer
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                out.write(chunk)
                out.flush()
                self.text += chunk
                del self.text[:-20000]
                self.last_output = time.monotonic()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def say(self, lines: list[str]) -> None:
        with self.lock:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()


def _server_answers(base: str, token: str) -> bool:
    request = urllib.request.Request(f"{base}/api/status",
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _command(ip: str, port: int, extra: list[str] = ()) -> list[str]:
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        # warnings and errors only: the start-up chatter would bury the URL
        "--ServerApp.log_level=WARN", "--LabApp.log_level=WARN",
        f"--ServerApp.ip={ip}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + list(extra)  # JupyterLab options given by the user come last and win


def _environment(token: str) -> dict[str, str]:
    env = dict(os.environ)
    env["JUPYTER_TOKEN"] = token  # not on the command line, where `ps` would show it
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("MPLBACKEND", None)  # `make` sets Agg for the tests; notebooks draw inline
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs alembic from the venv
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Any other option goes to JupyterLab as it is.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"preferred port (default {DEFAULT_PORT}; the next free one if taken)")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container "
                             "whose port is published)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args, extra = parser.parse_known_args(argv)

    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    env = _environment(token)
    # Ctrl-C reaches the server too (same process group); it decides whether to stop,
    # and this process keeps relaying its output until it has.
    signal.signal(signal.SIGINT, lambda *_: None)

    proc: subprocess.Popen | None = None

    def stop(*_) -> None:
        if proc is not None and proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, stop)

    for _attempt in range(3):  # another program may take the port between check and bind
        port = choose_port(args.ip, args.port)
        base = f"http://{url_host(args.ip)}:{port}"
        proc = subprocess.Popen(_command(args.ip, port, extra), cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        relay = _Relay(proc.stdout)
        deadline = time.monotonic() + READY_TIMEOUT
        while proc.poll() is None and not _server_answers(base, token):
            if time.monotonic() > deadline:
                relay.say([f"JupyterLab did not answer at {base} within {READY_TIMEOUT:.0f} s."])
                proc.terminate()
                proc.wait()
                return 1
            time.sleep(0.3)
        if proc.poll() is None:
            break
        relay.join(5)
        if b"already in use" not in relay.text:
            return proc.returncode or 1
    else:
        return proc.returncode or 1

    url = f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    # let the server finish its start-up messages, so that the URL is the last line
    quiet_deadline = time.monotonic() + 5
    while time.monotonic() - relay.last_output < QUIET and time.monotonic() < quiet_deadline:
        time.sleep(0.1)
    lines = [""]
    if port != args.port:
        lines.append(f"Port {args.port} is in use, so JupyterLab took port {port}.")
    lines.append("JupyterLab is running the course. Stop it with Ctrl-C twice.")
    opened = False
    if not args.no_browser and browser_can_open():
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
        time.sleep(1)  # a browser's own messages come before the URL
    if opened:
        lines.append("It opened in your browser; if not, open this URL:")
    else:
        lines.append("Open this URL in a browser (on this computer):")
    lines.append(url)
    relay.say(lines)

    returncode = proc.wait()
    relay.join(5)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
