"""``--scheduler``: the same grading through a two-worker Dask LocalCluster, identical results."""

from __future__ import annotations

import copy

import nbformat
import pytest

from grading.autograde import grade_submissions
from grading.course import EXERCISES_DIR, SOLUTIONS_DIR

pytestmark = pytest.mark.slow
NAME = "hw6_evaluation"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    solution = nbformat.read(SOLUTIONS_DIR / NAME / f"{NAME}.ipynb", 4)
    exercise = nbformat.read(EXERCISES_DIR / NAME / f"{NAME}.ipynb", 4)
    half = copy.deepcopy(exercise)
    for cell, src in zip(half.cells, solution.cells, strict=True):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "hw6_q2_recall":
            cell.source = "\n".join(l for l in src.source.splitlines() if "SOLUTION" not in l)
    for student, nb in (("ann", solution), ("ben", exercise), ("cy", half)):
        (root / student).mkdir()
        nbformat.write(nb, root / student / f"{NAME}.ipynb")
    return root


def _summary(results):
    return [(r.student, r.status, [(q.question, q.score, q.problem) for q in r.questions], r.messages)
            for r in results]


def test_local_cluster_gives_the_same_results_as_jobs(klass):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_cluster = grade_submissions([klass], timeout=60, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            workers = client.scheduler_info()["workers"]
            assert len(workers) == 2
    here = grade_submissions([klass], timeout=60, jobs=2)
    assert _summary(on_cluster) == _summary(here)
    totals = {r.student: r.auto_total for r in here}
    assert totals == {"ann": 11.0, "ben": 0.0, "cy": 2.0}
