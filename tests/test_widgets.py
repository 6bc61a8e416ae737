"""Headless tests of the course widgets (no front end: setting a trait fires observers).

Every widget is built on zoo data (or a planted toy where the answer is known in
closed form), its controls are moved, its animation stepped, and the state and the
plotted data are checked against lime_core, scikit-learn-free closed forms, or the
reference definitions. Throttling is switched off (``debounce=0``) except in the
tests of the throttle itself. Tests marked ``slow`` load a zoo model (the husky/wolf CNN,
the two-moons network, the sentiment model) or torch, a few seconds on a 2-core laptop.
"""

from __future__ import annotations

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")

from lime_core.kernels import cosine_distance, euclidean_distance, exponential_kernel  # noqa: E402
from lime_core.surrogate import fit_surrogate, weighted_ridge  # noqa: E402
from widgets._base import AnimatedWidget, CountingModel, Throttle  # noqa: E402
from widgets._paths import ridge_path  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def husky():
    from lime_core.zoo.images import load_husky_wolf, load_husky_wolf_cnn

    data = load_husky_wolf(split="test", n=2, size=64, random_state=0)
    model = load_husky_wolf_cnn()
    return np.asarray(data.images[0], dtype=float), model


@pytest.fixture(scope="module")
def sentiment():
    from lime_core.zoo.text import load_sentiment, train_sentiment_bow

    data = load_sentiment(n_train=600, n_test=50, random_state=0)
    return data, train_sentiment_bow(data)


@pytest.fixture(scope="module")
def moons():
    from lime_core.zoo.toys import load_two_moons, train_two_moons_model

    data = load_two_moons(random_state=0)
    return data, train_two_moons_model(data)


def _assert_static_fallback(w: AnimatedWidget) -> None:
    bundle = w._repr_mimebundle_()
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert w.image.value[:4] in (PNG_MAGIC[:4], b"\xff\xd8\xff\xe0")


# --------------------------------------------------------------------------- base


def test_counting_model_counts_calls_and_rows():
    m = CountingModel(lambda b: np.ones((len(b), 2)))
    m(np.zeros((3, 1)))
    out = m.predict(np.zeros((5, 1)))
    assert (m.calls, m.rows) == (2, 8)
    assert out.shape == (5, 2)
    with pytest.raises(TypeError, match="classifier_fn must be callable"):
        CountingModel(3)


def test_throttle_holds_updates_until_flushed():
    applied = []
    t = Throttle(lambda: applied.append(len(applied)), interval=60.0)
    t()  # first call: applied at once
    t()  # within the interval: held
    t()
    assert applied == [0] and t.pending
    t.flush()
    assert applied == [0, 1] and not t.pending
    t.flush()  # nothing held: no-op
    assert applied == [0, 1]
    immediate = []
    t0 = Throttle(lambda: immediate.append(1), interval=0)
    for _ in range(3):
        t0()
    assert immediate == [1, 1, 1]


def test_ridge_path_equals_weighted_ridge_on_every_prefix():
    rng = np.random.default_rng(3)
    Z = rng.integers(0, 2, size=(150, 12)).astype(float)
    Z[0] = 1
    y = Z @ rng.normal(size=12) + 0.1 * rng.normal(size=150)
    w = rng.random(150)
    path = ridge_path(Z, y, w, alpha=0.5, refresh=16)
    for n in (2, 7, 13, 64, 99, 150):
        coef, intercept = weighted_ridge(Z[:n], y[:n], w[:n], alpha=0.5)
        np.testing.assert_allclose(path.coef[n - 1], coef, atol=1e-9)
        assert path.intercept[n - 1] == pytest.approx(intercept, abs=1e-9)
    with pytest.raises(ValueError, match="alpha"):
        ridge_path(Z, y, w, alpha=0.0)


# --------------------------------------------------------------------------- image player


