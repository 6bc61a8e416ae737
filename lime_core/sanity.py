"""Sanity checks for saliency maps: model-parameter randomisation (Adebayo et al., 2018).

If an attribution method explains the *model*, destroying the model's weights
must change the map. The checks re-initialise the layers of a copy of a trained
network and compare the map of the randomised model with the original one:

* cascading randomisation: randomise layers from the top (output) down,
  cumulatively, and compare after each step;
* independent randomisation: randomise one layer at a time, the others intact.

Similarity is measured on absolute maps ``|m|`` by Spearman's rank correlation
``rho = corr(rank(|m_orig|), rank(|m_rand|))`` and by SSIM (structural
similarity, ``skimage.metrics.structural_similarity``) of the maps scaled to
``[0, 1]``. A method whose map does not move when the weights are random (an
"edge detector" that only looks at the input) fails the check.

torch, scipy and scikit-image are imported inside the functions.

See the course notebook ``course/12_sanity_checks_axioms.ipynb`` and homework
``hw5_sanity_checks``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments
from lime_core._validation import (
    RandomState,
    _describe,
    check_callable,
    check_int,
    check_random_state,
)
from lime_core.attribution import attribution_map


@dataclass
class SanityResult:
    """Similarity of randomised-model maps to the original map.

    Attributes
    ----------
    layer_names : list of str
        Column labels: ``"original"`` (no randomisation, the reference point) then
        one name per step (cascading: the layer randomised last, all layers above
        it random too; independent: the only layer randomised).
    method_names : list of str
    spearman : numpy.ndarray, shape (methods, len(layer_names))
        Spearman rank correlation of ``|map|`` with the original map.
    ssim : numpy.ndarray, shape (methods, len(layer_names))
        SSIM of the ``[0, 1]``-scaled ``|map|`` with the original (NaN for 1-D maps).
    maps : dict of str to list of numpy.ndarray
        The maps per method, one per column.
    mode : str
        ``"cascading"`` or ``"independent"``.
    random_state : int or numpy.random.Generator
    """

    layer_names: list[str]
    method_names: list[str]
    spearman: np.ndarray
    ssim: np.ndarray
    maps: dict[str, list[np.ndarray]]
    mode: str
    random_state: Any


def randomizable_layers(model: Any) -> list[tuple[str, Any]]:
    """The modules of ``model`` that own parameters directly, in definition (forward) order."""
    layers = []
    for name, module in model.named_modules():
        if any(True for _ in module.parameters(recurse=False)):
            layers.append((name, module))
    return layers


def reinitialize_layer(module: Any, generator: Any) -> None:
    """Re-draw a layer's parameters from ``U(-b, b)``, ``b = 1 / sqrt(fan_in)``, in place.

    The same range as torch's default initialisation, but drawn from the given
    ``torch.Generator`` so the randomisation is reproducible. Only parameters are
    re-drawn: a BatchNorm layer gets random ``gamma, beta`` (from ``U(-1/sqrt(C), 1/sqrt(C))``)
    and keeps its running mean and variance, which are buffers, not parameters.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.
    """
    import torch

    weight = getattr(module, "weight", None)
    fan_in = None
    if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
        fan_in = weight[0].numel()
    with torch.no_grad():
        for param in module.parameters(recurse=False):
            n_in = fan_in if fan_in is not None else max(1, param.numel())
            bound = 1.0 / math.sqrt(n_in)
            fresh = torch.rand(param.shape, generator=generator, dtype=param.dtype)
            param.copy_((2 * fresh - 1) * bound)


def _as_map(value: Any) -> np.ndarray:
    """A 1-D or 2-D numpy map of ``|value|``: batch axis of 1 dropped, channels (axis 0) summed."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    m = np.abs(np.asarray(value, dtype=float))
    while m.ndim > 2 and m.shape[0] == 1:
        m = m[0]
    if m.ndim == 3:
        m = m.sum(axis=0)
    if m.ndim not in (1, 2):
        raise ValueError(
            f"attribution_fn must return a map of shape (H, W), (C, H, W) or (1, C, H, W), "
            f"got shape {np.shape(value)}"
        )
    return m


def spearman_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (flattened).

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.
    """
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(spearmanr(a, b).statistic)


def ssim_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two 2-D maps, each scaled to ``[0, 1]`` by its maximum (NaN for 1-D maps).

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.
    """
    if a.ndim != 2 or min(a.shape) < 3:
        return float("nan")
    from skimage.metrics import structural_similarity

    def scaled(m: np.ndarray) -> np.ndarray:
        top = m.max()
        return m / top if top > 0 else m

    win = min(7, min(a.shape))
    win = win if win % 2 else win - 1
    return float(structural_similarity(scaled(a), scaled(b), data_range=1.0, win_size=win))


def _check_args(model, x, attribution_fn, layers):
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor | np.ndarray):
        raise TypeError(f"x must be a torch.Tensor or numpy array, got {type(x).__name__}")
    if isinstance(x, np.ndarray):
        x = torch.as_tensor(x, dtype=torch.float32)
    if callable(attribution_fn):
        base = attribution_fn
        while hasattr(base, "func"):  # functools.partial
            base = base.func
        fns = {getattr(base, "__name__", "attribution"): attribution_fn}
    elif isinstance(attribution_fn, dict) and attribution_fn:
        fns = {str(k): check_callable(v, f"attribution_fn[{k!r}]") for k, v in
               attribution_fn.items()}
    else:
        raise TypeError(
            "attribution_fn must be an attribution method (model, x, *, target) -> map or a "
            "non-empty dict "
            f"of them, got {type(attribution_fn).__name__}"
        )
    available = randomizable_layers(model)
    if not available:
        raise ValueError("model has no layers with parameters to randomise")
    if layers is None:
        chosen = available
    else:
        by_name = dict(available)
        if not isinstance(layers, str | dict) and hasattr(layers, "__iter__"):
            layers = list(layers)
        if not isinstance(layers, list) or not all(isinstance(name, str) for name in layers):
            raise TypeError(
                f"layers must be a list of layer names (str) from {list(by_name)}, got "
                f"{_describe(layers)}")
        unknown = [name for name in layers if name not in by_name]
        if unknown or not layers:
            raise ValueError(
                f"layers must name layers with parameters, one of {list(by_name)}, got {layers}"
            )
        chosen = [(name, by_name[name]) for name in layers]
    return x, fns, [name for name, _ in chosen]


