"""The surrogate: closed-form weighted ridge, lime's feature selection, standard errors."""

from functools import partial

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from lime_core.kernels import cosine_distance, exponential_kernel
from lime_core.surrogate import fit_surrogate, ridge_stderr, weighted_ridge

MODES = ["auto", "none", "forward_selection", "highest_weights", "lasso_path"]


def lime_like_data(n=400, d=12, seed=0):
    """Binary masks (row 0 all ones), a non-linear model output and cosine distances."""
    rng = np.random.default_rng(seed)
    Z = rng.integers(0, 2, size=(n, d)).astype(float)
    Z[0] = 1
    beta = rng.normal(size=d) * (rng.random(d) < 0.5)
    y = 1 / (1 + np.exp(-(Z @ beta - 1))) + 0.05 * rng.normal(size=n)
    return Z, np.column_stack([y, 1 - y]), cosine_distance(Z)


@pytest.mark.parametrize("alpha", [0.0, 0.01, 1.0, 30.0])
def test_weighted_ridge_equals_sklearn(alpha):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(200, 7))
    y = Z @ rng.normal(size=7) + rng.normal(size=200)
    w = rng.random(200)
    coef, intercept = weighted_ridge(Z, y, w, alpha)
    ref = Ridge(alpha=alpha).fit(Z, y, sample_weight=w)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-8, rtol=1e-8)
    assert intercept == pytest.approx(ref.intercept_, abs=1e-8)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("num_features", [3, 8])
def test_fit_surrogate_equals_lime_base(mode, num_features):
    from lime.lime_base import LimeBase

    Z, Y, distances = lime_like_data()
    kernel = partial(exponential_kernel, kernel_width=0.25)
    base = LimeBase(kernel, random_state=0)
    for label in (0, 1):
        intercept, exp, score, local_pred = base.explain_instance_with_data(
            Z, Y, distances, label, num_features, feature_selection=mode
        )
        fit = fit_surrogate(Z, Y[:, label], kernel(distances), num_features, mode)
        ours = fit.as_list()
        assert [j for j, _ in ours] == [int(j) for j, _ in exp]
        np.testing.assert_allclose([w for _, w in ours], [w for _, w in exp], atol=1e-8)
        assert fit.intercept == pytest.approx(intercept, abs=1e-8)
        assert fit.score == pytest.approx(score, abs=1e-8)
        assert fit.local_pred == pytest.approx(float(local_pred[0]), abs=1e-8)


def test_auto_switches_at_six_features():
    Z, Y, d = lime_like_data(d=10)
    w = exponential_kernel(d, 0.25)
    for k, mode in [(6, "forward_selection"), (7, "highest_weights")]:
        auto = fit_surrogate(Z, Y[:, 0], w, k, "auto")
        explicit = fit_surrogate(Z, Y[:, 0], w, k, mode)
        np.testing.assert_array_equal(auto.features, explicit.features)


def test_unselected_features_have_zero_coef_and_nan_stderr():
    Z, Y, d = lime_like_data(d=10)
    fit = fit_surrogate(Z, Y[:, 0], exponential_kernel(d, 0.25), 3, "highest_weights")
    others = np.setdiff1d(np.arange(10), fit.features)
    assert np.all(fit.coef[others] == 0)
    assert np.all(np.isnan(fit.stderr[others]))
    assert np.all(np.isfinite(fit.stderr[fit.features]))


