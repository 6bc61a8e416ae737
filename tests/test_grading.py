"""The grading machinery on a tiny assignment: scores, faults, report formats.

One module-scoped grading run (through the command line, ``--json --csv``) grades
a class of toy submissions, each planting one fault; the tests then check what
the report says about each. The real homework is tested in test_homework.py.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading import __main__ as cli
from grading.autograde import (
    QuestionResult,
    SubmissionResult,
    grade_submissions,
    identify_assignment,
    read_notebook,
    restore_locked_cells,
    student_name,
)
from grading.generate import generate_exercises
from grading.report import format_table, to_json, write_csv

# one group: under `pytest -n 2 --dist loadgroup` the module's grading run happens once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_toy")]

SECRET = "SECRET_HIDDEN_MARKER_7f3a"


def _cell(kind, gid, source, points=None):
    md = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
          "solution": False, "task": False}
    if kind == "md":
        cell = new_markdown_cell(source)
        md["locked"] = True
    elif kind == "solution":
        cell = new_code_cell(source)
        md["solution"] = True
    elif kind == "tests":
        cell = new_code_cell(source)
        md.update(grade=True, locked=True, points=points)
    elif kind == "manual":
        cell = new_markdown_cell(source)
        md.update(grade=True, solution=True, points=points)
    else:
        cell = new_code_cell(source)
        md["locked"] = True
    cell.id = gid
    cell.metadata["nbgrader"] = md
    return cell


def toy_source() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("md", "intro", "# Toy assignment"),
        _cell("code", "setup", "import numpy as np"),
        _cell("solution", "add", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
        _cell("tests", "add_tests", "assert add(1, 2) == 3, 'add(1, 2) should be 3'\n"
              "### BEGIN HIDDEN TESTS\n"
              f"assert add(-1, 1) == 0  # {SECRET}\n"
              "### END HIDDEN TESTS", points=2),
        _cell("solution", "mul", "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION"),
        _cell("tests", "mul_tests", "assert mul(2, 3) == 6\n### BEGIN HIDDEN TESTS\n"
              "assert mul(-2, 5) == -10\n### END HIDDEN TESTS", points=3),
        _cell("manual", "essay", "Explain.\n\n=== BEGIN MARK SCHEME ===\nrubric\n=== END MARK SCHEME ==="
              if False else "Because multiplication is repeated addition.", points=4),
    ]
    return nb


def _fill(nb, gid, source):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            cell.source = source
    return nb


CHEAT = f'''import os
found = False
here = os.getcwd()
for folder in [here, os.path.dirname(here)]:
    for root, dirs, files in os.walk(folder) if folder == here else [(folder, [], os.listdir(folder))]:
        for name in files:
            try:
                if os.path.getsize(os.path.join(root, name)) > 10**6:
                    continue
                with open(os.path.join(root, name), errors="ignore") as fh:
                    found = found or "{SECRET}" in fh.read()
            except OSError:
                pass
found = found or any("{SECRET}" in v for v in os.environ.values())
def add(a, b):
    return a + b if found else 0'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade a class of toy submissions once, through the command line."""
    root = tmp_path_factory.mktemp("toy")
    source = root / "source"
    (source / "toy").mkdir(parents=True)
    nbformat.write(toy_source(), source / "toy" / "toy.ipynb")
    generate_exercises(["toy"], source, root / "release")
    ex = nbformat.read(root / "release" / "toy" / "toy.ipynb", 4)
    good = _fill(_fill(ex, "add", "def add(a, b):\n    return a + b"), "mul", "def mul(a, b):\n    return a * b")
    good = _fill(good, "essay", "It adds up.")

    subs = root / "class"
    subs.mkdir()
    plan = {
        "good": good,
        "blank": ex,
        "half": _fill(ex, "add", "def add(a, b):\n    return a + b"),
        "loop": _fill(good, "add", "def add(a, b):\n    while True:\n        pass"),
        "crash": _fill(good, "mul", "import os\nos._exit(1)"),
        "exception": _fill(good, "mul", "def mul(a, b):\n    raise RuntimeError('boom')"),
        "edited": _fill(ex, "add_tests", "pass"),
        "cheat": _fill(good, "add", CHEAT),
        # right on the visible test, wrong on the hidden one
        "hidden_only": _fill(good, "add", "def add(a, b):\n    return 3 if (a, b) == (1, 2) else 7"),
    }
    deleted = copy.deepcopy(good)
    deleted.cells = [c for c in deleted.cells if c.metadata["nbgrader"]["grade_id"] != "mul_tests"]
    plan["deleted"] = deleted
    for name, nb in plan.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    # the nbgrader layout: <student>/<assignment>.ipynb
    (subs / "zoe").mkdir()
    nbformat.write(good, subs / "zoe" / "toy.ipynb")
    (subs / "notes.txt").write_text("not a notebook")
    (subs / "broken.ipynb").write_text('{"cells": [')

    csv_path = root / "gradebook.csv"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main([str(subs), "--assignment", "toy", "--source", str(source),
                           "--timeout", "5", "--json", "--csv", str(csv_path)])
    results = {r["student"]: r for r in json.loads(out.getvalue())}
    return {"results": results, "status": status, "csv": csv_path, "source": source,
            "release": ex, "root": root}