def _randomization(mode, model, x, target, attribution_fn, layers, random_state):
    import torch

    x, fns, names = _check_args(model, x, attribution_fn, layers)
    if target is not None:
        target = check_int(target, "target", minimum=0)
    _, recorded = check_random_state(random_state)
    # torch seeds are 64-bit: a larger int seed is reduced (the same seed for seeds < 2^63)
    seed = int(recorded) % 2**63 if not isinstance(recorded, np.random.Generator) else int(
        recorded.integers(2**63))
    generator = torch.Generator().manual_seed(seed)

    def maps_of(net) -> dict[str, np.ndarray]:
        return {k: _as_map(attribution_map(fn, net, x, target=target)) for k, fn in fns.items()}

    original = maps_of(copy.deepcopy(model))
    columns = [original]
    if mode == "cascading":
        net = copy.deepcopy(model)
        modules = dict(net.named_modules())
        for name in reversed(names):  # top (output) layer first, cumulatively
            reinitialize_layer(modules[name], generator)
            columns.append(maps_of(net))
        labels = ["original"] + list(reversed(names))
    else:
        for name in names:
            net = copy.deepcopy(model)
            reinitialize_layer(dict(net.named_modules())[name], generator)
            columns.append(maps_of(net))
        labels = ["original"] + list(names)

    methods = list(fns)
    spearman = np.empty((len(methods), len(columns)))
    ssim = np.empty((len(methods), len(columns)))
    for i, k in enumerate(methods):
        for j, col in enumerate(columns):
            if col[k].shape != original[k].shape:
                raise ValueError(f"attribution_fn {k!r} returned maps of different shapes")
            spearman[i, j] = spearman_similarity(original[k], col[k])
            ssim[i, j] = ssim_similarity(original[k], col[k])
    maps = {k: [col[k] for col in columns] for k in methods}
    return SanityResult(labels, methods, spearman, ssim, maps, mode, recorded)


_OLD_ORDER = ("model", "x", "target", "attribution_fn")


@renamed_arguments(old_positional=_OLD_ORDER)
def cascading_randomization(
    model: Any,
    x: Any,
    *,
    target: int | None = None,
    attribution_fn: Callable | dict[str, Callable],
    layers: list[str] | None = None,
    random_state: RandomState = None,
) -> SanityResult:
    """Cascading model-parameter randomisation: randomise layers top-down, cumulatively.

    On a deep copy of ``model``, the layers are re-initialised one after the other
    from the output layer down (after step ``j`` the top ``j`` layers are random);
    after each step every attribution method's map is compared with the map of
    the intact model by Spearman's ``rho`` on ``|map|`` and SSIM. A method that
    explains the model decorrelates (``rho`` well below 1); one that ignores the
    model stays at 1. The original ``model`` is not modified.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor or numpy.ndarray
        The input batch given to ``attribution_fn`` (usually one example, ``(1, C, H, W)``).
    target : int or None
        The output explained, passed to ``attribution_fn`` as ``target=``.
    attribution_fn : callable or dict of str to callable
        Any lime_core attribution method, as it is (``lime_core.saliency``,
        ``lime_core.integrated_gradients``, ``lime_core.explain_image``, ...; a
        ``functools.partial`` carries settings), or ``fn(model, x, *, target) -> map``.
        Called through :func:`lime_core.attribution.attribution_map`.
    layers : list of str, optional
        Names (from ``model.named_modules()``) of the layers to randomise; default
        all layers that own parameters.
    random_state : int, numpy.random.Generator or None
        Seeds the ``torch.Generator`` of the re-initialisation.

    Returns
    -------
    SanityResult

    Examples
    --------
    >>> import torch, lime_core
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> res = lime_core.cascading_randomization(net, torch.randn(1, 4), target=0,
    ...                                         attribution_fn=lime_core.saliency, random_state=0)
    >>> res.layer_names
    ['original', '2', '0']
    >>> float(res.spearman[0, 0])
    1.0
    """
    return _randomization("cascading", model, x, target, attribution_fn, layers, random_state)


@renamed_arguments(old_positional=_OLD_ORDER)
def independent_randomization(
    model: Any,
    x: Any,
    *,
    target: int | None = None,
    attribution_fn: Callable | dict[str, Callable],
    layers: list[str] | None = None,
    random_state: RandomState = None,
) -> SanityResult:
    """Independent layer randomisation: re-initialise one layer at a time, the rest intact.

    Same comparison as :func:`cascading_randomization` (Spearman ``rho`` of
    ``|map|``, SSIM), column ``j`` being the model with only layer ``j`` random.
    Shows which layers a method is sensitive to.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.

    Parameters
    ----------
    model, x, target, attribution_fn, layers, random_state
        As in :func:`cascading_randomization`.

    Returns
    -------
    SanityResult
    """
    return _randomization("independent", model, x, target, attribution_fn, layers, random_state)
