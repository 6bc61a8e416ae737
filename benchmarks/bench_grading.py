"""Benchmark: grading a class of 30 submissions of one assignment (issues 7 and 11).

Goal (issue 11): 30 notebooks of ``hw1_lime_from_scratch`` graded in under 3
minutes on two cores *with the sandbox on*, and the same 30 through a two-worker
Dask ``LocalCluster`` with identical scores. The class is 10 complete
solutions, 10 unmodified exercises and 10 half-solved exercises (the first
question answered): full marks (16), 0 and the 2 points of question 1.

Printed: wall time and seconds per notebook for ``--jobs 2`` (sandbox on), the
sandbox's own cost per submission (starting the kernel in bubblewrap vs as a
plain child process, side by side, 10 starts each), and the LocalCluster run
with its scores compared to the first run.

Run: ``python -m benchmarks grading`` or ``python benchmarks/bench_grading.py [N] [JOBS]``.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ASSIGNMENT = "hw1_lime_from_scratch"
GOAL_SECONDS = 180.0


def _half_solved(source, exercise):
    answers = {}
    for cell in source.cells:
        md = cell.metadata.get("nbgrader", {})
        if md.get("grade") and not md.get("solution"):
            break
        if md.get("solution"):
            answers[md["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if "SOLUTION" not in line
            )
    half = copy.deepcopy(exercise)
    for cell in half.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return half


def make_class(folder: Path, n: int = 30) -> None:
    """Write ``n`` submissions ``folder/student_XX/<assignment>.ipynb``."""
    import nbformat

    from grading.course import EXERCISES_DIR, SOLUTIONS_DIR

    source = nbformat.read(SOLUTIONS_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    exercise = nbformat.read(EXERCISES_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    kinds = [source, exercise, _half_solved(source, exercise)]
    for i in range(n):
        target = folder / f"student_{i:02d}"
        target.mkdir(parents=True)
        nbformat.write(kinds[i % 3], target / f"{ASSIGNMENT}.ipynb")


def kernel_start_seconds(sandbox: bool, repeats: int = 10) -> float:
    """Mean seconds to start the kernel (and get its first answer), with or without bubblewrap."""
    import shutil
    import tempfile as _tempfile

    from grading import _wire
    from grading.sandbox import Limits, start_kernel, stop_kernel

    tmp = Path(_tempfile.mkdtemp(prefix="limelab-bench-kernel-"))
    try:
        total = 0.0
        for i in range(repeats):
            start = time.perf_counter()
            proc, rfd, wfd = start_kernel(ASSIGNMENT, Limits(), sandbox, tmp / f"{i}.err")
            peer = _wire.Peer(rfd, wfd, _wire.Codec("t"), lambda m: {"op": "raise"})
            assert peer.recv(time.monotonic() + 120)["op"] == "ready"
            peer.request({"op": "exec", "code": "import numpy", "kind": "student", "timeout": 60})
            total += time.perf_counter() - start
            stop_kernel(proc, (rfd, wfd))
        return total / repeats
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _scores(results) -> list[tuple]:
    return [(r.student, r.status, [(q.question, q.score) for q in r.questions]) for r in results]


def main(n: int = 30, jobs: int = 2, cluster: bool = True) -> dict:
    import os

    from grading.autograde import grade_submissions

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="limelab-bench-grading-") as tmp:
        make_class(Path(tmp), n)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        results = grade_submissions([tmp], ASSIGNMENT, jobs=jobs)
        elapsed = time.perf_counter() - start
        with_sandbox = kernel_start_seconds(True)
        without = kernel_start_seconds(False)
        dask_seconds = same = None
        if cluster:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as lc:
                start = time.perf_counter()
                on_cluster = grade_submissions([tmp], ASSIGNMENT, scheduler=lc.scheduler_address)
                dask_seconds = time.perf_counter() - start
            same = _scores(on_cluster) == _scores(results)
    totals = Counter(f"{r.total:g}/{r.max_total:g}" for r in results)
    graded = sum(r.status == "graded" for r in results)
    verdict = "meets" if elapsed < GOAL_SECONDS else "MISSES"
    print(f"{n} submissions of {ASSIGNMENT}, --jobs {jobs}, sandbox on (load average {load:.1f})")
    print(f"  wall time {elapsed:.1f} s ({elapsed / n:.1f} s per notebook); {graded}/{n} graded")
    print(f"  scores: {dict(sorted(totals.items()))}")
    print(f"  goal < {GOAL_SECONDS:.0f} s: {verdict} it")
    print(f"  kernel start + first cell: {with_sandbox:.2f} s in bubblewrap, {without:.2f} s without; "
          f"sandbox cost {with_sandbox - without:+.2f} s per submission")
    if cluster:
        print(f"  two-worker LocalCluster: {dask_seconds:.1f} s; scores identical to --jobs: {same}")
    return {"seconds": elapsed, "graded": graded, "scores": dict(totals),
            "kernel_sandbox": with_sandbox, "kernel_plain": without,
            "dask_seconds": dask_seconds, "dask_identical": same}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
