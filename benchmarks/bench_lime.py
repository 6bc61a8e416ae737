"""lime_core's LIME against lime 0.2.0.1, side by side, same inputs and classifiers.

(a) image, 224x224 photo, quickshift superpixels, N=1000, near-free classifier, as
    uint8 and as float64: lime_core at its default batch size should be at least 5x
    faster than lime and within 1.2x of its best of batch sizes 8, 16 and 64 (the
    default sizes batches by bytes, ``lime_core.perturbation.image_batch_size``);
(b) image with a small torch CNN: lime_core within 1.15x of the floor, the CNN alone
    on the N prebuilt perturbed images (best of batch sizes 16, 64, 256);
(c) text, 5000 samples, tf-idf + logistic regression: at least 2x faster;
(d) tabular, breast cancer, 100-tree random forest, 5000 samples: at least 2x faster;
(e) explain_image with a million samples (40 and 100 superpixels, a 32x32 float64 crop,
    near-free classifier), in a fresh interpreter: peak memory under 1 GB.

Contenders are timed round by round (best of the rounds), so a change in machine load
hits both sides alike. Run with ``make bench`` or ``python -m benchmarks lime`` (one BLAS
thread, as ``make`` sets it); record the printed numbers in RESULTS.md.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from lime_core.lime_image import explain_image
from lime_core.lime_tabular import explain_tabular
from lime_core.lime_text import explain_text
from lime_core.perturbation import image_batch_size, perturb_image_batches, replacement_image
from lime_core.sampling import sample_masks
from lime_core.segmentation import segment

N_IMAGE = 1000
REPEATS = 3


def best_time(fn, repeats: int = REPEATS) -> float:
    """Best wall time of ``repeats`` runs (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(contenders: dict, repeats: int = REPEATS) -> dict[str, float]:
    """Best wall time of each contender, timed round by round (a, b, c, a, b, c, ...)
    so that a change in machine load hits all of them alike."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def photo() -> np.ndarray:
    """skimage's chelsea, centre-cropped to 224 x 224 (bundled with scikit-image, offline)."""
    from skimage import data

    img = data.chelsea()
    top, left = (img.shape[0] - 224) // 2, (img.shape[1] - 224) // 2
    return np.ascontiguousarray(img[top : top + 224, left : left + 224])


def near_free(batch: np.ndarray) -> np.ndarray:
    """A classifier that costs almost nothing: a coarse brightness read-out."""
    s = batch[:, ::32, ::32].reshape(len(batch), -1).mean(axis=1) / 255.0
    return np.column_stack([s, 1.0 - s])


def small_cnn():
    """A few conv layers, random weights (the cost is what matters), eval mode."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 5, stride=2), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
        nn.Conv2d(32, 32, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    ).eval()

    def classifier(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255.0
            return torch.softmax(net(x), dim=1).numpy()

    return classifier


BATCH_SIZES = (8, 16, 64)


def bench_image() -> dict[str, float]:
    from lime.lime_image import LimeImageExplainer

    image = photo()
    segments = segment(image, "quickshift")

    def run_lime(fn, img=image, batch_size=10):
        explainer = LimeImageExplainer(random_state=0)
        explainer.explain_instance(
            img, fn, top_labels=1, num_features=10, num_samples=N_IMAGE, batch_size=batch_size,
            segmentation_fn=lambda _: segments,
        )

    def run_ours(fn, batch_size=None, img=image):
        explain_image(img, fn, segments=segments, num_samples=N_IMAGE, num_features=10,
                      batch_size=batch_size, random_state=0)

    out = {"superpixels": int(segments.max()) + 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tqdm  # lime prints a progress bar; silence it

        tqdm_init = tqdm.tqdm.__init__

        def quiet(self, *a, **k):
            k["disable"] = True
            tqdm_init(self, *a, **k)

        tqdm.tqdm.__init__ = quiet
        try:
            # (a) near-free classifier: uint8 and float64 photo, our default batch next to
            # batch sizes 8/16/64 and lime, all in one interleaved run
            images = {"u8": image, "f64": image / 255.0}
            contenders = {}
            for kind, img in images.items():
                out[f"a_{kind}_default_batch"] = image_batch_size(img)
                contenders[f"a_{kind}_lime"] = lambda img=img: run_lime(near_free, img)
                contenders[f"a_{kind}_ours"] = lambda img=img: run_ours(near_free, None, img)
                for bs in BATCH_SIZES:
                    contenders[f"a_{kind}_ours_{bs}"] = lambda img=img, bs=bs: run_ours(near_free, bs, img)
            out.update(interleaved(contenders))
            out["a_lime"], out["a_ours"] = out["a_u8_lime"], out["a_u8_ours"]
            cnn = small_cnn()
            cnn(image[None])  # warm up torch
            Z = sample_masks(out["superpixels"], N_IMAGE, random_state=0)
            fudged = replacement_image(image, segments, "superpixel_mean")
            prebuilt = np.concatenate(list(perturb_image_batches(image, segments, Z, fudged, 256)))

            def floor(bs):
                return lambda: [cnn(prebuilt[s : s + bs]) for s in range(0, N_IMAGE, bs)]

            # both sides get their best batch size
            times = interleaved({
                **{("floor", bs): floor(bs) for bs in (16, 64, 256)},
                **{("ours", bs): (lambda bs=bs: run_ours(cnn, bs)) for bs in (16, 64)},
            }, repeats=2)
            for side in ("floor", "ours"):
                key = min((k for k in times if k[0] == side), key=times.get)
                out[f"b_{side}"], out[f"b_{side}_batch"] = times[key], key[1]
            out["b_lime"] = best_time(lambda: run_lime(cnn), repeats=1)
        finally:
            tqdm.tqdm.__init__ = tqdm_init
    return out


def million_samples(n: int = 10**6, n_rows: int = 8, n_cols: int = 5) -> dict[str, float]:
    """explain_image with ``n`` samples over an ``n_rows x n_cols`` grid of superpixels on a
    32x32 float64 crop of the photo, near-free classifier, default settings; measured in
    this process: tracemalloc's peak (numpy's allocations) and the peak resident size."""
    import resource
    import tracemalloc

    from lime_core.segmentation import grid_segments

    img = photo()[96:128, 96:128] / 255.0
    segments = grid_segments(img.shape[:2], n_rows, n_cols)
    tracemalloc.start()
    start = time.perf_counter()
    exp = explain_image(img, near_free, segments=segments, num_samples=n, random_state=0)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    refit_start = time.perf_counter()
    exp.refit(kernel_width=0.5)  # the cached samples still refit
    refit_seconds = time.perf_counter() - refit_start
    _, refit_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"superpixels": n_rows * n_cols, "seconds": seconds, "traced_peak_mb": peak / 2**20,
            "traced_peak_with_refit_mb": refit_peak / 2**20, "refit_seconds": refit_seconds,
            "stored_masks_mb": exp.Z.nbytes / 2**20,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_million(n: int = 10**6) -> dict[str, dict]:
    """:func:`million_samples` for 40 and 100 superpixels, each in a fresh interpreter so
    the peak resident size is that run's own."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = {}
    for rows, cols in ((8, 5), (10, 10)):
        code = ("import json; from benchmarks.bench_lime import million_samples; "
                f"print(json.dumps(million_samples({n}, {rows}, {cols})))")
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=root, env=env)
        out[f"e_{rows * cols}"] = json.loads(run.stdout.strip().splitlines()[-1])
    return out


