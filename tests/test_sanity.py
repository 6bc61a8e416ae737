"""Tests for lime_core.sanity: model-randomisation sanity checks on a tiny CNN."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lime_core import sanity  # noqa: E402
from lime_core.gradients import saliency  # noqa: E402


def _tiny_cnn():
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * 12 * 12, 3),
    )
    return net.eval()


def _edge_detector(model, x, target):
    """Ignores the model: the 'explanation' is a function of the input alone."""
    return x.abs()


@pytest.fixture(scope="module")
def cascading():
    net = _tiny_cnn()
    x = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    before = [p.detach().clone() for p in net.parameters()]
    res = sanity.cascading_randomization(
        net, x, target=1, attribution_fn={"gradient": saliency, "edge": _edge_detector},
        random_state=0)
    return net, x, before, res


def test_layer_order_and_shapes(cascading):
    _, _, _, res = cascading
    assert res.layer_names == ["original", "5", "2", "0"]  # top (Linear) layer first
    assert res.method_names == ["gradient", "edge"]
    assert res.spearman.shape == res.ssim.shape == (2, 4)
    assert res.mode == "cascading" and res.random_state == 0
    assert len(res.maps["gradient"]) == 4 and res.maps["gradient"][0].shape == (12, 12)


def test_gradient_decorrelates_and_input_method_does_not(cascading):
    _, _, _, res = cascading
    grad, edge = res.spearman
    assert grad[0] == pytest.approx(1.0) and res.ssim[0, 0] == pytest.approx(1.0)
    assert grad[-1] < 0.5  # all layers random: the map no longer reflects the trained model
    np.testing.assert_allclose(edge, 1.0)  # the paper's point: it passes "explanation" tests
    np.testing.assert_allclose(res.ssim[1], 1.0)
    assert res.ssim[0, -1] < 0.9


def test_original_model_untouched_and_seeded(cascading):
    net, x, before, res = cascading
    for p, q in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, q)
    again = sanity.cascading_randomization(net, x, target=1, attribution_fn=saliency, random_state=0)
    np.testing.assert_array_equal(again.spearman[0], res.spearman[0])
    other = sanity.cascading_randomization(net, x, target=1, attribution_fn=saliency, random_state=1)
    assert not np.array_equal(other.maps["saliency"][-1], res.maps["gradient"][-1])


def test_independent_randomization_changes_one_layer_at_a_time():
    net = _tiny_cnn()
    x = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(2))
    res = sanity.independent_randomization(net, x, target=0, attribution_fn=saliency, random_state=3)
    assert res.layer_names == ["original", "0", "2", "5"]
    assert res.spearman[0, 0] == pytest.approx(1.0)
    assert np.all(res.spearman[0, 1:] < 0.95)
    only_first = sanity.independent_randomization(net, x, target=0, attribution_fn=saliency, layers=["0"],
                                                  random_state=3)
    np.testing.assert_allclose(only_first.spearman[0, 1], res.spearman[0, 1])


def test_similarity_helpers():
    rng = np.random.default_rng(0)
    a = rng.random((10, 10))
    assert sanity.spearman_similarity(a, a ** 3) == pytest.approx(1.0)
    assert sanity.spearman_similarity(a, -a) == pytest.approx(-1.0)
    assert sanity.ssim_similarity(a, 2 * a) == pytest.approx(1.0)
    assert np.isnan(sanity.ssim_similarity(a[0], a[0]))


def test_bad_input_is_rejected():
    net = _tiny_cnn()
    x = torch.rand(1, 1, 12, 12)
    with pytest.raises(TypeError, match="^model must be a torch.nn.Module"):
        sanity.cascading_randomization(lambda t: t, x, target=0, attribution_fn=saliency)
    with pytest.raises(TypeError, match="^attribution_fn must be an attribution method"):
        sanity.cascading_randomization(net, x, target=0, attribution_fn="saliency")
    with pytest.raises(ValueError, match="^layers must name layers"):
        sanity.independent_randomization(net, x, target=0, attribution_fn=saliency, layers=["1"])
    with pytest.raises(TypeError, match="^random_state"):
        sanity.cascading_randomization(net, x, target=0, attribution_fn=saliency, random_state=1.5)
    with pytest.raises(ValueError, match="^model has no layers"):
        sanity.cascading_randomization(torch.nn.ReLU(), x, target=0, attribution_fn=saliency)
