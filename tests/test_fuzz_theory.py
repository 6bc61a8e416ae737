"""lime_core.theory under stress: large d, extreme bandwidths, bad arguments.

Every number is checked against an independent route: exact rational / 50-digit
arithmetic (mpmath), the coin-flip limit ``alpha_p -> 2^-p`` for a huge bandwidth,
``alpha_p = 2^-d`` for a vanishing one, and ``Sigma Sigma^{-1} = I``.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lime_core as lc
from lime_core import theory as T

FAST = settings(max_examples=40, deadline=None, derandomize=True)


def exact_alpha(d: int, nu: float, p: int) -> float:
    """alpha_p = 2^-d sum_s binom(d - p, s) pi(s), in 50-digit arithmetic with exact binomials."""
    with mp.workdps(50):
        nu = mp.mpf(nu)
        total = mp.mpf(0)
        for s in range(d - p + 1):
            distance = 1 - mp.sqrt(1 - mp.mpf(s) / d)
            total += math.comb(d - p, s) * mp.e ** (-(distance**2) / (2 * nu**2))
        return float(total / mp.mpf(2) ** d)


def exact_inverse_coefficients(d: int, nu: float) -> dict:
    """The five numbers of Sigma^{-1} from 50-digit alphas and the paper's formulas."""
    with mp.workdps(50):
        alphas = []
        for p in range(3):
            nu_ = mp.mpf(nu)
            total = mp.mpf(0)
            for s in range(d - p + 1):
                distance = 1 - mp.sqrt(1 - mp.mpf(s) / d)
                total += math.comb(d - p, s) * mp.e ** (-(distance**2) / (2 * nu_**2))
            alphas.append(total / mp.mpf(2) ** d)
        a0, a1, a2 = alphas
        c_d = (d - 1) * a0 * a2 - d * a1**2 + a0 * a1
        sigma = dict(
            sigma0=(d - 1) * a2 + a1,
            sigma1=-a1,
            sigma2=((d - 2) * a0 * a2 - (d - 1) * a1**2 + a0 * a1) / (a1 - a2),
            sigma3=(a1**2 - a0 * a2) / (a1 - a2),
        )
        out = {"c_d": float(c_d), **{k: float(v) for k, v in sigma.items()}}
        out["inverse"] = [float(v / c_d) for v in sigma.values()]  # sigma_i / c_d, in 50 digits
        return out


# --------------------------------------------------------------------------
# large d: used to overflow from d = 1024 (2.0**d, float(binom(d, k)))
# --------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1023, 1024, 1100, 3000])
@pytest.mark.parametrize("p", [0, 1, 2, 7])
def test_kernel_moment_for_large_d_matches_50_digit_arithmetic(d, p):
    assert T.kernel_moment(d, 0.25, p) == pytest.approx(exact_alpha(d, 0.25, p), rel=1e-11)


@pytest.mark.parametrize("d", [1024, 1500])
def test_inverse_coefficients_for_large_d_match_50_digit_arithmetic(d):
    ours = T.inverse_coefficients(d, 0.25)
    exact = exact_inverse_coefficients(d, 0.25)
    for name in ("c_d", "sigma0", "sigma1", "sigma2", "sigma3"):
        value = exact[name]
        assert getattr(ours, name) == pytest.approx(value, rel=1e-8), name


@pytest.mark.parametrize("d, nu", [(1024, 0.25), (1024, 1.0), (2048, 0.5), (4096, 0.25)])
def test_sigma_times_its_closed_form_inverse_is_the_identity_for_large_d(d, nu):
    sigma = lc.sigma_matrix(d, nu)
    inverse = lc.sigma_inverse(d, nu)
    assert np.all(np.isfinite(sigma)) and np.all(np.isfinite(inverse))
    v = np.random.default_rng(0).normal(size=d + 1)  # Sigma (Sigma^{-1} v) = v, in O(d^2)
    np.testing.assert_allclose(sigma @ (inverse @ v), v, atol=1e-8 * np.abs(v).max())


@pytest.mark.parametrize("d", [600, 900])
def test_inverse_for_the_smallest_bandwidth_survives_underflow_of_c_d(d):
    # c_d ~ 4^-d underflows from d ~ 500; Sigma^{-1} (entries ~ 2^d) still fits up to d ~ 1000
    nu = T.smallest_bandwidth(d) * 1.01
    inverse = lc.sigma_inverse(d, nu)
    assert np.all(np.isfinite(inverse)) and np.abs(inverse).max() > 1e150
    exact = exact_inverse_coefficients(d, nu)
    expected = exact["inverse"]
    ours = [inverse[0, 0], inverse[0, 1], inverse[1, 1], inverse[1, 2]]
    np.testing.assert_allclose(ours, expected, rtol=1e-8)