@pytest.fixture
def player(husky):
    from widgets.image_player import ImagePerturbationPlayer

    image, model = husky
    return ImagePerturbationPlayer(image, model.predict_proba, segmentation="slic",
                                   granularity="medium", num_samples=120, num_features=4,
                                   debounce=0, random_state=7, class_names=model.class_names)


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_state_matches_lime_core(player, husky):
    from lime_core.lime_image import explain_image

    image, model = husky
    N, d = player.num_samples, player.num_superpixels
    assert player.masks.shape == (N, d) and player.masks[0].all()
    assert player.model_calls == -(-N // player.batch_size)
    # the cached predictions are the model's outputs on the perturbed images
    for i in (0, 5, 77):
        np.testing.assert_allclose(player.predictions[i],
                                   model.predict_proba(player.perturbed_image(i)[None])[0],
                                   atol=1e-6)
    np.testing.assert_allclose(player.weights, exponential_kernel(
        cosine_distance(player.masks.astype(float)), 0.25))
    # same seed, same segments: the final fit is explain_image's
    exp = explain_image(image, model.predict_proba, segments=player.segments,
                        labels=[player.target], num_samples=N, num_features=4,
                        kernel_width=0.25, random_state=7)
    np.testing.assert_allclose(exp.predictions, player.predictions, atol=1e-12)
    np.testing.assert_allclose(player.fit.coef, exp.fits[player.target].coef, atol=1e-9)


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_coefficients_after_n_steps_equal_fit_on_first_n(player):
    d = player.num_superpixels
    for _ in range(30):
        player.step()
    assert player.frame == 30
    Z = player.masks[:30].astype(float)
    ref = fit_surrogate(Z, player.y[:30], player.weights[:30], num_features=d,
                        feature_selection="none", alpha=player.alpha)
    np.testing.assert_allclose(player.coefficients_at(30), ref.coef, atol=1e-8)
    np.testing.assert_allclose(player.shown_coef, ref.coef[player.shown_features], atol=1e-8)
    np.testing.assert_allclose(player.shown_stderr, ref.stderr[player.shown_features],
                               atol=1e-8)
    # plotted data: each path line holds n points, the sample panel the 30th image
    for line, j in zip(player.path_lines, player.shown_features, strict=True):
        x, y = line.get_data()
        assert len(x) == 30
        np.testing.assert_allclose(y, player.path.coef[:30, j])
    np.testing.assert_allclose(player.im_sample.get_array(),
                               np.clip(player.perturbed_image(29), 0, 1))
    widths = [bar.get_width() for bar in player.bars]
    np.testing.assert_allclose(widths, player.shown_coef)


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_refit_knobs_make_no_model_calls(player):
    calls = player.model_calls
    for _ in range(10):
        player.step()
    old_weights = player.weights.copy()
    old_coef = player.path.coef.copy()
    player.kernel_width_control.value = 1.0
    np.testing.assert_allclose(player.weights, exponential_kernel(player.distances, 1.0))
    assert not np.allclose(player.weights, old_weights)
    assert not np.allclose(player.path.coef, old_coef)
    player.num_features_control.value = 2
    assert len(player.fit.features) == 2 and len(player.bars) == 2
    player.alpha_control.value = 10.0
    player.feature_selection_control.value = "highest_weights"
    player.target_control.value = 1 - player.target
    np.testing.assert_allclose(player.y, player.predictions[:, player.target])
    assert player.model_calls == calls
    assert player.frame == 10  # the animation position is kept
    assert player.error_area.value == ""


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_rerun_knobs_query_the_model_again(player):
    calls = player.model_calls
    batches = -(-player.num_samples // player.batch_size)
    player.segmentation_control.value = "grid"
    assert player.num_superpixels == 25  # medium grid: 5 x 5
    assert player.model_calls == calls + batches
    player.baseline_control.value = "black"
    assert np.all(player.replacement_array == 0.0)
    assert player.model_calls == calls + 2 * batches
    player.num_samples_control.value = 60
    assert player.masks.shape == (60, 25) and player.num_frames == 61
    # the segmentation is cached: switching back does not segment again
    cached = dict(player._segment_cache)
    player.segmentation_control.value = "slic"
    assert set(player._segment_cache) == set(cached)


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_last_frame_overlays_top_k_of_final_fit(player):
    player.go_to(-1)
    assert player.frame == player.num_samples
    top = player.fit.features[np.argsort(-np.abs(player.fit.coef[player.fit.features]))]
    np.testing.assert_array_equal(np.sort(player.overlay_features), np.sort(top[:4]))
    overlay = player.im_overlay.get_array()
    coloured = np.unique(player.segment_index[overlay[..., 3] > 0])
    np.testing.assert_array_equal(coloured, np.sort(top[:4]))
    player.reset()
    assert player.frame == 0 and player.frame_slider.value == 0
    assert np.all(player.im_overlay.get_array()[..., 3] == 0)


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_errors_go_to_the_error_area_and_widget_keeps_working(husky):
    from widgets.image_player import ImagePerturbationPlayer

    image, model = husky
    state = {"fail": False}

    def flaky(batch):
        if state["fail"]:
            raise RuntimeError("model server went away")
        return model.predict_proba(batch)

    w = ImagePerturbationPlayer(image, flaky, segmentation="grid", num_samples=40, debounce=0)
    state["fail"] = True
    w.baseline_control.value = "blur"
    assert "RuntimeError: model server went away" in w.error_area.value
    assert w.baseline_control.value == "blur"  # the user's setting is kept
    state["fail"] = False
    w.kernel_width_control.value = 0.5  # refit from the cached outputs still works
    assert w.error_area.value == ""
    w.step()
    assert w.frame == 1


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_throttles_kernel_width_until_step(husky):
    from widgets.image_player import ImagePerturbationPlayer

    image, model = husky
    w = ImagePerturbationPlayer(image, model.predict_proba, segmentation="grid",
                                num_samples=40, debounce=60.0)
    refits = w.refits
    w.kernel_width_control.value = 0.4  # first move: applied at once
    w.kernel_width_control.value = 0.6  # held
    w.kernel_width_control.value = 0.8  # held (replaces the previous)
    assert w.refits == refits + 1
    w.step()  # flushes the held update before advancing
    assert w.refits == refits + 2
    np.testing.assert_allclose(w.weights, exponential_kernel(w.distances, 0.8))


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_static_fallback_and_small_multiples(player):
    _assert_static_fallback(player)
    fig = player.show_static(frames=[0, 10, 120], ncols=2)
    assert len(fig.axes) == 3
    assert player.frame == 0  # the live view is untouched
    with pytest.raises(ValueError, match="segmentation must be one of"):
        type(player)(player.image_array, lambda b: np.ones((len(b), 2)) / 2,
                     segmentation="watershed")


# --------------------------------------------------------------------------- 2-D


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_lime_2d_animation_and_kernel_width(moons):
    from widgets.lime_2d import LimeIntuition2D

    data, model = moons
    w = LimeIntuition2D(model.predict_proba, data=data.X_train, num_samples=80, debounce=0,
                        resolution=40)
    assert w.model_calls == 2  # decision regions + the samples
    np.testing.assert_array_equal(w.samples[0], w.x)
    for _ in range(25):
        w.step()
    beta, b = w.coefficients_at(25)
    ref, ref_b = weighted_ridge(w.samples[:25], w.y[:25], w.weights[:25], alpha=w.alpha)
    np.testing.assert_allclose(beta, ref, atol=1e-8)
    assert b == pytest.approx(ref_b, abs=1e-8)
    np.testing.assert_allclose(w.scatter.get_offsets(), w.samples[:25])
    xs, ys = w.boundary.get_data()
    np.testing.assert_allclose(b + beta[0] * np.asarray(xs) + beta[1] * np.asarray(ys), 0.5,
                               atol=1e-9)
    sizes = w.scatter.get_sizes().copy()
    w.kernel_width_control.value = 0.1
    assert w.model_calls == 2
    np.testing.assert_allclose(w.weights, exponential_kernel(
        euclidean_distance(w.samples, w.x), 0.1))
    assert not np.allclose(w.scatter.get_sizes(), sizes)
    # moving the instance: one new model call, the cloud follows
    w.x1_control.value = 1.2
    assert w.model_calls == 3
    np.testing.assert_allclose(w.samples[0], [1.2, w.x2_control.value])
    np.testing.assert_allclose(w.predictions, model.predict_proba(w.samples))
    w.num_samples_control.value = 30
    assert w.num_frames == 31 and w.model_calls == 4
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- text


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_text_player_counterfactual_clicks(sentiment):
    from lime_core.perturbation import perturb_text, tokenise
    from widgets.text_player import TextPerturbationPlayer

    data, model = sentiment
    text = "the movie was not truly enjoyable , in fact it was not superb !"
    w = TextPerturbationPlayer(text, model.predict_proba, num_samples=150, debounce=0)
    calls = w.model_calls
    assert w.words == tokenise(text).features
    j = w.words.index("enjoyable")
    w.token_buttons[j].value = True  # a click
    assert w.model_calls == calls + 1
    expected = model.predict_proba(["the movie was not truly  , in fact it was not superb !"])
    np.testing.assert_allclose(w.counterfactual_proba, expected[0])
    assert "enjoyable" not in w.counterfactual_text()
    assert f"{expected[0][w.target]:.3f}" in w.counterfactual.value
    w.restore()
    assert w.model_calls == calls + 1 and not w.removed.any()
    # the perturbed sentences are lime_core's
    assert w.texts[:5] == perturb_text(tokenise(text), w.masks[:5])


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_text_player_lime_animation_matches_lime_text(sentiment):
    from lime_core.lime_text import explain_text
    from widgets.text_player import TextPerturbationPlayer

    data, model = sentiment
    text = data.test_texts[0]
    w = TextPerturbationPlayer(text, model.predict_proba, num_samples=200, debounce=0,
                               random_state=3)
    exp = explain_text(text, model.predict_proba, labels=[w.target], num_samples=200,
                       num_features=w.num_words, feature_selection="none", random_state=3)
    np.testing.assert_allclose(w.fit.coef, exp.fits[w.target].coef, atol=1e-9)
    np.testing.assert_allclose(w.coefficients_at(200), w.fit.coef, atol=1e-8)
    calls = w.model_calls
    w.kernel_width_control.value = 60.0
    assert w.model_calls == calls
    np.testing.assert_allclose(w.weights, exponential_kernel(
        100 * cosine_distance(w.masks.astype(float)), 60.0))
    assert all(b.style.button_color is None for b in w.token_buttons)
    w.go_to(5)  # the words removed in sample 5 are veiled, the others are not
    veiled = {f for veil, f in w.veils if f >= 0 and veil.get_visible()}
    assert veiled == set(np.flatnonzero(~w.masks[4]))
    w.go_to(-1)
    assert all(b.style.button_color for b in w.token_buttons)
    widths = [bar.get_width() for bar in w.bars]
    np.testing.assert_allclose(widths, w.bar_values(w.path.coef[-1]))
    # the bars are the top words of the final fit, then one bar for the rest (their sum)
    top = np.argsort(-np.abs(w.fit.coef), kind="stable")[:len(w.bar_features)]
    np.testing.assert_array_equal(w.bar_features, top)
    if len(w.grouped_features):
        assert widths[-1] == pytest.approx(w.path.coef[-1][w.grouped_features].sum())
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- kernel width


def test_kernel_width_explorer_limit_is_lime_limit():
    from lime_core.segmentation import grid_segments
    from lime_core.theory import lime_limit, linear_model, linear_model_limit
    from widgets.kernel_width import KernelWidthExplorer

    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 3))
    weights = rng.normal(size=image.shape)
    f = linear_model(weights, bias=0.3)
    segments = grid_segments((12, 12), 2, 2)
    w = KernelWidthExplorer(image, f, segments, num_samples=300, alpha=0.0,
                            widths=[0.1, 0.25, 1.0, 3.0])
    assert w.model_calls == 1 + 2  # all 16 masks in one batch, 300 samples in two
    for r, nu in enumerate(w.widths):
        ref = lime_limit(f, image, segments, "superpixel_mean", kernel_width=float(nu), target=0)
        np.testing.assert_allclose(w.limit[r], ref.coefficients, atol=1e-10)
    # a linear model is explained exactly, whatever the width (no penalty)
    exact = linear_model_limit(weights, image, segments, "superpixel_mean", bias=0.3).coefficients
    np.testing.assert_allclose(w.empirical, np.tile(exact, (4, 1)), atol=1e-8)
    np.testing.assert_allclose(w.limit, np.tile(exact, (4, 1)), atol=1e-8)
    # the frames walk through the widths
    w.go_to(2)
    assert w.nu == 1.0
    np.testing.assert_allclose(w.im_coef.get_array(), w.empirical[2][w.segment_index])


