"""Run nbgrader ``autograde`` for one temporary course (a subprocess of :mod:`grading.autograde`).

Usage: ``python -m grading._worker SPEC.json`` where the JSON gives ``root``
(the course directory with ``submitted/``), ``db`` (the gradebook file),
``assignment`` and ``timeout`` (seconds per cell).

The whole grading of a notebook happens in one pass, in memory: nbgrader's
usual autograde writes the sanitised notebook, hidden tests included, to disk
before it executes it; here the notebook reaches disk only after the student's
code has finished.
"""

from __future__ import annotations

import json
import logging
import os
import sys


def run(spec: dict) -> int:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )
    from traitlets.config import Config

    from grading.execute import SandboxedExecute

    c = Config()
    c.CourseDirectory.root = spec["root"]
    c.CourseDirectory.db_url = f"sqlite:///{spec['db']}"
    c.CourseDirectory.course_id = "limelab"
    c.CourseDirectory.assignment_id = spec["assignment"]
    c.CourseDirectory.student_id = "*"
    c.Autograde.force = True
    c.Autograde.create_student = True
    c.SandboxedExecute.timeout = int(spec["timeout"])
    c.SandboxedExecute.interrupt_on_timeout = True
    c.SandboxedExecute.startup_timeout = 60
    c.Autograde.sanitize_preprocessors = [
        ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
        SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = []
    coursedir = CourseDirectory(config=c)
    converter = Autograde(coursedir=coursedir, config=c)
    converter.log.setLevel(logging.WARNING)
    try:
        converter.start()
    except NbGraderException:
        return 1
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0]) as fh:
        spec = json.load(fh)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return run(spec)


if __name__ == "__main__":
    raise SystemExit(main())
