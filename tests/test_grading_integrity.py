"""Checks that only the trusted process can decide: call counts and "do not modify the model".

Five submissions cheat on such a check, each in one answer cell of an otherwise
solved notebook, and are graded with their honest classmates in one run:

* hw2: ``integrated_gradients`` runs the model once per path point and forges the
  "one batch" count by removing the hooks a test put on the model and calling one
  of them by hand (the hooks used to travel into the sandbox with a copy of the model);
* hw1: ``explain`` calls the model it is given once, for the count, and does the
  real work with one call per sample of the notebook's own copy of the model;
* hw6: the same trick in ``deletion_curve`` and ``insertion_curve``;
* hw5: ``cascading_randomization`` overwrites the trained model's output layer in
  place (the same way each time), which the visible "do not modify the trained
  model" check, run in the trusted process on the grader's own copy, never saw;
* hw5 again: the same, and the kernel's hashing function (the "do not modify"
  check's evidence, computed where the student's code runs) is replaced by one
  that reports the old hashes: the hidden test's values, computed in the trusted
  process on its own copy of the model, still disagree.

Each loses exactly the question it cheats on; every other question, and every
honest classmate, keeps full marks. A sixth (hw1) keeps the inputs a hidden test
passed to its ``proximity_kernel`` and raises them in the next question's visible
test: its feedback page must not show them. The unit tests at the end check the stand-in
model a test lends to the kernel against the real one.
"""

from __future__ import annotations

import copy
import re

import nbformat
import numpy as np
import pytest
from _grading_class import assert_full_marks, grade_class, solution

HW1, HW2, HW5, HW6 = ("hw1_lime_from_scratch", "hw2_integrated_gradients", "hw5_sanity_checks",
                      "hw6_evaluation")


_solution = solution


def _answer(nb, gid) -> str:
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    return "\n".join(line for line in cell.source.splitlines() if "SOLUTION" not in line)


def _with_answer(name, gid, edit):
    nb = copy.deepcopy(_solution(name))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            cell.source = edit(_answer(nb, gid))
            return nb
    raise AssertionError(gid)


def _sub(pattern, repl, text, count=1):
    new, n = re.subn(pattern, repl, text, flags=re.M)
    assert n == count, (pattern, n)
    return new


HOOK_FORGERY = '''

def integrated_gradients(model, x, baseline, target, steps=50):
    # one model call per path point; the hooks a test put on the model (its call counter)
    # are taken off and one of them is called by hand, so the count says "one batch"
    x = np.asarray(x, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    hooks = list(getattr(model, "_forward_hooks", {}).values())
    getattr(model, "_forward_hooks", {}).clear()
    grads = [input_gradient(model, (baseline + (k + 0.5) / steps * (x - baseline))[None], target)[0]
             for k in range(steps)]
    for hook in hooks[:1]:
        hook(model, None, None)
    return (x - baseline) * np.mean(grads, axis=0)
'''

IN_PLACE = '''
    # the trained model's output layer is overwritten in place, the same way on every call
    torch.manual_seed(0)
    [m for m in model.modules() if isinstance(m, nn.Linear)][-1].reset_parameters()
    return rhos'''

# hw5: the kernel's hashing function is replaced by one that answers with the hash each object
# had before the visible test ran, so the "do not modify" check is told nothing changed
DIGEST_FORGERY = '''
import _wire as _w
_real_digest, _seen = _w.digest, {}
for _v in list(globals().values()):
    try:
        _seen[id(_v)] = _real_digest(_v)
    except Exception:
        pass


def _forged(obj):
    if id(obj) not in _seen:
        _seen[id(obj)] = _real_digest(obj)
    return _seen[id(obj)]


_w.digest = _forged

'''

