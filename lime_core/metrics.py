"""Evaluating explanations: does the attribution point at what the model uses?

* Deletion and insertion curves (Petsiuk et al., 2018): remove (or insert) the
  input's units in the order the attribution ranks them and follow the model's
  score. A faithful attribution makes the deletion curve fall fast (low AUC) and
  the insertion curve rise fast (high AUC).
* Faithfulness correlation (Bhatt et al., 2020): over random subsets ``S``,
  the correlation between ``sum_{i in S} a_i`` and the drop ``f(x) - f(x with S removed)``.
* Localisation against a ground truth: :func:`iou` and :func:`pointing_game`.
* Recall of truly important features (:func:`recall_at_k`, the sparse-model
  experiment of the LIME paper).
* Stability over random seeds (:func:`stability`: top-k Jaccard and Kendall tau).
* ROAR, remove and retrain (Hooker et al., 2019): :func:`roar`.

Models are callables ``model(batch) -> (n,)`` or ``(n, k)`` scores (numpy functions
or torch modules), with a ``target`` column when there are several. Inputs and maps
follow the contract of :mod:`lime_core.attribution`: a map has the input's shape, and
an attribution method or result object can be passed instead of a map.

See the course notebook ``course/11_evaluating_explanations.ipynb`` and homework
``hw6_evaluation``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    RandomState,
    _describe,
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_positive,
    check_random_state,
    select_target,
)
from lime_core.attribution import (
    Layout,
    as_map,
    attribution_map,
    call_model,
    input_layout,
    spatial_map,
    to_numpy,
)
from lime_core.perturbation import masked_images
from lime_core.segmentation import relabel

#: Named baselines of the metrics: zeros, the whole input's per-channel mean, a blur.
BASELINES = ("zero", "channel_mean", "blur")
UNITS = ("auto", "feature", "pixel", "patch", "superpixel")
#: faithfulness_correlation draws its subsets as one (num_subsets, units) table of floats:
#: at most this many entries (400 MB).
MAX_SUBSET_ENTRIES = 50_000_000


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class CurveResult:
    """A deletion or insertion curve.

    Attributes
    ----------
    fractions : numpy.ndarray, shape (steps + 1,)
        Fraction of units removed (deletion) or inserted (insertion), from 0 to 1.
    scores : numpy.ndarray, shape (steps + 1,)
        The model's score for ``target`` at each fraction.
    auc : float
        Area under the curve, trapezoid rule on the fraction axis ``[0, 1]``.
    order : numpy.ndarray
        Unit indices in the order they were removed/inserted.
    kind : str
        ``"deletion"`` or ``"insertion"``.
    direction : str
        ``"most_relevant_first"`` or ``"least_relevant_first"``.
    model_calls : int
        Calls made to the model (``num_model_calls`` is its deprecated name).
    """

    fractions: np.ndarray
    scores: np.ndarray
    auc: float
    order: np.ndarray
    kind: str
    direction: str
    model_calls: int

    @property
    def num_model_calls(self) -> int:
        """Deprecated name of :attr:`model_calls`."""
        warn_renamed("CurveResult", "num_model_calls", "model_calls")
        return self.model_calls


@dataclass
class FaithfulnessResult:
    """Faithfulness correlation and the points it was computed from."""

    correlation: float
    attribution_sums: np.ndarray
    output_drops: np.ndarray
    subset_size: int
    random_state: Any
    model_calls: int = 0


@dataclass
class StabilityResult:
    """Agreement of explanations computed with different random seeds.

    ``jaccard`` and ``kendall_tau`` are the means over all pairs of seeds;
    ``pairwise_jaccard`` and ``pairwise_kendall_tau`` hold every pair (in
    ``itertools.combinations`` order).
    """

    jaccard: float
    kendall_tau: float
    pairwise_jaccard: np.ndarray
    pairwise_kendall_tau: np.ndarray
    attributions: np.ndarray
    seeds: list
    k: int


@dataclass
class RoarResult:
    """Test accuracy after removing the top ``fraction`` of features and retraining."""

    fractions: np.ndarray
    accuracies: np.ndarray
    random_state: Any


# --------------------------------------------------------------------------
# helpers shared by the curves and faithfulness
# --------------------------------------------------------------------------


def _scores(model: Callable, canonical_batch: np.ndarray, layout: Layout,
            target: int | None) -> np.ndarray:
    """One model call on a batch in the canonical layout; the ``target`` column as ``(n,)``."""
    try:
        out = call_model(model, layout.from_canonical(canonical_batch))
    except ValueError as err:
        if "NaN or infinite" not in str(err):
            raise
        raise ValueError(
            f"{err} on inputs built from x and the baseline (largest magnitude "
            f"{float(np.max(np.abs(canonical_batch))):.3g})") from err
    return select_target(out, target)


def _baseline(x: np.ndarray, baseline: Any, blur_sigma: float, layout: Layout) -> np.ndarray:
    """The canonical input with every unit removed: zeros, channel mean, blur, or an array."""
    if isinstance(baseline, str) and baseline == "mean":
        warn_renamed("metrics", "baseline='mean' (replacement='mean')", "baseline='channel_mean'")
        baseline = "channel_mean"
    if not isinstance(baseline, str):
        if isinstance(baseline, int | float | np.number) and not isinstance(baseline, bool):
            if not np.isfinite(baseline):
                raise ValueError(f"baseline must be a finite number, got {baseline}")
            return np.full_like(x, float(baseline))
        base = to_numpy(baseline, "baseline")
        if base.shape == layout.shape:
            base = layout.to_canonical(base)
        if base.shape != x.shape:
            raise ValueError(
                f"baseline must be one of {BASELINES}, a number or an array of shape "
                f"{layout.shape} like x, got shape {base.shape}"
            )
        if not np.all(np.isfinite(base)):
            raise ValueError("baseline contains NaN or infinite values")
        return base
    check_choice(baseline, "baseline", BASELINES)
    if baseline == "zero":
        return np.zeros_like(x)
    if baseline == "channel_mean":
        if x.ndim == 3:  # (H, W, C): the image's mean colour
            return np.broadcast_to(x.mean(axis=(0, 1)), x.shape).copy()
        return np.full_like(x, x.mean())
    if x.ndim == 1:
        raise ValueError("baseline 'blur' needs an image x (2-D or 3-D), got a 1-D x")
    from scipy.ndimage import gaussian_filter

    sigma = (blur_sigma, blur_sigma, 0) if x.ndim == 3 else blur_sigma
    return gaussian_filter(x, sigma=sigma)


def _unit_map(spatial: tuple, unit: str, patch_size: int, segments: Any) -> np.ndarray:
    """Label every position (pixel, or feature of a 1-D x) with its unit index ``0 .. U-1``."""
    one_d = len(spatial) == 1
    if unit == "auto":
        unit = "superpixel" if segments is not None else ("feature" if one_d else "pixel")
    if unit in ("feature", "pixel"):
        if (unit == "feature") != one_d:
            raise ValueError(f"unit {unit!r} does not fit an x whose units are {spatial}")
        return np.arange(int(np.prod(spatial))).reshape(spatial)
    if one_d:
        raise ValueError(f"unit {unit!r} needs an image x, got a 1-D x")
    if unit == "patch":
        rows = np.arange(spatial[0]) // patch_size
        cols = np.arange(spatial[1]) // patch_size
        n_cols = cols.max() + 1
        return rows[:, None] * n_cols + cols[None, :]
    if segments is None:
        raise ValueError("segments must be given for unit='superpixel', got None")
    seg = np.asarray(segments)
    if seg.shape != spatial or seg.dtype.kind not in "iu":
        raise ValueError(
            f"segments must be an int array of shape {spatial}, got "
            f"{'array of shape ' + str(seg.shape) + ' and dtype ' + str(seg.dtype)}"
        )
    return relabel(seg)


def _unit_scores(spatial_attr: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Sum the (channel-summed) attribution over each unit."""
    return np.bincount(units.ravel(), weights=spatial_attr.ravel(), minlength=units.max() + 1)


