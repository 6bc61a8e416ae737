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

Run: ``python benchmarks/bench_shapley.py`` (or through the benchmark runner,
which calls ``main()``).
"""

from __future__ import annotations

import logging
import statistics
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
    return rows


if __name__ == "__main__":
    main()
