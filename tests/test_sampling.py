"""Mask sampling: shapes, the instance row, the two schemes' distributions, seeding."""

import numpy as np
import pytest

from lime_core.sampling import sample_masks


@pytest.mark.parametrize("scheme", ["bernoulli", "uniform_count"])
def test_shape_dtype_first_row(scheme):
    Z = sample_masks(7, 50, random_state=0, scheme=scheme)
    assert Z.shape == (50, 7) and Z.dtype == bool
    assert Z[0].all()


@pytest.mark.parametrize("scheme", ["bernoulli", "uniform_count"])
def test_same_seed_same_masks_and_global_rng_untouched(scheme):
    np.random.seed(123)  # noqa: NPY002  (the test checks the global RNG is untouched)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = sample_masks(9, 200, random_state=42, scheme=scheme)
    b = sample_masks(9, 200, random_state=np.random.default_rng(42), scheme=scheme)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_masks(9, 200, random_state=43, scheme=scheme))
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_bernoulli_keeps_each_feature_with_probability_half():
    Z = sample_masks(20, 20001, random_state=1, scheme="bernoulli")[1:]
    freq = Z.mean(axis=0)
    # 20000 draws: standard error 0.0035 per feature
    assert np.all(np.abs(freq - 0.5) < 0.02)
    # independence: correlation between features is near zero
    corr = np.corrcoef(Z.T.astype(float))
    assert np.max(np.abs(corr - np.eye(20))) < 0.05


def test_uniform_count_removes_between_1_and_d_uniformly():
    d, n = 6, 30001
    Z = sample_masks(d, n, random_state=2, scheme="uniform_count")[1:]
    removed = d - Z.sum(axis=1)
    assert removed.min() == 1 and removed.max() == d
    counts = np.bincount(removed, minlength=d + 1)[1:]
    np.testing.assert_allclose(counts / (n - 1), 1 / d, atol=0.01)
    # given the count, every feature is equally likely to be removed
    np.testing.assert_allclose((~Z).mean(axis=0), (~Z).mean(), atol=0.01)


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((0, 10, 0), ValueError, "d must be"),
        ((3, 0, 0), ValueError, "num_samples"),
        ((3, 10, "seed"), TypeError, "random_state"),
        ((3.5, 10, 0), TypeError, "d must be an int"),
    ],
)
def test_bad_input(args, error, words):
    with pytest.raises(error, match=words):
        sample_masks(*args[:2], random_state=args[2])


def test_bad_scheme():
    with pytest.raises(ValueError, match="scheme"):
        sample_masks(3, 10, random_state=0, scheme="gaussian")