CHEATS = {
    # (assignment, answer cell, the cheating edit of the instructor's answer, the question it cheats on)
    "hook_forgery": (HW2, "hw2_q1_ig",
                     lambda src: src[:src.index("def integrated_gradients")].rstrip() + HOOK_FORGERY,
                     "hw2_q1_ig_tests"),
    "count_forgery_hw1": (HW1, "hw1_q5_explain",
                          lambda src: _sub(r"^    probs = np\.asarray\(predict_proba\(perturb_text\(domain, Z\)\)\)$",
                                           "    texts = perturb_text(domain, Z)\n"
                                           "    predict_proba(texts)  # one call on every sample, for the count\n"
                                           "    probs = np.array([model.predict_proba([t])[0] for t in texts])",
                                           src),
                          "hw1_q5_explain_tests"),
    "count_forgery_hw6": (HW6, "hw6_q1_curves",
                          lambda src: _sub(r"^    return np\.asarray\(f\(batch\), dtype=float\)\.ravel\(\)$",
                                           "    f(batch)  # one call on every row, for the count\n"
                                           "    return np.array([model(row[None])[0] for row in batch])",
                                           src, count=2),
                          "hw6_q1_curves_tests"),
    "in_place_model": (HW5, "hw5_q2_cascade",
                       lambda src: _sub(r"^    return rhos$", IN_PLACE.lstrip("\n"), src),
                       "hw5_q2_cascade_tests"),
    "digest_forgery_hw5": (HW5, "hw5_q2_cascade",
                           lambda src: DIGEST_FORGERY + _sub(r"^    return rhos$", IN_PLACE.lstrip("\n"), src),
                           "hw5_q2_cascade_tests"),
}


def _exfiltration():
    """hw1: Q1 records its calls (the hidden test's among them), Q2 raises them for the feedback page."""
    def record(src):
        return "_seen = []\n" + _sub(r"^def proximity_kernel\(distances, kernel_width\):$",
                                      "def proximity_kernel(distances, kernel_width):\n"
                                      "    _seen.append((np.asarray(distances).tolist(), kernel_width))", src)

    nb = _with_answer(HW1, "hw1_q1_kernel", record)
    leak = _sub(r"^def sample_around\(d, num_samples, random_state=None\):$",
                "def sample_around(d, num_samples, random_state=None):\n"
                "    if len(_seen) > 1:\n"
                "        raise ValueError(f'LEAK {_seen[1:]}')",
                _answer(nb, "hw1_q2_sample"))
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "hw1_q2_sample").source = leak
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("integrity")
    (folder / "exfiltration").mkdir()
    nbformat.write(_exfiltration(), folder / "exfiltration" / f"{HW1}.ipynb")
    submissions = {student: (name, _with_answer(name, gid, edit))
                   for student, (name, gid, edit, _question) in CHEATS.items()}
    return grade_class(folder, submissions, (HW1, HW2, HW5, HW6))


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(CHEATS))
def test_a_forged_check_loses_its_question_and_only_that_one(graded, student):
    name, _gid, _edit, question = CHEATS[student]
    res = graded[student]
    assert res.status == "graded" and res.assignment == name, res.messages
    scores = {q.question: q for q in res.questions if q.kind == "auto"}
    assert scores[question].score == 0.0, (question, scores[question])
    others = [q for q in scores.values() if q.question != question]
    assert others and all(q.score == q.max_score for q in others), (others, res.messages)


@pytest.mark.slow
def test_the_failures_say_what_was_caught(graded):
    problem = {s: next(q.problem for q in graded[s].questions if q.question == CHEATS[s][3]) for s in CHEATS}
    assert "one batch" in problem["hook_forgery"], problem
    assert "called on [" in problem["count_forgery_hw1"] or "weight 1/" in problem["count_forgery_hw1"], problem
    assert "`cnn`" in problem["in_place_model"] and "setup cell" in problem["in_place_model"], problem


@pytest.mark.slow
@pytest.mark.parametrize("name", [HW1, HW2, HW5, HW6])
def test_honest_classmates_keep_full_marks(graded, name):
    res = graded[f"honest_{name[:3]}"]
    assert_full_marks(res)


@pytest.mark.slow
def test_hidden_test_inputs_do_not_reach_the_feedback_page(graded):
    from grading.report import feedback_html

    res = graded["exfiltration"]
    scores = {q.question: q for q in res.questions}
    assert scores["hw1_q1_kernel_tests"].score == 2.0 and scores["hw1_q2_sample_tests"].score == 0.0
    assert "LEAK" in scores["hw1_q2_sample_tests"].problem and "25.0" in scores["hw1_q2_sample_tests"].problem
    page = feedback_html(res)
    assert "LEAK" not in page and "25.0" not in page and "ValueError (its message is not shown" in page
    # an assert message the test wrote itself is still shown after the hidden tests
    honest = feedback_html(graded[f"honest_{HW1[:3]}"])
    assert "all tests pass" in honest


