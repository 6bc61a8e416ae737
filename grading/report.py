"""Show grading results: a per-question table, JSON, and a class gradebook CSV."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence

from grading.autograde import SubmissionResult


def _points(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:g}"


def format_table(results: Sequence[SubmissionResult]) -> str:
    """One block per submission: a row per question, the total, then any problems.

    A manually graded question shows ``-`` until someone grades it in
    nbgrader's formgrader; the total then counts the autograded points only.
    """
    lines: list[str] = []
    for res in results:
        head = f"{res.student}  ({res.path})"
        if res.assignment:
            head += f"  assignment {res.assignment}"
        lines.append(head)
        if res.status != "graded":
            for msg in res.messages:
                lines.append(f"  ERROR: {msg}")
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
            lines.append(f"  note: {msg}")
        lines.append("")
    graded = [r for r in results if r.status == "graded"]
    lines.append(
        f"{len(results)} file(s): {len(graded)} graded, {len(results) - len(graded)} not graded"
    )
    return "\n".join(lines)


def to_json(results: Sequence[SubmissionResult]) -> str:
    """The results as a JSON list (one object per submission, totals included)."""
    return json.dumps([r.to_dict() for r in results], indent=2)


def write_csv(results: Sequence[SubmissionResult], path: str | os.PathLike) -> None:
    """A class gradebook: one row per submission, one column per question.

    Columns: ``student, assignment, file, status``, the questions in notebook
    order, ``total, max_total, messages`` (messages joined with `` | ``).
    """
    questions: list[str] = []
    for res in results:
        for q in res.questions:
            if q.question not in questions:
                questions.append(q.question)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "file", "status", *questions,
                         "total", "max_total", "messages"])
        for res in results:
            scores = {q.question: q.score for q in res.questions}
            writer.writerow([
                res.student, res.assignment or "", res.path, res.status,
                *["" if scores.get(name) is None else f"{scores[name]:g}" for name in questions],
                f"{res.total:g}", f"{res.max_total:g}", " | ".join(res.messages),
            ])
