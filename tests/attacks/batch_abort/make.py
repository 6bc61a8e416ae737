"""Files that ended the whole grading run (every classmate "not graded", a traceback):

* ``deep.ipynb``: 200 kB of nested brackets, ``json.loads`` raises RecursionError, which
  read_notebook did not catch;
* ``meta_<kind>.ipynb``: the exercise with one cell's ``metadata.nbgrader`` set to a string,
  a list, None, or a ``grade_id`` that is a list or a dict; nbformat validates them, and
  ``_grade_ids`` / ``plan_cells`` then raise AttributeError or TypeError for the whole run.

    python tests/attacks/batch_abort/make.py SUBS/mallory
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HW = "hw1_lime_from_scratch"
BAD = {"str": "x", "list": ["grade_id"], "none": None}
BAD_ID = {"list_id": ["a"], "dict_id": {"a": 1}}


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "deep.ipynb").write_text('{"nbformat": 4, "cells": ' + "[" * 100000 + "]" * 100000 + "}")
    src = json.loads((ROOT / "exercises" / HW / f"{HW}.ipynb").read_text())
    for kind, value in {**BAD, **BAD_ID}.items():
        nb = json.loads(json.dumps(src))
        cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "hw1_q1_kernel")
        if kind in BAD:
            cell["metadata"]["nbgrader"] = value
        else:
            cell["metadata"]["nbgrader"]["grade_id"] = value
        (out / f"meta_{kind}.ipynb").write_text(json.dumps(nb))


if __name__ == "__main__":
    main(sys.argv[1])
