"""One control group per sandboxed kernel: a CPU quota, a memory limit and a process limit.

The rlimits the sandbox sets are per process: ``RLIMIT_AS`` does not count shared
memory (``memfd_create``, tmpfs), and nothing limits CPU *time per second*, so a
submission could starve its classmates graded alongside it or grow the machine's
shared memory past its limit. A control group counts every process of the sandbox
together, shared memory included:

* ``cpu``: one core's worth (quota = period; v1 ``cpu.cfs_quota_us``, v2 ``cpu.max``);
* ``memory``: ``Limits.memory`` bytes, page cache and shmem included (v1
  ``memory.limit_in_bytes`` and, when swap accounting is on, ``memory.memsw.limit_in_bytes``;
  v2 ``memory.max`` with ``memory.swap.max = 0``); over it the kernel's OOM killer
  kills a process of the group;
* ``pids``: ``Limits.processes`` (v1 and v2 ``pids.max``).

The group is made before the sandbox starts: the child process writes its own PID
into it (``preexec_fn``) and then execs bubblewrap, so every process the submission
starts is in it. :meth:`SandboxGroup.remove` kills what is left in the group and
removes it. Supports cgroup v2 (a unified hierarchy with the three controllers) and
v1 (``/sys/fs/cgroup/{cpu,memory,pids}``). Groups are made under the grader's own
group in each hierarchy. When no group can be made (not root, a read-only
``/sys/fs/cgroup``), :func:`cgroup_problem` says why, grading goes on with the
rlimits only and every report row says so.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path(os.environ.get("LIMELAB_CGROUP_ROOT", "/sys/fs/cgroup"))
CPU_PERIOD_US = 100_000
CPU_CORES = 1.0  # CPU time per second a submission may use, in cores
V1_CONTROLLERS = ("cpu", "memory", "pids")
_COUNTER = itertools.count()


def _own_path(controller: str | None) -> str:
    """This process's group in the v1 hierarchy of ``controller`` (None: the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _id, names, path = line.split(":", 2)
        if controller is None and _id == "0" and names == "":
            return path
        if controller is not None and controller in names.split(","):
            return path
    return "/"


def _v2_base() -> Path | None:
    """The folder under which v2 groups with cpu, memory and pids can be made, else None."""
    for mount in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        controllers = mount / "cgroup.controllers"
        if not controllers.is_file():
            continue
        if not set(V1_CONTROLLERS) <= set(controllers.read_text().split()):
            continue
        base = mount / _own_path(None).lstrip("/")
        return base if base.is_dir() else None
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


class SandboxGroup:
    """The control group(s) of one sandboxed kernel (one folder for v2, three for v1)."""

    def __init__(self, dirs: list[Path], version: int, memory: int):
        self.dirs = dirs
        self.version = version
        self.memory = memory

    @classmethod
    def create(cls, memory: int, processes: int, name: str | None = None) -> SandboxGroup:
        """Make the group with its limits; raise ``OSError`` when it cannot be made."""
        name = name or f"limelab-{os.getpid()}-{next(_COUNTER)}"
        base = _v2_base()
        quota = int(CPU_PERIOD_US * CPU_CORES)
        made: list[Path] = []
        try:
            if base is not None:
                try:
                    _write(base / "cgroup.subtree_control", "+cpu +memory +pids")
                except OSError:
                    pass  # already enabled, or the group above decides
                group = base / name
                group.mkdir()
                made.append(group)
                _write(group / "cpu.max", f"{quota} {CPU_PERIOD_US}")
                _write(group / "memory.max", str(memory))
                if (group / "memory.swap.max").exists():
                    _write(group / "memory.swap.max", "0")
                _write(group / "pids.max", str(processes))
                return cls(made, 2, memory)
            for controller in V1_CONTROLLERS:
                parent = CGROUP_ROOT / controller / _own_path(controller).lstrip("/")
                group = parent / name
                group.mkdir()
                made.append(group)
            cpu, mem, pids = made
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", str(quota))
            _write(mem / "memory.limit_in_bytes", str(memory))
            if (mem / "memory.memsw.limit_in_bytes").exists():
                _write(mem / "memory.memsw.limit_in_bytes", str(memory))
            _write(pids / "pids.max", str(processes))
            return cls(made, 1, memory)
        except OSError:
            for group in reversed(made):
                try:
                    group.rmdir()
                except OSError:
                    pass
            raise

    def join(self) -> None:
        """Move the calling process into the group (run in the child before ``exec``)."""
        pid = str(os.getpid())
        for group in self.dirs:
            _write(group / "cgroup.procs", pid)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for group in self.dirs:
            try:
                found |= {int(p) for p in (group / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer killed in the group (0 if unknown)."""
        if self.version == 2:
            path, key = self.dirs[0] / "memory.events", "oom_kill"
        else:
            path, key = self.dirs[1] / "memory.oom_control", "oom_kill"
        try:
            for line in path.read_text().splitlines():
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v)
        except (OSError, ValueError):
            pass
        if self.version == 1:  # older kernels: no oom_kill counter, the limit was hit
            try:
                return int((self.dirs[1] / "memory.failcnt").read_text()) > 0
            except (OSError, ValueError):
                return 0
        return 0

    def memory_peak(self) -> int:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.dirs[0 if self.version == 2 else 1] / name).read_text())
        except (OSError, ValueError):
            return 0

    def kill_all(self, timeout: float = 10.0) -> None:
        """SIGKILL every process in the group until it is empty (or ``timeout`` passes)."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            try:
                _write(self.dirs[0] / "cgroup.kill", "1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            left = self.pids()
            if not left or time.monotonic() > deadline:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)

    def remove(self) -> None:
        """Kill what is left in the group, then remove it."""
        self.kill_all()
        for group in reversed(self.dirs):
            deadline = time.monotonic() + 10
            while True:
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


_PROBLEM: dict[str, str | None] = {}


def cgroup_problem() -> str | None:
    """None when sandbox groups can be made here, else one sentence saying why not."""
    if "result" in _PROBLEM:
        return _PROBLEM["result"]
    problem = None
    try:
        SandboxGroup.create(64 * 1024**2, 8, name=f"limelab-probe-{os.getpid()}").remove()
    except OSError as err:
        problem = (f"no control group for the sandbox ({err.strerror or err}: needs root and a writable "
                   f"{CGROUP_ROOT}); CPU time, shared memory and processes are limited only per process "
                   "(rlimits), so one submission can slow the others down")
    _PROBLEM["result"] = problem
    return problem
