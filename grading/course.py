"""Names and places shared by generation and grading.

nbgrader's course directory is the repository root with
``source_directory = "solutions"`` and ``release_directory = "exercises"``
(see ``nbgrader_config.py`` and DESIGN.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"

ASSIGNMENTS: tuple[str, ...] = (
    "hw1_lime_from_scratch",
    "hw2_integrated_gradients",
    "hw3_shapley",
    "hw4_axioms",
    "hw5_sanity_checks",
    "hw6_evaluation",
    "hw7_explain_your_model",
)


def check_assignment(name: str) -> str:
    """Raise ``ValueError`` unless ``name`` is one of :data:`ASSIGNMENTS`."""
    if name not in ASSIGNMENTS:
        raise ValueError(
            f"assignment must be one of {', '.join(ASSIGNMENTS)}, got {name!r}"
        )
    return name


def nbgrader_env() -> dict[str, str]:
    """Environment for an nbgrader subprocess.

    nbgrader runs the ``alembic`` program and starts ``python`` kernels, so
    the interpreter's ``bin/`` goes first on ``PATH``; BLAS and torch get one
    thread each so two graders can share a two-core laptop.
    """
    env = dict(os.environ)
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env
