"""Submissions written to cheat, graded next to honest classmates (one grading run).

Every attack sits in the first answer cell of an otherwise unanswered (or
wrongly answered) exercise. Attacks that look for something outside the
sandbox carry the instructor's answers and run them only if they found it, so
a leak shows up as points. The module checks that every attack scores 0, that
the solved classmates graded in the same run keep full marks, that nothing was
written outside the sandboxes, and that no process of theirs is left.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import uuid
from pathlib import Path

import nbformat
import pytest
from _grading_class import assert_full_marks

from grading.autograde import grade_submissions
from grading.course import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR

pytestmark = pytest.mark.slow

TOKEN = f"limelab-attack-{uuid.uuid4().hex[:12]}"
ASSIGNMENTS = ("hw1_lime_from_scratch", "hw4_axioms", "hw6_evaluation")


def _read(folder, name):
    return nbformat.read(folder / name / f"{name}.ipynb", 4)


def _md(cell):
    return cell.metadata.get("nbgrader", {})


def solution_code(name: str) -> str:
    """The instructor's answers, concatenated: what a successful leak would run."""
    parts = []
    for cell in _read(SOLUTIONS_DIR, name).cells:
        if _md(cell).get("solution") and cell.cell_type == "code":
            parts.append("\n".join(line for line in cell.source.splitlines() if "SOLUTION" not in line))
    return "\n\n".join(parts)


