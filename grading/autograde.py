"""Grade student notebooks with nbgrader in a throw-away course.

One grading run, step by step (``grade_submissions``):

1. every path given is expanded (a folder gives every file inside it) and each
   file is read; a file that is not a valid Jupyter notebook is reported and
   skipped;
2. each notebook is matched to an assignment: ``--assignment``, else its file
   name, else the folder it sits in, else the ``grade_id`` of its cells (so a
   renamed notebook is still recognised; it is graded under the assignment's
   notebook name and the report says so);
3. for each assignment a private temporary folder gets a copy of the source
   notebook from ``solutions/`` and nbgrader's ``generate_assignment`` records
   the cells, points, checksums and hidden tests in a temporary SQLite gradebook;
4. locked cells (tests, instructions) are compared with the released ones: a
   deleted cell is put back, an edited one is reported (nbgrader restores it
   from the gradebook by checksum, so edited tests still count);
5. the submissions are split over ``jobs`` nbgrader ``autograde`` processes
   (each with its own course folder and copy of the gradebook) that execute
   the notebooks with a per-cell timeout, in an empty working folder;
6. scores are read back from the gradebooks, faults from the executed
   notebooks, and everything is returned as :class:`SubmissionResult`.

Threat model: a submission cannot find the hidden tests or the solutions in
what it is given (its working folder is empty, the exercises contain neither,
the notebook with hidden tests is only written to disk after its code has
run; the gradebook lives in a separate private temporary folder, deleted
afterwards). It runs as the grading user in the same kernel as the tests,
though: code written to search the whole file system or the process table
while it is graded could find the temporary gradebook (or the repository's
``solutions/`` when grading from a checkout), and code can inspect the source
of the test cell that calls it. Grade untrusted work in a container or under a
separate user account that cannot read the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grading.course import SOLUTIONS_DIR, nbgrader_env
from grading.execute import KERNEL_DIED, NOT_RUN

DEFAULT_TIMEOUT = 60
TIMEOUT_NAMES = ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError")


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


@dataclass
class SubmissionResult:
    """Everything the grader learned about one submitted file."""

    path: str
    student: str
    assignment: str | None
    status: str  # "graded" or "error"
    questions: list[QuestionResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

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
    """Files to grade: the paths given, with every folder replaced by its files."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(
                    part.startswith(".") for part in f.relative_to(p).parts
                ):
                    files.append(f)
        else:
            files.append(p)
    return files


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
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise ValueError("not a notebook: JSON without 'cells' and 'nbformat'")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several validation error types
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"not a valid notebook: {message}") from err
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


def identify_assignment(path: Path, nb, source_root: Path = SOLUTIONS_DIR) -> str | None:
    """Which assignment a submission belongs to, or None.

    Tried in order: the file name, the names of the enclosing folders, and the
    ``grade_id`` of the notebook's cells compared with each source notebook.
    """
    import nbformat

    known = available_assignments(source_root)
    if path.stem in known:
        return path.stem
    for parent in path.resolve().parents:
        if parent.name in known:
            return parent.name
    ids = _grade_ids(nb)
    best, best_overlap = None, 0
    for name in known:
        source_ids = _grade_ids(nbformat.read(Path(source_root) / name / f"{name}.ipynb", 4))
        overlap = len(ids & source_ids)
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    return best


def student_name(path: Path, assignment: str | None) -> str:
    """A student id from a path: ``alice/hw1.ipynb`` and ``alice.ipynb`` both give ``alice``."""
    name = path.stem
    if assignment is not None and name == assignment:
        for parent in path.resolve().parents:
            if parent.name and parent.name != assignment:
                name = parent.name
                break
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "student"
    return name


# ----------------------------------------------------------------------------
# step 4: locked cells


def _locked_cells(nb) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked", False)]


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
# steps 3, 5, 6: nbgrader


@dataclass
class _Pending:
    result: SubmissionResult
    nb: object


def _generate(assignment: str, source_root: Path, private: Path, db: Path) -> tuple[object, object]:
    """Generate the assignment in ``private``, recording it in the gradebook ``db``.

    Returns the released notebook and the source notebook.
    """
    import nbformat

    from grading.generate import generate_assignment

    src = private / "source"
    (src / assignment).mkdir(parents=True)
    private.chmod(0o700)
    shutil.copy2(Path(source_root) / assignment / f"{assignment}.ipynb", src / assignment)
    out = generate_assignment(assignment, src, private / "release", db)
    return nbformat.read(out, 4), nbformat.read(src / assignment / f"{assignment}.ipynb", 4)


