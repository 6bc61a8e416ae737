"""Gradient attributions: saliency, gradient x input, SmoothGrad, Integrated Gradients.

Every method has the same shape, like captum::

    attributions = method(model, inputs, *, target, ...)

* ``model`` is a ``torch.nn.Module`` or any differentiable callable that maps a
  batch of tensors ``(n, ...)`` to scores ``(n, k)`` (or ``(n,)`` for one score).
  Put the model in ``eval()`` mode yourself; nothing here changes it.
* ``inputs`` is a batch ``(n, ...)``: a numpy array or a torch tensor. The
  attributions come back with the same shape and the same kind (numpy in,
  numpy out; tensor in, tensor out), in the model's floating dtype.
* ``target`` is the class whose score ``S_c`` is explained: an int for every
  row, or one int per row. It may be ``None`` only when the model returns a
  single score per row.
* Work is done in batches of at most ``batch_size`` rows per forward/backward
  pass, so the number of model calls is ``ceil(rows / batch_size)``.

DeepLIFT (rescale rule) and DeepSHAP for sequential networks are at the end of the
file: they need the baseline, like Integrated Gradients, but only two forward passes.

torch is imported inside the functions, so ``import lime_core`` stays fast.
The course notebooks are ``course/08_gradients.ipynb`` and
``course/09_integrated_gradients.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import renamed_arguments, warn_renamed
from lime_core._validation import (
    RandomState,
    _describe,
    check_callable,
    check_choice,
    check_int,
    check_positive,
    check_random_state,
)

# captum's quadrature rules (same names, same nodes and weights) ...
CAPTUM_IG_METHODS = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)
# ... and the textbook trapezoid rule, which captum's "riemann_trapezoid" is not
IG_METHODS = CAPTUM_IG_METHODS + ("trapezoid",)
SMOOTHGRAD_VARIANTS = ("smoothgrad", "smoothgrad_sq", "vargrad")
DEFAULT_BATCH_SIZE = 64
# Integrated Gradients evaluates many points per input. On a CPU a pass over a few
# million input numbers is faster than one giant pass (the activations stay in the
# caches): for 3 x 224 x 224 images 13 points per pass ran ~1.7x faster than 50.
PATH_BATCH_NUMBERS = 2**21


def path_batch_size(numbers_per_point: int) -> int:
    """Default points per pass for path methods: ``PATH_BATCH_NUMBERS`` input numbers
    per pass, at least 1 and at most ``DEFAULT_BATCH_SIZE`` points."""
    return int(min(DEFAULT_BATCH_SIZE, max(1, PATH_BATCH_NUMBERS // max(1, numbers_per_point))))


@dataclass(frozen=True)
class IntegratedGradientsResult:
    """What :func:`integrated_gradients` returns with ``return_result=True``.

    Attributes
    ----------
    attributions : array or tensor, the input's shape
        ``IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c(x' + a (x - x')) / dx_i da``.
    convergence_delta : array or tensor, shape ``(n,)``
        The completeness gap ``|sum_i IG_i(x) - (S_c(x) - S_c(x'))|`` of every row.
        It tends to 0 as ``steps`` grows.
    steps : int
    method : str
    model_calls : int
        Forward/backward passes made: ``ceil(n * steps / batch_size)`` along the
        paths, plus the passes that score ``x`` and ``x'`` for the gap.
    """

    attributions: Any
    convergence_delta: Any
    steps: int
    method: str
    model_calls: int


@dataclass(frozen=True)
class SmoothGradResult:
    """What :func:`smoothgrad` returns with ``return_result=True``.

    Attributes
    ----------
    attributions : array or tensor, the input's shape
    noise_std : numpy.ndarray, shape ``(n,)``
        The standard deviation of the Gaussian noise used for every row,
        ``noise_level * (max(x) - min(x))``.
    num_samples : int
    variant : str
    random_state : int or numpy.random.Generator
        The seed (or generator) that reproduces the noise.
    model_calls : int
        Forward/backward passes made: ``ceil(n * num_samples / batch_size)``.
    """

    attributions: Any
    noise_std: np.ndarray
    num_samples: int
    variant: str
    random_state: RandomState
    model_calls: int = 0


# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------


def _model_dtype(model: Any):
    """The floating dtype of the model's parameters (float32 for plain callables)."""
    import torch

    if isinstance(model, torch.nn.Module):
        for param in model.parameters():
            if param.is_floating_point():
                return param.dtype
    return torch.float32


def _as_tensor(inputs: Any, model: Any, name: str = "inputs"):
    """Return ``(tensor, was_numpy)``: ``inputs`` as a detached floating tensor."""
    import torch

    if isinstance(inputs, torch.Tensor):
        if not inputs.is_floating_point() or isinstance(model, torch.nn.Module):
            inputs = inputs.to(_model_dtype(model))  # a float64 tensor for a float32 net
        tensor, was_numpy = inputs.detach(), False
    else:
        try:
            array = np.asarray(inputs, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be a numpy array or a torch tensor of numbers, got {_describe(inputs)}"
            ) from err
        tensor, was_numpy = torch.as_tensor(array, dtype=_model_dtype(model)), True
    if tensor.ndim < 1 or tensor.shape[0] == 0:
        raise ValueError(
            f"{name} must be a batch with at least one row (shape (n, ...)), "
            f"got shape {tuple(tensor.shape)}"
        )
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor, was_numpy


def _as_baseline(baseline: Any, x, name: str = "baseline"):
    """Broadcast ``baseline`` to the shape of ``x``.

    ``None`` means zeros; a number fills every entry; an array of the shape of
    one row is used for every row; an array of the shape of ``x`` pairs row by row.
    """
    import torch

    if baseline is None:
        return torch.zeros_like(x)
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        if not math.isfinite(baseline):
            raise ValueError(f"{name} must be a finite number, got {baseline}")
        return torch.full_like(x, float(baseline))
    if isinstance(baseline, torch.Tensor):
        base = baseline.detach().to(dtype=x.dtype)
    else:
        try:
            base = torch.as_tensor(np.asarray(baseline, dtype=float), dtype=x.dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be None, a number, a numpy array or a torch tensor, "
                f"got {_describe(baseline)}"
            ) from err
    if not bool(torch.isfinite(base).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    if tuple(base.shape) == tuple(x.shape):
        return base
    if tuple(base.shape) == tuple(x.shape[1:]):
        return base.unsqueeze(0).expand_as(x)
    raise ValueError(
        f"{name} must have the shape of the inputs {tuple(x.shape)} or of one row "
        f"{tuple(x.shape[1:])}, got shape {tuple(base.shape)}"
    )


def _as_targets(target: Any, n_rows: int):
    """Turn ``target`` into a long tensor of shape ``(n_rows,)`` (or None)."""
    import torch

    if target is None:
        return None
    if isinstance(target, bool):
        raise TypeError(f"target must be an int or a sequence of ints, got {_describe(target)}")
    if isinstance(target, (int, np.integer)):
        if target < 0:
            raise ValueError(f"target must be a class index >= 0, got {int(target)}")
        return torch.full((n_rows,), int(target), dtype=torch.long)
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    values = np.asarray(target)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise TypeError(
            f"target must be an int or a 1-D sequence of ints, got {_describe(target)}"
        )
    if values.shape[0] != n_rows:
        raise ValueError(
            f"target must have one class index per row ({n_rows}), got {values.shape[0]}"
        )
    if np.any(values < 0):
        raise ValueError(f"target must hold class indices >= 0, got {values.min()}")
    return torch.as_tensor(values, dtype=torch.long)


def _selected_scores(model: Callable, x, targets):
    """Return ``S_c(x)`` for every row: the model's score of each row's target class."""
    try:
        out = model(x)
    except RuntimeError as err:  # torch's shape and dtype errors
        raise ValueError(
            f"model failed on inputs of shape {tuple(x.shape)} and dtype {x.dtype}; check that "
            f"inputs match what the model expects. torch said: {err}"
        ) from err
    return _pick_scores(out, x.shape[0], targets)


def _pick_scores(out, n_rows: int, targets):
    """Check a model output of ``n_rows`` rows and keep each row's target score."""
    if not hasattr(out, "ndim") or not hasattr(out, "gather"):
        raise TypeError(f"model must return a torch tensor, got {_describe(out)}")
    if out.ndim == 1:
        out = out.unsqueeze(1)
    if out.ndim != 2 or out.shape[0] != n_rows:
        raise ValueError(
            f"model must return scores of shape ({n_rows}, n_classes) or "
            f"({n_rows},) for a batch of {n_rows} rows, got shape {tuple(out.shape)}"
        )
    n_classes = out.shape[1]
    if targets is None:
        if n_classes != 1:
            raise ValueError(
                f"target must be given: the model returns {n_classes} scores per row"
            )
        return out[:, 0]
    top = int(targets.max())
    if top >= n_classes:
        raise ValueError(
            f"target must be a class index < {n_classes} (the model's number of outputs), "
            f"got {top}"
        )
    return out.gather(1, targets.to(out.device).unsqueeze(1)).squeeze(1)


def _batch_gradient(model: Callable, xb, tb):
    """``dS_c/dx`` for one batch ``xb`` (one forward and one backward pass)."""
    import torch

    xb = xb.detach().requires_grad_(True)  # a leaf that shares xb's memory
    with torch.enable_grad():
        scores = _selected_scores(model, xb, tb)
        (grad,) = torch.autograd.grad(scores.sum(), xb)
    return grad


def _gradients(model: Callable, x, targets, batch_size: int):
    """``dS_c/dx`` for every row of ``x``, computed ``batch_size`` rows at a time."""
    import torch

    if x.shape[0] <= batch_size:
        return _batch_gradient(model, x, targets)
    grads = torch.empty_like(x)
    for start in range(0, x.shape[0], batch_size):
        stop = start + batch_size
        tb = None if targets is None else targets[start:stop]
        grads[start:stop] = _batch_gradient(model, x[start:stop], tb)
    return grads


def _scores(model: Callable, x, targets, batch_size: int):
    """``S_c(x)`` for every row of ``x`` without gradients, in batches."""
    import torch

    parts = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            tb = None if targets is None else targets[start:start + batch_size]
            parts.append(_selected_scores(model, x[start:start + batch_size], tb))
    return torch.cat(parts)


def _output(values, was_numpy: bool):
    """Give back numpy if the caller passed numpy, otherwise the tensor."""
    return values.detach().cpu().numpy() if was_numpy else values.detach()


def _prepare(model: Any, inputs: Any, target: Any, batch_size: Any):
    check_callable(model, "model")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x, was_numpy = _as_tensor(inputs, model)
    targets = _as_targets(target, x.shape[0])
    return x, was_numpy, targets, batch_size


# --------------------------------------------------------------------------
# saliency, gradient x input, SmoothGrad
# --------------------------------------------------------------------------


def saliency(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    absolute: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """Vanilla gradient saliency map.

    ``saliency_i(x) = |dS_c(x) / dx_i|`` (Simonyan et al., 2014), or the signed
    gradient ``dS_c(x) / dx_i`` with ``absolute=False``. Same as captum's
    ``Saliency(model).attribute(inputs, target, abs=absolute)``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Differentiable map from a batch ``(n, ...)`` to scores ``(n, k)`` or ``(n,)``.
    inputs : numpy.ndarray or torch.Tensor, shape ``(n, ...)``
    target : int, sequence of int or None
        Class explained, for all rows or one per row.
    absolute : bool
        Return ``|gradient|`` (default) or the signed gradient.
    batch_size : int
        Rows per forward/backward pass.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    grads = _gradients(model, x, targets, batch_size)
    return _output(grads.abs() if absolute else grads, was_numpy)


def gradient_times_input(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """Gradient times input: ``a_i(x) = (x_i - x'_i) * dS_c(x) / dx_i``.

    With the default baseline ``x' = 0`` this is ``x_i * dS_c/dx_i``, captum's
    ``InputXGradient``. For a linear model ``S(x) = w.x + b`` it is exactly the
    contribution ``w_i (x_i - x'_i)``, and the attributions add up to
    ``S(x) - S(x')``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target, batch_size
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    base = _as_baseline(baseline, x)
    grads = _gradients(model, x, targets, batch_size)
    return _output(grads * (x - base), was_numpy)


def smoothgrad(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    num_samples: int = 50,
    noise_level: float = 0.15,
    variant: str = "smoothgrad",
    absolute: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    random_state: RandomState = None,
    return_result: bool = False,
):
    """SmoothGrad: the gradient averaged over noisy copies of the input.

    With ``sigma = noise_level * (max(x) - min(x))`` (noise as a fraction of the
    row's range, Smilkov et al., 2017) and ``eps_1, ..., eps_N ~ N(0, sigma^2 I)``,
    ``g_k = dS_c(x + eps_k)/dx`` (or ``|g_k|`` with ``absolute=True``):

    * ``"smoothgrad"``:    ``(1/N) sum_k g_k``
    * ``"smoothgrad_sq"``: ``(1/N) sum_k g_k^2``
    * ``"vargrad"``:       ``(1/N) sum_k g_k^2 - ((1/N) sum_k g_k)^2`` (the variance)

    The noise comes from ``random_state`` (same seed, same map), never the global RNG.
    To reproduce a map later, pass an int seed, or ask for ``return_result=True``:
    the result records the seed that was used, even one drawn for ``random_state=None``.

    See the course notebook ``course/08_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target, batch_size
        As in :func:`saliency`.
    num_samples : int
        Number ``N`` of noisy copies per row.
    noise_level : float
        Noise standard deviation as a fraction of each row's range (>= 0).
    variant : {"smoothgrad", "smoothgrad_sq", "vargrad"}
    absolute : bool
        Average ``|g_k|`` instead of ``g_k``.
    random_state : int, numpy.random.Generator or None
    return_result : bool
        Return a :class:`SmoothGradResult` (with the recorded ``random_state``)
        instead of the bare attributions.

    Returns
    -------
    numpy.ndarray, torch.Tensor or SmoothGradResult
    """
    import torch

    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    num_samples = check_int(num_samples, "num_samples", minimum=1)
    noise_level = check_positive(noise_level, "noise_level", allow_zero=True)
    check_choice(variant, "variant", SMOOTHGRAD_VARIANTS)
    rng, recorded = check_random_state(random_state)

    n = x.shape[0]
    flat = x.reshape(n, -1)
    noise_std = (noise_level * (flat.max(dim=1).values - flat.min(dim=1).values)).double()
    # one (N, n, ...) draw from the private generator, copy k of row r at [k, r]
    eps = rng.standard_normal((num_samples, *x.shape))
    eps = torch.as_tensor(eps, dtype=x.dtype) * noise_std.to(x.dtype).reshape(
        1, n, *([1] * (x.ndim - 1))
    )
    noisy = (x.unsqueeze(0) + eps).reshape(num_samples * n, *x.shape[1:])
    noisy_targets = None if targets is None else targets.repeat(num_samples)
    grads = _gradients(model, noisy, noisy_targets, batch_size).reshape(num_samples, *x.shape)
    if absolute:
        grads = grads.abs()
    mean = grads.mean(dim=0)
    if variant == "smoothgrad":
        attributions = mean
    elif variant == "smoothgrad_sq":
        attributions = (grads**2).mean(dim=0)
    else:
        attributions = (grads**2).mean(dim=0) - mean**2
    attributions = _output(attributions, was_numpy)
    if not return_result:
        return attributions
    return SmoothGradResult(
        attributions=attributions,
        noise_std=noise_std.cpu().numpy(),
        num_samples=num_samples,
        variant=variant,
        random_state=recorded,
        model_calls=math.ceil(num_samples * n / batch_size),
    )


# --------------------------------------------------------------------------
# Integrated Gradients
# --------------------------------------------------------------------------


def integration_nodes(steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``a_k`` and weights ``w_k`` with ``integral_0^1 g(a) da ~ sum_k w_k g(a_k)``.

    The conventions are captum's, so both libraries evaluate the same points:

    * ``riemann_left``:   ``a_k = k/m``,           ``k = 0..m-1``, ``w_k = 1/m``
    * ``riemann_right``:  ``a_k = k/m``,           ``k = 1..m``,   ``w_k = 1/m``
    * ``riemann_middle``: ``a_k = (k + 1/2)/m``,   ``k = 0..m-1``, ``w_k = 1/m``
    * ``riemann_trapezoid``: ``a_k = k/(m-1)``,    ``k = 0..m-1``, ``w_k = 1/m``
      with the two end weights halved (captum's rule; the weights add up to
      ``1 - 1/m``, not 1, so even a linear model keeps a completeness gap of
      ``|f(x) - f(x')| / m``)
    * ``trapezoid`` (not in captum): the textbook rule, ``a_k = k/(m-1)``,
      ``w_k = 1/(m-1)`` with the two end weights halved; the weights add up to 1 and
      the rule is exact when the gradient is linear along the path.
    * ``gausslegendre``: the Gauss-Legendre nodes and weights on ``[-1, 1]``
      mapped to ``[0, 1]``: ``a_k = (1 + t_k)/2``, ``w_k = v_k/2``. Exact for
      polynomials of degree ``2m - 1``.

    See the course notebook ``course/09_integrated_gradients.ipynb``.
    """
    check_choice(method, "method", IG_METHODS)
    if method == "gausslegendre":
        steps = check_int(steps, "steps", minimum=1)
        t, v = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (1.0 + t), 0.5 * v
    steps = check_int(steps, "steps", minimum=2)
    weights = np.full(steps, 1.0 / steps)
    if method == "riemann_left":
        nodes = np.linspace(0.0, 1.0 - 1.0 / steps, steps)
    elif method == "riemann_right":
        nodes = np.linspace(1.0 / steps, 1.0, steps)
    elif method == "riemann_middle":
        nodes = np.linspace(0.5 / steps, 1.0 - 0.5 / steps, steps)
    else:  # riemann_trapezoid (captum's) or trapezoid (the textbook rule)
        nodes = np.linspace(0.0, 1.0, steps)
        if method == "trapezoid":
            weights = np.full(steps, 1.0 / (steps - 1))
        weights[0] /= 2
        weights[-1] /= 2
    return nodes, weights


def _path_points(start, direction, alphas):
    """The points ``start + a * direction`` for every ``a`` in ``alphas``, stacked."""
    return start.unsqueeze(0) + alphas.reshape(-1, *([1] * start.ndim)) * direction.unsqueeze(0)


def _ig_deprecated_flag(fn):
    """``return_convergence_delta=`` is the old name of ``return_result=``."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "return_convergence_delta" in kwargs:
            warn_renamed("integrated_gradients()", "return_convergence_delta=", "return_result=")
            flag = kwargs.pop("return_convergence_delta")
            kwargs["return_result"] = kwargs.get("return_result", False) or flag
        return fn(*args, **kwargs)

    return wrapper


@_ig_deprecated_flag
def integrated_gradients(
    model: Callable,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int | None = None,
    return_result: bool = False,
):
    """Integrated Gradients (Sundararajan, Taly and Yan, 2017).

    ``IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c(x' + a (x - x')) / dx_i  da``
    approximated by the quadrature of :func:`integration_nodes`:
    ``IG_i(x) ~ (x_i - x'_i) * sum_k w_k dS_c(x' + a_k (x - x')) / dx_i``.

    Completeness: ``sum_i IG_i(x) = S_c(x) - S_c(x')`` for the exact integral; the
    quadrature leaves a gap that shrinks as ``steps`` grows.

    The ``n * steps`` points on the straight paths are evaluated ``batch_size``
    points per forward/backward pass (captum puts all of them in one batch).

    See the course notebook ``course/09_integrated_gradients.ipynb``.

    Parameters
    ----------
    model, inputs, target
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).
    batch_size : int, optional
        Path points per forward/backward pass. Default :func:`path_batch_size`: up to 64
        points, fewer for large inputs (13 for a 3 x 224 x 224 image).
    steps : int
        Number of points ``m`` on each path (>= 2 for the Riemann rules).
    method : {"gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "trapezoid"}
        Quadrature rule (see :func:`integration_nodes`); the default is captum's.
    return_result : bool
        Return an :class:`IntegratedGradientsResult` with the completeness gap
        ``|sum_i IG_i(x) - (S_c(x) - S_c(x'))|`` of every row and the model calls
        (the old name ``return_convergence_delta=`` still works, deprecated).

    Returns
    -------
    numpy.ndarray or torch.Tensor, or IntegratedGradientsResult
        The attributions (input's shape and kind), or a
        :class:`IntegratedGradientsResult` holding them with the gap of every row.

    Examples
    --------
    >>> import torch, lime_core
    >>> net = torch.nn.Linear(3, 1)                      # linear: IG is exact
    >>> x = torch.ones(1, 3)
    >>> res = lime_core.integrated_gradients(net, x, target=0, return_result=True)
    >>> float(res.convergence_delta[0]) < 1e-5
    True
    >>> torch.allclose(res.attributions, net.weight * x)
    True
    """
    import torch

    x, was_numpy, targets, _ = _prepare(model, inputs, target, 1)
    if batch_size is None:
        batch_size = path_batch_size(x[0].numel())
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    base = _as_baseline(baseline, x)
    nodes, weights = integration_nodes(steps, method)
    m = len(nodes)
    n = x.shape[0]
    nodes_t = torch.as_tensor(nodes, dtype=x.dtype)
    weights_t = torch.as_tensor(weights, dtype=x.dtype)
    diff = x - base

    # The path points are numbered p = row * m + k. Each chunk of batch_size points
    # is one forward/backward pass; inside it, the points of one row are
    # x'_row + a_k (x_row - x'_row) and their gradients are summed with weights w_k.
    total = torch.zeros_like(x)
    calls = 0
    for start in range(0, n * m, batch_size):
        stop = min(start + batch_size, n * m)
        pieces = []  # (row, slice of k) for every row met in this chunk
        for row in range(start // m, (stop - 1) // m + 1):
            k_from, k_to = max(start - row * m, 0), min(stop - row * m, m)
            pieces.append((row, slice(k_from, k_to)))
        segments = [_path_points(base[row], diff[row], nodes_t[ks]) for row, ks in pieces]
        points = segments[0] if len(segments) == 1 else torch.cat(segments)
        tb = None if targets is None else torch.cat(
            [targets[row].repeat(ks.stop - ks.start) for row, ks in pieces])
        grads = _batch_gradient(model, points, tb).reshape(len(points), -1)
        calls += 1
        offset = 0
        for row, ks in pieces:
            count = ks.stop - ks.start
            # sum_k w_k grad_k as one vector-matrix product
            total[row] += (weights_t[ks] @ grads[offset:offset + count]).reshape(x.shape[1:])
            offset += count
    attributions = total * diff

    if not return_result:
        return _output(attributions, was_numpy)
    ends = _scores(model, torch.cat([x, base]), None if targets is None
                   else torch.cat([targets, targets]), batch_size)
    gap = (attributions.reshape(n, -1).sum(dim=1) - (ends[:n] - ends[n:])).abs()
    return IntegratedGradientsResult(
        attributions=_output(attributions, was_numpy),
        convergence_delta=_output(gap, was_numpy),
        steps=m,
        method=method,
        model_calls=calls + math.ceil(2 * n / batch_size),
    )



# --------------------------------------------------------------------------
# DeepLIFT (rescale rule) and DeepSHAP
# --------------------------------------------------------------------------
#
# DeepLIFT explains the difference S_c(x) - S_c(x') with "multipliers"
# m = Delta y / Delta h, chained through the network like gradients. Linear
# layers (Linear, Conv2d, AvgPool2d, Flatten) keep their ordinary gradient: it
# already is Delta y / Delta h. Each elementwise nonlinearity y = g(h) gets the
# rescale multiplier m = (g(h) - g(h')) / (h - h'), or the plain gradient g'(h)
# when |h - h'| < eps. We obtain it with autograd: run the baseline through the
# network (no gradient) next to the input, each nonlinearity of the input's pass
# replaced by a custom autograd.Function whose forward is g(h) and whose backward
# multiplies by m instead of g'(h). Then "gradient" x (x - x') is the attribution.

_DEEPLIFT_EPS = 1e-10


def _rescale_function():
    """The autograd.Function for the rescale rule (built here, so torch loads lazily)."""
    import torch

    class RescaleRule(torch.autograd.Function):
        """Forward ``y = g(h)``; backward multiplies by ``(g(h) - g(h')) / (h - h')``."""

        @staticmethod
        def forward(ctx, h, h_ref, y, y_ref, eps):
            # y = g(h) (with its own graph) and y_ref = g(h') come from the caller
            delta_in = h - h_ref
            small = delta_in.abs() < eps
            ctx.save_for_backward(delta_in, y - y_ref, small)
            return y.detach().clone()

        @staticmethod
        def backward(ctx, grad_out):
            delta_in, delta_out, small = ctx.saved_tensors
            safe = torch.where(small, torch.ones_like(delta_in), delta_in)
            multiplier = torch.where(small, torch.zeros_like(delta_in), delta_out / safe)
            # grad_out * m reaches h directly; where |Delta h| < eps the plain
            # gradient g'(h) flows instead, through y's own graph
            return grad_out * multiplier, None, grad_out * small.to(grad_out.dtype), None, None

    return RescaleRule


def _maxpool_function():
    """The autograd.Function for MaxPool2d (see :func:`deeplift` for the rule)."""
    import torch
    import torch.nn.functional as F

    class MaxPoolRule(torch.autograd.Function):
        @staticmethod
        def forward(ctx, h, h_ref, pool, eps):
            kwargs = dict(kernel_size=pool.kernel_size, stride=pool.stride,
                          padding=pool.padding, dilation=pool.dilation,
                          ceil_mode=pool.ceil_mode, return_indices=True)
            y, where_x = F.max_pool2d(h, **kwargs)
            y_ref, where_ref = F.max_pool2d(h_ref, **kwargs)
            # Delta y goes to the winning position of whichever max is larger
            winner = torch.where(y >= y_ref, where_x, where_ref)
            ctx.save_for_backward(h - h_ref, y - y_ref, winner, where_x)
            ctx.eps = eps
            return y

        @staticmethod
        def backward(ctx, grad_out):
            delta_in, delta_out, winner, where_x = ctx.saved_tensors
            n, c = delta_in.shape[:2]
            flat = (n, c, -1)
            # scatter-add grad * Delta y onto the winners, then divide by Delta h there
            credit = torch.zeros_like(delta_in).reshape(flat)
            credit.scatter_add_(2, winner.reshape(flat), (grad_out * delta_out).reshape(flat))
            # the plain max-pool gradient, used where Delta h is ~0
            plain = torch.zeros_like(delta_in).reshape(flat)
            plain.scatter_add_(2, where_x.reshape(flat), grad_out.reshape(flat))
            credit, plain = credit.reshape(delta_in.shape), plain.reshape(delta_in.shape)
            small = delta_in.abs() < ctx.eps
            safe = torch.where(small, torch.ones_like(delta_in), delta_in)
            return torch.where(small, plain, credit / safe), None, None, None

    return MaxPoolRule


def _deeplift_layers(model: Any) -> list:
    """The layers of a (possibly nested) ``nn.Sequential``; reject anything else."""
    import torch.nn as nn

    supported = (nn.Linear, nn.Conv2d, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.MaxPool2d,
                 nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d,
                 nn.Flatten, nn.Identity, nn.Dropout)
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            "model must be a torch.nn.Sequential of Linear, Conv2d, ReLU, Sigmoid, Tanh, "
            f"MaxPool2d, AvgPool2d and Flatten layers for deeplift, got {_describe(model)}"
        )
    layers = []
    for layer in model:
        if isinstance(layer, nn.Sequential):
            layers.extend(_deeplift_layers(layer))
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and layer.training:
            raise ValueError(
                "model must be in eval() mode for deeplift: a BatchNorm layer in training "
                "mode mixes the rows of a batch"
            )
        elif isinstance(layer, supported):
            layers.append(layer)
        else:
            raise TypeError(
                "model must contain only Linear, Conv2d, ReLU, Sigmoid, Tanh, MaxPool2d, "
                "AvgPool2d, AdaptiveAvgPool2d, BatchNorm (eval), Flatten, Identity and "
                "Dropout layers for deeplift, "
                f"got a {type(layer).__name__} layer"
            )
    return layers


def _deeplift_forward(layers: list, x, x_ref, eps: float):
    """Run ``x`` through ``layers`` with the DeepLIFT backward rules; ``x_ref`` has no gradient."""
    import torch
    import torch.nn as nn

    rescale = _rescale_function()
    maxpool = _maxpool_function()
    # the functional forms never work in place (nn.ReLU(inplace=True) would
    # overwrite the activations the rescale rule needs)
    activations = {nn.ReLU: torch.relu, nn.Sigmoid: torch.sigmoid, nn.Tanh: torch.tanh}
    h, h_ref = x, x_ref
    for layer in layers:
        g = activations.get(type(layer))
        if g is not None:
            with torch.no_grad():
                y_ref = g(h_ref)
            h = rescale.apply(h, h_ref, g(h), y_ref, eps)
        else:
            with torch.no_grad():
                y_ref = layer(h_ref)
            h = maxpool.apply(h, h_ref, layer, eps) if isinstance(layer, nn.MaxPool2d) else layer(h)
        h_ref = y_ref
    return h


def deeplift(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any = None,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """DeepLIFT with the rescale rule (Shrikumar et al., 2017) for sequential networks.

    Every neuron's change from the baseline, ``Delta y = y(x) - y(x')``, is split
    over its inputs with multipliers ``m = Delta y / Delta h``:

    * Linear, Conv2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm in eval mode, Flatten:
      affine maps, whose ordinary gradient already is ``Delta y / Delta h``.
    * ReLU, Sigmoid, Tanh (rescale rule): ``m = (g(h) - g(h')) / (h - h')``, or
      the gradient ``g'(h)`` when ``|h - h'| < eps``.
    * MaxPool2d (our choice, the same as captum's): each window's ``Delta y`` is
      credited to the position that wins the max of whichever of ``x`` and ``x'``
      has the larger max, divided by that position's ``Delta h``.

    Multipliers chain like gradients and the attribution is
    ``a_i = m_i (x_i - x'_i)``. Summation-to-delta: ``sum_i a_i = S_c(x) - S_c(x')``
    (exact up to the ``eps`` fallback). Unlike Integrated Gradients, DeepLIFT
    depends on how the network is written, not only on the function it computes.

    See the course notebook ``course/12_sanity_checks_axioms.ipynb``.

    Parameters
    ----------
    model : torch.nn.Sequential
        Made of Linear, Conv2d, ReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d,
        AdaptiveAvgPool2d, BatchNorm1d/2d, Flatten (Identity and Dropout pass
        through); in ``eval()`` mode.
    inputs, target, batch_size
        As in :func:`saliency`.
    baseline : None, float, or array/tensor of the shape of one row or of ``inputs``
        Reference ``x'`` (default zeros).
    eps : float
        Below this ``|Delta h|`` the plain gradient is used.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    import torch

    layers = _deeplift_layers(model)
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    base = _as_baseline(baseline, x)
    eps = check_positive(eps, "eps", allow_zero=True)
    multipliers = torch.empty_like(x)
    for start in range(0, x.shape[0], batch_size):
        stop = start + batch_size
        xb = x[start:stop].detach().clone().requires_grad_(True)
        tb = None if targets is None else targets[start:stop]
        with torch.enable_grad():
            out = _deeplift_forward(layers, xb, base[start:stop], eps)
            scores = _pick_scores(out, xb.shape[0], tb)
            (grad,) = torch.autograd.grad(scores.sum(), xb)
        multipliers[start:stop] = grad
    return _output(multipliers * (x - base), was_numpy)


@renamed_arguments({"background": "baseline"})
def deep_shap(
    model: Any,
    inputs: Any,
    *,
    target: int | Sequence[int] | None,
    baseline: Any,
    eps: float = _DEEPLIFT_EPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """DeepSHAP: DeepLIFT averaged over a background set of baselines.

    ``phi_i(x) = (1/B) sum_b DeepLIFT_i(x; x'_b)`` for background rows
    ``x'_1, ..., x'_B`` (Lundberg and Lee, 2017). It approximates Shapley values
    with the background as the distribution of "missing" features, and adds up
    to ``S_c(x) - (1/B) sum_b S_c(x'_b)``. With one background row it is DeepLIFT.

    See the course notebook ``course/10_shapley_shap.ipynb``.

    Parameters
    ----------
    model, inputs, target, eps, batch_size
        As in :func:`deeplift`.
    baseline : array or tensor, shape ``(B, ...)``, rows shaped like one input row
        The background baselines, ``B >= 1`` (the same ``baseline=`` keyword as the
        other methods; here it holds a set of rows, what shap calls the background;
        the old keyword ``background=`` still works, deprecated).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same shape and kind as ``inputs``.
    """
    import torch

    if baseline is None:
        raise TypeError("baseline must be a set of baseline rows (B, ...) for deep_shap, got None")
    background, name = baseline, "baseline"
    _deeplift_layers(model)
    x, was_numpy, targets, batch_size = _prepare(model, inputs, target, batch_size)
    # an empty background is refused here ("must be a batch with at least one row")
    back, _ = _as_tensor(background, model, name=name)
    if tuple(back.shape[1:]) != tuple(x.shape[1:]):
        raise ValueError(
            f"{name} rows must have the shape of one input row {tuple(x.shape[1:])}, "
            f"got {name} of shape {tuple(back.shape)}"
        )
    b = back.shape[0]
    total = []
    for r in range(x.shape[0]):
        # pair input row r with every background row, batch_size pairs at a time
        row_sum = 0
        for start in range(0, b, batch_size):
            chunk = back[start:start + batch_size]
            t = None if targets is None else targets[r].repeat(len(chunk))
            pairs = deeplift(model, x[r:r + 1].expand(len(chunk), *x.shape[1:]), target=t,
                             baseline=chunk, eps=eps, batch_size=batch_size)
            row_sum = row_sum + pairs.sum(dim=0)
        total.append(row_sum / b)
    return _output(torch.stack(total), was_numpy)


__all__ = [
    "IntegratedGradientsResult",
    "SmoothGradResult",
    "saliency",
    "gradient_times_input",
    "smoothgrad",
    "integration_nodes",
    "integrated_gradients",
    "deeplift",
    "deep_shap",
]
