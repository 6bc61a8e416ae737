"""API-wide fuzz: every public name of ``lime_core`` against wrong and extreme arguments.

The rule (DESIGN.md, DEVELOPERS.md "Engineering standards"): for every argument of
every public function, a wrong type (None, str, dict, object()), a wrong rank, an
empty array, NaN / inf, a huge (1e300) or tiny (1e-300) magnitude, a misbehaving
model, ... gives either

* a result whose numbers are finite, or
* a ``ValueError`` / ``TypeError`` whose message names the argument,

and never another exception type (IndexError, KeyError, AttributeError,
ZeroDivisionError, OverflowError, MemoryError, torch's RuntimeError, ...), never a
silent NaN and never a hang (every call runs under a 5 s alarm; sizes are tiny).

``VALID`` holds, for every name in ``lime_core.__all__``, a factory of minimal valid
keyword arguments; ``test_every_public_name_has_a_fuzz_entry`` fails when a public
name is added without one. Each argument of each entry is then substituted, one at a
time, by every bad value that fits it (:func:`bad_values`).

Cases that fail today in code owned by other areas are marked
``xfail(strict=True)`` in ``KNOWN_FAILURES`` (strict: the mark alerts once fixed).
"""

from __future__ import annotations

import dataclasses
import re
import signal
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lime_core as lc

TIME_LIMIT = 5  # seconds per call; a hang is a failure


@pytest.fixture(scope="module", autouse=True)
def _import_heavy_modules_first():
    """Lazy imports inside lime_core (scipy.stats, scikit-image, ...) take seconds on a busy
    machine; do them before any call runs under the alarm."""
    import scipy.ndimage  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
    import skimage.metrics  # noqa: F401
    import skimage.segmentation  # noqa: F401
    import sklearn.linear_model  # noqa: F401


# --------------------------------------------------------------------------
# small, valid inputs
# --------------------------------------------------------------------------


def _image() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.0, 1.0, size=(4, 4, 3))


def _segments() -> np.ndarray:
    return np.repeat(np.repeat(np.arange(4).reshape(2, 2), 2, axis=0), 2, axis=1)


def image_model(batch):
    """Two class scores from the mean brightness of the upper-left quarter."""
    b = np.asarray(batch, dtype=float)
    s = b.reshape(len(b), b.shape[1], b.shape[2], -1)[:, :2, :2].mean(axis=(1, 2, 3))
    p = 1.0 / (1.0 + np.exp(-4.0 * (s - 0.5)))
    return np.stack([p, 1.0 - p], axis=1)


def text_model(texts):
    p = np.array([0.2 + 0.6 * ("good" in t) for t in texts])
    return np.stack([1.0 - p, p], axis=1)


W3 = np.array([2.0, -1.0, 0.5])


def row_model(rows):
    """A logistic model of three features; two probabilities per row."""
    z = np.asarray(rows, dtype=float) @ W3
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    return np.stack([1.0 - p, p], axis=1)


def linear_scores(rows):
    return np.asarray(rows, dtype=float) @ W3


def _train() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(20, 3))


def _net():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def _tensor():
    import torch

    return torch.tensor([[0.5, -1.0, 2.0]])


def _value_fn(masks):
    return np.asarray(masks, dtype=float) @ W3


def _lime_explanation():
    return lc.explain_tabular(np.array([0.1, 0.2, 0.3]), row_model, _train(), num_samples=50,
                              target=1, random_state=0)


def _samples():
    return lc.tabular_samples(np.array([0.1, 0.2, 0.3]), row_model, _train(), num_samples=50,
                              random_state=0)


def _explain_fn(seed):
    rng = np.random.default_rng(seed)
    return W3 + 0.01 * rng.normal(size=3)