def _run_worker(course: Path, db: Path, assignment: str, timeout: int, log: Path) -> int:
    spec = course.parent / f"{course.name}.json"
    spec.write_text(json.dumps(
        {"root": str(course), "db": str(db), "assignment": assignment, "timeout": timeout}
    ))
    with open(log, "w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "grading._worker", str(spec)],
            stdout=fh, stderr=subprocess.STDOUT, env=nbgrader_env(),
            cwd=str(course.parent), check=False,
        )
    return proc.returncode


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _cell_faults(executed, timeout: int) -> dict[str, str]:
    """For every graded or answer cell of an executed notebook, what went wrong (if anything)."""
    faults: dict[str, str] = {}
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index + 1}")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                ename, evalue = out.get("ename", ""), out.get("evalue", "")
                if ename in TIMEOUT_NAMES:
                    text = f"timed out after {timeout} s and was stopped (an endless loop?)"
                elif ename == KERNEL_DIED:
                    text = "the kernel crashed (the Python process exited) while running this cell"
                elif ename == NOT_RUN:
                    text = "not run: the kernel crashed in an earlier cell"
                else:
                    text = f"{ename}: {_first_line(evalue)}" if evalue else ename
                faults[gid] = text
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                if cell.metadata.get("nbgrader", {}).get("grade"):
                    faults.setdefault(gid, f"wrote to stderr: {_first_line(out.get('text', ''))}")
    return faults


def _collect(course: Path, db: Path, assignment: str, pending: dict[str, _Pending],
             timeout: int, log_text: str, manual_ids: set[str]) -> None:
    """Read scores and faults of every student graded in ``course``."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}", "limelab") as gb:
        for student, item in pending.items():
            res = item.result
            executed_path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
            if not executed_path.is_file():
                res.status = "error"
                res.messages.append(
                    "nbgrader could not grade this notebook: "
                    + _worker_reason(log_text)
                )
                continue
            executed = nbformat.read(executed_path, 4)
            faults = _cell_faults(executed, timeout)
            try:
                nb_sub = gb.find_submission_notebook(assignment, assignment, student)
            except MissingEntry:
                res.status = "error"
                res.messages.append("nbgrader stored no grades for this notebook")
                continue
            order = {
                c.metadata.get("nbgrader", {}).get("grade_id"): i
                for i, c in enumerate(executed.cells)
            }
            grades = sorted(nb_sub.grades, key=lambda g: order.get(g.name, 10**6))
            for g in grades:
                if g.manual_score is not None:
                    score = float(g.manual_score)
                elif g.auto_score is not None and not g.needs_manual_grade:
                    score = float(g.auto_score)
                else:
                    score = None
                kind = "manual" if g.name in manual_ids else "auto"
                res.questions.append(QuestionResult(
                    question=g.name, score=score, max_score=float(g.max_score),
                    kind=kind, problem=faults.get(g.name, ""),
                ))
            graded_ids = {g.name for g in grades}
            for gid, text in faults.items():
                if gid in graded_ids:
                    res.messages.append(f"question '{gid}': {text}")
                else:
                    res.messages.append(f"cell '{gid}': {text}")
            res.status = "graded"


def _worker_reason(log_text: str) -> str:
    """A one-line reason from nbgrader's log for a notebook it gave up on."""
    if "kernel became unresponsive" in log_text:
        return "the kernel became unresponsive and could not be interrupted"
    errors = [line.strip() for line in log_text.splitlines()
              if line.strip() and ("Error" in line or "error" in line)
              and "SAWarning" not in line]
    return _first_line(errors[-1]) if errors else "no reason given in nbgrader's log"


