"""Tabular LIME: lime's quartile names and bins, sampling inside the bins, a planted
model, the gaussian option, seeding and argument checks."""

import numpy as np
import pytest

from lime_core.lime_tabular import explain_tabular
from lime_core.perturbation import TabularSampler


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)) * [1, 2, 3, 1, 1] + [0, 10, 0, 0, 0]
    X[:, 4] = rng.integers(0, 3, size=400)  # a categorical column
    return X


def planted(X):
    """Depends on feature 1 only (through its bin above the median)."""
    p = 1 / (1 + np.exp(-3 * (X[:, 1] - 10)))
    return np.column_stack([1 - p, p])


def test_names_equal_limes_discretizer(table):
    from lime.discretize import QuartileDiscretizer

    names = ["a", "b", "c", "d", "e"]
    ref = QuartileDiscretizer(table[:, :4], [], names[:4], random_state=0)
    sampler = TabularSampler.fit(table[:, :4], names[:4])
    for row in table[:10, :4]:
        bins = ref.discretize(row)
        assert sampler.names(row) == [ref.names[j][int(bins[j])] for j in range(4)]
        np.testing.assert_array_equal(sampler.bins(row[None])[0], bins)


def test_samples_stay_in_bins_and_follow_training_frequencies(table):
    sampler = TabularSampler.fit(table, categorical_features=[4])
    row = table[0]
    Z, X = sampler.sample(row, 20000, random_state=np.random.default_rng(1))
    np.testing.assert_array_equal(X[0], row)
    assert np.all(Z[0] == 1)
    np.testing.assert_array_equal(Z, sampler.bins(X) == sampler.bins(row[None]))
    for j in range(4):  # each quartile bin holds about a quarter of the samples
        counts = np.bincount(sampler.bins(X[1:])[:, j].astype(int), minlength=4)
        np.testing.assert_allclose(counts / counts.sum(), 0.25, atol=0.02)
    np.testing.assert_allclose(np.mean(X[1:, 4] == row[4]), np.mean(table[:, 4] == row[4]), atol=0.02)


def test_planted_feature_comes_first_and_agrees_with_lime(table):
    from lime.lime_tabular import LimeTabularExplainer

    row = table[3].copy()
    row[1] = 14.0
    exp = explain_tabular(
        row, planted, table, feature_names=list("abcde"), num_samples=3000, num_features=3, random_state=0
    )
    assert exp.labels == [1]
    top_name, top_weight = exp.as_list()[0]
    assert top_name.startswith("b >") and top_weight > 0.3
    ref = LimeTabularExplainer(table, random_state=0).explain_instance(row, planted, num_features=3, num_samples=3000)
    ref_top, ref_weight = ref.as_map()[1][0]
    assert ref_top == 1
    assert top_weight == pytest.approx(ref_weight, rel=0.1)


def test_gaussian_sampling(table):
    row = table[5]
    exp = explain_tabular(
        row, planted, table, sampling="gaussian", labels=[1], num_samples=2000, num_features=2,
        random_state=0,
    )
    X = exp.extra["inputs"]
    np.testing.assert_allclose(X[1:, :4].std(axis=0), table[:, :4].std(axis=0), rtol=0.08)
    assert exp.as_list()[0][0] == "1" and exp.as_list()[0][1] > 0


def test_same_seed_bit_identical_and_default_width(table):
    a = explain_tabular(table[1], planted, table, num_samples=300, random_state=5)
    b = explain_tabular(table[1], planted, table, num_samples=300, random_state=5)
    np.testing.assert_array_equal(a.extra["inputs"], b.extra["inputs"])
    assert a.as_map() == b.as_map()
    assert a.kernel_width == pytest.approx(0.75 * np.sqrt(5))


def test_regression_scores_give_label_zero(table):
    exp = explain_tabular(table[0], lambda X: X[:, 2] * 2.0, table, num_samples=300, random_state=0)
    assert exp.labels == [0] and exp.predictions.shape == (300, 1)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"row": np.ones((2, 5))}, ValueError, "row must be 1-D"),
        ({"row": np.ones(4)}, ValueError, "training_data must have 4 columns"),
        ({"training_data": np.ones(5)}, ValueError, "training_data must be 2-D"),
        ({"classifier_fn": 3}, TypeError, "classifier_fn must be callable"),
        ({"classifier_fn": lambda X: np.ones((2, 2))}, ValueError, "classifier_fn must return shape"),
        ({"num_samples": 1}, ValueError, "num_samples"),
        ({"kernel_width": -2.0}, ValueError, "kernel_width"),
        ({"sampling": "uniform"}, ValueError, "sampling"),
        ({"feature_names": ["a"]}, ValueError, "feature_names"),
    ],
)
def test_bad_input(table, kwargs, error, words):
    args = {"row": table[0], "classifier_fn": planted, "training_data": table, "num_samples": 20}
    args.update(kwargs)
    with pytest.raises(error, match=words):
        explain_tabular(args.pop("row"), args.pop("classifier_fn"), args.pop("training_data"), **args)


@pytest.mark.parametrize("lo, hi", [(-1.0, 0.5), (0.2, 3.0), (5.0, 6.0), (-9.0, -7.5), (-np.inf, 0.0)])
def test_truncated_normal_matches_scipy_moments(lo, hi):
    from scipy.stats import truncnorm

    from lime_core.perturbation import truncated_normal

    mu, sd, n = 0.3, 1.2, 40000
    a, b = (lo - mu) / sd, (hi - mu) / sd
    x = truncated_normal(np.random.default_rng(0), np.full(n, lo), np.full(n, hi), np.full(n, mu), np.full(n, sd))
    assert np.all((x >= lo) & (x <= hi))
    mean, var = truncnorm.stats(a, b, loc=mu, scale=sd, moments="mv")
    assert x.mean() == pytest.approx(float(mean), abs=4 * np.sqrt(var / n))
    assert x.var() == pytest.approx(float(var), rel=0.05)


@pytest.mark.parametrize("given", [np.array([0]), np.where([True, False, True])[0], [0, 2], (2,)])
def test_categorical_features_as_numpy_array_like_lime(given):
    """lime's own tests pass ``np.where(mask)[0]``: a one-element array holding 0 is falsy,
    and once made that column silently continuous here. Compare with lime's discretiser."""
    from lime.lime_tabular import LimeTabularExplainer

    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 3, 300), rng.normal(size=300), rng.integers(0, 2, 300)].astype(float)
    ours = TabularSampler.fit(X, categorical_features=given)
    theirs = LimeTabularExplainer(X, categorical_features=given, discretize_continuous=False,
                                  random_state=0)
    assert [int(j) for j in np.flatnonzero(ours.categorical)] == sorted(
        int(j) for j in theirs.categorical_features)
    names = ours.names(X[0])
    lime_names = theirs.explain_instance(X[0], lambda A: np.c_[1 - A[:, 1] ** 2 / 10, A[:, 1] ** 2 / 10],
                                         num_samples=50).domain_mapper.feature_names
    for j in np.asarray(given):
        assert names[j] == lime_names[j] == f"{j}={int(X[0, j])}"   # lime's '0=2', not '0=2.0'


@pytest.mark.parametrize("bad", [3, "ab", np.array([[0]])])
def test_categorical_features_not_a_sequence_is_named(bad):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(TypeError, match="categorical_features"):
        TabularSampler.fit(X, categorical_features=bad)