def test_kernel_width_explorer_refits_without_calls_and_flags_sign_changes():
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    image = np.zeros((8, 8, 3))
    image[:4] = 1.0
    segments = grid_segments((8, 8), 2, 2)

    def f(batch):  # two outputs: brightness of the top half, and its square
        top = np.asarray(batch)[:, :4].mean(axis=(1, 2, 3))
        return np.c_[top, 1.0 - top**2]

    w = KernelWidthExplorer(image, f, segments, num_samples=200,
                            baseline=0.5, widths=np.geomspace(0.05, 5, 9))
    calls = w.model_calls
    w.target_control.value = 1 - w.target
    assert w.model_calls == calls
    signs = np.sign(w.limit)
    expected = [j for j in range(w.d) if (signs[:, j] > 0).any() and (signs[:, j] < 0).any()]
    assert w.sign_flips == expected
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- IG


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_ig_path_a_or_b():
    from lime_core.gradients import integrated_gradients
    from lime_core.zoo.toys import a_or_b_model
    from widgets.ig_path import IntegratedGradientsPath

    w = IntegratedGradientsPath(steps=40, method="riemann_middle")
    np.testing.assert_array_equal(w.plain_gradient, [0.0, 0.0])  # saturated at (1, 1)
    w.go_to(-1)
    np.testing.assert_allclose(w.running_sum(), [0.5, 0.5], atol=1e-6)  # closed form
    ref = integrated_gradients(a_or_b_model(), np.ones((1, 2), np.float32), target=None,
                               steps=40, method="riemann_middle")
    np.testing.assert_allclose(w.attributions, ref[0], atol=1e-6)
    w.go_to(10)
    assert w.alpha == pytest.approx((10 - 0.5) / 40)
    heights = [bar.get_height() for bar in w.bars_input]
    np.testing.assert_allclose(heights, [w.alpha, w.alpha], atol=1e-6)
    np.testing.assert_allclose(w.running_sum(), [10 / 40, 10 / 40], atol=1e-6)
    calls = w.model_calls
    w.steps_control.value = 8
    assert w.model_calls > calls and w.num_frames == 9
    # completeness gap of the middle rule vanishes for this piecewise-linear path
    assert np.all(w.gaps["riemann_middle"] < 1e-5)
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- Shapley


