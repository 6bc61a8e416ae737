"""Benchmark: time to build every zoo dataset and model, and the LIME paper's recall table.

Goals (issue 4): every loader/trainer under 10 s on 2 cores, all of them together under
60 s (CNNs and the GRU load cached weights). The recall table runs the paper's protocol
on the sparse "books" classifiers: for each test document, gold = the model's truly
used words present in it, recall = |top-10 of the explanation ∩ gold| / |gold|,
averaged over documents that have a gold word.

Run: ``python benchmarks/bench_zoo.py`` (or ``python -m benchmarks zoo``);
``--retrain`` also times training the cached torch models from scratch.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _timed(label: str, fn, rows: list):
    start = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - start))
    print(f"{label:<48s} {rows[-1][1]:6.2f} s", flush=True)
    return out


def build_everything(retrain: bool = False) -> list[tuple[str, float]]:
    """Build every dataset and model once, in a fresh process's order; return timings."""
    from lime_core import zoo

    rows: list[tuple[str, float]] = []
    sentiment = _timed("load_sentiment", zoo.load_sentiment, rows)
    _timed("train_sentiment_bow", lambda: zoo.train_sentiment_bow(sentiment), rows)
    _timed("load_sentiment_rnn (cached)", zoo.load_sentiment_rnn, rows)
    news = _timed("load_newsgroups", zoo.load_newsgroups, rows)
    _timed("train_newsgroups_forest (500 trees)", lambda: zoo.train_newsgroups_forest(news), rows)
    books = _timed("load_books", zoo.load_books, rows)
    _timed("train_books_logreg", lambda: zoo.train_books_logreg(books), rows)
    _timed("train_books_tree", lambda: zoo.train_books_tree(books), rows)
    flu = _timed("load_flu", zoo.load_flu, rows)
    _timed("train_flu_model", lambda: zoo.train_flu_model(flu), rows)
    cancer = _timed("load_breast_cancer", zoo.load_breast_cancer, rows)
    _timed("train_breast_cancer_model", lambda: zoo.train_breast_cancer_model(cancer), rows)
    moons = _timed("load_two_moons", zoo.load_two_moons, rows)
    _timed("train_two_moons_model", lambda: zoo.train_two_moons_model(moons), rows)
    _timed("a_or_b_model", zoo.a_or_b_model, rows)
    for split in ("train", "test", "swapped"):
        _timed(f"load_husky_wolf('{split}')", lambda s=split: zoo.load_husky_wolf(s), rows)
    _timed("load_husky_wolf_cnn (cached)", zoo.load_husky_wolf_cnn, rows)
    for split in ("train", "test"):
        _timed(f"load_scenes('{split}')", lambda s=split: zoo.load_scenes(s), rows)
    _timed("load_scenes_cnn (cached)", zoo.load_scenes_cnn, rows)
    for split in ("train", "test"):
        _timed(f"load_digits(split='{split}')", lambda s=split: zoo.load_digits(split=s), rows)
    _timed("load_digits_cnn (cached)", zoo.load_digits_cnn, rows)
    for name in ("cat", "astronaut", "coffee"):
        _timed(f"load_photo('{name}')", lambda n=name: zoo.load_photo(n), rows)
    _timed("linear_image_model", zoo.linear_image_model, rows)
    if retrain:
        _timed("retrain sentiment GRU", lambda: zoo.train_sentiment_rnn(sentiment), rows)
        _timed("retrain husky/wolf CNN", zoo.train_husky_wolf_cnn, rows)
        _timed("retrain scenes CNN", zoo.train_scenes_cnn, rows)
        _timed("retrain digits CNN", zoo.train_digits_cnn, rows)
    return rows


def recall_table(n_docs: int = 20, num_samples: int = 1000) -> dict:
    """Mean recall@10 of LIME, KernelSHAP, greedy removal and random on both books models."""
    from lime_core.lime_text import explain_text
    from lime_core.metrics import recall_at_k
    from lime_core.shapley import kernel_shap
    from lime_core.zoo import books

    data = books.load_books()
    table = {}
    for name, model in (("sparse logistic regression (10 words)", books.train_books_logreg(data)),
                        ("decision tree (depth 4)", books.train_books_tree(data))):
        rng = np.random.default_rng(0)
        scores: dict[str, list[float]] = {"random": [], "greedy": [], "lime": [],
                                          "kernel_shap": []}
        for i, doc in enumerate(data.test_texts[:n_docs]):
            gold_words = model.gold_features(doc)
            if not gold_words:
                continue
            words, g = books.word_presence_model(doc, model.predict_proba, target=1)
            gold = [words.index(w) for w in gold_words]
            exp = explain_text(doc, model.predict_proba, labels=[1], num_samples=num_samples,
                               num_features=10, random_state=i)
            # the map contract: one weight per word of doc, in reading order
            tokens, per_word = doc.split(), exp.attribution(1)
            if len(per_word) != len(tokens):
                raise RuntimeError(f"explain_text split document {i} into {len(per_word)} words, "
                                   f"str.split into {len(tokens)}")
            weight_of = dict(zip(tokens, per_word, strict=True))
            lime_w = np.array([weight_of[w] for w in words])  # words: distinct, first-seen order
            scores["lime"].append(recall_at_k(lime_w, gold, k=10))
            shap = kernel_shap(g, np.ones(len(words)), np.zeros((1, len(words))),
                               num_samples=num_samples, random_state=i)
            scores["kernel_shap"].append(recall_at_k(shap.values, gold, k=10))
            greedy = np.zeros(len(words))
            for rank, (w, _) in enumerate(books.greedy_removal_explainer(doc, model.predict_proba)):
                greedy[words.index(w)] = 10 - rank
            scores["greedy"].append(recall_at_k(greedy, gold, k=10))
            scores["random"].append(recall_at_k(rng.random(len(words)) + 1e-9, gold, k=10))
        table[name] = {k: float(np.mean(v)) for k, v in scores.items()}
        table[name]["documents"] = len(scores["lime"])
    return table


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    start = time.perf_counter()
    rows = build_everything(retrain="--retrain" in argv)
    total = time.perf_counter() - start
    slowest = max(rows, key=lambda r: r[1])
    print(f"\ntotal to build every dataset and model: {total:.1f} s (goal < 60 s); "
          f"slowest step: {slowest[0]} {slowest[1]:.1f} s (goal < 10 s)")
    print("\nLIME paper recall@10 on the books classifiers (20 test documents, 1000 samples)")
    print(f"{'model':<40s} {'random':>7s} {'greedy':>7s} {'LIME':>7s} {'KSHAP':>7s} {'docs':>5s}")
    for name, r in recall_table().items():
        print(f"{name:<40s} {r['random']:7.3f} {r['greedy']:7.3f} {r['lime']:7.3f} "
              f"{r['kernel_shap']:7.3f} {r['documents']:5d}")


if __name__ == "__main__":
    main()
