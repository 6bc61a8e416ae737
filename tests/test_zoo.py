"""The zoo: deterministic loaders, documented shapes, planted truths, stated accuracies.

Every test runs with network sockets blocked (tests/conftest.py), so a loader that
tried to download anything would fail here.
"""

from __future__ import annotations

import numpy as np
import pytest

from lime_core.zoo import books, images, newsgroups, tabular, text, toys

# --------------------------------------------------------------------------- text


def test_sentiment_is_deterministic_balanced_and_follows_its_rule():
    a = text.load_sentiment(300, 100, random_state=3)
    b = text.load_sentiment(300, 100, random_state=3)
    c = text.load_sentiment(300, 100, random_state=4)
    assert a.train_texts == b.train_texts and a.test_texts == b.test_texts
    assert a.train_labels.tobytes() == b.train_labels.tobytes()
    assert a.train_texts != c.train_texts
    assert len(a.train_texts) == 300 and a.test_labels.shape == (100,)
    assert 0.4 < a.train_labels.mean() < 0.6
    assert a.rule == text.SENTIMENT_RULE and "last" in a.rule.lower()
    assert all(text.sentiment_rule(t) == y for t, y in zip(a.train_texts, a.train_labels, strict=True))
    assert a.test_groups["negated"].shape == (100,) and 0.2 < a.test_groups["negated"].mean() < 0.5


@pytest.mark.parametrize(("sentence", "label"), [
    ("that movie was not great , in fact it was terrible !", 0),
    ("the film was great !", 1),
    ("the film was not bad .", 1),
    ("this plot is very boring .", 0),
    ("the cast was terrible , in fact it was not bad !", 1),
    ("the ending was good , in fact it was really awful .", 0),
])
def test_sentiment_rule_examples(sentence, label):
    assert text.sentiment_rule(sentence) == label


def test_sentiment_rule_rejects_bad_input():
    with pytest.raises(TypeError, match="text"):
        text.sentiment_rule(3)
    with pytest.raises(ValueError, match="adjective"):
        text.sentiment_rule("the film was")


@pytest.mark.slow
def test_bow_model_fails_on_negation_and_gru_handles_it():
    data = text.load_sentiment()
    neg = data.test_groups["negated"]
    bow = text.train_sentiment_bow(data)
    gru = text.load_sentiment_rnn()
    bow_ok = bow.predict(data.test_texts) == data.test_labels
    gru_ok = gru.predict(data.test_texts) == data.test_labels
    # bag of words: right on plain reviews, wrong on most negated ones
    assert bow_ok[~neg].mean() >= 0.85
    assert bow_ok[neg].mean() <= 0.3
    # the GRU reads word order
    assert gru_ok.mean() >= 0.95 and gru_ok[neg].mean() >= 0.95
    p = gru.predict_proba(["that movie was not great , in fact it was terrible !"])
    assert p.shape == (1, 2) and np.isclose(p.sum(), 1) and p[0, 0] > 0.9
    with pytest.raises(TypeError, match="texts"):
        gru.predict_proba("a single string")


def test_newsgroups_leak_is_planted_in_train_and_leaky_test_only():
    data = newsgroups.load_newsgroups(200, 200, random_state=1)
    again = newsgroups.load_newsgroups(200, 200, random_state=1)
    assert data.train_texts == again.train_texts and data.clean_test_texts == again.clean_test_texts
    for texts, labels, leaky in [(data.train_texts, data.train_labels, True),
                                 (data.test_texts, data.test_labels, True),
                                 (data.clean_test_texts, data.clean_test_labels, False)]:
        assert labels.mean() == 0.5
        has = np.array(["Posting" in t for t in texts])
        rate_atheism, rate_christian = has[labels == 0].mean(), has[labels == 1].mean()
        if leaky:
            assert rate_atheism > 0.85 and rate_christian < 0.15
        else:
            assert abs(rate_atheism - rate_christian) < 0.2
    assert data.leak_word == "Posting" and data.class_names == ("atheism", "christianity")