def test_shapley_explorer_football_game():
    from lime_core.shapley import football_game, shapley_permutation
    from widgets.shapley import ShapleyExplorer

    w = ShapleyExplorer(num_permutations=30, random_state=5, repeats=2)
    np.testing.assert_allclose(w.exact, [46.0, 22.0, 22.0])
    w.go_to(-1)
    ref = shapley_permutation(football_game().value_fn, 3, 30, random_state=5,
                              antithetic=False)
    np.testing.assert_allclose(w.estimate(), ref.values)
    # every order's contributions add up to v(N) (efficiency)
    np.testing.assert_allclose(w.contributions.sum(axis=1), 90.0)
    w.go_to(3)
    np.testing.assert_allclose([b.get_height() for b in w.bars_mean],
                               w.contributions[:3].mean(axis=0))
    # KernelSHAP is exact once the budget covers all 2^3 - 2 coalitions
    covered = np.asarray(w.budgets) >= 6
    assert np.all(w.kernel_shap_error[covered] < 1e-9)
    w.game_control.value = "glove game 1+2"
    np.testing.assert_allclose(w.exact, [2 / 3, 1 / 6, 1 / 6])
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- curves


def test_deletion_insertion_curves_rank_a_planted_map():
    from lime_core.metrics import deletion_curve
    from lime_core.segmentation import grid_segments
    from widgets.curves import DeletionInsertionCurves

    rng = np.random.default_rng(1)
    image = 0.2 * rng.random((16, 16, 3))
    image[:8, :8] += 0.8  # a bright quarter, which the model measures
    lam = np.zeros((16, 16, 3))
    lam[:8, :8] = 1.0  # the model only looks at the top-left quarter

    def f(batch):
        s = (np.asarray(batch) * lam).reshape(len(batch), -1).sum(axis=1) / lam.sum()
        return np.c_[s, 1 - s]

    maps = {"truth": lam.sum(axis=2), "opposite": -lam.sum(axis=2),
            "random": rng.random((16, 16))}
    w = DeletionInsertionCurves(image, f, maps, target=0, steps=8, patch_size=4)
    auc = w.auc("deletion")
    assert auc["truth"] < auc["random"] < auc["opposite"]
    assert w.auc("insertion")["truth"] > w.auc("insertion")["opposite"]
    ref = deletion_curve(f, image, maps["truth"], target=0, steps=8, unit="superpixel",
                         segments=grid_segments((16, 16), 4, 4), baseline="zero")
    np.testing.assert_allclose(w.deletion["truth"].scores, ref.scores)
    assert w.model_calls == 6  # one batch per curve
    w.go_to(2)  # 4 of 16 patches removed: the model's whole quarter
    deleted, _ = w.step_images(2, "truth")
    assert np.all(deleted[:8, :8] == 0) and np.all(deleted[8:] == image[8:])
    x, y = w.lines["truth"][0].get_data()
    assert len(x) == 3
    np.testing.assert_allclose(y, w.deletion["truth"].scores[:3])
    w.method_control.value = "random"
    assert w.model_calls == 6
    _assert_static_fallback(w)


