"""``python -m grading SUBMISSION... [--assignment NAME] [--json] [--csv FILE]``.

Autogrades homework notebooks with nbgrader and prints a per-question table
(or JSON). Problems with a submission (not a notebook, an endless loop, an
exception, a crashed kernel, an edited test cell, a renamed file) appear as
lines of the report; the exit status is 0 when every file could be graded
and 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grading.autograde import DEFAULT_TIMEOUT, grade_submissions
from grading.course import SOLUTIONS_DIR
from grading.report import format_table, to_json, write_csv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading",
        description="Grade limelab homework notebooks with nbgrader (offline, temporary gradebook).",
    )
    parser.add_argument("submissions", nargs="+",
                        help="notebooks, or folders of them (searched recursively)")
    parser.add_argument("--assignment", default=None,
                        help="assignment name, when file names and folders do not tell")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--csv", metavar="FILE", default=None,
                        help="also write a class gradebook (one row per submission) to FILE")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help=f"seconds a cell may run before it is stopped (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--jobs", type=int, default=2,
                        help="parallel nbgrader processes (default 2)")
    parser.add_argument("--source", default=str(SOLUTIONS_DIR),
                        help="folder of nbgrader source notebooks (default: solutions/)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        results = grade_submissions(
            args.submissions, args.assignment, timeout=args.timeout, jobs=args.jobs,
            source_root=args.source,
        )
    except ValueError as err:
        parser.error(str(err))
    if args.json:
        print(to_json(results))
    else:
        print(format_table(results))
    if args.csv:
        write_csv(results, args.csv)
        if not args.json:
            print(f"gradebook written to {args.csv}")
    return 0 if all(r.status == "graded" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
