"""Honest accidents and plausible mistakes, graded in one run with the real homework.

Accidents (edited metadata, an old notebook format, a misnamed or broken file,
a copy-pasted cell, a warning, a huge allocation, a loop that ignores Ctrl-C)
must not cost points the student earned, and must not stop the grading of
anyone else; plausible wrong answers must lose the points of their question
(and only those).
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from grading.autograde import grade_submissions
from grading.course import SOLUTIONS_DIR

pytestmark = pytest.mark.slow


def _solution(name):
    return nbformat.read(SOLUTIONS_DIR / name / f"{name}.ipynb", 4)


def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def _answer(nb, gid, old, new):
    """Replace ``old`` by ``new`` in the answer cell ``gid`` (markers of the source kept)."""
    nb = copy.deepcopy(nb)
    cell = _cell(nb, gid)
    assert old in cell.source, (gid, old)
    cell.source = cell.source.replace(old, new)
    return nb


HW1, HW3, HW4, HW5, HW6 = ("hw1_lime_from_scratch", "hw3_shapley", "hw4_axioms",
                           "hw5_sanity_checks", "hw6_evaluation")


def _plan():
    hw1, hw6 = _solution(HW1), _solution(HW6)
    plan = {}
    # --- metadata edits, reset from the released notebook -------------------
    nb = copy.deepcopy(hw6)
    for cell in nb.cells:
        md = cell.metadata.get("nbgrader", {})
        if md.get("grade") and not md.get("solution"):
            md["grade"] = False          # tests marked as not graded
            md["points"] = 100           # and their points changed
    _cell(nb, "hw6_q2_recall").metadata["nbgrader"]["grade_id"] = "my_recall"  # renamed id
    extra = nbformat.v4.new_code_cell("print('my own graded cell')")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": False, "points": 50,
                                  "schema_version": 3, "solution": False, "task": False}
    nb.cells.append(extra)               # an added graded cell
    plan["metadata", HW6] = nb
    # --- an nbformat 3 notebook ----------------------------------------------
    plan["v3", HW6] = nbformat.convert(copy.deepcopy(hw6), 3)
    # --- a copy-pasted answer cell (duplicated id) -----------------------------
    nb = copy.deepcopy(hw6)
    i = nb.cells.index(_cell(nb, "hw6_q2_recall"))
    dup = copy.deepcopy(nb.cells[i])
    dup.id = "copy-of-recall"
    nb.cells.insert(i + 1, dup)
    plan["duplicate", HW6] = nb
    # --- a RuntimeWarning on stderr in a correct answer --------------------------
    plan["warning", HW6] = _answer(hw6, "hw6_q1_curves", "def auc(scores):\n",
                                   "def auc(scores):\n    np.log(np.zeros(1))  # RuntimeWarning: divide by zero\n")
    # --- helper names that the hidden tests also use ----------------------------
    nb = _answer(hw1, "hw1_q1_kernel", "    ### END SOLUTION",
                 "    ### END SOLUTION\n\n\ndef _c(Z, y, weights):\n    return weighted_ridge(Z, y, weights, alpha=0.0)")
    nb = _answer(nb, "hw1_q4_forward", "coef, b = weighted_ridge(Z[:, cols], y, weights, alpha=0.0)",
                 "coef, b = _c(Z[:, cols], y, weights)")
    plan["helper_names", HW1] = nb
    # --- an 8 GB allocation and a loop that ignores Ctrl-C --------------------
    plan["memory", HW1] = _answer(hw1, "hw1_q1_kernel", "    ### BEGIN SOLUTION\n",
                                  "    ### BEGIN SOLUTION\n    _huge = np.ones(8 * 1024**3 // 8)\n")
    plan["stubborn_loop", HW1] = _answer(
        hw1, "hw1_q2_sample", "def sample_around",
        "import time\nwhile True:\n    try:\n        time.sleep(0.5)\n    except BaseException:\n        pass\n\n\n"
        "def sample_around")
    # --- plausible mistakes the hidden tests catch ---------------------------------
    plan["wrong_q1", HW3] = _answer(_solution(HW3), "hw3_q1_exact", "    return phi\n",
                                    "    return np.zeros(d)\n")
    plan["sensitivity_any", HW4] = _answer(
        _solution(HW4), "hw4_q2_checks",
        "return bool(abs(method(saturating, sens_x, sens_base)[0]) > TOL)",
        "return bool(np.any(np.abs(method(saturating, sens_x, sens_base)) > TOL))")
    plan["symmetry_abs", HW4] = _answer(
        _solution(HW4), "hw4_q2_checks", "return bool(abs(attr[0] - attr[1]) < TOL)",
        "return bool(abs(abs(attr[0]) - abs(attr[1])) < TOL)")
    plan["cascade_bottom_up", HW5] = _answer(
        _solution(HW5), "hw5_q2_cascade", "enumerate(reversed(layers), start=1)", "enumerate(layers, start=1)")
    nb = _answer(hw6, "hw6_q1_curves", 'order = np.argsort(-np.asarray(attribution), kind="stable")',
                 'order = np.argsort(-np.abs(np.asarray(attribution)), kind="stable")')
    plan["abs_order", HW6] = nb
    return plan


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("accidents")
    klass = root / "class"
    for (student, name), nb in _plan().items():
        folder = klass / student
        folder.mkdir(parents=True)
        if student == "v3":
            (folder / f"{name}.ipynb").write_text(nbformat.writes(nb, version=3))
        else:
            nbformat.write(nb, folder / f"{name}.ipynb")
    # a solved hw6 saved under hw1's name: its cells win
    (klass / "misnamed").mkdir()
    nbformat.write(_solution(HW6), klass / "misnamed" / f"{HW1}.ipynb")
    # a broken file keeps the student id of its folder
    (klass / "carol").mkdir()
    (klass / "carol" / f"{HW1}.ipynb").write_text('{"cells": [')
    results = grade_submissions([klass], timeout=40, jobs=2)
    return {(r.student, r.assignment): r for r in results} | {r.student: r for r in results}


def _scores(res):
    return {q.question: q.score for q in res.questions}


def _full(res):
    return res.status == "graded" and res.auto_total == res.auto_max == 11.0


def test_metadata_edits_are_reset_from_the_released_notebook(graded):
    res = graded["metadata", HW6]
    assert _full(res), (res.questions, res.messages)
    assert [q.question for q in res.questions] == [
        "hw6_q1_curves_tests", "hw6_q2_recall_tests", "hw6_q3_compare_tests", "hw6_q4_better_tests", "hw6_q5_answer"]


def test_old_notebook_format_is_converted(graded):
    assert _full(graded["v3", HW6]), graded["v3", HW6].messages


def test_duplicated_answer_cell_is_graded_and_noted(graded):
    res = graded["duplicate", HW6]
    assert _full(res), res.messages
    assert "answer cell 'hw6_q2_recall' appears twice; both copies were run, in order" in res.messages


def test_runtime_warning_does_not_cost_points(graded):
    assert _full(graded["warning", HW6]), graded["warning", HW6].messages


def test_cell_ids_win_over_the_file_name(graded):
    res = graded["misnamed"]
    assert res.assignment == HW6 and _full(res), res.messages


def test_broken_file_keeps_its_folder_student_id(graded):
    res = graded["carol"]
    assert res.status == "error" and "not a notebook: invalid JSON" in res.messages[0]


def test_hidden_test_helpers_do_not_overwrite_student_names(graded):
    res = graded["helper_names", HW1]
    assert res.auto_total == res.auto_max, (res.questions, res.messages)


def test_huge_allocation_scores_that_question_zero(graded):
    res = graded["memory", HW1]
    scores = _scores(res)
    assert res.status == "graded"
    assert scores["hw1_q1_kernel_tests"] == 0.0
    assert scores["hw1_q2_sample_tests"] == 3.0 and scores["hw1_q3_ridge_tests"] == 3.0
    assert any("MemoryError" in m for m in res.messages), res.messages


def test_loop_ignoring_ctrl_c_scores_that_question_zero(graded):
    res = graded["stubborn_loop", HW1]
    scores = _scores(res)
    assert res.status == "graded"
    assert scores["hw1_q2_sample_tests"] == 0.0
    assert scores["hw1_q1_kernel_tests"] == 2.0 and scores["hw1_q3_ridge_tests"] == 3.0
    assert scores["hw1_q4_forward_tests"] == 3.0
    assert any("did not stop when interrupted" in m for m in res.messages), res.messages


def test_wrong_q1_of_hw3_costs_only_q1(graded):
    scores = _scores(graded["wrong_q1", HW3])
    assert scores == {"hw3_q1_exact_tests": 0.0, "hw3_q2_perm_tests": 4.0,
                      "hw3_q3_eff_tests": 2.0, "hw3_q4_kernel_tests": 3.0}


@pytest.mark.parametrize("student", ["sensitivity_any", "symmetry_abs"])
def test_hw4_checks_with_a_plausible_mistake_lose_that_axiom(graded, student):
    scores = _scores(graded[student, HW4])
    assert scores["hw4_q2_checks_tests"] == 5.0, graded[student, HW4].messages


def test_hw5_cascade_from_the_input_layer_fails(graded):
    res = graded["cascade_bottom_up", HW5]
    scores = _scores(res)
    assert scores["hw5_q2_cascade_tests"] == 0.0 and scores["hw5_q1_rank_tests"] == 2.0, res.messages


def test_hw6_curves_ordered_by_absolute_relevance_fail(graded):
    scores = _scores(graded["abs_order", HW6])
    assert scores["hw6_q1_curves_tests"] == 0.0 and scores["hw6_q2_recall_tests"] == 2.0
