"""Tests for lime_core.metrics: curves, faithfulness, localisation, recall, stability, ROAR."""

from __future__ import annotations

import numpy as np
import pytest

from lime_core import metrics as M

D = 30


@pytest.fixture(scope="module")
def planted_linear():
    """f(x) = w . x with positive x, so each feature's true contribution is w_i x_i."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=D)
    x = rng.uniform(0.5, 1.5, size=D)
    return (lambda X: X @ w), x, w


def test_deletion_of_a_perfect_attribution_beats_random(planted_linear):
    f, x, w = planted_linear
    perfect = M.deletion_curve(f, x, w * x, steps=D)
    assert perfect.fractions[0] == 0 and perfect.fractions[-1] == 1
    assert perfect.scores[0] == pytest.approx(f(x[None])[0])
    assert perfect.scores[-1] == pytest.approx(0.0)  # everything zeroed
    # contributions removed largest first: the curve is the sorted partial sums
    contrib = np.sort(w * x)[::-1]
    expected = f(x[None])[0] - np.concatenate([[0], np.cumsum(contrib)])
    np.testing.assert_allclose(perfect.scores, expected, atol=1e-10)
    assert perfect.auc == pytest.approx(np.trapezoid(expected, np.arange(D + 1) / D))
    rng = np.random.default_rng(1)
    random_aucs = [M.deletion_curve(f, x, rng.normal(size=D), steps=D).auc for _ in range(20)]
    assert perfect.auc < min(random_aucs)
    worst = M.deletion_curve(f, x, w * x, steps=D, direction="least_relevant_first")
    assert worst.auc > max(random_aucs)


def test_insertion_mirrors_deletion(planted_linear):
    f, x, w = planted_linear
    ins = M.insertion_curve(f, x, w * x, steps=D, baseline="zero")
    dele = M.deletion_curve(f, x, w * x, steps=D, baseline="zero")
    # linear model, zero baseline: insertion(t) + deletion(t) = f(x)
    np.testing.assert_allclose(ins.scores + dele.scores, f(x[None])[0], atol=1e-10)
    rng = np.random.default_rng(2)
    assert ins.auc > max(M.insertion_curve(f, x, rng.normal(size=D), steps=D,
                                           baseline="zero").auc for _ in range(10))


def _image_and_model():
    # the model scores the mean brightness of the top-left 4x4 corner of channel 0
    rng = np.random.default_rng(0)
    img = rng.uniform(0.2, 1.0, size=(16, 16, 3))

    def f(batch):
        return np.column_stack([batch[:, :4, :4, 0].mean(axis=(1, 2)), batch.mean(axis=(1, 2, 3))])

    truth = np.zeros((16, 16))
    truth[:4, :4] = 1.0
    return img, f, truth


def test_image_units_patches_superpixels_and_batches():
    img, f, truth = _image_and_model()
    pix = M.deletion_curve(f, img, truth, target=0, steps=16, unit="pixel", batch_size=5)
    assert pix.model_calls == 4  # 17 images in batches of 5
    assert pix.scores[1] == pytest.approx(0.0)  # first 16 pixels = the whole corner
    patch = M.deletion_curve(f, img, truth, target=0, unit="patch", patch_size=4, steps=16)
    assert patch.order[0] == 0 and patch.scores[1] == pytest.approx(0.0)
    segments = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 8, 0), 8, 1)
    sp = M.deletion_curve(f, img, truth, target=0, segments=segments, steps=4)
    assert sp.order[0] == 0 and sp.scores[1] == pytest.approx(0.0)
    mean = M.deletion_curve(f, img, truth, target=0, unit="patch", patch_size=4,
                            baseline="channel_mean", steps=16)
    assert mean.scores[1] == pytest.approx(img[..., 0].mean())
    blur = M.deletion_curve(f, img, truth, target=0, unit="patch", patch_size=4,
                            baseline="blur", blur_sigma=2.0, steps=16)
    from scipy.ndimage import gaussian_filter
    assert blur.scores[-1] == pytest.approx(gaussian_filter(img, (2, 2, 0))[:4, :4, 0].mean())
    given = M.deletion_curve(f, img, truth, target=0, baseline=np.ones_like(img), steps=4,
                             unit="patch", patch_size=4)
    assert given.scores[1] == pytest.approx(1.0)


def test_faithfulness_correlation_of_true_and_wrong_attributions(planted_linear):
    f, x, w = planted_linear
    good = M.faithfulness_correlation(f, x, w * x, subset_size=8, num_subsets=50, random_state=0)
    assert good.correlation == pytest.approx(1.0)  # linear model: drop = sum of contributions
    np.testing.assert_allclose(good.output_drops, good.attribution_sums)
    bad = M.faithfulness_correlation(f, x, np.random.default_rng(5).normal(size=D),
                                     subset_size=8, num_subsets=50, random_state=0)
    assert abs(bad.correlation) < 0.5
    again = M.faithfulness_correlation(f, x, w * x, subset_size=8, num_subsets=50,
                                       random_state=0)
    np.testing.assert_array_equal(again.output_drops, good.output_drops)


def test_iou_and_pointing_game():
    a = np.zeros((10, 10))
    a[2:5, 2:5] = 1.0
    assert M.iou(a, (2, 2, 5, 5)) == pytest.approx(1.0)
    assert M.iou(a, (2, 2, 5, 8), threshold=0.5) == pytest.approx(9 / 18)
    mask = np.zeros((10, 10), bool)
    mask[6:, 6:] = True
    assert M.iou(a, mask, threshold=0.5) == 0.0
    assert M.iou(np.stack([a, a], axis=-1), (2, 2, 5, 5), top_fraction=0.09) == 1.0
    assert M.pointing_game(a, (2, 2, 5, 5))
    assert not M.pointing_game(a, mask)
    b = np.zeros((10, 10))
    b[4, 4] = 1.0
    assert not M.pointing_game(b, (6, 6, 10, 10))
    assert M.pointing_game(b, (6, 6, 10, 10), tolerance=2)


def test_recall_at_k_counts_gold_features():
    a = np.array([0.0, 5.0, -4.0, 0.1, 3.0])
    assert M.recall_at_k(a, [1, 2]) == 1.0
    assert M.recall_at_k(a, [1, 3]) == 0.5
    assert M.recall_at_k(a, [1, 3], k=4) == 1.0
    assert M.recall_at_k([(4, 2.0), (0, 1.0)], [0, 4, 2]) == pytest.approx(2 / 3)
    assert M.recall_at_k(np.zeros(5), [0]) == 0.0


def test_recall_at_k_of_lime_on_a_sparse_linear_model():
    from lime_core.lime_tabular import explain_tabular

    rng = np.random.default_rng(0)
    d, gold = 20, [2, 7, 11, 16]
    w = np.zeros(d)
    w[gold] = [2.0, -1.5, 1.8, -2.2]
    train = rng.normal(size=(500, d))

    def predict_proba(X):
        p = 1 / (1 + np.exp(-(X @ w)))
        return np.column_stack([1 - p, p])

    recalls = []
    for row in train[:10]:
        exp = explain_tabular(row, predict_proba, train, labels=[1], num_features=4,
                              num_samples=5000, random_state=1)
        recalls.append(M.recall_at_k(exp.as_map()[1], gold))
    assert np.mean(recalls) >= 0.9, recalls


def test_stability_over_seeds():
    rng0 = np.random.default_rng(0)
    truth = rng0.normal(size=15)

    def noisy(seed, scale):
        return truth + scale * np.random.default_rng(seed).normal(size=15)

    steady = M.stability(lambda s: noisy(s, 0.01), seeds=[0, 1, 2, 3], k=5)
    shaky = M.stability(lambda s: noisy(s, 3.0), seeds=[0, 1, 2, 3], k=5)
    assert steady.pairwise_jaccard.shape == (6,)
    assert steady.kendall_tau > 0.95 and steady.jaccard == pytest.approx(1.0)
    assert shaky.kendall_tau < steady.kendall_tau and shaky.jaccard < 1.0
    same = M.stability(lambda s: truth, seeds=[0, 1])
    assert same.kendall_tau == pytest.approx(1.0) and same.jaccard == 1.0


def test_roar_true_attributions_hurt_more_than_random():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    d, n = 10, 600
    w = np.array([3.0, -3.0, 2.5, -2.5, 0, 0, 0, 0, 0, 0])
    X = rng.normal(size=(n, d))
    y = (X @ w + 0.3 * rng.normal(size=n) > 0).astype(int)
    Xtr, Xte, ytr, yte = X[:400], X[400:], y[:400], y[400:]
    true_tr, true_te = np.abs(Xtr * w), np.abs(Xte * w)
    rand_tr, rand_te = rng.random(Xtr.shape), rng.random(Xte.shape)

    def train(Xa, ya):
        return LogisticRegression().fit(Xa, ya)

    fractions = [0.0, 0.2, 0.4]
    good = M.roar(train, Xtr, ytr, Xte, yte, true_tr, true_te, fractions=fractions, random_state=0)
    bad = M.roar(train, Xtr, ytr, Xte, yte, rand_tr, rand_te, fractions=fractions, random_state=0)
    assert good.accuracies[0] == bad.accuracies[0] > 0.9
    assert good.accuracies[-1] < bad.accuracies[-1] - 0.1
    assert good.accuracies[-1] < 0.8


def test_bad_input_is_rejected(planted_linear):
    f, x, w = planted_linear
    with pytest.raises(ValueError, match="^attribution must have the shape"):
        M.deletion_curve(f, x, w[:5])
    with pytest.raises(ValueError, match="^baseline must be one of"):
        M.deletion_curve(f, x, w, baseline="noise")
    with pytest.raises(ValueError, match="^baseline 'blur' needs an image"):
        M.deletion_curve(f, x, w, baseline="blur")
    with pytest.raises(ValueError, match="^steps must be >= 1"):
        M.deletion_curve(f, x, w, steps=0)
    with pytest.raises(ValueError, match="^direction must be one of"):
        M.insertion_curve(f, x, w, direction="up")
    with pytest.raises(ValueError, match="^model must return shape"):
        M.deletion_curve(lambda X: np.zeros(2), x, w)
    two = lambda X: np.column_stack([X.sum(1), X.sum(1)])  # noqa: E731
    with pytest.raises(ValueError, match="^target must be given"):
        M.deletion_curve(two, x, w)
    with pytest.raises(ValueError, match="^segments must be given"):
        M.deletion_curve(f, np.ones((4, 4)), np.ones((4, 4)), unit="superpixel")
    with pytest.raises(ValueError, match="^subset_size must be <="):
        M.faithfulness_correlation(f, x, w, subset_size=D)
    with pytest.raises(ValueError, match="^ground_truth box"):
        M.iou(np.ones((4, 4)), (0, 0, 5, 5))
    with pytest.raises(ValueError, match="^ground_truth must be a box"):
        M.iou(np.ones((4, 4)), np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="^k must be <= 5"):
        M.recall_at_k(np.ones(5), [0], k=6)
    with pytest.raises(ValueError, match="^true_features must be indices"):
        M.recall_at_k(np.ones(5), [7])
    with pytest.raises(ValueError, match="^true_features must be a non-empty"):
        M.recall_at_k(np.ones(5), [])
    with pytest.raises(ValueError, match="^seeds must hold at least 2"):
        M.stability(lambda s: np.ones(3), seeds=[0])
    X = np.ones((5, 3))
    with pytest.raises(ValueError, match="^attributions_train must have shape"):
        M.roar(lambda a, b: None, X, np.ones(5), X, np.ones(5), np.ones((5, 2)), X)
    with pytest.raises(ValueError, match="^fractions must be"):
        M.roar(lambda a, b: None, X, np.ones(5), X, np.ones(5), X, X, fractions=[1.5])
    with pytest.raises(TypeError, match="^train_fn must return a model"):
        M.roar(lambda a, b: None, X, np.ones(5), X, np.ones(5), X, X, fractions=[0.0])
