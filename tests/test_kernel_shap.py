"""Tests for lime_core.shapley.kernel_shap: convergence, exactness, and shap as a reference."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from lime_core import shapley as S

D = 10


def _model_and_data(seed=0, d=D, n_bg=20):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    w = rng.normal(size=d)

    def f(X):
        return np.tanh(X @ W) @ w + X[:, 0] * X[:, 1]

    return f, rng.normal(size=d), rng.normal(size=(n_bg, d))


@pytest.fixture(scope="module")
def problem():
    f, x, bg = _model_and_data()
    exact = S.shapley_exact(S.marginal_value_fn(f, x, bg), D)
    return f, x, bg, exact


def test_full_budget_is_exact_shapley(problem):
    f, x, bg, exact = problem
    res = S.kernel_shap(f, x, bg, num_samples=5000, random_state=0)
    assert res.num_coalitions == 2**D
    assert res.num_model_rows == 2**D * bg.shape[0]
    np.testing.assert_allclose(res.values, exact.values, atol=1e-10)
    np.testing.assert_allclose(res.stderr, 0)
    assert res.base_value == pytest.approx(f(bg).mean())


def test_efficiency_is_exact_at_every_budget(problem):
    f, x, bg, _ = problem
    fx = f(x[None])[0]
    for budget in (11, 50, 200):
        res = S.kernel_shap(f, x, bg, num_samples=budget, random_state=budget)
        assert res.num_coalitions == budget + 2
        assert res.full_value == pytest.approx(fx, abs=1e-10)


def test_error_shrinks_with_budget_and_stderr_is_calibrated(problem):
    f, x, bg, exact = problem
    errors, z = {}, []
    for budget in (100, 300, 1000):
        errs = []
        for seed in range(6):
            res = S.kernel_shap(f, x, bg, num_samples=budget, random_state=seed)
            errs.append(np.linalg.norm(res.values - exact.values))
            if budget < 1000:
                z.append((res.values - exact.values) / res.stderr)
        errors[budget] = np.mean(errs)
    assert errors[100] > errors[300] > errors[1000]
    assert errors[1000] < 0.2 * errors[100]
    # bootstrap standard errors: the standardised errors have roughly unit spread
    assert 0.5 < np.std(np.concatenate(z)) < 2.0


def test_exact_on_random_games_when_fully_enumerated():
    rng = np.random.default_rng(5)
    for d in (2, 3, 4, 7):
        table = rng.normal(size=2**d)
        value_fn = S.game_from_table(table, range(d))
        res = S.kernel_shap_game(value_fn, d, num_samples=2**d, random_state=0)
        np.testing.assert_allclose(res.values, S.shapley_exact(value_fn, d).values, atol=1e-9)
    one = S.kernel_shap_game(lambda m: m[:, 0] * 3.0 + 1, 1, num_samples=5, random_state=0)
    np.testing.assert_allclose(one.values, [3.0])


def test_linear_model_is_recovered_from_a_small_budget():
    rng = np.random.default_rng(1)
    d = 12
    w, x, bg = rng.normal(size=d), rng.normal(size=d), rng.normal(size=(8, d))
    res = S.kernel_shap(lambda X: X @ w - 2.0, x, bg, num_samples=60, random_state=3)
    np.testing.assert_allclose(res.values, w * (x - bg.mean(axis=0)), atol=1e-9)


def test_same_seed_same_answer_and_global_rng_untouched(problem):
    f, x, bg, _ = problem
    state = np.random.get_state()  # noqa: NPY002 (checks/uses the global RNG on purpose)
    a = S.kernel_shap(f, x, bg, num_samples=150, random_state=11)
    b = S.kernel_shap(f, x, bg, num_samples=150, random_state=11)
    c = S.kernel_shap(f, x, bg, num_samples=150, random_state=12)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.stderr, b.stderr)
    assert not np.array_equal(a.values, c.values)
    assert a.random_state == 11
    assert np.all(np.random.get_state()[1] == state[1])  # noqa: NPY002 (checks/uses the global RNG on purpose)


def test_model_is_called_in_batches(problem):
    _, x, bg, _ = problem
    sizes = []

    def f(X):
        sizes.append(X.shape[0])
        return X.sum(axis=1)

    S.kernel_shap(f, x, bg, num_samples=200, random_state=0, batch_size=1000)
    assert sum(sizes) == 202 * bg.shape[0]
    assert max(sizes) <= 1000 and len(sizes) == int(np.ceil(202 / (1000 // 20)))


def _shap_kernel_values(f, x, bg, budget, seed):
    import shap

    explainer = shap.KernelExplainer(f, bg)
    state = np.random.get_state()  # noqa: NPY002 (checks/uses the global RNG on purpose)
    try:
        np.random.seed(seed)  # shap's sampler has no seed argument: it uses the global RNG  # noqa: NPY002 (checks/uses the global RNG on purpose)
        phi = explainer.shap_values(x[None], nsamples=budget, silent=True)
    finally:
        np.random.set_state(state)  # noqa: NPY002 (checks/uses the global RNG on purpose)
    return np.asarray(phi, dtype=float).ravel()


@pytest.mark.slow
def test_error_no_worse_than_shap_kernel_explainer(problem):
    pytest.importorskip("shap")
    logging.getLogger("shap").setLevel(logging.ERROR)
    f, x, bg, exact = problem
    seeds = range(16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for budget in (100, 300):
            ours = np.mean([np.linalg.norm(
                S.kernel_shap(f, x, bg, budget, random_state=s, num_bootstrap=2).values
                - exact.values) for s in seeds])
            ref = np.mean([np.linalg.norm(_shap_kernel_values(f, x, bg, budget, s)
                                          - exact.values) for s in seeds])
            # same number of coalitions; averaged over seeds, allowing 5% sampling noise
            assert ours <= 1.05 * ref, (budget, ours, ref)


def test_bad_input_is_rejected(problem):
    f, x, bg, _ = problem
    with pytest.raises(ValueError, match="^num_samples must be >= 1"):
        S.kernel_shap(f, x, bg, num_samples=0)
    with pytest.raises(ValueError, match="^baseline must have at least one row"):
        S.kernel_shap(f, x, bg[:0])
    with pytest.raises(ValueError, match="^baseline must have 10 columns"):
        S.kernel_shap(f, x, bg[:, :3])
    with pytest.raises(ValueError, match="^x must have at least one feature"):
        S.kernel_shap(f, x[:0], bg[:, :0])
    with pytest.raises(TypeError, match="^model must be callable"):
        S.kernel_shap(None, x, bg)
    with pytest.raises(ValueError, match="^model must return shape"):
        S.kernel_shap(lambda X: np.zeros(3), x, bg)
    with pytest.raises(ValueError, match="^num_bootstrap must be >= 2"):
        S.kernel_shap(f, x, bg, num_bootstrap=1)
    with pytest.raises(ValueError, match="^d must be >= 1"):
        S.kernel_shap_game(lambda m: m.sum(1), 0)


def test_tiny_budget_falls_back_to_the_equal_split_for_a_symmetric_game():
    # 2 coalitions cannot determine 20 values: the solution closest to an equal split
    # is returned, which for v(S) = 2 |S| is the exact answer
    res = S.kernel_shap_game(lambda m: 2.0 * m.sum(axis=1), 20, num_samples=2, random_state=0)
    np.testing.assert_allclose(res.values, 2.0)
    assert res.num_coalitions == 4


def _kkt_solution(masks, y, weights, v_empty, v_full):
    """Reference: the constrained weighted regression as one dense KKT system."""
    z = masks.astype(float)
    d = z.shape[1]
    kkt = np.zeros((d + 1, d + 1))
    kkt[:d, :d] = z.T @ (weights[:, None] * z)
    kkt[:d, d] = kkt[d, :d] = 1.0
    rhs = np.append(z.T @ (weights * (y - v_empty)), v_full - v_empty)
    return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:d]


def test_streamed_statistics_equal_the_dense_constrained_regression():
    # 1500 coalitions of d = 12: hundreds of draws, cut into 256 groups
    f, x, bg = _model_and_data(seed=4, d=12)
    game = S.marginal_value_fn(f, x, bg)
    plan = S._choose_coalitions(12, 1500, np.random.default_rng(7))
    assert plan.draws.shape[0] > 256
    ends = np.array([[False] * 12, [True] * 12])
    v = game(np.concatenate([ends, plan.masks]))
    want = _kkt_solution(plan.masks, v[2:], plan.weights, v[0], v[1])
    res = S.kernel_shap(f, x, bg, 1500, random_state=7)
    np.testing.assert_allclose(res.values, want, atol=1e-10)


def test_bootstrap_over_few_draws_is_the_plain_bootstrap_over_draws():
    # at most 256 draws: each draw is its own group, the old replicate-by-replicate bootstrap
    f, x, bg = _model_and_data(seed=5, d=12)
    game = S.marginal_value_fn(f, x, bg)
    rng = np.random.default_rng(3)
    plan = S._choose_coalitions(12, 200, rng)
    n_draws, n_enum = plan.draws.shape[0], plan.num_enumerated
    assert 1 < n_draws <= 256
    ends = np.array([[False] * 12, [True] * 12])
    v = game(np.concatenate([ends, plan.masks]))
    picks = plan.draws[rng.integers(0, n_draws, size=(30, n_draws))].reshape(30, -1)
    boots = []
    for row in picks:
        counts = np.bincount(row[row >= 0], minlength=plan.masks.shape[0] - n_enum)
        weights = plan.weights.copy()
        weights[n_enum:] = counts * (plan.weight_left / counts.sum())
        boots.append(_kkt_solution(plan.masks, v[2:], weights, v[0], v[1]))
    res = S.kernel_shap(f, x, bg, 200, random_state=3, num_bootstrap=30)
    np.testing.assert_allclose(res.stderr, np.std(boots, axis=0, ddof=1), rtol=1e-6, atol=1e-12)
