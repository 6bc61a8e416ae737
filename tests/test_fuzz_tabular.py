"""Fuzzing tabular LIME, the kernels and the mask samplers.

The rule (issue 13): every call gives a correct result or a ``ValueError``/``TypeError``
that names the argument; never a NaN in a result, never NaN rows sent to the model, never
an unrelated exception. Hand-written cases for the known traps, hypothesis for the rest
(derandomized, so a run is reproducible; small example counts keep the file fast).
"""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from lime_core import sampling  # noqa: E402
from lime_core.explanation import choose_labels  # noqa: E402
from lime_core.kernels import cosine_distance, euclidean_distance, exponential_kernel  # noqa: E402
from lime_core.lime_tabular import explain_tabular, tabular_samples  # noqa: E402
from lime_core.perturbation import SAMPLINGS, TabularSampler, entropy_edges  # noqa: E402
from lime_core.sampling import all_masks, sample_masks  # noqa: E402

FUZZ = settings(max_examples=25, deadline=None, derandomize=True)
TRAIN = np.random.default_rng(0).normal(size=(60, 3)) * [1.0, 5.0, 0.5] + [0.0, 20.0, 0.0]
LABELS = (TRAIN[:, 0] > 0).astype(int)


def strict_model(X):
    """A two-class model that refuses non-finite rows (what a real model would choke on)."""
    X = np.asarray(X)
    assert X.ndim == 2 and np.all(np.isfinite(X)), "the explainer sent non-finite rows"
    s = X / np.maximum(np.abs(X).max(axis=0), 1e-300)
    p = 1 / (1 + np.exp(-(s[:, 0] + 0.3 * s[:, -1])))
    return np.column_stack([1 - p, p])


def explain(**kwargs):
    args = {"row": TRAIN[0], "classifier_fn": strict_model, "training_data": TRAIN,
            "num_samples": 60, "random_state": 0}
    args.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)       # no overflow / invalid warnings
        return explain_tabular(args.pop("row"), args.pop("classifier_fn"), args.pop("training_data"), **args)


def assert_finite_explanation(exp):
    for label in exp.labels:
        weights = [w for _, w in exp.as_list(label)]
        assert np.all(np.isfinite(weights)), weights
        assert np.isfinite(exp.intercept[label]) and np.isfinite(exp.score[label])
    assert np.all(np.isfinite(exp.weights)) and np.all((exp.weights >= 0) & (exp.weights <= 1))
    assert np.all(np.isfinite(exp.extra["inputs"]))


# ------------------------------------------------------------ named errors, by hand

