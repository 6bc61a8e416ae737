"""A second, independent round of attacks on the grader (the reproducers are in ``tests/attacks/``).

One hw1 class graded in one run: a submission that smuggles hidden-test inputs onto its
feedback page, values and replies the trusted decoder could not take (a set of lists, a
malformed cell error: each ended the whole submission "could not be graded"), a 150-byte
layer description that made the trusted process allocate 1 GiB, scikit-learn's compiled
ridge loaded from ``__pycache__``, terminal escapes aimed at the instructor's table, and a
notebook named after a classmate left in the attacker's own folder, and a lone surrogate in an
error message (the table, CSV and feedback pages of the whole class failed to write). Solved classmates
graded in the same run keep full marks.
"""

from __future__ import annotations

import csv
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from grading import _wire
from grading.autograde import SubmissionResult, grade_submissions, read_notebook
from grading.course import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR
from grading.report import format_table, write_csv, write_feedback
from grading.sandbox import Limits, _limit_resources, bwrap_command, sandbox_problem

HW1 = "hw1_lime_from_scratch"
ATTACKS = Path(__file__).parent / "attacks"
#: student -> {answer cell: reproducer file in tests/attacks/}; every other answer is left unanswered
CLASS = {
    "leaker": {"hw1_q1_kernel": "feedback_leak/hw1_q1_kernel.cell",
               "hw1_q2_sample": "feedback_leak/hw1_q2_sample.cell"},
    "badset": {"hw1_q1_kernel": "undecodable_value/hw1_q1_kernel.cell"},
    "malformed": {"hw1_q2_sample": "undecodable_value/hw1_q2_sample.cell"},
    "bomb": {"hw1_q1_kernel": "trusted_module_bomb/hw1_q1_kernel.cell"},
    "pyc": {"hw1_q3_ridge": "pyc_ridge/hw1_q3_ridge.cell"},
    "ansi": {"hw1_q1_kernel": "ansi_in_report/hw1_q1_kernel.cell"},
    "surrogate": {"hw1_q1_kernel": "lone_surrogate/hw1_q1_kernel.cell"},
}


