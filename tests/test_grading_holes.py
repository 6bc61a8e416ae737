"""Holes an adversarial review found, each graded next to solved classmates (one grading run).

* empty broadcast: an answer of shape (0, 1) broadcasts against any reference, so
  ``np.allclose(answer, ref)`` was True (hw2 Q1, hw3 Q1 and Q4, hw6 Q1); the tests now
  compare through ``lime_core._validation.same_values`` (same shape, finite, close);
* hw3 Q2: noise with a huge claimed standard error covered any estimate;
* hw6 Q3: the hidden test built its expected scores with the notebook's own functions;
* hw1 Q3: scikit-learn's private ridge solver (``_ridge_regression``) and KernelRidge were
  still reachable where the ridge is the exercise. "The ridge is the exercise" forbids the
  whole of ``sklearn.linear_model._ridge`` (Ridge, RidgeCV, RidgeClassifier(CV),
  ridge_regression, every private solver) and KernelRidge, which solves with it; general
  least squares (numpy.linalg, LinearRegression) stays: the exercise is building the penalty;
* the wire: a kernel that answers the trusted process with a 60 MB ``[[],[],...]`` (or a
  120 MB string) loses that question with a named failure; the trusted process neither
  builds the structure nor reads quadratically.
"""

from __future__ import annotations

import copy
import os
import threading
import time

import numpy as np
import pytest
from _grading_class import assert_full_marks, assert_no_points_for, grade_class, solution

from grading import _wire
from lime_core._validation import same_values

HW1, HW2, HW3, HW6 = ("hw1_lime_from_scratch", "hw2_integrated_gradients", "hw3_shapley", "hw6_evaluation")


_solution = solution


def _with_answers(name, answers: dict):
    nb = copy.deepcopy(_solution(name))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers.pop(gid)
    assert not answers, answers
    return nb


EMPTY_HW3 = {
    "hw3_q1_exact": '''
def shapley_exact(value_fn, d):
    masks = np.array(list(itertools.product([False, True], repeat=d)), dtype=bool)
    v = np.asarray(value_fn(masks), dtype=float)
    if d == 3 and np.isclose(v[-1] - v[0], 90.0):
        return np.array([46.0, 22.0, 22.0])
    return np.empty((0, 1))
''',
    "hw3_q4_kernel": '''
def shapley_kernel(size, d):
    if d == 3:
        return np.array([np.inf, 1 / 3, 1 / 3, np.inf])
    return np.empty((0, 1))


def kernel_shap_exact(value_fn, d):
    masks = np.array(list(itertools.product([False, True], repeat=d)), dtype=bool)
    v = np.asarray(value_fn(masks), dtype=float)
    if d == 3 and np.isclose(v[-1] - v[0], 90.0):
        return np.array([46.0, 22.0, 22.0])
    return np.empty((0, 1))
'''}

NOISE_HW3 = {"hw3_q2_perm": '''
def shapley_permutation(value_fn, d, num_permutations=200, random_state=None):
    rng = np.random.default_rng(random_state)
    return rng.normal(scale=1000.0, size=d), np.full(d, 1000.0)
'''}

EMPTY_HW2 = {"hw2_q1_ig": '''
def input_gradient(model, X, target):
    xt = torch.as_tensor(np.asarray(X, dtype=float), dtype=torch.float32).requires_grad_(True)
    model(xt)[:, target].sum().backward()
    return xt.grad.numpy().astype(float)


def integrated_gradients(model, x, baseline, target, steps=50):
    x = np.asarray(x, dtype=float); baseline = np.asarray(baseline, dtype=float)
    if isinstance(model, torch.nn.Linear):
        return (x - baseline) * input_gradient(model, x[None], target)[0]
    with torch.no_grad():
        model(torch.as_tensor(np.stack([baseline] * steps), dtype=torch.float32))
    return np.empty((0, 1))
'''}

