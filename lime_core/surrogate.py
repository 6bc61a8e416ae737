"""The local surrogate: a weighted ridge regression on the interpretable samples.

Given masks ``Z`` (n, d), model outputs ``y`` (n,) for one label and kernel weights
``w`` (n,), LIME fits

    g(z) = b + z . beta,   (b, beta) = argmin  sum_i w_i (y_i - b - z_i . beta)^2 + alpha |beta|^2

after choosing at most ``num_features`` features. The intercept is not penalised,
so the problem is solved on weighted-centred data (``zbar = sum w z / sum w``):

    A = Zc^T W Zc + alpha I,   beta = A^{-1} Zc^T W yc,   b = ybar - zbar . beta.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lime_core._validation import check_array, check_choice, check_int, check_positive

FEATURE_SELECTIONS = ("auto", "none", "forward_selection", "highest_weights", "lasso_path")


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
    Z = check_array(Z, "Z", ndim=2, min_rows=2)
    y = check_array(y, "y", ndim=1)
    weights = check_array(weights, "weights", ndim=1)
    n = Z.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"y must have {n} entries (one per row of Z), got {y.shape[0]}")
    if weights.shape[0] != n:
        raise ValueError(f"weights must have {n} entries (one per row of Z), got {weights.shape[0]}")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return Z, y, weights


def _centre(Z: np.ndarray, y: np.ndarray, weights: np.ndarray):
    """Weighted means and the weighted-centred data."""
    z_mean = weights @ Z / weights.sum()
    y_mean = weights @ y / weights.sum()
    return z_mean, y_mean, Z - z_mean, y - y_mean


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A^{-1} b``; least squares when ``A`` is singular (alpha = 0, collinear columns)."""
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def weighted_r2(y, pred, weights) -> float:
    """Weighted coefficient of determination of predictions ``pred`` of ``y``.

        ybar_w = sum_i w_i y_i / sum_i w_i
        R^2    = 1 - sum_i w_i (y_i - pred_i)^2 / sum_i w_i (y_i - ybar_w)^2

    scikit-learn's convention (``r2_score(y, pred, sample_weight=w)``): when ``y`` is
    constant under the weights, ``R^2`` is 1 for a perfect prediction and 0 otherwise.
    It is the ``score`` of every :class:`SurrogateFit`: how well the surrogate ``g``
    follows the model on the (weighted) samples. Evaluated on *new* samples it tells
    whether the surrogate generalises in the neighbourhood.

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
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
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

    Returns
    -------
    coef : (d,) float array
    intercept : float

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
    z_mean, y_mean, Zc, yc = _centre(Z, y, weights)
    A = Zc.T @ (weights[:, None] * Zc) + alpha * np.eye(Z.shape[1])
    coef = _solve(A, Zc.T @ (weights * yc))
    return coef, float(y_mean - z_mean @ coef)


def ridge_stderr(Z, y, weights, alpha: float, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Standard errors of a weighted ridge fit (formula in the module docstring).

    ``sqrt(diag(sigma_hat^2 A^{-1} G A^{-1}))`` with ``G = Zc^T W Zc``,
    ``A = G + alpha I``. NaN when there are no residual degrees of freedom left.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, y, weights = _check_data(Z, y, weights)
    _, _, Zc, _ = _centre(Z, y, weights)
    G = Zc.T @ (weights[:, None] * Zc)
    A_inv = np.linalg.pinv(G + alpha * np.eye(Z.shape[1]))
    df = float(np.trace(G @ A_inv))
    dof = Z.shape[0] - 1 - df
    if dof <= 0:
        return np.full(Z.shape[1], np.nan)
    residuals = y - intercept - Z @ coef
    sigma2 = float(weights @ residuals**2) / dof
    cov = sigma2 * A_inv @ G @ A_inv
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


def forward_selection(Z, y, weights, num_features: int) -> np.ndarray:
    """Greedy forward selection (lime's): add, one at a time, the feature whose
    unregularised (alpha = 0) weighted least-squares fit has the highest weighted R^2.

    Every candidate fit reuses one weighted Gram matrix ``G = Zc^T W Zc``:
    for a subset ``S``, ``beta_S = G_SS^{-1} (Zc^T W yc)_S`` and
    ``RSS = yc^T W yc - 2 beta_S . c_S + beta_S^T G_SS beta_S``.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    Z, y, weights = _check_data(Z, y, weights)
    _, _, Zc, yc = _centre(Z, y, weights)
    G = Zc.T @ (weights[:, None] * Zc)
    c = Zc.T @ (weights * yc)
    tss = float(weights @ yc**2)
    used: list[int] = []
    for _ in range(min(num_features, Z.shape[1])):
        best, best_score = 0, -1e8
        for j in range(Z.shape[1]):
            if j in used:
                continue
            S = used + [j]
            beta = _solve(G[np.ix_(S, S)], c[S])
            rss = tss - 2 * beta @ c[S] + beta @ G[np.ix_(S, S)] @ beta
            score = (1.0 if rss <= 0 else 0.0) if tss == 0 else 1.0 - rss / tss
            if score > best_score:
                best, best_score = j, score
        used.append(best)
    return np.array(used, dtype=int)


def highest_weights(Z, y, weights, num_features: int) -> np.ndarray:
    """lime's ``highest_weights``: fit ridge (alpha = 0.01) on all features and keep
    the ``num_features`` with the largest ``|beta_j * Z[0, j]|`` (stable order on ties).

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    coef, _ = weighted_ridge(Z, y, weights, alpha=0.01)
    contribution = coef * np.asarray(Z, dtype=float)[0]
    return np.argsort(-np.abs(contribution), kind="stable")[:num_features]


def lasso_path_selection(Z, y, weights, num_features: int) -> np.ndarray:
    """K-Lasso (the LIME paper): walk the weighted lasso path from the least
    regularised end and keep the first set of at most ``num_features`` non-zero
    coefficients. Uses scikit-learn's ``lars_path`` on ``sqrt(w)``-scaled centred data.

    See the course notebook ``course/03_lime_algorithm.ipynb``.
    """
    from sklearn.linear_model import lars_path

    Z, y, weights = _check_data(Z, y, weights)
    _, _, Zc, yc = _centre(Z, y, weights)
    root_w = np.sqrt(weights)
    _, _, coefs = lars_path(Zc * root_w[:, None], yc * root_w, method="lasso", verbose=False)
    nonzero = np.arange(Z.shape[1])
    for i in range(coefs.shape[1] - 1, 0, -1):
        nonzero = coefs[:, i].nonzero()[0]
        if len(nonzero) <= num_features:
            break
    return nonzero


def select_features(Z, y, weights, num_features: int, method: str = "auto") -> np.ndarray:
    """Indices of the features the surrogate will use (lime's ``feature_selection``).

    ``auto`` is forward selection when ``num_features <= 6``, else highest weights;
    ``none`` keeps every feature.
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
        Interpretable samples; row 0 is the instance.
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
    features = select_features(Z, y, weights, num_features, feature_selection)
    Zs = Z[:, features]
    coef_s, intercept = weighted_ridge(Zs, y, weights, alpha)
    pred = intercept + Zs @ coef_s
    coef = np.zeros(Z.shape[1])
    coef[features] = coef_s
    stderr = np.full(Z.shape[1], np.nan)
    stderr[features] = ridge_stderr(Zs, y, weights, alpha, coef_s, intercept)
    return SurrogateFit(
        coef=coef,
        features=np.asarray(features, dtype=int),
        intercept=intercept,
        score=weighted_r2(y, pred, weights),
        local_pred=float(pred[0]),
        stderr=stderr,
        alpha=alpha,
        feature_selection=feature_selection,
    )
