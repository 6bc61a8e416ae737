"""One class of submissions, graded together: the attack suites' shared set-up.

An attack is only convincing next to honest classmates graded in the same run (they
must keep full marks), so the suites write every attacker's notebook and one solved
notebook per assignment into one class folder and grade it with the real grader.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import nbformat

from grading.autograde import grade_submissions
from grading.course import EXERCISES_DIR, SOLUTIONS_DIR


def solution(name: str):
    """The instructor's notebook of assignment ``name`` (a solved classmate's work)."""
    return nbformat.read(SOLUTIONS_DIR / name / f"{name}.ipynb", 4)


def grade_class(folder: Path, submissions: dict, honest: Iterable[str]) -> dict:
    """Write ``{student: (assignment, notebook)}`` and a solved ``honest_<hwN>`` classmate
    for each assignment in ``honest`` into ``folder``, grade them in one run, and return
    ``{student: SubmissionResult}``."""
    for student, (name, nb) in submissions.items():
        path = folder / student / f"{name}.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
    for name in honest:
        path = folder / f"honest_{name[:3]}" / f"{name}.ipynb"
        path.parent.mkdir()
        nbformat.write(solution(name), path)
    results = grade_submissions([folder], timeout=120, jobs=2)
    return {r.student: r for r in results}


def assert_full_marks(res) -> None:
    """``res`` (a SubmissionResult) was graded and scored every autograded point."""
    assert res.status == "graded", res.messages
    assert res.auto_total == res.auto_max > 0, (res.questions, res.messages)


def exercise_with(name: str, answers: dict):
    """The released exercise ``name`` with the answer cells ``{grade_id: source}`` filled in
    (every other answer left unanswered); ``answers`` is emptied."""
    nb = nbformat.read(EXERCISES_DIR / name / f"{name}.ipynb", 4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers.pop(gid).strip("\n")
    assert not answers, f"{name} has no cells {sorted(answers)}"
    return nb


def assert_no_points_for(res, assignment: str, questions: list[str]) -> dict:
    """``res`` was graded as ``assignment`` and scored 0 on each of ``questions``; returns
    ``{question: score}`` of its autograded questions."""
    assert res.status == "graded" and res.assignment == assignment, res.messages
    scores = {q.question: q.score for q in res.questions if q.kind == "auto"}
    assert all(scores[q] == 0.0 for q in questions), scores
    return scores
