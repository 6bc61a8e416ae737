"""Homework that grades understanding: rubrics stay with the instructor, points add up.

Every manually graded question has, in its answer cell in ``solutions/``, a rubric with
one row per quality level (0 .. the cell's points) and an example answer for every level.
nbgrader replaces a written-answer cell by ``YOUR ANSWER HERE`` and strips solution
regions, so none of it may appear in ``exercises/``. The points a notebook states (in its
introduction and in each question's heading) must be the points of its graded cells, and no
autograded answer may be a single boolean that a coin flip gets right half the time.
"""

from __future__ import annotations

import ast
import functools
import re

import nbformat
import pytest

from grading.course import ASSIGNMENTS, EXERCISES_DIR, SOLUTIONS_DIR

LEVEL_ROW = re.compile(r"^\| (\d+) \|", re.M)
EXAMPLE = re.compile(r"^\*\*Example answer, (\d+) points?\.\*\*", re.M)
REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HEADING_POINTS = re.compile(r"^## (Q\w+)\b.*?(\d+) points?[,)]", re.M)
WRITTEN = ("hw1_lime_from_scratch", "hw2_integrated_gradients", "hw4_axioms",
           "hw5_sanity_checks", "hw6_evaluation", "hw7_explain_your_model")


@functools.cache
def _read(folder, name):
    return nbformat.read(folder / name / f"{name}.ipynb", 4)  # read-only below: safe to share


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _manual_cells(nb):
    return [c for c in nb.cells if _nbgrader(c).get("grade") and _nbgrader(c).get("solution")]


def _rubric_text(cell) -> str:
    """The rubric of a manually graded cell: the whole markdown cell, or the comments
    inside the solution region of a code cell."""
    if cell.cell_type == "markdown":
        return cell.source
    comments = []
    for region in REGION.findall(cell.source):
        for line in region.splitlines():
            if line.startswith("#"):
                comments.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(comments)


def _released_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_manual_question_has_levels_and_an_example_answer_per_level(name):
    for cell in _manual_cells(_read(SOLUTIONS_DIR, name)):
        gid, points = _nbgrader(cell)["grade_id"], _nbgrader(cell)["points"]
        rubric = _rubric_text(cell)
        levels = sorted(int(p) for p in LEVEL_ROW.findall(rubric))
        examples = sorted(int(p) for p in EXAMPLE.findall(rubric))
        expected = list(range(int(points) + 1))
        assert levels == expected, f"{name}/{gid}: rubric levels {levels}, expected one row per level {expected}"
        assert examples == expected, f"{name}/{gid}: example answers for levels {examples}, expected {expected}"


@pytest.mark.parametrize("name", WRITTEN)
def test_homework_has_a_written_interpretation(name):
    written = [c for c in _manual_cells(_read(SOLUTIONS_DIR, name)) if c.cell_type == "markdown"]
    assert written, f"{name} has no manually graded written answer"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_exercise_contains_no_rubric_and_no_example_answer(name):
    exercise = _released_text(_read(EXERCISES_DIR, name))
    for word in ("rubric", "example answer", "instructor"):
        assert word not in exercise.lower(), f"exercises/{name} mentions {word!r}"
    for cell in _manual_cells(_read(SOLUTIONS_DIR, name)):
        for line in _rubric_text(cell).splitlines():
            line = line.strip()
            if len(line) > 25:  # long enough to be specific to the rubric
                assert line not in exercise, f"exercises/{name} leaks rubric text {line!r}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_written_answer_cells_are_blank_in_the_exercise(name):
    exercise = {_nbgrader(c).get("grade_id"): c for c in _read(EXERCISES_DIR, name).cells}
    for cell in _manual_cells(_read(SOLUTIONS_DIR, name)):
        released = exercise[_nbgrader(cell)["grade_id"]].source
        if cell.cell_type == "markdown":
            assert released == "YOUR ANSWER HERE"
        else:
            assert "raise NotImplementedError()" in released and "#" not in released.replace(
                "# YOUR CODE HERE", "")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stated_points_are_the_points_of_the_cells(name):
    nb = _read(SOLUTIONS_DIR, name)
    graded = [c for c in nb.cells if _nbgrader(c).get("grade")]
    total = sum(_nbgrader(c)["points"] for c in graded)
    manual = sum(_nbgrader(c)["points"] for c in _manual_cells(nb))
    intro = nb.cells[0].source
    stated = re.search(r"Points: (\d+)", intro)
    assert stated, f"{name}: the introduction states no total"
    assert int(stated.group(1)) == total, f"{name}: introduction says {stated.group(1)} points, cells give {total}"
    split = re.search(r"(\d+) autograded, (\d+) graded by hand", intro)
    if split:
        assert (int(split.group(1)), int(split.group(2))) == (total - manual, manual), name
    # each question's heading: the points of the graded cells up to the next heading
    current, stated_by_q, counted = None, {}, {}
    for cell in nb.cells:
        match = HEADING_POINTS.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            current = match.group(1)
            stated_by_q[current], counted[current] = int(match.group(2)), 0
        elif current and _nbgrader(cell).get("grade"):
            counted[current] += _nbgrader(cell)["points"]
    assert stated_by_q, f"{name}: no question states its points"
    assert stated_by_q == counted, f"{name}: headings say {stated_by_q}, cells give {counted}"


def _bool_assignments(code: str) -> list[str]:
    """Top-level names assigned a bare boolean (a literal, ``bool(...)``, a comparison)."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign):
            value = node.value
            is_bool = (isinstance(value, ast.Constant) and isinstance(value.value, bool)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "bool"
            ) or isinstance(value, (ast.Compare, ast.BoolOp))
            if is_bool:
                found += [ast.unparse(t) for t in node.targets]
    return found


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_answer_is_a_single_boolean(name):
    for cell in _read(SOLUTIONS_DIR, name).cells:
        if cell.cell_type != "code" or not _nbgrader(cell).get("solution"):
            continue
        for region in REGION.findall(cell.source):
            if region[:1].isspace():
                continue  # inside a function the grader calls: not a stored answer
            names = _bool_assignments(region)
            assert not names, f"{name}/{_nbgrader(cell)['grade_id']}: {names} is a coin-flip answer"


def test_bool_detector_finds_coin_flips():
    assert _bool_assignments("a = True\nb = bool(x)\nc = x > 0\nd = [True]\ne = 1.0") == ["a", "b", "c"]


JUDGEMENT = re.compile(r"\b(poor|bad|good|better|worse|best|useless|drowned|wrong|right)\b", re.I)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_given_code_does_not_grade_the_methods(name):
    """Names, docstrings and comments of the given (locked) code state no verdict."""
    for cell in _read(EXERCISES_DIR, name).cells:
        md = _nbgrader(cell)
        if cell.cell_type != "code" or not md.get("locked") or md.get("grade"):
            continue
        tree = ast.parse(cell.source)
        words = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        words += [ast.get_docstring(n) or "" for n in ast.walk(tree)
                  if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        words += [line.split("#", 1)[1] for line in cell.source.splitlines() if "#" in line]
        words += [k.value for n in ast.walk(tree) if isinstance(n, ast.Dict)
                  for k in n.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        for text in words:
            assert not JUDGEMENT.search(text.replace("_", " ")), f"{name}: given code says {text!r}"
