"""Tabular LIME against lime's ``LimeTabularExplainer`` on the same inputs.

Bin edges and feature-name strings of the quartile, decile and entropy discretisers;
both gaussian sampling modes (around the training mean, lime's default, and around the
instance); and, on lime's own samples, the same interpretable representation, distances,
kernel weights and surrogate coefficients.
"""

import numpy as np
import pytest

from lime_core.explanation import LimeSamples, explain_from_samples
from lime_core.kernels import euclidean_distance, exponential_kernel
from lime_core.lime_tabular import explain_tabular, tabular_samples
from lime_core.perturbation import TabularSampler, entropy_edges

lime_tabular = pytest.importorskip("lime.lime_tabular")
discretize = pytest.importorskip("lime.discretize")

NAMES = ["age", "temp", "w", "colour", "x"]
CATEGORICAL = [3]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5)) * [10, 1, 3, 1, 0.2] + [40, 37, 0, 0, 5]
    X[:, 3] = rng.integers(0, 4, size=500)
    score = (X[:, 1] > 37.5).astype(int) + (X[:, 0] > 45).astype(int)
    y = np.where(rng.random(500) < 0.1, rng.integers(0, 3, 500), score)  # 3 classes, some noise
    return X, y


def model(X):
    p = 1 / (1 + np.exp(-(2 * (X[:, 1] - 37.5) + 0.1 * (X[:, 0] - 45))))
    return np.column_stack([1 - p, p])


def lime_explainer(X, y, sampling, around=False, seed=0):
    if sampling == "gaussian":
        return lime_tabular.LimeTabularExplainer(
            X, feature_names=NAMES, categorical_features=CATEGORICAL, discretize_continuous=False,
            sample_around_instance=around, random_state=seed)
    return lime_tabular.LimeTabularExplainer(
        X, feature_names=NAMES, categorical_features=CATEGORICAL, discretizer=sampling,
        training_labels=y, random_state=seed)


# ------------------------------------------------------------ edges and names


@pytest.mark.parametrize("sampling, cls", [("quartile", "QuartileDiscretizer"),
                                           ("decile", "DecileDiscretizer"),
                                           ("entropy", "EntropyDiscretizer")])
def test_bin_edges_and_bins_equal_limes_discretizer(data, sampling, cls):
    X, y = data
    ref = getattr(discretize, cls)(X, CATEGORICAL, NAMES, labels=y, random_state=0)
    ours = TabularSampler.fit(X, NAMES, CATEGORICAL, sampling, training_labels=y)
    for j in (0, 1, 2, 4):
        theirs = np.unique(ref.lambdas[j].__defaults__[0])
        np.testing.assert_array_equal(ours.edges[j], theirs)
        assert ref.names[j] == [_name_of_bin(ours, j, b) for b in range(len(theirs) + 1)]
    for row in X[:50]:
        got = ours.bins(row[None])[0]
        want = ref.discretize(row)
        np.testing.assert_array_equal(got[[0, 1, 2, 4]], want[[0, 1, 2, 4]])


def _name_of_bin(sampler, j, b):
    """Our name of bin ``b`` of column ``j``: the name of a row whose value is in it."""
    q = sampler.edges[j]
    value = q[b] if b < len(q) else q[-1] + 1       # bin b is (q[b-1], q[b]]
    row = np.zeros(len(sampler.feature_names))
    row[j] = value
    return sampler.names(row)[j]


@pytest.mark.parametrize("sampling", ["quartile", "decile", "entropy", "gaussian"])
def test_feature_names_equal_limes_strings(data, sampling):
    X, y = data
    ref = lime_explainer(X, y, sampling)
    for i in (0, 7, 19):
        row = X[i]
        exp = ref.explain_instance(row, model, num_samples=50)
        mapper = exp.domain_mapper
        theirs = mapper.discretized_feature_names or mapper.feature_names
        ours = TabularSampler.fit(X, NAMES, CATEGORICAL, sampling, training_labels=y).names(row)
        assert ours == theirs
        assert ours[3] == f"colour={int(row[3])}"           # '0=2', not '0=2.0'