def test_stderr_alpha0_is_weighted_least_squares_formula():
    """With alpha = 0: sigma^2 (X^T W X)^{-1} on the design with an intercept column,
    sigma^2 = sum w r^2 / (n - p - 1)."""
    rng = np.random.default_rng(3)
    n, p = 120, 4
    Z = rng.normal(size=(n, p))
    w = rng.random(n) + 0.1
    y = 0.5 + Z @ np.arange(1, p + 1) + rng.normal(size=n) / np.sqrt(w)
    coef, b = weighted_ridge(Z, y, w, 0.0)
    X = np.column_stack([np.ones(n), Z])
    r = y - X @ np.concatenate([[b], coef])
    sigma2 = (w @ r**2) / (n - p - 1)
    cov = sigma2 * np.linalg.inv(X.T @ (w[:, None] * X))
    expected = np.sqrt(np.diag(cov))[1:]
    np.testing.assert_allclose(ridge_stderr(Z, y, w, 0.0, coef, b), expected, rtol=1e-10)


def test_stderr_matches_monte_carlo_for_ridge():
    """Fixed design, Var(e_i) = sigma^2 / w_i: the spread of beta_hat over many noise
    draws matches the sandwich formula. LIME's regime: hundreds of samples and alpha = 1,
    small next to Z^T W Z (with few samples and a large alpha the shrinkage bias inflates
    sigma_hat, see the lime_core.surrogate docstring)."""
    rng = np.random.default_rng(4)
    n, p, alpha = 300, 3, 1.0
    Z = rng.integers(0, 2, size=(n, p)).astype(float)
    w = rng.random(n) + 0.2
    beta = np.array([1.0, -2.0, 0.5])
    draws, formula = [], []
    for _ in range(1500):
        y = 0.3 + Z @ beta + 0.5 * rng.normal(size=n) / np.sqrt(w)
        coef, b = weighted_ridge(Z, y, w, alpha)
        draws.append(coef)
        formula.append(ridge_stderr(Z, y, w, alpha, coef, b))
    np.testing.assert_allclose(np.mean(formula, axis=0), np.std(draws, axis=0), rtol=0.08)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"y": np.ones(5)}, ValueError, "y must have"),
        ({"weights": -np.ones(10)}, ValueError, "weights"),
        ({"num_features": 0}, ValueError, "num_features"),
        ({"feature_selection": "magic"}, ValueError, "feature_selection"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"Z": np.ones(10)}, ValueError, "Z must be 2-D"),
    ],
)
def test_bad_input(kwargs, error, words):
    rng = np.random.default_rng(0)
    args = {"Z": rng.random((10, 3)), "y": rng.random(10), "weights": np.ones(10), "num_features": 2}
    args.update(kwargs)
    with pytest.raises(error, match=words):
        fit_surrogate(**args)


# -- weighted_r2 (public; the score of every SurrogateFit) ---------------------------


def test_weighted_r2_matches_scikit_learn_and_is_the_fit_score():
    from sklearn.metrics import r2_score

    from lime_core.surrogate import weighted_r2

    rng = np.random.default_rng(3)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.5, size=50)
    w = rng.random(50)
    assert weighted_r2(y, pred, w) == pytest.approx(r2_score(y, pred, sample_weight=w))
    # constant y: 1 for a perfect prediction, 0 otherwise (scikit-learn's convention)
    assert weighted_r2(np.ones(4), np.ones(4), np.ones(4)) == 1.0
    assert weighted_r2(np.ones(4), np.zeros(4), np.ones(4)) == 0.0

    Z = rng.integers(0, 2, size=(80, 4)).astype(float)
    yz = Z @ [1.0, -2.0, 0.0, 0.5] + rng.normal(scale=0.3, size=80)
    fit = fit_surrogate(Z, yz, np.ones(80), 4)
    pred_z = fit.intercept + Z @ fit.coef
    assert fit.score == pytest.approx(weighted_r2(yz, pred_z, np.ones(80)))


def test_weighted_r2_bad_inputs():
    from lime_core.surrogate import weighted_r2

    with pytest.raises(ValueError, match="same length"):
        weighted_r2(np.ones(3), np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="weights"):
        weighted_r2(np.ones(3), np.ones(3), -np.ones(3))
    with pytest.raises(ValueError, match="pred"):
        weighted_r2(np.ones(3), np.ones((3, 1)), np.ones(3))


