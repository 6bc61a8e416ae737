"""Homework grading for limelab.

The homework lives in ``solutions/<assignment>/<assignment>.ipynb`` (nbgrader's
source format: solution regions, visible and hidden tests, points). Two
commands:

``python -m grading.generate`` (``make exercises``)
    regenerates ``exercises/`` (what students get) from ``solutions/`` with nbgrader.
``python -m grading SUBMISSION... [--assignment NAME] [--json] [--csv FILE] [--feedback DIR]``
    grades student notebooks (``make grade``): each submission's cells run in a
    bubblewrap sandbox, its tests in a separate trusted process.

The modules: :mod:`grading.course` (assignment names and paths),
:mod:`grading.generate`, :mod:`grading.autograde` (the grading run and its
result dataclasses), :mod:`grading.sandbox` (bubblewrap, limits, what a
submission may import), :mod:`grading._evaluate` (the trusted process that
judges one submission), :mod:`grading._kernel` and :mod:`grading._wire` (the
sandboxed kernel and the plain-data messages across the wall) and
:mod:`grading.report` (table, JSON, CSV, feedback pages).
"""

from grading.course import ASSIGNMENTS

__all__ = ["ASSIGNMENTS"]