class _NearestCentroid:
    """A classifier in three lines of numpy (sklearn's solvers crawl on 1e308 inputs)."""

    def __init__(self, X, y):
        self.classes = np.unique(y)
        self.centroids = np.array([np.asarray(X)[y == c].mean(axis=0) for c in self.classes])

    def predict(self, X):
        with np.errstate(all="ignore"):
            gaps = np.abs(np.asarray(X)[:, None, :] - self.centroids[None]).sum(axis=2)
        return self.classes[np.argmin(np.nan_to_num(gaps, nan=np.inf), axis=1)]


def _train_fn(X, y):
    return _NearestCentroid(X, y)


def _grad_args():
    return dict(model=_net(), inputs=_tensor(), target=0)


#: name -> factory of minimal valid keyword arguments. ``None`` marks a result type
#: (a dataclass the functions return; it is checked through them, see RESULT_TYPES).
VALID: dict[str, Callable[[], dict] | None] = {
    # results and containers
    "CurveResult": None, "Explanation": None, "LimeSamples": None, "PickResult": None,
    "SanityResult": None, "ShapleyResult": None, "SurrogateFit": None, "TabularSampler": None,
    "TextDomain": None,
    # LIME pipelines
    "explain_image": lambda: dict(image=_image(), classifier_fn=image_model, segments=_segments(),
                                  target=0, num_samples=30, kernel_width=0.25, batch_size=16,
                                  random_state=0),
    "image_samples": lambda: dict(image=_image(), classifier_fn=image_model, segments=_segments(),
                                  num_samples=30, batch_size=16, random_state=0),
    "explain_text": lambda: dict(text="good bad movie", classifier_fn=text_model, target=1,
                                 num_samples=30, kernel_width=25.0, mask_string="UNKWORDZ",
                                 random_state=0),
    "text_samples": lambda: dict(text="good bad movie", classifier_fn=text_model,
                                 num_samples=30, mask_string="UNKWORDZ", random_state=0),
    "explain_tabular": lambda: dict(row=np.array([0.1, 0.2, 0.3]), classifier_fn=row_model,
                                    training_data=_train(), target=1, num_samples=50,
                                    feature_names=["a", "b", "c"], categorical_features=(),
                                    random_state=0),
    "tabular_samples": lambda: dict(row=np.array([0.1, 0.2, 0.3]), classifier_fn=row_model,
                                    training_data=_train(), num_samples=50, random_state=0),
    "explain_from_samples": lambda: dict(samples=_samples(), kernel_width=0.75, target=1,
                                         num_features=3, alpha=1.0),
    # building blocks
    "cosine_distance": lambda: dict(Z=np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),
                                    reference=np.ones(3)),
    "euclidean_distance": lambda: dict(Z=np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),
                                       reference=np.ones(3)),
    "exponential_kernel": lambda: dict(distances=np.array([0.0, 0.5, 1.0]), kernel_width=0.25),
    "fit_surrogate": lambda: dict(Z=np.array([[1, 0], [0, 1], [1, 1], [0, 0]], float),
                                  y=np.array([1.0, 0.0, 1.0, 0.0]),
                                  weights=np.array([1.0, 0.5, 0.5, 0.2]), num_features=2,
                                  alpha=1.0),
    "weighted_ridge": lambda: dict(Z=np.array([[1, 0], [0, 1], [1, 1], [0, 0]], float),
                                   y=np.array([1.0, 0.0, 1.0, 0.0]),
                                   weights=np.array([1.0, 0.5, 0.5, 0.2]), alpha=1.0),
    "weighted_r2": lambda: dict(y=np.array([1.0, 0.0, 1.0]), pred=np.array([0.9, 0.1, 0.8]),
                                weights=np.array([1.0, 0.5, 0.5])),
    "sample_masks": lambda: dict(d=4, num_samples=5, random_state=0),
    "segment": lambda: dict(image=_image(), method="grid"),
    "masked_images": lambda: dict(image=_image(), segments=_segments(),
                                  Z=np.array([[1, 0, 1, 0], [1, 1, 1, 1]]), baseline=0.0),
    "perturb_image_batches": lambda: dict(image=_image(), segments=_segments(),
                                          Z=np.array([[1, 0, 1, 0], [1, 1, 1, 1]]), baseline=0.0,
                                          batch_size=1),
    "replacement_image": lambda: dict(image=_image(), segments=_segments(),
                                      baseline="superpixel_mean", blur_sigma=1.0),
    "superpixel_means": lambda: dict(image=_image(), segments=_segments()),
    "tokenise": lambda: dict(text="good bad movie", bow=True, mask_string="UNKWORDZ"),
    "perturb_text": lambda: dict(domain=lc.tokenise("good bad movie"),
                                 Z=np.array([[1, 0, 1], [1, 1, 1]])),
    # gradients
    "saliency": _grad_args,
    "smoothgrad": lambda: {**_grad_args(), "num_samples": 4, "noise_level": 0.15,
                           "random_state": 0},
    "integrated_gradients": lambda: {**_grad_args(), "steps": 8},
    "gradient_times_input": _grad_args,
    "deeplift": _grad_args,
    "deep_shap": lambda: {**_grad_args(), "baseline": _tensor() * 0.0},
    # Shapley
    "kernel_shap": lambda: dict(model=linear_scores, x=np.array([1.0, 2.0, 3.0]),
                                baseline=np.zeros((1, 3)), num_samples=32, random_state=0,
                                num_bootstrap=4),
    "kernel_shap_game": lambda: dict(value_fn=_value_fn, d=3, num_samples=32, random_state=0,
                                     num_bootstrap=4),
    "shapley_exact": lambda: dict(value_fn=_value_fn, d=3),
    "shapley_permutation": lambda: dict(value_fn=_value_fn, d=3, num_permutations=4,
                                        random_state=0),
    "shapley_kernel_weight": lambda: dict(size=np.array([1, 2]), d=3),
    "football_game": lambda: dict(),
    "glove_game": lambda: dict(n_left=1, n_right=2),
    "linear_game": lambda: dict(weights=W3, x=np.array([1.0, 2.0, 3.0]), baseline=np.zeros(3),
                                intercept=0.5),
    "marginal_value_fn": lambda: dict(model=linear_scores, x=np.array([1.0, 2.0, 3.0]),
                                      baseline=np.zeros((2, 3))),
    # theory
    "kernel_moment": lambda: dict(d=4, kernel_width=0.25, p=2),
    "sigma_matrix": lambda: dict(d=4, kernel_width=0.25),
    "sigma_inverse": lambda: dict(d=4, kernel_width=0.25),
    "smallest_bandwidth": lambda: dict(d=4),
    "lime_limit": lambda: dict(classifier_fn=image_model, image=_image(), segments=_segments(),
                               baseline="superpixel_mean", kernel_width=0.25, target=0),
    "large_bandwidth_limit": lambda: dict(classifier_fn=image_model, image=_image(),
                                          segments=_segments(), baseline=0.0, target=0),
    "linear_model_limit": lambda: dict(weights=np.ones((4, 4, 3)), image=_image(),
                                       segments=_segments(), baseline=0.0, bias=0.5),
    "shape_detector_limit": lambda: dict(image=_image() + 1.0, segments=_segments(),
                                         shape=np.eye(4, dtype=bool), threshold=0.5,
                                         baseline=0.0, kernel_width=0.25),
    # metrics
    "deletion_curve": lambda: dict(model=linear_scores, x=np.array([1.0, 2.0, 3.0]),
                                   attribution=W3 * np.array([1.0, 2.0, 3.0]), steps=3,
                                   baseline=0.0),
    "insertion_curve": lambda: dict(model=linear_scores, x=np.array([1.0, 2.0, 3.0]),
                                    attribution=W3 * np.array([1.0, 2.0, 3.0]), steps=3,
                                    baseline=0.0),
    "faithfulness_correlation": lambda: dict(model=linear_scores, x=np.array([1.0, 2.0, 3.0]),
                                             attribution=W3 * np.array([1.0, 2.0, 3.0]),
                                             subset_size=1, num_subsets=8, random_state=0),
    "iou": lambda: dict(attribution=np.arange(16.0).reshape(4, 4), ground_truth=(2, 2, 4, 4)),
    "pointing_game": lambda: dict(attribution=np.arange(16.0).reshape(4, 4),
                                  ground_truth=(2, 2, 4, 4), tolerance=1),
    "pixel_map": lambda: dict(attribution=np.ones((4, 4, 3))),
    "recall_at_k": lambda: dict(attribution=np.array([0.9, 0.0, -0.5, 0.1]),
                                true_features=[0, 2], k=2),
    "stability": lambda: dict(explain_fn=_explain_fn, seeds=[0, 1, 2], k=2),
    "roar": lambda: dict(train_fn=_train_fn, X_train=_train(),
                         y_train=(_train() @ W3 > 0).astype(int), X_test=_train()[:6],
                         y_test=(_train()[:6] @ W3 > 0).astype(int),
                         attributions_train=np.abs(_train() * W3),
                         attributions_test=np.abs(_train()[:6] * W3), fractions=[0.0, 0.5],
                         random_state=0),
    "submodular_pick": lambda: dict(explanations_or_matrix=np.array([[1.0, 0, 2], [0, 3, 0]]),
                                    budget=1),
    "attribution_map": lambda: dict(method=lc.saliency, model=_net(), x=_tensor(), target=0),
    "superpixel_sums": lambda: dict(attribution=np.ones((4, 4, 3)), segments=_segments()),
    "cascading_randomization": lambda: dict(model=_net(), x=_tensor(), target=0,
                                            attribution_fn=lc.saliency, random_state=0),
    "independent_randomization": lambda: dict(model=_net(), x=_tensor(), target=0,
                                              attribution_fn=lc.saliency, random_state=0),
}