WORDS_POS = ["great", "wonderful", "loved", "brilliant", "moving", "superb", "fun"]
WORDS_NEG = ["boring", "awful", "hated", "dull", "weak", "poor", "mess"]
WORDS_NEUTRAL = ["the", "film", "plot", "actors", "story", "was", "and", "a", "scene", "ending", "music", "it"]


def text_data(seed: int = 0):
    """A small synthetic review corpus (offline) and a tf-idf + logistic regression model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for _ in range(600):
        y = int(rng.integers(0, 2))
        sentiment = WORDS_POS if y else WORDS_NEG
        words = list(rng.choice(WORDS_NEUTRAL, 12)) + list(rng.choice(sentiment, 3))
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(y)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(docs, labels)
    text = ("the film was great and the actors were superb , but the plot was a mess and "
            "the ending dull ; still the music was wonderful and it was fun overall")
    return model, text


def bench_text() -> dict[str, float]:
    from lime.lime_text import LimeTextExplainer

    model, text = text_data()
    return interleaved({
        "c_lime": lambda: LimeTextExplainer(random_state=0).explain_instance(
            text, model.predict_proba, num_features=10, num_samples=5000),
        "c_ours": lambda: explain_text(
            text, model.predict_proba, num_features=10, num_samples=5000, random_state=0),
        "c_classifier": lambda: model.predict_proba([text] * 5000),
    }, repeats=5)


def bench_tabular() -> dict[str, float]:
    from lime.lime_tabular import LimeTabularExplainer
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    data = load_breast_cancer()
    X = data.data
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, data.target)
    names = list(data.feature_names)

    def run_lime():
        explainer = LimeTabularExplainer(X, feature_names=names, random_state=0)
        explainer.explain_instance(X[0], forest.predict_proba, num_features=10, num_samples=5000)

    def run_ours():
        return explain_tabular(X[0], forest.predict_proba, X, feature_names=names, num_features=10,
                               num_samples=5000, random_state=0)

    sampled = run_ours().extra["inputs"]  # the forest alone, on the rows LIME really sends it
    return interleaved({
        "d_lime": run_lime,
        "d_ours": run_ours,
        "d_classifier": lambda: forest.predict_proba(sampled),
    }, repeats=7)


def import_time() -> float:
    """Wall time of importing lime_core and the LIME engine in a fresh interpreter, minus the
    interpreter's own start-up (best of 5)."""
    import subprocess
    import sys

    def run(code):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    code = "import lime_core, lime_core.lime_image, lime_core.lime_text, lime_core.lime_tabular"
    bare = min(run("pass") for _ in range(5))
    return min(run(code) for _ in range(5)) - bare


