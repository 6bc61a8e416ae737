"""What image LIME converges to: the closed-form theory of Garreau and Mardaoui (2021).

Setting (the lecture "What does LIME really see in images?"). An image ``xi`` is cut
into ``d`` superpixels ``J_1, ..., J_d``. LIME draws masks ``z`` in ``{0, 1}^d``
with independent Bernoulli(1/2) entries, builds the image ``x`` that keeps
superpixel ``j`` when ``z_j = 1`` and shows the replacement image ``xi_bar``
(by default the superpixel's mean colour) when ``z_j = 0``, and gives it the weight

    pi = exp(-delta(z, 1)^2 / (2 nu^2)),   delta(z, 1) = 1 - z.1 / (|z| |1|)

(cosine distance to the all-ones mask, bandwidth ``nu``; lime's default is 0.25).
With ``s`` superpixels switched off, ``delta = 1 - sqrt(1 - s/d)``.

With no ridge penalty, the surrogate ``beta_hat_n`` (intercept first) converges as
``n -> infinity`` to ``beta = Sigma^{-1} Gamma`` where

    Sigma = E[pi (1, z)(1, z)^T],     Gamma = E[pi (1, z) f(x)].

By symmetry ``Sigma`` only holds the numbers ``alpha_p = E[pi z_1 ... z_p]``:
``alpha_0`` in the corner, ``alpha_1`` on the rest of the first row and column
and on the diagonal (``z_j^2 = z_j``), ``alpha_2`` elsewhere; its inverse has the same
pattern (``sigma_0, ..., sigma_3`` over ``c_d``).

Everything here is numpy. The course notebook is ``course/13_lime_theory.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lime_core._deprecation import deprecated_alias, renamed_arguments, warn_renamed
from lime_core._validation import (
    _describe,
    check_array,
    check_callable,
    check_int,
    check_model_output,
    check_positive,
    select_target,
)
from lime_core.perturbation import masked_images as _masked_images
from lime_core.perturbation import superpixel_means
from lime_core.sampling import all_masks as _all_masks
from lime_core.segmentation import relabel

MAX_EXACT_SUPERPIXELS = 16
#: The closed forms cost O(d) memory and time (arrays over the number of switched-off
#: superpixels); this bound keeps a mistyped ``d`` from asking for gigabytes.
MAX_SUPERPIXELS = 1_000_000
#: ``sigma_matrix`` and ``sigma_inverse`` build a (d + 1) x (d + 1) matrix: 4097^2 floats
#: are 134 MB. Larger ``d``: use :func:`inverse_coefficients`, its five numbers.
MAX_MATRIX_SUPERPIXELS = 4096


@dataclass(frozen=True)
class InverseCoefficients:
    """The five numbers of the closed-form ``Sigma^{-1}`` (see :func:`sigma_inverse`)."""

    c_d: float
    sigma0: float
    sigma1: float
    sigma2: float
    sigma3: float


@dataclass(frozen=True)
class LimeLimit:
    """The limit explanation ``beta`` of image LIME.

    Attributes
    ----------
    intercept : float
        ``beta_0``.
    coefficients : numpy.ndarray, shape ``(d,)``
        ``beta_1, ..., beta_d``, one per superpixel (in the order of
        ``np.unique(segments)``).
    kernel_width : float or None
        The bandwidth ``nu`` (``None`` for limits that do not depend on it; ``nu`` is
        the deprecated attribute name).
    method : str
        Which formula produced it.
    model_calls : int
        Calls made to the model (0 for pure formulas; ``ceil(2^d / batch_size)``
        for the exact expectations, which evaluate the model on all ``2^d`` masks).
    """

    intercept: float
    coefficients: np.ndarray
    kernel_width: float | None
    method: str
    model_calls: int = 0

    @property
    def nu(self) -> float | None:
        """Deprecated name of :attr:`kernel_width`."""
        warn_renamed("LimeLimit", "nu", "kernel_width")
        return self.kernel_width


# --------------------------------------------------------------------------
# alpha, Sigma and its inverse
# --------------------------------------------------------------------------


def _check_d(d: Any, minimum: int = 2, maximum: int = MAX_SUPERPIXELS) -> int:
    return check_int(d, "d", minimum=minimum, maximum=maximum)


@renamed_arguments({"nu": "kernel_width"})
def log_kernel_weight(num_off: Any, d: int, kernel_width: float) -> np.ndarray:
    """``log pi(s) = -(1 - sqrt(1 - s/d))^2 / (2 nu^2)``, the log of :func:`kernel_weight`.

    Written as ``-((distance / nu)^2) / 2`` so that a tiny ``nu`` gives ``-inf`` (weight 0)
    instead of ``0 / 0``, and a huge ``nu`` gives 0 (weight 1) instead of ``x / inf``.
    """
    nu = kernel_width
    s = np.asarray(num_off, dtype=float)
    distance = 1.0 - np.sqrt(1.0 - s / d)
    with np.errstate(over="ignore", under="ignore"):
        return -((distance / nu) ** 2) / 2.0


@renamed_arguments({"nu": "kernel_width"})
def kernel_weight(num_off: Any, d: int, kernel_width: float) -> np.ndarray:
    """Weight of a mask with ``s = num_off`` superpixels switched off.

    ``pi(s) = exp(-(1 - sqrt(1 - s/d))^2 / (2 nu^2))``: the cosine distance from a
    mask with ``d - s`` ones to the all-ones mask is ``1 - sqrt(1 - s/d)``
    (1 for the empty mask, as in lime). See ``course/13_lime_theory.ipynb``.
    """
    return np.exp(log_kernel_weight(num_off, d, kernel_width))


def log_binomial(n: int, k: Any) -> np.ndarray:
    """``log binom(n, k)`` for an array of ``k`` in ``0 .. n``, by ``log Gamma``.

    ``binom(1024, 512)`` is about ``4.5e306`` and ``binom(1100, 550)`` no longer fits in a
    float, so every count of masks is kept as a logarithm and only exponentiated after the
    ``2^-d`` (also a logarithm, ``-d log 2``) has been added.
    """
    from scipy.special import gammaln

    k = np.asarray(k, dtype=float)
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _mask_weights(d: int, nu: float) -> np.ndarray:
    """``w_j = 2^-d binom(d, j) pi(j)``: total weight of the masks with ``j`` superpixels off.

    Computed as ``exp(log binom(d, j) - d log 2 + log pi(j))``; every ``w_j <= 1``, so
    nothing overflows for any ``d`` (terms below ``1e-308`` become 0).
    """
    j = np.arange(d + 1)
    return np.exp(log_binomial(d, j) - d * math.log(2.0) + log_kernel_weight(j, d, nu))


@renamed_arguments({"nu": "kernel_width"})
def kernel_moment(d: int, kernel_width: float, p: int) -> float:
    """``alpha_p = E[pi z_1 ... z_p]`` in closed form (the paper's ``alpha_p``).

    Named ``kernel_moment`` here (it was ``alpha``, which clashed with the ridge
    penalty ``alpha`` of every explainer; ``lime_core.alpha`` still works, deprecated).

    Condition on the number ``s`` of switched-off superpixels: ``z_1 = ... = z_p = 1``
    leaves ``binom(d - p, s)`` masks with ``s`` zeros, each of probability ``2^-d``:

        alpha_p = 2^-d  sum_{s=0}^{d-p} binom(d - p, s) exp(-(1 - sqrt(1 - s/d))^2 / (2 nu^2)).

    For large ``nu`` the weights tend to 1 and ``alpha_p -> 2^-p`` (the probability
    that ``p`` fair coins all show 1).

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    d : int
        Number of superpixels (>= 1).
    kernel_width : float
        Bandwidth ``nu`` (> 0).
    p : int
        ``0 <= p <= d``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(kernel_moment(4, 1e6, 2), 6)          # huge bandwidth: P(two coins show 1)
    0.25
    """
    d = _check_d(d, minimum=1)
    nu = check_positive(kernel_width, "kernel_width")
    p = check_int(p, "p", minimum=0, maximum=d)
    s = np.arange(d - p + 1)
    # 2^-d binom(d - p, s) pi(s), each term formed in log space (no overflow for d >= 1024)
    log_terms = log_binomial(d - p, s) - d * math.log(2.0) + log_kernel_weight(s, d, nu)
    return float(np.sum(np.exp(log_terms)))


@renamed_arguments({"nu": "kernel_width"})
def sigma_matrix(d: int, kernel_width: float) -> np.ndarray:
    """``Sigma = E[pi (1, z)(1, z)^T]``, a ``(d + 1, d + 1)`` matrix.

    ::

        Sigma = [[alpha_0, alpha_1, alpha_1, ..., alpha_1],
                 [alpha_1, alpha_1, alpha_2, ..., alpha_2],
                 [alpha_1, alpha_2, alpha_1, ..., alpha_2],
                 ...
                 [alpha_1, alpha_2, ..., alpha_2, alpha_1]]

    Because ``z_j^2 = z_j``, the diagonal of the mask block is ``E[pi z_j] = alpha_1``
    and its off-diagonal entries are ``E[pi z_j z_k] = alpha_2``. (The lecture slide
    prints ``alpha_2`` / ``alpha_3`` there; the closed-form inverse it gives is the
    inverse of the matrix built here, which the tests check.)

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    d : int
        Number of superpixels.
    kernel_width : float
        The bandwidth ``nu``.

    Returns
    -------
    numpy.ndarray, shape ``(d + 1, d + 1)``
    """
    nu = kernel_width
    d = _check_d(d, maximum=MAX_MATRIX_SUPERPIXELS)
    nu = check_positive(nu, "kernel_width")
    a0, a1, a2 = (kernel_moment(d, nu, p) for p in range(3))
    sigma = np.full((d + 1, d + 1), a2)
    sigma[0, :] = a1
    sigma[:, 0] = a1
    sigma[0, 0] = a0
    np.fill_diagonal(sigma[1:, 1:], a1)
    return sigma


# The smallest weight, relative to the instance's own weight 1, that the masks with one
# superpixel switched off may get. Below it Sigma is singular in double precision: the
# instance carries all the weight and the coefficients are not determined.
MIN_NEIGHBOUR_WEIGHT = 1e-9


def smallest_bandwidth(d: int) -> float:
    """The smallest ``nu`` for which :func:`sigma_inverse` works with ``d`` superpixels.

    It is the ``nu`` at which a mask with one superpixel off gets weight
    ``pi(1) = MIN_NEIGHBOUR_WEIGHT``:
    ``nu_min = (1 - sqrt(1 - 1/d)) / sqrt(2 ln(1 / MIN_NEIGHBOUR_WEIGHT))``.

    Near ``nu_min`` almost all weight sits on the instance (probability ``2^-d``), so
    ``Sigma^{-1}`` has entries of about ``2^d / MIN_NEIGHBOUR_WEIGHT``: beyond ``d ~ 1000``
    they leave double precision and :func:`sigma_inverse` says so (a ``ValueError``).

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    d : int
        Number of superpixels.

    Returns
    -------
    float
    """
    d = _check_d(d)
    return (1.0 - math.sqrt(1.0 - 1.0 / d)) / math.sqrt(2.0 * math.log(1.0 / MIN_NEIGHBOUR_WEIGHT))


@renamed_arguments({"nu": "kernel_width"})
def inverse_coefficients(d: int, kernel_width: float) -> InverseCoefficients:
    """The numbers ``c_d, sigma_0, ..., sigma_3`` of the closed-form ``Sigma^{-1}``.

    With ``alpha_0, alpha_1, alpha_2`` from :func:`kernel_moment`::

        c_d     = (d - 1) alpha_0 alpha_2 - d alpha_1^2 + alpha_0 alpha_1
        sigma_0 = (d - 1) alpha_2 + alpha_1
        sigma_1 = -alpha_1
        sigma_2 = ((d - 2) alpha_0 alpha_2 - (d - 1) alpha_1^2 + alpha_0 alpha_1) / (alpha_1 - alpha_2)
        sigma_3 = (alpha_1^2 - alpha_0 alpha_2) / (alpha_1 - alpha_2)

    How they are computed: for a small ``nu`` the three alphas are almost equal (the
    instance carries nearly all the weight), and the differences above lose every
    digit. So the differences are written as sums of terms that do not cancel. Let
    ``w_j = 2^-d binom(d, j) pi(j)`` be the weight of the masks with ``j`` superpixels
    off and ``T_m = sum_j w_j j^m``; then

        alpha_1 - alpha_2           = 2^-d sum_j binom(d - 2, j - 1) pi(j)    (z_1 = 1, z_2 = 0)
        c_d                         = T_0 sum_j w_j (j - T_1 / T_0)^2 / d
        alpha_0 alpha_2 - alpha_1^2 = (d T_0 sum_j w_j j (j - 1) - (d - 1) T_1^2) / (d^2 (d - 1))

    (the pair sums ``sum_{k,l} w_k w_l (...)`` of the paper's formulas, in which the
    instance's own term ``j = 0`` drops out exactly). Then ``sigma_2`` has the numerator
    ``c_d - (alpha_0 alpha_2 - alpha_1^2)`` and ``sigma_3`` the numerator
    ``-(alpha_0 alpha_2 - alpha_1^2)``. Everything is O(d), and every count
    ``2^-d binom(d, j)`` is formed in log space, so ``d = 1024`` and beyond do not overflow.

    Raises ``ValueError`` when ``nu < smallest_bandwidth(d)`` (``Sigma`` is then
    singular in double precision) and when ``c_d`` (about ``4^-d`` for a small ``nu``)
    is below the smallest double.

    See the course notebook ``course/13_lime_theory.ipynb``.
    """
    nu = kernel_width
    d = _check_d(d)
    nu = check_positive(nu, "kernel_width")
    _check_bandwidth(d, nu)
    coef, shift = _scaled_coefficients(d, nu)
    c_d = coef.c_d * math.exp(2.0 * shift) if shift > -354.0 else 0.0
    if not c_d >= np.finfo(float).tiny:
        raise ValueError(
            f"kernel_width nu = {nu:g} is too small for d = {d} superpixels to write c_d in "
            f"double precision (it is about 1e{_log10(coef.c_d) + 2 * shift / math.log(10):.0f}); "
            "sigma_inverse still works when Sigma^{-1} itself fits, or use a larger kernel_width"
        )
    scale = math.exp(shift)
    return InverseCoefficients(c_d=c_d, sigma0=coef.sigma0 * scale, sigma1=coef.sigma1 * scale,
                               sigma2=coef.sigma2 * scale, sigma3=coef.sigma3 * scale)


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else float("-inf")


def _check_bandwidth(d: int, nu: float) -> None:
    """``ValueError`` when ``nu < smallest_bandwidth(d)`` (Sigma singular in double precision)."""
    if kernel_weight(1, d, nu) < MIN_NEIGHBOUR_WEIGHT:
        raise ValueError(
            f"kernel_width nu = {nu:g} is too small for d = {d} superpixels: a mask with one "
            f"superpixel off gets weight {float(kernel_weight(1, d, nu)):.1e} next to the "
            f"instance's 1, so Sigma is singular in double precision; use "
            f"kernel_width nu >= {smallest_bandwidth(d):.4g}"
        )


def _scaled_coefficients(d: int, nu: float) -> tuple[InverseCoefficients, float]:
    """The numbers of :func:`inverse_coefficients` for weights scaled by ``e^-shift``.

    For a small ``nu`` all weight sits on the instance, ``alpha_p ~ 2^-d``, and ``c_d ~ 4^-d``
    underflows from ``d ~ 500``. So the weights are divided by the largest one, ``e^shift``,
    first; the true numbers are ``c_d e^(2 shift)`` and ``sigma_i e^shift``, and
    ``Sigma^{-1} = (sigma_i / c_d) e^-shift``.
    """
    # Work with j = d - k, the number of superpixels switched off: the weight sits at small j.
    j = np.arange(d + 1, dtype=float)
    log_w = log_binomial(d, j) - d * math.log(2.0) + log_kernel_weight(j, d, nu)
    shift = float(np.max(log_w))
    w = np.exp(log_w - shift)  # w_j = 2^-d binom(d, j) pi(j) e^-shift, the largest is 1
    t0, t1 = float(np.sum(w)), float(np.sum(w * j))
    f2 = float(np.sum(w * j * (j - 1)))  # sum_j w_j j (j - 1): no j = 0, 1 terms
    a1 = float(np.sum(w * (d - j)) / d)
    a2 = float(np.sum(w * (d - j) * (d - j - 1)) / (d * (d - 1)))
    # alpha_1 - alpha_2 = 2^-d sum_k binom(d - 2, k - 1) pi(d - k): masks with z_1 = 1, z_2 = 0
    off = np.arange(1, d)  # j = d - k for k = 1 .. d - 1
    a1_minus_a2 = float(np.sum(np.exp(
        log_binomial(d - 2, d - off - 1) - d * math.log(2.0) + log_kernel_weight(off, d, nu)
        - shift)))
    # c_d = sum_{k,l} w_k w_l (k - l)^2 / (2 d) = t0 sum_j w_j (j - mu)^2 / d, mu = t1 / t0:
    # a sum of non-negative terms, exact for a small nu where almost all weight is at j = 0.
    mu = t1 / t0
    c_d = t0 * float(np.sum(w * (j - mu) ** 2)) / d
    # alpha_0 alpha_2 - alpha_1^2: the pair sum above, whose bracket in terms of j and i is
    # d (i - j)^2 + 2 i j - d (i + j); summed over the pairs it is d t0 f2 - (d - 1) t1^2.
    # (The j = 0 term, which would swamp the rest, has dropped out exactly.)
    spread = (d * t0 * f2 - (d - 1) * t1**2) / (d**2 * (d - 1))
    coef = InverseCoefficients(
        c_d=c_d,
        sigma0=(d - 1) * a2 + a1,
        sigma1=-a1,
        sigma2=(c_d - spread) / a1_minus_a2,
        sigma3=-spread / a1_minus_a2,
    )
    return coef, shift


@renamed_arguments({"nu": "kernel_width"})
def sigma_inverse(d: int, kernel_width: float) -> np.ndarray:
    """``Sigma^{-1}`` in closed form (Garreau and Mardaoui, 2021).

    ::

        Sigma^{-1} = (1 / c_d) [[sigma_0, sigma_1, ..., sigma_1],
                                [sigma_1, sigma_2, sigma_3, ..., sigma_3],
                                ...
                                [sigma_1, sigma_3, ..., sigma_3, sigma_2]]

    with the numbers of :func:`inverse_coefficients`. A note on ``Sigma``: the
    lecture writes ``alpha_2`` on the diagonal and ``alpha_3`` off it; since
    ``z_j^2 = z_j`` the entries are really ``E[pi z_j] = alpha_1`` on the diagonal
    and ``E[pi z_j z_k] = alpha_2`` off it. The formulas for ``c_d`` and
    ``sigma_0..sigma_3`` are written for these true entries, and
    :func:`sigma_matrix` builds them.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    d : int
        Number of superpixels.
    kernel_width : float
        The bandwidth ``nu`` (at least :func:`smallest_bandwidth`).

    Returns
    -------
    numpy.ndarray, shape ``(d + 1, d + 1)``
    """
    d = _check_d(d, maximum=MAX_MATRIX_SUPERPIXELS)
    nu = check_positive(kernel_width, "kernel_width")
    _check_bandwidth(d, nu)
    coef, shift = _scaled_coefficients(d, nu)  # Sigma^{-1} = (sigma_i / c_d) e^-shift
    with np.errstate(over="ignore"):
        half = np.exp(-shift / 2.0)  # e^-shift in two halves: the ratio may be small
        entries = np.array([coef.sigma0, coef.sigma1, coef.sigma2, coef.sigma3]) / coef.c_d \
            * half * half
    if not np.all(np.isfinite(entries)):
        raise ValueError(
            f"kernel_width nu = {nu:g} is too small for d = {d} superpixels: the entries of "
            "Sigma^{-1} exceed the double-precision range (about 2^d / d); use a larger "
            "kernel_width"
        )
    sigma0, sigma1, sigma2, sigma3 = entries
    inverse = np.full((d + 1, d + 1), sigma3)
    inverse[0, :] = sigma1
    inverse[:, 0] = sigma1
    inverse[0, 0] = sigma0
    np.fill_diagonal(inverse[1:, 1:], sigma2)
    return inverse


# --------------------------------------------------------------------------
# images, superpixels and masks
# --------------------------------------------------------------------------


def _superpixel_index(segments: Any, image: np.ndarray) -> tuple[np.ndarray, int]:
    """Map the labels of ``segments`` to ``0..d-1`` (order of ``np.unique``)."""
    seg = check_array(segments, "segments", ndim=2, dtype=None)
    if seg.dtype.kind not in "iu":
        raise TypeError(f"segments must hold integer superpixel labels, got dtype {seg.dtype}")
    if seg.shape != image.shape[:2]:
        raise ValueError(
            f"segments must have the image's height and width {image.shape[:2]}, "
            f"got shape {seg.shape}"
        )
    index = relabel(seg)
    return index, int(index.max()) + 1


def _check_image(image: Any) -> np.ndarray:
    image = check_array(image, "image", ndim=(2, 3))
    if image.size == 0:
        raise ValueError(f"image must have at least one pixel, got shape {image.shape}")
    return image


def _check_number(value: Any, name: str) -> float:
    """A finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def replacement_for(image: np.ndarray, index: np.ndarray, d: int, baseline: Any) -> np.ndarray:
    """The baseline image ``xi_bar`` (float).

    ``"superpixel_mean"``: every pixel of ``J_j`` gets the mean of ``xi`` over ``J_j``
    (per channel), ``xi_bar_u = (1/|J_j|) sum_{v in J_j} xi_v``
    (:func:`lime_core.perturbation.superpixel_means`; ``"mean"`` is its deprecated
    name). A number fills every pixel with it; an array of the image's shape is used
    as it is.

    Parameters
    ----------
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    index : numpy.ndarray of int, shape ``(H, W)``
        Superpixel labels ``0 .. d-1``.
    d : int
        Number of superpixels.
    baseline : "superpixel_mean", number or array

    Returns
    -------
    numpy.ndarray of float, the image's shape
    """
    if isinstance(baseline, str):
        if baseline == "mean":
            warn_renamed("lime_core.theory", "baseline='mean' (replacement='mean')",
                         "baseline='superpixel_mean'")
            baseline = "superpixel_mean"
        if baseline != "superpixel_mean":
            raise ValueError(
                f"baseline must be 'superpixel_mean', a number or an image, got {baseline!r}")
        return superpixel_means(image, index)
    if isinstance(baseline, (int, float, np.number)) and not isinstance(baseline, bool):
        return np.full(image.shape, _check_number(baseline, "baseline"))
    rep = check_array(baseline, "baseline")
    if rep.shape != image.shape:
        raise ValueError(
            f"baseline must be 'superpixel_mean', a number or an array of the image's shape "
            f"{image.shape}, got shape {rep.shape}"
        )
    return rep


def all_masks(d: int) -> np.ndarray:
    """All ``2^d`` masks as rows of a ``(2^d, d)`` 0/1 float array (row ``r`` = bits of ``r``).

    :func:`lime_core.sampling.all_masks` as floats, for at most 16 superpixels.
    """
    return _all_masks(d, maximum=MAX_EXACT_SUPERPIXELS).astype(float)


def masked_images(masks: np.ndarray, image: np.ndarray, replacement: np.ndarray,
                  index: np.ndarray) -> np.ndarray:
    """Images ``x`` for a batch of masks: pixel ``u`` in ``J_j`` is ``xi_u`` if ``z_j = 1``
    and ``xi_bar_u`` otherwise (:func:`lime_core.perturbation.masked_images`)."""
    return _masked_images(image, index, masks, replacement)


def _expectations(f: Callable, image: np.ndarray, segments: Any, baseline: Any,
                  target: int | None, batch_size: int):
    """Every mask, its model value and the superpixel map, for exact expectations."""
    check_callable(f, "classifier_fn")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    index, d = _superpixel_index(segments, image)
    if d > MAX_EXACT_SUPERPIXELS:
        raise ValueError(
            f"segments must have at most {MAX_EXACT_SUPERPIXELS} superpixels for the exact "
            f"expectation over all 2^d masks, got d = {d}"
        )
    if d < 2:
        raise ValueError(f"segments must have at least 2 superpixels, got d = {d}")
    rep = replacement_for(image, index, d, baseline)
    masks = all_masks(d)
    values = []
    for start in range(0, len(masks), batch_size):
        batch = _masked_images(image, index, masks[start:start + batch_size], rep)
        out = check_model_output(f(batch), len(batch), name="classifier_fn")
        values.append(select_target(out, target, name="classifier_fn"))
    return masks, np.concatenate(values), d, len(values)


# --------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------


@renamed_arguments({"f": "classifier_fn", "replacement": "baseline", "nu": "kernel_width",
                    "label": "target"})
def lime_limit(
    classifier_fn: Callable,
    image: Any,
    segments: Any,
    baseline: Any = "superpixel_mean",
    kernel_width: float = 0.25,
    *,
    target: int | None = None,
    batch_size: int = 256,
) -> LimeLimit:
    """The limit explanation ``beta = Sigma^{-1} Gamma`` by exact expectation.

    ``Gamma_0 = E[pi f(x)]`` and ``Gamma_j = E[pi z_j f(x)]`` are computed exactly
    by visiting all ``2^d`` masks (each has probability ``2^-d``), so this is only
    for small ``d`` (at most 16). ``Sigma^{-1}`` is the closed form of
    :func:`sigma_inverse`, which gives

        beta_j = c_d^{-1} (sigma_1 E[pi f] + sigma_2 E[pi z_j f] + sigma_3 sum_{k != j} E[pi z_k f]).

    Empirical image LIME with ``n`` samples (no penalty, or a penalty small next
    to ``n``) approaches this at rate ``1/sqrt(n)``.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    classifier_fn : callable
        ``classifier_fn(batch of images) -> (n,)`` or ``(n, k)`` numbers (was ``f``).
    image : numpy.ndarray, shape ``(H, W)`` or ``(H, W, C)``
    segments : numpy.ndarray of int, shape ``(H, W)``
        Superpixel labels; ``d = len(np.unique(segments))``.
    baseline : "superpixel_mean", number or array of the image's shape
        What hidden superpixels show (was ``replacement``).
    kernel_width : float
        Bandwidth ``nu`` of the kernel (lime's ``kernel_width``; was ``nu``).
    target : int, optional
        Which output of ``classifier_fn`` to explain (needed when it has several;
        was ``label``).
    batch_size : int
        Images per call of ``classifier_fn``.

    Returns
    -------
    LimeLimit

    Examples
    --------
    >>> import numpy as np
    >>> img = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> seg = np.array([[0, 1], [2, 3]])
    >>> lim = lime_limit(lambda b: b[:, 0, 0], img, seg, baseline=0.0)
    >>> (np.round(lim.coefficients, 6) + 0.0).tolist()    # only superpixel 0 matters
    [1.0, 0.0, 0.0, 0.0]
    """
    image = _check_image(image)
    nu = check_positive(kernel_width, "kernel_width")
    masks, values, d, calls = _expectations(classifier_fn, image, segments, baseline, target,
                                            batch_size)
    weights = kernel_weight(d - masks.sum(axis=1), d, nu)
    design = np.hstack([np.ones((len(masks), 1)), masks])
    gamma = design.T @ (weights * values) / len(masks)
    beta = sigma_inverse(d, nu) @ gamma
    return LimeLimit(intercept=float(beta[0]), coefficients=beta[1:], kernel_width=nu, method="exact",
                     model_calls=calls)


@renamed_arguments({"f": "classifier_fn", "replacement": "baseline", "label": "target"})
def large_bandwidth_limit(
    classifier_fn: Callable,
    image: Any,
    segments: Any,
    baseline: Any = "superpixel_mean",
    *,
    target: int | None = None,
    batch_size: int = 256,
) -> LimeLimit:
    """The limit explanation when ``nu -> infinity``.

    All weights tend to 1, LIME becomes ordinary least squares on fair coins and

        beta_j = 2 (E[f(x) | z_j = 1] - E[f(x)]),   beta_0 = E[f(x)] - (1/2) sum_j beta_j.

    A superpixel gets a large coefficient when the model is larger, on average,
    when that superpixel is shown. Exact expectation over all ``2^d`` masks.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    classifier_fn, image, segments, baseline, target, batch_size
        As in :func:`lime_limit`.

    Returns
    -------
    LimeLimit
    """
    image = _check_image(image)
    masks, values, d, calls = _expectations(classifier_fn, image, segments, baseline, target,
                                            batch_size)
    mean = values.mean()
    conditional = masks.T @ values / masks.sum(axis=0)
    beta = 2.0 * (conditional - mean)
    return LimeLimit(intercept=float(mean - beta.sum() / 2.0), coefficients=beta,
                     kernel_width=None, method="large_bandwidth", model_calls=calls)


def linear_model(weights: Any, bias: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """The model ``f(x) = sum_u lambda_u x_u + b`` on batches of images.

    See the course notebook ``course/13_lime_theory.ipynb``.
    """
    lam = check_array(weights, "weights")
    b = float(bias)

    def f(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        return batch.reshape(len(batch), -1) @ lam.ravel() + b

    return f


@renamed_arguments({"replacement": "baseline"})
def linear_model_limit(
    weights: Any,
    image: Any,
    segments: Any,
    baseline: Any = "superpixel_mean",
    *,
    bias: float = 0.0,
) -> LimeLimit:
    """Limit explanation of a linear model ``f(x) = sum_u lambda_u x_u + b``.

    ``beta_j = sum_{u in J_j} lambda_u (xi_u - xi_bar_u)`` for every bandwidth:
    gradient x (input - replacement), summed over the superpixel. The intercept
    is ``f(xi_bar)``. (Here ``f(x)`` is exactly linear in ``z``, so weighted least
    squares recovers it for any weights.)

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    weights : array of the image's shape
        ``lambda``.
    image, segments, baseline
        As in :func:`lime_limit`.
    bias : float
        ``b``.

    Returns
    -------
    LimeLimit
    """
    image = _check_image(image)
    lam = check_array(weights, "weights")
    if lam.shape != image.shape:
        raise ValueError(f"weights must have the image's shape {image.shape}, got {lam.shape}")
    bias = _check_number(bias, "bias")
    index, d = _superpixel_index(segments, image)
    rep = replacement_for(image, index, d, baseline)
    contribution = (lam * (image - rep)).reshape(image.shape[0] * image.shape[1], -1).sum(axis=1)
    beta = np.bincount(index.ravel(), weights=contribution, minlength=d)
    with np.errstate(over="ignore", invalid="ignore"):
        intercept = float(np.sum(lam * rep) + bias)
    if not (np.all(np.isfinite(beta)) and np.isfinite(intercept)):
        raise ValueError("weights or image too large: the limit coefficients "
                         "lambda . (x - baseline) summed per superpixel overflow float64")
    return LimeLimit(intercept=intercept, coefficients=beta, kernel_width=None, method="linear")


def _shape_mask(shape: Any, image: np.ndarray) -> np.ndarray:
    mask = np.asarray(shape)
    if mask.dtype != bool:
        raise TypeError(f"shape must be a boolean mask, got {_describe(shape)}")
    if mask.shape == image.shape[:2] and image.ndim == 3:
        mask = np.broadcast_to(mask[..., None], image.shape)
    if mask.shape != image.shape:
        raise ValueError(
            f"shape must be a boolean mask of shape {image.shape[:2]} or {image.shape}, "
            f"got {mask.shape}"
        )
    if not mask.any():
        raise ValueError("shape must select at least one pixel, got an empty mask")
    return mask


def shape_detector(shape: Any, threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    """The model ``f(x) = prod_{u in S} 1{x_u > tau}``: 1 when the shape ``S`` is lit.

    See the course notebook ``course/13_lime_theory.ipynb``.
    """
    mask = np.asarray(shape, dtype=bool)
    tau = float(threshold)

    def f(batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=float)
        selected = batch[:, np.broadcast_to(mask[..., None], batch.shape[1:])
                         if mask.ndim == batch.ndim - 2 else mask]
        return np.all(selected > tau, axis=1).astype(float)

    return f


@renamed_arguments({"replacement": "baseline", "nu": "kernel_width"})
def shape_detector_limit(
    image: Any,
    segments: Any,
    shape: Any,
    threshold: float,
    baseline: Any = "superpixel_mean",
    kernel_width: float = 0.25,
) -> LimeLimit:
    """Limit explanation of the shape detector ``f(x) = prod_{u in S} 1{x_u > tau}``.

    ``E`` = superpixels that meet ``S``; ``E_-`` = those whose replacement switches
    part of ``S`` off (``xi_bar_u <= tau`` for some ``u`` in ``J_j`` and ``S``); ``p = |E_-|``.
    Assuming the shape is lit in ``xi`` (``S_- = {u in S : xi_u <= tau}`` is empty,
    the seed's assumption), ``f(x) = prod_{j in E_-} z_j``, so ``Gamma_0 = alpha_p``,
    ``Gamma_j = alpha_p`` for ``j`` in ``E_-`` and ``alpha_{p+1}`` otherwise, and

    * for ``j`` in ``E_-``: ``beta_j = c_d^{-1} (sigma_1 alpha_p + sigma_2 alpha_p + (p-1) sigma_3 alpha_p + (d-p) sigma_3 alpha_{p+1})``
    * otherwise:       ``beta_j = c_d^{-1} (sigma_1 alpha_p + sigma_2 alpha_{p+1} + p sigma_3 alpha_p + (d-p-1) sigma_3 alpha_{p+1})``

    For large ``nu``: ``beta_j ~ 1/2^{p-1}`` on ``E_-`` and 0 elsewhere. LIME
    splits the credit equally between the superpixels that switch the shape off.

    See the course notebook ``course/13_lime_theory.ipynb``.

    Parameters
    ----------
    image, segments, baseline, kernel_width
        As in :func:`lime_limit`.
    shape : bool mask ``(H, W)`` or the image's shape
        The pixels ``S`` the detector looks at.
    threshold : float
        ``tau``.

    Returns
    -------
    LimeLimit
    """
    image = _check_image(image)
    nu = check_positive(kernel_width, "kernel_width")
    tau = _check_number(threshold, "threshold")
    mask = _shape_mask(shape, image)
    index, d = _superpixel_index(segments, image)
    if d < 2:
        raise ValueError(f"segments must have at least 2 superpixels, got d = {d}")
    rep = replacement_for(image, index, d, baseline)
    if np.any(image[mask] <= tau):
        raise ValueError(
            "image must light the whole shape (every pixel of S above threshold); "
            "the closed form assumes S_- is empty"
        )
    pixel_index = np.broadcast_to(index[..., None], image.shape) if image.ndim == 3 else index
    switching_off = np.zeros(d, dtype=bool)
    np.logical_or.at(switching_off, pixel_index[mask], rep[mask] <= tau)
    p = int(switching_off.sum())
    coef = inverse_coefficients(d, nu)
    a_p, a_p1 = kernel_moment(d, nu, p), kernel_moment(d, nu, min(p + 1, d))
    if p == d:
        a_p1 = 0.0  # no superpixel outside E_-, the alpha_{p+1} terms have weight 0
    in_e = coef.sigma1 * a_p + coef.sigma2 * a_p + (p - 1) * coef.sigma3 * a_p \
        + (d - p) * coef.sigma3 * a_p1
    out_e = coef.sigma1 * a_p + coef.sigma2 * a_p1 + p * coef.sigma3 * a_p \
        + (d - p - 1) * coef.sigma3 * a_p1
    beta = np.where(switching_off, in_e, out_e) / coef.c_d
    intercept = (coef.sigma0 * a_p + coef.sigma1 * (p * a_p + (d - p) * a_p1)) / coef.c_d
    return LimeLimit(intercept=float(intercept), coefficients=beta, kernel_width=nu, method="shape_detector")


__all__ = [
    "InverseCoefficients",
    "LimeLimit",
    "kernel_moment",
    "kernel_weight",
    "sigma_matrix",
    "inverse_coefficients",
    "sigma_inverse",
    "all_masks",
    "masked_images",
    "replacement_for",
    "lime_limit",
    "large_bandwidth_limit",
    "linear_model",
    "linear_model_limit",
    "shape_detector",
    "shape_detector_limit",
]


def __getattr__(name: str):
    """``theory.alpha`` is the deprecated name of :func:`kernel_moment`."""
    if name == "alpha":
        return deprecated_alias(kernel_moment, "alpha")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
