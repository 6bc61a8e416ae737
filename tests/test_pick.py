"""SP-LIME submodular pick: greedy coverage against brute force, and input checks."""

from itertools import combinations

import numpy as np
import pytest

from lime_core.lime_text import explain_text
from lime_core.pick import coverage, explanation_matrix, global_importance, submodular_pick


def brute_force_best(W, budget):
    importance = np.sqrt(np.abs(W).sum(axis=0))
    return max(coverage(np.abs(W), importance, list(V)) for V in combinations(range(W.shape[0]), budget))


def random_sparse_matrix(rng, n, d, density=0.35):
    W = rng.normal(size=(n, d)) * (rng.random((n, d)) < density)
    return W


def test_paper_formulas_on_a_hand_example():
    # three explanations over four features
    W = np.array([[1.0, 0.0, 0.0, 0.0],
                  [0.0, 4.0, 0.0, 0.0],
                  [0.0, 0.0, -1.0, 1.0]])
    res = submodular_pick(W, budget=2)
    # I = sqrt(column sums of |W|) = (1, 2, 1, 1)
    np.testing.assert_allclose(res.importance, [1.0, 2.0, 1.0, 1.0])
    # first pick: row 1 covers 2.0 (ties with row 2's 1 + 1, lowest index wins)
    assert list(res.indices) == [1, 2]
    np.testing.assert_allclose(res.coverage_curve, [2.0, 4.0])
    assert res.coverage == 4.0
    assert list(res.covered) == [False, True, True, True]
    assert res.coverage_fraction == pytest.approx(4.0 / 5.0)


@pytest.mark.parametrize("seed", range(20))
def test_budget_one_is_optimal(seed):
    rng = np.random.default_rng(seed)
    W = random_sparse_matrix(rng, n=7, d=9)
    res = submodular_pick(W, budget=1)
    assert res.coverage == pytest.approx(brute_force_best(W, 1))


@pytest.mark.parametrize("seed", range(30))
def test_greedy_reaches_one_minus_one_over_e_of_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    n, d = 8, 10
    W = random_sparse_matrix(rng, n, d, density=rng.uniform(0.15, 0.5))
    for budget in (2, 3, 4):
        res = submodular_pick(W, budget=budget)
        best = brute_force_best(W, budget)
        assert res.coverage <= best + 1e-12
        assert res.coverage >= (1 - 1 / np.e) * best - 1e-12
        # the reported coverage is c(V) of the reported set
        assert res.coverage == pytest.approx(coverage(np.abs(W), res.importance, res.indices))


def test_greedy_is_not_always_optimal_but_close():
    # the classic case: two sets that each cover half beat the greedy's big first set
    W = np.array([[1, 1, 1, 1, 0, 0],     # covers 4 of 6 ... but overlaps both others
                  [1, 1, 0, 0, 1, 0],
                  [0, 0, 1, 1, 0, 1]], dtype=float)
    res = submodular_pick(W, budget=2)
    best = brute_force_best(W, 2)
    assert list(res.indices)[0] == 0
    assert res.coverage < best
    assert res.coverage >= (1 - 1 / np.e) * best


@pytest.mark.parametrize("seed", range(10))
def test_coverage_is_monotone_in_budget_and_greedy_sets_nest(seed):
    rng = np.random.default_rng(seed)
    W = random_sparse_matrix(rng, n=12, d=15)
    full = submodular_pick(W, budget=12)
    assert np.all(np.diff(full.coverage_curve) >= 0)
    assert full.coverage == pytest.approx(full.total_importance)
    for budget in range(1, 13):
        res = submodular_pick(W, budget=budget)
        assert list(res.indices) == list(full.indices[:budget])
        assert res.coverage == pytest.approx(full.coverage_curve[budget - 1])
    assert len(set(full.indices)) == 12  # never picks an instance twice


def test_greedy_beats_random_pick_on_average():
    rng = np.random.default_rng(0)
    W = random_sparse_matrix(rng, n=30, d=40, density=0.1)
    res = submodular_pick(W, budget=5)
    random_cov = [coverage(np.abs(W), res.importance, rng.choice(30, 5, replace=False)) for _ in range(200)]
    assert res.coverage > np.mean(random_cov)
    # and it is at least (1 - 1/e) of the best of 200 random picks
    assert res.coverage >= (1 - 1 / np.e) * np.max(random_cov)


def test_global_importance_is_sqrt_of_column_sums():
    W = np.array([[3.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(global_importance(W), [2.0, 1.0])


# -- explanations: features are matched by name -------------------------------------


def _word_model(words):
    """P(class 1) rises with every word of ``words`` that occurs in the text."""
    def predict(texts):
        score = np.array([sum(w in t.split() for w in words) for t in texts], dtype=float)
        p = 1 / (1 + np.exp(-(score - 0.5) * 3))
        return np.column_stack([1 - p, p])
    return predict


def test_explanations_are_mapped_to_columns_by_word():
    model = _word_model(["great", "awful"])
    docs = ["a great film with a plot", "an awful plot", "great acting and an awful ending"]
    exps = [explain_text(d, model, labels=[1], num_samples=300, num_features=3, random_state=0)
            for d in docs]
    W, names = explanation_matrix(exps)
    # every word of every explanation has its own column, named by the word
    for i, exp in enumerate(exps):
        for word, weight in exp.as_list():
            assert W[i, names.index(word)] == pytest.approx(abs(weight))
    assert names.count("great") == 1 and names.count("awful") == 1

    res = submodular_pick(exps, budget=1)
    # the third review holds both of the model's words: it covers the most importance
    assert list(res.indices) == [2]
    assert res.feature_names == names

    vocab = sorted(set(" ".join(docs).split()))
    res_v = submodular_pick(exps, budget=2, feature_names=vocab, target=1)
    assert res_v.W.shape == (3, len(vocab))
    assert res_v.coverage == pytest.approx(
        submodular_pick(exps, budget=2).coverage)


def test_bad_inputs_raise_clear_errors():
    W = np.ones((3, 4))
    with pytest.raises(ValueError, match="budget"):
        submodular_pick(W, budget=4)
    with pytest.raises(ValueError, match="budget"):
        submodular_pick(W, budget=0)
    with pytest.raises(TypeError, match="budget"):
        submodular_pick(W, budget=1.5)
    with pytest.raises(ValueError, match="explanations_or_matrix"):
        submodular_pick(np.ones(4), budget=1)
    with pytest.raises(ValueError, match="explanations_or_matrix"):
        submodular_pick(np.array([[1.0, np.nan]]), budget=1)
    with pytest.raises(TypeError, match="explanations_or_matrix"):
        submodular_pick([["a", "b"]], budget=1)
    with pytest.raises(ValueError, match="feature_names"):
        submodular_pick(W, budget=1, feature_names=["a", "b"])
    with pytest.raises(ValueError, match="^target"):
        submodular_pick(W, budget=1, target=0)
    with pytest.raises(TypeError, match="explanations"):
        explanation_matrix("not a list")
    with pytest.raises(ValueError, match="explanations"):
        explanation_matrix([])

    model = _word_model(["great"])
    exp = explain_text("a great film", model, labels=[1], num_samples=100, num_features=2, random_state=0)
    with pytest.raises(ValueError, match="^target"):
        submodular_pick([exp], budget=1, target=0)
    with pytest.raises(ValueError, match="feature_names"):
        submodular_pick([exp], budget=1, feature_names=["film"])
    with pytest.raises(TypeError, match=r"explanations\[1\]"):
        explanation_matrix([exp, 3])
