"""Benchmark: lime_core gradient methods against captum, side by side.

Goal (issue 3): Integrated Gradients within 1.1x of captum's time at equal steps,
small CNN on one 224x224 RGB input, 50 steps. captum evaluates all 50 path points
in one batch; our default ``batch_size=64`` does the same for one input. Also
timed: saliency and DeepLIFT against captum. Times are medians of interleaved
repeats, so both libraries see the same machine load.

Run: ``python benchmarks/bench_gradients.py`` (or through the benchmark runner,
which calls ``main()``).
"""

from __future__ import annotations

import statistics
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
    return results


if __name__ == "__main__":
    main()
