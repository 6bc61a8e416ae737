"""Homework grading for limelab, built on nbgrader.

The homework lives in ``solutions/<assignment>/<assignment>.ipynb`` (nbgrader's
source format: solution regions, visible and hidden tests, points). Two
commands wrap nbgrader:

``python -m grading.generate`` (``make exercises``)
    regenerates ``exercises/`` (what students get) from ``solutions/``.
``python -m grading SUBMISSION... [--assignment NAME] [--json] [--csv FILE]`` (``make grade``)
    autogrades student notebooks in a temporary nbgrader course and prints a
    per-question table and the total.

The modules: :mod:`grading.course` (assignment names and paths),
:mod:`grading.generate`, :mod:`grading.autograde` (the grading run and its
result dataclasses), :mod:`grading.report` (table, JSON, CSV) and
:mod:`grading.execute` (the sandboxed execute step handed to nbgrader).
"""

from grading.course import ASSIGNMENTS

__all__ = ["ASSIGNMENTS"]