def _prepare(model, x, attribution, target, unit, patch_size, segments, baseline, blur_sigma):
    """Check the arguments; everything in the canonical layout ``(d,)``, ``(H, W[, C])``."""
    check_callable(model, "model")
    layout = input_layout(x, model)
    xc = layout.to_canonical(x)
    if xc.size == 0:
        raise ValueError(f"x must not be empty, got shape {np.shape(x)}")
    if not np.all(np.isfinite(xc)):
        raise ValueError("x contains NaN or infinite values")
    if target is not None:
        target = check_int(target, "target", minimum=0)
    if callable(attribution) and not hasattr(attribution, "shape"):
        attribution = attribution_map(attribution, model, x, target=target)
    spatial_attr = spatial_map(as_map(attribution, layout, target=target), layout)
    if not np.all(np.isfinite(spatial_attr)):
        raise ValueError("attribution contains NaN or infinite values (or values so large "
                         "that their sum over colour channels overflows)")
    check_choice(unit, "unit", UNITS)
    patch_size = check_int(patch_size, "patch_size", minimum=1)
    blur_sigma = check_positive(blur_sigma, "blur_sigma")
    units = _unit_map(layout.spatial_shape, unit, patch_size, segments)
    base = _baseline(xc, baseline, blur_sigma, layout)
    return layout, xc, spatial_attr, target, units, base


def _masked(xc: np.ndarray, units: np.ndarray, removed: np.ndarray, base: np.ndarray):
    """Inputs with the units where ``removed`` (b, U) is True taken from ``base``."""
    if xc.ndim == 1:
        return np.where(removed[:, units], base[None], xc[None])
    return masked_images(xc, units, ~removed, base)


