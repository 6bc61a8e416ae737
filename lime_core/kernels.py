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
    has distance 1 (as in scikit-learn, which lime uses).

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
    ``course/06_lime_tabular.ipynb``.

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
    return np.sqrt(np.sum((Z - ref) ** 2, axis=1))


def exponential_kernel(distances, kernel_width: float) -> np.ndarray:
    """LIME's exponential kernel.

    ``pi(d) = exp(-d^2 / (2 w^2))``, computed exactly as lime does,
    ``sqrt(exp(-d^2 / w^2))``, so weights agree with lime bit for bit.

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
        Weights in ``(0, 1]``, the shape of ``distances``.

    Examples
    --------
    >>> exponential_kernel([0.0, 0.25], 0.25).round(4).tolist()
    [1.0, 0.6065]
    """
    d = check_array(distances, "distances", ndim=(0, 1, 2))
    if np.any(d < 0):
        raise ValueError(f"distances must be >= 0, got a minimum of {float(d.min())}")
    w = check_positive(kernel_width, "kernel_width")
    return np.sqrt(np.exp(-(d**2) / w**2))