def _notebook(base: Path, answers: dict):
    nb = nbformat.read(base / HW1 / f"{HW1}.ipynb", 4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = (ATTACKS / answers[gid]).read_text()
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if sandbox_problem() is not None:
        pytest.skip(sandbox_problem())
    klass = tmp_path_factory.mktemp("attacks2") / "class"
    for student, answers in CLASS.items():
        (klass / student).mkdir(parents=True)
        nbformat.write(_notebook(EXERCISES_DIR, answers), klass / student / f"{HW1}.ipynb")
    # mallory's own folder holds her solved notebook and a blank one named after a classmate;
    # her folder sorts before zed's, so before the fix her file took zed's row
    (klass / "mallory").mkdir()
    (klass / "zed").mkdir()
    nbformat.write(_notebook(SOLUTIONS_DIR, {}), klass / "mallory" / f"{HW1}.ipynb")
    nbformat.write(_notebook(EXERCISES_DIR, {}), klass / "mallory" / "zed.ipynb")
    nbformat.write(_notebook(SOLUTIONS_DIR, {}), klass / "zed" / f"{HW1}.ipynb")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results = grade_submissions([klass], timeout=120, jobs=2)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    feedback = klass.parent / "feedback"
    write_feedback(results, feedback)
    yield {"by_student": {r.student: r for r in results}, "results": results, "feedback": feedback,
           "peak_gb": peak_gb, "peak_before_gb": before / 1024**2, "klass": klass}
    shutil.rmtree(klass.parent, ignore_errors=True)


def _score(res: SubmissionResult, question: str) -> float | None:
    return next(q.score for q in res.questions if q.question == question)


@pytest.mark.slow
def test_every_submission_is_graded_and_the_solved_classmates_keep_full_marks(graded):
    by = graded["by_student"]
    assert all(r.status == "graded" for r in graded["results"]), [
        (r.student, r.messages) for r in graded["results"] if r.status != "graded"]
    for student in ("mallory", "zed"):
        assert by[student].auto_total == by[student].auto_max == 16.0, by[student].questions


@pytest.mark.slow
def test_hidden_test_inputs_do_not_reach_the_feedback_page(graded):
    leaker = graded["by_student"]["leaker"]
    assert _score(leaker, "hw1_q1_kernel_tests") == 2.0  # a real answer: the hidden test ran
    page = (graded["feedback"] / HW1 / "leaker.html").read_text()
    assert "HIDDEN-INPUTS" not in page and "25.0" not in page
    assert "its message is not shown" in page
    # the instructor's report keeps the whole text
    assert any("HIDDEN-INPUTS" in m for m in leaker.messages)


@pytest.mark.slow
@pytest.mark.parametrize("student", ["badset", "malformed", "bomb"])
def test_an_undecodable_value_or_reply_costs_questions_not_the_submission(graded, student):
    res = graded["by_student"][student]
    assert res.status == "graded" and res.auto_total == 0.0


@pytest.mark.slow
def test_a_layer_description_does_not_make_the_grader_allocate(graded):
    bomb = graded["by_student"]["bomb"]
    assert "do not fit the Linear layer" in _score_problem(bomb, "hw1_q1_kernel_tests")
    # 16384 x 16384 float32 would be 1 GiB in the trusted process; every process of the run
    # (kernels included) stays well under it (measurable only if no earlier child went higher)
    if graded["peak_before_gb"] < 0.9:
        assert graded["peak_gb"] < 0.9, graded["peak_gb"]


def _score_problem(res: SubmissionResult, question: str) -> str:
    return next(q.problem for q in res.questions if q.question == question)


@pytest.mark.slow
def test_compiled_ridge_is_not_loadable_in_hw1(graded):
    pyc = graded["by_student"]["pyc"]
    assert _score(pyc, "hw1_q3_ridge_tests") == 0.0
    assert any("_ridge" in m and "Permission denied" in m for m in pyc.messages), pyc.messages


@pytest.mark.slow
def test_terminal_escapes_do_not_reach_the_table_or_the_gradebook(graded, tmp_path):
    table = format_table(graded["results"])
    assert "\x1b" not in table and "\\x1b[1A" in table
    table.encode("utf-8")  # a lone surrogate ("\ud800") in a message made printing it raise
    assert "\\ud800 oops" in table
    assert (graded["feedback"] / HW1 / "surrogate.html").is_file()
    write_csv(graded["results"], tmp_path / "g.csv")
    text = (tmp_path / "g.csv").read_text()
    assert "\x1b" not in text
    assert len(list(csv.reader(text.splitlines()))) == len(graded["results"]) + 1


@pytest.mark.slow
def test_a_file_named_after_a_classmate_does_not_take_their_row(graded):
    by = graded["by_student"]
    assert Path(by["zed"].path).parent.name == "zed" and by["zed"].auto_total == 16.0
    impostor = by["zed-2"]
    assert Path(impostor.path).parent.name == "mallory"
    assert any("another file also gives the student id 'zed'" in m for m in impostor.messages)
    assert any("another file also gives the student id 'zed'" in m for m in by["zed"].messages)
    assert (graded["feedback"] / HW1 / "zed.html").read_text().count("all tests pass") == 6


# -- fast checks of the pieces -----------------------------------------------------------------


def test_module_from_wire_refuses_a_layer_its_weights_do_not_fill():
    codec = _wire.Codec("t")
    for args in ([60000, 60000], [10**12, 10**12], ["a", 2]):
        with pytest.raises(_wire.WireError):
            _wire.module_from_wire({"__module__": {"type": "Linear", "args": args,
                                                   "kwargs": {"__dict__": {}}, "state": {}}}, codec)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(8 * 64, 10))
    back = _wire.module_from_wire(_wire.module_to_wire(net, codec), codec)
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(net(x), back(x))
    lin = torch.nn.Linear(3, 2).double()
    data = _wire.module_to_wire(lin, codec)
    data["__module__"]["state"]["weight"] = codec.encode(torch.zeros(5, 3, dtype=torch.float64).numpy())
    with pytest.raises(_wire.WireError):
        _wire.module_from_wire(data, codec)


def test_report_escapes_control_and_format_characters(tmp_path):
    res = SubmissionResult(path="class/\x1b[2Kx.ipynb", student="x", assignment=HW1, status="graded",
                           messages=["cell 'q': ValueError: \x1b[1A\x1b[2K total 13 / 13 \u202e"])
    table = format_table([res])
    assert "\x1b" not in table and "\u202e" not in table
    assert "\\x1b[1A" in table and "\\u202e" in table
    write_csv([res], tmp_path / "g.csv")
    assert "\x1b" not in (tmp_path / "g.csv").read_text()


def test_hw1_sandbox_cannot_read_the_compiled_ridge():
    if sandbox_problem() is not None:
        pytest.skip(sandbox_problem())
    code = ("import glob, os, sklearn\n"
            "p = glob.glob(os.path.join(os.path.dirname(sklearn.__file__), 'linear_model', '__pycache__', '_ridge.*.pyc'))\n"
            "for f in p:\n"
            "    try:\n"
            "        data = open(f, 'rb').read()\n"
            "    except OSError:\n"
            "        data = b''\n"
            "    assert data == b'', f\n"
            "from sklearn.linear_model import Ridge\n"
            "print(len(p), Ridge.__name__)\n")
    out = subprocess.run(bwrap_command(HW1, Limits(), [str(Path(sys.prefix) / "bin" / "python"), "-c", code]), capture_output=True,
                         text=True, timeout=120, preexec_fn=_limit_resources(Limits()))
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.split()[-1] == "_NotInThisAssignment"


# -- the head process: files it reads outside any sandbox -------------------------------------