def _curve(kind: str, model, x, attribution, target, steps, unit, patch_size, segments,
           baseline, blur_sigma, direction, batch_size) -> CurveResult:
    layout, xc, spatial_attr, target, units, base = _prepare(
        model, x, attribution, target, unit, patch_size, segments, baseline, blur_sigma)
    check_choice(direction, "direction", ("most_relevant_first", "least_relevant_first"))
    n_units = int(units.max()) + 1
    steps = check_int(steps, "steps", minimum=1)
    steps = min(steps, n_units)
    batch_size = check_int(batch_size, "batch_size", minimum=1)

    unit_score = _unit_scores(spatial_attr, units)
    order = np.argsort(-unit_score, kind="stable")
    if direction == "least_relevant_first":
        order = order[::-1]
    counts = np.round(np.linspace(0, n_units, steps + 1)).astype(int)
    rank = np.empty(n_units, dtype=int)
    rank[order] = np.arange(n_units)
    # changed[t, u]: unit u is removed (deletion) or inserted (insertion) at step t
    changed = rank[None, :] < counts[:, None]
    take_base = changed if kind == "deletion" else ~changed

    scores = np.empty(steps + 1)
    calls = 0
    for start in range(0, steps + 1, batch_size):
        batch = _masked(xc, units, take_base[start : start + batch_size], base)
        scores[start : start + batch_size] = _scores(model, batch, layout, target)
        calls += 1
    fractions = counts / n_units
    return CurveResult(fractions, scores, _area(scores, fractions), order, kind, direction, calls)


def _area(scores: np.ndarray, fractions: np.ndarray) -> float:
    """Trapezoid rule, on scores divided by their largest magnitude first: the average of
    two scores near 1.8e308 is finite, their sum is not."""
    top = float(np.max(np.abs(scores)))
    if top == 0.0:
        return 0.0
    return float(np.trapezoid(scores / top, fractions)) * top


# --------------------------------------------------------------------------
# deletion / insertion / faithfulness
# --------------------------------------------------------------------------


@renamed_arguments({"f": "model", "replacement": "baseline"})
def deletion_curve(
    model: Callable,
    x: Any,
    attribution: Any,
    *,
    target: int | None = None,
    steps: int = 20,
    unit: str = "auto",
    patch_size: int = 8,
    segments: Any = None,
    baseline: Any = "zero",
    blur_sigma: float = 5.0,
    direction: str = "most_relevant_first",
    batch_size: int = 64,
) -> CurveResult:
    """Deletion curve: remove units in attribution order and follow the target score.

    Units are pixels, ``patch_size`` x ``patch_size`` patches, superpixels (a
    ``segments`` label map) or, for a 1-D ``x``, features. Each unit's relevance is
    the sum of the attribution over it (and over colour channels). At step ``t``
    of ``steps`` the first ``round(t U / steps)`` of the ``U`` units are replaced by
    the baseline (``"zero"``, the image's ``"channel_mean"`` colour, a Gaussian
    ``"blur"`` of ``x``, a number or an array), and
    ``AUC = integral_0^1 score(fraction) d fraction`` by the trapezoid rule. A faithful
    attribution (most relevant first) gives a **low** deletion AUC. All ``steps + 1``
    inputs are scored in batches of ``batch_size``.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    model : callable or torch.nn.Module
        ``model(batch (n, *x's example shape)) -> (n,)`` or ``(n, k)``; a torch
        module gets float32 tensors in ``x``'s layout and runs without gradients.
    x : array or tensor
        One input: ``(d,)``, ``(H, W)``, ``(H, W, C)`` or, for torch, ``(C, H, W)``;
        a leading batch axis of 1 is allowed (see :func:`lime_core.attribution.input_layout`).
    attribution : array, Explanation, ShapleyResult or attribution method
        A map shaped like ``x`` (or like its pixels ``(H, W)``), a result object, or a
        method such as ``lime_core.saliency`` (called as ``method(model, x, target=target)``).
    target : int or None
        Output column followed (needed when ``model`` returns several).
    steps : int
        Number of removal steps (capped at the number of units).
    unit : {"auto", "feature", "pixel", "patch", "superpixel"}
    patch_size : int
    segments : int array (H, W), optional
        Superpixel labels, for ``unit="superpixel"`` (or ``"auto"``).
    baseline : {"zero", "channel_mean", "blur"}, number or array of x's shape
        What removed units show (was ``replacement=``; ``"mean"`` is the deprecated
        name of ``"channel_mean"``).
    blur_sigma : float
        Standard deviation (pixels) of the blur baseline.
    direction : {"most_relevant_first", "least_relevant_first"}
    batch_size : int

    Returns
    -------
    CurveResult

    Examples
    --------
    >>> import numpy as np, lime_core
    >>> w = np.array([3.0, 1.0, 0.0, 0.0])
    >>> model = lambda rows: rows @ w
    >>> x = np.ones(4)
    >>> good = lime_core.deletion_curve(model, x, w * x, steps=4)
    >>> bad = lime_core.deletion_curve(model, x, -w * x, steps=4)
    >>> good.scores.tolist(), good.auc < bad.auc
    ([4.0, 1.0, 0.0, 0.0, 0.0], True)
    """
    return _curve("deletion", model, x, attribution, target, steps, unit, patch_size, segments,
                  baseline, blur_sigma, direction, batch_size)