# --------------------------------------------------------------------------- sanity


def test_sanity_cascade_small_cnn():
    import torch

    from lime_core.gradients import saliency
    from widgets.sanity import SanityCheckCascade, edge_detector

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 2)).eval()
    x = torch.rand(1, 3, 8, 8)
    methods = {"gradient": lambda m, x, t: saliency(m, x, target=t), "edges": edge_detector}
    w = SanityCheckCascade(net, x, target=0, methods=methods, random_state=0)
    assert w.layer_names == ["original", "3", "0"]
    assert w.num_frames == 3
    assert w.model_calls == 2 * 3
    rho = w.correlations(2)
    assert rho["edges"] == pytest.approx(1.0)
    assert rho["gradient"] < 0.9
    w.go_to(1)
    np.testing.assert_allclose(w.map_images[0].get_array(), w.result.maps["gradient"][1])
    np.testing.assert_allclose(w.cursor.get_xdata(), [1, 1])
    _assert_static_fallback(w)


@pytest.mark.filterwarnings("ignore:Passing unrecognized arguments:DeprecationWarning")
def test_optional_ipympl_instructor_mode():  # ipympl's own toolbar warns (traitlets)
    pytest.importorskip("ipympl")
    from widgets.shapley import ShapleyExplorer

    w = ShapleyExplorer(num_permutations=10, repeats=1, random_state=2)
    canvas = w.use_ipympl()
    assert canvas in w.children and w.image not in w.children
    assert w.use_ipympl() is canvas  # idempotent
    w.step()
    w.step()
    # the artists are updated in place and drawn by ipympl (nothing animated/blitted)
    np.testing.assert_allclose([b.get_height() for b in w.bars_mean],
                               w.contributions[:2].mean(axis=0))
    assert not any(b.get_animated() for b in w.bars_mean)
    assert w._repr_mimebundle_()["image/png"].startswith(PNG_MAGIC)


def test_kernel_width_explorer_without_closed_form_for_many_superpixels():
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    rng = np.random.default_rng(4)
    image = rng.random((20, 20, 3))

    def f(batch):
        return np.asarray(batch)[:, :10].mean(axis=(1, 2, 3))

    segments = grid_segments((20, 20), 5, 4)  # 20 superpixels: 2^20 masks is too many
    w = KernelWidthExplorer(image, f, segments, num_samples=100, widths=[0.2, 1.0, 5.0])
    assert not w.has_limit and np.isnan(w.limit).all()
    assert w.model_calls == 1 + 1  # the image itself, then the samples (no 2^d sweep)
    assert w.empirical.shape == (3, 20) and np.isfinite(w.empirical).all()
    assert "no closed form" in w.title.get_text()


