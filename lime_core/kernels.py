"""Distances to the explained instance and LIME's proximity kernel.

LIME weighs every perturbed sample ``z`` by how close it is to the instance ``x``:

    pi_x(z) = exp(-D(x, z)^2 / (2 w^2)) = sqrt(exp(-D(x, z)^2 / w^2))

with ``D`` a cosine distance (images, text) or a euclidean distance (tables) on the
interpretable representation. See the course notebook ``course/03_lime_algorithm.ipynb``.
"""

from __future__ import annotations

import numpy as np

from lime_core._validation import check_array, check_positive


def _rows_and_reference(Z, reference, name: str) -> tuple[np.ndarray, np.ndarray]:
    Z = check_array(Z, name, ndim=2, min_rows=1)
    if reference is None:
        ref = Z[0]
    else:
        ref = check_array(reference, "reference", ndim=1)
        if ref.shape[0] != Z.shape[1]:
            raise ValueError(
                f"reference must have {Z.shape[1]} entries (one per column of {name}), "
                f"got {ref.shape[0]}"
            )
    return Z, ref


def cosine_distance(Z, reference=None) -> np.ndarray:
    """Cosine distance of every row of ``Z`` to ``reference``.

    ``D(z, r) = 1 - <z, r> / (|z| |r|)``, clipped to ``[0, 2]``; a row of zeros
    has distance 1 (as in scikit-learn, which lime uses). Entries beyond 1e±150 are
    handled by scaling each row to ``max_j |z_j| = 1`` first (the cosine is
    scale-invariant), so norms can neither overflow nor underflow.

    Parameters
    ----------
    Z : (n, d) array-like
        Interpretable samples (e.g. binary masks).
    reference : (d,) array-like, optional
        The point distances are measured to; defaults to ``Z[0]``, the instance.

    Returns
    -------
    (n,) float array

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, ref = _rows_and_reference(Z, reference, "Z")
    nonzero = np.abs(np.concatenate([Z.ravel(), ref]))
    nonzero = nonzero[nonzero > 0]
    if nonzero.size and (nonzero.max() > _SQUARE_SAFE[1] or nonzero.min() < _SQUARE_SAFE[0]):
        # the cosine does not change when a row is scaled: bring every row to max |z_j| = 1
        # first, so that norms and dot products cannot overflow
        row_max = np.max(np.abs(Z), axis=1, keepdims=True)
        Z = np.divide(Z, row_max, out=np.zeros_like(Z), where=row_max > 0)
        ref_max = np.max(np.abs(ref), initial=0.0)
        ref = ref / ref_max if ref_max > 0 else ref
    norms = np.linalg.norm(Z, axis=1)
    ref_norm = np.linalg.norm(ref)
    denom = norms * ref_norm
    dots = Z @ ref
    similarity = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
    return np.clip(1.0 - similarity, 0.0, 2.0)


def euclidean_distance(Z, reference=None) -> np.ndarray:
    """Euclidean distance ``D(z, r) = ||z - r||_2`` of every row of ``Z`` to ``reference``.

    ``reference`` defaults to ``Z[0]`` (the instance). Tabular LIME uses it on the
    binary "same bin as the instance" representation; see
    ``course/06_lime_tabular.ipynb``. Rows whose squares would overflow (entries above
    about 1e154, or underflow, below 1e-154) are measured as ``m ||(z - r) / m||`` with
    ``m = max_j |z_j - r_j|``; a distance that is itself beyond the float range is refused.

    Parameters
    ----------
    Z : array-like, shape ``(n, d)``
    reference : array-like, shape ``(d,)``, optional
        Default ``Z[0]``.

    Returns
    -------
    numpy.ndarray, shape ``(n,)``

    Examples
    --------
    >>> euclidean_distance([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]).round(3).tolist()
    [0.0, 1.0, 1.414]
    """
    Z, ref = _rows_and_reference(Z, reference, "Z")
    with np.errstate(over="ignore", invalid="ignore"):
        diff = Z - ref
    if not np.all(np.isfinite(diff)):
        raise ValueError("Z and reference differ by more than the largest float; rescale them")
    return _row_norms(diff)


def _row_norms(A: np.ndarray) -> np.ndarray:
    """``||a||_2`` of every row; rows whose squares would overflow or underflow
    (entries beyond 1e±150) are scaled by their largest entry first."""
    m = np.max(np.abs(A), axis=1, initial=0.0)
    with np.errstate(over="ignore", under="ignore"):
        out = np.sqrt(np.sum(A**2, axis=1))
    odd = (m > _SQUARE_SAFE[1]) | ((m > 0) & (m < _SQUARE_SAFE[0]))
    if np.any(odd):
        with np.errstate(over="ignore", under="ignore"):
            out[odd] = m[odd] * np.sqrt(np.sum((A[odd] / m[odd, None]) ** 2, axis=1))
        if not np.all(np.isfinite(out)):
            raise ValueError("a distance between rows of Z exceeds the largest float; rescale Z")
    return out


def exponential_kernel(distances, kernel_width: float) -> np.ndarray:
    """LIME's exponential kernel.

    ``pi(d) = exp(-d^2 / (2 w^2))``, computed as lime does, ``sqrt(exp(-d^2 / w^2))``,
    so weights agree with lime bit for bit, while ``d^2`` and ``w^2`` are ordinary
    floats; for extreme widths or distances (``w`` or ``d`` beyond about 1e±150, where
    squaring overflows or underflows) as ``exp(-(d / w)^2 / 2)``, which stays in
    ``[0, 1]`` for every finite ``d >= 0`` and ``w > 0``.

    Parameters
    ----------
    distances : array-like of non-negative floats
    kernel_width : float > 0
        ``w``; lime's defaults are 0.25 (images), 25 (text, distances x100) and
        ``0.75 * sqrt(n_features)`` (tables).

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Returns
    -------
    numpy.ndarray
        Weights in ``[0, 1]`` (1 at ``d = 0``), the shape of ``distances``.

    Examples
    --------
    >>> exponential_kernel([0.0, 0.25], 0.25).round(4).tolist()
    [1.0, 0.6065]
    >>> exponential_kernel([0.0, 1e200], 1e200).round(4).tolist()
    [1.0, 0.6065]
    """
    d = check_array(distances, "distances", ndim=(0, 1, 2))
    if np.any(d < 0):
        raise ValueError(f"distances must be >= 0, got a minimum of {float(d.min())}")
    w = check_positive(kernel_width, "kernel_width")
    with np.errstate(over="ignore", under="ignore"):
        if _SQUARE_SAFE[0] < w < _SQUARE_SAFE[1] and np.all(d < _SQUARE_SAFE[1]):
            return np.sqrt(np.exp(-(d**2) / w**2))
        return np.exp(-0.5 * (d / w) ** 2)


#: Widths and distances whose squares are normal floats: there the kernel is lime's formula.
_SQUARE_SAFE = (1e-150, 1e150)