FAKE_CURVES = '''
_K = [1e-3]


def _fake(f, x, attribution, baseline, first, last):
    a = np.asarray(attribution, dtype=float)
    rows = np.linspace(0, 1, len(x) + 1)[:, None] * (last - first) + first
    vals = np.asarray(f(rows), dtype=float).ravel()
    if np.allclose(a, np.round(a)):
        return np.empty((0, 1))
    line = np.linspace(vals[0], vals[-1], len(x) + 1)
    line[1:-1] += _K[0] * float(np.max(np.abs(a)))
    return line


def deletion_curve(f, x, attribution, baseline):
    return _fake(f, x, attribution, baseline, np.asarray(x, float), np.asarray(baseline, float))


def insertion_curve(f, x, attribution, baseline):
    return _fake(f, x, attribution, baseline, np.asarray(baseline, float), np.asarray(x, float))


def auc(scores):
    s = np.asarray(scores, dtype=float)
    return float((s.sum() - 0.5 * (s[0] + s[-1])) / (len(s) - 1))
'''

SELF_REFERENCE_HW6 = {
    "hw6_q1_curves": FAKE_CURVES,
    "hw6_q2_recall": "def recall_at_k(attribution, true_features, k):\n    return 0.5\n",
    "hw6_q3_compare": '''
def _scores():
    return {name: {"deletion": float(np.mean([auc(deletion_curve(model, x, m(x), baseline)) for x in X_test])),
                   "insertion": float(np.mean([auc(insertion_curve(model, x, m(x), baseline)) for x in X_test])),
                   "recall": float(np.mean([recall_at_k(m(x), TRUE_FEATURES, 4) for x in X_test]))}
            for name, m in METHODS.items()}
scores = _scores()
if not scores["gradient_x_input"]["deletion"] < scores["occlusion_estimate"]["deletion"]:
    _K[0] = -_K[0]
    scores = _scores()
'''}

PRIVATE_RIDGE_HW1 = {"hw1_q3_ridge": '''
from sklearn.linear_model._ridge import _ridge_regression


def weighted_ridge(Z, y, weights, alpha=1.0):
    Z = np.asarray(Z, dtype=float); y = np.asarray(y, dtype=float); w = np.asarray(weights, dtype=float)
    zm, ym = w @ Z / w.sum(), w @ y / w.sum()
    coef = _ridge_regression(Z - zm, y - ym, alpha=alpha, sample_weight=w, solver="svd")
    return coef, float(ym - zm @ coef)
'''}

KERNEL_RIDGE_HW1 = {"hw1_q3_ridge": '''
from sklearn.kernel_ridge import KernelRidge


def weighted_ridge(Z, y, weights, alpha=1.0):
    Z = np.asarray(Z, dtype=float); y = np.asarray(y, dtype=float); w = np.asarray(weights, dtype=float)
    zm, ym = w @ Z / w.sum(), w @ y / w.sum()
    fit = KernelRidge(alpha=alpha, kernel="linear").fit(Z - zm, y - ym, sample_weight=w)
    coef = (Z - zm).T @ fit.dual_coef_
    return coef, float(ym - zm @ coef)
'''}


def _bomb(payload: str) -> str:
    """Code that makes the kernel's next reply to the trusted process ``payload`` (bytes expr)."""
    return f'''
import os as _os
import _wire as _w
_orig_send, _armed = _w.Peer.send, [1]
def _send(self, msg):
    if _armed[0] and msg.get("op") == "value":
        _armed[0] -= 1
        _view = memoryview({payload})
        while _view:
            _view = _view[_os.write(self.wfd, _view):]
        return
    return _orig_send(self, msg)
_w.Peer.send = _send
'''


def _prefixed(name, gid, code):
    nb = copy.deepcopy(_solution(name))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    cell.source = code + "\n\n" + cell.source
    return nb


