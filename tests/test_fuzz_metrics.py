"""Metrics, SP-LIME pick, sanity checks and the attribution contract under stress.

NaN / inf / empty / wrong-shape maps must give a ValueError or TypeError naming the
argument; finite maps of any magnitude (1e-300 .. 1.8e308) must give finite answers
that agree with closed forms: Jaccard of identical and disjoint top sets, the deletion
curve of a linear model, IoU of boxes, the greedy pick's scale invariance.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lime_core as lc
from lime_core.pick import coverage, global_importance

FAST = settings(max_examples=40, deadline=None, derandomize=True)

# finite floats of every magnitude, the extremes included
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1.7e308, max_value=1.7e308)
magnitude = st.sampled_from([1e-300, 1e-150, 1.0, 1e150, 1e300, 1.7e308])


# --------------------------------------------------------------------------
# stability
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_stability_refuses_non_finite_maps_by_name(bad):
    # it used to report Jaccard 1.0 for all-NaN maps
    def explain(seed):
        a = np.arange(5.0)
        a[seed % 5] = bad
        return a

    with pytest.raises(ValueError, match=r"^explain_fn\(0\) returned .*NaN or infinite"):
        lc.stability(explain, [0, 1])
    with pytest.raises(ValueError, match="^explain_fn"):
        lc.stability(lambda seed: np.full(4, np.nan), [0, 1], k=2)


@pytest.mark.parametrize("seeds, error, pattern", [
    (None, TypeError, "^seeds"), ("01", TypeError, "^seeds"), (5, TypeError, "^seeds"),
    ([0], ValueError, "^seeds"), ([0, 1.5], TypeError, r"^seeds\[1\]"),
    ([0, -1], ValueError, r"^seeds\[1\]"), ([0, float("nan")], TypeError, r"^seeds\[1\]"),
])
def test_stability_names_bad_seeds(seeds, error, pattern):
    with pytest.raises(error, match=pattern):
        lc.stability(lambda s: np.arange(4.0), seeds, k=2)


@pytest.mark.parametrize("returned, error, pattern", [
    (None, TypeError, "^explain_fn"), ("abc", TypeError, "^explain_fn"),
    ({}, TypeError, "^explain_fn"), (np.array([]), ValueError, "^explain_fn"),
    (np.array([1.0]), ValueError, "^k must be <= 1, the number of features explain_fn"),
])
def test_stability_names_bad_maps(returned, error, pattern):
    with pytest.raises(error, match=pattern):
        lc.stability(lambda s: returned, [0, 1], k=2)


def test_stability_names_segments_of_the_wrong_shape():
    with pytest.raises(ValueError, match="^segments"):
        lc.stability(lambda s: np.ones((4, 4)), [0, 1], k=1, segments=np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="^segments"):
        lc.stability(lambda s: np.ones((4, 4)), [0, 1], k=1, segments=np.zeros((4, 4)))


@FAST
@given(a=hnp.arrays(float, st.integers(3, 12), elements=finite), k=st.integers(1, 3))
def test_stability_of_a_fixed_map_is_one_at_any_magnitude(a, k):
    res = lc.stability(lambda seed: a, [0, 1, 2], k=k)
    assert res.jaccard == 1.0
    assert np.all(res.pairwise_jaccard == 1.0)


@FAST
@given(scale=magnitude, d=st.integers(4, 10))
def test_stability_of_disjoint_top_sets_is_zero(scale, d):
    # seed s puts its two largest weights on features 2s, 2s + 1: no overlap between seeds
    def explain(seed):
        a = np.zeros(d)
        a[[2 * seed, 2 * seed + 1]] = [scale, scale / 2]
        return a

    res = lc.stability(explain, [0, 1], k=2)
    assert res.jaccard == 0.0 and np.isfinite(res.kendall_tau)


# --------------------------------------------------------------------------
# deletion / insertion / faithfulness
# --------------------------------------------------------------------------

W = np.array([3.0, -1.0, 0.5, 2.0])


def linear(rows):
    return np.asarray(rows, dtype=float) @ W


@pytest.mark.parametrize("fn", [lc.deletion_curve, lc.insertion_curve,
                                lc.faithfulness_correlation])
@pytest.mark.parametrize("arg, value, error, pattern", [
    ("attribution", np.array([np.nan, 1.0, 0.0, 0.0]), ValueError, "^attribution"),
    ("attribution", np.array([np.inf, 1.0, 0.0, 0.0]), ValueError, "^attribution"),
    ("attribution", "abcd", TypeError, "^attribution"),
    ("attribution", {"a": 1}, TypeError, "^attribution"),
    ("attribution", np.ones(3), ValueError, "^attribution"),
    ("x", np.array([np.nan, 1.0, 1.0, 1.0]), ValueError, "^x"),
    ("x", np.array([object()] * 4), TypeError, "^x"),
    ("x", np.zeros(0), ValueError, "^x"),
    ("baseline", float("nan"), ValueError, "^baseline"),
    ("baseline", object(), TypeError, "^baseline"),
    ("baseline", np.ones(3), ValueError, "^baseline"),
])
def test_curves_name_their_bad_argument(fn, arg, value, error, pattern):
    kwargs = dict(model=linear, x=np.ones(4), attribution=W, baseline=0.0)
    kwargs[arg] = value
    with pytest.raises(error, match=pattern):
        fn(**kwargs)


def test_faithfulness_refuses_a_subset_table_too_big_for_memory():
    with pytest.raises(ValueError, match="^num_subsets must be at most"):
        lc.faithfulness_correlation(linear, np.ones(4), W, num_subsets=10**30)


@FAST
@given(x_scale=st.sampled_from([1e-150, 1.0, 1e150]),
       attribution=hnp.arrays(float, 4, elements=finite))
def test_deletion_curve_of_a_linear_model_is_its_partial_sums(x_scale, attribution):
    x = np.array([1.0, 2.0, 3.0, 4.0]) * x_scale
    res = lc.deletion_curve(linear, x, attribution, steps=4, baseline=0.0)
    assert np.all(np.isfinite(res.scores)) and np.isfinite(res.auc)
    # removing units in res.order from f(x) = sum_j w_j x_j: the remaining terms
    contributions = W * x
    expected = [contributions[res.order[t:]].sum() for t in range(5)]
    np.testing.assert_allclose(res.scores, expected, rtol=1e-12, atol=1e-12 * x_scale)
    # the order follows the attribution, largest first (ties: lowest index)
    assert list(res.order) == list(np.argsort(-attribution, kind="stable"))


@FAST
@given(scale=st.sampled_from([1e-150, 1.0, 1e100, 1e150]))
def test_faithfulness_of_the_exact_attribution_is_one_at_any_scale(scale):
    x = np.array([1.0, 2.0, 3.0, 4.0]) * scale
    res = lc.faithfulness_correlation(linear, x, W * x, subset_size=2, num_subsets=12,
                                      random_state=0)
    assert res.correlation == pytest.approx(1.0, abs=1e-9)


# --------------------------------------------------------------------------
# iou, pointing game, pixel_map, recall@k
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [lc.iou, lc.pointing_game])
@pytest.mark.parametrize("attribution, error", [
    (np.full((4, 4), np.nan), ValueError), (np.zeros((0, 4)), ValueError),
    (np.zeros((4, 0, 3)), ValueError), (np.ones(16), ValueError), ("map", TypeError),
    (None, TypeError), ({}, TypeError), (np.array([[object()]]), TypeError),
])
def test_localisation_names_a_bad_attribution(fn, attribution, error):
    with pytest.raises(error, match="^attribution"):
        fn(attribution, (0, 0, 2, 2))


@FAST
@given(a=hnp.arrays(float, (4, 5), elements=finite),
       box=st.tuples(st.integers(0, 3), st.integers(0, 4)).flatmap(
           lambda rc: st.tuples(st.just(rc[0]), st.just(rc[1]), st.integers(rc[0] + 1, 4),
                                st.integers(rc[1] + 1, 5))))
def test_iou_and_pointing_game_are_bounded_for_any_magnitude(a, box):
    value = lc.iou(a, box)
    assert 0.0 <= value <= 1.0
    hit = lc.pointing_game(a, box, tolerance=10**30)  # a huge tolerance covers the image
    assert hit is True
    r0, c0, r1, c1 = box
    row, col = np.unravel_index(np.argmax(a), a.shape)
    assert lc.pointing_game(a, box) == bool(r0 <= row < r1 and c0 <= col < c1)


@pytest.mark.parametrize("scale", [1e-300, 1.0, 1e300])
def test_iou_of_the_box_itself_is_one(scale):
    a = np.zeros((6, 6))
    a[1:4, 2:5] = scale
    assert lc.iou(a, (1, 2, 4, 5)) == 1.0
    assert lc.iou(a, (1, 2, 4, 5), threshold=scale / 2) == 1.0


@pytest.mark.parametrize("attribution, true_features, error, pattern", [
    ([], [0], ValueError, "^attribution"), ({}, [0], ValueError, "^attribution"),
    (np.zeros(0), [0], ValueError, "^attribution"), (None, [0], TypeError, "^attribution"),
    (np.array([np.nan, 1.0]), [0], ValueError, "^attribution"),
    (np.ones(3), None, TypeError, "^true_features"), (np.ones(3), 7, TypeError, "^true_features"),
    (np.ones(3), [], ValueError, "^true_features"), (np.ones(3), [5], ValueError, "^true_features"),
    (np.ones(3), [0.5], ValueError, "^true_features"),
])
def test_recall_at_k_names_its_bad_argument(attribution, true_features, error, pattern):
    with pytest.raises(error, match=pattern):
        lc.recall_at_k(attribution, true_features)


@FAST
@given(a=hnp.arrays(float, 6, elements=finite), gold=st.sets(st.integers(0, 5), min_size=1))
def test_recall_at_k_is_a_fraction_for_any_magnitude(a, gold):
    value = lc.recall_at_k(a, sorted(gold))
    assert 0.0 <= value <= 1.0
    expected = len(set(np.argsort(-np.abs(a), kind="stable")[:len(gold)][
        np.abs(a[np.argsort(-np.abs(a), kind="stable")[:len(gold)]]) > 0].tolist()) & gold)
    assert value == expected / len(gold)


# --------------------------------------------------------------------------
# ROAR
# --------------------------------------------------------------------------


def test_roar_refuses_continuous_labels_by_name():
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="^y_train must hold class labels"):
        lc.roar(lambda X, y: None, X, y + 0.5, X, y, X, X)
    with pytest.raises(TypeError, match="^y_test"):
        lc.roar(lambda X, y: None, X, y, X, None, X, X)


# --------------------------------------------------------------------------
# submodular pick
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1e154, 1e200, 1e308, 1.7e308, 5e-324])
def test_submodular_pick_is_finite_near_the_float_limits(value):
    # the column sums of |W| overflowed to inf (and coverage_fraction to NaN)
    Wm = np.array([[value, 0, value], [value, value, 0], [0, 0, value]])
    res = lc.submodular_pick(Wm, 2)
    assert np.all(np.isfinite(res.importance)) and np.isfinite(res.coverage)
    assert list(res.indices) == [0, 1]
    # I = sqrt(value) * (sqrt 2, 1, sqrt 2): the same numbers as for value 1, scaled
    np.testing.assert_allclose(res.importance / np.sqrt(value), [np.sqrt(2), 1, np.sqrt(2)],
                               rtol=1e-12)
    assert res.coverage_fraction == 1.0


@FAST
@given(Wm=hnp.arrays(float, st.tuples(st.integers(1, 6), st.integers(1, 5)),
                     elements=st.integers(0, 5).map(float)),
       k=st.integers(-500, 500), budget=st.integers(1, 6))
def test_submodular_pick_is_scale_invariant_and_exact_at_any_magnitude(Wm, k, budget):
    budget = min(budget, Wm.shape[0])
    base = lc.submodular_pick(Wm, budget)
    scaled = lc.submodular_pick(Wm * 4.0**k, budget)  # powers of 4: sqrt scales exactly
    assert list(scaled.indices) == list(base.indices)
    np.testing.assert_array_equal(scaled.importance, base.importance * 2.0**k)
    assert np.isfinite(scaled.coverage)
    # greedy is optimal for one pick and never below (1 - 1/e) of the best set
    imp = global_importance(Wm)
    best = max(coverage(Wm, imp, list(V)) for V in itertools.combinations(
        range(Wm.shape[0]), budget))
    assert base.coverage >= (1 - 1 / np.e) * best - 1e-12
    if budget == 1:
        assert base.coverage == pytest.approx(best)


@pytest.mark.parametrize("matrix, error", [
    (np.array([[np.nan, 1.0]]), ValueError), (np.array([[np.inf, 1.0]]), ValueError),
    (np.zeros((0, 3)), ValueError), (np.zeros((2, 0)), ValueError), (np.ones(3), ValueError),
    ("W", TypeError), (None, TypeError), (np.array([[object()]]), TypeError),
])
def test_submodular_pick_names_a_bad_matrix(matrix, error):
    with pytest.raises(error, match="^explanations_or_matrix"):
        lc.submodular_pick(matrix, 1)


def test_submodular_pick_refuses_explanations_with_nan_weights():
    exp = lc.explain_tabular(np.zeros(3), lambda X: np.stack([1 - 1 / (1 + np.exp(-X[:, 0])),
                                                               1 / (1 + np.exp(-X[:, 0]))], 1),
                             np.random.default_rng(0).normal(size=(20, 3)), num_samples=50,
                             target=1, random_state=0)
    fit = exp.fits[1]
    fit.coef[0] = np.nan
    with pytest.raises(ValueError, match=r"^explanations must have finite weights"):
        lc.submodular_pick([exp, exp], 1)


# --------------------------------------------------------------------------
# attribution_map and the sanity checks
# --------------------------------------------------------------------------


def _net():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def test_attribution_map_refuses_a_method_that_returns_nan():
    import torch

    x = torch.ones(1, 3)
    with pytest.raises(ValueError, match=r"^method nan_method returned a map with NaN"):
        def nan_method(model, x, *, target):
            return torch.full_like(x, float("nan"))

        lc.attribution_map(nan_method, _net(), x, target=0)
    with pytest.raises(TypeError, match="^attribution_fn must return an array of numbers"):
        lc.attribution_map(lambda model, x, *, target: ["a", "b", "c"], _net(), x, target=0)


def test_sanity_checks_refuse_a_nan_model_by_name():
    import torch
    from test_fuzz_api import _nan_net  # the same NaN-emitting network as the API walk

    for fn in (lc.cascading_randomization, lc.independent_randomization):
        with pytest.raises(ValueError, match="model"):
            fn(_nan_net(), torch.ones(1, 3), target=0, attribution_fn=lc.saliency, random_state=0)


def test_sanity_checks_take_any_int_seed():
    import torch

    for seed in (0, 2**63 - 1, 2**63, 10**30):
        res = lc.cascading_randomization(_net(), torch.ones(1, 3), target=0,
                                         attribution_fn=lc.gradient_times_input,
                                         random_state=seed)
        assert np.all(np.isfinite(res.spearman))
    # seeds below 2^63 are used as they are: same seed, same randomisation
    a = lc.independent_randomization(_net(), torch.ones(1, 3), target=0,
                                     attribution_fn=lc.saliency, random_state=7)
    b = lc.independent_randomization(_net(), torch.ones(1, 3), target=0,
                                     attribution_fn=lc.saliency, random_state=7)
    np.testing.assert_array_equal(a.spearman, b.spearman)


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(model=None), TypeError, "^model"), (dict(model=lambda b: b), TypeError, "^model"),
    (dict(x="x"), TypeError, "^x"), (dict(x=None), TypeError, "^x"),
    (dict(attribution_fn=None), TypeError, "^attribution_fn"),
    (dict(attribution_fn={}), TypeError, "^attribution_fn"),
    (dict(attribution_fn={"a": 3}), TypeError, r"^attribution_fn\['a'\]"),
    (dict(layers=["nope"]), ValueError, "^layers"), (dict(layers=[]), ValueError, "^layers"),
    (dict(layers="0"), TypeError, "^layers"), (dict(layers=[0]), TypeError, "^layers"),
    (dict(target=-1), ValueError, "^target"), (dict(target="0"), TypeError, "^target"),
    (dict(target=1.0), TypeError, "^target"),
    (dict(random_state=-1), ValueError, "^random_state"),
    (dict(random_state="0"), TypeError, "^random_state"),
])
def test_sanity_checks_name_their_bad_argument(kwargs, error, pattern):
    import torch

    args = dict(model=_net(), x=torch.ones(1, 3), target=0, attribution_fn=lc.saliency,
                random_state=0)
    args.update(kwargs)
    with pytest.raises(error, match=pattern):
        lc.cascading_randomization(**args)