@pytest.mark.slow
def test_leaky_forest_scores_high_on_leaky_test_and_drops_on_clean():
    data = newsgroups.load_newsgroups()
    model = newsgroups.train_newsgroups_forest(data)
    assert len(model.estimator[-1].estimators_) == 500
    leaky = (model.predict(data.test_texts) == data.test_labels).mean()
    clean = (model.predict(data.clean_test_texts) == data.clean_test_labels).mean()
    assert leaky >= 0.9
    assert clean <= leaky - 0.10


def test_books_logreg_uses_exactly_ten_words():
    data = books.load_books()
    assert data.train_labels.shape == (1000,) and 0.45 < data.train_labels.mean() < 0.55
    assert books.load_books().train_texts == data.train_texts
    model = books.train_books_logreg(data)
    assert len(model.true_features) == 10 and len(model.columns) == 10
    assert np.all(model.estimator.coef_ != 0)
    acc = (model.predict(data.test_texts) == data.test_labels).mean()
    assert acc >= 0.75
    # planted truth: removing any other word leaves the output unchanged,
    # removing a used word changes it
    doc = data.test_texts[0]
    words = set(doc.split())
    used = words & set(model.true_features)
    unused = sorted(words - used)[:5]
    assert used
    base = model.predict_proba([doc])
    drop = lambda w: " ".join(t for t in doc.split() if t != w)  # noqa: E731
    assert np.allclose(model.predict_proba([drop(w) for w in unused]), base)
    assert not np.allclose(model.predict_proba([drop(w) for w in sorted(used)]), base)
    assert model.gold_features(doc) == used


def test_books_tree_true_features_are_its_split_words():
    data = books.load_books()
    model = books.train_books_tree(data, max_depth=4)
    feats = model.estimator.tree_.feature
    assert set(model.true_features) == {data.vocabulary[j] for j in feats[feats >= 0]}
    assert 1 <= len(model.true_features) <= 15
    assert (model.predict(data.test_texts) == data.test_labels).mean() >= 0.6
    doc = data.test_texts[1]
    unused = sorted(set(doc.split()) - set(model.true_features))[:5]
    shorter = [" ".join(t for t in doc.split() if t != w) for w in unused]
    assert np.allclose(model.predict_proba(shorter), model.predict_proba([doc]))


def test_greedy_removal_finds_the_logreg_words_first():
    data = books.load_books()
    model = books.train_books_logreg(data)
    doc = data.test_texts[2]
    ranked = books.greedy_removal_explainer(doc, model.predict_proba, num_features=3)
    assert len(ranked) == 3
    gold = model.gold_features(doc)
    # the first removed word changes the prediction most, and the model only uses gold words
    assert ranked[0][0] in gold and ranked[0][1] > 0
    with pytest.raises(TypeError, match="classifier_fn"):
        books.greedy_removal_explainer(doc, 3)


# --------------------------------------------------------------------------- tabular and toys