#: Which function returns each result type.
RESULT_TYPES = {
    "CurveResult": "deletion_curve", "Explanation": "explain_tabular",
    "LimeSamples": "tabular_samples", "PickResult": "submodular_pick",
    "SanityResult": "cascading_randomization", "ShapleyResult": "kernel_shap",
    "SurrogateFit": "fit_surrogate", "TabularSampler": None, "TextDomain": "tokenise",
}

#: Result fields that may hold NaN in a correct answer (documented in their docstrings).
NAN_ALLOWED = {
    "ssim",  # SanityResult: SSIM is NaN for 1-D maps
    "kendall_tau", "pairwise_kendall_tau",  # StabilityResult: tau of constant maps
    "correlation",  # FaithfulnessResult: undefined when nothing varies
    "stderr",  # ShapleyResult/SurrogateFit: no error estimate
    "score",  # SurrogateFit: R^2 of a constant target
}

#: Arguments whose errors may name another, related argument.
ALIASES = {
    "inputs": ("inputs", "x"), "x": ("x", "inputs"),
    "classifier_fn": ("classifier_fn", "model"), "model": ("model", "classifier_fn"),
    "explanations_or_matrix": ("explanations_or_matrix", "explanations"),
    "size": ("size", "coalition"),
    "method": ("method", "attribution_fn"),
}


