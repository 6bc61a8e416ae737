"""Third adversarial review of the grader (issue 11): answers that score without the work.

Each attack starts from the released exercise (every answer unanswered), answers only what
its trick needs, and is graded next to a solved classmate in the same run.

* hw4 Q2 ``call_order``: no check measures anything. The six methods are recognised by
  identity; every other method is answered by its position in the hidden test's sequence
  (``_zero``, ``_noise``, the mistake, then the twelve probes in ``for axiom in AXIOMS for t in
  (0.3, 3.0)`` order), counted per check. 6/6 while the order was fixed; the hidden test now
  hands the stand-ins and probes over twice each, in an order drawn at grading time.
* hw7 Q1 ``constant_hw7``: flu's test split is 76.5% one class, so a "model" that always answers it
  cleared the 0.7 bar; now the bar is also the most common class's share + 0.05.
* hw7 Q1 ``index_hw7``: y_test is flu's test split, X_test each example's index, the "model" looks
  the label up by index (1.0 in any order); now the model must also classify 300 examples of
  the loader's train split.

* hw5 ``budget_hw5`` (grading/_evaluate.py): a kernel restarted by the grader (an added cell that
  exits) got a connection with no receive budget until the next test cell, and the functions
  earlier tests had handed out still answered it: an added cell then called hw5 Q2's hidden
  ``_counting`` (which keeps every model it is given) with 12 models of 36 MB, trusted process
  peak RSS 1.40 GB against 0.98 GB for the same cell without the restart (cut at the 256 MB a
  test may receive); unbounded with more calls. A new kernel now starts with one test's budget.

And an honest answer that was refused: hw7 Q2 with KernelSHAP over the zoo's
``word_presence_model`` (the zoo's own recipe for text; words split on whitespace, e.g.
"NNTP-Posting-Host:") lost both points ("not words of the explained text"); and hw5 with one
slip in Q1 (ordinal ranks, ties not averaged) and the reference Q2 and Q3 lost 9 of 11 points: Q2
and Q3 were compared with scipy's Spearman only (gradient x input maps have ties: 0.830 vs 0.845);
they now also accept the notebook's own rank_similarity where it is within 0.05 of Spearman on
those maps (``rank_similarity = 0``, the second review's trick, still scores 0). Likewise hw2 with
left Riemann nodes in Q1 and the reference Q2 lost Q2 (0/3) although Q2 asks for the gaps of the
student's own integrated_gradients; those gaps now count when that IG is within 0.01 of the
reference at 256 steps (the second review's fake IG is far from it and still scores 0).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from _grading_class import (
    assert_full_marks,
    assert_no_points_for,
    exercise_with,
    grade_class,
    solution,
)

HW2, HW4, HW5, HW7 = "hw2_integrated_gradients", "hw4_axioms", "hw5_sanity_checks", "hw7_explain_your_model"
ATTACKS = Path(__file__).parent / "attacks"

TRICKS = {
    # student: (assignment, {grade_id: answer source}, autograded questions that must score 0)
    "call_order_hw4": (HW4, {"hw4_q2_checks": (ATTACKS / "hw4_q2_call_order" / "hw4_q2_checks.cell").read_text()},
                       ["hw4_q2_checks_tests"]),
    "constant_hw7": (HW7, {g: (ATTACKS / "hw7_constant_model" / f"{g}.cell").read_text()
                           for g in ("hw7_q1_model", "hw7_q2_explain")}, ["hw7_q1_model_tests"]),
    "index_hw7": (HW7, {g: (ATTACKS / "hw7_index_model" / f"{g}.cell").read_text()
                        for g in ("hw7_q1_model", "hw7_q2_explain")}, ["hw7_q1_model_tests"]),
}
HONEST = {
    # student: (assignment, {grade_id: answer source}): every autograded question full marks
    "kernelshap_words_hw7": (HW7, {g: (ATTACKS / "hw7_honest_kernelshap_words" / f"{g}.cell").read_text()
                                   for g in ("hw7_q1_model", "hw7_q2_explain")}),
}


def _budget_after_restart():
    """hw5 solved, with two added cells after the Q2 test: one exits, one floods (see the folder)."""
    nb = solution(HW5)
    at = next(i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "hw5_q2_cascade_tests")
    folder = ATTACKS / "budget_after_restart"
    nb.cells[at + 1:at + 1] = [nbformat.v4.new_code_cell((folder / f).read_text()) for f in ("crash.cell", "flood.cell")]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = {s: (name, exercise_with(name, dict(cells))) for s, (name, cells, _q) in TRICKS.items()}
    submissions.update({s: (name, exercise_with(name, dict(cells))) for s, (name, cells) in HONEST.items()})
    submissions["budget_hw5"] = (HW5, _budget_after_restart())
    nb = solution(HW5)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "hw5_q1_rank":
            cell.source = (ATTACKS / "hw5_honest_ordinal_ranks" / "hw5_q1_rank.cell").read_text()
    submissions["ordinal_ranks_hw5"] = (HW5, nb)
    nb = solution(HW2)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "hw2_q1_ig":
            cell.source = (ATTACKS / "hw2_honest_left_riemann" / "hw2_q1_ig.cell").read_text()
    submissions["left_riemann_hw2"] = (HW2, nb)
    return grade_class(tmp_path_factory.mktemp("attacks3"), submissions, (HW4, HW7))


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(TRICKS))
def test_an_answer_without_the_work_scores_zero(graded, student):
    name, _cells, questions = TRICKS[student]
    assert_no_points_for(graded[student], name, questions)


@pytest.mark.slow
@pytest.mark.parametrize("name", [HW4, HW7])
def test_honest_classmates_keep_full_marks(graded, name):
    assert_full_marks(graded[f"honest_{name[:3]}"])


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(HONEST))
def test_an_honest_answer_the_text_allows_scores(graded, student):
    res = graded[student]
    assert res.status == "graded", res.messages
    autos = [q for q in res.questions if q.kind == "auto"]
    assert all(q.score == q.max_score for q in autos), [(q.question, q.score, q.problem) for q in autos]


@pytest.mark.parametrize("order", [1, -1])
def test_a_file_in_a_classmates_named_folder_inside_ones_own_does_not_take_their_id(tmp_path, order):
    # SUBS/mallory/zed/hw1.ipynb gave the id 'zed' (its folder) and came first in file order:
    # the row 'zed' (gradebook, zed.html) was mallory's blank notebook, zed's own work 'zed-2'
    from grading.autograde import SubmissionResult, _unique_students, student_name

    hw = "hw1_lime_from_scratch"
    paths = [tmp_path / "mallory" / hw / f"{hw}.ipynb", tmp_path / "mallory" / "zed" / f"{hw}.ipynb",
             tmp_path / "zed" / f"{hw}.ipynb", tmp_path / "bob.ipynb", tmp_path / "mallory" / "bob.ipynb"]
    pending = [(SubmissionResult(path=str(p), student=student_name(p, hw), assignment=hw, status="error"), None)
               for p in paths[::order]]
    assert [r.student for r, _ in pending][::order] == ["mallory", "zed", "zed", "bob", "bob"]
    _unique_students(pending, None)
    ids = {r.path: r.student for r, _ in pending}
    assert ids[str(tmp_path / "zed" / f"{hw}.ipynb")] == "zed"
    assert ids[str(tmp_path / "mallory" / "zed" / f"{hw}.ipynb")] == "zed-2"
    assert ids[str(tmp_path / "bob.ipynb")] == "bob"
    assert ids[str(tmp_path / "mallory" / "bob.ipynb")] == "bob-2"
    assert ids[str(tmp_path / "mallory" / hw / f"{hw}.ipynb")] == "mallory"


@pytest.mark.slow
def test_a_restarted_kernel_gets_a_receive_budget(graded):
    res = graded["budget_hw5"]
    assert res.status == "graded" and res.auto_total == 11.0, res.messages
    # the exiting cell restarts the kernel; the flooding cell is then cut at the budget (its kernel
    # is given up and restarted too) instead of sending 12 x 48 MB that the trusted side keeps
    added = [m for m in res.messages if m.startswith("cell 'added after hw5_q2_cascade_tests'")]
    assert len(added) == 2, res.messages


@pytest.mark.slow
def test_a_slip_in_hw5_q1_costs_q1_only(graded):
    scores = {q.question: q.score for q in graded["ordinal_ranks_hw5"].questions if q.kind == "auto"}
    assert scores == {"hw5_q1_rank_tests": 0.0, "hw5_q2_cascade_tests": 4.0, "hw5_q3_data_tests": 3.0,
                      "hw5_q4_fails_tests": 2.0}, scores


@pytest.mark.slow
def test_a_slip_in_hw2_q1_costs_q1_only(graded):
    scores = {q.question: q.score for q in graded["left_riemann_hw2"].questions if q.kind == "auto"}
    assert scores["hw2_q1_ig_tests"] == 0.0 and scores["hw2_q2_gap_tests"] == 3.0, scores