def wrong_answers(nb):
    """The exercise with every answer replaced by a wrong one that runs (zeros, nothing)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if _md(cell).get("solution") and cell.cell_type == "code":
            cell.source = re.sub(r"^(\s+)raise NotImplementedError\(\)", r"\1return np.zeros(3)",
                                 cell.source, flags=re.M)
            cell.source = re.sub(r"^raise NotImplementedError\(\)", "pass", cell.source, flags=re.M)
    return nb


def with_attack(nb, code: str):
    nb = copy.deepcopy(nb)
    first = next(c for c in nb.cells if _md(c).get("solution") and c.cell_type == "code")
    first.source = code + "\n\n" + first.source
    return nb


# The probe: True when anything outside the sandbox can be seen. {paths} are real
# places on the grading machine (the repository, a classmate's notebook, a secret file).
PROBE = r'''
import glob as _glob, os as _os, sys as _sys
def _leaks():
    found = []
    for _p in {paths!r}:
        try:
            with open(_p, "rb") as _fh:
                _fh.read(10)
            found.append(_p)
        except OSError:
            pass
        if _os.path.isdir(_p):
            found.append(_p)
    for _pid in _os.listdir("/proc"):
        if _pid.isdigit():
            try:
                _cmd = open(f"/proc/{{_pid}}/cmdline", "rb").read()
            except OSError:
                continue
            if b"grading" in _cmd or b"pytest" in _cmd:
                found.append(_cmd)
    found += [k for k in _os.environ if "SECRET" in k]
    found += _glob.glob("/tmp/limelab-*") + _glob.glob("/**/gradebook*.db", recursive=False)
    try:
        import lime_core
        _root = _os.path.dirname(_os.path.dirname(lime_core.__file__))
        found += _glob.glob(_os.path.join(_root, "solutions", "*", "*.ipynb"))
    except ImportError:
        pass
    try:
        import importlib
        _finder = importlib.import_module("__editable___limelab_0_1_0_finder")
        for _src in _finder.MAPPING.values():
            found += _glob.glob(_os.path.join(_os.path.dirname(_src), "solutions", "*", "*.ipynb"))
    except Exception:
        pass
    return found
LEAKS = _leaks()
if LEAKS:
    exec({answers!r}, globals())
'''

ATTACKS = {
    # an input transformer empties every later cell that contains an assert
    "input_transformer": '''
get_ipython().input_transformers_cleanup.append(
    lambda lines: [] if any("assert" in line for line in lines) else lines)
''',
    # an AST transformer deletes the asserts of every later cell
    "ast_transformer": '''
import ast as _ast
class _NoAsserts(_ast.NodeTransformer):
    def visit_Assert(self, node):
        return _ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
''',
    # comparisons always succeed
    "monkeypatch": '''
import builtins as _b, math as _m
import numpy as _np
_np.allclose = lambda *a, **k: True
_np.isclose = lambda *a, **k: _np.True_
_np.array_equal = lambda *a, **k: True
_m.isclose = lambda *a, **k: True
_b.isinstance = lambda *a, **k: True
_b.AssertionError = type("AssertionError", (Exception,), dict())
''',
    # numpy replaced in sys.modules by a module whose checks always pass
    "sys_modules": '''
import sys as _sys, types as _types
import numpy as _real
_fake = _types.ModuleType("numpy")
_fake.__dict__.update(_real.__dict__)
_fake.allclose = lambda *a, **k: True
_fake.isclose = lambda *a, **k: True
_sys.modules["numpy"] = _fake
''',
    # a display formatter shows every number as full marks
    "display_formatter": '''
_fmt = get_ipython().display_formatter.formatters["text/plain"]
for _t in (float, int):
    _fmt.for_type(_t, lambda obj, p, cycle: p.text("6.0"))
''',
    # answers whose values claim to equal anything
    "always_equal": '''
import numpy as np
class _Everything(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
class _Array(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool).view(_Array)
_zeros = np.zeros
np.zeros = lambda *a, **k: _zeros(*a, **k).view(_Array)  # every wrong answer now "equals" anything
''',
    # forged replies on the kernel's own channel to the grader
    "protocol_forgery": '''
import os as _os, sys as _sys, json as _json
for _v in (2.0, 6.0, True):
    _os.write(int(_sys.argv[-1]), (_json.dumps(dict(op="value", v=_v)) + "\\n").encode())
    _os.write(int(_sys.argv[-1]), (_json.dumps(dict(op="done", error=None)) + "\\n").encode())
''',
    # writes outside the sandbox: the repository, a classmate's notebook, the host's /tmp
    "write_outside": '''
import os as _os
for _p in {targets!r}:
    try:
        _os.makedirs(_os.path.dirname(_p), exist_ok=True)
        with open(_p, "a") as _fh:
            _fh.write("{token}")
    except OSError:
        pass
''',
    # a process that should outlive the grading run, and a fork bomb that stops itself
    "detached_process": '''
import os as _os, subprocess as _sp, sys as _sys
_sp.Popen([_sys.executable, "-c", "import time; time.sleep(600)", "{token}"], start_new_session=True,
          stdout=_sp.DEVNULL, stderr=_sp.DEVNULL)
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, "-c", "import time; time.sleep(600)", "{token}"])
    _os._exit(0)
_kids = 0
try:
    while _kids < 5000:
        if _os.fork() == 0:
            import time as _t
            _t.sleep(3)
            _os._exit(0)
        _kids += 1
except OSError:
    pass
print("forked", _kids)
''',
    # the reference implementations: the course library, wrapped; scikit-learn's Ridge; lime
    "library_reference": '''
import functools as _ft
try:
    import lime_core.surrogate as _s
    weighted_ridge = _ft.partial(_s.weighted_ridge)
except ImportError:
    pass
try:
    from lime_core.metrics import deletion_curve as _dc, insertion_curve as _ic, recall_at_k as _rk
    _lib = {{"deletion_curve": _dc, "insertion_curve": _ic, "recall_at_k": _rk}}
except ImportError:
    _lib = {{}}
try:
    from sklearn.linear_model import Ridge as _Ridge
    _Ridge(alpha=1.0)
except ImportError:
    pass
try:
    from lime.lime_text import LimeTextExplainer as _L
    _L()
except (ImportError, AttributeError):
    pass
''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    secret = root / "secret.txt"
    secret.write_text("the grader's secret")
    os.environ["LIMELAB_TEST_SECRET"] = "do-not-leak"  # the grading processes inherit this
    klass = root / "class"
    victims = {}
    for name in ASSIGNMENTS:
        victim = klass / f"victim_{name[:3]}" / f"{name}.ipynb"
        victim.parent.mkdir(parents=True)
        nbformat.write(_read(SOLUTIONS_DIR, name), victim)
        victims[name] = victim
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in victims.values()}
    paths = [str(REPO_ROOT / "solutions" / "hw1_lime_from_scratch" / "hw1_lime_from_scratch.ipynb"),
             str(REPO_ROOT / "grading" / "autograde.py"), str(secret), str(klass),
             *[str(v) for v in victims.values()]]
    markers = [str(REPO_ROOT / f"{TOKEN}.txt"), str(klass / f"{TOKEN}.txt"), f"/tmp/{TOKEN}.txt",
               *[str(v) for v in victims.values()]]
    expected_zero = []
    for name in ASSIGNMENTS:
        probe = PROBE.format(paths=paths, answers=solution_code(name))
        base = wrong_answers(_read(EXERCISES_DIR, name))
        for attack, code in ATTACKS.items():
            if attack == "display_formatter" and name != "hw4_axioms":
                continue
            if attack in ("detached_process", "write_outside", "protocol_forgery") and name == "hw4_axioms":
                continue
            code = code.format(targets=markers, token=TOKEN)
            student = f"{attack}_{name[:3]}"
            path = klass / student / f"{name}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(with_attack(base, probe + code), path)
            expected_zero.append((student, name))
    # honest-looking copies: the solution, with the function to write imported from the library
    copycats = {
        "hw1_lime_from_scratch": ("hw1_q3_ridge", "from lime_core.surrogate import weighted_ridge"),
        "hw6_evaluation": ("hw6_q1_curves", "from lime_core.metrics import deletion_curve, insertion_curve\n"
                           "def auc(s):\n    return float(np.trapz(s, dx=1 / (len(s) - 1)))"),
    }
    for name, (gid, code) in copycats.items():
        nb = _read(SOLUTIONS_DIR, name)
        for cell in nb.cells:
            if _md(cell).get("grade_id") == gid:
                cell.source = code
        path = klass / f"copycat_{name[:3]}" / f"{name}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    results = grade_submissions([klass], timeout=30, jobs=2)
    # the same probe, graded without the sandbox: it must find something (it is not blind)
    control = root / "control" / "hw6_evaluation.ipynb"
    control.parent.mkdir()
    nbformat.write(with_attack(_read(EXERCISES_DIR, "hw6_evaluation"),
                               PROBE.format(paths=paths, answers=solution_code("hw6_evaluation"))), control)
    unsandboxed = grade_submissions([control], timeout=60, sandbox=False)[0]
    del os.environ["LIMELAB_TEST_SECRET"]
    return {"results": {(r.student, r.assignment): r for r in results}, "victims": victims,
            "before": before, "markers": markers, "expected_zero": expected_zero,
            "control": unsandboxed}


def test_the_leak_probe_finds_things_when_nothing_stops_it(graded):
    """Control: without the sandbox the probe reads the solutions, and that earns points.

    (Only the answers the later, unanswered exercise cells do not redefine survive, so
    a leak shows as some points, not full marks; the attacks above must score exactly 0.)
    """
    res = graded["control"]
    assert res.sandbox is False and res.auto_total > 0, res.messages


def test_every_attack_scores_zero(graded):
    bad = []
    for key in graded["expected_zero"]:
        res = graded["results"][key]
        assert res.status == "graded", (key, res.messages)
        if res.auto_total != 0.0:
            bad.append((key, res.auto_total, res.messages))
    assert not bad, bad


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solved_classmate_keeps_full_marks(graded, name):
    res = graded["results"][f"victim_{name[:3]}", name]
    assert_full_marks(res)


def test_nothing_was_written_outside_the_sandbox(graded):
    for path, digest in graded["before"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} was changed"
    for marker in graded["markers"]:
        if not marker.endswith(".ipynb"):
            assert not os.path.exists(marker), f"{marker} was written"
    assert not list(REPO_ROOT.glob(f"**/{TOKEN}*"))


def test_no_process_outlives_its_grading(graded):
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if TOKEN.encode() in cmd and b"pytest" not in cmd:
                alive.append(pid)
    assert alive == []


def test_reference_implementations_are_not_importable_in_the_sandbox(graded):
    """A solved notebook whose answer imports the function it should write loses that question."""
    hw1 = graded["results"]["copycat_hw1", "hw1_lime_from_scratch"]
    scores = {q.question: q.score for q in hw1.questions}
    assert scores["hw1_q3_ridge_tests"] == 0.0 and scores["hw1_q1_kernel_tests"] == 2.0, hw1.questions
    assert "cell 'hw1_q3_ridge': ModuleNotFoundError: No module named 'lime_core.surrogate'" in hw1.messages
    hw6 = graded["results"]["copycat_hw6", "hw6_evaluation"]
    scores = {q.question: q.score for q in hw6.questions}
    assert scores["hw6_q1_curves_tests"] == 0.0 and scores["hw6_q2_recall_tests"] == 2.0, hw6.questions
    assert any("No module named 'lime_core.metrics'" in m for m in hw6.messages), hw6.messages