def owner(name: str) -> str:
    """The area (helper) that owns a public name."""
    module = getattr(lc, name).__module__
    if name in ("tokenise", "perturb_text", "TextDomain") or module in (
            "lime_core.lime_text", "lime_core.surrogate"):
        return "text"
    if name == "TabularSampler" or module in ("lime_core.lime_tabular", "lime_core.kernels",
                                              "lime_core.sampling"):
        return "tabular"
    if module.startswith("lime_core.shapley"):
        return "KernelSHAP"
    if module.startswith("lime_core.gradients"):
        return "gradients"
    if module in ("lime_core.lime_image", "lime_core.segmentation", "lime_core.explanation",
                  "lime_core.perturbation"):
        return "image"
    return "fuzz"  # theory, metrics, pick, sanity, attribution: this branch


# --------------------------------------------------------------------------
# bad values
# --------------------------------------------------------------------------


class _Opaque:
    def __repr__(self) -> str:
        return "<object>"


def _is_tensor(v) -> bool:
    return hasattr(v, "detach") and hasattr(v, "numel")


def _is_model(v) -> bool:
    return callable(v) and not isinstance(v, type)


def _rows(args) -> int | None:
    """The batch length of a callable's first argument (None when it is not a batch)."""
    first = args[0] if args else None
    if hasattr(first, "__len__") and not isinstance(first, str | dict):
        return len(first)
    return None


