"""Tests for lime_core.shapley: exact coalition formula, permutation sampling, toy games."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lime_core import shapley as S


def _table_game(table):
    d = int(np.log2(len(table)))
    return S.game_from_table(np.asarray(table, float), [f"p{i}" for i in range(d)]), d


def _shapley_by_orders(value_fn, d):
    """Brute force over all d! orders: the definition, independent of the coalition formula."""
    phi = np.zeros(d)
    orders = list(itertools.permutations(range(d)))
    for order in orders:
        mask = np.zeros(d, bool)
        prev = value_fn(mask[None])[0]
        for i in order:
            mask[i] = True
            cur = value_fn(mask[None])[0]
            phi[i] += cur - prev
            prev = cur
    return phi / len(orders)


games = st.integers(min_value=1, max_value=6).flatmap(
    lambda d: st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=2**d,
                       max_size=2**d)
)


@settings(max_examples=30, deadline=None)
@given(games)
def test_exact_is_efficient_and_matches_the_order_definition(table):
    value_fn, d = _table_game(table)
    res = S.shapley_exact(value_fn, d)
    assert res.values.sum() == pytest.approx(table[-1] - table[0], abs=1e-9)
    assert res.base_value == pytest.approx(table[0])
    assert res.full_value == pytest.approx(table[-1], abs=1e-9)
    if d <= 4:
        np.testing.assert_allclose(res.values, _shapley_by_orders(value_fn, d), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(games, st.data())
def test_exact_dummy_and_symmetry(table, data):
    value_fn, d = _table_game(table)
    # add a dummy player d: v'(S) = v(S without d)
    def with_dummy(masks):
        return value_fn(masks[:, :d])
    res = S.shapley_exact(with_dummy, d + 1)
    assert res.values[d] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(res.values[:d], S.shapley_exact(value_fn, d).values, atol=1e-9)
    # symmetric players: v depends on players 0 and 1 only through their count
    if d >= 2:
        def symmetric(masks):
            swapped = masks.copy()
            swapped[:, [0, 1]] = masks[:, [1, 0]]
            return value_fn(masks) + value_fn(swapped)
        phi = S.shapley_exact(symmetric, d).values
        assert phi[0] == pytest.approx(phi[1], abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5).flatmap(lambda d: st.tuples(
    st.lists(st.floats(-5, 5, width=32), min_size=2**d, max_size=2**d),
    st.lists(st.floats(-5, 5, width=32), min_size=2**d, max_size=2**d),
    st.floats(-3, 3, width=32))))
def test_exact_is_linear(args):
    t1, t2, c = args
    v1, d = _table_game(t1)
    v2, _ = _table_game(t2)
    combined = S.shapley_exact(lambda m: c * v1(m) + v2(m), d).values
    separate = c * S.shapley_exact(v1, d).values + S.shapley_exact(v2, d).values
    np.testing.assert_allclose(combined, separate, atol=1e-8)


def test_exact_calls_value_fn_once_on_every_coalition():
    calls = []

    def v(masks):
        calls.append(masks.copy())
        return masks.sum(axis=1) ** 2.0

    res = S.shapley_exact(v, 5)
    assert len(calls) == 1 and calls[0].shape == (32, 5)
    assert len({row.tobytes() for row in calls[0]}) == 32
    assert res.num_coalitions == 32
    # v = |S|^2 is symmetric: everyone gets v(N)/d
    np.testing.assert_allclose(res.values, 25 / 5)


def test_exact_equals_closed_form_of_linear_model():
    rng = np.random.default_rng(0)
    d = 7
    w, x, bg = rng.normal(size=d), rng.normal(size=d), rng.normal(size=(15, d))
    game = S.linear_game(w, x, bg, intercept=0.7)
    res = S.shapley_exact(game.value_fn, d)
    np.testing.assert_allclose(res.values, w * (x - bg.mean(axis=0)), atol=1e-10)
    np.testing.assert_allclose(res.values, game.shapley_values, atol=1e-10)
    assert res.base_value == pytest.approx(bg.mean(axis=0) @ w + 0.7)


def test_football_game_values():
    game = S.football_game()
    assert game.player_names == ("Messi", "Xavi", "Iniesta")
    res = S.shapley_exact(game.value_fn, game.d)
    np.testing.assert_allclose(res.values, [46, 22, 22])
    np.testing.assert_allclose(_shapley_by_orders(game.value_fn, 3), game.shapley_values)


@pytest.mark.parametrize("n_left,n_right", [(1, 1), (2, 2), (1, 2), (1, 4), (3, 1), (3, 3)])
def test_glove_game_closed_forms(n_left, n_right):
    game = S.glove_game(n_left, n_right)
    res = S.shapley_exact(game.value_fn, game.d)
    np.testing.assert_allclose(res.values, game.shapley_values, atol=1e-12)
    assert res.values.sum() == pytest.approx(min(n_left, n_right))


def test_glove_game_one_left_two_right_is_two_thirds():
    np.testing.assert_allclose(S.glove_game(1, 2).shapley_values, [2 / 3, 1 / 6, 1 / 6])
    assert S.glove_game(2, 3).shapley_values is None


def test_shapley_weights_sum_to_one_over_orders():
    d = 6
    total = sum(math.comb(d - 1, s) * S.shapley_weight(s, d) for s in range(d))
    assert total == pytest.approx(1.0)
    assert S.shapley_kernel_weight(2, 6) == pytest.approx(5 / (15 * 2 * 4))
    assert np.isinf(S.shapley_kernel_weight(0, 6))


# ---------------------------------------------------------------- permutation sampling


def test_permutation_is_exact_for_additive_games_and_converges():
    rng = np.random.default_rng(3)
    d = 8
    table = rng.normal(size=2**d)
    value_fn, _ = _table_game(table)
    exact = S.shapley_exact(value_fn, d).values
    res = S.shapley_permutation(value_fn, d, 2000, random_state=1)
    assert res.num_coalitions == 2 + 2000 * (d - 1)
    assert res.values.sum() == pytest.approx(table[-1] - table[0])  # efficiency per order
    z = np.abs(res.values - exact) / res.stderr
    assert np.all(z < 4.5)
    small = S.shapley_permutation(value_fn, d, 20, random_state=1)
    assert np.mean(np.abs(res.values - exact)) < np.mean(np.abs(small.values - exact))
    # an additive game: every order gives the exact answer, so stderr is 0
    w = rng.normal(size=d)
    add = S.shapley_permutation(lambda m: m @ w, d, 10, random_state=0)
    np.testing.assert_allclose(add.values, w)
    np.testing.assert_allclose(add.stderr, 0, atol=1e-12)


def test_permutation_antithetic_and_seeds():
    value_fn = S.football_game().value_fn
    a = S.shapley_permutation(value_fn, 3, 40, random_state=7)
    b = S.shapley_permutation(value_fn, 3, 40, random_state=7)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.random_state == 7
    state = np.random.get_state()  # noqa: NPY002 (checks/uses the global RNG on purpose)
    S.shapley_permutation(value_fn, 3, 10, random_state=np.random.default_rng(0),
                          antithetic=False)
    assert np.all(np.random.get_state()[1] == state[1])  # global RNG untouched  # noqa: NPY002 (checks/uses the global RNG on purpose)
    # many orders: close to the exact values
    res = S.shapley_permutation(value_fn, 3, 4000, random_state=0)
    np.testing.assert_allclose(res.values, [46, 22, 22], atol=1.0)


def test_antithetic_pairing_is_exact_for_two_players():
    # an asymmetric 2-player game: v(0)=0, v({0})=3, v({1})=1, v(N)=10
    value_fn, d = _table_game(np.array([0.0, 3.0, 1.0, 10.0]))
    exact = S.shapley_exact(value_fn, d).values  # [6, 4]
    for seed in range(5):
        res = S.shapley_permutation(value_fn, d, 2, random_state=seed)
        np.testing.assert_allclose(res.values, exact, atol=1e-12)
        np.testing.assert_array_equal(res.stderr, [0.0, 0.0])
    # without the pairing, two random orders are often the same order: not exact
    misses = [not np.allclose(S.shapley_permutation(value_fn, d, 2, random_state=seed,
                                                    antithetic=False).values, exact)
              for seed in range(10)]
    assert any(misses)


def test_permutation_without_antithetic_has_stderr():
    rng = np.random.default_rng(0)
    table = rng.normal(size=2**5)
    value_fn, d = _table_game(table)
    res = S.shapley_permutation(value_fn, d, 301, random_state=2, antithetic=False)
    assert res.stderr.shape == (5,) and np.all(res.stderr > 0)


# ---------------------------------------------------------------- marginal game


def test_marginal_value_fn_batches_and_counts():
    rng = np.random.default_rng(0)
    d, B = 4, 6
    x, bg = rng.normal(size=d), rng.normal(size=(B, d))
    calls = []

    def f(rows):
        calls.append(rows.shape[0])
        return np.column_stack([rows.sum(axis=1), rows.prod(axis=1)])

    v = S.marginal_value_fn(f, x, bg, target=1, batch_size=25)
    masks = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0]], bool)
    out = v(masks)
    expected = [np.mean([np.where(m, x, b).prod() for b in bg]) for m in masks]
    np.testing.assert_allclose(out, expected)
    assert max(calls) <= 25 and sum(calls) == 4 * B
    assert v.num_model_rows == 24 and v.model_calls == len(calls)


def test_bad_input_is_rejected_with_named_arguments():
    value_fn = S.football_game().value_fn
    with pytest.raises(ValueError, match="^d must be >= 1"):
        S.shapley_exact(value_fn, 0)
    with pytest.raises(ValueError, match="^d must be <= 20"):
        S.shapley_exact(value_fn, 21)
    with pytest.raises(TypeError, match="^d must be an int"):
        S.shapley_exact(value_fn, 2.5)
    with pytest.raises(TypeError, match="^value_fn must be callable"):
        S.shapley_exact("v", 3)
    with pytest.raises(ValueError, match="^value_fn must return shape"):
        S.shapley_exact(lambda m: np.zeros(3), 3)
    with pytest.raises(ValueError, match="^value_fn returned NaN"):
        S.shapley_exact(lambda m: np.full(len(m), np.nan), 2)
    with pytest.raises(ValueError, match="^num_permutations must be even"):
        S.shapley_permutation(value_fn, 3, 5)
    with pytest.raises(ValueError, match="^num_permutations must be >= 1"):
        S.shapley_permutation(value_fn, 3, 0)
    with pytest.raises(TypeError, match="^random_state"):
        S.shapley_permutation(value_fn, 3, 2, random_state="seed")
    f = lambda rows: rows.sum(axis=1)  # noqa: E731
    with pytest.raises(ValueError, match="^baseline must have at least one row"):
        S.marginal_value_fn(f, np.ones(3), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="^baseline must have 3 columns"):
        S.marginal_value_fn(f, np.ones(3), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="^x must be 1-D"):
        S.marginal_value_fn(f, np.ones((2, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="^masks must have shape"):
        S.marginal_value_fn(f, np.ones(3), np.zeros((4, 3)))(np.ones((2, 4), bool))
    two = lambda rows: np.column_stack([rows.sum(1), rows.sum(1)])  # noqa: E731
    with pytest.raises(ValueError, match="^target must be given"):
        S.marginal_value_fn(two, np.ones(3), np.zeros((4, 3)))(np.ones((1, 3), bool))
    with pytest.raises(ValueError, match="^table must have 2\\^d = 4"):
        S.game_from_table([1, 2, 3], ["a", "b"])
    with pytest.raises(ValueError, match="^n_left must be >= 1"):
        S.glove_game(0, 2)


def test_value_fn_returning_words_is_named():
    with pytest.raises(ValueError, match="^value_fn must return numbers"):
        S.shapley_exact(lambda masks: ["a"] * len(masks), 3)