@renamed_arguments({"f": "model", "replacement": "baseline"})
def insertion_curve(
    model: Callable,
    x: Any,
    attribution: Any,
    *,
    target: int | None = None,
    steps: int = 20,
    unit: str = "auto",
    patch_size: int = 8,
    segments: Any = None,
    baseline: Any = None,
    blur_sigma: float = 5.0,
    direction: str = "most_relevant_first",
    batch_size: int = 64,
) -> CurveResult:
    """Insertion curve: start from the baseline and put units of ``x`` back in attribution order.

    The mirror of :func:`deletion_curve` (same arguments): at fraction ``t`` the
    most relevant ``t`` of the units show ``x``, the rest the baseline (by default
    a blur of ``x`` for images, as in Petsiuk et al., and zeros for a feature
    vector; ``baseline=None`` picks that default). A faithful attribution
    gives a **high** insertion AUC.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    model, x, attribution, target, steps, unit, patch_size, segments, blur_sigma, direction, batch_size
        As in :func:`deletion_curve`.
    baseline : None, {"zero", "channel_mean", "blur"}, number or array
        What not-yet-inserted units show (``None``: blur for images, zeros otherwise).

    Returns
    -------
    CurveResult
    """
    if baseline is None:
        baseline = "zero" if len(input_layout(x, model).spatial_shape) == 1 else "blur"
    return _curve("insertion", model, x, attribution, target, steps, unit, patch_size, segments,
                  baseline, blur_sigma, direction, batch_size)


