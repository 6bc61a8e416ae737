"""Regenerate the student notebooks in ``exercises/`` from ``solutions/``.

``python -m grading.generate`` (what ``make exercises`` runs) calls nbgrader's
``generate_assignment`` for every assignment: solution regions become
``# YOUR CODE HERE`` / ``raise NotImplementedError()``, hidden tests are
removed, read-only and test cells are locked and checksummed. The gradebook
it needs is a throw-away SQLite file in a temporary directory, so nothing but
``exercises/`` changes in the repository.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grading.course import ASSIGNMENTS, EXERCISES_DIR, SOLUTIONS_DIR, check_assignment


def _put_bin_on_path() -> None:
    """nbgrader runs ``alembic``; make sure this interpreter's ``bin/`` is found first."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if not path.startswith(bindir + os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path


def nbgrader_config(root: Path, source: Path, release: Path, db_path: Path):
    """A traitlets ``Config`` for an nbgrader course rooted at ``root``.

    ``source`` and ``release`` are absolute, so they may live outside ``root``.
    """
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = str(source)
    c.CourseDirectory.release_directory = str(release)
    c.CourseDirectory.db_url = f"sqlite:///{db_path}"
    c.CourseDirectory.course_id = "limelab"
    c.GenerateAssignment.force = True
    c.GenerateAssignment.create_assignment = True
    return c


def generate_assignment(assignment: str, source: Path, release: Path, db_path: Path) -> Path:
    """Run nbgrader ``generate_assignment`` for one assignment.

    Parameters
    ----------
    assignment : str
        One of :data:`grading.course.ASSIGNMENTS`.
    source : Path
        Folder holding ``<assignment>/<assignment>.ipynb`` (nbgrader source format).
    release : Path
        Folder that receives ``<assignment>/<assignment>.ipynb`` for students.
    db_path : Path
        SQLite gradebook that records the assignment, its cells and checksums
        (including the hidden tests, which is why it must never be shipped).

    Returns
    -------
    Path of the generated notebook.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    _put_bin_on_path()
    source, release = Path(source).resolve(), Path(release).resolve()
    if not (source / assignment / f"{assignment}.ipynb").is_file():
        raise FileNotFoundError(f"source notebook {source / assignment / (assignment + '.ipynb')} is missing")
    config = nbgrader_config(source.parent, source, release, Path(db_path).resolve())
    config.CourseDirectory.assignment_id = assignment
    coursedir = CourseDirectory(config=config)
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.log.setLevel(logging.WARNING)
    converter.start()
    out = release / assignment / f"{assignment}.ipynb"
    if not out.is_file():
        raise RuntimeError(f"nbgrader did not write {out}")
    return out


def generate_exercises(
    assignments: Sequence[str] = ASSIGNMENTS,
    source: Path = SOLUTIONS_DIR,
    release: Path = EXERCISES_DIR,
) -> list[Path]:
    """Regenerate ``release/<assignment>/`` for every assignment whose source exists.

    The gradebook is a temporary file, deleted afterwards. Old contents of each
    ``release/<assignment>/`` folder are replaced.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    written = []
    with tempfile.TemporaryDirectory(prefix="limelab-generate-") as tmp:
        db = Path(tmp) / "gradebook.db"
        staging = Path(tmp) / "release"
        for assignment in assignments:
            if not (Path(source) / assignment / f"{assignment}.ipynb").is_file():
                continue
            # generate into a staging folder; replace the old exercise only on success
            generate_assignment(assignment, Path(source), staging, db)
            target = Path(release) / assignment
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staging / assignment, target)
            written.append(target / f"{assignment}.ipynb")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading.generate",
        description="Regenerate exercises/ (student notebooks) from solutions/ with nbgrader.",
    )
    parser.add_argument("assignments", nargs="*", help="assignments to regenerate (default: all)")
    parser.add_argument("--release", type=Path, default=EXERCISES_DIR,
                        help="output folder (default: exercises/)")
    args = parser.parse_args(argv)
    try:
        names = [check_assignment(a) for a in args.assignments] or list(ASSIGNMENTS)
    except ValueError as err:
        parser.error(str(err))
    for path in generate_exercises(names, SOLUTIONS_DIR, args.release):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
