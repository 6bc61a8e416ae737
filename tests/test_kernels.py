"""Distances and the exponential kernel agree with lime and scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from lime_core.kernels import cosine_distance, euclidean_distance, exponential_kernel


def test_exponential_kernel_is_limes_bit_for_bit():
    d = np.linspace(0, 3, 101)
    lime_image = pytest.importorskip("lime.lime_image")
    for w in (0.25, 25.0, 0.75 * np.sqrt(30)):
        # the kernel lime's own explainer builds, not a copy of its formula
        lime_weights = lime_image.LimeImageExplainer(kernel_width=w).base.kernel_fn(d)
        np.testing.assert_array_equal(exponential_kernel(d, w), lime_weights)
        np.testing.assert_allclose(exponential_kernel(d, w), np.exp(-(d**2) / (2 * w**2)), rtol=1e-12)


def test_cosine_distance_matches_sklearn_including_zero_rows():
    rng = np.random.default_rng(0)
    Z = rng.integers(0, 2, size=(300, 9)).astype(float)
    Z[0] = 1
    Z[5] = 0
    expected = pairwise_distances(Z, Z[0].reshape(1, -1), metric="cosine").ravel()
    np.testing.assert_allclose(cosine_distance(Z), expected, atol=1e-12)
    assert cosine_distance(Z)[5] == 1.0


def test_euclidean_distance_matches_sklearn_and_reference():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(50, 4))
    ref = rng.normal(size=4)
    np.testing.assert_allclose(
        euclidean_distance(Z, ref), pairwise_distances(Z, ref[None, :]).ravel(), atol=1e-12
    )
    assert euclidean_distance(Z)[0] == 0.0


@pytest.mark.parametrize("width", [0, -1.0, np.inf])
def test_kernel_width_must_be_positive(width):
    with pytest.raises(ValueError, match="kernel_width"):
        exponential_kernel(np.ones(3), width)


def test_reference_of_wrong_length():
    with pytest.raises(ValueError, match="reference"):
        cosine_distance(np.ones((3, 4)), np.ones(5))


def test_exponential_kernel_refuses_negative_distances():
    with pytest.raises(ValueError, match="^distances must be >= 0"):
        exponential_kernel(np.array([0.1, -0.5]), 1.0)