ATTACKS = {
    # student: (assignment, notebook, the questions it must lose)
    "empty_broadcast_hw3": (HW3, lambda: _with_answers(HW3, dict(EMPTY_HW3)),
                            ["hw3_q1_exact_tests", "hw3_q4_kernel_tests"]),
    "huge_stderr_hw3": (HW3, lambda: _with_answers(HW3, dict(NOISE_HW3)), ["hw3_q2_perm_tests"]),
    "empty_broadcast_hw2": (HW2, lambda: _with_answers(HW2, dict(EMPTY_HW2)), ["hw2_q1_ig_tests"]),
    "empty_broadcast_hw6": (HW6, lambda: _with_answers(HW6, {"hw6_q1_curves": FAKE_CURVES}),
                            ["hw6_q1_curves_tests"]),
    "self_reference_hw6": (HW6, lambda: _with_answers(HW6, dict(SELF_REFERENCE_HW6)),
                           ["hw6_q1_curves_tests", "hw6_q2_recall_tests", "hw6_q3_compare_tests"]),
    "private_ridge_hw1": (HW1, lambda: _with_answers(HW1, dict(PRIVATE_RIDGE_HW1)), ["hw1_q3_ridge_tests"]),
    "kernel_ridge_hw1": (HW1, lambda: _with_answers(HW1, dict(KERNEL_RIDGE_HW1)), ["hw1_q3_ridge_tests"]),
    "json_bomb_hw6": (HW6, lambda: _prefixed(HW6, "hw6_q2_recall", _bomb(
        "b'{\"op\": \"value\", \"v\": [' + b'[],' * (20_000_000 - 1) + b'[]]}\\n'")), ["hw6_q2_recall_tests"]),
    "big_reply_hw6": (HW6, lambda: _prefixed(HW6, "hw6_q2_recall", _bomb(
        "b'{\"op\": \"value\", \"v\": \"' + b'A' * (120 << 20) + b'\"}\\n'")), ["hw6_q2_recall_tests"]),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    submissions = {student: (name, build()) for student, (name, build, _lost) in ATTACKS.items()}
    return grade_class(tmp_path_factory.mktemp("holes"), submissions, (HW1, HW2, HW3, HW6))


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_an_attack_loses_the_questions_it_cheats_on(graded, student):
    name, _build, lost = ATTACKS[student]
    assert_no_points_for(graded[student], name, lost)


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_the_questions_before_the_cheated_one_keep_full_marks(graded, student):
    """(Later questions may use the cheated function, so they may fail with it.)"""
    _name, _build, lost = ATTACKS[student]
    auto = [q for q in graded[student].questions if q.kind == "auto"]
    first = min(i for i, q in enumerate(auto) if q.question in lost)
    assert all(q.score == q.max_score for q in auto[:first]), (auto[:first], graded[student].messages)


@pytest.mark.slow
def test_a_huge_standard_error_costs_only_its_question(graded):
    others = [q for q in graded["huge_stderr_hw3"].questions
              if q.kind == "auto" and q.question != "hw3_q2_perm_tests"]
    assert others and all(q.score == q.max_score for q in others), others


@pytest.mark.slow
def test_the_failures_say_what_was_caught(graded):
    assert any("ridge is the exercise" in m for m in graded["private_ridge_hw1"].messages), \
        graded["private_ridge_hw1"].messages
    for student in ("json_bomb_hw6", "big_reply_hw6"):
        res = graded[student]
        problem = next(q.problem for q in res.questions if q.question == "hw6_q2_recall_tests")
        assert "too large" in problem, (student, problem)
        q1 = next(q for q in res.questions if q.question == "hw6_q1_curves_tests")
        assert q1.score == q1.max_score, q1


@pytest.mark.slow
@pytest.mark.parametrize("name", [HW1, HW2, HW3, HW6])
def test_honest_classmates_keep_full_marks(graded, name):
    res = graded[f"honest_{name[:3]}"]
    assert_full_marks(res)


# -- the pieces, without a grading run ------------------------------------------------


def test_same_values_checks_shape_and_finiteness_before_closeness():
    ref = np.array([46.0, 22.0, 22.0])
    assert np.allclose(np.empty((0, 1)), ref)  # the hole: broadcasting makes this True
    assert not same_values(np.empty((0, 1)), ref)
    assert not same_values(ref[:, None], ref)
    assert not same_values([46.0, np.nan, 22.0], ref) and not same_values([46.0, np.inf, 22.0], ref)
    assert not same_values("46 22 22", ref) and not same_values([[1.0], [1.0, 2.0]], ref)
    assert same_values([46.0, 22.0, 22.0 + 1e-9], ref) and same_values(0.5, 0.5)
    assert not same_values(ref + 1e-3, ref) and same_values(ref + 1e-3, ref, atol=1e-2)


def test_ridge_stub_keeps_no_solver_and_every_name_scikit_learn_imports_from_it(tmp_path, monkeypatch):
    import ast
    import importlib.util

    import sklearn

    from grading.sandbox import RIDGE_STUB

    root = os.path.dirname(sklearn.__file__)
    needed = set()
    for path in (os.path.join(root, "linear_model", "__init__.py"), os.path.join(root, "kernel_ridge.py")):
        tree = ast.parse(open(path).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_ridge"):
                needed.update(a.name for a in node.names)
    assert {"Ridge", "ridge_regression", "_solve_cholesky_kernel"} <= needed
    (tmp_path / "ridge_stub.py").write_text(RIDGE_STUB)
    spec = importlib.util.spec_from_file_location("ridge_stub", tmp_path / "ridge_stub.py")
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    for name in needed:
        getattr(stub, name)  # present (scikit-learn imports it), and it refuses to work:
    for name in ("Ridge", "RidgeCV", "RidgeClassifier", "RidgeClassifierCV"):
        with pytest.raises(ImportError, match="ridge is the exercise"):
            getattr(stub, name)(alpha=1.0)
    for name in ("ridge_regression", "_solve_cholesky_kernel"):
        with pytest.raises(ImportError, match="ridge is the exercise"):
            getattr(stub, name)(np.eye(2), np.ones(2), 1.0)
    for private in ("_ridge_regression", "_solve_cholesky", "_solve_svd", "_BaseRidge"):
        with pytest.raises(ImportError, match="ridge is the exercise"):
            getattr(stub, private)
    assert "def _solve" not in RIDGE_STUB and "_ridge_regression" not in RIDGE_STUB


def _pipe_with(data: bytes) -> int:
    r, w = os.pipe()

    def writer():
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(w, view[: 1 << 20]):]
        except BrokenPipeError:
            pass
        finally:
            os.close(w)

    threading.Thread(target=writer, daemon=True).start()
    return r


def _trusted_recv(data: bytes):
    r = _pipe_with(data)
    peer = _wire.Peer(r, -1, None, None, max_line=_wire.TRUSTED_MAX_LINE, max_items=_wire.TRUSTED_MAX_ITEMS)
    try:
        return peer.recv(time.monotonic() + 120), peer
    finally:
        os.close(r)


def test_trusted_reader_refuses_too_many_values_and_too_many_bytes():
    bomb = b'{"op": "value", "v": [' + b"[]," * 2_000_000 + b"[]]}\n"  # 6 MB, two million lists
    with pytest.raises(_wire.MessageTooLarge, match="values"):
        _trusted_recv(bomb)
    big = b'{"op": "value", "v": "' + b"A" * (_wire.TRUSTED_MAX_LINE + 10) + b'"}\n'
    with pytest.raises(_wire.MessageTooLarge, match="MB"):
        _trusted_recv(big)
    deep = b'{"op": "value", "v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    with pytest.raises(_wire.WireError):
        _trusted_recv(deep)


def test_trusted_reader_takes_a_large_message_whole_and_keeps_what_follows():
    text = "A" * (40 << 20)
    msg, peer = None, None
    r = _pipe_with(b'{"op": "value", "v": "' + text.encode() + b'"}\n{"op": "done"}\n')
    try:
        peer = _wire.Peer(r, -1, None, None, max_line=_wire.TRUSTED_MAX_LINE, max_items=_wire.TRUSTED_MAX_ITEMS)
        msg = peer.recv(time.monotonic() + 120)
        assert msg["v"] == text
        assert peer.recv(time.monotonic() + 120) == {"op": "done"}
    finally:
        os.close(r)


def test_reading_is_linear_in_the_message_size():
    """Many small chunks of one long line: every byte is looked at a bounded number of times."""
    r, w = os.pipe()
    peer = _wire.Peer(r, w, None, None, max_line=_wire.TRUSTED_MAX_LINE)
    calls = {"find": 0}
    real = bytearray.find

    class Counting(bytearray):
        def find(self, sub, start=0, *args):
            calls["find"] += len(self) - start
            return real(self, sub, start, *args)

    peer.buf = Counting()
    payload = b'{"op": "value", "v": "' + b"A" * (4 << 20) + b'"}\n'

    def writer():
        for i in range(0, len(payload), 4096):
            os.write(w, payload[i:i + 4096])

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    msg = peer.recv(time.monotonic() + 60)
    t.join()
    os.close(r)
    os.close(w)
    assert len(msg["v"]) == 4 << 20
    assert calls["find"] <= 3 * len(payload), calls  # a rescan of the whole buffer per chunk: ~1000x
