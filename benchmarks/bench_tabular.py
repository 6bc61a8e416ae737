"""Tabular LIME against lime 0.2.0.1, side by side, for every sampling mode; and the
mask sampler's memory and time at a text-sized problem.

(a) breast cancer (569 x 30), 5000 samples, a near-free linear classifier (so the
    explainers' own work is what is timed): ``explain_tabular`` with ``sampling=
    "quartile" | "decile" | "entropy" | "gaussian"`` (around the training mean, lime's
    default, and around the instance) against ``LimeTabularExplainer`` with the matching
    ``discretizer`` / ``discretize_continuous=False`` / ``sample_around_instance``
    (explainer construction included on both sides: it is where the bins are learnt);
(b) the same table times 1e200: lime sends NaN rows to the model or fails; lime_core's
    weights equal the unscaled ones (scale invariance of the binning);
(c) ``sample_masks(6000, 5000, scheme="uniform_count")`` (a 6,000-distinct-word text):
    the previous one-shot double argsort against the chunked one-sort sampler, time and
    peak traced memory (tracemalloc), same masks.

Contenders are timed round by round (best of the rounds). Run with
``python -m benchmarks tabular``; record the printed numbers with the machine's load.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np

from benchmarks.bench_lime import interleaved
from lime_core.lime_tabular import explain_tabular
from lime_core.sampling import sample_masks

N = 5000
MODES = {  # ours -> lime's keyword arguments
    "quartile": ({"sampling": "quartile"}, {"discretizer": "quartile"}),
    "decile": ({"sampling": "decile"}, {"discretizer": "decile"}),
    "entropy": ({"sampling": "entropy"}, {"discretizer": "entropy"}),
    "gaussian, mean": ({"sampling": "gaussian"}, {"discretize_continuous": False}),
    "gaussian, instance": ({"sampling": "gaussian", "sample_around_instance": True},
                           {"discretize_continuous": False, "sample_around_instance": True}),
}


def _table():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X, y = data.data, data.target
    coef = np.random.default_rng(0).normal(size=X.shape[1]) / X.std(axis=0)

    def classifier_fn(A):
        p = 1 / (1 + np.exp(-np.clip((A - X.mean(axis=0)) @ coef, -50, 50)))
        return np.column_stack([1 - p, p])

    return X, y, list(data.feature_names), classifier_fn


def bench_modes() -> dict[str, tuple[float, float]]:
    from lime.lime_tabular import LimeTabularExplainer

    X, y, names, fn = _table()
    out = {}
    for mode, (ours_kw, lime_kw) in MODES.items():
        def run_lime(lime_kw=lime_kw):
            explainer = LimeTabularExplainer(X, training_labels=y, feature_names=names, random_state=0,
                                             **lime_kw)
            explainer.explain_instance(X[0], fn, num_features=10, num_samples=N)

        def run_ours(ours_kw=ours_kw):
            explain_tabular(X[0], fn, X, feature_names=names, training_labels=y, num_features=10,
                            num_samples=N, random_state=0, **ours_kw)

        best = interleaved({"lime": run_lime, "ours": run_ours}, repeats=3)
        out[mode] = (best["lime"], best["ours"])
    return out


def bench_huge() -> str:
    from lime.lime_tabular import LimeTabularExplainer

    X, y, names, fn = _table()
    scale = 1e200
    sent_nan = []

    def scaled_fn(A):
        sent_nan.append(bool(np.isnan(A).any()))
        return fn(np.nan_to_num(A) / scale)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LimeTabularExplainer(X * scale, random_state=0).explain_instance(
                X[0] * scale, scaled_fn, num_samples=500)
        lime_says = f"ran, NaN rows sent to the model: {any(sent_nan)}"
    except Exception as err:  # lime's own failure is the measurement
        lime_says = f"{type(err).__name__}: {str(err)[:60]}"
    plain = explain_tabular(X[0], fn, X, num_samples=500, random_state=0)
    huge = explain_tabular(X[0] * scale, lambda A: fn(A / scale), X * scale, num_samples=500, random_state=0)
    gap = max(abs(a - b) for a, b in zip(plain.fits[plain.labels[0]].coef, huge.fits[huge.labels[0]].coef,
                                         strict=True))
    return f"lime: {lime_says}; lime_core: max |weight difference| to the unscaled table {gap:.2e}"


def _double_argsort_masks(d, n, seed):
    """The sampler before chunking (one-shot double argsort), for comparison."""
    rng = np.random.default_rng(seed)
    removed = rng.integers(1, d + 1, size=n)
    masks = np.argsort(np.argsort(rng.random((n, d)), axis=1), axis=1) >= removed[:, None]
    masks[0] = True
    return masks


def _peak(fn):
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak


def bench_masks(d: int = 6000, n: int = 5000) -> dict[str, float]:
    best = interleaved({"old": lambda: _double_argsort_masks(d, n, 0),
                        "new": lambda: sample_masks(d, n, random_state=0, scheme="uniform_count")},
                       repeats=2)
    old, old_peak = _peak(lambda: _double_argsort_masks(d, n, 0))
    new, new_peak = _peak(lambda: sample_masks(d, n, random_state=0, scheme="uniform_count"))
    assert np.array_equal(old, new)
    return {"old_s": best["old"], "new_s": best["new"], "old_mb": old_peak / 1e6, "new_mb": new_peak / 1e6}


def main() -> dict:
    modes = bench_modes()
    print(f"(a) breast cancer 569x30, {N} samples, near-free classifier (explainer construction included):")
    for mode, (lime_s, ours_s) in modes.items():
        print(f"    {mode:20s} lime {lime_s:.3f} s, lime_core {ours_s:.3f} s, speed-up {lime_s / ours_s:.1f}x")
    huge = bench_huge()
    print(f"(b) the table x 1e200: {huge}")
    m = bench_masks()
    print(f"(c) sample_masks(6000, 5000, 'uniform_count'): double argsort {m['old_s']:.2f} s, "
          f"{m['old_mb']:.0f} MB peak; chunked one sort {m['new_s']:.2f} s, {m['new_mb']:.0f} MB peak "
          f"(the masks themselves: 30 MB); same masks")
    return {"modes": modes, "huge": huge, "masks": m}


if __name__ == "__main__":
    main()
