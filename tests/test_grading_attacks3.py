"""Third adversarial review of the grader (issue 11): answers that score without the work.

Each attack starts from the released exercise (every answer unanswered), answers only what
its trick needs, and is graded next to a solved classmate in the same run.

* hw4 Q2 ``call_order``: no check measures anything. The six methods are recognised by
  identity; every other method is answered by its position in the hidden test's sequence
  (``_zero``, ``_noise``, the mistake, then the twelve probes in ``for axiom in AXIOMS for t in
  (0.3, 3.0)`` order), counted per check. 6/6 while the order was fixed; the hidden test now
  hands the stand-ins and probes over twice each, in an order drawn at grading time.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from _grading_class import assert_full_marks, grade_class

from grading.course import EXERCISES_DIR

HW4 = "hw4_axioms"
ATTACKS = Path(__file__).parent / "attacks"

TRICKS = {
    # student: (assignment, {grade_id: answer source}, autograded questions that must score 0)
    "call_order_hw4": (HW4, {"hw4_q2_checks": (ATTACKS / "hw4_q2_call_order" / "hw4_q2_checks.cell").read_text()},
                       ["hw4_q2_checks_tests"]),
}


def _exercise_with(name, answers):
    nb = nbformat.read(EXERCISES_DIR / name / f"{name}.ipynb", 4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers.pop(gid).strip("\n")
    assert not answers, f"{name} has no cells {sorted(answers)}"
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = {s: (name, _exercise_with(name, dict(cells))) for s, (name, cells, _q) in TRICKS.items()}
    return grade_class(tmp_path_factory.mktemp("attacks3"), submissions, (HW4,))


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(TRICKS))
def test_an_answer_without_the_work_scores_zero(graded, student):
    name, _cells, questions = TRICKS[student]
    res = graded[student]
    assert res.status == "graded" and res.assignment == name, res.messages
    scores = {q.question: q.score for q in res.questions if q.kind == "auto"}
    assert all(scores[q] == 0.0 for q in questions), scores


@pytest.mark.slow
@pytest.mark.parametrize("name", [HW4])
def test_honest_classmates_keep_full_marks(graded, name):
    assert_full_marks(graded[f"honest_{name[:3]}"])