def _chunk_count(n_items: int, n_assignments: int, jobs: int) -> int:
    """How many autograde processes share one assignment's submissions.

    Each process costs a few seconds to start, so a handful of notebooks go to
    one process; with a single assignment the submissions are split over all
    ``jobs`` processes.
    """
    if n_assignments == 1:
        return max(1, min(jobs, n_items))
    return max(1, min(jobs, n_items // 4))


def _prepare_assignment(assignment: str, items: list[_Pending], source_root: Path,
                        private: Path, db: Path, n_chunks: int) -> list[tuple]:
    """Generate ``assignment`` into the gradebook ``db``, check locked cells, lay out
    the chunk courses.

    Returns one ``(course, gradebook, assignment, chunk, manual_ids)`` per chunk;
    each chunk's gradebook is a copy of ``db`` made once every assignment is in it.
    """
    import nbformat

    release, source = _generate(assignment, source_root, private / assignment, db)
    # the source and release copies are not needed any more: remove them so no
    # file with hidden tests stays next to the courses the students' code runs in
    shutil.rmtree(private / assignment / "source")
    shutil.rmtree(private / assignment / "release")
    manual_ids = {
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        and c.metadata["nbgrader"].get("solution")
    }
    for item in items:
        item.result.messages.extend(restore_locked_cells(item.nb, release, source))
    tasks = []
    for k in range(n_chunks):
        chunk = items[k::n_chunks]
        if not chunk:
            continue
        course = private / assignment / f"course{k}"
        chunk_db = private / assignment / f"gradebook{k}.db"
        for item in chunk:
            target = course / "submitted" / item.result.student / assignment
            target.mkdir(parents=True)
            nbformat.write(item.nb, target / f"{assignment}.ipynb")
        tasks.append((course, chunk_db, assignment, chunk, manual_ids))
    return tasks


def _run_task(task: tuple, timeout: int) -> None:
    course, chunk_db, assignment, chunk, manual_ids = task
    log = course.parent / f"{course.name}.log"
    _run_worker(course, chunk_db, assignment, timeout, log)
    log_text = log.read_text(errors="replace")
    _collect(course, chunk_db, assignment, {it.result.student: it for it in chunk},
             timeout, log_text, manual_ids)


def _grade_all(by_assignment: dict[str, list[_Pending]], source_root: Path,
               timeout: int, jobs: int) -> None:
    """Generate every assignment, then run all autograde processes, ``jobs`` at a time."""
    private = Path(tempfile.mkdtemp(prefix="limelab-grade-"))
    os.chmod(private, 0o700)
    try:
        tasks = []
        db = private / "gradebook.db"  # one gradebook for all assignments: one schema set-up
        for name, items in by_assignment.items():
            n_chunks = _chunk_count(len(items), len(by_assignment), jobs)
            tasks.extend(_prepare_assignment(name, items, source_root, private, db, n_chunks))
        for task in tasks:
            shutil.copy2(db, task[1])
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(tasks)))) as pool:
            for future in [pool.submit(_run_task, t, timeout) for t in tasks]:
                future.result()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def grade_submissions(
    submissions: Sequence[str | os.PathLike],
    assignment: str | None = None,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    jobs: int = 2,
    source_root: str | os.PathLike = SOLUTIONS_DIR,
) -> list[SubmissionResult]:
    """Autograde notebooks with nbgrader and report per-question scores.

    Parameters
    ----------
    submissions : sequence of paths
        Notebooks, or folders searched recursively for files to grade.
    assignment : str, optional
        The assignment, for submissions whose name, folder and cells do not tell.
    timeout : int
        Seconds a single cell may run before it is interrupted (that question
        scores 0; the rest of the notebook is still graded).
    jobs : int
        Parallel nbgrader processes (each grades a share of the submissions).
    source_root : path
        Folder with the source notebooks (default ``solutions/``).

    Returns
    -------
    list of SubmissionResult, in the order the files were found.
    """
    source_root = Path(source_root)
    if isinstance(submissions, (str, os.PathLike)):
        submissions = [submissions]
    if assignment is not None and assignment not in available_assignments(source_root):
        raise ValueError(
            f"assignment must be one of {', '.join(available_assignments(source_root))}, "
            f"got {assignment!r}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout must be a positive int (seconds), got {timeout!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")

    results: list[SubmissionResult] = []
    by_assignment: dict[str, list[_Pending]] = {}
    used: set[tuple[str, str]] = set()
    for path in _expand(submissions):
        res = SubmissionResult(path=str(path), student=path.stem, assignment=None, status="error")
        results.append(res)
        try:
            nb = read_notebook(path)
        except ValueError as err:
            res.messages.append(str(err))
            continue
        name = assignment or identify_assignment(path, nb, source_root)
        if name is None:
            res.messages.append(
                "cannot tell which assignment this is (file name, folder and cells match "
                "none); pass --assignment NAME"
            )
            continue
        res.assignment = name
        student = student_name(path, name)
        base, k = student, 2
        while (name, student) in used:
            student, k = f"{base}-{k}", k + 1
        used.add((name, student))
        res.student = student
        if path.stem != name:
            res.messages.append(
                f"the notebook is named '{path.name}', not '{name}.ipynb'; "
                f"it was graded as {name}.ipynb"
            )
        by_assignment.setdefault(name, []).append(_Pending(res, nb))

    if by_assignment:
        _grade_all(by_assignment, source_root, timeout, jobs)
    return results