def _nan_model(*args, **kwargs):
    """Returns NaN: for a batch, (n, 2) scores; otherwise (a seed, a model) a NaN map."""
    n = _rows(args)
    return np.full((n, 2) if n is not None else (3,), np.nan)


def _short_model(*args, **kwargs):
    """Returns one row too few (or a map of the wrong size)."""
    n = _rows(args)
    return np.zeros((max(n - 1, 0), 2) if n is not None else (1,))


def _string_model(*args, **kwargs):
    """Returns strings."""
    n = _rows(args)
    return ["a"] * n if n is not None else "a"


def _nan_net():
    import torch

    class NanNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x) * float("nan")

    return NanNet()


def bad_values(valid) -> list[tuple[str, object]]:
    """(label, value) pairs to put in place of the valid value ``valid``."""
    out: list[tuple[str, object]] = [("None", None), ("str", "x"), ("dict", {}),
                                     ("object", _Opaque())]
    if isinstance(valid, bool):
        return out + [("int_for_bool", 2)]
    if isinstance(valid, int | np.integer):
        return out + [("negative", -1), ("zero", 0), ("float", 2.5), ("nan", float("nan")),
                      ("bool", True), ("huge_int", 10**30)]
    if isinstance(valid, float):
        return out + [("negative", -1.0), ("zero", 0.0), ("nan", float("nan")),
                      ("inf", float("inf")), ("huge", 1e300), ("tiny", 1e-300),
                      ("bool", True)]
    if isinstance(valid, str):
        return out[:1] + [("empty_str", ""), ("unknown_str", "no such choice"),
                          ("int", 3)] + out[2:]
    if isinstance(valid, tuple | list) and not isinstance(valid, str):
        arr = np.asarray(valid)
        extra = [("empty", type(valid)())]
        if arr.dtype.kind in "iuf" and arr.size:
            extra += [("nan_entry", [float("nan")] + list(valid)[1:]),
                      ("negative_entry", [-5] + list(valid)[1:]),
                      ("huge_entry", [10**30] + list(valid)[1:])]
        return out + extra
    if _is_tensor(valid):
        import torch

        v = valid.detach().clone().float()
        nan = v.clone()
        nan.view(-1)[0] = float("nan")
        inf = v.clone()
        inf.view(-1)[0] = float("inf")
        return out + [("empty", torch.zeros((0,) + tuple(v.shape[1:]))),
                      ("rank+1", v[None]), ("rank0", v.reshape(-1)[0]),
                      ("narrow", v[..., :-1]),
                      ("nan", nan), ("inf", inf), ("huge", v * 1e300 + 1e300),
                      ("int_tensor", v.long()), ("numpy", v.numpy())]
    if isinstance(valid, np.ndarray):
        v = np.array(valid)
        res = out + [("empty", np.zeros((0,) + v.shape[1:], dtype=v.dtype)),
                     ("rank+1", v[None]), ("rank0", v.reshape(-1)[0] if v.size else 0.0)]
        if v.ndim >= 2:
            res.append(("flat", v.reshape(-1)))
        if v.ndim >= 1 and v.shape[-1] > 1:
            res.append(("narrow", v[..., :-1]))  # same rank, last axis one shorter
        if v.dtype.kind in "iub":
            res += [("float_labels", v.astype(float) + 0.5),
                    ("negative", v.astype(int) - 7)]
        if v.dtype.kind == "f":
            nan = v.copy()
            nan.flat[0] = np.nan
            inf = v.copy()
            inf.flat[-1] = np.inf
            res += [("nan", nan), ("inf", inf), ("huge", v * 1e300 + 1e300),
                    ("neg_huge", -v * 1e300 - 1e300), ("tiny", v * 1e-300),
                    ("object_array", np.array([_Opaque()] * v.size, dtype=object).reshape(
                        v.shape))]
        return res
    if _is_model(valid):
        module = any(c.__name__ == "Module" and c.__module__.startswith("torch")
                     for c in type(valid).__mro__)
        if module:
            return out + [("nan_output", _nan_net())]
        return out + [("nan_output", _nan_model), ("short_output", _short_model),
                      ("string_output", _string_model)]
    return out