@pytest.mark.parametrize("d", [1046, 4000])
def test_inverse_beyond_double_precision_is_a_named_error(d):
    nu = T.smallest_bandwidth(d) * 1.01
    with pytest.raises(ValueError, match=r"^kernel_width nu = .* too small for d = %d" % d):
        lc.sigma_inverse(d, nu)
    with pytest.raises(ValueError, match=r"^kernel_width nu = .* too small for d = %d" % d):
        T.inverse_coefficients(d, nu)


def test_huge_d_is_refused_by_name_not_by_memory():
    with pytest.raises(ValueError, match=r"^d must be <= 4096"):
        lc.sigma_matrix(5000, 0.25)
    with pytest.raises(ValueError, match=r"^d must be <= 4096"):
        lc.sigma_inverse(10**9, 0.25)
    with pytest.raises(ValueError, match=r"^d must be <= 1000000"):
        lc.kernel_moment(10**30, 0.25, 1)
    # the five numbers of the inverse still work where the matrix is too big to build
    coef = T.inverse_coefficients(100_000, 0.25)
    assert all(np.isfinite(v) for v in vars(coef).values()) and coef.c_d > 0


# --------------------------------------------------------------------------
# extreme bandwidths
# --------------------------------------------------------------------------


@pytest.mark.parametrize("d", [5, 100, 2000])
def test_huge_bandwidth_gives_coin_flip_moments(d):
    # log Gamma of numbers near d costs about d * 1e-15 of relative accuracy
    for p in (0, 1, 2, 5):
        assert T.kernel_moment(d, 1e300, p) == pytest.approx(2.0**-p, rel=max(1e-13, d * 1e-15))


@pytest.mark.parametrize("nu", [1e-300, 5e-324, 1e-20])
def test_vanishing_bandwidth_leaves_only_the_instance(nu):
    # only the all-ones mask has weight: alpha_p = P(all ones) = 2^-d for every p (no 0/0 NaN)
    for p in (0, 1, 3):
        assert T.kernel_moment(6, nu, p) == pytest.approx(2.0**-6, rel=1e-15)


@pytest.mark.parametrize("nu", [1e-300, 1e-3])
def test_too_small_bandwidth_for_the_inverse_is_a_named_error(nu):
    with pytest.raises(ValueError, match=r"^kernel_width nu = .* too small for d = 8"):
        lc.sigma_inverse(8, nu)


def test_huge_bandwidth_inverse_is_the_least_squares_inverse():
    # nu -> infinity: Sigma = E[(1, z)(1, z)^T] for fair coins, whose inverse is known:
    # [[1 + d, -2, ..., -2], [-2, 4, 0, ...], ...]
    d = 5
    expected = np.zeros((d + 1, d + 1))
    expected[0, 0] = 1 + d
    expected[0, 1:] = expected[1:, 0] = -2
    expected[1:, 1:] = 4 * np.eye(d)
    np.testing.assert_allclose(lc.sigma_inverse(d, 1e300), expected, atol=1e-9)


@FAST
@given(d=st.integers(2, 3000), log_nu=st.floats(-1.0, 300.0), p=st.integers(0, 3000))
def test_kernel_moment_is_a_probability_bounded_by_the_coin_product(d, log_nu, p):
    p = min(p, d)
    nu = max(10.0**log_nu, 1.01 * T.smallest_bandwidth(d))
    alpha = T.kernel_moment(d, nu, p)
    assert np.isfinite(alpha)
    assert 0.0 <= alpha <= 2.0**-p * (1 + 1e-12)
    if p < d:  # one more coin to show 1: smaller
        assert T.kernel_moment(d, nu, p + 1) <= alpha * (1 + 1e-12)


@FAST
@given(d=st.integers(2, 60), log_ratio=st.floats(0.01, 8.0))
def test_closed_form_inverse_inverts_sigma(d, log_ratio):
    nu = T.smallest_bandwidth(d) * 10.0**log_ratio
    sigma, inverse = lc.sigma_matrix(d, nu), lc.sigma_inverse(d, nu)
    assert np.all(np.isfinite(inverse))
    cond = np.linalg.cond(sigma)
    assert np.abs(sigma @ inverse - np.eye(d + 1)).max() < 1e3 * cond * np.finfo(float).eps


