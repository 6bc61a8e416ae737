"""The local surrogate: a weighted ridge regression on the interpretable samples.

Given masks ``Z`` (n, d), model outputs ``y`` (n,) for one label and kernel weights
``w`` (n,), LIME fits

    g(z) = b + z . beta,   (b, beta) = argmin  sum_i w_i (y_i - b - z_i . beta)^2 + alpha |beta|^2

after choosing at most ``num_features`` features. The intercept is not penalised,
so the problem is solved on weighted-centred data (``zbar = sum w z / sum w``). With
``X = W^(1/2) (Z - 1 zbar^T)`` and ``ys = W^(1/2) (y - ybar)``:

    primal (d <= n):  beta = (X^T X + alpha I)^{-1} X^T ys          a (d, d) system
    dual   (d >  n):  beta = X^T (X X^T + alpha I)^{-1} ys          an (n, n) system

and ``b = ybar - zbar . beta``. Both are the same vector (push-through identity
``(X^T X + alpha I)^{-1} X^T = X^T (X X^T + alpha I)^{-1}``); we solve the smaller
system, as scikit-learn's ``Ridge`` does, so a text with 6,000 distinct words and 100
samples costs a 100 x 100 system, not a 6,000 x 6,000 one. Feature selection is linear
in ``d`` too (see :func:`forward_selection`).

See the course notebook ``course/03_lime_algorithm.ipynb``.

Standard errors (lime gives none). We read the kernel weights as precisions,
``y_i = b + z_i . beta + e_i`` with ``Var(e_i) = sigma^2 / w_i``. Then

    Cov(beta_hat) = sigma^2 A^{-1} (Zc^T W Zc) A^{-1}             (sandwich form)
    sigma_hat^2   = sum_i w_i r_i^2 / (n - 1 - df),  df = tr((Zc^T W Zc) A^{-1})

where ``r_i`` are the residuals and ``df`` the effective degrees of freedom of the
ridge fit. With ``alpha = 0`` this is exactly the textbook weighted-least-squares
standard error ``sigma_hat^2 (Zc^T W Zc)^{-1}``. With ``alpha > 0`` the residuals also
carry the shrinkage bias, so ``sigma_hat`` is slightly too large when ``alpha`` is not small
next to ``Z^T W Z`` (few samples); with LIME's hundreds of samples and ``alpha = 1`` the
formula matches a Monte-Carlo estimate within a few percent (``tests/test_surrogate.py``).

Extreme magnitudes. Before solving, ``Z``, ``y`` and ``w`` are multiplied by powers of
two (exact in floating point) so that their largest entries are about 1, and ``alpha``
is rescaled to match (``Z = 2^a Z'``, ``w = 2^b w'``, ``y = 2^c y'`` give
``alpha' = 2^(-2a-b) alpha``, ``beta = 2^(c-a) beta'``). Finite inputs up to 1e308
therefore give finite answers; when the answer itself does not fit in a float64 a
``ValueError`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lime_core._validation import check_array, check_choice, check_int, check_positive

FEATURE_SELECTIONS = ("auto", "none", "forward_selection", "highest_weights", "lasso_path")

#: Columns of ``X`` formed at a time (about 16 MB of float64 per block).
_BLOCK_BYTES = 2**24
#: ``Z`` is rescaled only when its largest magnitude is outside ``2^-64 .. 2^64``.
_SAFE_EXPONENT = 64


@dataclass
class SurrogateFit:
    """A fitted local surrogate for one label.

    Attributes
    ----------
    coef : (d,) float array
        Coefficient of every interpretable feature; 0 for features not selected.
    features : (k,) int array
        Selected feature indices, in the order the selection produced them
        (lime's ``used_features``).
    intercept : float
    score : float
        Weighted R^2 of the surrogate on the samples it was fitted on.
    local_pred : float
        Surrogate prediction at the instance, ``g(Z[0])``.
    stderr : (d,) float array
        Standard error of every coefficient (see the module docstring); NaN for
        features that were not selected (they were not estimated).
    alpha : float
    feature_selection : str
        The selection mode that was asked for (``"auto"`` stays ``"auto"``).
    """

    coef: np.ndarray
    features: np.ndarray
    intercept: float
    score: float
    local_pred: float
    stderr: np.ndarray
    alpha: float
    feature_selection: str

    def as_list(self) -> list[tuple[int, float]]:
        """``[(feature, weight)]`` of the selected features sorted by ``|weight|``, like lime."""
        weights = self.coef[self.features]
        order = np.argsort(-np.abs(weights), kind="stable")
        return [(int(self.features[i]), float(weights[i])) for i in order]


def _check_data(Z, y, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``Z`` (float, or bool kept as bool: masks need no float copy), ``y``, ``weights``."""
    if isinstance(Z, np.ndarray) and Z.dtype == bool:
        Z = check_array(Z, "Z", ndim=2, min_rows=2, dtype=None)
    else:
        Z = check_array(Z, "Z", ndim=2, min_rows=2)
    y = check_array(y, "y", ndim=1)
    weights = check_array(weights, "weights", ndim=1)
    n = Z.shape[0]
    if Z.shape[1] == 0:
        raise ValueError(f"Z must have at least one column (feature), got shape {Z.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y must have {n} entries (one per row of Z), got {y.shape[0]}")
    if weights.shape[0] != n:
        raise ValueError(f"weights must have {n} entries (one per row of Z), got {weights.shape[0]}")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return Z, y, weights


# ---------------------------------------------------------------- numerics


def _exponent(x: np.ndarray, even: bool = False) -> int:
    """``e`` such that ``max|x| * 2^-e`` is in ``[0.5, 1)`` (0 for an all-zero array).

    Multiplying by ``2^-e`` is exact in floating point. ``even=True`` rounds ``e`` up to
    an even number, so that ``sqrt(2^-e)`` is exact too.
    """
    if x.size == 0:
        return 0
    top = max(float(np.max(x)), -float(np.min(x)))  # no |x| temporary for a large Z
    e = int(np.frexp(top)[1]) if top > 0 else 0
    return e + (e % 2) if even else e


def _rescale(Z: np.ndarray, y: np.ndarray, weights: np.ndarray):
    """``Z = 2^a Z'``, ``y = 2^c y'``, ``w = 2^b w'`` with ``Z', y', w'`` of magnitude about 1.

    ``Z`` is copied only when it is outside ``2^-64 .. 2^64`` (a is 0 otherwise).
    Returns ``Z', y', w', a, b, c``.
    """
    a = _exponent(Z)
    if abs(a) <= _SAFE_EXPONENT:
        a = 0
    else:
        Z = np.ldexp(Z, -a)
    b = _exponent(weights, even=True)
    c = _exponent(y)
    return Z, np.ldexp(y, -c), np.ldexp(weights, -b), a, b, c


def _scaled_alpha(alpha: float, a: int, b: int) -> float:
    """``alpha' = 2^(-2a-b) alpha``, the penalty of the rescaled problem.

    ``inf`` when ``alpha`` dwarfs ``Z^T W Z`` beyond float64 range; the callers then use
    the limit ``beta = X^T ys / alpha`` (relative error below 2^-1000).
    """
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(alpha, -2 * a - b))