def _cases() -> Iterator[tuple[str, str, str]]:
    for name, factory in VALID.items():
        if factory is None:
            continue
        for arg, value in factory().items():
            for label, _ in bad_values(value):
                yield name, arg, label


# --------------------------------------------------------------------------
# running a call under the rule
# --------------------------------------------------------------------------


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer within {TIME_LIMIT} s")


def call(name: str, kwargs: dict):
    """Call ``lime_core.<name>(**kwargs)``; iterators are consumed, games are evaluated."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                result = getattr(lc, name)(**kwargs)
                if isinstance(result, Iterator):
                    result = list(result)
                if name in ("football_game", "glove_game", "linear_game", "marginal_value_fn"):
                    d = getattr(result, "d", None) or 3
                    masks = np.array([[True] * d, [False] * d])
                    value_fn = getattr(result, "value_fn", result)
                    result = (result, np.asarray(value_fn(masks), dtype=float))
        return result
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def non_finite(result, path: str = "result", depth: int = 0) -> list[str]:
    """Paths to NaN or infinite numbers inside ``result`` (fields in NAN_ALLOWED skipped)."""
    if depth > 4:
        return []
    if _is_tensor(result):
        result = result.detach().cpu().numpy()
    if isinstance(result, float | np.floating):
        return [] if np.isfinite(result) else [path]
    if isinstance(result, np.ndarray):
        if result.dtype.kind in "fc" and not np.all(np.isfinite(result)):
            return [path]
        return []
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        bad = []
        for f in dataclasses.fields(result):
            if f.name in NAN_ALLOWED:
                continue
            bad += non_finite(getattr(result, f.name), f"{path}.{f.name}", depth + 1)
        return bad
    if isinstance(result, tuple | list):
        bad = []
        for i, v in enumerate(result[:50]):
            bad += non_finite(v, f"{path}[{i}]", depth + 1)
        return bad
    if isinstance(result, dict):
        bad = []
        for k, v in list(result.items())[:50]:
            if k in NAN_ALLOWED:
                continue
            bad += non_finite(v, f"{path}[{k!r}]", depth + 1)
        return bad
    return []


def verdict(name: str, arg: str, kwargs: dict) -> str | None:
    """None when the call obeys the rule, else what went wrong."""
    try:
        result = call(name, kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        names = ALIASES.get(arg, (arg,))
        if any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names):
            return None
        return f"{type(err).__name__} does not name {arg!r}: {message[:160]}"
    except Hang as err:
        return f"hang: {err}"
    except Exception as err:  # noqa: BLE001 - the point of the test
        return f"{type(err).__name__}: {str(err)[:160]}"
    bad = non_finite(result)
    if bad:
        return f"silent non-finite result at {', '.join(bad[:3])}"
    return None


# --------------------------------------------------------------------------
# known failures in other areas (remove the mark once fixed; strict=True alerts then)
# --------------------------------------------------------------------------

#: "name-arg-label" -> (owning area, what happened on 2026-12-02, before the merge).
KNOWN_FAILURES: dict[str, tuple[str, str]] = {
}


def _params():
    for name, arg, label in _cases():
        case_id = f"{name}-{arg}-{label}"
        marks = []
        if case_id in KNOWN_FAILURES:
            area, seen = KNOWN_FAILURES[case_id]
            marks.append(pytest.mark.xfail(strict=True, reason=f"owned by {area} helper: {seen}"))
        yield pytest.param(name, arg, label, id=case_id, marks=marks)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_every_public_name_has_a_fuzz_entry():
    missing = sorted(set(lc.__all__) - set(VALID))
    stale = sorted(set(VALID) - set(lc.__all__))
    assert not missing, f"public names without an entry in VALID: {missing}"
    assert not stale, f"entries in VALID that are not public any more: {stale}"
    assert set(RESULT_TYPES) == {n for n, f in VALID.items() if f is None}


@pytest.mark.parametrize("name", [n for n, f in VALID.items() if f is not None])
def test_valid_arguments_give_a_finite_result(name):
    result = call(name, VALID[name]())
    assert not non_finite(result), non_finite(result)


@pytest.mark.parametrize("name", sorted(RESULT_TYPES))
def test_result_types_are_dataclasses_the_api_returns(name):
    cls = getattr(lc, name)
    assert dataclasses.is_dataclass(cls)
    producer = RESULT_TYPES[name]
    if producer is None:
        return
    result = call(producer, VALID[producer]())
    if isinstance(result, tuple):
        result = result[0]
    assert isinstance(result, cls)


@pytest.mark.parametrize("name, arg, label", list(_params()))
def test_bad_argument_gives_a_named_error_or_a_finite_result(name, arg, label):
    kwargs = VALID[name]()
    value = dict(bad_values(kwargs[arg]))[label]
    kwargs[arg] = value
    problem = verdict(name, arg, kwargs)
    assert problem is None, f"{name}({arg}={label}): {problem}"


# --------------------------------------------------------------------------
# hypothesis: any finite numbers (1e-308 .. 1.8e308, signs mixed) in the valid shape
# --------------------------------------------------------------------------

#: "name-arg" -> (owning area, what hypothesis found on 2026-12-02, before the merge).
KNOWN_MAGNITUDE_FAILURES: dict[str, tuple[str, str]] = {
}


def _float_arguments() -> Iterator[tuple[str, str]]:
    for name, factory in VALID.items():
        if factory is None:
            continue
        for arg, value in factory().items():
            array = value.detach().numpy() if _is_tensor(value) else value
            if isinstance(array, np.ndarray) and array.dtype.kind == "f" and array.size:
                yield name, arg


def _magnitude_params():
    for name, arg in _float_arguments():
        case_id = f"{name}-{arg}"
        marks = []
        if case_id in KNOWN_MAGNITUDE_FAILURES:
            area, seen = KNOWN_MAGNITUDE_FAILURES[case_id]
            marks.append(pytest.mark.xfail(strict=True, reason=f"owned by {area} helper: {seen}"))
        yield pytest.param(name, arg, id=case_id, marks=marks)


ANY_FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@pytest.mark.parametrize("name, arg", list(_magnitude_params()))
@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_finite_values_give_a_named_error_or_a_finite_result(name, arg, data):
    kwargs = VALID[name]()
    valid = kwargs[arg]
    shape = tuple(valid.shape)
    values = data.draw(hnp.arrays(np.float64, shape, elements=ANY_FINITE), label=arg)
    if _is_tensor(valid):
        import torch

        values = torch.as_tensor(values, dtype=valid.dtype)
    kwargs[arg] = values
    problem = verdict(name, arg, kwargs)
    assert problem is None, f"{name}({arg}=...): {problem}"