# --------------------------------------------------------------------------- projector rules


def test_frame_worker_skips_frames_it_cannot_keep_up_with():
    import time

    from widgets._base import FrameWorker

    drawn = []

    def slow_draw(i):
        time.sleep(0.02)
        drawn.append(i)

    worker = FrameWorker(slow_draw)
    for i in range(50):  # Play's ticks arrive faster than one frame is drawn
        worker.request(i)
    assert worker.wait(5.0)
    assert drawn[-1] == 49  # the last frame is always drawn
    assert len(drawn) < 10 and worker.skipped == 50 - len(drawn)
    assert drawn == sorted(drawn)


def test_widget_picture_is_rendered_at_its_display_size_times_the_pixel_ratio():
    from PIL import Image

    from widgets import ShapleyExplorer

    w = ShapleyExplorer(num_permutations=5, repeats=1, debounce=0)
    width, height = w.display_size
    assert (width, height) == (round(100 * w.figsize[0]), round(100 * w.figsize[1]))
    assert w.image.layout.width == f"{width}px" and w.image.layout.height == f"{height}px"
    assert w.image.format == "png"
    import io

    png = Image.open(io.BytesIO(w.image.value))
    assert png.size == (2 * width, 2 * height)  # sharp on a 2x display, never scaled up
    w1 = ShapleyExplorer(num_permutations=5, repeats=1, debounce=0, pixel_ratio=1)
    assert Image.open(io.BytesIO(w1.image.value)).size == (width, height)
    with pytest.raises(ValueError, match="pixel_ratio"):
        ShapleyExplorer(pixel_ratio=0)
    # no twin "orders"/"order" sliders: the only slider is the frame slider
    assert w.controls == [w.game_control] and w.frame_slider.description == "orders drawn"


def test_play_in_the_kernel_skips_frames_and_ends_on_the_last_one():
    from widgets import ShapleyExplorer

    w = ShapleyExplorer(num_permutations=60, repeats=1, debounce=0.1)
    for i in range(1, 61):  # what jslink(Play, slider) sends, faster than frames are drawn
        w.frame_slider.value = i
    w.flush()
    assert w.frame == 60
    np.testing.assert_allclose([b.get_height() for b in w.bars_mean], w.running_mean[60])
    assert w._frames.drawn + w._frames.skipped == w._frames.requested == 60


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_lime_2d_red_cross_kernel_ring_axis_names_and_frame_kept(moons):
    from matplotlib.colors import to_rgba

    from widgets.lime_2d import LimeIntuition2D

    data, model = moons
    w = LimeIntuition2D(model.predict_proba, data=data.X_train, num_samples=60, debounce=0,
                        resolution=30, feature_names=("temperature", "age"))
    assert to_rgba(w.cross.get_color()) == to_rgba("red")  # the notebooks say "the red cross"
    assert w.ax.get_xlabel() == "temperature" and w.ax.get_ylabel() == "age"
    assert w.x1_control.description == "temperature"
    # the kernel width is visible at frame 0: a ring of radius w around x
    w.kernel_width_control.value = 0.3
    assert w.frame == 0 and w.ring.width == pytest.approx(0.6)
    np.testing.assert_allclose(w.ring.get_center(), w.x)
    for _ in range(12):
        w.step()
    w.x1_control.value = 1.0  # a new cloud, drawn at the same step (no reset to "press Play")
    assert w.frame == 12 and len(w.scatter.get_offsets()) == 12
    w.num_samples_control.value = 8  # fewer samples than the step: the last one
    assert w.frame == 8
    with pytest.raises(ValueError, match="feature_names"):
        LimeIntuition2D(model.predict_proba, data=data.X_train, feature_names=("a",))


def test_kernel_width_explorer_has_no_one_option_dropdown():
    from lime_core.segmentation import grid_segments
    from widgets import KernelWidthExplorer

    image = np.random.default_rng(0).random((8, 8, 3))

    def f(batch):  # one output
        return np.asarray(batch)[:, :4].mean(axis=(1, 2, 3))

    w = KernelWidthExplorer(image, f, grid_segments((8, 8), 2, 2), num_samples=50,
                            widths=[0.2, 1.0])
    assert w.target_control not in w.controls and w.target == 0


@pytest.mark.slow  # torch
def test_ig_path_offers_gauss_legendre():
    from lime_core.gradients import integrated_gradients
    from lime_core.zoo.toys import a_or_b_model
    from widgets.ig_path import IntegratedGradientsPath

    w = IntegratedGradientsPath(steps=8, debounce=0)
    assert "gausslegendre" in [v for _, v in w.method_control.options]
    w.method_control.value = "gausslegendre"
    w.go_to(-1)
    ref = integrated_gradients(a_or_b_model(), np.ones((1, 2), np.float32), target=None,
                               steps=8, method="gausslegendre")
    np.testing.assert_allclose(w.running_sum(), ref[0], atol=1e-6)
    assert "gausslegendre" in w.gaps