BAD = [
    # (keyword arguments, exception, words the message must contain)
    ({"row": None}, ValueError, "row must be 1-D"),
    ({"row": "abc"}, TypeError, "row must be array-like"),
    ({"row": {"a": 1}}, TypeError, "row must be array-like"),
    ({"row": [1.0, np.nan, 2.0]}, ValueError, "row contains NaN"),
    ({"row": [1.0, np.inf, 2.0]}, ValueError, "row contains NaN"),
    ({"row": np.ones(4)}, ValueError, "training_data must have 4 columns"),
    ({"training_data": TRAIN[:1]}, ValueError, "training_data must have at least 2 rows"),
    ({"training_data": np.empty((0, 3))}, ValueError, "training_data must have at least 2 rows"),
    ({"training_data": np.ones((5, 3, 1))}, ValueError, "training_data must be 2-D"),
    ({"training_data": np.where(TRAIN > 1, np.nan, TRAIN)}, ValueError, "training_data contains NaN"),
    ({"training_data": TRAIN * 1e301, "row": TRAIN[0] * 1e301}, ValueError, "training_data must have entries of magnitude"),
    ({"row": TRAIN[0] * 1e305}, ValueError, "row must have entries of magnitude"),
    ({"classifier_fn": None}, TypeError, "classifier_fn must be callable"),
    ({"classifier_fn": lambda X: np.full((len(X), 2), np.nan)}, ValueError, "classifier_fn returned NaN"),
    ({"classifier_fn": lambda X: np.ones((len(X), 2, 2))}, ValueError, "classifier_fn must return shape"),
    ({"classifier_fn": lambda X: np.ones(3)}, ValueError, "classifier_fn must return shape"),
    ({"classifier_fn": lambda X: None}, ValueError, "classifier_fn must return shape"),
    ({"classifier_fn": lambda X: [["a", "b"]] * len(X)}, TypeError, "classifier_fn must return an array of numbers"),
    ({"classifier_fn": lambda X: np.zeros((len(X), 0))}, ValueError, "at least one output"),
    ({"feature_names": "abc"}, TypeError, "feature_names must be a list"),
    ({"feature_names": 3}, TypeError, "feature_names must be a list"),
    ({"feature_names": ["a", "b"]}, ValueError, "feature_names must have 3 entries"),
    ({"feature_names": [["a", "b", "c"]]}, TypeError, "feature_names must be a list"),
    ({"feature_names": [["a"], "b", ["c", "d"]]}, TypeError, "feature_names must be a list"),
    ({"training_data": np.empty((5, 0)), "row": np.empty(0)}, ValueError, "row must have at least one entry"),
    ({"categorical_features": 3}, TypeError, "categorical_features must be a sequence"),
    ({"categorical_features": "0"}, TypeError, "categorical_features must be a sequence"),
    ({"categorical_features": [3]}, ValueError, "categorical_features must be <= 2"),
    ({"categorical_features": [-1]}, ValueError, "categorical_features must be >= 0"),
    ({"categorical_features": [0.0]}, TypeError, "categorical_features must be an int"),
    ({"categorical_features": [True, False]}, ValueError, "boolean mask must have 3 entries"),
    ({"sampling": "Quartile"}, ValueError, "sampling must be one of"),
    ({"sampling": None}, ValueError, "sampling must be one of"),
    ({"sampling": "entropy"}, ValueError, "training_labels must be given"),
    ({"sampling": "entropy", "training_labels": LABELS[:5]}, ValueError, "training_labels must have shape"),
    ({"sampling": "entropy", "training_labels": np.full(60, np.nan)}, ValueError, "training_labels contains NaN"),
    ({"sample_around_instance": True}, ValueError, "needs sampling='gaussian'"),
    ({"sample_around_instance": 1, "sampling": "gaussian"}, TypeError, "sample_around_instance must be True or False"),
    ({"labels": []}, ValueError, "labels must name at least one output"),
    ({"labels": [0.7]}, TypeError, "labels must be output indices"),
    ({"labels": [True]}, TypeError, "labels must be output indices"),
    ({"labels": "1"}, TypeError, "labels must be a sequence"),
    ({"labels": [2]}, ValueError, r"labels must be output indices in 0\.\.1"),
    ({"labels": [-1]}, ValueError, r"labels must be output indices in 0\.\.1"),
    ({"labels": [1, 1]}, ValueError, "labels must be distinct"),
    ({"labels": [[0, 1]]}, ValueError, "labels must be one output index or a 1-D"),
    ({"target": 2}, ValueError, r"target must be <= 1, got 2"),
    ({"target": 0.5}, TypeError, "target must be an int"),
    ({"target": 0, "labels": [1]}, ValueError, "target and labels"),
    ({"top_labels": 3}, ValueError, "top_labels must be <= 2"),
    ({"top_labels": 0}, ValueError, "top_labels must be >= 1"),
    ({"num_samples": 1}, ValueError, "num_samples must be >= 2"),
    ({"num_samples": 10.0}, TypeError, "num_samples must be an int"),
    ({"num_features": 0}, ValueError, "num_features must be >= 1"),
    ({"kernel_width": 0.0}, ValueError, "kernel_width must be a finite number > 0"),
    ({"kernel_width": np.nan}, ValueError, "kernel_width must be a finite number > 0"),
    ({"kernel_width": "1"}, TypeError, "kernel_width must be a number"),
    ({"alpha": -1.0}, ValueError, "alpha must be"),
    ({"feature_selection": "best"}, ValueError, "feature_selection must be one of"),
    ({"random_state": -1}, ValueError, "random_state must be a non-negative int"),
    ({"random_state": 1.5}, TypeError, "random_state must be an int"),
]


