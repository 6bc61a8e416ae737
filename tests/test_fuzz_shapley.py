"""Fuzzing lime_core.shapley (issue 13): bad, empty, huge and extreme inputs, misbehaving models.

The rule checked everywhere: a correct result, or a ``ValueError``/``TypeError`` whose
message starts with the argument's name; never a silent NaN, never an unrelated exception,
never unbounded memory. Hand-written cases first, then hypothesis properties.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lime_core
from lime_core import shapley as S


def _linear(w, b=0.0):
    w = np.asarray(w, dtype=float)

    def model(rows):
        return np.asarray(rows, dtype=float) @ w + b

    return model


W3 = np.array([2.0, -1.0, 0.5])
X3 = np.array([1.0, 2.0, 3.0])
BG3 = np.zeros((4, 3))


def _proba(rows):
    z = np.asarray(rows, dtype=float) @ np.array([[1.0, -1.0], [0.5, 0.2], [-0.3, 0.7]])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------
# wrong types, shapes and values: a named ValueError / TypeError
# --------------------------------------------------------------------------

BAD_KERNEL_SHAP = [
    ({"model": None}, TypeError, "model"),
    ({"model": "f"}, TypeError, "model"),
    ({"x": "abc"}, TypeError, "x"),
    ({"x": [[1.0, 2.0], [3.0]]}, TypeError, "x"),
    ({"x": {"a": 1}}, TypeError, "x"),
    ({"x": np.ones((2, 2, 3))}, ValueError, "x"),
    ({"x": np.ones(0)}, ValueError, "x"),
    ({"x": np.ones((0, 3))}, ValueError, "x"),
    ({"x": np.ones((2, 0))}, ValueError, "x"),
    ({"x": np.array([1.0, np.nan, 0.0])}, ValueError, "x"),
    ({"x": np.array([[1.0, np.inf, 0.0]])}, ValueError, "x"),
    ({"baseline": "b"}, TypeError, "baseline"),
    ({"baseline": np.zeros((0, 3))}, ValueError, "baseline"),
    ({"baseline": np.zeros((4, 2))}, ValueError, "baseline"),
    ({"baseline": np.zeros((2, 4, 3))}, ValueError, "baseline"),
    ({"baseline": np.array([[0.0, np.nan, 0.0]])}, ValueError, "baseline"),
    ({"baseline": np.array([[0.0, -np.inf, 0.0]])}, ValueError, "baseline"),
    ({"num_samples": 0}, ValueError, "num_samples"),
    ({"num_samples": -5}, ValueError, "num_samples"),
    ({"num_samples": 1.5}, TypeError, "num_samples"),
    ({"num_samples": True}, TypeError, "num_samples"),
    ({"num_samples": "100"}, TypeError, "num_samples"),
    ({"random_state": "seed"}, TypeError, "random_state"),
    ({"random_state": -1}, ValueError, "random_state"),
    ({"random_state": 1.5}, TypeError, "random_state"),
    ({"target": -1}, ValueError, "target"),
    ({"target": "a"}, TypeError, "target"),
    ({"target": 1.0}, TypeError, "target"),
    ({"target": 1}, ValueError, "target"),  # the linear model has one output
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"num_bootstrap": 1}, ValueError, "num_bootstrap"),
    ({"num_bootstrap": None}, TypeError, "num_bootstrap"),
    ({"link": "probit"}, ValueError, "link"),
    ({"link": None}, ValueError, "link"),
    ({"link": "logit"}, ValueError, "link"),  # scores outside (0, 1)
]


@pytest.mark.parametrize(("change", "error", "name"), BAD_KERNEL_SHAP,
                         ids=[f"{next(iter(c))}={next(iter(c.values()))!r:.20}"
                              for c, _, _ in BAD_KERNEL_SHAP])
def test_kernel_shap_rejects_bad_arguments_by_name(change, error, name):
    args = {"model": _linear(W3), "x": X3, "baseline": BG3, "num_samples": 20,
            "random_state": 0, **change}
    with pytest.raises(error, match=f"^{name}"):
        lime_core.kernel_shap(**args)


def test_target_out_of_range_for_a_multi_output_model_is_named():
    with pytest.raises(ValueError, match=r"^target must be in \[0, 1\]"):
        lime_core.kernel_shap(_proba, X3, BG3, 20, random_state=0, target=2)


BAD_GAME = [
    ({"value_fn": None}, TypeError, "value_fn"),
    ({"d": 0}, ValueError, "d"),
    ({"d": -2}, ValueError, "d"),
    ({"d": 2.5}, TypeError, "d"),
    ({"d": True}, TypeError, "d"),
    ({"d": "3"}, TypeError, "d"),
    ({"d": 10**6}, ValueError, "d"),
    ({"num_samples": 0}, ValueError, "num_samples"),
    ({"num_samples": 10**9, "d": 500}, ValueError, "num_samples"),
    ({"num_bootstrap": 0}, ValueError, "num_bootstrap"),
    ({"random_state": object()}, TypeError, "random_state"),
]


@pytest.mark.parametrize(("change", "error", "name"), BAD_GAME)
def test_kernel_shap_game_rejects_bad_arguments_by_name(change, error, name):
    calls = []

    def value_fn(masks):
        calls.append(masks.shape)
        return masks.sum(axis=1).astype(float)

    args = {"value_fn": value_fn, "d": 4, "num_samples": 10, "random_state": 0, **change}
    with pytest.raises(error, match=f"^{name}"):
        S.kernel_shap_game(**args)
    assert calls == []  # refused before any work


@pytest.mark.parametrize("value_fn", [
    lambda m: np.zeros(len(m) + 1),           # wrong length
    lambda m: np.zeros((len(m), 2)),           # two values per coalition
    lambda m: np.full(len(m), np.nan),         # NaN
    lambda m: np.where(m.all(axis=1), np.inf, 0.0),  # inf for the full coalition
    lambda m: ["a"] * len(m),                  # words
    lambda m: None,                            # nothing
])
def test_misbehaving_value_fn_is_named(value_fn):
    for method in (lambda: S.kernel_shap_game(value_fn, 4, 10, random_state=0),
                   lambda: S.shapley_exact(value_fn, 4),
                   lambda: S.shapley_permutation(value_fn, 4, 4, random_state=0)):
        with pytest.raises(ValueError, match="^value_fn"):
            method()


@pytest.mark.parametrize(("model", "error"), [
    (lambda rows: np.full(len(rows), np.nan), ValueError),
    (lambda rows: np.where(rows[:, 0] > 0.5, np.inf, 0.0), ValueError),
    (lambda rows: np.zeros(len(rows) + 1), ValueError),
    (lambda rows: np.zeros((len(rows), 2, 2)), ValueError),
    (lambda rows: np.zeros((len(rows), 0)), ValueError),
    (lambda rows: ["x"] * len(rows), TypeError),
    (lambda rows: None, ValueError),
    (lambda rows: 3.0, ValueError),
])
def test_misbehaving_model_is_named(model, error):
    with pytest.raises(error, match="^model"):
        lime_core.kernel_shap(model, X3, BG3, 20, random_state=0)
    with pytest.raises(error, match="^model"):
        lime_core.kernel_shap(model, np.stack([X3, X3]), BG3, 20, random_state=0)


def test_model_that_changes_its_number_of_outputs_is_named():
    calls = []

    def fickle(rows):
        calls.append(1)
        return np.zeros((len(rows), 2 if len(calls) == 1 else 3))

    with pytest.raises(ValueError, match="^model must return the same number of outputs"):
        lime_core.kernel_shap(fickle, np.stack([X3, X3]), BG3, 20, random_state=0)


def test_an_exception_of_the_model_is_its_own():
    class Broken(RuntimeError):
        pass

    def model(rows):
        raise Broken("the model's own failure")

    with pytest.raises(Broken, match="the model's own failure"):
        lime_core.kernel_shap(model, X3, BG3, 20, random_state=0)


def test_attribution_map_of_all_outputs_asks_for_a_target():
    res = lime_core.kernel_shap(_proba, X3, BG3, 20, random_state=0)
    assert res.values.shape == (3, 2)
    with pytest.raises(ValueError, match="^target must be given"):
        lime_core.attribution_map(res, _proba, X3)
    with pytest.raises(ValueError, match="^target must be given"):
        lime_core.attribution_map(lime_core.kernel_shap, _proba, X3, baseline=BG3, num_samples=20)
    one = lime_core.attribution_map(lime_core.kernel_shap, _proba, X3, target=1, baseline=BG3,
                                    num_samples=20)
    np.testing.assert_allclose(one, res.values[:, 1], atol=1e-12)


def test_logit_link_refuses_probabilities_of_exactly_0_or_1():
    def saturated(rows):
        p = (np.asarray(rows)[:, 0] > 0.5).astype(float)
        return np.column_stack([1 - p, p])

    with pytest.raises(ValueError, match="^link='logit' needs model outputs strictly"):
        lime_core.kernel_shap(saturated, X3, BG3, 20, random_state=0, link="logit")


def test_weights_reject_bad_sizes_by_name():
    for fn, top in ((S.shapley_kernel_weight, 3), (S.shapley_weight, 2)):
        with pytest.raises(ValueError, match="^size must be between"):
            fn(top + 1, 3)
        with pytest.raises(ValueError, match="^size must be between"):
            fn(-1, 3)
        with pytest.raises(ValueError, match="^size must hold whole numbers"):
            fn(1.5, 3)
        with pytest.raises(ValueError, match="^size contains NaN"):
            fn(np.nan, 3)
        with pytest.raises(TypeError, match="^size must be array-like"):
            fn("a", 3)
        with pytest.raises(ValueError, match="^d must be >= 1"):
            fn(0, 0)
    with pytest.raises(ValueError, match="^d must be <= 20"):
        S.shapley_exact(lambda m: m.sum(1), 21)


# --------------------------------------------------------------------------
# empty, single and huge inputs; extreme magnitudes
# --------------------------------------------------------------------------


def test_one_feature_gets_the_whole_gap():
    res = lime_core.kernel_shap(lambda r: 3.0 * r[:, 0] + 1, np.array([2.0]),
                                np.array([[0.0], [1.0]]), 50, random_state=0)
    np.testing.assert_allclose(res.values, [3.0 * (2.0 - 0.5)])
    np.testing.assert_array_equal(res.stderr, [0.0])
    game = S.kernel_shap_game(lambda m: 5.0 * m[:, 0], 1, 7, random_state=0)
    np.testing.assert_allclose(game.values, [5.0])
    assert S.shapley_kernel_weight([0, 1], 1).tolist() == [math.inf, math.inf]


def test_one_baseline_row_given_flat_and_a_row_of_ints():
    res = lime_core.kernel_shap(_linear(W3), [1, 2, 3], [0, 0, 0], 20, random_state=0)
    np.testing.assert_allclose(res.values, W3 * X3, atol=1e-12)


def test_shapley_kernel_weight_does_not_overflow_for_large_d():
    # C(2000, 1000) ~ 1e600: the weight is below the smallest float, 0 and not NaN/inf
    assert S.shapley_kernel_weight(1000, 2000) == 0.0
    w = S.shapley_kernel_weight(np.arange(1, 2000), 2000)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    # near the ends the weight is representable and right: pi(1) = (d-1) / (d * 1 * (d-1))
    assert w[0] == pytest.approx(1 / 2000, rel=1e-12)
    assert w[2] == pytest.approx(1999 / (math.comb(2000, 3) * 3 * 1997), rel=1e-10)
    big = S.shapley_kernel_weight(np.array([1, 5 * 10**5]), 10**6)
    assert big[0] == pytest.approx(1e-6, rel=1e-9) and big[1] == 0.0
    assert np.all(np.isfinite(S.shapley_weight(np.arange(0, 3000, 7), 3000)))


def test_huge_d_is_refused_at_once_without_calling_the_model():
    calls = []

    def model(rows):
        calls.append(len(rows))
        return rows.sum(axis=1)

    with pytest.raises(ValueError, match="^d must be <= 1024"):
        lime_core.kernel_shap(model, np.ones(5000), np.zeros((1, 5000)))
    with pytest.raises(ValueError, match="^num_samples must be <="):
        lime_core.kernel_shap(model, np.ones(1000), np.zeros((1, 1000)), num_samples=10**7)
    assert calls == []


def test_largest_d_with_a_small_budget_is_fast_and_efficient():
    rng = np.random.default_rng(0)
    d = 1024
    w = rng.normal(size=d)
    res = lime_core.kernel_shap(_linear(w), np.ones(d), np.zeros((1, d)), 60, random_state=0,
                                num_bootstrap=10)
    assert np.all(np.isfinite(res.values)) and np.all(np.isfinite(res.stderr))
    assert res.full_value == pytest.approx(w.sum(), abs=1e-9)  # efficiency holds exactly
    assert res.num_model_rows == 62


def test_permutation_sampling_refuses_unbounded_orders():
    with pytest.raises(ValueError, match="^num_permutations must be <="):
        S.shapley_permutation(lambda m: m.sum(1), 100, 10**8, random_state=0)


def test_permutation_sampling_with_many_players_builds_masks_in_blocks():
    d = 2000  # one call would hold 2 * 1999 * 2000 mask cells
    w = np.random.default_rng(1).normal(size=d)
    res = S.shapley_permutation(lambda m: m @ w, d, 2, random_state=0)
    np.testing.assert_allclose(res.values, w, atol=1e-10)  # a linear game: every order exact
    assert res.model_calls > 1 and res.num_coalitions == 2 + 2 * (d - 1)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_extreme_magnitudes_give_finite_exact_values(scale):
    res = lime_core.kernel_shap(_linear(W3), X3 * scale, BG3, 20, random_state=0)
    np.testing.assert_allclose(res.values, W3 * X3 * scale, rtol=1e-9)
    assert np.all(np.isfinite(res.stderr))


def test_model_outputs_that_overflow_are_named():
    def overflowing(rows):
        with np.errstate(over="ignore"):
            return rows @ W3 * 1e300

    with pytest.raises(ValueError, match="^model returned NaN or infinite"):
        lime_core.kernel_shap(overflowing, X3 * 1e300, BG3, 20, random_state=0)


def test_memory_stays_bounded_in_the_number_of_samples():
    # the old bootstrap held replicates x coalitions x features floats:
    # 100 x 20000 x 49 x 8 bytes = 784 MB here; now a few (d x d) matrices per group
    rng = np.random.default_rng(0)
    d = 50
    w = rng.normal(size=d)
    tracemalloc.start()
    try:
        res = lime_core.kernel_shap(_linear(w), rng.normal(size=d), rng.normal(size=(2, d)),
                                    20_000, random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6, f"peak {peak / 1e6:.0f} MB"
    assert res.num_coalitions == 20_002
    assert np.all(res.stderr > 0) and np.all(res.stderr < 1e-6)  # a linear model: exact fits


def test_bootstrap_with_groups_is_calibrated():
    # more draws than groups: the stderr still tracks the spread of the estimates
    rng = np.random.default_rng(2)
    d = 14
    W = rng.normal(size=(d, d))
    bg, x = rng.normal(size=(5, d)), rng.normal(size=d)

    def model(rows):
        return np.tanh(rows @ W).sum(axis=1)

    exact = S.shapley_exact(S.marginal_value_fn(model, x, bg), d).values
    z = []
    for seed in range(6):
        res = lime_core.kernel_shap(model, x, bg, 1500, random_state=seed)
        z.append((res.values - exact) / res.stderr)
    assert 0.5 < np.std(np.concatenate(z)) < 2.0


# --------------------------------------------------------------------------
# properties (hypothesis)
# --------------------------------------------------------------------------

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(d=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_full_budget_kernel_shap_is_the_exact_shapley_value(d, seed):
    table = np.random.default_rng(seed).normal(size=2**d) * 10.0 ** np.random.default_rng(
        seed).integers(-3, 4)
    game = S.game_from_table(table, range(d))
    res = S.kernel_shap_game(game, d, 2**d, random_state=seed)
    np.testing.assert_allclose(res.values, S.shapley_exact(game, d).values,
                               atol=1e-9 * np.abs(table).max())
    assert np.all(res.stderr == 0)


@FAST
@given(n=st.integers(1, 3), d=st.integers(1, 7), k=st.integers(1, 3), one_row=st.booleans(),
       seed=st.integers(0, 2**16))
def test_linear_models_any_rows_and_outputs(n, d, k, one_row, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, k))
    X = rng.normal(size=(n, d))
    bg = rng.normal(size=(int(rng.integers(1, 4)), d))

    def model(rows):
        out = rows @ W
        return out[:, 0] if k == 1 else out

    x = X[0] if one_row else X
    res = lime_core.kernel_shap(model, x, bg, 40, random_state=seed, num_bootstrap=5)
    want = (X[:, :, None] * W[None]) - (bg.mean(axis=0)[:, None] * W)[None]  # (n, d, k)
    if k == 1:
        want = want[..., 0]
    if one_row:
        want = want[0]
    assert res.values.shape == want.shape == res.stderr.shape
    np.testing.assert_allclose(res.values, want, atol=1e-9)
    assert np.all(np.isfinite(res.stderr))
    again = lime_core.kernel_shap(model, x, bg, 40, random_state=seed, num_bootstrap=5)
    np.testing.assert_array_equal(res.values, again.values)  # same seed, same bits
    np.testing.assert_array_equal(res.stderr, again.stderr)


@FAST
@given(d=st.integers(2, 14), budget=st.integers(1, 300), seed=st.integers(0, 2**16))
def test_efficiency_holds_at_every_budget_and_values_are_finite(d, budget, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    x, bg = rng.normal(size=d), rng.normal(size=(3, d))

    def model(rows):
        return np.tanh(rows @ W).sum(axis=1)

    res = lime_core.kernel_shap(model, x, bg, budget, random_state=seed, num_bootstrap=4)
    assert np.all(np.isfinite(res.values)) and np.all(np.isfinite(res.stderr))
    assert res.full_value == pytest.approx(float(model(x[None])[0]), abs=1e-8)


@FAST
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=4),
       bg_shape=st.lists(st.integers(0, 3), min_size=0, max_size=3))
def test_any_shapes_give_a_result_or_a_named_error(shape, bg_shape):
    x = np.ones(shape)
    bg = np.zeros(bg_shape)
    try:
        res = lime_core.kernel_shap(lambda r: r.sum(axis=1), x, bg, 10, random_state=0,
                                    num_bootstrap=2)
    except (ValueError, TypeError) as err:
        assert str(err).split()[0] in ("x", "baseline"), str(err)
    else:
        assert res.values.shape == x.shape
        assert np.all(np.isfinite(res.values))