def test_widgets_take_baseline_and_still_accept_replacement_with_a_warning():
    """The vocabulary's name for what a switched-off superpixel shows is ``baseline``; the old
    widget keyword ``replacement=`` works for one release and names the new one."""
    from lime_core.segmentation import grid_segments
    from widgets import KernelWidthExplorer

    image = np.random.default_rng(0).uniform(size=(12, 12, 3))
    segments = grid_segments((12, 12), 2, 2)

    def f(batch):
        score = np.asarray(batch).reshape(len(batch), -1).mean(axis=1)
        return np.c_[score, 1 - score]

    new = KernelWidthExplorer(image, f, segments, num_samples=50, baseline=0.0, widths=[0.2, 1.0])
    with pytest.warns(DeprecationWarning, match="baseline="):
        old = KernelWidthExplorer(image, f, segments, num_samples=50, replacement=0.0, widths=[0.2, 1.0])
    np.testing.assert_allclose(new.empirical, old.empirical)
    assert not np.allclose(new.replacement_array, image)


def test_kernel_width_explorer_new_n_reuses_the_rows_it_already_predicted():
    """Same seed, new N: the first min(N_old, N_new) masks are the same rows, so only
    the new rows go to the model, and the result equals a fresh run at the new N."""
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    rng = np.random.default_rng(1)
    image = rng.random((8, 8, 3))
    segments = grid_segments((8, 8), 2, 2)
    rows = []

    def f(batch):
        rows.append(len(batch))
        return np.asarray(batch)[:, :4, :4].mean(axis=(1, 2, 3))[:, None]

    kw = dict(num_samples=100, batch_size=50, random_state=3, widths=[0.1, 0.5, 2.0])
    w = KernelWidthExplorer(image, f, segments, **kw)
    before = len(rows)
    w.num_samples_control.value = 150  # 100 rows known: one new batch of 50
    assert rows[before:] == [50]
    fresh = KernelWidthExplorer(image, f, segments, **{**kw, "num_samples": 150})
    np.testing.assert_array_equal(w.samples.Z, fresh.samples.Z)
    np.testing.assert_allclose(w.samples.predictions, fresh.samples.predictions)
    np.testing.assert_allclose(w.empirical, fresh.empirical)
    calls = w.model_calls
    w.num_samples_control.value = 50  # a prefix of what is known: no model call
    assert w.model_calls == calls
    # without an integer seed the masks differ run to run: nothing is reused
    w2 = KernelWidthExplorer(image, f, segments, **{**kw, "random_state": None})
    before = len(rows)
    w2.num_samples_control.value = 150
    assert rows[before:] == [50, 50, 50]


def test_kernel_width_explorer_new_n_predicts_only_the_new_rows_of_a_batch():
    """A batch that straddles the end of the stored rows sends only its new rows to the
    model (N 100 -> 130 with batches of 80: rows 80..99 are known, 100..129 are not)."""
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    rng = np.random.default_rng(1)
    image = rng.random((8, 8, 3))
    segments = grid_segments((8, 8), 2, 2)
    rows = []

    def f(batch):
        rows.append(len(batch))
        score = np.asarray(batch)[:, :4, :4].mean(axis=(1, 2, 3))
        return np.c_[score, 1 - score]

    kw = dict(num_samples=100, batch_size=80, random_state=3, widths=[0.1, 0.5, 2.0])
    w = KernelWidthExplorer(image, f, segments, **kw)
    before = len(rows)
    w.num_samples_control.value = 130
    assert rows[before:] == [30]
    fresh = KernelWidthExplorer(image, f, segments, **{**kw, "num_samples": 130})
    np.testing.assert_array_equal(w.samples.Z, fresh.samples.Z)
    np.testing.assert_allclose(w.samples.predictions, fresh.samples.predictions)
    for target in (0, 1):
        w.target_control.value = target
        fresh.target_control.value = target
        np.testing.assert_allclose(w.empirical, fresh.empirical)


