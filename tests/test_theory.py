"""The closed-form theory of image LIME (Garreau and Mardaoui) against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lime_core import theory as T


def brute_force_weights(d: int, nu: float) -> tuple[np.ndarray, np.ndarray]:
    """Every mask and its weight, with sklearn's cosine distance (what lime uses)."""
    from sklearn.metrics import pairwise_distances

    masks = np.array(list(itertools.product([0.0, 1.0], repeat=d)))
    distance = pairwise_distances(masks, np.ones((1, d)), metric="cosine").ravel()
    return masks, np.exp(-(distance**2) / (2 * nu**2))


@pytest.mark.parametrize("d,nu", [(2, 0.25), (5, 0.1), (7, 0.25), (9, 2.0)])
def test_alpha_and_sigma_match_the_expectation_over_all_masks(d, nu):
    masks, pi = brute_force_weights(d, nu)
    for p in range(d + 1):
        expected = np.mean(pi * masks[:, :p].prod(axis=1))
        assert T.kernel_moment(d, nu, p) == pytest.approx(expected, rel=1e-12)
    design = np.hstack([np.ones((len(masks), 1)), masks])
    sigma = (design * pi[:, None]).T @ design / len(masks)
    np.testing.assert_allclose(T.sigma_matrix(d, nu), sigma, rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 10, 50, 200])
@pytest.mark.parametrize("nu", [0.05, 0.25, 1.0, 100.0])
def test_closed_form_inverse_equals_numerical_inverse(d, nu):
    coef = T.inverse_coefficients(d, nu)
    assert coef.c_d > 0
    inverse = T.sigma_inverse(d, nu)
    numerical = np.linalg.inv(T.sigma_matrix(d, nu))
    # np.linalg.inv loses about cond(Sigma) * machine-epsilon of relative accuracy
    # (Sigma is nearly singular for small d and small nu)
    cond = np.linalg.cond(T.sigma_matrix(d, nu))
    slack = max(1e-9, 1e-14 * cond) * np.abs(numerical).max()
    np.testing.assert_allclose(inverse, numerical, rtol=1e-6, atol=slack)


def test_alpha_for_a_large_bandwidth_is_a_coin_product():
    for p in range(6):
        assert T.kernel_moment(8, 1e4, p) == pytest.approx(2.0**-p, rel=1e-6)


def test_kernel_moment_rejects_bad_arguments():
    with pytest.raises(ValueError, match="^p"):
        T.kernel_moment(4, 0.25, 5)
    with pytest.raises(ValueError, match="^kernel_width"):
        T.kernel_moment(4, 0.0, 1)
    with pytest.raises(TypeError, match="^d"):
        T.kernel_moment(4.0, 0.25, 1)
    with pytest.raises(ValueError, match="^d"):
        T.sigma_matrix(1, 0.25)


# a 6x6 image cut into six 2x3 superpixels (labels 10..15, not 0..5 on purpose)
SEGMENTS = 10 + np.repeat(np.repeat(np.arange(6).reshape(3, 2), 2, axis=0), 3, axis=1)


@pytest.fixture
def image():
    return np.random.default_rng(0).uniform(0, 1, size=(6, 6))


def nonlinear_model(batch):
    batch = np.asarray(batch).reshape(len(batch), -1)
    w = np.linspace(-1, 1, batch.shape[1])
    return np.stack([np.tanh(batch @ w), batch[:, 0] * batch[:, -1] + batch[:, 7] ** 2], axis=1)


def wls_over_all_masks(f, image, segments, replacement, nu, label):
    """Weighted least squares on every mask, with scikit-learn (an independent route)."""
    from sklearn.linear_model import LinearRegression

    index = np.unique(segments, return_inverse=True)[1].reshape(segments.shape)
    d = index.max() + 1
    masks, pi = brute_force_weights(d, nu)
    rep = T.replacement_for(image, index, d, replacement)
    images = np.where(masks[:, index].astype(bool), image[None], rep[None])
    y = f(images)[:, label]
    fit = LinearRegression().fit(masks, y, sample_weight=pi)
    return fit.intercept_, fit.coef_