@renamed_arguments({"f": "model", "replacement": "baseline"})
def faithfulness_correlation(
    model: Callable,
    x: Any,
    attribution: Any,
    *,
    target: int | None = None,
    subset_size: int | None = None,
    num_subsets: int = 100,
    unit: str = "auto",
    patch_size: int = 8,
    segments: Any = None,
    baseline: Any = "zero",
    blur_sigma: float = 5.0,
    random_state: RandomState = None,
    batch_size: int = 64,
) -> FaithfulnessResult:
    """Faithfulness correlation: ``corr_S( sum_{i in S} a_i , f(x) - f(x_[S removed]) )``.

    For ``num_subsets`` random subsets ``S`` of ``subset_size`` units (default: a
    quarter of the units), the units of ``S`` are replaced by the baseline; the
    Pearson correlation between the attribution mass of ``S`` and the output
    drop is returned. Near 1 means the attribution predicts what removing
    features does. Units and baseline as in :func:`deletion_curve`.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    model, x, attribution, target, unit, patch_size, segments, baseline, blur_sigma, batch_size
        As in :func:`deletion_curve`.
    subset_size : int, optional
        Units removed per subset (default a quarter of them).
    num_subsets : int
        Number of random subsets (>= 2).
    random_state : int, numpy.random.Generator or None
        Draws the subsets.

    Returns
    -------
    FaithfulnessResult
    """
    layout, xc, spatial_attr, target, units, base = _prepare(
        model, x, attribution, target, unit, patch_size, segments, baseline, blur_sigma)
    n_units = int(units.max()) + 1
    if n_units < 2:
        raise ValueError(f"x must have at least 2 units for faithfulness_correlation, got {n_units}")
    if subset_size is None:
        subset_size = max(1, n_units // 4)
    subset_size = check_int(subset_size, "subset_size", minimum=1, maximum=n_units - 1)
    num_subsets = check_int(num_subsets, "num_subsets", minimum=2)
    if num_subsets * n_units > MAX_SUBSET_ENTRIES:
        raise ValueError(
            f"num_subsets must be at most {MAX_SUBSET_ENTRIES // n_units} for x with {n_units} "
            f"units (the subsets are drawn as a num_subsets x units table), got {num_subsets}"
        )
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    rng, recorded = check_random_state(random_state)

    unit_score = _unit_scores(spatial_attr, units)
    ranks = np.argsort(rng.random((num_subsets, n_units)), axis=1)
    removed = ranks < subset_size  # (num_subsets, U), each row a uniform random subset
    with np.errstate(over="ignore", invalid="ignore"):
        sums = removed.astype(float) @ unit_score
    if not np.all(np.isfinite(sums)):
        raise ValueError("attribution values are so large that their sum over a subset of "
                         f"{subset_size} units overflows; rescale the attribution")
    full = _scores(model, xc[None], layout, target)[0]
    calls = 1
    drops = np.empty(num_subsets)
    for start in range(0, num_subsets, batch_size):
        batch = _masked(xc, units, removed[start : start + batch_size], base)
        drops[start : start + batch_size] = full - _scores(model, batch, layout, target)
        calls += 1
    if np.std(sums) == 0 or np.std(drops) == 0:
        corr = float("nan")
    else:
        corr = float(np.corrcoef(sums, drops)[0, 1])
    return FaithfulnessResult(corr, sums, drops, subset_size, recorded, calls)


# --------------------------------------------------------------------------
# localisation: IoU and pointing game
# --------------------------------------------------------------------------


def _ground_truth_mask(ground_truth: Any, shape: tuple[int, int]) -> np.ndarray:
    """A bool mask from a mask array or a box ``(row0, col0, row1, col1)`` (end exclusive)."""
    if isinstance(ground_truth, tuple | list) and len(ground_truth) == 4 and all(
        isinstance(v, int | np.integer) for v in ground_truth
    ):
        r0, c0, r1, c1 = (int(v) for v in ground_truth)
        if not (0 <= r0 < r1 <= shape[0] and 0 <= c0 < c1 <= shape[1]):
            raise ValueError(
                f"ground_truth box (row0, col0, row1, col1) must lie inside the attribution "
                f"map of shape {shape}: 0 <= row0 < row1 <= {shape[0]} and "
                f"0 <= col0 < col1 <= {shape[1]}, got {tuple(ground_truth)}"
            )
        mask = np.zeros(shape, dtype=bool)
        mask[r0:r1, c0:c1] = True
        return mask
    mask = np.asarray(ground_truth)
    if mask.shape != shape:
        raise ValueError(
            f"ground_truth must be a box (row0, col0, row1, col1) or a mask of the attribution "
            f"map's shape {shape}, "
            f"got {'shape ' + str(mask.shape)}"
        )
    if mask.dtype != bool:
        if not np.all(np.isin(mask, (0, 1))):
            raise ValueError("ground_truth mask must be boolean (or 0/1)")
        mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("ground_truth mask must contain at least one pixel, got an empty mask")
    return mask


def _attribution_map(attribution: Any) -> np.ndarray:
    """A 2-D pixel map from a map in any image layout (or a LIME Explanation).

    Leading axes of size 1 (a batch of one) are dropped; a 3-D map is summed over its
    channel axis: the first when it has 1, 3 or 4 entries (torch's ``(C, H, W)``) and
    the last has not, else the last (``(H, W, C)``).
    """
    a = to_numpy(as_map(attribution), "attribution")
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    a = check_array(a, "attribution", ndim=(2, 3))
    if a.size == 0:
        raise ValueError(f"attribution must not be empty, got shape {a.shape}")
    if a.ndim == 3:
        channels_first = a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4)
        with np.errstate(over="ignore", invalid="ignore"):
            a = a.sum(axis=0 if channels_first else -1)
        if not np.all(np.isfinite(a)):
            raise ValueError("attribution values are so large that their sum over colour "
                             "channels overflows; rescale the attribution")
    return a


def iou(
    attribution: Any,
    ground_truth: Any,
    *,
    threshold: float | None = None,
    top_fraction: float | None = None,
) -> float:
    """Intersection over union of the thresholded attribution and the ground truth.

    ``IoU = |A and G| / |A or G|`` where ``A`` are the pixels whose attribution is
    above ``threshold``, or the ``top_fraction`` most attributed pixels (default:
    as many pixels as the ground truth has), and ``G`` the ground-truth mask or
    box ``(row0, col0, row1, col1)`` (end exclusive). Colour channels are summed.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    attribution : array (H, W), (H, W, C), (C, H, W) or (1, C, H, W), or an Explanation
    ground_truth : bool mask (H, W) or box (row0, col0, row1, col1)
    threshold : float, optional
    top_fraction : float in (0, 1], optional

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4)); a[:2, :2] = 1.0
    >>> iou(a, (0, 0, 2, 2)), iou(a, (0, 0, 2, 4), threshold=0.5)
    (1.0, 0.5)
    """
    a = _attribution_map(attribution)
    gt = _ground_truth_mask(ground_truth, a.shape)
    if threshold is not None and top_fraction is not None:
        raise ValueError("threshold and top_fraction: give at most one of them, got both")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        selected = a > threshold
    else:
        if top_fraction is None:
            k = int(gt.sum())
        else:
            frac = check_positive(top_fraction, "top_fraction")
            if frac > 1:
                raise ValueError(f"top_fraction must be in (0, 1], got {frac}")
            k = max(1, int(round(frac * a.size)))
        selected = np.zeros(a.size, dtype=bool)
        selected[np.argsort(-a.ravel(), kind="stable")[:k]] = True
        selected = selected.reshape(a.shape)
    union = np.logical_or(selected, gt).sum()
    return float(np.logical_and(selected, gt).sum() / union)


