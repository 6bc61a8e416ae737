"""Benchmark: lime_core gradient methods against captum, side by side.

Goal (issue 3): Integrated Gradients within 1.1x of captum's time at equal steps,
small CNN on one 224x224 RGB input, 50 steps. captum evaluates all 50 path points
in one batch; our default ``batch_size=64`` does the same for one input. Also
timed: saliency and DeepLIFT against captum. Times are medians of interleaved
repeats, so both libraries see the same machine load.

Issue 13: Integrated Gradients at 10^5 Gauss-Legendre steps with bounded memory
(:func:`ig_many_steps`): each run in its own process, its peak memory measured as
the growth of the peak resident set over the process after set-up, side by side with
captum at a number of steps captum can do.

Run: ``python benchmarks/bench_gradients.py`` (or through the benchmark runner,
which calls ``main()``); ``python benchmarks/bench_gradients.py steps`` runs only
the many-steps rows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings


def _small_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4),
        nn.Flatten(), nn.Linear(16 * 14 * 14, 10),
    ).eval()


def _median_times(fns: dict, repeats: int) -> dict:
    """Run every function once to warm up, then ``repeats`` interleaved rounds."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# One IG run in a fresh process: a small MLP (100 -> 64 -> 10, tanh), one input row.
# Prints the seconds and the peak resident-set growth (MiB) over the set-up.
_ONE_RUN = r"""
import json, resource, sys, time, warnings
import scipy.special  # imported in the set-up by both, so its import is not counted
import torch
from torch import nn
warnings.filterwarnings("ignore")
torch.set_num_threads(1)
library, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(100, 64), nn.Tanh(), nn.Linear(64, 10)).eval()
x = torch.rand(1, 100, generator=torch.Generator().manual_seed(1))
if library == "lime_core":
    from lime_core import gradients as G
    run = lambda: G.integrated_gradients(net, x, target=3, steps=steps, batch_size=batch)
else:
    from captum.attr import IntegratedGradients
    ig = IntegratedGradients(net)
    run = lambda: ig.attribute(x, target=3, n_steps=steps, internal_batch_size=batch)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
attributions = run()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_growth_mib": (peak - base) / 1024,
                  "sum": float(attributions.sum())}))
"""