@pytest.fixture()
def head_only(monkeypatch):
    """Grade without starting sandboxes: what the head process does with the files."""
    import grading.autograde as autograde

    monkeypatch.setattr(autograde, "_run_tasks", lambda tasks, jobs, scheduler: [
        {"status": "graded", "questions": [], "messages": [f"planned {len(t['cells'])} cells"]} for t in tasks])
    monkeypatch.setattr(autograde, "sandbox_problem", lambda: None)


def _make_batch_abort(folder: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("batch_abort", ATTACKS / "batch_abort" / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(str(folder))


def test_one_odd_file_does_not_end_the_run_for_everyone(tmp_path, head_only):
    _make_batch_abort(tmp_path / "class" / "mallory")
    (tmp_path / "class" / "zed").mkdir()
    shutil.copy(SOLUTIONS_DIR / HW1 / f"{HW1}.ipynb", tmp_path / "class" / "zed" / f"{HW1}.ipynb")
    results = {Path(r.path).name: r for r in grade_submissions([tmp_path / "class"])}
    assert results["deep.ipynb"].status == "error"
    assert results["deep.ipynb"].messages == ["not a notebook: JSON nested too deeply"]
    for name, res in results.items():
        if name.startswith("meta_"):  # the odd metadata is dropped; the released notebook rules
            assert res.status == "graded" and res.assignment == HW1, (name, res.messages)
    assert results[f"{HW1}.ipynb"].status == "graded" and results[f"{HW1}.ipynb"].student == "zed"


def test_symbolic_links_in_a_folder_are_not_read(tmp_path, head_only):
    klass = tmp_path / "class"
    subprocess.run(["sh", str(ATTACKS / "symlink_submission" / "make.sh"), str(klass)], check=True,
                   capture_output=True, env={"REPO": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    by_path = {str(Path(r.path).relative_to(klass)): r for r in grade_submissions([klass])}
    for link, student in (("mallory.ipynb", "mallory"), (f"eve/{HW1}.ipynb", "eve")):
        res = by_path[link]
        assert res.status == "error" and res.student == student, (link, res)
        assert "symbolic link" in res.messages[0]
    zed = by_path[f"zed/{HW1}.ipynb"]
    assert zed.status == "graded" and zed.student == "zed"
    # a link given by the instructor on the command line is still graded
    direct = grade_submissions([klass / "mallory.ipynb"])
    assert direct[0].status == "graded"


def test_read_notebook_keeps_the_sources_only(tmp_path):
    nb = nbformat.read(SOLUTIONS_DIR / HW1 / f"{HW1}.ipynb", 4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "A" * 100_000})]
        else:
            cell["attachments"] = {"x.png": {"image/png": "A" * 100_000}}
    nbformat.write(nb, tmp_path / "x.ipynb")
    back = read_notebook(tmp_path / "x.ipynb")
    assert [c.source for c in back.cells] == [c.source for c in nb.cells]
    assert all(not c.get("outputs") and "attachments" not in c for c in back.cells)


@pytest.mark.slow
def test_many_answers_under_the_message_limit_cannot_fill_the_trusted_process(tmp_path):
    """hw3 Q2's hidden test keeps 60 answers; each is 16 MB (under the 64 MB message limit),
    960 MB in all, held by the trusted process, which has no memory limit of its own. A test may
    receive 256 MB in all: the question is lost, the others and the honest classmate are not."""
    from _grading_class import assert_full_marks, grade_class, solution

    hw3 = "hw3_shapley"
    nb = solution(hw3)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "hw3_q2_perm")
    cell.source = (ATTACKS / "trusted_memory_accumulation" / "hw3_q2_perm.cell").read_text()
    graded = grade_class(tmp_path, {"hoarder": (hw3, nb)}, [hw3])
    assert_full_marks(graded["honest_hw3"])
    res = graded["hoarder"]
    problems = {q.question: (q.score, q.max_score, q.problem) for q in res.questions if q.kind == "auto"}
    score, _max, problem = problems.pop("hw3_q2_perm_tests")
    assert score == 0.0 and "add up to too much" in problem, problem
    assert all(s == m for s, m, _p in problems.values()), problems


def test_an_unprivileged_sandbox_cannot_make_a_user_namespace_of_its_own(monkeypatch):
    """As an ordinary user the sandbox is a user namespace; bubblewrap's --disable-userns keeps
    the submission from making another inside it (``unshare -U`` would give it root there)."""
    if sandbox_problem() is not None:
        pytest.skip(sandbox_problem())
    from grading import sandbox

    if not sandbox._bwrap_can_disable_userns():
        pytest.skip("this bubblewrap has no --disable-userns (before 0.8)")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)  # the command an ordinary user runs
    cmd = bwrap_command(HW1, Limits(), ["/usr/bin/unshare", "-U", "-r", "true"])
    assert "--unshare-user" in cmd and "--disable-userns" in cmd
    # without the flag it does make one (where this machine allows user namespaces at all)
    done = subprocess.run([a for a in cmd if a != "--disable-userns"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.skip(f"no user namespaces on this machine: {done.stderr.strip()[-200:]}")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "unshare" in done.stderr, (done.returncode, done.stderr)