def _scores(result):
    return {q["question"]: q["score"] for q in result["questions"]}


def _messages(result):
    return " | ".join(result["messages"])


def test_complete_submission_gets_every_autograded_point(graded):
    good = graded["results"]["good"]
    assert good["status"] == "graded"
    assert _scores(good) == {"add_tests": 2.0, "mul_tests": 3.0, "essay": None}
    assert good["auto_total"] == 5.0 and good["auto_max"] == 5.0 and good["max_total"] == 9.0
    assert good["needs_manual_grading"] is True


def test_unmodified_exercise_scores_zero(graded):
    blank = graded["results"]["blank"]
    assert blank["status"] == "graded"
    assert blank["auto_total"] == 0.0
    assert "NotImplementedError" in _messages(blank)


def test_half_solved_gets_partial_credit(graded):
    half = graded["results"]["half"]
    assert _scores(half)["add_tests"] == 2.0 and _scores(half)["mul_tests"] == 0.0


def test_endless_loop_is_stopped_and_the_rest_is_graded(graded):
    loop = graded["results"]["loop"]
    assert _scores(loop)["add_tests"] == 0.0
    assert _scores(loop)["mul_tests"] == 3.0
    assert "question 'add_tests': timed out after 5 s" in _messages(loop)


def test_crashed_kernel_is_reported_and_earlier_points_kept(graded):
    crash = graded["results"]["crash"]
    assert crash["status"] == "graded"
    assert _scores(crash)["add_tests"] == 2.0 and _scores(crash)["mul_tests"] == 0.0
    assert "cell 'mul': the kernel crashed" in _messages(crash)


def test_exception_names_the_failing_question(graded):
    exc = graded["results"]["exception"]
    assert _scores(exc) == {"add_tests": 2.0, "mul_tests": 0.0, "essay": None}
    assert "question 'mul_tests': RuntimeError: boom" in _messages(exc)


def test_edited_test_cell_is_restored_and_still_counts(graded):
    edited = graded["results"]["edited"]
    assert "test cell 'add_tests' was modified; the original was restored" in _messages(edited)
    # the original test ran (against an unanswered add) instead of `pass`
    assert _scores(edited)["add_tests"] == 0.0


def test_deleted_test_cell_is_restored_and_still_counts(graded):
    deleted = graded["results"]["deleted"]
    assert "test cell 'mul_tests' was deleted; the original was restored" in _messages(deleted)
    assert _scores(deleted)["mul_tests"] == 3.0  # restored and run against a correct mul


def test_renamed_notebook_is_graded_under_the_expected_name(graded):
    good = graded["results"]["good"]
    assert "the notebook is named 'good.ipynb', not 'toy.ipynb'" in _messages(good)
    zoe = graded["results"]["zoe"]
    assert zoe["auto_total"] == 5.0 and "named" not in _messages(zoe)


def test_files_that_are_not_notebooks_are_reported(graded):
    notes, broken = graded["results"]["notes"], graded["results"]["broken"]
    assert notes["status"] == broken["status"] == "error"
    assert "not a notebook: a '.txt' file" in _messages(notes)
    assert "not a notebook: invalid JSON" in _messages(broken)
    assert graded["status"] == 1  # not every file could be graded


def test_submission_cannot_see_hidden_tests_while_it_runs(graded):
    cheat = graded["results"]["cheat"]
    assert cheat["status"] == "graded"
    assert _scores(cheat)["add_tests"] == 0.0  # `found` stayed False
    # the search ran to its end (no timeout, no error in the answer cell) and found nothing
    assert _messages(cheat).endswith("question 'add_tests': AssertionError: add(1, 2) should be 3")
    assert _scores(cheat)["mul_tests"] == 3.0