def _column(kind, rng, m):
    if kind == "normal":
        return rng.normal(size=m) * rng.choice([1, 100, 0.01])
    if kind == "small_integers":
        return rng.integers(0, 10, size=m).astype(float)
    if kind == "two_decimals":
        return np.round(rng.exponential(size=m), 2)
    return np.round(rng.normal(size=m) * 1000, 1)


@pytest.mark.parametrize("kind", ["normal", "small_integers", "two_decimals", "one_decimal_large"])
def test_entropy_edges_and_names_equal_limes_bit_for_bit(kind):
    """Random columns and labels (three classes, or a noisy threshold): the same edges
    bit for bit, so the same names, also where a midpoint such as 0.025 sits on a
    rounding boundary of '%.2f' (scikit-learn's tree sees float32 values)."""
    for seed in range(25):
        rng = np.random.default_rng(seed)
        m = int(rng.integers(10, 300))
        col = _column(kind, rng, m)
        y = (rng.integers(0, 3, size=m) if seed % 2 else
             (col + rng.normal(size=m) * col.std() > np.median(col)).astype(int))
        ref = discretize.EntropyDiscretizer(col[:, None], [], ["c"], labels=y, random_state=0)
        np.testing.assert_array_equal(entropy_edges(col, y), np.unique(ref.lambdas[0].__defaults__[0]))
        sampler = TabularSampler.fit(np.c_[col, col], ["c", "d"], sampling="entropy", training_labels=y)
        assert ref.names[0] == [_name_of_bin(sampler, 0, b) for b in range(len(sampler.edges[0]) + 1)]


def test_entropy_without_a_split_uses_the_median_like_lime():
    col = np.arange(20.0)
    labels = np.zeros(20, dtype=int)
    ref = discretize.EntropyDiscretizer(col[:, None], [], ["c"], labels=labels, random_state=0)
    np.testing.assert_array_equal(entropy_edges(col, labels), [np.median(col)])
    np.testing.assert_array_equal(entropy_edges(col, labels), ref.lambdas[0].__defaults__[0])


def test_entropy_tree_finds_a_planted_threshold_and_string_labels():
    col = np.linspace(0, 1, 101)
    labels = np.where(col > 0.62, "flu", "cold")
    edges = entropy_edges(col, labels)
    assert edges.tolist() == [pytest.approx(0.625)]     # one pure split, midpoint of 0.62 and 0.63


def test_entropy_needs_training_labels_as_lime(data):
    X, y = data
    with pytest.raises(ValueError, match="training_labels"):
        explain_tabular(X[0], model, X, sampling="entropy", num_samples=20)
    with pytest.raises(ValueError, match="training_labels must have shape"):
        explain_tabular(X[0], model, X, sampling="entropy", training_labels=y[:10], num_samples=20)
    with pytest.raises(ValueError):
        lime_explainer(X, None, "entropy")


# ------------------------------------------------------------ lime's samples, our pipeline


@pytest.mark.parametrize("sampling, around", [("quartile", False), ("decile", False), ("entropy", False),
                                              ("gaussian", False), ("gaussian", True)])
def test_same_samples_give_limes_representation_weights_and_coefficients(data, sampling, around):
    """Two lime explainers with one seed draw the same samples: one hands them to us,
    the other explains with them. Our Z, distances, kernel weights and surrogate then
    equal lime's."""
    X, y = data
    row, n = X[11], 400
    source = lime_explainer(X, y, sampling, around, seed=3)
    lime_Z, inputs = source._LimeTabularExplainer__data_inverse(row, n)
    ref = lime_explainer(X, y, sampling, around, seed=3)
    lime_exp = ref.explain_instance(row, model, labels=(1,), num_features=5, num_samples=n)

    sampler = TabularSampler.fit(X, NAMES, CATEGORICAL, sampling, training_labels=y,
                                 sample_around_instance=around)
    Z = sampler.represent(inputs, row)
    scaled = (lime_Z - ref.scaler.mean_) / ref.scaler.scale_
    np.testing.assert_allclose(Z, scaled, rtol=1e-9, atol=1e-9)
    distances = euclidean_distance(Z)
    from sklearn.metrics import pairwise_distances

    np.testing.assert_allclose(distances, pairwise_distances(scaled, scaled[:1]).ravel(), atol=1e-9)
    width = 0.75 * np.sqrt(5)
    np.testing.assert_allclose(exponential_kernel(distances, width), ref.base.kernel_fn(distances), rtol=1e-12)

    samples = LimeSamples("tabular", sampler.names(row), Z, model(inputs), distances, 3, 1,
                          data={"row": row, "sampler": sampler, "inputs": inputs})
    ours = explain_from_samples(samples, kernel_width=width, labels=[1], num_features=5)
    theirs = dict(lime_exp.as_map()[1])
    got = dict(ours.as_map()[1])
    assert set(got) == set(theirs)
    for j, w in theirs.items():
        assert got[j] == pytest.approx(w, rel=1e-6, abs=1e-9)
    assert ours.intercept[1] == pytest.approx(lime_exp.intercept[1], rel=1e-6)
    assert dict(ours.as_list(1)) == pytest.approx(dict(lime_exp.as_list(label=1)), rel=1e-6, abs=1e-9)