def report_image(r: dict) -> None:
    """Print the image rows (a), (b) and (e) of :func:`main`."""
    print(f"(a) image, near-free classifier, N={N_IMAGE}, {r['superpixels']} superpixels "
          f"(goals: >= 5x lime, default within 1.2x of the best of batch sizes {BATCH_SIZES}):")
    for kind in ("u8", "f64"):
        ours, lime_t = r[f"a_{kind}_ours"], r[f"a_{kind}_lime"]
        fixed = {bs: r[f"a_{kind}_ours_{bs}"] for bs in BATCH_SIZES}
        best = min(fixed.values())
        print(f"    {kind:>3} photo: lime {lime_t:.3f} s, lime_core default (batch "
              f"{r[f'a_{kind}_default_batch']}) {ours:.3f} s, speed-up {lime_t / ours:.1f}x; "
              + ", ".join(f"batch {bs} {t:.3f} s" for bs, t in fixed.items())
              + f"; default / best fixed = {ours / best:.2f}")
    print(f"(b) image, small CNN: floor {r['b_floor']:.3f} s (batch {r['b_floor_batch']}), "
          f"lime_core {r['b_ours']:.3f} s (batch {r['b_ours_batch']}), ratio {r['b_ours'] / r['b_floor']:.3f} (goal <= 1.15); "
          f"lime {r['b_lime']:.3f} s")
    for key in ("e_40", "e_100"):
        m = r[key]
        print(f"(e) explain_image, 10^6 samples, {m['superpixels']} superpixels: {m['seconds']:.1f} s, "
              f"traced peak {m['traced_peak_mb']:.0f} MB ({m['traced_peak_with_refit_mb']:.0f} MB "
              f"with a refit, {m['refit_seconds']:.1f} s), peak RSS {m['max_rss_mb']:.0f} MB "
              f"(goal < 1024), masks stored in {m['stored_masks_mb']:.0f} MB")


def main() -> dict[str, float]:
    r = {"import": import_time()}
    print(f"import lime_core + LIME engine: {r['import']:.3f} s (goal < 0.5 s)")
    r.update(bench_image())
    r.update(bench_million())
    report_image(r)
    r.update(bench_text())
    print(f"(c) text, 5000 samples: lime {r['c_lime']:.3f} s, lime_core {r['c_ours']:.3f} s, "
          f"speed-up {r['c_lime'] / r['c_ours']:.1f}x (goal >= 2x); classifier alone {r['c_classifier']:.3f} s")
    r.update(bench_tabular())
    print(f"(d) tabular, breast cancer, forest, 5000 samples: lime {r['d_lime']:.3f} s, "
          f"lime_core {r['d_ours']:.3f} s, speed-up {r['d_lime'] / r['d_ours']:.1f}x (goal >= 2x); "
          f"classifier alone {r['d_classifier']:.3f} s, so the explainer's own time is "
          f"{(r['d_lime'] - r['d_classifier']) / (r['d_ours'] - r['d_classifier']):.1f}x less")
    return r


if __name__ == "__main__":
    main()