# -- more features than samples: the dual (issue 13) ---------------------------------


def wide_data(n=40, d=300, seed=5, binary=True):
    rng = np.random.default_rng(seed)
    Z = rng.integers(0, 2, size=(n, d)).astype(float) if binary else rng.normal(size=(n, d))
    Z[0] = 1
    y = Z[:, :5] @ np.array([2.0, -1.0, 0.5, 0.0, 1.5]) + 0.1 * rng.normal(size=n)
    return Z, y, rng.random(n) + 0.05


def primal_ridge(Z, y, w, alpha):
    """The textbook (d, d) solve, written out here as the reference."""
    z_mean, y_mean = w @ Z / w.sum(), w @ y / w.sum()
    X = (Z - z_mean) * np.sqrt(w)[:, None]
    coef = np.linalg.solve(X.T @ X + alpha * np.eye(Z.shape[1]), X.T @ (np.sqrt(w) * (y - y_mean)))
    return coef, y_mean - z_mean @ coef


@pytest.mark.parametrize("shape", [(200, 7), (40, 300), (60, 61)])
@pytest.mark.parametrize("alpha", [0.01, 1.0, 30.0])
def test_weighted_ridge_equals_sklearn_and_the_primal_on_both_sides_of_d_eq_n(shape, alpha):
    Z, y, w = wide_data(*shape, binary=shape[0] < shape[1])
    coef, intercept = weighted_ridge(Z, y, w, alpha)
    ref = Ridge(alpha=alpha).fit(Z, y, sample_weight=w)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-9)
    assert intercept == pytest.approx(ref.intercept_, abs=1e-9)
    primal, b = primal_ridge(Z, y, w, alpha)
    np.testing.assert_allclose(coef, primal, atol=1e-9)
    assert intercept == pytest.approx(b, abs=1e-9)


def test_alpha_zero_with_more_features_than_samples_is_the_minimum_norm_solution():
    Z, y, w = wide_data()
    coef, intercept = weighted_ridge(Z, y, w, 0.0)
    z_mean, y_mean = w @ Z / w.sum(), w @ y / w.sum()
    X = (Z - z_mean) * np.sqrt(w)[:, None]
    expected = np.linalg.lstsq(X, np.sqrt(w) * (y - y_mean), rcond=None)[0]
    np.testing.assert_allclose(coef, expected, atol=1e-9)
    # it interpolates: every residual is 0
    np.testing.assert_allclose(intercept + Z @ coef, y, atol=1e-8)


@pytest.mark.parametrize("alpha", [0.01, 1.0, 30.0])
def test_dual_standard_errors_equal_the_primal_formula(alpha):
    from lime_core.surrogate import _stderr_dual, _stderr_primal

    Z, y, w = wide_data(n=40, d=120)
    coef, b = weighted_ridge(Z, y, w, alpha)
    r = y - b - Z @ coef
    primal, dual = _stderr_primal(Z, w, alpha, r), _stderr_dual(Z, w, alpha, r)
    assert np.all(np.isfinite(primal))
    np.testing.assert_allclose(dual, primal, rtol=1e-7)
    np.testing.assert_allclose(ridge_stderr(Z, y, w, alpha, coef, b), primal, rtol=1e-7)


def test_stderr_is_nan_without_residual_degrees_of_freedom():
    Z, y, w = wide_data()
    coef, b = weighted_ridge(Z, y, w, 0.0)
    assert np.all(np.isnan(ridge_stderr(Z, y, w, 0.0, coef, b)))


