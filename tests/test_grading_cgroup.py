"""Each sandbox in a control group of its own: CPU quota, memory with shmem, processes.

Attacks from the adversarial review: a submission that forks busy loops, each in a
session of its own, next to a solved classmate graded in the same run (the classmate
must keep full marks), and a submission that holds its memory in ``memfd_create``
files, which ``RLIMIT_AS`` does not count (it must be killed at the sandbox's
memory limit and score 0). After grading no group of the grader is left.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest
from _grading_class import assert_full_marks

from grading._cgroup import CGROUP_ROOT, SandboxGroup, cgroup_problem
from grading.autograde import grade_submissions
from grading.course import EXERCISES_DIR, SOLUTIONS_DIR

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(cgroup_problem() is not None, reason=str(cgroup_problem()))]

CPU_HOG = """
import os, time
for _ in range(8):
    if os.fork() == 0:
        os.setsid()
        _end = time.time() + 90   # busy for the classmate's whole grading, then gone
        while time.time() < _end:
            pass
        os._exit(0)
time.sleep(1)
"""

# 3 memfd files of 160 MB: 480 MB of shared memory, over a 0.25 GB sandbox, under RLIMIT_AS
MEMFD = """
import os, time
_fds = []
for _i in range(3):
    _fd = os.memfd_create(f"hold{_i}")
    for _ in range(10):
        os.write(_fd, b"x" * (16 << 20))
    _fds.append(_fd)
print("holding", sum(os.fstat(f).st_size for f in _fds) >> 20, "MB")
time.sleep(5)
"""


def _read(folder, name):
    return nbformat.read(folder / name / f"{name}.ipynb", 4)


def _with_attack(nb, code):
    nb = copy.deepcopy(nb)
    first = next(c for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    first.source = code + "\n\n" + first.source
    return nb


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _groups() -> list[Path]:
    """Sandbox groups left behind: ``limelab-<pid>-<n>`` (or ``limelab-probe-<pid>``) whose
    creating process has ended. Groups of a grading that is still running (another test
    file on the other xdist worker, say) are not leftovers."""
    found = []
    for top in CGROUP_ROOT.iterdir():
        if top.is_dir():
            for p in top.rglob("limelab-*"):
                digits = [part for part in p.name.split("-") if part.isdigit()]
                if p.is_dir() and digits and not _alive(int(digits[0])):
                    found.append(p)
    return found


@pytest.fixture(scope="module")
def one_core():
    """Grade on one core (as the reviewer did): the hog and the classmate compete for it."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(before)})
    yield
    os.sched_setaffinity(0, before)


def test_no_group_where_cgroups_cannot_be_made(monkeypatch, tmp_path):
    import grading._cgroup as cg

    monkeypatch.setattr(cg, "CGROUP_ROOT", tmp_path / "absent")
    monkeypatch.setattr(cg, "_PROBLEM", {})
    assert "no control group for the sandbox" in cg.cgroup_problem()


def test_group_limits_and_removal():
    group = SandboxGroup.create(256 * 1024**2, 16)
    try:
        assert all(d.is_dir() for d in group.dirs)
        text = {d.name: d for d in group.dirs}
        assert text
        if group.version == 1:
            assert (group.dirs[0] / "cpu.cfs_quota_us").read_text().strip() == "100000"
            assert (group.dirs[1] / "memory.limit_in_bytes").read_text().strip() == str(256 * 1024**2)
            assert (group.dirs[2] / "pids.max").read_text().strip() == "16"
        else:
            assert (group.dirs[0] / "cpu.max").read_text().split() == ["100000", "100000"]
            assert (group.dirs[0] / "memory.max").read_text().strip() == str(256 * 1024**2)
    finally:
        group.remove()
    assert not any(d.exists() for d in group.dirs)


BUSY = """
import os, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        end = time.time() + 3
        while time.time() < end:
            pass
        os._exit(0)
    kids.append(pid)
start = time.time()
for pid in kids:
    os.waitpid(pid, 0)
print(os.times().children_user + os.times().children_system, time.time() - start)
"""


def test_cpu_quota_holds_many_sessions_to_one_core():
    """Four busy processes in sessions of their own get one core's worth of CPU time, no more."""
    import subprocess
    import sys

    group = SandboxGroup.create(512 * 1024**2, 16)
    try:
        out = subprocess.run([sys.executable, "-c", BUSY], capture_output=True, text=True,
                             preexec_fn=group.join, timeout=60, check=True).stdout.split()
    finally:
        group.remove()
    cpu, wall = float(out[0]), float(out[1])
    # the quota is one period (0.1 s) of CPU per period of wall time. Without the group, on
    # this (loaded) 2-core machine the same script measured 3.5-4.0 s of CPU in 3.0-3.2 s
    assert cpu <= 1.05 * wall + 0.1, (cpu, wall)
    assert cpu > 0.2, (cpu, wall)   # they did run


def test_cpu_hog_does_not_starve_a_classmate(tmp_path, one_core):
    """The reviewer's attack, scaled down (8 loops, not 100), on one core.

    At this scale the classmate also kept full marks without groups in one measured run
    (the loops run in sessions of their own); ``test_cpu_quota_holds_many_sessions_to_one_core``
    is the check that fails without the quota. This one checks the grading path end to end.
    """
    klass = tmp_path / "class"
    hog = klass / "a_cpuhog" / "hw5_sanity_checks.ipynb"
    victim = klass / "b_victim" / "hw5_sanity_checks.ipynb"
    hog.parent.mkdir(parents=True)
    victim.parent.mkdir(parents=True)
    nbformat.write(_with_attack(_read(EXERCISES_DIR, "hw5_sanity_checks"), CPU_HOG), hog)
    nbformat.write(_read(SOLUTIONS_DIR, "hw5_sanity_checks"), victim)
    results = {r.student: r for r in grade_submissions([klass], timeout=30, jobs=2)}
    res = results["b_victim"]
    assert_full_marks(res)
    assert results["a_cpuhog"].auto_total == 0
    assert not any("NO CPU/MEMORY GROUP" in m for r in results.values() for m in r.messages)
    assert _groups() == []


def test_memfd_over_the_memory_limit_is_killed(tmp_path):
    path = tmp_path / "memfd" / "hw6_evaluation.ipynb"
    path.parent.mkdir()
    nbformat.write(_with_attack(_read(SOLUTIONS_DIR, "hw6_evaluation"), MEMFD), path)
    res = grade_submissions([path], timeout=60, memory_gb=0.25)[0]
    assert res.status == "graded", res.messages
    text = " ".join(res.messages)
    assert "sandbox used all of its memory (0.25 GB limit, shared memory included)" in text, res.messages
    # the cell that held the memory is gone; a solved notebook otherwise, so the rest still scores
    assert _groups() == []