@pytest.mark.parametrize("nu", [0.25, 1.0])
@pytest.mark.parametrize("replacement", ["superpixel_mean", 0.0])
def test_lime_limit_is_weighted_least_squares_over_all_masks(image, nu, replacement):
    limit = T.lime_limit(nonlinear_model, image, SEGMENTS, replacement, nu, target=1)
    intercept, coef = wls_over_all_masks(nonlinear_model, image, SEGMENTS, replacement, nu, 1)
    assert limit.intercept == pytest.approx(intercept, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(limit.coefficients, coef, rtol=1e-8, atol=1e-12)
    assert limit.coefficients.shape == (6,) and limit.kernel_width == nu


@pytest.mark.parametrize("nu", [0.1, 0.25, 3.0])
def test_linear_model_limit_holds_for_every_bandwidth(nu):
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(6, 6, 3))
    weights = rng.normal(size=(6, 6, 3))
    f = T.linear_model(weights, bias=0.3)
    exact = T.lime_limit(f, image, SEGMENTS, "superpixel_mean", nu)
    closed = T.linear_model_limit(weights, image, SEGMENTS, "superpixel_mean", bias=0.3)
    np.testing.assert_allclose(exact.coefficients, closed.coefficients, rtol=1e-8, atol=1e-12)
    assert exact.intercept == pytest.approx(closed.intercept, rel=1e-8)
    # beta_j is gradient x (input - replacement) summed over superpixel j
    j = 2
    pixels = SEGMENTS == 10 + j
    rep = T.replacement_for(image, SEGMENTS - 10, 6, "superpixel_mean")
    assert closed.coefficients[j] == pytest.approx(
        np.sum(weights[pixels] * (image[pixels] - rep[pixels])))


def shape_image():
    """A bright image with a dark patch in superpixels 0 and 5, and a shape S that
    crosses superpixels 0, 1, 2 and 3."""
    image = np.full((6, 6), 0.9)
    image[0:2, 0:2] = 0.05  # inside superpixel 0 (rows 0-1, cols 0-2), not on S
    image[4:6, 3:6] = 0.1   # superpixel 5, away from S
    shape = np.zeros((6, 6), dtype=bool)
    shape[0:4, 2:4] = True  # pixels of superpixels 0, 1, 2, 3
    return image, shape


@pytest.mark.parametrize("nu", [0.25, 1.0])
def test_shape_detector_limit_equals_exact_limit(nu):
    image, shape = shape_image()
    tau = 0.5
    closed = T.shape_detector_limit(image, SEGMENTS, shape, tau, "superpixel_mean", nu)
    exact = T.lime_limit(T.shape_detector(shape, tau), image, SEGMENTS, "superpixel_mean", nu)
    np.testing.assert_allclose(closed.coefficients, exact.coefficients, rtol=1e-9, atol=1e-12)
    assert closed.intercept == pytest.approx(exact.intercept, rel=1e-9)
    # superpixel 0's mean colour is dark: replacing it switches S off, so E_- = {0}
    # ... together with 1, 2, 3 whose mean is bright: they keep S lit
    assert closed.coefficients[0] > 0.1
    np.testing.assert_allclose(closed.coefficients[1:], closed.coefficients[1], rtol=1e-9)


def test_shape_detector_large_bandwidth_splits_credit_equally():
    image, shape = shape_image()
    # replacement 0 switches off every superpixel that meets S: E_- = {0, 1, 2, 3}, p = 4
    beta = T.shape_detector_limit(image, SEGMENTS, shape, 0.5, 0.0, kernel_width=1e3).coefficients
    np.testing.assert_allclose(beta[:4], 1 / 2**3, rtol=1e-4)
    np.testing.assert_allclose(beta[4:], 0.0, atol=1e-5)