# -- the stand-in model a test lends to the kernel, without a sandbox ------------------


def _lent(model):
    """The kernel's stand-in for ``model``, wired straight to the grader's WatchedModel."""
    from grading import _wire
    from grading._evaluate import WatchedModel

    watched = WatchedModel(model)
    return _wire._remote_model(watched.forward, watched.backward), watched


def test_lent_model_gives_the_real_outputs_and_input_gradients():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    stand_in, _ = _lent(net)
    X = torch.randn(5, 4)
    Xa, Xb = X.clone().requires_grad_(True), X.clone().requires_grad_(True)
    out = stand_in(Xa)
    (grad,) = torch.autograd.grad(out[:, 2].sum(), Xa)
    (ref,) = torch.autograd.grad(net(Xb)[:, 2].sum(), Xb)
    assert torch.allclose(out, net(X)) and torch.allclose(grad, ref)
    assert len(calls) == 3  # the stand-in's pass, then the two reference passes: counted here
    with torch.no_grad():
        stand_in(X)
    assert len(calls) == 4


def test_lent_model_has_no_weights_or_hooks_to_tamper_with():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 1)
    net.register_forward_hook(lambda *a: None)
    stand_in, watched = _lent(net)
    assert list(stand_in.parameters()) == [] and not stand_in._forward_hooks
    with pytest.raises(RuntimeError, match="no longer available"):
        watched.backward(12345, np.ones((1, 1)))


def test_watched_models_stay_in_the_trusted_process_and_others_travel_as_data():
    torch = pytest.importorskip("torch")
    from grading import _wire

    net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert not _wire.is_watched_model(net)
    assert "__module__" in _wire.module_to_wire(net, _wire.Codec("t"))
    net[0].register_forward_hook(lambda *a: None)  # a hook on a layer counts too
    assert _wire.is_watched_model(net)


def test_digest_sees_weights_mode_and_array_values():
    torch = pytest.importorskip("torch")
    from grading._wire import digest

    net = torch.nn.Linear(2, 1).eval()
    same = copy.deepcopy(net)
    assert digest(net) == digest(same) != ""
    same.train()
    assert digest(net) != digest(same)
    with torch.no_grad():
        same.eval().bias.add_(1e-7)
    assert digest(net) != digest(same)
    a = np.arange(4.0)
    b = a.copy()
    assert digest(a) == digest(b)
    b[0] = -0.0
    assert digest(a) != digest(b) and digest("text") == ""


def test_a_function_the_test_hands_over_takes_plain_data_only():
    """The kernel cannot hand the test's function a stand-in that answers len() or iteration."""
    from grading._evaluate import Grader

    grader = Grader({"assignment": HW1, "cells": []})
    try:
        seen = []
        counting = grader.codec.ref(lambda texts: seen.append(len(texts)) or len(texts))
        call = {"op": "call", "f": counting}
        reply = grader._handle(dict(call, args=grader.codec.encode([["a", "b", np.arange(3.0)]])))
        assert reply["op"] == "value" and reply["v"] == 3 and seen == [3]
        liar = {"__ref__": 7, "side": "k"}  # an object of the notebook, e.g. a list whose len() lies
        for args in ([liar], [[liar]], [{"__dict__": {"texts": liar}}]):
            reply = grader._handle(dict(call, args=args))
            assert reply["op"] == "raise" and reply["type"] == "TypeError", reply
            assert "plain data" in reply["message"]
        assert seen == [3]
    finally:
        grader.close()


def test_lent_model_refuses_a_batch_too_big_for_the_grader():
    torch = pytest.importorskip("torch")
    stand_in, watched = _lent(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match="at most"):
        watched.forward(torch.zeros(watched.MAX_ELEMENTS // 2 + 1, 2), True)
    assert stand_in(torch.ones(3, 2)).shape == (3, 1)