def pointing_game(attribution: Any, ground_truth: Any, *, tolerance: int = 0) -> bool:
    """Pointing game (Zhang et al., 2016): is the most attributed pixel inside the ground truth?

    A hit when ``argmax_p a(p)`` lies in the ground-truth mask or box, grown by
    ``tolerance`` pixels in every direction (the original used 15 px).

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    attribution : array in any image layout, or an Explanation
        As in :func:`iou`.
    ground_truth : bool mask (H, W) or box (row0, col0, row1, col1)
    tolerance : int
        Pixels added around the ground truth.

    Returns
    -------
    bool
    """
    a = _attribution_map(attribution)
    gt = _ground_truth_mask(ground_truth, a.shape)
    tolerance = min(check_int(tolerance, "tolerance", minimum=0), max(a.shape))
    if tolerance:
        from scipy.ndimage import binary_dilation

        gt = binary_dilation(gt, structure=np.ones((3, 3), bool), iterations=tolerance)
    row, col = np.unravel_index(int(np.argmax(a)), a.shape)
    return bool(gt[row, col])


# --------------------------------------------------------------------------
# recall, stability, ROAR
# --------------------------------------------------------------------------


def _as_weights(attribution: Any, d: int | None, name: str = "attribution") -> np.ndarray:
    """An attribution vector from an array or ``[(feature index, weight)]`` pairs (``as_map()``)."""
    if isinstance(attribution, dict):
        attribution = list(attribution.items())
    if isinstance(attribution, list) and attribution and isinstance(attribution[0], tuple):
        if d is None:
            d = max(int(j) for j, _ in attribution) + 1
        vec = np.zeros(d)
        for j, w in attribution:
            j = int(j)
            if not 0 <= j < d:
                raise ValueError(f"{name} has feature index {j} outside [0, {d - 1}]")
            vec[j] = float(w)
        return vec
    if attribution is None or isinstance(attribution, str | bytes):
        raise TypeError(f"{name} must be an array of numbers, got {_describe(attribution)}")
    return check_array(attribution, name, ndim=1)


def recall_at_k(attribution: Any, true_features: Sequence[int], k: int | None = None) -> float:
    """Fraction of the truly important features found among the top ``k`` attributed ones.

    ``recall@k = |top_k(|a|) and G| / |G|`` for the gold set ``G``
    (``k`` defaults to ``|G|``). This is the LIME paper's check on classifiers that use
    only a few features (sparse logistic regression, shallow trees): an
    explanation restricted to ``k`` features should recover them.

    See the course notebook ``course/07_did_lime_find_the_truth.ipynb``.

    Parameters
    ----------
    attribution : array-like (d,) or list of (feature index, weight)
        Feature weights; pairs (as from ``Explanation.as_map()[label]``) leave the
        missing features at 0.
    true_features : sequence of int
        Indices of the features the model really uses.
    k : int, optional

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> recall_at_k(np.array([0.9, 0.0, -0.5, 0.1]), true_features=[0, 2])
    1.0
    """
    attribution = as_map(attribution)
    if hasattr(attribution, "detach"):
        attribution = to_numpy(attribution)
    if isinstance(attribution, list | dict) and len(attribution) == 0:
        raise ValueError("attribution must hold at least one feature weight, got an empty "
                         f"{type(attribution).__name__}")
    if isinstance(true_features, str | bytes | dict) or not hasattr(true_features, "__iter__"):
        raise TypeError(
            f"true_features must be a list of int indices, got {_describe(true_features)}")
    gold = np.asarray(list(true_features))
    if gold.size == 0 or gold.dtype.kind not in "iu":
        raise ValueError(f"true_features must be a non-empty list of int indices, got {gold!r}")
    if len(set(gold.tolist())) != gold.size:
        raise ValueError("true_features must not repeat an index")
    d_hint = None if not isinstance(attribution, list | dict) else int(gold.max()) + 1
    if isinstance(attribution, list | dict) and attribution:
        pairs = attribution.items() if isinstance(attribution, dict) else attribution
        d_hint = max(d_hint, max(int(j) for j, _ in pairs) + 1)
    a = _as_weights(attribution, d_hint)
    d = a.shape[0]
    if d == 0:
        raise ValueError("attribution must hold at least one feature weight, got an empty array")
    if gold.min() < 0 or gold.max() >= d:
        raise ValueError(f"true_features must be indices in [0, {d - 1}], got {gold.tolist()}")
    k = gold.size if k is None else check_int(k, "k", minimum=1, maximum=d)
    top = np.argsort(-np.abs(a), kind="stable")[:k]
    # features with zero weight are not "found", even if they fall into the top k
    found = set(top[np.abs(a[top]) > 0].tolist()) & set(gold.tolist())
    return len(found) / gold.size


def _kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    tau = kendalltau(a, b).statistic
    return float(tau) if np.isfinite(tau) else float("nan")


