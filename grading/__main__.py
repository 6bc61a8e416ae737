"""``python -m grading SUBMISSION... [--assignment NAME] [--json] [--csv FILE] [--feedback DIR]``.

Grades homework notebooks and prints a per-question table (or JSON). Every
submission runs in its own bubblewrap sandbox and its tests are judged in a
separate trusted process (see :mod:`grading.autograde`). Problems with a
submission (not a notebook, an endless loop, an exception, a crashed kernel,
an edited test cell, a renamed file) appear as lines of the report; the exit
status is 0 when every file could be graded, 1 otherwise, and 2 when the
grader could not run at all (for example when the sandbox cannot start).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grading.autograde import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT, grade_submissions
from grading.course import SOLUTIONS_DIR
from grading.report import format_table, to_json, write_csv, write_feedback
from grading.sandbox import SandboxUnavailable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading",
        description="Grade limelab homework notebooks: each in a sandbox, tests judged outside it.",
    )
    parser.add_argument("submissions", nargs="+",
                        help="notebooks, or folders of them (searched recursively)")
    parser.add_argument("--assignment", default=None,
                        help="assignment name, when the cells, file names and folders do not tell")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--csv", metavar="FILE", default=None,
                        help="also write a class gradebook (one row per submission) to FILE")
    parser.add_argument("--feedback", metavar="DIR", default=None,
                        help="also write one HTML feedback page per student into DIR")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help=f"seconds a cell may run before it is stopped (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--total-timeout", type=int, default=None,
                        help="seconds for a whole submission (default: max(600, 30 x --timeout))")
    parser.add_argument("--memory", type=float, default=DEFAULT_MEMORY_GB, metavar="GB",
                        help=f"memory limit of a submission's kernel in GB (default {DEFAULT_MEMORY_GB:g})")
    parser.add_argument("--jobs", type=int, default=2,
                        help="submissions graded at once on this machine (default 2)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="Dask scheduler address (tcp://host:8786): one task per submission "
                             "on the cluster's workers instead of --jobs here")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run submissions without the bubblewrap sandbox (trusted notebooks "
                             "only; every report row says so)")
    parser.add_argument("--source", default=str(SOLUTIONS_DIR),
                        help="folder of nbgrader source notebooks (default: solutions/)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        results = grade_submissions(
            args.submissions, args.assignment, timeout=args.timeout, jobs=args.jobs,
            source_root=args.source, sandbox=not args.no_sandbox, memory_gb=args.memory,
            total_timeout=args.total_timeout, scheduler=args.scheduler,
        )
    except SandboxUnavailable as err:
        print(f"grading refused: {err}", file=sys.stderr)
        return 2
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
    if args.feedback:
        pages = write_feedback(results, args.feedback)
        if not args.json:
            print(f"{len(pages)} feedback page(s) written to {args.feedback}")
    return 0 if all(r.status == "graded" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