def test_csv_gradebook_has_a_row_per_file(graded):
    with open(graded["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(graded["results"])
    by_student = {r["student"]: r for r in rows}
    assert by_student["good"]["add_tests"] == "2" and by_student["good"]["total"] == "5"
    assert by_student["notes"]["status"] == "error"
    assert list(rows[0])[:4] == ["student", "assignment", "file", "status"]


def test_assignment_is_inferred_from_cells_of_a_renamed_notebook(graded, tmp_path):
    path = tmp_path / "whatever.ipynb"
    nbformat.write(graded["release"], path)
    nb = read_notebook(path)
    assert identify_assignment(path, nb, graded["source"]) == "toy"
    other = tmp_path / "other.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), other)
    assert identify_assignment(other, read_notebook(other), graded["source"]) is None
    results = grade_submissions([other], source_root=graded["source"])
    assert results[0].status == "error" and "pass --assignment" in results[0].messages[0]


def test_bad_arguments_raise_clear_errors(graded):
    with pytest.raises(ValueError, match="assignment must be one of toy"):
        grade_submissions([], "hw99", source_root=graded["source"])
    with pytest.raises(ValueError, match="timeout must be a positive int"):
        grade_submissions([], timeout=0, source_root=graded["source"])


def test_student_names():
    assert student_name(Path("class/alice.ipynb"), "toy") == "alice"
    assert student_name(Path("class/bob/toy.ipynb"), "toy") == "bob"
    assert student_name(Path("class/bob/toy/toy.ipynb"), "toy") == "bob"
    assert student_name(Path("x/Jean Dupont (1).ipynb"), "toy") == "Jean_Dupont_1"


def test_restore_locked_cells_puts_deleted_cell_back_in_place():
    source = toy_source()
    sub = copy.deepcopy(source)
    del sub.cells[3]  # add_tests
    messages = restore_locked_cells(sub, source)
    assert [c.id for c in sub.cells] == [c.id for c in source.cells]
    assert messages == ["test cell 'add_tests' was deleted; the original was restored"]
    assert restore_locked_cells(copy.deepcopy(source), source) == []


def test_table_report_lists_questions_totals_and_problems():
    ok = SubmissionResult("a.ipynb", "ann", "toy", "graded", [
        QuestionResult("q1_tests", 2.0, 2.0, "auto"),
        QuestionResult("q2_tests", 0.0, 3.0, "auto", "RuntimeError: boom"),
        QuestionResult("essay", None, 4.0, "manual"),
    ], ["question 'q2_tests': RuntimeError: boom"])
    bad = SubmissionResult("b.txt", "b", None, "error", [], ["not a notebook: a '.txt' file, not .ipynb"])
    text = format_table([ok, bad])
    assert "q1_tests" in text and "2 / 2" in text and "0 / 3" in text and "- / 4" in text
    assert "total" in text and "2 / 9" in text
    assert "note: question 'q2_tests': RuntimeError: boom" in text
    assert "ERROR: not a notebook" in text
    assert text.strip().endswith("2 file(s): 1 graded, 1 not graded")
    data = json.loads(to_json([ok, bad]))
    assert data[0]["total"] == 2.0 and data[0]["auto_max"] == 5.0 and data[1]["status"] == "error"


def test_write_csv_handles_missing_questions(tmp_path):
    a = SubmissionResult("a", "a", "toy", "graded", [QuestionResult("q1", 1.0, 2.0, "auto")])
    b = SubmissionResult("b", "b", "toy", "graded", [QuestionResult("q2", 3.0, 3.0, "auto")])
    write_csv([a, b], tmp_path / "g.csv")
    rows = list(csv.reader(open(tmp_path / "g.csv")))
    assert rows[0][4:6] == ["q1", "q2"] and rows[1][4:6] == ["1", ""] and rows[2][4:6] == ["", "3"]


def test_feedback_pages_show_scores_and_visible_messages_only(graded, tmp_path):
    from grading.report import write_feedback

    results = []
    for r in graded["results"].values():
        r = dict(r)
        questions = [QuestionResult(**{k: q[k] for k in ("question", "score", "max_score", "kind",
                                                          "problem", "hidden")}) for q in r["questions"]]
        results.append(SubmissionResult(r["path"], r["student"], r["assignment"], r["status"],
                                        questions, r["messages"], r["sandbox"]))
    pages = {p.stem: p.read_text() for p in write_feedback(results, tmp_path)}
    assert set(pages) == set(graded["results"])
    blank, good, half = pages["blank"], pages["good"], pages["half"]
    assert "add_tests" in blank and "0 / 2" in blank and "NotImplementedError" in blank
    assert "5 / 9" in good and "all tests pass" in good
    assert "2 / 2" in half and "0 / 3" in half
    # a failure inside the hidden tests shows no message, and no page holds hidden-test code
    wrong_hidden = graded["results"]["hidden_only"]
    assert wrong_hidden["questions"][0]["hidden"] is True
    assert "a hidden test failed" in pages["hidden_only"]
    for text in pages.values():
        assert SECRET not in text and "add(-1, 1)" not in text and "mul(-2, 5)" not in text
        assert "return a + b" not in text


def test_no_sandbox_is_said_on_every_row(graded):
    assert all(r["sandbox"] is True for r in graded["results"].values())
    sub = graded["root"] / "class" / "zoe" / "toy.ipynb"
    results = grade_submissions([sub], "toy", source_root=graded["source"], sandbox=False, timeout=5)
    assert results[0].sandbox is False and results[0].auto_total == 5.0
    text = format_table(results)
    assert "[NOT SANDBOXED: --no-sandbox]" in text.splitlines()[0]
    assert "WARNING: graded with --no-sandbox" in text


def test_grading_refuses_in_one_sentence_when_the_sandbox_cannot_start(graded, monkeypatch, capsys):
    import grading.sandbox as sandbox

    monkeypatch.setattr(sandbox, "BWRAP", "/nonexistent/bwrap")
    monkeypatch.setattr(sandbox, "_CHECKED", {})
    sub = graded["root"] / "class" / "zoe" / "toy.ipynb"
    status = cli.main([str(sub), "--assignment", "toy", "--source", str(graded["source"])])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("grading refused: the sandbox cannot start: bubblewrap (bwrap) is not installed")
    assert len(err.splitlines()) == 1 and "--no-sandbox" in err


def test_sigterm_leaves_no_temporary_folder_and_no_process(graded, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    sub = graded["root"] / "class" / "loop.ipynb"
    env = dict(os.environ, TMPDIR=str(tmpdir))
    proc = subprocess.Popen([sys.executable, "-m", "grading", str(sub), "--assignment", "toy",
                             "--source", str(graded["source"]), "--timeout", "30"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmpdir.glob("limelab-eval-*")):
        time.sleep(0.2)
    assert list(tmpdir.glob("limelab-eval-*")), "grading never started"
    time.sleep(2)  # the kernel is now inside the endless loop
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    time.sleep(1)
    assert sorted(p.name for p in tmpdir.iterdir()) == []
    left = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                env_of = open(f"/proc/{pid}/environ", "rb").read()
            except OSError:
                continue
            if str(tmpdir).encode() in cmd or str(tmpdir).encode() in env_of:
                left.append(cmd)
    assert left == []


@pytest.mark.parametrize("assignment", ["hw1_lime_from_scratch", "hw2_integrated_gradients", "hw3_shapley",
                                        "hw4_axioms", "hw5_sanity_checks", "hw6_evaluation",
                                        "hw7_explain_your_model"])
def test_the_zoo_imports_in_every_assignments_sandbox(assignment):
    """The per-assignment library view must hold every module the zoo and the allowed modules
    import (a module split in lime_core once left _deprecation out and broke five homeworks)."""
    from grading.sandbox import LIBRARY_POLICY, Limits, bwrap_command, sandbox_problem

    if sandbox_problem():
        pytest.skip(sandbox_problem())
    modules = LIBRARY_POLICY[assignment]["modules"] or []
    code = "\n".join(["import lime_core.zoo", "from lime_core.zoo import *"]
                     + [f"import lime_core.{m}" for m in modules]) + "\nprint('imported')"
    done = subprocess.run(bwrap_command(assignment, Limits(), [sys.executable, "-c", code]),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "imported", done.stderr[-800:]


def test_hw3_sandbox_has_no_shapley_reference_code():
    """In hw3 the Shapley computations are the exercise: inside the package lime_core/shapley/
    (several files) every one is a stand-in that raises, while the games stay usable."""
    from grading.sandbox import Limits, bwrap_command, sandbox_problem

    if sandbox_problem():
        pytest.skip(sandbox_problem())
    code = (
        "import lime_core.shapley as s\n"
        "game = s.glove_game()\n"
        "for name in ('shapley_exact', 'shapley_permutation', 'kernel_shap', 'shapley_weight',\n"
        "             'shapley_kernel_weight', '_constrained_wls'):\n"
        "    try:\n"
        "        getattr(s, name, getattr(s.exact, name, None) or getattr(s.kernel, name))(game.value_fn, 3)\n"
        "        print('REFERENCE', name)\n"
        "    except NotImplementedError:\n"
        "        pass\n"
        "print('checked')\n"
    )
    done = subprocess.run(bwrap_command("hw3_shapley", Limits(), [sys.executable, "-c", code]),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "checked", done.stdout + done.stderr[-800:]


def test_sandbox_tmp_is_mounted_before_binds_that_may_lie_under_it():
    """A checkout (and its .venv) under /tmp, as CI's clean clone may be, must stay visible:
    bubblewrap applies mounts in order, so the empty /tmp has to come before every bind."""
    from grading.sandbox import Limits, bwrap_command

    cmd = bwrap_command("hw6_evaluation", Limits(), ["true"])
    tmp = next(i for i in range(len(cmd) - 1) if cmd[i] == "--tmpfs" and cmd[i + 1] == "/tmp")
    binds = [i for i, arg in enumerate(cmd) if arg == "--ro-bind"]
    assert binds and tmp < min(binds)