# ------------------------------------------------------------ the two gaussian modes


@pytest.mark.parametrize("around", [False, True])
def test_gaussian_sampling_centre_matches_lime(data, around):
    X, y = data
    row = X[5].copy()
    row[0] += 30                                          # far from the training mean
    n = 4000
    ours = tabular_samples(row, model, X, feature_names=NAMES, categorical_features=CATEGORICAL,
                           sampling="gaussian", sample_around_instance=around, num_samples=n,
                           random_state=0).data["inputs"][1:]
    _, theirs = lime_explainer(X, y, "gaussian", around)._LimeTabularExplainer__data_inverse(row, n)
    theirs = theirs[1:]
    centre = row if around else X.mean(axis=0)
    se = X.std(axis=0) / np.sqrt(n)
    for j in (0, 1, 2, 4):
        assert abs(ours[:, j].mean() - centre[j]) < 4 * se[j]
        assert abs(theirs[:, j].mean() - centre[j]) < 4 * se[j]
        assert ours[:, j].std() == pytest.approx(theirs[:, j].std(), rel=0.08)


def test_default_is_limes_default_around_the_mean(data):
    X, _ = data
    row = X[0] + 50
    default = tabular_samples(row, model, X, sampling="gaussian", num_samples=2000, random_state=1)
    assert default.data["sampler"].sample_around_instance is False
    assert abs(default.data["inputs"][1:, 0].mean() - X[:, 0].mean()) < 2


def test_sample_around_instance_needs_gaussian(data):
    X, _ = data
    with pytest.raises(ValueError, match="sample_around_instance=True needs sampling='gaussian'"):
        explain_tabular(X[0], model, X, sample_around_instance=True, num_samples=20)
    with pytest.raises(TypeError, match="sample_around_instance"):
        explain_tabular(X[0], model, X, sampling="gaussian", sample_around_instance="yes", num_samples=20)


@pytest.mark.parametrize("sampling", ["decile", "entropy"])
def test_planted_feature_first_with_every_discretiser_as_in_lime(data, sampling):
    X, y = data
    row = X[2].copy()
    row[1] = 38.5
    exp = explain_tabular(row, model, X, feature_names=NAMES, categorical_features=CATEGORICAL,
                          sampling=sampling, training_labels=y, labels=[1], num_features=3,
                          num_samples=3000, random_state=0)
    ref = lime_explainer(X, y, sampling).explain_instance(row, model, num_features=3, num_samples=3000)
    assert exp.as_map()[1][0][0] == ref.as_map()[1][0][0] == 1
    assert exp.as_list(1)[0][0] == ref.as_list(label=1)[0][0]
    assert exp.as_map()[1][0][1] == pytest.approx(ref.as_map()[1][0][1], rel=0.15)


def test_target_is_the_single_label_form(data):
    X, _ = data
    a = explain_tabular(X[0], model, X, target=0, num_samples=300, random_state=0)
    b = explain_tabular(X[0], model, X, labels=[0], num_samples=300, random_state=0)
    assert a.labels == [0] and a.as_map() == b.as_map()
    with pytest.raises(ValueError, match="target and labels"):
        explain_tabular(X[0], model, X, target=0, labels=[1], num_samples=30)