def _one_ig_run(library: str, steps: int, batch: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(__import__("pathlib").Path(__file__).resolve().parent.parent),
         env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", _ONE_RUN, library, str(steps), str(batch)],
                         capture_output=True, text=True, env=env, timeout=1200, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ig_many_steps(batch: int = 64) -> dict:
    """IG with Gauss-Legendre at many steps: lime_core against captum, one process each.

    captum (and lime_core before issue 13) take the nodes from numpy's ``leggauss``,
    an eigenvalue problem of an m x m matrix: O(m^2) memory, O(m^3) time; at 10^5
    steps it would need 10^10 float64 = 74.5 GiB, so captum runs at 1,000 steps.
    """
    rows = {}
    for library, steps in [("lime_core", 1_000), ("captum", 1_000),
                           ("lime_core", 10_000), ("lime_core", 100_000),
                           ("lime_core", 1_000_000)]:
        rows[f"{library} {steps}"] = _one_ig_run(library, steps, batch)
    print(f"IG, Gauss-Legendre, MLP 100-64-10, 1 input, {batch} path points per pass, "
          "one process per run:")
    for name, row in rows.items():
        print(f"  {name:>18} steps: {row['seconds']:8.2f} s   peak +{row['peak_growth_mib']:7.1f} MiB"
              f"   sum of attributions {row['sum']:+.6f}")
    at_1000 = rows["lime_core 1000"]["seconds"] / rows["captum 1000"]["seconds"]
    print(f"  1,000 steps: lime_core / captum time ratio {at_1000:.3f}")
    return {"ig_many_steps": rows, "ig_1000_steps_ratio": at_1000}


def main(repeats: int = 9) -> dict:
    """Time IG, saliency and DeepLIFT in lime_core and captum; print and return the numbers."""
    import torch
    from captum.attr import DeepLift, IntegratedGradients, Saliency

    from lime_core import gradients as G

    warnings.filterwarnings("ignore", category=UserWarning)
    net = _small_cnn()
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 224, 224, generator=gen)
    baseline = torch.zeros_like(x)
    steps = 50

    # the two IGs agree before we time them
    ours = G.integrated_gradients(net, x, target=3, baseline=baseline, steps=steps)
    ref = IntegratedGradients(net).attribute(x, baseline, target=3, n_steps=steps)
    max_rel_diff = float((ours - ref).abs().max() / ref.abs().max())

    ig = _median_times(
        {
            "lime_core": lambda: G.integrated_gradients(net, x, target=3, baseline=baseline,
                                                        steps=steps),
            "captum": lambda: IntegratedGradients(net).attribute(x, baseline, target=3,
                                                                 n_steps=steps),
            # captum given the same points per pass as lime_core's default
            "captum, same batch": lambda: IntegratedGradients(net).attribute(
                x, baseline, target=3, n_steps=steps,
                internal_batch_size=G.path_batch_size(x[0].numel())),
        },
        repeats,
    )
    # two inputs: 100 path points; captum runs them as one batch, we as chunks of 64
    x2 = torch.rand(2, 3, 224, 224, generator=gen)
    ig2 = _median_times(
        {
            "lime_core": lambda: G.integrated_gradients(net, x2, target=3, steps=steps),
            "captum": lambda: IntegratedGradients(net).attribute(x2, target=3, n_steps=steps),
        },
        max(1, repeats // 2),
    )
    x8 = x.repeat(8, 1, 1, 1)
    other = _median_times(
        {
            "saliency lime_core": lambda: G.saliency(net, x8, target=3),
            "saliency captum": lambda: Saliency(net).attribute(x8.clone(), target=3),
            "deeplift lime_core": lambda: G.deeplift(net, x8, target=3),
            "deeplift captum": lambda: DeepLift(net).attribute(x8.clone(), target=3),
        },
        repeats,
    )
    results = {
        "ig_steps": steps,
        "ig_lime_core_s": ig["lime_core"],
        "ig_captum_s": ig["captum"],
        "ig_ratio": ig["lime_core"] / ig["captum"],
        "ig_ratio_same_batch": ig["lime_core"] / ig["captum, same batch"],
        "ig_max_rel_diff": max_rel_diff,
        "ig_2_inputs_lime_core_s": ig2["lime_core"],
        "ig_2_inputs_captum_s": ig2["captum"],
        "ig_2_inputs_ratio": ig2["lime_core"] / ig2["captum"],
        "saliency_ratio": other["saliency lime_core"] / other["saliency captum"],
        "deeplift_ratio": other["deeplift lime_core"] / other["deeplift captum"],
        "threads": torch.get_num_threads(),
        **{name.replace(" ", "_") + "_s": value for name, value in other.items()},
    }
    print(f"Integrated Gradients, small CNN, 1x3x224x224, {steps} steps (Gauss-Legendre):")
    print(f"  lime_core {ig['lime_core']:.3f} s   captum {ig['captum']:.3f} s   "
          f"ratio {results['ig_ratio']:.2f}  (goal <= 1.10)   max rel diff {max_rel_diff:.1e}")
    print(f"  captum with lime_core's points per pass ({G.path_batch_size(x[0].numel())}): "
          f"{ig['captum, same batch']:.3f} s   ratio {ig['lime_core'] / ig['captum, same batch']:.2f}")
    print("IG, 2 inputs:        lime_core {:.3f} s  captum {:.3f} s  ratio {:.2f}".format(
        ig2["lime_core"], ig2["captum"], results["ig_2_inputs_ratio"]))
    print("Saliency, 8 inputs:  lime_core {:.3f} s  captum {:.3f} s  ratio {:.2f}".format(
        other["saliency lime_core"], other["saliency captum"], results["saliency_ratio"]))
    print("DeepLIFT, 8 inputs:  lime_core {:.3f} s  captum {:.3f} s  ratio {:.2f}".format(
        other["deeplift lime_core"], other["deeplift captum"], results["deeplift_ratio"]))
    results.update(ig_many_steps())
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["steps"]:
        ig_many_steps()
    else:
        main()