def _unscale(x, exponent: int, what: str):
    """``2^exponent x``, or a ValueError when that overflows a float64."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(x, exponent)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the {what} do not fit in a float64 (inputs span more than 2^1024)")
    return out


def _weighted_means(Z, y, weights):
    total = weights.sum()
    return _t_dot(Z, weights) / total, float(weights @ y / total)


def _t_dot(Z, v) -> np.ndarray:
    """``Z^T v`` (d,); a bool ``Z`` is converted one block of columns at a time."""
    if Z.dtype != bool:
        return Z.T @ v
    return np.concatenate([v @ Z[:, cols].astype(float) for cols in _column_blocks(*Z.shape)])


def _dot(Z, coef) -> np.ndarray:
    """``Z coef`` (n,); a bool ``Z`` is converted one block of columns at a time."""
    if Z.dtype != bool:
        return Z @ coef
    out = np.zeros(Z.shape[0])
    for cols in _column_blocks(*Z.shape):
        out += Z[:, cols].astype(float) @ coef[cols]
    return out


def _x_columns(Z, z_mean, root_w, cols) -> np.ndarray:
    """Columns ``cols`` of ``X = W^(1/2) (Z - 1 zbar^T)`` (a slice or an index array)."""
    return (Z[:, cols] - z_mean[cols]) * root_w[:, None]


def _column_blocks(n: int, d: int):
    """Slices of at most ``_BLOCK_BYTES`` worth of ``n``-row float64 columns."""
    step = max(1, _BLOCK_BYTES // (8 * max(n, 1)))
    return [slice(j, min(j + step, d)) for j in range(0, d, step)]


def _row_blocks(n: int, d: int):
    """Slices of rows holding at most ``_BLOCK_BYTES`` worth of ``d``-column float64 rows."""
    step = max(1, _BLOCK_BYTES // (8 * max(d, 1)))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _primal_gram(Z, z_mean, root_w, ys=None):
    """``G = X^T X`` (d, d) and, given ``ys``, ``X^T ys``, summed over blocks of rows of
    ``X = W^(1/2) (Z - 1 zbar^T)``: memory is one block, not all ``n x d`` of ``X``."""
    n, d = Z.shape
    G = np.zeros((d, d))
    b = None if ys is None else np.zeros(d)
    for rows in _row_blocks(n, d):
        Xb = (Z[rows] - z_mean) * root_w[rows, None]
        G += Xb.T @ Xb
        if ys is not None:
            b += Xb.T @ ys[rows]
    return G, b


def _xt_dot(Z, z_mean, root_w, v) -> np.ndarray:
    """``X^T v = Z^T (w^(1/2) v) - zbar sum(w^(1/2) v)`` without forming ``X`` (d,)."""
    sv = root_w * v
    return _t_dot(Z, sv) - z_mean * sv.sum()


def _dual_gram(Z, z_mean, root_w) -> np.ndarray:
    """``K = X X^T`` (n, n), summed over column blocks of ``X`` (never all of ``X`` at once).

    Each block is added in place by BLAS ``syrk`` (``K += Xb Xb^T``, upper triangle
    only, half the work of a product), then the lower triangle is mirrored: the only
    ``(n, n)`` array is ``K`` itself.
    """
    from scipy.linalg.blas import dsyrk

    n, d = Z.shape
    K = np.zeros((n, n), order="F")
    for cols in _column_blocks(n, d):
        Xb = _x_columns(Z, z_mean, root_w, cols)
        # Xb.T is Fortran-ordered (no copy for BLAS): K += (Xb.T)^T (Xb.T)
        K = dsyrk(1.0, Xb.T, beta=1.0, c=K, trans=1, overwrite_c=True)
    for rows in _column_blocks(n, n):  # mirror the upper triangle, a block of rows at a time
        K[rows, : rows.start] = K[: rows.start, rows].T
        block = K[rows, rows]
        K[rows, rows] = np.triu(block) + np.triu(block, 1).T
    return K


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A^{-1} b``; least squares when ``A`` is singular (alpha = 0, collinear columns)."""
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def _solve_spd_in_place(K: np.ndarray, alpha: float, rhs: np.ndarray) -> np.ndarray:
    """``(K + alpha I)^{-1} rhs`` for a symmetric ``K``, overwriting ``K`` (no copy).

    Cholesky when ``alpha > 0``; the minimum-norm least-squares solution when
    ``alpha = 0`` or the factorisation fails (``K`` singular).
    """
    import scipy.linalg

    K[np.diag_indices_from(K)] += alpha
    if alpha > 0:
        try:
            # K is symmetric: whichever of K, K.T is in Fortran order is factored in place
            F = K if K.flags.f_contiguous else K.T
            factor = scipy.linalg.cho_factor(F, overwrite_a=True, check_finite=False)
            return scipy.linalg.cho_solve(factor, rhs, check_finite=False)
        except np.linalg.LinAlgError:
            return None
    return np.linalg.lstsq(K, rhs, rcond=None)[0]