def pixel_map(attribution: Any) -> np.ndarray:
    """A 2-D ``(H, W)`` map from an image attribution in any layout, channels summed.

    Accepts ``(H, W)``, ``(H, W, C)``, ``(C, H, W)``, ``(1, C, H, W)`` arrays or tensors
    (what the gradient methods return for a batch of one) and LIME ``Explanation`` s
    (their :meth:`~lime_core.explanation.Explanation.attribution`).

    Parameters
    ----------
    attribution : array, tensor or Explanation

    Returns
    -------
    numpy.ndarray, shape ``(H, W)``

    Examples
    --------
    >>> import numpy as np
    >>> pixel_map(np.ones((1, 3, 2, 5))).tolist()          # a gradient map of one RGB image
    [[3.0, 3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0, 3.0]]
    """
    return _attribution_map(attribution)


def _explained(explain_fn: Callable, seed: int) -> np.ndarray:
    """``explain_fn(seed)`` as a finite float array (a ``ValueError`` naming ``explain_fn``
    for NaN, infinity or an empty map: Jaccard on them would be meaningless)."""
    a = to_numpy(as_map(explain_fn(seed)), f"explain_fn({seed})")
    if a.size == 0:
        raise ValueError(f"explain_fn({seed}) returned an empty attribution")
    if not np.all(np.isfinite(a)):
        raise ValueError(
            f"explain_fn({seed}) returned an attribution with NaN or infinite values; "
            "stability of such maps is undefined")
    return a


def _segment_labels(segments: Any) -> np.ndarray:
    """Superpixel labels ``0 .. S-1`` from an int ``(H, W)`` array."""
    seg = check_array(segments, "segments", ndim=2, dtype=None)
    if seg.dtype.kind not in "iu" or seg.size == 0:
        raise ValueError(f"segments must be a non-empty int array (H, W), got {_describe(seg)}")
    return relabel(seg)


def stability(
    explain_fn: Callable,
    seeds: Sequence[int],
    *,
    k: int = 5,
    absolute: bool = True,
    segments: Any = None,
) -> StabilityResult:
    """How much an explanation changes when only the random seed changes.

    ``explain_fn(seed)`` returns an attribution (1-D array, or any array that is
    flattened). For every pair of seeds: the Jaccard index of the top-``k``
    features, ``|T_1 and T_2| / |T_1 or T_2|``, and Kendall's ``tau`` between
    the two attributions (rank agreement over all features). ``absolute`` ranks by
    ``|a|``. LIME with few samples is unstable; this measures by how much.

    With ``segments`` every image attribution is first added up over each superpixel
    (channels summed, :func:`pixel_map`), a common unit for pixel maps and LIME's
    region maps.

    See the course notebooks ``course/11_evaluating_explanations.ipynb`` and
    ``course/14_choosing_a_method.ipynb``.

    Parameters
    ----------
    explain_fn : callable
        ``explain_fn(seed) -> attribution`` (an array, an Explanation or a ShapleyResult).
    seeds : sequence of int
        At least two.
    k : int
        Size of the top sets compared by Jaccard.
    absolute : bool
        Rank by ``|a|``.
    segments : int array ``(H, W)``, optional
        Superpixels to add image attributions up over.

    Returns
    -------
    StabilityResult
    """
    check_callable(explain_fn, "explain_fn")
    if isinstance(seeds, str | bytes | dict) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of int seeds, got {_describe(seeds)}")
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds, got {len(seeds)}")
    for i, seed in enumerate(seeds):
        check_int(seed, f"seeds[{i}]", minimum=0)
    if segments is None:
        maps = [_explained(explain_fn, s).ravel() for s in seeds]
    else:
        labels = _segment_labels(segments)
        maps = []
        for s in seeds:
            spatial = pixel_map(_explained(explain_fn, s))
            if spatial.shape != labels.shape:
                raise ValueError(
                    f"segments must have the shape {spatial.shape} of the maps explain_fn "
                    f"returns, got {labels.shape}")
            maps.append(np.bincount(labels.ravel(), weights=spatial.ravel(),
                                    minlength=int(labels.max()) + 1))
    d = maps[0].size
    if any(m.size != d for m in maps):
        raise ValueError("explain_fn must return attributions of the same size for every seed")
    k = check_int(k, "k", minimum=1)
    if k > d:
        raise ValueError(f"k must be <= {d}, the number of features explain_fn returns, got {k}")
    A = np.vstack(maps)
    R = np.abs(A) if absolute else A
    tops = [set(np.argsort(-r, kind="stable")[:k].tolist()) for r in R]
    jac, tau = [], []
    for i, j in itertools.combinations(range(len(seeds)), 2):
        jac.append(len(tops[i] & tops[j]) / len(tops[i] | tops[j]))
        tau.append(_kendall_tau(R[i], R[j]))
    jac_arr, tau_arr = np.array(jac), np.array(tau)
    return StabilityResult(float(jac_arr.mean()), float(np.nanmean(tau_arr)) if np.any(
        np.isfinite(tau_arr)) else float("nan"), jac_arr, tau_arr, A, seeds, k)


