"""Text LIME on a long document, side by side with lime 0.2.0.1 (issue 13).

A synthetic document of 6,000 distinct words (3 to 8 random letters, offline), explained
with ``num_features=10`` (lime's ``auto`` selection: highest weights) at 100 and at 5,000
samples, by ``lime_core.explain_text`` and by lime's ``LimeTextExplainer`` with the same
near-free classifier (a logistic score of 30 "positive" and 30 "negative" words).

Goals: no slower than lime, peak memory under 0.5 GB. Every contender runs in its own
fresh interpreter (imports and one small warm-up call first), so its peak is its own:
``peak`` is the growth of the process's maximum resident set size during the call
(``resource.getrusage``), i.e. what the call added on top of the loaded libraries.
Contenders alternate round by round and the best time of the rounds is kept, so a
change in machine load hits both sides alike.

Run with ``python -m benchmarks stress_text``; record the printed numbers in
``benchmarks/RESULTS.md`` (issue 13 section).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

N_WORDS = 6000
ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
import numpy as np

def document(n_words, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = set()
    while len(words) < n_words:
        words.add("".join(rng.choice(letters, rng.integers(3, 9))))
    words = sorted(words)
    rng.shuffle(words)
    return " ".join(words), set(words[:30]), set(words[30:60])

text, POS, NEG = document(N_WORDS)

def classifier(texts):
    score = np.array([len(POS.intersection(t.split())) - len(NEG.intersection(t.split()))
                      for t in texts], dtype=float)
    p = 1 / (1 + np.exp(-score / 5))
    return np.column_stack([1 - p, p])

if WHO == "lime":
    from lime.lime_text import LimeTextExplainer
    def run(n):
        LimeTextExplainer(random_state=0).explain_instance(
            text, classifier, num_features=10, num_samples=n)
else:
    from lime_core.lime_text import explain_text
    def run(n):
        explain_text(text, classifier, num_features=10, num_samples=n, random_state=0)

run(20)  # imports and first-call costs are not part of the measurement

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

before = rss_mb()
start = time.perf_counter()
run(N_SAMPLES)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak - before}))
"""


def measure(who: str, num_samples: int) -> dict:
    """Time and peak memory of one explanation in a fresh interpreter."""
    code = f"WHO = {who!r}\nN_SAMPLES = {num_samples}\nN_WORDS = {N_WORDS}\n" + CHILD
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> dict:
    results = {}
    for num_samples, rounds in ((100, 3), (5000, 1)):
        best = {}
        for _ in range(rounds):
            for who in ("lime", "ours"):
                r = measure(who, num_samples)
                old = best.get(who)
                best[who] = {"seconds": min(r["seconds"], old["seconds"]) if old else r["seconds"],
                             "peak_mb": max(r["peak_mb"], old["peak_mb"]) if old else r["peak_mb"]}
        ratio = best["lime"]["seconds"] / best["ours"]["seconds"]
        print(f"explain_text, {N_WORDS} distinct words, {num_samples} samples: "
              f"lime {best['lime']['seconds']:.2f} s / {best['lime']['peak_mb']:.0f} MB peak, "
              f"lime_core {best['ours']['seconds']:.2f} s / {best['ours']['peak_mb']:.0f} MB peak "
              f"({ratio:.2f}x lime's speed; goals >= 1x and < 512 MB)", flush=True)
        results[num_samples] = best
    return results


if __name__ == "__main__":
    main()
