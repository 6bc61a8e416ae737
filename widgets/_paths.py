"""Private numeric helpers of the widgets that lime_core does not (yet) provide.

Candidates to move to :mod:`lime_core.surrogate`: the whole path of weighted ridge
fits over the first ``n = 1 .. N`` samples, which the animated players show as
"coefficients converging" one sample at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lime_core._validation import check_array, check_positive


@dataclass
class RidgePath:
    """Weighted ridge fits on the first ``n`` samples, for every ``n = 1 .. N``.

    Attributes
    ----------
    coef : (N, d) float array
        ``coef[n - 1]`` are the coefficients fitted on samples ``0 .. n - 1``.
    intercept : (N,) float array
    alpha : float
    """

    coef: np.ndarray
    intercept: np.ndarray
    alpha: float


def ridge_path(Z, y, weights, alpha: float = 1.0, refresh: int = 64) -> RidgePath:
    """All prefix fits of the weighted ridge surrogate, one sample at a time.

    The surrogate on the first ``n`` samples solves, with ``x_i = (1, z_i)`` and the
    penalty ``P = diag(0, alpha, ..., alpha)`` (intercept not penalised),

        A_n theta_n = b_n,   A_n = P + sum_{i<n} w_i x_i x_i^T,   b_n = sum_{i<n} w_i y_i x_i,

    which is the same fit as :func:`lime_core.surrogate.weighted_ridge` on those
    samples. Adding a sample is a rank-one change of ``A``, so its inverse is
    updated by the Sherman-Morrison formula

        A_{n+1}^{-1} = A_n^{-1} - (w u u^T) / (1 + w x^T u),   u = A_n^{-1} x,

    in ``O(d^2)`` per sample instead of a new ``O(d^3)`` solve; the inverse is
    recomputed exactly every ``refresh`` samples to stop rounding errors from
    accumulating. Needs ``alpha > 0`` (the first fits have fewer samples than
    features). Taught in ``course/05_lime_images.ipynb`` (the image player).
    """
    Z = check_array(Z, "Z", ndim=2, min_rows=1)
    y = check_array(y, "y", ndim=1)
    w = check_array(weights, "weights", ndim=1)
    alpha = check_positive(alpha, "alpha")
    n, d = Z.shape
    if y.shape[0] != n or w.shape[0] != n:
        raise ValueError(f"y and weights must have {n} entries (one per row of Z), "
                         f"got {y.shape[0]} and {w.shape[0]}")
    X = np.hstack([np.ones((n, 1)), Z])
    penalty = np.full(d + 1, alpha)
    penalty[0] = 0.0
    theta = np.empty((n, d + 1))
    b = np.zeros(d + 1)
    A_inv = np.zeros((d + 1, d + 1))
    for i in range(n):
        x = X[i]
        b += w[i] * y[i] * x
        if i % refresh == 0:
            # exact inverse of A_{i+1}; a tiny nudge while the weights seen so far are all 0
            A = np.diag(penalty) + X[: i + 1].T @ (w[: i + 1, None] * X[: i + 1])
            if A[0, 0] <= 0:
                A[0, 0] = 1e-12
            A_inv = np.linalg.inv(A)
        else:
            u = A_inv @ x
            A_inv -= (w[i] / (1.0 + w[i] * (x @ u))) * np.outer(u, u)
        theta[i] = A_inv @ b
    return RidgePath(coef=theta[:, 1:], intercept=theta[:, 0], alpha=alpha)
