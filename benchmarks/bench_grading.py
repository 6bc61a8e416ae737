"""Benchmark: grading a class of 30 submissions of one assignment (issue 7).

Goal: 30 notebooks of ``hw1_lime_from_scratch`` graded in under 5 minutes on a
two-core laptop. The class is 10 complete solutions, 10 unmodified exercises and
10 half-solved exercises (the first question answered), so the run also checks
the scores: full marks (16), 0 and the 2 points of question 1.

The grader runs ``jobs`` nbgrader autograde processes in parallel (default 2 on
two cores), each with one BLAS/torch thread. Printed: wall time, seconds per
notebook, and the scores seen; then, side by side on the same class, stock
``nbgrader generate_assignment`` + ``nbgrader autograde`` from the command line
(one process, the usual two-pass autograde), the reference an instructor would
otherwise use.

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
GOAL_SECONDS = 300.0


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


def stock_nbgrader(folder: Path) -> float:
    """Seconds for plain ``nbgrader`` (generate + autograde) on the class in ``folder``."""
    import os
    import shutil
    import subprocess

    from grading.course import SOLUTIONS_DIR, nbgrader_env

    with tempfile.TemporaryDirectory(prefix="limelab-bench-stock-") as course:
        course = Path(course)
        shutil.copytree(SOLUTIONS_DIR / ASSIGNMENT, course / "source" / ASSIGNMENT)
        for student in sorted(folder.iterdir()):
            target = course / "submitted" / student.name / ASSIGNMENT
            target.mkdir(parents=True)
            shutil.copy2(student / f"{ASSIGNMENT}.ipynb", target)
        nbgrader = [sys.executable, "-m", "nbgrader"]
        common = [f"--CourseDirectory.root={course}", "--CourseDirectory.course_id=limelab",
                  "--Execute.timeout=60", "--force"]
        start = time.perf_counter()
        for command in (["generate_assignment", ASSIGNMENT], ["autograde", ASSIGNMENT]):
            subprocess.run(nbgrader + command + common, cwd=course, env=nbgrader_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        assert os.path.isdir(course / "autograded")
    return elapsed


def main(n: int = 30, jobs: int = 2, compare: bool = True) -> dict:
    from grading.autograde import grade_submissions

    with tempfile.TemporaryDirectory(prefix="limelab-bench-grading-") as tmp:
        make_class(Path(tmp), n)
        start = time.perf_counter()
        results = grade_submissions([tmp], ASSIGNMENT, jobs=jobs)
        elapsed = time.perf_counter() - start
        stock = stock_nbgrader(Path(tmp)) if compare else None
    totals = Counter(f"{r.total:g}/{r.max_total:g}" for r in results)
    graded = sum(r.status == "graded" for r in results)
    verdict = "meets" if elapsed < GOAL_SECONDS else "MISSES"
    print(f"{n} submissions of {ASSIGNMENT}, {jobs} parallel autograde processes")
    print(f"  wall time {elapsed:.1f} s ({elapsed / n:.1f} s per notebook); {graded}/{n} graded")
    print(f"  scores: {dict(sorted(totals.items()))}")
    print(f"  goal < {GOAL_SECONDS:.0f} s: {verdict} it")
    if stock is not None:
        print(f"  stock nbgrader CLI (1 process) on the same class: {stock:.1f} s; "
              f"ratio ours / stock = {elapsed / stock:.2f}")
    return {"seconds": elapsed, "stock_seconds": stock, "graded": graded, "scores": dict(totals)}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