def remove_top_features(X: np.ndarray, attributions: np.ndarray, fraction: float,
                        fill: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace, in every row, the ``round(fraction d)`` most attributed features by ``fill``.

    Ties are broken at random with ``rng``.
    """
    n, d = X.shape
    n_remove = int(round(fraction * d))
    jitter = rng.random((n, d))
    order = np.lexsort((jitter, -attributions), axis=-1)  # by attribution, then jitter
    removed = np.zeros((n, d), dtype=bool)
    np.put_along_axis(removed, order[:, :n_remove], True, axis=1)
    return np.where(removed, fill[None, :], X)


def _class_labels(y: Any, name: str) -> np.ndarray:
    """Class labels (ints, bools or strings; floats only when they are whole numbers)."""
    if y is None or isinstance(y, str | bytes | dict):
        raise TypeError(f"{name} must be an array of class labels, got {_describe(y)}")
    y = np.asarray(y)
    if y.dtype.kind == "O":
        raise TypeError(f"{name} must be an array of class labels, got {_describe(y)}")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y) & (np.round(y) == y)):
        raise ValueError(
            f"{name} must hold class labels (accuracy is computed), got non-integer numbers")
    return y


@renamed_arguments(old_positional=("train_fn", "X_train", "y_train", "X_test", "y_test",
                                   "attributions_train", "attributions_test", "fractions",
                                   "random_state"))
def roar(
    train_fn: Callable,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    attributions_train: Any,
    attributions_test: Any,
    *,
    fractions: Sequence[float] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9),
    random_state: RandomState = None,
) -> RoarResult:
    """ROAR, RemOve And Retrain (Hooker et al., 2019).

    For each fraction ``t``: in every training and test row, the ``round(t d)``
    features with the highest attribution are replaced by the per-feature mean
    of ``X_train``; a new model is trained with ``train_fn(X, y)`` (it must return
    an object with ``predict``) and its test accuracy recorded. If the attribution
    found the informative features, accuracy falls fast; a random attribution
    degrades slowly. Retraining keeps the model from being scored on
    out-of-distribution inputs, which plain deletion cannot avoid.

    See the course notebook ``course/11_evaluating_explanations.ipynb``.

    Parameters
    ----------
    train_fn : callable
        ``train_fn(X, y) -> model`` with ``model.predict(X) -> labels``.
    X_train, y_train, X_test, y_test : array-like
    attributions_train, attributions_test : array-like
        One attribution per row, same shapes as ``X_train`` and ``X_test``.
    fractions : sequence of float in [0, 1]
    random_state : int, numpy.random.Generator or None
        Breaks ties between equal attributions.

    Returns
    -------
    RoarResult
    """
    check_callable(train_fn, "train_fn")
    X_train = check_array(X_train, "X_train", ndim=2, min_rows=1)
    X_test = check_array(X_test, "X_test", ndim=2, min_rows=1)
    y_train = _class_labels(y_train, "y_train")
    y_test = _class_labels(y_test, "y_test")
    if y_train.shape != (X_train.shape[0],):
        raise ValueError(f"y_train must have shape ({X_train.shape[0]},), got {y_train.shape}")
    if y_test.shape != (X_test.shape[0],):
        raise ValueError(f"y_test must have shape ({X_test.shape[0]},), got {y_test.shape}")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_test must have {X_train.shape[1]} columns like X_train, got {X_test.shape[1]}"
        )
    a_train = check_array(attributions_train, "attributions_train", ndim=2)
    a_test = check_array(attributions_test, "attributions_test", ndim=2)
    if a_train.shape != X_train.shape:
        raise ValueError(
            f"attributions_train must have shape {X_train.shape} like X_train, got {a_train.shape}"
        )
    if a_test.shape != X_test.shape:
        raise ValueError(
            f"attributions_test must have shape {X_test.shape} like X_test, got {a_test.shape}"
        )
    fr = check_array(fractions, "fractions", ndim=1)
    if fr.size == 0 or np.any((fr < 0) | (fr > 1)):
        raise ValueError(f"fractions must be a non-empty list of numbers in [0, 1], got {fr}")
    rng, recorded = check_random_state(random_state)

    fill = X_train.mean(axis=0)
    accuracies = np.empty(fr.size)
    for j, t in enumerate(fr):
        Xtr = remove_top_features(X_train, a_train, float(t), fill, rng)
        Xte = remove_top_features(X_test, a_test, float(t), fill, rng)
        model = train_fn(Xtr, y_train)
        if not hasattr(model, "predict"):
            raise TypeError(f"train_fn must return a model with a predict method, got {model!r}")
        accuracies[j] = float(np.mean(np.asarray(model.predict(Xte)) == y_test))
    return RoarResult(fr, accuracies, recorded)