@FAST
@given(d=st.integers(2, 4096))
def test_smallest_bandwidth_gives_an_inverse_or_a_named_error(d):
    nu = lc.smallest_bandwidth(d)
    assert np.isfinite(nu) and nu > 0
    try:
        coef = T.inverse_coefficients(d, nu * 1.01)
    except ValueError as err:  # only where c_d ~ 4^-d leaves double precision
        assert d > 450 and str(err).startswith("kernel_width nu")
    else:
        assert coef.c_d > 0 and all(np.isfinite(v) for v in vars(coef).values())


# --------------------------------------------------------------------------
# bad arguments: named errors only
# --------------------------------------------------------------------------

def _case_id(value):
    """A test id that is the same in every process (``repr(object())`` holds an address)."""
    return "object()" if type(value) is object else repr(value)


BAD_INTS = [None, "4", 4.0, 4.5, True, float("nan"), [4], np.array([4]), object()]
BAD_FLOATS = [None, "0.25", True, [0.25], object(), float("nan"), float("inf"), -0.25, 0.0]


@pytest.mark.parametrize("bad", BAD_INTS, ids=_case_id)
@pytest.mark.parametrize("fn", ["kernel_moment", "sigma_matrix", "sigma_inverse",
                                "smallest_bandwidth"])
def test_bad_d_is_named(fn, bad):
    args = {"kernel_moment": (bad, 0.25, 1), "smallest_bandwidth": (bad,)}.get(fn, (bad, 0.25))
    with pytest.raises((TypeError, ValueError), match=r"^d "):
        getattr(lc, fn)(*args)


@pytest.mark.parametrize("bad", BAD_FLOATS, ids=_case_id)
@pytest.mark.parametrize("fn", ["kernel_moment", "sigma_matrix", "sigma_inverse"])
def test_bad_kernel_width_is_named(fn, bad):
    args = (4, bad, 1) if fn == "kernel_moment" else (4, bad)
    with pytest.raises((TypeError, ValueError), match=r"^kernel_width"):
        getattr(lc, fn)(*args)


@pytest.mark.parametrize("bad", [-1, 5, 2.0, None, "1"], ids=_case_id)
def test_bad_p_is_named(bad):
    with pytest.raises((TypeError, ValueError), match=r"^p "):
        lc.kernel_moment(4, 0.25, bad)


SEG = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 2, axis=0), 2, axis=1)


@pytest.mark.parametrize("name, value, pattern", [
    ("bias", float("nan"), "^bias"), ("bias", "1", "^bias"), ("bias", None, "^bias"),
    ("baseline", float("inf"), "^baseline"), ("baseline", np.full((4, 4), np.nan), "^baseline"),
    ("image", np.zeros((0, 4)), "^image"), ("image", np.full((4, 4), np.nan), "^image"),
    ("segments", SEG.astype(float), "^segments"), ("weights", np.ones((3, 3)), "^weights"),
])
def test_linear_model_limit_names_its_bad_argument(name, value, pattern):
    kwargs = dict(weights=np.ones((4, 4)), image=np.ones((4, 4)), segments=SEG, baseline=0.0,
                  bias=0.5)
    kwargs[name] = value
    with pytest.raises((TypeError, ValueError), match=pattern):
        lc.linear_model_limit(**kwargs)


@pytest.mark.parametrize("scale", [1.0, 1e100, 1e150])
def test_linear_model_limit_at_extreme_magnitudes_is_gradient_times_input(scale):
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(4, 4)) * scale
    weights = rng.normal(size=(4, 4)) * scale
    lim = lc.linear_model_limit(weights, image, SEG, baseline=0.0, bias=0.0)
    expected = np.bincount(SEG.ravel(), weights=(weights * image).ravel())
    np.testing.assert_allclose(lim.coefficients, expected, rtol=1e-12)
    assert np.isfinite(lim.intercept)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), "0.5", None])
def test_shape_detector_limit_refuses_a_bad_threshold_by_name(threshold):
    with pytest.raises((TypeError, ValueError), match="^threshold"):
        lc.shape_detector_limit(np.ones((4, 4)), SEG, np.eye(4, dtype=bool), threshold)


def test_lime_limit_refuses_a_nan_number_baseline_by_name():
    with pytest.raises(ValueError, match="^baseline"):
        lc.lime_limit(lambda b: b.reshape(len(b), -1).sum(axis=1), np.ones((4, 4)), SEG,
                      baseline=float("nan"))