def test_large_bandwidth_formula_holds_for_nu_100(image):
    limit = T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", 100.0, target=0)
    formula = T.large_bandwidth_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", target=0)
    scale = np.abs(formula.coefficients).max()
    np.testing.assert_allclose(limit.coefficients, formula.coefficients, atol=1e-4 * scale)
    assert limit.intercept == pytest.approx(formula.intercept, abs=1e-4 * scale)
    # and it is not the default bandwidth's answer
    default = T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", 0.25, target=0)
    assert np.abs(default.coefficients - formula.coefficients).max() > 1e-2 * scale


def monte_carlo_lime(f, image, nu, n, rng):
    """Image LIME with no penalty, written out: sample masks, weight, least squares."""
    masks = rng.integers(0, 2, size=(n, 6)).astype(float)
    index = SEGMENTS - 10
    rep = T.replacement_for(image, index, 6, "superpixel_mean")
    y = f(T.masked_images(masks, image, rep, index))[:, 1]
    pi = T.kernel_weight(6 - masks.sum(axis=1), 6, nu)
    design = np.hstack([np.ones((n, 1)), masks]) * np.sqrt(pi)[:, None]
    return np.linalg.lstsq(design, y * np.sqrt(pi), rcond=None)[0][1:]


def test_sampled_lime_converges_like_one_over_sqrt_n(image):
    limit = T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", 0.25, target=1).coefficients
    rng = np.random.default_rng(5)
    sizes = np.array([200, 800, 3200, 12800])
    errors = np.array([
        np.mean([np.linalg.norm(monte_carlo_lime(nonlinear_model, image, 0.25, n, rng) - limit)
                 for _ in range(20)])
        for n in sizes
    ])
    slope = np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert -0.65 < slope < -0.35  # 1/sqrt(n) is a slope of -1/2


def test_lime_limit_rejects_bad_input(image):
    with pytest.raises(ValueError, match="^segments"):
        # 17 superpixels: too many masks to visit
        T.lime_limit(nonlinear_model, np.zeros((6, 17)), np.tile(np.arange(17), (6, 1)),
                     "superpixel_mean", 0.25, target=0)
    with pytest.raises(ValueError, match="^segments"):
        T.lime_limit(nonlinear_model, image, SEGMENTS[:5], "superpixel_mean", 0.25, target=0)
    with pytest.raises(TypeError, match="^segments"):
        T.lime_limit(nonlinear_model, image, SEGMENTS.astype(float), "superpixel_mean", 0.25, target=0)
    with pytest.raises(ValueError, match="^target must be given"):
        T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", 0.25)
    with pytest.raises(ValueError, match="^target"):
        T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", 0.25, target=2)
    with pytest.raises(ValueError, match="^baseline"):
        T.lime_limit(nonlinear_model, image, SEGMENTS, np.zeros((5, 5)), 0.25, target=0)
    with pytest.raises(ValueError, match="^baseline"):
        T.lime_limit(nonlinear_model, image, SEGMENTS, "black", 0.25, target=0)
    with pytest.raises(ValueError, match="^kernel_width"):
        T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", -1.0, target=0)
    with pytest.raises(TypeError, match="^classifier_fn"):
        T.lime_limit("model", image, SEGMENTS, "superpixel_mean", 0.25)
    with pytest.raises(ValueError, match="^classifier_fn must return"):
        T.lime_limit(lambda b: np.zeros((3, 1)), image, SEGMENTS, "superpixel_mean", 0.25)
    with pytest.raises(ValueError, match="^image must light"):
        dark = np.zeros((6, 6))
        T.shape_detector_limit(dark, SEGMENTS, dark > -1, 0.5)
    with pytest.raises(ValueError, match="^weights"):
        T.linear_model_limit(np.ones((6, 5)), image, SEGMENTS)


def test_kernel_weight_is_the_engines_kernel_on_the_cosine_distance():
    from lime_core.kernels import cosine_distance, exponential_kernel

    masks, _ = brute_force_weights(7, 0.25)
    engine = exponential_kernel(cosine_distance(masks, np.ones(7)), 0.25)
    ours = T.kernel_weight(7 - masks.sum(axis=1), 7, 0.25)
    np.testing.assert_allclose(ours, engine, rtol=1e-12)