def _ridge(Z, y, weights, alpha: float) -> tuple[np.ndarray, float]:
    """Weighted ridge on already rescaled data: the primal or the dual, whichever is smaller."""
    n, d = Z.shape
    z_mean, y_mean = _weighted_means(Z, y, weights)
    root_w = np.sqrt(weights)
    ys = root_w * (y - y_mean)
    if d <= n:  # primal: (X^T X + alpha I) beta = X^T ys
        A, b = _primal_gram(Z, z_mean, root_w, ys)
        A[np.diag_indices_from(A)] += alpha
        coef = _solve(A, b)
    else:  # dual: (X X^T + alpha I) v = ys, beta = X^T v
        v = _solve_spd_in_place(_dual_gram(Z, z_mean, root_w), alpha, ys)
        if v is None:  # numerically singular despite alpha > 0: least squares
            K = _dual_gram(Z, z_mean, root_w)
            K[np.diag_indices_from(K)] += alpha
            v = np.linalg.lstsq(K, ys, rcond=None)[0]
        coef = _xt_dot(Z, z_mean, root_w, v)
    return coef, float(y_mean - z_mean @ coef)


# ---------------------------------------------------------------- public functions


def weighted_r2(y, pred, weights) -> float:
    """Weighted coefficient of determination of predictions ``pred`` of ``y``.

        ybar_w = sum_i w_i y_i / sum_i w_i
        R^2    = 1 - sum_i w_i (y_i - pred_i)^2 / sum_i w_i (y_i - ybar_w)^2

    scikit-learn's convention (``r2_score(y, pred, sample_weight=w)``): when ``y`` is
    constant under the weights, ``R^2`` is 1 for a perfect prediction and 0 otherwise.
    It is the ``score`` of every :class:`SurrogateFit`: how well the surrogate ``g``
    follows the model on the (weighted) samples. Evaluated on *new* samples it tells
    whether the surrogate generalises in the neighbourhood. ``y``, ``pred`` and the
    weights are rescaled by powers of two first (``R^2`` does not change), so values
    up to 1e308 give a finite score.

    Parameters
    ----------
    y : (n,) array-like
        Model outputs.
    pred : (n,) array-like
        Surrogate predictions ``g(z_i)``.
    weights : (n,) array-like
        Non-negative kernel weights ``pi_x(z_i)`` with a positive sum.

    Returns
    -------
    float

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    y = check_array(y, "y", ndim=1)
    pred = check_array(pred, "pred", ndim=1)
    weights = check_array(weights, "weights", ndim=1)
    if pred.shape != y.shape or weights.shape != y.shape:
        raise ValueError(
            f"y, pred and weights must have the same length, got {y.shape[0]}, "
            f"{pred.shape[0]} and {weights.shape[0]}"
        )
    if y.shape[0] == 0:
        raise ValueError("y must have at least one entry, got 0")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    # one power of two for y and pred (keeps y - pred exact up to rounding), one for w
    c = max(_exponent(y), _exponent(pred))
    y, pred, weights = np.ldexp(y, -c), np.ldexp(pred, -c), np.ldexp(weights, -_exponent(weights))
    y_mean = weights @ y / weights.sum()
    rss = weights @ (y - pred) ** 2
    tss = weights @ (y - y_mean) ** 2
    if tss == 0:
        return 1.0 if rss == 0 else 0.0
    return float(1.0 - rss / tss)


def weighted_ridge(Z, y, weights, alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Closed-form weighted ridge regression with an unpenalised intercept.

    ``beta = (Zc^T W Zc + alpha I)^{-1} Zc^T W yc`` and ``b = ybar - zbar . beta``
    (weighted means, ``W = diag(weights)``). Equal to
    ``sklearn.linear_model.Ridge(alpha).fit(Z, y, sample_weight=weights)``.

    When there are more features than samples (``d > n``) the same ``beta`` is computed
    in the dual, ``beta = X^T (X X^T + alpha I)^{-1} ys`` (module docstring): an
    ``(n, n)`` system, memory ``O(n^2 + n d)`` and time ``O(n^2 d)``. With ``alpha = 0``
    and a singular system the result is the minimum-norm least-squares solution.

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Parameters
    ----------
    Z : array-like, shape ``(n, d)``
    y : array-like, shape ``(n,)``
    weights : array-like, shape ``(n,)``
        Sample weights ``pi_i >= 0``.
    alpha : float
        Ridge penalty (0: weighted least squares).

    Returns
    -------
    coef : numpy.ndarray, shape ``(d,)``
    intercept : float

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, negative weights; or a result that does not fit in a
        float64 (finite inputs near 1e308 are rescaled first and normally do fit).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[0.0], [1.0], [2.0]])
    >>> coef, b = weighted_ridge(Z, 2 * Z[:, 0] + 1, np.ones(3), alpha=0.0)
    >>> np.round(coef, 6).tolist(), round(b, 6)
    ([2.0], 1.0)
    """
    Z, y, weights = _check_data(Z, y, weights)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    Zs, ys, ws, a, b, c = _rescale(Z, y, weights)
    alpha_s = _scaled_alpha(alpha, a, b)
    if np.isfinite(alpha_s):
        coef_s, intercept_s = _ridge(Zs, ys, ws, alpha_s)
        return (_unscale(coef_s, c - a, "ridge coefficients"),
                float(_unscale(intercept_s, c, "ridge intercept")))
    # the penalty dominates beyond float64 range: beta = X^T ys / alpha, in original units
    z_mean, y_mean = _weighted_means(Zs, ys, ws)
    root_w = np.sqrt(ws)
    direction = _xt_dot(Zs, z_mean, root_w, root_w * (ys - y_mean)) / alpha
    coef = _unscale(direction, a + b + c, "ridge coefficients")
    with np.errstate(over="ignore", under="ignore"):
        intercept = float(np.ldexp(y_mean, c) - np.ldexp(float(z_mean @ coef), a))
    return coef, intercept


