"""Show grading results: a per-question table, JSON, a class gradebook CSV, feedback pages."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from grading.autograde import SubmissionResult


def _points(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:g}"


def _printable(text: str) -> str:
    """``text`` with control and format characters written as escapes (``\\x1b``, ``\\u202e``).

    Messages quote what a notebook raised, and file names are the students' own: a terminal
    escape (cursor up, erase line) or a bidirectional override in them would otherwise redraw
    the lines above it, e.g. the score rows of the instructor's table.
    """
    text = str(text)
    if all(unicodedata.category(ch)[0] != "C" for ch in text):
        return text
    return "".join(ch if unicodedata.category(ch)[0] != "C" else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def format_table(results: Sequence[SubmissionResult]) -> str:
    """One block per submission: a row per question, the total, then any problems.

    A manually graded question shows ``-`` until someone grades it in
    nbgrader's formgrader; the total then counts the autograded points only.
    """
    lines: list[str] = []
    for res in results:
        head = f"{res.student}  ({_printable(res.path)})"
        if res.assignment:
            head += f"  assignment {res.assignment}"
        if not res.sandbox:
            head += "  [NOT SANDBOXED: --no-sandbox]"
        lines.append(head)
        if res.status != "graded":
            for msg in res.messages:
                lines.append(f"  ERROR: {_printable(msg)}")
            lines.append("  not graded")
            lines.append("")
            continue
        width = max([len(q.question) for q in res.questions] + [len("question")])
        lines.append(f"  {'question':<{width}}  {'points':>13}  kind")
        for q in res.questions:
            pts = f"{_points(q.score)} / {_points(q.max_score)}"
            lines.append(f"  {q.question:<{width}}  {pts:>13}  {q.kind}")
        total = f"{_points(res.total)} / {_points(res.max_total)}"
        lines.append(f"  {'total':<{width}}  {total:>13}")
        if res.needs_manual_grading:
            lines.append("  (manually graded questions are still to be graded)")
        for msg in res.messages:
            lines.append(f"  note: {_printable(msg)}")
        lines.append("")
    graded = [r for r in results if r.status == "graded"]
    lines.append(
        f"{len(results)} file(s): {len(graded)} graded, {len(results) - len(graded)} not graded"
    )
    if any(not r.sandbox for r in results):
        lines.append("WARNING: graded with --no-sandbox: student code ran without isolation")
    return "\n".join(lines)


def to_json(results: Sequence[SubmissionResult]) -> str:
    """The results as a JSON list (one object per submission, totals included)."""
    return json.dumps([r.to_dict() for r in results], indent=2)


def write_csv(results: Sequence[SubmissionResult], path: str | os.PathLike) -> None:
    """A class gradebook: one row per submission, one column per question.

    Columns: ``student, assignment, file, status``, the questions in notebook
    order, ``total, max_total, sandboxed, messages`` (messages joined with `` | ``).
    """
    questions: list[str] = []
    for res in results:
        for q in res.questions:
            if q.question not in questions:
                questions.append(q.question)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "file", "status", *questions,
                         "total", "max_total", "sandboxed", "messages"])
        for res in results:
            scores = {q.question: q.score for q in res.questions}
            writer.writerow([
                res.student, res.assignment or "", _printable(res.path), res.status,
                *["" if scores.get(name) is None else f"{scores[name]:g}" for name in questions],
                f"{res.total:g}", f"{res.max_total:g}", "yes" if res.sandbox else "NO",
                " | ".join(_printable(m) for m in res.messages),
            ])


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.3em .6em;text-align:left}}
.ok{{color:#176d17}}.bad{{color:#a31515}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def feedback_html(res: SubmissionResult) -> str:
    """One student's feedback page: score per question and why a visible test failed.

    Built only from the result: question ids, points, and the one-line
    message of a failed *visible* test (an assertion message the student can
    read in the released notebook anyway). A failure inside the hidden tests
    shows as "a hidden test failed", with no message and no code. Nothing
    from the hidden tests or the solutions is in the result beyond that. Text
    the notebook itself wrote (its exceptions, a test message quoting its
    values) after a hidden test had run is shown as its type only: hidden
    tests pass their inputs to the student's functions, and such text could
    carry them out.
    """
    esc = html.escape
    title = f"{res.assignment or 'homework'}: feedback for {res.student}"
    parts = []
    if not res.sandbox:
        parts.append("<p><strong>Graded without the sandbox (--no-sandbox).</strong></p>")
    if res.status != "graded":
        parts.append("<p class=bad>This file could not be graded:</p><ul>")
        parts += [f"<li>{esc(m)}</li>" for m in res.messages]
        parts.append("</ul>")
        return _PAGE.format(title=esc(title), body="\n".join(parts))
    parts.append("<table><tr><th>question</th><th>points</th><th>what to look at</th></tr>")
    for q in res.questions:
        if q.kind == "manual":
            note = "graded by hand" if q.score is None else "graded by hand"
        elif q.score == q.max_score:
            note = "<span class=ok>all tests pass</span>"
        elif q.hidden:
            note = "<span class=bad>the visible tests pass, a hidden test failed</span>"
        else:
            text = q.problem if q.feedback is None else q.feedback
            note = f"<span class=bad>{esc(text) or 'a test failed'}</span>"
        pts = f"{_points(q.score)} / {_points(q.max_score)}"
        parts.append(f"<tr><td>{esc(q.question)}</td><td>{esc(pts)}</td><td>{note}</td></tr>")
    parts.append(f"<tr><th>total</th><th>{esc(_points(res.total))} / {esc(_points(res.max_total))}</th><th></th></tr>")
    parts.append("</table>")
    cells = res.feedback_cells if res.feedback_cells is not None else [
        m for m in res.messages if m.startswith("cell ")]
    if cells:
        parts.append("<h2>Cells that raised an error</h2><ul>")
        parts += [f"<li>{esc(m)}</li>" for m in cells]
        parts.append("</ul>")
    return _PAGE.format(title=esc(title), body="\n".join(parts))


def write_feedback(results: Sequence[SubmissionResult], folder: str | os.PathLike) -> list[Path]:
    """Write ``<folder>/<assignment>/<student>.html`` for every result; return the paths."""
    written = []
    for res in results:
        sub = re.sub(r"[^A-Za-z0-9_.-]+", "_", res.assignment or "unknown")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", res.student).strip("._") or "student"
        path = Path(folder) / sub / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(feedback_html(res), encoding="utf-8")
        written.append(path)
    return written
