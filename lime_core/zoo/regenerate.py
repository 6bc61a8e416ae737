"""Retrain the zoo's torch models and rewrite their cached weights.

Run ``python -m lime_core.zoo.regenerate`` (about a minute on 2 cores). Training is
seeded and uses a fixed number of torch threads, so the same machine gives the same
weights; the script prints each model's accuracy next to the accuracy it states.
"""

from __future__ import annotations

import time

import numpy as np


def _accuracy(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(pred == truth))


def main() -> None:
    import torch

    from lime_core.zoo import _cache, images, text

    torch.set_num_threads(1)  # small models: one thread is faster than two on a busy machine

    t = time.perf_counter()
    data = text.load_sentiment()
    model = text.train_sentiment_rnn(data)
    _cache.save_weights(model.estimator, "sentiment_gru")
    pred = model.predict(data.test_texts)
    neg = data.test_groups["negated"]
    print(f"sentiment_gru: test acc {_accuracy(pred, data.test_labels):.3f}, negated "
          f"{_accuracy(pred[neg], data.test_labels[neg]):.3f} (stated >= 0.95) "
          f"[{time.perf_counter() - t:.1f} s]")

    t = time.perf_counter()
    model = images.train_husky_wolf_cnn()
    _cache.save_weights(model.module, "husky_wolf_cnn")
    test, swapped = images.load_husky_wolf("test"), images.load_husky_wolf("swapped")
    print(f"husky_wolf_cnn: test acc {_accuracy(model.predict(test.images), test.labels):.3f} "
          f"(stated >= 0.9), swapped "
          f"{_accuracy(model.predict(swapped.images), swapped.labels):.3f} "
          f"(stated >= 25 points lower) [{time.perf_counter() - t:.1f} s]")

    t = time.perf_counter()
    model = images.train_scenes_cnn()
    _cache.save_weights(model.module, "scenes_cnn")
    test = images.load_scenes("test")
    scores = model.predict_proba(test.images)
    print(f"scenes_cnn: per-label acc {_accuracy(scores > 0.5, test.labels == 1):.3f} "
          f"(stated >= 0.95) [{time.perf_counter() - t:.1f} s]")

    t = time.perf_counter()
    model = images.train_digits_cnn()
    _cache.save_weights(model.module, "digits_cnn")
    test = images.load_digits(split="test")
    print(f"digits_cnn: test acc {_accuracy(model.predict(test.images), test.labels):.3f} "
          f"(stated >= 0.95) [{time.perf_counter() - t:.1f} s]")


if __name__ == "__main__":
    main()