def _stderr_primal(Z, weights, alpha, residuals) -> np.ndarray:
    """Sandwich standard errors with the (d, d) matrices ``G = X^T X`` and ``A = G + alpha I``."""
    z_mean, _ = _weighted_means(Z, residuals, weights)
    G, _ = _primal_gram(Z, z_mean, np.sqrt(weights))
    A_inv = np.linalg.pinv(G + alpha * np.eye(Z.shape[1]))
    df = float(np.trace(G @ A_inv))
    dof = Z.shape[0] - 1 - df
    if dof <= 0:
        return np.full(Z.shape[1], np.nan)
    sigma2 = float(weights @ residuals**2) / dof
    return np.sqrt(np.clip(np.diag(sigma2 * A_inv @ G @ A_inv), 0.0, None))


def _stderr_dual(Z, weights, alpha, residuals) -> np.ndarray:
    """The same standard errors from the (n, n) matrix ``K = X X^T = U diag(lam) U^T``.

    With ``X = U S V^T``: ``A^{-1} G A^{-1} = V diag(lam / (lam + alpha)^2) V^T``, so
    ``diag_j = sum_k (X^T U)_jk^2 / (lam_k + alpha)^2`` and ``df = sum_k lam_k / (lam_k + alpha)``
    (only ``lam_k > 0`` count: the pseudo-inverse when ``alpha = 0``). ``X^T U`` is formed
    one block of columns at a time: memory ``O(n^2 + n * block)``, never ``(d, d)``.
    """
    import scipy.linalg

    n, d = Z.shape
    z_mean, _ = _weighted_means(Z, residuals, weights)
    root_w = np.sqrt(weights)
    lam, U = scipy.linalg.eigh(_dual_gram(Z, z_mean, root_w), overwrite_a=True,
                               check_finite=False)
    keep = lam > max(float(lam.max()), 0.0) * n * np.finfo(float).eps
    lam, U = lam[keep], U[:, keep]
    df = float(np.sum(lam / (lam + alpha)))
    dof = n - 1 - df
    if dof <= 0:
        return np.full(d, np.nan)
    sigma2 = float(weights @ residuals**2) / dof
    var = np.empty(d)
    scale = 1.0 / (lam + alpha) ** 2
    for cols in _column_blocks(n, d):
        M = _x_columns(Z, z_mean, root_w, cols).T @ U
        var[cols] = sigma2 * (M**2 @ scale)
    return np.sqrt(var)