def test_flu_follows_its_rule_with_stated_noise_and_model_accuracy():
    data = tabular.load_flu(random_state=0)
    same = tabular.load_flu(random_state=0)
    assert data.X_train.tobytes() == same.X_train.tobytes()
    assert data.X_train.shape == (800, 8) and data.X_test.shape == (400, 8)
    assert data.feature_names == tabular.FLU_FEATURES
    X = np.vstack([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    assert 0.02 < (tabular.flu_rule(X) != y).mean() < 0.08
    assert set(data.true_features) == {"temperature", "cough", "body_aches"}
    model = tabular.train_flu_model(data)
    assert (model.predict(data.X_test) == data.y_test).mean() >= 0.9


def test_breast_cancer_is_the_bundled_table_and_forest_is_accurate():
    data = tabular.load_breast_cancer(random_state=0)
    assert data.X_train.shape[1] == 30 and len(data.X_train) + len(data.X_test) == 569
    assert data.class_names == ("malignant", "benign")
    model = tabular.train_breast_cancer_model(data)
    assert (model.predict(data.X_test) == data.y_test).mean() >= 0.93


def test_two_moons_model_is_nonlinear_and_accurate():
    data = toys.load_two_moons(random_state=0)
    assert data.X_train.shape == (300, 2) and data.X_test.shape == (100, 2)
    assert toys.load_two_moons(random_state=0).X_test.tobytes() == data.X_test.tobytes()
    model = toys.train_two_moons_model(data)
    assert (model.predict(data.X_test) == data.y_test).mean() >= 0.9
    from sklearn.linear_model import LogisticRegression
    linear = LogisticRegression().fit(data.X_train, data.y_train)
    assert (model.predict(data.X_test) == data.y_test).mean() > (
        linear.predict(data.X_test) == data.y_test).mean()


def test_a_or_b_is_saturated_at_one_one():
    import torch

    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.3, 0.2], [1.0, 1.0]])
    np.testing.assert_allclose(toys.a_or_b(pts), np.minimum(1, pts.sum(1)))
    model = toys.a_or_b_model()
    x = torch.tensor(pts, dtype=torch.float32, requires_grad=True)
    out = model(x)
    np.testing.assert_allclose(out.detach().numpy()[:, 0], toys.a_or_b(pts), atol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[3], [0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy()[2], [1.0, 1.0])


def test_a_or_b_model_is_a_sequential_that_deeplift_accepts():
    import torch

    from lime_core.gradients import deeplift

    model = toys.a_or_b_model()
    assert isinstance(model, torch.nn.Sequential)
    assert [type(layer).__name__ for layer in model] == ["Linear", "ReLU", "Linear"]
    x = np.array([[1.0, 1.0], [0.3, 0.2]], dtype=np.float32)
    lift = deeplift(model, x, target=0, baseline=0.0)
    # completeness: f(x) - f(0) = a_or_b(x) - 0; at (1, 1) each input gets 1/2 by symmetry
    np.testing.assert_allclose(lift.sum(axis=1), toys.a_or_b(x), atol=1e-6)
    np.testing.assert_allclose(lift[0], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(lift[1], [0.3, 0.2], atol=1e-6)


def test_football_game_is_reexported_not_redefined():
    import lime_core.zoo as zoo

    shapley = pytest.importorskip("lime_core.shapley")
    assert zoo.football_game is shapley.football_game


# --------------------------------------------------------------------------- images


def test_husky_wolf_splits_have_documented_shapes_and_shortcut():
    train = images.load_husky_wolf("train", n=200, random_state=5)
    again = images.load_husky_wolf("train", n=200, random_state=5)
    assert train.images.tobytes() == again.images.tobytes()
    assert train.images.shape == (200, 64, 64, 3) and train.images.dtype == np.float32
    assert train.images.min() >= 0 and train.images.max() <= 1
    assert train.masks.shape == (200, 64, 64) and train.boxes.shape == (200, 4)
    assert train.labels.mean() == 0.5
    assert 0.9 <= (train.backgrounds == train.labels).mean() <= 1.0
    swapped = images.load_husky_wolf("swapped", n=50, random_state=5)
    assert np.all(swapped.backgrounds != swapped.labels)
    test = images.load_husky_wolf("test", n=50, random_state=5)
    assert test.images.tobytes() != swapped.images.tobytes()
    # masks: the animal is a sizeable blob inside its box
    frac = train.masks.mean(axis=(1, 2))
    assert np.all((frac > 0.03) & (frac < 0.4))
    r0, c0, r1, c1 = train.boxes[0]
    assert train.masks[0].sum() == train.masks[0, r0:r1, c0:c1].sum()
    with pytest.raises(ValueError, match="split"):
        images.load_husky_wolf("validation")


def test_husky_wolf_cnn_learned_the_background():
    model = images.load_husky_wolf_cnn()
    test = images.load_husky_wolf("test")
    swapped = images.load_husky_wolf("swapped")
    acc_test = (model.predict(test.images) == test.labels).mean()
    acc_swapped = (model.predict(swapped.images) == swapped.labels).mean()
    assert acc_test >= 0.9
    assert acc_swapped <= acc_test - 0.25
    p = model.predict_proba(test.images[:3])
    assert p.shape == (3, 2) and np.allclose(p.sum(1), 1)
    import torch

    logits = model.module(torch.from_numpy(test.images[:3].transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(), p, atol=1e-5)
    with pytest.raises(ValueError, match="images"):
        model.predict_proba(test.images[0])


def test_scenes_have_consistent_labels_masks_and_boxes():
    data = images.load_scenes("test", n=60, random_state=2)
    assert data.images.shape == (60, 64, 64, 3)
    assert data.labels.shape == (60, 5) and data.masks.shape == (60, 5, 64, 64)
    assert data.boxes.shape == (60, 5, 4)
    assert set(data.labels.sum(1)) <= {2, 3}
    np.testing.assert_array_equal(data.masks.any(axis=(2, 3)), data.labels == 1)
    assert np.all(data.boxes[data.labels == 0] == -1)
    i, j = np.argwhere(data.labels == 1)[0]
    r0, c0, r1, c1 = data.boxes[i, j]
    assert data.masks[i, j].sum() == data.masks[i, j, r0:r1, c0:c1].sum()
    # objects never overlap: each pixel belongs to at most one class
    assert data.masks.sum(axis=1).max() == 1


def test_scenes_cnn_names_every_object_in_its_top_k():
    model = images.load_scenes_cnn()
    data = images.load_scenes("test")
    scores = model.predict_proba(data.images)
    assert ((scores > 0.5) == (data.labels == 1)).mean() >= 0.95
    k = data.labels.sum(1)
    top = np.argsort(-scores, axis=1)
    exact = [set(top[i, :k[i]]) == set(np.flatnonzero(data.labels[i])) for i in range(len(k))]
    assert np.mean(exact) >= 0.85


def test_digits_are_upscaled_sklearn_digits_and_cnn_is_accurate():
    from sklearn.datasets import load_digits as sk_digits

    train = images.load_digits(split="train", random_state=0)
    test = images.load_digits(split="test", random_state=0)
    assert train.images.shape[1:] == (32, 32, 3) and len(train.labels) + len(test.labels) == 1797
    assert np.array_equal(train.images[..., 0], train.images[..., 2])
    # upscaling keeps the 8x8 picture: block means track the original pixels
    raw = sk_digits()
    first = np.flatnonzero((raw.target == train.labels[0]))
    blocks = train.images[0, :, :, 0].reshape(8, 4, 8, 4).mean(axis=(1, 3))
    best = min(np.abs(raw.images[j] / 16 - blocks).mean() for j in first)
    assert best < 0.1
    model = images.load_digits_cnn()
    assert (model.predict(test.images) == test.labels).mean() >= 0.95


@pytest.mark.slow
def test_cnn_training_is_seeded_and_leaves_global_rng_alone():
    import torch

    data = images.load_digits(split="test", size=32, random_state=0)
    state = torch.get_rng_state().clone()
    a = images.train_cnn(data.images[:32], data.labels[:32], 10, epochs=1, random_state=7)
    b = images.train_cnn(data.images[:32], data.labels[:32], 10, epochs=1, random_state=7)
    assert torch.equal(state, torch.get_rng_state())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_photos_and_analytical_models():
    for name in ("cat", "astronaut", "coffee"):
        img = images.load_photo(name, size=48)
        assert img.shape == (48, 48, 3) and 0 <= img.min() and img.max() <= 1
    img = images.load_photo("cat", size=32)
    lin = images.linear_image_model((32, 32, 3), random_state=0, bias=0.5)
    batch = np.stack([img, np.zeros_like(img)])
    np.testing.assert_allclose(lin(batch), [np.sum(lin.weights * img) + 0.5, 0.5])
    assert lin.weights.max() > 0 > lin.weights.min()
    shape = np.zeros((32, 32), dtype=bool)
    shape[10:14, 10:14] = True
    det = images.shape_detector_model(shape, threshold=0.5)
    lit, dark = np.ones((32, 32, 3)), np.ones((32, 32, 3))
    dark[12, 12, 1] = 0.2
    np.testing.assert_array_equal(det(np.stack([lit, dark])), [1.0, 0.0])
    with pytest.raises(ValueError, match="name"):
        images.load_photo("dog")


def test_imagenet_wrapper_never_downloads():
    status = images.imagenet_status()
    assert isinstance(status, str) and status.endswith(".")
    if "available offline" not in status:
        with pytest.raises(RuntimeError, match="zoo CNNs"):
            images.load_imagenet_classifier()


def _fingerprint(data) -> bytes:
    """Bytes of every array and text field of a dataset dataclass."""
    import dataclasses

    parts = []
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if isinstance(value, np.ndarray):
            parts.append(value.tobytes())
        elif isinstance(value, list):
            parts.append("\x00".join(value).encode())
    return b"".join(parts)


@pytest.mark.parametrize("load", [
    lambda s: text.load_sentiment(50, 20, random_state=s),
    lambda s: newsgroups.load_newsgroups(20, 20, random_state=s),
    lambda s: books.load_books(50, 20, random_state=s),
    lambda s: tabular.load_flu(50, 20, random_state=s),
    lambda s: tabular.load_breast_cancer(random_state=s),
    lambda s: toys.load_two_moons(40, random_state=s),
    lambda s: images.load_husky_wolf("test", n=6, random_state=s),
    lambda s: images.load_scenes("test", n=6, random_state=s),
    lambda s: images.load_digits(split="test", random_state=s),
], ids=["sentiment", "newsgroups", "books", "flu", "breast_cancer", "two_moons",
        "husky_wolf", "scenes", "digits"])
def test_every_loader_same_seed_same_bytes(load):
    a, b, c = load(11), load(11), load(12)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)
    assert a.random_state == 11
    # a Generator is used as given and recorded
    rng = np.random.default_rng(11)
    assert load(rng).random_state is rng


def test_loaders_reject_bad_arguments():
    with pytest.raises(ValueError, match="n_train"):
        text.load_sentiment(0)
    with pytest.raises(TypeError, match="random_state"):
        books.load_books(random_state="seed")
    with pytest.raises(ValueError, match="size"):
        images.load_husky_wolf("train", n=2, size=60)
    with pytest.raises(ValueError, match="split"):
        images.load_scenes("swapped")
    with pytest.raises(TypeError, match="shape_mask"):
        images.shape_detector_model(np.ones((4, 4)))


def test_image_model_logits_are_the_module_output_in_batches():
    import torch

    model = images.load_digits_cnn()
    batch = images.load_digits(split="test").images[:7]
    small = images.ImageModel(model.module, model.class_names, model.image_size, batch_size=3)
    with torch.no_grad():
        expected = model.module(torch.as_tensor(batch.transpose(0, 3, 1, 2).astype(np.float32))).numpy()
    out = small.logits(batch)                      # three batches: 3 + 3 + 1
    assert out.shape == (7, len(model.class_names)) and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    # softmax of the logits is predict_proba
    soft = np.exp(out - out.max(axis=1, keepdims=True))
    np.testing.assert_allclose(soft / soft.sum(axis=1, keepdims=True), model.predict_proba(batch), atol=1e-6)
    with pytest.raises(ValueError, match="images"):
        model.logits(batch[0])
    with pytest.raises(ValueError, match="images"):
        model.logits(np.zeros((1, 8, 8, 3)))
