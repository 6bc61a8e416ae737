"""Grade student notebooks: one sandboxed kernel and one trusted process per submission.

One grading run, step by step (``grade_submissions``):

1. every path given is expanded (a folder gives every file inside it) and each
   file is read (nbformat 3 is converted); a file that is not a valid notebook
   is reported, under the student id its folder gives, and skipped;
2. each notebook is matched to an assignment: the ``grade_id`` of its cells
   first (they win over a misleading file name), else ``--assignment``, its
   file name, or its folder;
3. for each assignment nbgrader's ``generate_assignment`` makes the released
   notebook in a private temporary folder (deleted at once): it gives the cells,
   ids, points and the locked cells every submission is reset to;
4. each submission becomes a list of cells (:func:`plan_cells`): the released
   notebook's cells, with the student's answers (matched by ``grade_id``, else
   by cell id) and the cells the student added; every locked cell, test and
   metadata field comes from the released notebook, whatever the file says;
5. every submission is graded on its own (:mod:`grading._evaluate`): its cells
   run in a sandboxed kernel (:mod:`grading.sandbox`), its tests, hidden ones
   included, in a separate trusted process that asks the kernel for values and
   calls across the wall with plain data; ``jobs`` submissions at a time, or
   one Dask task each on a cluster (``scheduler``);
6. the results come back as :class:`SubmissionResult`.

Threat model (README, "Homework and grading"): a submission's code runs only in
the sandbox. It can compute anything it likes there and print anything, but it
cannot see the repository, the solutions, the hidden tests, other submissions
or the grader's processes, cannot reach the network, cannot outlive its
grading, and cannot change how a test is judged: the test runs in a process
it has never run in and receives only plain data from it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grading.course import SOLUTIONS_DIR, nbgrader_env
from grading.sandbox import GB, Limits, SandboxUnavailable, sandbox_problem

DEFAULT_TIMEOUT = 60
DEFAULT_MEMORY_GB = 4.0


@dataclass
class QuestionResult:
    """The score of one graded cell of a notebook.

    ``kind`` is ``"auto"`` (a test cell, scored by running it) or ``"manual"``
    (an open answer a human grades in nbgrader's formgrader; ``score`` is None
    until then).
    """

    question: str
    score: float | None
    max_score: float
    kind: str
    problem: str = ""
    hidden: bool = False  # the failure was in a hidden test (feedback shows no detail)
    # ``problem`` as the student's feedback page may show it (None: all of it); text the
    # notebook wrote after a hidden test had run is withheld (it could carry the test's data)
    feedback: str | None = None


@dataclass
class SubmissionResult:
    """Everything the grader learned about one submitted file."""

    path: str
    student: str
    assignment: str | None
    status: str  # "graded" or "error"
    questions: list[QuestionResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    sandbox: bool = True  # False when graded with --no-sandbox
    # the cells' errors as the feedback page may show them (None: those in ``messages``)
    feedback_cells: list[str] | None = None

    @property
    def total(self) -> float:
        """Points scored so far (manual questions count once graded)."""
        return float(sum(q.score for q in self.questions if q.score is not None))

    @property
    def max_total(self) -> float:
        return float(sum(q.max_score for q in self.questions))

    @property
    def auto_total(self) -> float:
        return float(sum(q.score or 0.0 for q in self.questions if q.kind == "auto"))

    @property
    def auto_max(self) -> float:
        return float(sum(q.max_score for q in self.questions if q.kind == "auto"))

    @property
    def needs_manual_grading(self) -> bool:
        return any(q.kind == "manual" and q.score is None for q in self.questions)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(
            total=self.total,
            max_total=self.max_total,
            auto_total=self.auto_total,
            auto_max=self.auto_max,
            needs_manual_grading=self.needs_manual_grading,
        )
        return out


# ----------------------------------------------------------------------------
# step 1: reading submissions


def _expand(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files to grade: the paths given, with every folder replaced by its files.

    A symbolic link found in a folder is listed too (it gets a row that says why it is not
    graded, see :data:`_LINKED`): a student's link to ``solutions/`` or to a classmate's
    notebook would otherwise be read, outside any sandbox, as that student's work.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() or f.is_symlink()) and not any(
                    part.startswith(".") for part in f.relative_to(p).parts
                ):
                    files.append(f)
        else:
            files.append(p)
    return files


#: why a symbolic link inside a submissions folder is not graded
_LINKED = ("a symbolic link, not a file: not graded (a link could point at the solutions or at "
           "a classmate's notebook; hand in the notebook itself)")


def read_notebook(path: Path):
    """Read and validate a notebook; raise ``ValueError`` with a readable reason."""
    import nbformat

    if not path.exists():
        raise ValueError("file not found")
    if path.suffix != ".ipynb":
        raise ValueError(f"not a notebook: a '{path.suffix or 'extension-less'}' file, not .ipynb")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError("not a notebook: the file is not UTF-8 text") from err
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not a notebook: invalid JSON ({err.msg} at line {err.lineno})") from err
    except RecursionError as err:  # '[[[[...' : it would otherwise end the whole grading run
        raise ValueError("not a notebook: JSON nested too deeply") from err
    if not isinstance(raw, dict) or "nbformat" not in raw or ("cells" not in raw and "worksheets" not in raw):
        raise ValueError("not a notebook: JSON without 'cells' and 'nbformat'")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several validation error types
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"not a valid notebook: {message}") from err
    for cell in nb.cells:
        # nbformat accepts any metadata: nbgrader's must be a dict with a text grade_id, else it
        # is dropped here (the released notebook gives every cell's metadata anyway) instead of
        # failing, later, on code that reads it for every file of the run
        md = cell.get("metadata", {}).get("nbgrader", {})
        if not (isinstance(md, dict) and isinstance(md.get("grade_id", ""), str)):
            del cell.metadata["nbgrader"]
        # outputs and attachments are never graded: dropped, a run holds only the sources
        # (a notebook's plots are about its size: 1,000 notebooks of 9 MB would keep 9 GB here)
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs = []
    return nb


def _grade_ids(nb) -> set[str]:
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if "nbgrader" in c.get("metadata", {}) and "grade_id" in c.metadata["nbgrader"]
    }


def available_assignments(source_root: Path = SOLUTIONS_DIR) -> list[str]:
    """Assignments with a source notebook ``<root>/<name>/<name>.ipynb``."""
    root = Path(source_root)
    if not root.is_dir():
        return []
    return sorted(
        d.name for d in root.iterdir() if d.is_dir() and (d / f"{d.name}.ipynb").is_file()
    )


def identify_assignment(path: Path, nb, source_root: Path = SOLUTIONS_DIR,
                        given: str | None = None) -> str | None:
    """Which assignment a submission belongs to, or None.

    The ``grade_id`` of the notebook's cells decide when they match a source
    notebook (a file called ``hw2.ipynb`` holding hw1's cells is hw1); else
    ``given`` (``--assignment``), the file name, then the enclosing folders.
    """
    import nbformat

    known = available_assignments(source_root)
    ids = _grade_ids(nb) if nb is not None else set()
    best, best_overlap = None, 0
    for name in known:
        source_ids = _grade_ids(nbformat.read(Path(source_root) / name / f"{name}.ipynb", 4))
        overlap = len(ids & source_ids)
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    if best is not None:
        return best
    if given is not None:
        return given
    return _name_from_path(path, known)


def _name_from_path(path: Path, known: Sequence[str]) -> str | None:
    if path.stem in known:
        return path.stem
    for parent in Path(os.path.abspath(path)).parents:
        if parent.name in known:
            return parent.name
    return None


def student_name(path: Path, assignment: str | None) -> str:
    """A student id from a path: ``alice/hw1.ipynb`` and ``alice.ipynb`` both give ``alice``."""
    name = path.stem
    if assignment is not None and name == assignment:
        for parent in Path(os.path.abspath(path)).parents:
            if parent.name and parent.name != assignment:
                name = parent.name
                break
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "student"
    return name


# ----------------------------------------------------------------------------
# step 4: locked cells


def _describe_cell(cell) -> str:
    md = cell.metadata.get("nbgrader", {})
    if md.get("grade") and not md.get("solution"):
        return "test cell"
    return "read-only cell"


def restore_locked_cells(submission, release, source=None) -> list[str]:
    """Compare the submission's locked cells with the released notebook.

    A deleted locked cell is inserted back after the cell that preceded it in
    the released notebook; an edited one is left for nbgrader, which
    overwrites it from the gradebook. A cell equal to the ``source`` version
    (the instructor's notebook, hidden tests included) is not a change.
    Returns one message per change.
    """
    import copy

    messages = []
    source_text = {}
    if source is not None:
        for cell in source.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid is not None:
                source_text[gid] = cell.source
    by_id = {}
    for i, cell in enumerate(submission.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is not None:
            by_id[gid] = i
    release_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
    for j, cell in enumerate(release.cells):
        md = cell.metadata.get("nbgrader", {})
        if not md.get("locked"):
            continue
        gid = md["grade_id"]
        kind = _describe_cell(cell)
        if gid in by_id:
            sub_cell = submission.cells[by_id[gid]]
            same = sub_cell.source in (cell.source, source_text.get(gid, cell.source))
            if not same or sub_cell.cell_type != cell.cell_type:
                messages.append(f"{kind} '{gid}' was modified; the original was restored")
            continue
        # deleted: insert after the nearest earlier cell that is still there
        insert_at = 0
        for prev in reversed(release_ids[:j]):
            if prev is not None and prev in by_id:
                insert_at = by_id[prev] + 1
                break
        restored = copy.deepcopy(cell)
        if restored.cell_type == "code":
            restored.outputs = []
            restored.execution_count = None
        submission.cells.insert(insert_at, restored)
        by_id = {
            c.metadata.get("nbgrader", {}).get("grade_id"): i
            for i, c in enumerate(submission.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") is not None
        }
        messages.append(f"{kind} '{gid}' was deleted; the original was restored")
    return messages




# ----------------------------------------------------------------------------
# step 4: the cells to grade


def _hidden_lines(source: str) -> list[int]:
    """First and last line (1-based) of the hidden-test block of a test cell, or []."""
    lines = source.splitlines()
    begin = [i + 1 for i, line in enumerate(lines) if "BEGIN HIDDEN TESTS" in line]
    end = [i + 1 for i, line in enumerate(lines) if "END HIDDEN TESTS" in line]
    return [begin[0], end[-1]] if begin and end else []


def plan_cells(submission, release, source) -> tuple[list[dict], list[str]]:
    """The cells to grade for one submission, and notes about what was reset.

    The released notebook is the skeleton: its locked cells, tests, ids,
    points and metadata are used whatever the submission says. The student's
    answer for each answer cell is found by ``grade_id``, else by cell id; a
    cell the student added (or a second copy of an answer cell) runs after the
    released cell it followed.
    """
    notes: list[str] = []
    src_by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
    rel_ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
    rel_by_id = dict(zip(rel_ids, release.cells, strict=True))
    rel_by_cell_id = {c.get("id"): c.metadata.get("nbgrader", {}).get("grade_id")
                      for c in release.cells if c.get("id")}
    answers: dict[str, str] = {}
    extras: dict[str | None, list[str]] = {}
    anchor = None
    for cell in submission.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid not in rel_by_id and cell.get("id") in rel_by_cell_id:
            gid = rel_by_cell_id[cell.get("id")]  # a renamed grade_id: the cell id tells
        if gid in rel_by_id:
            md = rel_by_id[gid].metadata["nbgrader"]
            if md.get("solution"):
                if gid in answers:
                    notes.append(f"answer cell '{gid}' appears twice; both copies were run, in order")
                    if cell.cell_type == "code":
                        extras.setdefault(gid, []).append(cell.source)
                else:
                    answers[gid] = cell.source
            anchor = gid
        elif cell.cell_type == "code" and cell.source.strip():
            extras.setdefault(anchor, []).append(cell.source)
    cells: list[dict] = [{"kind": "student", "gid": "added cell", "k_source": code}
                         for code in extras.get(None, [])]
    for gid, rel in zip(rel_ids, release.cells, strict=True):
        md = rel.metadata.get("nbgrader", {})
        points = float(md.get("points", 0) or 0)
        if md.get("solution"):
            text = answers.get(gid, rel.source)
            if rel.cell_type == "code":
                kind = "manual_code" if md.get("grade") else "student"
                cells.append({"kind": kind, "gid": gid, "k_source": text, "points": points})
            elif md.get("grade"):
                cells.append({"kind": "manual", "gid": gid, "points": points})
        elif rel.cell_type == "code" and md.get("grade"):
            full = src_by_id.get(gid, rel).source
            cells.append({"kind": "test", "gid": gid, "k_source": rel.source, "t_source": full,
                          "points": points, "hidden": _hidden_lines(full)})
        elif rel.cell_type == "code":
            full = src_by_id.get(gid, rel).source
            cells.append({"kind": "setup", "gid": gid or "cell", "k_source": rel.source, "t_source": full})
        for code in extras.get(gid, []) if gid is not None else []:
            cells.append({"kind": "student", "gid": f"added after {gid}", "k_source": code})
    return cells, notes


# ----------------------------------------------------------------------------
# step 5: grading, one submission per process


_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()


def grade_task(task: dict) -> dict:
    """Grade one submission (``task`` from :func:`_make_task`); what a Dask worker runs.

    Starts the trusted process ``python -m grading._evaluate`` and returns its
    result; whatever goes wrong becomes an ``"error"`` result with one line.
    """
    if task.get("sandbox", True):
        problem = sandbox_problem()  # on a Dask worker this is the worker's machine
        if problem is not None:
            return {"status": "error", "questions": [], "messages": [f"grading refused: {problem}"]}
    private = Path(tempfile.mkdtemp(prefix="limelab-grade-"))
    os.chmod(private, 0o700)
    try:
        spec, out, log = private / "spec.json", private / "result.json", private / "evaluate.log"
        spec.write_text(json.dumps(task))
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "grading._evaluate", str(spec), str(out)],
                stdout=fh, stderr=subprocess.STDOUT, env=nbgrader_env(), cwd=str(private),
            )
            with _RUNNING_LOCK:
                _RUNNING.add(proc)
            if _STOPPING.is_set():
                proc.terminate()
            try:
                limit = task["limits"]["total_timeout"] + 300
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(proc)
        if out.is_file():
            return json.loads(out.read_text())
        text = log.read_text(errors="replace").strip().splitlines()
        reason = text[-1] if text else f"the grading process exited with status {proc.returncode}"
        return {"status": "error", "questions": [], "messages": [f"could not be graded: {reason}"]}
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _stop_running() -> None:
    with _RUNNING_LOCK:
        procs = list(_RUNNING)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _release(assignment: str, source_root: Path) -> tuple[object, object]:
    """The released and the source notebook of ``assignment`` (nbgrader generate_assignment)."""
    import nbformat

    from grading.generate import generate_assignment

    private = Path(tempfile.mkdtemp(prefix="limelab-release-"))
    os.chmod(private, 0o700)
    try:
        src = private / "source"
        (src / assignment).mkdir(parents=True)
        shutil.copy2(Path(source_root) / assignment / f"{assignment}.ipynb", src / assignment)
        out = generate_assignment(assignment, src, private / "release", private / "gradebook.db")
        return nbformat.read(out, 4), nbformat.read(src / assignment / f"{assignment}.ipynb", 4)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _utf8(text):
    """``text`` made encodable as UTF-8 (a lone surrogate such as "\\ud800" written as an escape).

    The texts come from the notebook (its exceptions travel as JSON, where "\\ud800" is valid);
    left as they are, printing the table or writing the CSV raised for the whole class.
    """
    if text is None:
        return None
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _apply(res: SubmissionResult, out: dict) -> None:
    res.messages.extend(_utf8(m) for m in out.get("messages", []))
    if out.get("status") != "graded":
        res.status = "error"
        return
    res.status = "graded"
    cells = out.get("feedback_cells")
    res.feedback_cells = None if cells is None else [_utf8(m) for m in cells]
    for q in out.get("questions", []):
        res.questions.append(QuestionResult(
            question=q["question"], score=q["score"], max_score=float(q["max_score"]),
            kind=q["kind"], problem=_utf8(q.get("problem", "")), hidden=bool(q.get("hidden", False)),
            feedback=_utf8(q.get("feedback")),
        ))


def _run_tasks(tasks: list[dict], jobs: int, scheduler: str | None) -> list[dict]:
    if scheduler is not None:
        from distributed import Client

        with Client(scheduler, timeout="30s") as client:
            futures = client.map(grade_task, tasks, pure=False, key=[f"limelab-{i}-{t['student']}" for i, t in enumerate(tasks)])
            return client.gather(futures)
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(tasks))))
    try:
        return list(pool.map(grade_task, tasks))
    except BaseException:  # SIGTERM, Ctrl-C: stop the graders before waiting for the threads
        _STOPPING.set()
        _stop_running()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def grade_submissions(
    submissions: Sequence[str | os.PathLike],
    assignment: str | None = None,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    jobs: int = 2,
    source_root: str | os.PathLike = SOLUTIONS_DIR,
    sandbox: bool = True,
    memory_gb: float = DEFAULT_MEMORY_GB,
    total_timeout: int | None = None,
    scheduler: str | None = None,
) -> list[SubmissionResult]:
    """Grade notebooks and report per-question scores.

    Parameters
    ----------
    submissions : sequence of paths
        Notebooks, or folders searched recursively for files to grade.
    assignment : str, optional
        The assignment, for submissions whose cells, name and folder do not tell.
    timeout : int
        Seconds a single cell (or one call of a student's function by a test)
        may run before it is stopped; that question scores 0, the rest is graded.
    jobs : int
        Submissions graded at once on this machine.
    source_root : path
        Folder with the source notebooks (default ``solutions/``).
    sandbox : bool
        Run student code in the bubblewrap sandbox (default). ``False`` only
        for trusted notebooks: every result then says it was not sandboxed.
    memory_gb : float
        Address-space limit of a submission's kernel, in GB (default 4).
    total_timeout : int, optional
        Seconds for a whole submission (default: 30 cells' worth of ``timeout``).
    scheduler : str, optional
        Address of a Dask distributed scheduler: each submission becomes one task.

    Returns
    -------
    list of SubmissionResult, in the order the files were found.

    Raises
    ------
    SandboxUnavailable
        When ``sandbox`` is on and bubblewrap cannot start here (one sentence).
    """
    source_root = Path(source_root)
    if isinstance(submissions, (str, os.PathLike)):
        submissions = [submissions]
    known = available_assignments(source_root)
    if assignment is not None and assignment not in known:
        raise ValueError(f"assignment must be one of {', '.join(known)}, got {assignment!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout must be a positive int (seconds), got {timeout!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    if isinstance(memory_gb, bool) or not isinstance(memory_gb, (int, float)) or not memory_gb >= 0.25:
        raise ValueError(f"memory_gb must be a number >= 0.25, got {memory_gb!r}")
    if total_timeout is None:
        total_timeout = max(600, 30 * timeout)
    if sandbox and scheduler is None:
        problem = sandbox_problem()
        if problem is not None:
            raise SandboxUnavailable(problem)
    limits = Limits(memory=int(memory_gb * GB), cell_timeout=timeout, total_timeout=int(total_timeout))

    import nbformat

    results: list[SubmissionResult] = []
    pending: list[tuple[SubmissionResult, object]] = []
    for path in _expand(submissions):
        guess = assignment or _name_from_path(path, known)
        res = SubmissionResult(path=str(path), student=student_name(path, guess), assignment=None,
                               status="error", sandbox=sandbox)
        results.append(res)
        if path.is_symlink() and not any(path == Path(p) for p in submissions):
            res.messages.append(_LINKED)
            continue
        try:
            nb = read_notebook(path)
        except ValueError as err:
            res.messages.append(str(err))
            continue
        try:
            name = identify_assignment(path, nb, source_root, given=assignment)
        except Exception as err:  # noqa: BLE001 - one odd notebook must not end the run for everyone
            res.messages.append(f"cannot tell which assignment this is: {type(err).__name__}: {err}")
            continue
        if name is None:
            res.messages.append(
                "cannot tell which assignment this is (cells, file name and folder match "
                "none); pass --assignment NAME"
            )
            continue
        res.assignment = name
        res.student = student_name(path, name if guess is None else guess)
        if path.stem != name:
            res.messages.append(
                f"the notebook is named '{path.name}', not '{name}.ipynb'; "
                f"it was graded as {name}.ipynb"
            )
        pending.append((res, nb))
    _unique_students(pending, assignment)

    releases: dict[str, tuple] = {}
    tasks, owners = [], []
    for res, nb in pending:
        name = res.assignment
        if name not in releases:
            try:
                releases[name] = _release(name, source_root)
            except Exception as err:  # noqa: BLE001 - nbgrader's own words reach the report
                releases[name] = (None, f"nbgrader could not generate {name}: {type(err).__name__}: {err}")
        release, source = releases[name]
        if release is None:
            res.messages.append(str(source))
            continue
        try:
            res.messages.extend(restore_locked_cells(copy.deepcopy(nb), release, source))
            cells, notes = plan_cells(nb, release, source)
        except Exception as err:  # noqa: BLE001 - one odd notebook must not end the run for everyone
            res.messages.append(f"could not be matched with the released notebook: {type(err).__name__}: {err}")
            continue
        res.messages.extend(notes)
        tasks.append({"assignment": name, "student": res.student, "cells": cells,
                      "limits": limits.to_dict(), "sandbox": sandbox})
        owners.append(res)
    del nbformat

    if tasks:
        _STOPPING.clear()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            outputs = _run_tasks(tasks, jobs, scheduler)
        finally:
            _stop_running()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        for res, out in zip(owners, outputs, strict=True):
            _apply(res, out)
    return results


def _unique_students(pending: list, given: str | None) -> None:
    """Make the student ids of ``pending`` unique per assignment, and say so where two collide.

    An id read from the folder (``zed/hw1.ipynb``, the notebook named after its assignment)
    keeps it; one read from a file name (``mallory/zed.ipynb``: any student can leave such a
    file in their own folder) gets the ``-2`` suffix, whatever order the files come in, and
    both rows note the other file: a classmate's row never silently becomes someone else's file.
    Between two ids read from folders the shallower path wins (``zed/hw1.ipynb`` over
    ``mallory/zed/hw1.ipynb``: a student's files lie inside their own folder, so a file named
    after a classmate's folder is always deeper than that classmate's own).
    """
    def from_folder(item) -> bool:
        res = item[0]
        return Path(res.path).stem == (given or res.assignment)

    def priority(item) -> tuple[bool, int]:  # sorted() is stable: else file order
        return (not from_folder(item), len(Path(os.path.abspath(item[0].path)).parts))

    used: dict[tuple[str, str], SubmissionResult] = {}
    for res, _nb in sorted(pending, key=priority):
        base, student, k = res.student, res.student, 2
        while (res.assignment, student) in used:
            student, k = f"{base}-{k}", k + 1
        if student != base:
            first = used[(res.assignment, base)]
            res.messages.append(f"another file also gives the student id '{base}' ({first.path}); "
                                f"this one was graded as '{student}'")
            first.messages.append(f"another file also gives the student id '{base}' ({res.path}); "
                                  f"it was graded as '{student}'")
        used[(res.assignment, student)] = res
        res.student = student


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)