def ridge_stderr(Z, y, weights, alpha: float, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Standard errors of a weighted ridge fit (formula in the module docstring).

    ``sqrt(diag(sigma_hat^2 A^{-1} G A^{-1}))`` with ``G = Zc^T W Zc``,
    ``A = G + alpha I``. NaN when there are no residual degrees of freedom left
    (always the case with ``alpha = 0`` and ``d >= n - 1``). With more features than
    samples (``d > n``) the same numbers come from the ``(n, n)`` matrix ``X X^T``
    (:func:`_stderr_dual`); a ``(d, d)`` matrix is never built. Inputs are rescaled
    by powers of two, like :func:`weighted_ridge`.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, y, weights = _check_data(Z, y, weights)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    coef = check_array(coef, "coef", ndim=1)
    if coef.shape[0] != Z.shape[1]:
        raise ValueError(f"coef must have {Z.shape[1]} entries (one per column of Z), got {coef.shape[0]}")
    Zs, ys, ws, a, b, c = _rescale(Z, y, weights)
    with np.errstate(over="ignore", under="ignore"):
        coef_s = np.ldexp(coef, a - c)
        intercept_s = float(np.ldexp(float(intercept), -c))
        residuals = ys - intercept_s - _dot(Zs, coef_s)
    if not np.all(np.isfinite(residuals)):
        raise ValueError("coef and intercept do not fit Z and y: the residuals overflow a float64")
    alpha_s = _scaled_alpha(alpha, a, b)
    n, d = Z.shape
    if not np.isfinite(alpha_s):
        # A = alpha I to float64 precision: Cov = sigma^2 G / alpha^2, df = 0
        z_mean, _ = _weighted_means(Zs, residuals, ws)
        G_diag = np.concatenate([np.sum(_x_columns(Zs, z_mean, np.sqrt(ws), cols) ** 2, axis=0)
                                 for cols in _column_blocks(n, d)])
        sigma2 = float(ws @ residuals**2) / (n - 1)
        return _unscale(np.sqrt(sigma2 * G_diag) / alpha, a + b + c, "standard errors")
    stderr = (_stderr_primal if d <= n else _stderr_dual)(Zs, ws, alpha_s, residuals)
    if np.all(np.isnan(stderr)):
        return stderr
    return _unscale(stderr, c - a, "standard errors")


def forward_selection(Z, y, weights, num_features: int) -> np.ndarray:
    """Greedy forward selection (lime's): add, one at a time, the feature whose
    unregularised (alpha = 0) weighted least-squares fit has the highest weighted R^2.

    Linear in ``d`` (lime refits every candidate; a Gram matrix would be ``d x d``).
    With ``X = W^(1/2) (Z - 1 zbar^T)``, the current residual ``r`` (of ``ys`` on the
    chosen columns) and an orthonormal basis ``Q`` of the chosen columns, adding column
    ``x_j`` lowers the residual sum of squares by

        gain_j = (x_j . r)^2 / (|x_j|^2 - |Q^T x_j|^2)

    (the part of ``x_j`` orthogonal to the chosen columns; 0 when that part vanishes).
    The feature with the largest gain (the first one on ties, as lime) is added, ``Q``
    and ``r`` are updated by one Gram-Schmidt step. Every step costs ``O(n d)``.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, y, weights = _check_data(Z, y, weights)
    num_features = check_int(num_features, "num_features", minimum=1)
    Z, y, weights, *_ = _rescale(Z, y, weights)
    n, d = Z.shape
    z_mean, y_mean = _weighted_means(Z, y, weights)
    root_w = np.sqrt(weights)
    r = root_w * (y - y_mean)
    norms = np.concatenate([np.sum(_x_columns(Z, z_mean, root_w, cols) ** 2, axis=0)
                            for cols in _column_blocks(n, d)])
    projected = np.zeros(d)          # |Q^T x_j|^2
    xr = _xt_dot(Z, z_mean, root_w, r)  # x_j . r
    basis: list[np.ndarray] = []
    used: list[int] = []
    tiny = 1e-10
    for _ in range(min(num_features, d)):
        rest = norms - projected
        ok = rest > tiny * np.maximum(norms, np.finfo(float).tiny)
        gain = np.where(ok, xr**2 / np.where(ok, rest, 1.0), 0.0)
        gain[used] = -1.0
        best = int(np.argmax(gain))
        used.append(best)
        # Gram-Schmidt (twice, for stability) on the chosen column
        q = _x_columns(Z, z_mean, root_w, [best])[:, 0]
        for _ in range(2):
            for b in basis:
                q = q - (b @ q) * b
        length = float(np.linalg.norm(q))
        if not ok[best] or length == 0:
            continue  # nothing new in this column: the basis and the residual stay
        q /= length
        basis.append(q)
        r = r - (q @ r) * q
        qx = _xt_dot(Z, z_mean, root_w, q)
        projected += qx**2
        xr = _xt_dot(Z, z_mean, root_w, r)
    return np.array(used, dtype=int)


def highest_weights(Z, y, weights, num_features: int) -> np.ndarray:
    """lime's ``highest_weights``: fit ridge (alpha = 0.01) on all features and keep
    the ``num_features`` with the largest ``|beta_j * Z[0, j]|`` (stable order on ties).

    The ridge is solved in the dual when ``d > n`` (:func:`weighted_ridge`): linear in ``d``.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, y, weights = _check_data(Z, y, weights)
    num_features = check_int(num_features, "num_features", minimum=1)
    Zs, ys, ws, a, b, _ = _rescale(Z, y, weights)
    # the ranking is the same in rescaled units (every |beta_j Z0j| has the factor 2^c)
    alpha_s = _scaled_alpha(0.01, a, b)
    if np.isfinite(alpha_s):
        coef, _ = _ridge(Zs, ys, ws, alpha_s)
    else:  # beta is proportional to X^T ys (see weighted_ridge)
        z_mean, y_mean = _weighted_means(Zs, ys, ws)
        coef = _xt_dot(Zs, z_mean, np.sqrt(ws), np.sqrt(ws) * (ys - y_mean))
    contribution = coef * Zs[0]
    return np.argsort(-np.abs(contribution), kind="stable")[:num_features]


def lasso_path_selection(Z, y, weights, num_features: int) -> np.ndarray:
    """K-Lasso (the LIME paper): walk the weighted lasso path from the least
    regularised end and keep the first set of at most ``num_features`` non-zero
    coefficients. Uses scikit-learn's ``lars_path`` on ``sqrt(w)``-scaled centred data
    (one ``(n, d)`` copy; every LARS step is ``O(n d)``, at most 500 steps, as lime).

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    from sklearn.linear_model import lars_path

    Z, y, weights = _check_data(Z, y, weights)
    num_features = check_int(num_features, "num_features", minimum=1)
    Z, y, weights, *_ = _rescale(Z, y, weights)  # the path's supports do not change
    z_mean, y_mean = _weighted_means(Z, y, weights)
    root_w = np.sqrt(weights)
    X = _x_columns(Z, z_mean, root_w, slice(None))
    _, _, coefs = lars_path(X, root_w * (y - y_mean), method="lasso", verbose=False,
                            copy_X=False)
    nonzero = np.arange(Z.shape[1])
    for i in range(coefs.shape[1] - 1, 0, -1):
        nonzero = coefs[:, i].nonzero()[0]
        if len(nonzero) <= num_features:
            break
    return nonzero


def select_features(Z, y, weights, num_features: int, method: str = "auto") -> np.ndarray:
    """Indices of the features the surrogate will use (lime's ``feature_selection``).

    ``auto`` is forward selection when ``num_features <= 6``, else highest weights (as
    lime); ``none`` keeps every feature. Every method is linear in the number of
    features ``d`` in memory and time (for a fixed number of samples).
    """
    check_choice(method, "feature_selection", FEATURE_SELECTIONS)
    if method == "auto":
        method = "forward_selection" if num_features <= 6 else "highest_weights"
    if method == "none":
        return np.arange(np.shape(Z)[1])
    if method == "forward_selection":
        return forward_selection(Z, y, weights, num_features)
    if method == "highest_weights":
        return highest_weights(Z, y, weights, num_features)
    return lasso_path_selection(Z, y, weights, num_features)


def fit_surrogate(
    Z,
    y,
    weights,
    num_features: int,
    feature_selection: str = "auto",
    alpha: float = 1.0,
) -> SurrogateFit:
    """Select features, then fit the weighted ridge surrogate ``g`` on them.

    Reproduces ``lime.lime_base.LimeBase.explain_instance_with_data`` (with
    ``Ridge(alpha=1)`` as the final model) and adds standard errors.

    Parameters
    ----------
    Z : (n, d) array-like
        Interpretable samples; row 0 is the instance. A bool array (masks) is used
        as it is, without an ``(n, d)`` float copy.
    y : (n,) array-like
        Model output for the explained label.
    weights : (n,) array-like
        Kernel weights ``pi_x(z_i)``.
    num_features : int >= 1
    feature_selection : {"auto", "none", "forward_selection", "highest_weights", "lasso_path"}
    alpha : float >= 0

    See the course notebook ``course/03_lime_algorithm.ipynb``.

    Returns
    -------
    SurrogateFit
        Coefficients (0 for unselected features), intercept, weighted R^2, standard errors.
    """
    Z, y, weights = _check_data(Z, y, weights)
    num_features = check_int(num_features, "num_features", minimum=1)
    check_choice(feature_selection, "feature_selection", FEATURE_SELECTIONS)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    features = np.asarray(select_features(Z, y, weights, num_features, feature_selection),
                          dtype=int)
    everything = len(features) == Z.shape[1] and np.array_equal(features, np.arange(Z.shape[1]))
    Zs = Z if everything else Z[:, features]  # no (n, d) copy for feature_selection="none"
    coef_s, intercept = weighted_ridge(Zs, y, weights, alpha)
    pred = intercept + _dot(Zs, coef_s)
    coef = np.zeros(Z.shape[1])
    coef[features] = coef_s
    stderr = np.full(Z.shape[1], np.nan)
    stderr[features] = ridge_stderr(Zs, y, weights, alpha, coef_s, intercept)
    return SurrogateFit(
        coef=coef,
        features=features,
        intercept=intercept,
        score=weighted_r2(y, pred, weights),
        local_pred=float(pred[0]),
        stderr=stderr,
        alpha=alpha,
        feature_selection=feature_selection,
    )