@pytest.mark.parametrize("kwargs, error, words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_gives_a_named_error(kwargs, error, words):
    with pytest.raises(error, match=words):
        explain(**kwargs)


def test_a_table_without_columns_is_refused_by_the_sampler():
    with pytest.raises(ValueError, match="training_data must have at least one column"):
        TabularSampler.fit(np.empty((5, 0)))


def test_a_model_that_raises_is_not_masked():
    def broken(X):
        raise RuntimeError("the model's own error")

    with pytest.raises(RuntimeError, match="the model's own error"):
        explain(classifier_fn=broken)


def test_label_lookups_on_the_explanation():
    exp = explain(labels=[1, 0])
    assert [n for n, _ in exp.as_list()] == [n for n, _ in exp.as_list(1)]
    with pytest.raises(ValueError, match=r"target must be one of the explained labels \[1, 0\]"):
        exp.as_list(2)
    with pytest.raises(TypeError, match="target must be one of the explained labels"):
        exp.as_list(0.0)
    with pytest.raises(TypeError, match="target must be one of the explained labels"):
        exp.as_list(True)


def test_choose_labels_directly():
    assert choose_labels(np.array([0.2, 0.5, 0.3]), None, 2) == ([1, 2], [1, 2])
    assert choose_labels(np.array([0.2, 0.8]), np.array([1]), 1) == ([1], None)
    assert choose_labels(np.array([0.2, 0.8]), np.int64(0), 1) == ([0], None)
    with pytest.raises(ValueError, match="at least one output"):
        choose_labels(np.array([]), None, 1)
    with pytest.raises(ValueError, match="labels must be one output index or a 1-D"):
        choose_labels(np.array([0.2, 0.8]), [[0], [1, 0]], 1)


# ------------------------------------------------------------ odd but valid tables


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("case", ["two_rows", "one_column", "constant_column", "all_constant",
                                  "huge", "tiny", "mixed_scales", "row_outside", "integers"])
def test_odd_tables_give_finite_explanations(case, sampling):
    X, row = TRAIN.copy(), TRAIN[0].copy()
    if case == "two_rows":
        X = X[:2]
    elif case == "one_column":
        X, row = X[:, :1], row[:1]
    elif case == "constant_column":
        X[:, 1] = 7.0
    elif case == "all_constant":
        X[:] = 3.0
    elif case == "huge":
        X, row = X * 1e250, row * 1e250
    elif case == "tiny":
        X, row = X * 1e-300, row * 1e-300
    elif case == "mixed_scales":
        X, row = X * [1e-200, 1.0, 1e200], row * [1e-200, 1.0, 1e200]
    elif case == "row_outside":
        row = row + 1e6
    elif case == "integers":
        X, row = np.round(X).astype(int), np.round(row).astype(int)
    labels = (np.arange(len(X)) % 2) if sampling == "entropy" else None
    exp = explain(row=row, training_data=X, sampling=sampling, training_labels=labels)
    assert_finite_explanation(exp)
    assert exp.Z.shape == (60, X.shape[1]) and np.all(exp.extra["inputs"][0] == row)


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_a_rescaled_table_gives_the_same_explanation(sampling, scale):
    """Binning and standardising do not see the unit: columns times 1e200 (whose squares
    overflow) or 1e-200 give the weights of the plain table."""
    labels = LABELS if sampling == "entropy" else None
    plain = explain(sampling=sampling, training_labels=labels, num_samples=200)
    scaled = explain(row=TRAIN[0] * scale, training_data=TRAIN * scale, sampling=sampling,
                     training_labels=labels, num_samples=200,
                     classifier_fn=lambda X: strict_model(X / scale))
    np.testing.assert_allclose(scaled.fits[1].coef, plain.fits[1].coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(scaled.weights, plain.weights, rtol=1e-9)


@pytest.mark.parametrize("given", [[1], (1,), np.array([1]), np.where([False, True, False])[0],
                                   np.array([False, True, False]), [False, True, False], range(1, 2)])
def test_categorical_features_in_every_form(given):
    X = TRAIN.copy()
    X[:, 1] = np.arange(60) % 3
    exp = explain(training_data=X, row=X[4], categorical_features=given, feature_names=["a", "b", "c"])
    assert exp.feature_names[1] == "b=1"                       # lime's string for 1.0
    assert set(np.unique(exp.extra["inputs"][:, 1])) <= {0.0, 1.0, 2.0}


def test_odd_feature_names_are_kept_as_strings():
    names = ["", "naïve %s {}", 3]
    exp = explain(feature_names=np.array(names, dtype=object), sampling="gaussian")
    assert exp.feature_names == ["", "naïve %s {}", "3"]
    exp = explain(feature_names=("a", "a", "a"))                # repeated names are allowed, as in lime
    assert all(" a " in n or n.startswith("a ") for n in exp.feature_names), exp.feature_names


@pytest.mark.parametrize("width", [1e-300, 1e-200, 1e-154, 1e154, 1e200, 1e300])
def test_extreme_kernel_widths(width):
    exp = explain(kernel_width=width)
    assert_finite_explanation(exp)
    if width > 1:
        np.testing.assert_allclose(exp.weights, 1.0)           # everything is close
    else:
        assert exp.weights[0] == 1.0 and np.all(exp.weights[exp.distances > 0] == 0.0)
    assert_finite_explanation(exp.refit(kernel_width=width))


def test_model_outputs_of_every_form():
    for out in (lambda X: X[:, 0], lambda X: list(X[:, 0]), lambda X: X[:, :1], lambda X: np.c_[X, X]):
        exp = explain(classifier_fn=out)
        assert_finite_explanation(exp)
    one = explain(classifier_fn=lambda X: X[:, 0], target=0)
    assert one.labels == [0]


# ------------------------------------------------------------ hypothesis: tables


finite_tables = st.integers(2, 12).flatmap(lambda m: st.integers(1, 4).flatmap(lambda p: st.tuples(
    hnp.arrays(float, (m, p), elements=st.floats(-1e6, 1e6, allow_nan=False, width=64)),
    st.sampled_from(SAMPLINGS), st.floats(-30, 30), st.integers(0, 2**32 - 1))))


@FUZZ
@given(finite_tables)
def test_any_finite_table_gives_a_finite_explanation(case):
    X, sampling, log_scale, seed = case
    X = X * 10.0**log_scale
    row = X[seed % len(X)]
    labels = (np.arange(len(X)) % 2) if sampling == "entropy" else None
    exp = explain(row=row, training_data=X, sampling=sampling, training_labels=labels, random_state=seed,
                  num_samples=30)
    assert_finite_explanation(exp)
    again = explain(row=row, training_data=X, sampling=sampling, training_labels=labels, random_state=seed,
                    num_samples=30)
    np.testing.assert_array_equal(exp.extra["inputs"], again.extra["inputs"])   # same seed, same rows


@FUZZ
@given(st.data())
def test_binned_samples_stay_in_the_drawn_bins(data):
    m = data.draw(st.integers(4, 40))
    X = data.draw(hnp.arrays(float, (m, 2), elements=st.floats(-100, 100, allow_nan=False)))
    sampling = data.draw(st.sampled_from(["quartile", "decile", "entropy"]))
    sampler = TabularSampler.fit(X, sampling=sampling, training_labels=np.arange(m) % 3)
    Z, inputs = sampler.sample(X[0], 50, random_state=data.draw(st.integers(0, 100)))
    assert np.all(np.isfinite(inputs))
    lo = np.array([X[:, j].min() for j in range(2)])
    hi = np.array([X[:, j].max() for j in range(2)])
    assert np.all((inputs[1:] >= lo) & (inputs[1:] <= hi))     # inside the training range
    assert np.all(Z[0] == 1) and set(np.unique(Z)) <= {0.0, 1.0}


@FUZZ
@given(hnp.arrays(float, st.integers(1, 60), elements=st.floats(-1e300, 1e300, allow_nan=False)),
       st.integers(1, 4))
def test_entropy_edges_are_sorted_and_inside_the_data(column, n_classes):
    labels = np.arange(len(column)) % n_classes
    edges = entropy_edges(column, labels)
    assert np.all(np.isfinite(edges)) and np.all(np.diff(edges) > 0)
    assert column.min() <= edges.min() and edges.max() <= column.max()
    assert len(edges) <= 7


# ------------------------------------------------------------ kernels


@FUZZ
@given(hnp.arrays(float, st.integers(1, 20), elements=st.floats(0, 1e308, allow_nan=False)),
       st.floats(1e-308, 1e308, allow_nan=False, allow_infinity=False))
def test_exponential_kernel_is_finite_in_0_1_and_equals_the_formula(d, width):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        w = exponential_kernel(d, width)
    assert np.all(np.isfinite(w)) and np.all((w >= 0) & (w <= 1))
    with np.errstate(over="ignore", under="ignore"):
        expected = np.exp(-0.5 * (d / width) ** 2)             # pi = exp(-(d / w)^2 / 2)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-300)
    assert exponential_kernel(np.zeros(1), width)[0] == 1.0


@pytest.mark.parametrize("width", [1e154, 1e200, 1e-154, 1e-200, 5e-324, 1.7e308])
def test_exponential_kernel_extreme_widths_by_hand(width):
    d = np.array([0.0, width, 2 * width if width < 1e308 else width])
    w = exponential_kernel(d, width)
    np.testing.assert_allclose(w[:2], [1.0, np.exp(-0.5)], rtol=1e-12)


@pytest.mark.parametrize("bad, error", [(np.array([-1.0]), ValueError), (np.array([np.nan]), ValueError),
                                        (np.array([np.inf]), ValueError), ("one", TypeError),
                                        (np.ones((2, 2, 2)), ValueError)])
def test_exponential_kernel_refuses_bad_distances(bad, error):
    with pytest.raises(error, match="distances"):
        exponential_kernel(bad, 1.0)


@FUZZ
@given(hnp.arrays(float, st.tuples(st.integers(1, 8), st.integers(1, 5)),
                  elements=st.floats(-1e300, 1e300, allow_nan=False, allow_subnormal=False)))
def test_distances_are_finite_and_match_the_scaled_formula(Z):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cos, euc = cosine_distance(Z), euclidean_distance(Z)
    assert np.all(np.isfinite(cos)) and np.all((cos >= 0) & (cos <= 2))
    assert np.all(np.isfinite(euc)) and euc[0] == 0.0
    # the same distances on the rows times a power of two (exact unless an entry
    # becomes subnormal): scale-equivariant
    s = 2.0**-20
    np.testing.assert_allclose(euclidean_distance(Z * s) / s, euc, rtol=1e-12)
    np.testing.assert_allclose(cosine_distance(Z * s), cos, atol=1e-12)


def test_tiny_rows_keep_their_distances():
    Z = np.array([[1e-200, 1e-200], [1e-200, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(cosine_distance(Z), [0.0, 1 - np.sqrt(0.5), 1.0], atol=1e-15)
    np.testing.assert_allclose(euclidean_distance(Z), [0.0, 1e-200, np.sqrt(2) * 1e-200], rtol=1e-15)


def test_distances_beyond_the_float_range_are_refused():
    with pytest.raises(ValueError, match="rescale"):
        euclidean_distance([[1e308, 1e308], [-1e308, -1e308]])


@pytest.mark.parametrize("fn", [cosine_distance, euclidean_distance])
@pytest.mark.parametrize("bad, error", [(np.ones(3), ValueError), (np.empty((0, 3)), ValueError),
                                        ([[1.0, np.nan]], ValueError), ("ab", TypeError), (None, ValueError)])
def test_distances_refuse_bad_input(fn, bad, error):
    with pytest.raises(error, match="Z"):
        fn(bad)


# ------------------------------------------------------------ mask samplers


@FUZZ
@given(st.integers(1, 40), st.integers(1, 300), st.sampled_from(sampling.SCHEMES), st.integers(0, 2**32 - 1))
def test_sample_masks_in_chunks_are_the_same_masks(d, n, scheme, seed):
    whole = sample_masks(d, n, random_state=seed, scheme=scheme)
    old = sampling.CHUNK_ENTRIES
    try:
        sampling.CHUNK_ENTRIES = 7                                  # many small chunks
        chunked = sample_masks(d, n, random_state=seed, scheme=scheme)
    finally:
        sampling.CHUNK_ENTRIES = old
    np.testing.assert_array_equal(whole, chunked)
    assert whole.shape == (n, d) and whole.dtype == bool and whole[0].all()
    if scheme == "uniform_count" and n > 1:
        assert np.all((~whole[1:]).sum(axis=1) >= 1)               # at least one word removed


@pytest.mark.parametrize("scheme", sampling.SCHEMES)
def test_sample_masks_matches_one_big_draw(scheme):
    """The chunked sampler gives what the one-shot formula gave before chunking."""
    d, n, seed = 13, 500, 7
    rng = np.random.default_rng(seed)
    if scheme == "bernoulli":
        expected = rng.integers(0, 2, size=(n, d)).astype(bool)
    else:
        removed = rng.integers(1, d + 1, size=n)
        expected = np.argsort(np.argsort(rng.random((n, d)), axis=1), axis=1) >= removed[:, None]
    expected[0] = True
    np.testing.assert_array_equal(sample_masks(d, n, random_state=seed, scheme=scheme), expected)


@pytest.mark.parametrize("call, error, words", [
    (lambda: sample_masks(0, 5), ValueError, "d must be >= 1"),
    (lambda: sample_masks(True, 5), TypeError, "d must be an int"),
    (lambda: sample_masks(3, 0), ValueError, "num_samples must be >= 1"),
    (lambda: sample_masks(3, 5.0), TypeError, "num_samples must be an int"),
    (lambda: sample_masks(3, 5, scheme="gauss"), ValueError, "scheme must be one of"),
    (lambda: sample_masks(3, 5, random_state="0"), TypeError, "random_state"),
    (lambda: all_masks(0), ValueError, "d must be >= 1"),
    (lambda: all_masks(21), ValueError, "d must be <= 20"),
    (lambda: all_masks(2.0), TypeError, "d must be an int"),
    (lambda: tabular_samples(TRAIN[0], strict_model, TRAIN, num_samples=True), TypeError, "num_samples"),
])
def test_samplers_refuse_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("scheme", sampling.SCHEMES)
def test_sample_masks_memory_stays_bounded(scheme):
    """4,000 features x 3,000 samples: the temporaries are chunks of 2^20 entries, not
    12M float64 keys and int64 ranks (about 300 MB drawn in one shot)."""
    import tracemalloc

    tracemalloc.start()
    masks = sample_masks(4_000, 3_000, random_state=0, scheme=scheme)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert masks.nbytes == 12_000_000
    assert peak < masks.nbytes + 40_000_000, peak / 1e6
