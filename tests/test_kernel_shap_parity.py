"""lime_core.kernel_shap against shap.KernelExplainer on the same inputs (issue 13).

With ``d <= 10`` features and a budget of at least ``2^d - 2`` coalitions both libraries
enumerate every coalition, so both compute the exact Shapley values of the same game
``v(S) = link(E_b[f(x_S u b_Sbar)])`` and must agree to rounding (1e-6): a matrix of rows,
all outputs of a ``predict_proba`` model at once, ``link="logit"``, a ``(1, d)`` row.
shap's LARS feature selection is switched off (``l1_reg=False``): with every coalition
evaluated it only adds its own rounding.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

import lime_core
from lime_core import shapley as S

shap = pytest.importorskip("shap")
logging.getLogger("shap").setLevel(logging.ERROR)

D = 6


def _shap(model, background, rows, link="identity"):
    """shap's values and expected value (all coalitions: ``nsamples = 2^d``)."""
    state = np.random.get_state()  # noqa: NPY002 (shap samples with the global RNG)
    try:
        np.random.seed(0)  # noqa: NPY002
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.KernelExplainer(model, background, link=link)
            values = explainer.shap_values(rows, nsamples=2 ** rows.shape[-1], l1_reg=False,
                                           silent=True)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return np.asarray(values, dtype=float), np.asarray(explainer.expected_value, dtype=float)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, D))
    W = rng.normal(size=(D, 3))
    y = np.argmax(X @ W + 0.3 * rng.normal(size=(300, 3)), axis=1)
    return X, y, X[:12], X[100:104]


def _regression(rows):
    rows = np.asarray(rows, dtype=float)
    return np.tanh(rows @ np.linspace(-1, 1, rows.shape[1])) + rows[:, 0] * rows[:, 1]


def test_one_row_one_output_matches_shap(data):
    _, _, bg, rows = data
    ours = lime_core.kernel_shap(_regression, rows[0], bg, 1000, random_state=0)
    ref, expected = _shap(_regression, bg, rows[:1])
    assert ours.values.shape == (D,) and ref.shape == (1, D)
    np.testing.assert_allclose(ours.values, ref[0], atol=1e-6)
    assert ours.base_value == pytest.approx(float(expected), abs=1e-9)
    assert ours.num_rows is None and isinstance(ours.full_value, float)


def test_matrix_of_rows_matches_shap_row_by_row(data):
    _, _, bg, rows = data
    ours = lime_core.kernel_shap(_regression, rows, bg, 1000, random_state=0)
    ref, _ = _shap(_regression, bg, rows)
    assert ours.values.shape == ref.shape == (4, D)
    assert ours.stderr.shape == (4, D)
    np.testing.assert_allclose(ours.values, ref, atol=1e-6)
    # efficiency row by row, and each row is what the single-row call gives
    np.testing.assert_allclose(ours.full_value, _regression(rows), atol=1e-9)
    second = lime_core.kernel_shap(_regression, rows[1], bg, 1000, random_state=0)
    np.testing.assert_allclose(ours.values[1], second.values, atol=1e-12)
    assert ours.num_rows == 4 and ours.model_calls >= 4


def test_a_1_by_d_row_is_one_row_shaped_like_the_input(data):
    _, _, bg, rows = data
    ours = lime_core.kernel_shap(_regression, rows[:1], bg, 1000, random_state=0)
    flat = lime_core.kernel_shap(_regression, rows[0], bg, 1000, random_state=0)
    ref, _ = _shap(_regression, bg, rows[:1])
    assert ours.values.shape == (1, D) == ref.shape
    np.testing.assert_allclose(ours.values[0], flat.values, atol=1e-12)
    np.testing.assert_allclose(ours.values, ref, atol=1e-6)
    assert lime_core.attribution_map(ours, _regression, rows[:1]).shape == (1, D)


@pytest.fixture(scope="module")
def classifier(data):
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = data
    return LogisticRegression(max_iter=500).fit(X, y)


def test_all_outputs_of_predict_proba_at_once_match_shap(data, classifier):
    _, _, bg, rows = data
    ours = lime_core.kernel_shap(classifier.predict_proba, rows, bg, 1000, random_state=0)
    ref, expected = _shap(classifier.predict_proba, bg, rows)
    assert ours.values.shape == ref.shape == (4, D, 3)
    np.testing.assert_allclose(ours.values, ref, atol=1e-6)
    np.testing.assert_allclose(ours.base_value, expected, atol=1e-9)
    np.testing.assert_allclose(ours.full_value, classifier.predict_proba(rows), atol=1e-9)
    # one output through target= is the same column, on the same coalitions
    one = lime_core.kernel_shap(classifier.predict_proba, rows, bg, 1000, random_state=0,
                                target=2)
    np.testing.assert_allclose(one.values, ours.values[..., 2], atol=1e-12)
    single = lime_core.kernel_shap(classifier.predict_proba, rows[0], bg, 1000, random_state=0)
    assert single.values.shape == (D, 3)
    np.testing.assert_allclose(single.full_value, classifier.predict_proba(rows[:1])[0],
                               atol=1e-9)


def test_logit_link_matches_shap(data, classifier):
    _, _, bg, rows = data
    ours = lime_core.kernel_shap(classifier.predict_proba, rows, bg, 1000, random_state=0,
                                 link="logit")
    ref, expected = _shap(classifier.predict_proba, bg, rows, link="logit")
    assert ours.values.shape == ref.shape == (4, D, 3)
    np.testing.assert_allclose(ours.values, ref, atol=1e-6)
    np.testing.assert_allclose(ours.base_value, expected, atol=1e-9)
    p = classifier.predict_proba(rows)
    np.testing.assert_allclose(ours.full_value, np.log(p / (1 - p)), atol=1e-9)
    assert ours.link == "logit"
    # the logit values are not the identity values: the link changes the answer
    plain = lime_core.kernel_shap(classifier.predict_proba, rows, bg, 1000, random_state=0)
    assert np.abs(plain.values - ours.values).max() > 0.1


def test_logit_link_on_one_output_of_a_binary_model(data):
    from sklearn.linear_model import LogisticRegression

    X, y, bg, rows = data
    model = LogisticRegression(max_iter=500).fit(X, y == 0)
    ours = lime_core.kernel_shap(model.predict_proba, rows, bg, 1000, random_state=0,
                                 link="logit", target=1)
    ref, expected = _shap(model.predict_proba, bg, rows, link="logit")
    np.testing.assert_allclose(ours.values, ref[..., 1], atol=1e-6)
    assert ours.base_value == pytest.approx(float(expected[1]), abs=1e-9)


def test_sampled_budget_is_close_to_shap_and_exact_for_d_12():
    # beyond enumeration both sample: each estimate lies near the exact values
    rng = np.random.default_rng(3)
    d = 12
    bg, x = rng.normal(size=(8, d)), rng.normal(size=d)

    def model(rows):
        return np.tanh(rows @ np.linspace(-1, 1, d)) + rows[:, 0] * rows[:, 1]

    exact = S.shapley_exact(S.marginal_value_fn(model, x, bg), d).values
    ours = lime_core.kernel_shap(model, x, bg, 2000, random_state=0).values
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(0)  # noqa: NPY002
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = shap.KernelExplainer(model, bg).shap_values(x[None], nsamples=2000,
                                                              l1_reg=False, silent=True)[0]
    finally:
        np.random.set_state(state)  # noqa: NPY002
    scale = np.linalg.norm(exact)
    assert np.linalg.norm(ours - exact) < 0.05 * scale
    assert np.linalg.norm(ref - exact) < 0.05 * scale
