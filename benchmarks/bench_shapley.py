"""Benchmark: KernelSHAP error versus budget, beside shap's KernelExplainer.

Both estimate the Shapley values of the same marginal game
``v(S) = E_b[f(x_S u b_Sbar)]`` (20-row background) for a small nonlinear
model; the truth comes from ``lime_core.shapley.shapley_exact``. The budget is
counted in coalitions, like shap's ``nsamples`` (each coalition costs one model
row per background row). The error is the Euclidean norm ``||phi_hat - phi||``,
averaged over seeds; shap's sampler uses the global numpy RNG, so it is seeded
with ``np.random.seed`` here (state restored afterwards). Times are medians per
explanation, ours with the default 100 bootstrap replicates for the standard
errors and without them (``num_bootstrap=2``).

The scale rows (``scale_rows``, issue 13): ``kernel_shap`` at d = 100 with 10^4, 10^5
(and, with ``--big``, 10^6) coalitions, 10 background rows, beside shap's
``KernelExplainer`` where it finishes in reasonable time. Each run is a fresh
subprocess: peak memory is its ``ru_maxrss`` minus the same process's right after the
imports, time is wall-clock of the explanation alone. Both libraries run one after the
other in the same session, so their ratio is fair even on a loaded machine.

Run: ``python benchmarks/bench_shapley.py`` (or through the benchmark runner,
which calls ``main()``); ``python benchmarks/bench_shapley.py --scale [--big]`` runs the
scale rows alone.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np


def _problem(d: int, n_background: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    w = rng.normal(size=d)

    def f(X):
        return np.tanh(X @ W) @ w + X[:, 0] * X[:, 1]

    return f, rng.normal(size=d), rng.normal(size=(n_background, d))


def _shap_values(explainer, x, budget, seed, **kwargs):
    state = np.random.get_state()  # noqa: NPY002 (shap has no seed argument)
    try:
        np.random.seed(seed)  # noqa: NPY002
        phi = explainer.shap_values(x[None], nsamples=budget, silent=True, **kwargs)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return np.asarray(phi, dtype=float).ravel()


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _scale_problem(d: int, n_background: int = 10, seed: int = 0):
    """A model that costs O(d) per row (the explainer, not the model, is measured)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d) / np.sqrt(d)

    def f(X):
        return np.tanh(X @ w) + 0.5 * X[:, 0] * X[:, 1]

    return f, rng.normal(size=d), rng.normal(size=(n_background, d))


def _scale_worker(library: str, d: int, budget: int) -> dict:
    """One explanation in this process: peak memory above the imports, and time."""
    import resource

    if library == "shap":
        import shap

        logging.getLogger("shap").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")
    else:
        from lime_core.shapley import kernel_shap
    f, x, bg = _scale_problem(d)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if library == "shap":
        np.random.seed(0)  # noqa: NPY002 (shap has no seed argument)
        explainer = shap.KernelExplainer(f, bg)
        phi = np.asarray(explainer.shap_values(x[None], nsamples=budget, l1_reg=False,
                                               silent=True), dtype=float).ravel()
    else:
        phi = kernel_shap(f, x, bg, budget, random_state=0).values
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"library": library, "d": d, "budget": budget, "seconds": seconds,
            "peak_mb": (peak - before) / 1024, "rss_mb": peak / 1024,
            "efficiency_gap": float(abs(phi.sum() - (f(x[None])[0] - f(bg).mean())))}


def _run_worker(library: str, d: int, budget: int, timeout: float = 1200) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", library, str(d), str(budget)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"library": library, "d": d, "budget": budget, "seconds": float("inf"),
                "peak_mb": float("nan"), "note": f"over {timeout:.0f} s"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale_rows(big: bool = False) -> list[dict]:
    """kernel_shap at d = 100 and 10^4 / 10^5 (/ 10^6) coalitions beside shap: memory, time."""
    rows = []
    runs = [("lime_core", 10_000), ("shap", 10_000), ("lime_core", 100_000), ("shap", 100_000)]
    if big:
        runs.append(("lime_core", 1_000_000))
    for library, budget in runs:
        row = _run_worker(library, 100, budget)
        rows.append(row)
        print(f"d=100 budget={budget:8d}  {library:9s}  peak {row['peak_mb']:8.0f} MB above "
              f"imports  time {row['seconds']:7.1f} s", flush=True)
    return rows


def main(seeds: int = 10) -> list[dict]:
    """Print and return rows ``(d, budget, error ours, error shap, times)``."""
    import shap

    from lime_core.shapley import kernel_shap, marginal_value_fn, shapley_exact

    warnings.filterwarnings("ignore")
    logging.getLogger("shap").setLevel(logging.ERROR)
    rows = []
    for d, budgets in ((10, (100, 300, 1000)), (16, (100, 300, 1000, 3000))):
        f, x, bg = _problem(d)
        exact = shapley_exact(marginal_value_fn(f, x, bg), d).values
        explainer = shap.KernelExplainer(f, bg)
        for budget in budgets:
            err_ours, err_shap, err_plain, t_ours, t_fast, t_shap = [], [], [], [], [], []
            for s in range(seeds):
                res, t = _timed(kernel_shap, f, x, bg, budget, random_state=s)
                err_ours.append(np.linalg.norm(res.values - exact))
                t_ours.append(t)
                _, t = _timed(kernel_shap, f, x, bg, budget, random_state=s,
                              num_bootstrap=2)
                t_fast.append(t)
                phi, t = _timed(_shap_values, explainer, x, budget, s)
                err_shap.append(np.linalg.norm(phi - exact))
                t_shap.append(t)
                phi = _shap_values(explainer, x, budget, s, l1_reg=False)
                err_plain.append(np.linalg.norm(phi - exact))
            row = {
                "d": d, "budget": budget,
                "error_ours": float(np.mean(err_ours)), "error_shap": float(np.mean(err_shap)),
                "error_shap_no_l1": float(np.mean(err_plain)),
                "time_ours_ms": 1000 * statistics.median(t_ours),
                "time_ours_no_bootstrap_ms": 1000 * statistics.median(t_fast),
                "time_shap_ms": 1000 * statistics.median(t_shap),
            }
            rows.append(row)
            print(f"d={d:2d} budget={budget:5d}  error ours {row['error_ours']:.4f}  "
                  f"shap {row['error_shap']:.4f} (l1_reg=False {row['error_shap_no_l1']:.4f})  |  time ours {row['time_ours_ms']:.1f} ms "
                  f"(no bootstrap {row['time_ours_no_bootstrap_ms']:.1f} ms)  "
                  f"shap {row['time_shap_ms']:.1f} ms")
    return rows + scale_rows()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(_scale_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--scale":
        scale_rows(big="--big" in sys.argv)
    else:
        main()