@pytest.mark.parametrize("mode", ["forward_selection", "highest_weights", "lasso_path"])
@pytest.mark.parametrize("num_features", [3, 6, 10])
def test_selection_with_more_features_than_samples_equals_limes(mode, num_features):
    from lime.lime_base import LimeBase

    rng = np.random.default_rng(2)
    n, d = 60, 150
    Z = rng.integers(0, 2, size=(n, d)).astype(float)
    Z[0] = 1
    y = Z @ (rng.normal(size=d) * (rng.random(d) < 0.1)) + 0.05 * rng.normal(size=n)
    w = exponential_kernel(cosine_distance(Z), 0.25)
    ref = LimeBase(partial(exponential_kernel, kernel_width=0.25), random_state=0).feature_selection(
        Z, y, w, num_features, mode)
    ours = fit_surrogate(Z, y, w, num_features, mode).features
    assert list(ours) == [int(j) for j in ref]


@pytest.mark.parametrize("mode", MODES)
def test_bool_masks_give_the_same_fit_as_float_masks(mode):
    Z, y, w = wide_data(n=50, d=80)
    a = fit_surrogate(Z.astype(bool), y, w, 5, mode)
    b = fit_surrogate(Z, y, w, 5, mode)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.stderr, b.stderr, rtol=1e-10)


# -- extreme magnitudes --------------------------------------------------------------


@pytest.mark.parametrize("kz, ky, kw", [(500, 0, 0), (0, 1000, 0), (-400, -600, 0),
                                        (510, 1000, -900), (-300, 0, -400), (0, 0, -1000)])
def test_weighted_ridge_is_exactly_equivariant_under_powers_of_two(kz, ky, kw):
    """Z -> 2^kz Z, y -> 2^ky y, w -> 2^kw w with alpha -> 2^(2kz+kw) alpha: the answer
    scales by 2^(ky-kz) exactly, even where the textbook formula overflows (~1e154)."""
    Z, y, w = wide_data(n=50, d=5, binary=False)
    alpha = 0.5
    coef, b = weighted_ridge(Z, y, w, alpha)
    big_alpha = np.ldexp(alpha, 2 * kz + kw)
    assert np.isfinite(big_alpha)
    coef2, b2 = weighted_ridge(np.ldexp(Z, kz), np.ldexp(y, ky), np.ldexp(w, kw), big_alpha)
    np.testing.assert_allclose(np.ldexp(coef2, kz - ky), coef, rtol=1e-12)
    assert np.ldexp(b2, -ky) == pytest.approx(b, rel=1e-12)
    fit = fit_surrogate(np.ldexp(Z, kz), np.ldexp(y, ky), np.ldexp(w, kw), 2, alpha=big_alpha)
    assert np.isfinite(fit.score) and np.all(np.isfinite(fit.coef))
    assert np.all(np.isfinite(fit.stderr[fit.features]))


def test_finite_inputs_near_the_float_limit_give_finite_answers_or_a_named_error():
    from lime_core.surrogate import weighted_r2

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(30, 3)) * 1e300
    y = rng.normal(size=30) * 1e300
    coef, b = weighted_ridge(Z, y, np.ones(30), 1.0)
    assert np.all(np.isfinite(coef)) and np.isfinite(b)
    assert 0 <= weighted_r2(y, y * 0.5, np.ones(30)) <= 1
    # Z ~ 1e-300 with alpha = 1: Z^T W Z ~ 1e-599 vanishes next to alpha (the textbook
    # solve sees A = I exactly) and beta = Zc^T W yc / alpha ~ 1e-300 * 1e300 is of order 1
    Z_unit, y_unit = Z / 1e300, y / 1e300
    coef, b = weighted_ridge(Z_unit * 1e-300, y, np.ones(30), 1.0)
    expected = (Z_unit - Z_unit.mean(axis=0)).T @ (y_unit - y_unit.mean())
    np.testing.assert_allclose(coef, expected, rtol=1e-10)
    assert np.all(np.abs(coef) > 1e-3)
    # an answer that cannot be a float64: slope 1e300 / 1e-300
    with pytest.raises(ValueError, match="do not fit in a float64"):
        weighted_ridge(np.array([[0.0], [1e-300], [2e-300]]), np.array([0.0, 1e300, 2e300]),
                       np.ones(3), 0.0)
