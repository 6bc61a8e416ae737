"""The homework itself: exercises are generated and clean, solutions score full marks.

One grading run (module fixture) grades, for every assignment, the solution
notebook, the unmodified exercise and a half-solved exercise (the first
question's answer cells filled in from the solution), each in its sandbox.
"""

from __future__ import annotations

import copy
import json
import re

import nbformat
import pytest

from grading.autograde import available_assignments, grade_submissions
from grading.course import ASSIGNMENTS, EXERCISES_DIR, SOLUTIONS_DIR
from grading.generate import generate_exercises

HAVE = available_assignments(SOLUTIONS_DIR)
# one group: under `pytest -n 2 --dist loadgroup` the module's grading run happens once
pytestmark = pytest.mark.xdist_group("homework")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _read(folder, name):
    return nbformat.read(folder / name / f"{name}.ipynb", 4)


def test_every_assignment_has_a_source_and_an_exercise():
    assert HAVE == sorted(ASSIGNMENTS)
    for name in ASSIGNMENTS:
        assert (EXERCISES_DIR / name / f"{name}.ipynb").is_file(), f"run `make exercises` ({name})"


@pytest.mark.parametrize("name", HAVE)
def test_exercise_contains_no_solution_and_no_hidden_test(name):
    source, exercise = _read(SOLUTIONS_DIR, name), _read(EXERCISES_DIR, name)
    text = json.dumps(exercise)
    for marker in MARKERS:
        assert marker not in text, f"{name}: exercise contains {marker!r}"
    by_id = {_nbgrader(c).get("grade_id"): c for c in exercise.cells}
    for cell in source.cells:
        md = _nbgrader(cell)
        for block in re.findall(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END", cell.source, re.S):
            for line in block.splitlines():
                line = line.strip()
                if len(line) > 25:  # long enough to be specific to this answer/test
                    assert line not in by_id[md["grade_id"]].source, f"{name}: leaked {line!r}"
        if md.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in by_id[md["grade_id"]].source
        if md.get("solution") and cell.cell_type == "markdown":  # a written answer
            assert by_id[md["grade_id"]].source == "YOUR ANSWER HERE"
    assert all(not c.get("outputs") for c in exercise.cells if c.cell_type == "code")


@pytest.mark.slow
def test_committed_exercises_are_what_generation_gives(tmp_path):
    generate_exercises(HAVE, SOLUTIONS_DIR, tmp_path)
    for name in HAVE:
        fresh, committed = _read(tmp_path, name), _read(EXERCISES_DIR, name)
        assert fresh == committed, f"exercises/{name} is stale: run `make exercises`"


def _half_solved(name):
    """The exercise with the answer cells of its first question filled in."""
    source, exercise = _read(SOLUTIONS_DIR, name), _read(EXERCISES_DIR, name)
    answers = {}
    for cell in source.cells:
        md = _nbgrader(cell)
        if md.get("grade") and not md.get("solution"):
            break  # the first test cell ends the first question
        if md.get("solution"):
            answers[md["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if "SOLUTION" not in line
            )
    half = copy.deepcopy(exercise)
    for cell in half.cells:
        gid = _nbgrader(cell).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return half


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("homework")
    for name in HAVE:
        for kind, nb in (("solution", _read(SOLUTIONS_DIR, name)),
                         ("exercise", _read(EXERCISES_DIR, name)),
                         ("half", _half_solved(name))):
            (folder / kind).mkdir(exist_ok=True)
            nbformat.write(nb, folder / kind / f"{name}.ipynb")
    results = grade_submissions([folder], timeout=120, jobs=2)
    return {(r.student, r.assignment): r for r in results}


@pytest.mark.slow
@pytest.mark.parametrize("name", HAVE)
def test_solution_scores_full_marks(graded, name):
    res = graded["solution", name]
    assert res.status == "graded", res.messages
    assert res.sandbox is True
    assert res.auto_max > 0
    assert res.auto_total == res.auto_max, (res.questions, res.messages)
    assert not [m for m in res.messages if "modified" in m or "deleted" in m]
    for q in res.questions:
        if q.kind == "manual":
            assert q.score is None  # left for the instructor, never auto-zeroed


@pytest.mark.slow
@pytest.mark.parametrize("name", HAVE)
def test_unmodified_exercise_scores_zero(graded, name):
    res = graded["exercise", name]
    assert res.status == "graded", res.messages
    assert res.auto_total == 0.0, res.questions


@pytest.mark.slow
@pytest.mark.parametrize("name", HAVE)
def test_half_solved_exercise_gets_partial_credit(graded, name):
    res = graded["half", name]
    assert res.status == "graded", res.messages
    if res.auto_max == 0:
        pytest.skip(f"{name} has no autograded question")
    assert 0.0 < res.auto_total < res.auto_max, res.questions
