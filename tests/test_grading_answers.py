"""Answers that pass a test without doing its work, found by the second adversarial review.

Each submission starts from the released exercise (every answer unanswered) and answers
only what its trick needs; it is graded next to solved classmates in one run. Each trick
passed before the hidden tests compared with a value computed in the trusted process:

* hw2 Q2: the gaps were compared with the notebook's *own* ``integrated_gradients``, so a
  fake IG whose error shrinks like 1/m^2 passed with Q1 wrong; now the reference IG's gaps;
* hw4 Q2: every check recognised the method it was given (by identity, or by one call on
  the bench for the hidden test's few stand-ins) and returned the textbook row; now twelve
  unseen probes (integrated gradients with one number on one bench moved just outside or
  just inside the tolerance) must be told apart by measuring;
* hw5 Q3: the expected rho was recomputed with the notebook's own ``rank_similarity``;
  now with scipy's Spearman for all three maps;
* hw7 Q1, Q2: any data and a model that always answers its one class passed; now y_test
  must be a zoo dataset's test split, the model is scored in an order of the grader's
  choosing, and the explanation's keys must name that dataset's features.
"""

from __future__ import annotations

import pytest
from _grading_class import assert_full_marks, assert_no_points_for, exercise_with, grade_class

HW2, HW4, HW5, HW7 = ("hw2_integrated_gradients", "hw4_axioms", "hw5_sanity_checks", "hw7_explain_your_model")

FAKE_IG = '''
def input_gradient(model, X, target):
    return np.zeros(np.shape(X))


def integrated_gradients(model, x, baseline, target, steps=50):
    # F(x) - F(b) split evenly, plus an error that falls like the midpoint rule's
    fx, fb = model_output(model, np.stack([np.asarray(x, float), np.asarray(baseline, float)]), target)
    return np.full(len(x), (fx - fb + 1.0 / steps**2) / len(x))
'''

GAPS = '''
def completeness_gap(model, x, baseline, attributions, target):
    fx, fb = model_output(model, np.stack([x, baseline]), target)
    return float(abs(np.sum(attributions) - (fx - fb)))


gaps = {m: completeness_gap(net, x0, np.zeros(5), integrated_gradients(net, x0, np.zeros(5), 0, steps=m), 0)
        for m in [4, 16, 64, 256]}
'''

LOOKUP_CHECKS = '''
_yes = dict(sensitivity=True, implementation_invariance=True, completeness=True, linearity=True,
            symmetry_preserving=True, dummy=True)
_ROWS = {"gradient": {**_yes, "sensitivity": False, "completeness": False},
         "gradient_x_input": {**_yes, "sensitivity": False, "completeness": False},
         "integrated_gradients": _yes, "deeplift": {**_yes, "implementation_invariance": False},
         "lime": {**_yes, "completeness": False, "symmetry_preserving": False, "dummy": False},
         "kernel_shap": _yes, "zero": {**_yes, "sensitivity": False, "completeness": False}}


def _which(method):
    # one of the six by identity; otherwise one call on the sensitivity bench tells the
    # hidden test's stand-ins apart (all zeros, a fixed mistake pattern, or noise)
    for name, fn in METHODS.items():
        if method is fn:
            return name
    a = np.asarray(method(saturating, sens_x, sens_base), dtype=float)
    if np.all(a == 0):
        return "zero"
    if np.array_equal(a, [0.0, 1.0, 1.0]) or np.array_equal(a, [1.0, -1.0, 0.0]):
        return "mistake"
    return "noise"


def _lookup(axiom):
    def check(method):
        kind = _which(method)
        if kind in _ROWS:
            return _ROWS[kind][axiom]
        return kind == "noise" and axiom in ("sensitivity", "implementation_invariance")
    return check


check_sensitivity, check_implementation_invariance, check_completeness = (
    _lookup("sensitivity"), _lookup("implementation_invariance"), _lookup("completeness"))
check_linearity, check_symmetry, check_dummy = (
    _lookup("linearity"), _lookup("symmetry_preserving"), _lookup("dummy"))
'''

CONSTANT_RANK = '''
def rank_similarity(a, b):
    return 0.0
'''

NO_RHO = '''
net_true = train_small_cnn(small_labels[:N_TRAIN], seed=0)
net_random = train_small_cnn(np.random.default_rng(0).permutation(small_labels[:N_TRAIN]), seed=0)
data_rho = {"saliency": 0.0, "gradient_x_input": 0.0, "edge": 1.0}
'''

OWN_DATA = '''
X_test, y_test = np.zeros((10, 2)), np.zeros(10, dtype=int)


class _AlwaysFirst:
    def predict_proba(self, X):
        return np.tile([1.0, 0.0], (len(X), 1))


my_model = _AlwaysFirst()
'''

POSITION_MEMORY = '''
data = zoo.load_breast_cancer()
X_test, y_test = data.X_test, data.y_test


class _Memory:
    # "predicts" the test labels by position: right only in the order the notebook knows
    def predict_proba(self, X):
        return np.eye(2)[y_test[:len(X)]]


my_model = _Memory()
'''

ANY_KEYS = '''
explained_index = 0
my_explanation = {"a": 1.0, "b": 2.0, "c": 3.0}
'''

# student: (assignment, {answer cell: source}, the questions the trick must not score)
TRICKS = {
    "fake_ig_hw2": (HW2, {"hw2_q1_ig": FAKE_IG, "hw2_q2_gap": GAPS}, ["hw2_q1_ig_tests", "hw2_q2_gap_tests"]),
    "lookup_hw4": (HW4, {"hw4_q2_checks": LOOKUP_CHECKS}, ["hw4_q2_checks_tests"]),
    "no_rho_hw5": (HW5, {"hw5_q1_rank": CONSTANT_RANK, "hw5_q3_data": NO_RHO},
                   ["hw5_q1_rank_tests", "hw5_q3_data_tests"]),
    "own_data_hw7": (HW7, {"hw7_q1_model": OWN_DATA, "hw7_q2_explain": ANY_KEYS},
                     ["hw7_q1_model_tests", "hw7_q2_explain_tests"]),
    "memory_hw7": (HW7, {"hw7_q1_model": POSITION_MEMORY, "hw7_q2_explain": ANY_KEYS},
                   ["hw7_q1_model_tests", "hw7_q2_explain_tests"]),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = {s: (name, exercise_with(name, dict(cells))) for s, (name, cells, _q) in TRICKS.items()}
    return grade_class(tmp_path_factory.mktemp("answers"), submissions, (HW2, HW4, HW5, HW7))


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(TRICKS))
def test_an_answer_without_the_work_scores_zero(graded, student):
    name, _cells, questions = TRICKS[student]
    res = graded[student]
    scores = assert_no_points_for(res, name, questions)
    assert res.auto_total == 0.0, scores


@pytest.mark.slow
@pytest.mark.parametrize("name", [HW2, HW4, HW5, HW7])
def test_honest_classmates_keep_full_marks(graded, name):
    assert_full_marks(graded[f"honest_{name[:3]}"])