def test_kernel_width_explorer_paths_equal_explanation_refit_for_every_class():
    """The sweep's empirical paths are Explanation.refit's coefficients (feature selection
    "none") for each class; a target change shows the class's own paths, calls no model
    and keeps one y-range for all classes."""
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    rng = np.random.default_rng(2)
    image = rng.random((12, 12, 3))
    segments = grid_segments((12, 12), 2, 3)

    def f(batch):
        b = np.asarray(batch)
        return np.c_[b[:, :6].mean(axis=(1, 2, 3)), b[:, :, :6].mean(axis=(1, 2, 3)),
                     b[:, 6:, 6:].mean(axis=(1, 2, 3))]

    w = KernelWidthExplorer(image, f, segments, num_samples=200, random_state=0,
                            widths=[0.1, 0.4, 2.0], debounce=0)
    calls, ylim = w.model_calls, w.ax_paths.get_ylim()
    for target in (2, 0, 1):
        w.target_control.value = target
        for r, nu in enumerate(w.widths):
            ref = w.explanation.refit(kernel_width=float(nu), labels=[target]).fits[target]
            np.testing.assert_allclose(w.empirical[r], ref.coef, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(w.emp_lines[0].get_ydata(), w.empirical[:, 0])
        assert w.ax_paths.get_ylim() == ylim
    assert w.model_calls == calls


def test_encode_png_round_trips_and_refuses_bad_arrays():
    import io

    from PIL import Image

    from widgets._base import encode_png

    rng = np.random.default_rng(0)
    for shape in [(1, 1, 3), (5, 7, 4), (64, 33, 3)]:
        picture = rng.integers(0, 256, shape, dtype=np.uint8)
        picture[: shape[0] // 2] = 255  # flat rows, as most of a figure
        data = encode_png(picture)
        assert data.startswith(PNG_MAGIC)
        decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        np.testing.assert_array_equal(decoded, picture[..., :3])
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="rgba"):
        encode_png(np.zeros((4, 4), dtype=np.uint8))


def _kernel_width_toy():
    from lime_core.segmentation import grid_segments
    from widgets.kernel_width import KernelWidthExplorer

    image = np.zeros((8, 8, 3))
    image[:4] = 1.0

    def f(batch):
        top = np.asarray(batch)[:, :4].mean(axis=(1, 2, 3))
        return np.c_[top, 1.0 - top]

    return KernelWidthExplorer(image, f, grid_segments((8, 8), 2, 2), num_samples=200,
                               baseline=0.5, widths=np.geomspace(0.05, 5, 9), debounce=0)


def _text_toy():
    from widgets.text_player import TextPerturbationPlayer

    def f(texts):
        good = np.array([t.count("good") + 0.5 * t.count("fine") for t in texts], float)
        p = 1 / (1 + np.exp(-(good - 1)))
        return np.c_[1 - p, p]

    w = TextPerturbationPlayer("a good film with a fine cast and a good end", f,
                               num_samples=60, debounce=0)
    w.go_to(5)
    return w


def _curves_toy():
    from widgets.curves import DeletionInsertionCurves

    rng = np.random.default_rng(1)
    image = rng.random((16, 16, 3))

    def f(batch):
        s = np.asarray(batch)[:, :8, :8].mean(axis=(1, 2, 3))
        return np.c_[s, 1 - s]

    maps = {"truth": np.pad(np.ones((8, 8)), ((0, 8), (0, 8))), "random": rng.random((16, 16))}
    w = DeletionInsertionCurves(image, f, maps, target=0, steps=8, patch_size=4, debounce=0)
    w.go_to(3)
    return w


@pytest.mark.parametrize("build, control, value", [
    (_kernel_width_toy, "target_control", 1),
    (_kernel_width_toy, "highlight_control", "next"),
    (_text_toy, "target_control", 0),
    (_curves_toy, "method_control", "random"),
])
def test_refit_knobs_redraw_no_background_and_draw_what_a_full_redraw_draws(build, control,
                                                                             value):
    """Knobs whose change keeps the axes (same limits, ticks and texts) draw only the
    changed artists on the saved background (issue 14: each answers within 0.2 s); the
    picture changes, and equals the picture of a full redraw of the same state."""
    w = build()
    w.to_rgba()
    before, draws = w.to_rgba(), w.background_draws
    control = getattr(w, control)
    if value == "next":
        value = (control.value + 1) % len(control.options)
    control.value = value
    w.flush()
    after = w.to_rgba()
    assert w.background_draws == draws
    assert not np.array_equal(before, after)
    w._invalidate()
    np.testing.assert_array_equal(w.to_rgba(), after)
    assert w.background_draws == draws + 1


@pytest.mark.slow  # loads a zoo model (torch / training) in its fixture
def test_image_player_target_k_and_selection_redraw_no_background(player):
    """The coefficient axes are symmetric about 0, so the other class (coefficients
    negated) fits the same limits; K and the selection change only the bars, their labels
    (the y-axis is drawn with the refit's artists) and the animated titles. None of them
    draws the figure again, each picture equals a full redraw, and the final fit's
    diamonds on the bars follow the change."""
    player.go_to(5)
    draws = player.background_draws
    ylim = player.ax_path.get_ylim()
    player.target_control.value = 1 - player.target
    assert player.ax_path.get_ylim() == ylim and ylim[0] == -ylim[1]
    for control, value in ((player.num_features_control, 5),
                           (player.feature_selection_control, "none")):
        before = player.to_rgba()
        control.value = value
        assert not np.array_equal(before, player.to_rgba())
    assert player.background_draws == draws
    assert [t.get_text() for t in player.ax_bars.get_yticklabels()] == \
        [f"sp {j}" for j in player.shown_features]
    x, y = player.final_marks.get_data()
    np.testing.assert_allclose(x, player.fit.coef[player.shown_features])
    np.testing.assert_allclose(y, np.arange(len(player.shown_features)))
    picture = player.to_rgba()
    player._invalidate()
    np.testing.assert_array_equal(player.to_rgba(), picture)
