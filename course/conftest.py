"""pytest plugin for running the course notebooks with nbval.

``make test-notebooks`` runs every notebook in ``course/`` as a test file (one test per
code cell). The course promises that each notebook finishes in under 60 s on a 2-core
laptop and all of them together in under 8 minutes, so this plugin adds up, per
notebook, the time pytest spent on each of its cells (setup, call and teardown, which
includes starting the kernel) and prints a table at the end of the run::

    ----------------- course notebook times ------------------
    notebook                            cells   seconds
    01_counterfactuals.ipynb               14      6.2
    ...
    total (15 notebooks)                  201    215.3

It works under pytest-xdist: workers send their test reports to the controller, which
receives them through ``pytest_runtest_logreport`` and prints the table. Nothing here
asserts a time; the numbers are for people (speed goals live in ``benchmarks/``).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

# Over this many seconds a notebook is flagged in the table (the course's per-notebook budget).
NOTEBOOK_BUDGET_SECONDS = 60.0
TOTAL_BUDGET_SECONDS = 8 * 60.0

_seconds: dict[str, float] = defaultdict(float)
_cells: dict[str, set[str]] = defaultdict(set)
_failed: dict[str, int] = defaultdict(int)


def _notebook_of(nodeid: str) -> str | None:
    """``course/01_x.ipynb::Cell 3`` -> ``01_x.ipynb``; None for non-notebook tests."""
    path = nodeid.split("::", 1)[0]
    if not path.endswith(".ipynb"):
        return None
    return path.rsplit("/", 1)[-1]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    notebook = _notebook_of(report.nodeid)
    if notebook is None:
        return
    _seconds[notebook] += float(report.duration)
    _cells[notebook].add(report.nodeid)
    if report.failed:
        _failed[notebook] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if hasattr(config, "workerinput") or not _seconds:  # an xdist worker, or no notebooks ran
        return
    tr = terminalreporter
    tr.write_sep("-", "course notebook times")
    tr.write_line(f"{'notebook':<40} {'cells':>5} {'seconds':>9}")
    for notebook in sorted(_seconds):
        seconds = _seconds[notebook]
        notes = []
        if seconds > NOTEBOOK_BUDGET_SECONDS:
            notes.append(f"over the {NOTEBOOK_BUDGET_SECONDS:.0f} s budget")
        if _failed[notebook]:
            notes.append(f"{_failed[notebook]} failed")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        tr.write_line(f"{notebook:<40} {len(_cells[notebook]):>5} {seconds:>9.1f}{suffix}")
    total = sum(_seconds.values())
    cells = sum(len(c) for c in _cells.values())
    label = f"total ({len(_seconds)} notebooks)"
    over = f"  (over the {TOTAL_BUDGET_SECONDS:.0f} s budget)" if total > TOTAL_BUDGET_SECONDS else ""
    tr.write_line(f"{label:<40} {cells:>5} {total:>9.1f}{over}")
    tr.write_line("(seconds = summed cell times incl. kernel start-up; with -n 2 the wall clock is less)")