def test_explain_image_converges_to_lime_limit(image):
    from lime_core.lime_image import explain_image

    nu = 0.25
    limit = T.lime_limit(nonlinear_model, image, SEGMENTS, "superpixel_mean", nu, target=1).coefficients
    sizes = np.array([250, 1000, 4000, 16000])
    errors = []
    for n in sizes:
        runs = [
            explain_image(image, nonlinear_model, segments=SEGMENTS, labels=[1], num_samples=int(n),
                          kernel_width=nu, baseline="superpixel_mean", feature_selection="none", alpha=0.0,
                          batch_size=4096, random_state=seed).fits[1].coef
            for seed in range(8)
        ]
        errors.append(np.mean([np.linalg.norm(coef - limit) for coef in runs]))
    errors = np.array(errors)
    slope = np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert -0.7 < slope < -0.3  # error falls like 1/sqrt(n)
    assert errors[-1] < 0.05 * np.linalg.norm(limit)  # and it is close to the limit


def test_mean_replacement_agrees_with_the_engine():
    from lime_core.perturbation import replacement_image

    rgb = np.random.default_rng(6).uniform(size=(6, 6, 3))
    ours = T.replacement_for(rgb, SEGMENTS - 10, 6, "superpixel_mean")
    np.testing.assert_allclose(ours, replacement_image(rgb, SEGMENTS - 10, "superpixel_mean"), rtol=1e-12)
    # each superpixel is constant and has the superpixel's mean colour
    block = SEGMENTS == 13
    np.testing.assert_allclose(ours[block], np.broadcast_to(rgb[block].mean(axis=0), (6, 3)))


def test_lime_limit_counts_its_model_calls(image):
    calls = []

    def counted(batch):
        calls.append(len(batch))
        return nonlinear_model(batch)

    limit = T.lime_limit(counted, image, SEGMENTS, "superpixel_mean", 0.25, target=0, batch_size=10)
    assert limit.model_calls == len(calls) == 7  # 2^6 = 64 masks, 10 per call
    assert sum(calls) == 64


def _exact_sigma_inverse(d, nu):
    """Sigma^{-1} with 60 significant digits (mpmath ships with torch's sympy)."""
    import itertools

    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 60
    sigma = mp.matrix(d + 1, d + 1)
    for mask in itertools.product([0, 1], repeat=d):
        ones = sum(mask)
        w = mp.e ** (-((1 - mp.sqrt(mp.mpf(ones) / d)) ** 2) / (2 * mp.mpf(nu) ** 2))
        row = (1,) + mask
        for a in range(d + 1):
            for b in range(d + 1):
                sigma[a, b] += w * row[a] * row[b] / 2**d
    return np.array((sigma**-1).tolist(), dtype=float)


@pytest.mark.parametrize("d, nu", [(6, 0.015), (6, 0.02), (6, 0.03), (2, 0.05), (3, 0.04)])
def test_closed_form_inverse_stays_exact_for_small_bandwidths(d, nu):
    # the alphas agree to many digits here; the closed form must not subtract them
    exact = _exact_sigma_inverse(d, nu)
    ours = T.sigma_inverse(d, nu)
    assert np.max(np.abs(ours - exact)) <= 1e-12 * np.max(np.abs(exact))


@pytest.mark.parametrize("d", [2, 6, 40])
def test_too_small_bandwidth_is_refused_by_name(d):
    nu_min = T.smallest_bandwidth(d)
    T.sigma_inverse(d, nu_min * 1.01)  # just above: works
    for nu in (nu_min * 0.99, nu_min / 10):
        with pytest.raises(ValueError, match=r"^kernel_width nu = .* too small for d = %d.*use kernel_width nu >=" % d):
            T.sigma_inverse(d, nu)
