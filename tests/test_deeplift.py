"""DeepLIFT (rescale rule) and DeepSHAP: summation-to-delta, captum, shap, and the
implementation-invariance counterexample."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lime_core import gradients as G  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def mlp(seed: int = 0, activation=nn.ReLU) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 10), activation(), nn.Linear(10, 3)).double().eval()


def cnn(pool: nn.Module, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), pool,
        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16, 5),
    ).eval()


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_summation_to_delta_with_one_hidden_relu_layer():
    net = mlp()
    x, x0 = randn(8, 6, seed=1), randn(8, 6, seed=2)
    targets = [0, 1, 2, 0, 1, 2, 0, 1]
    attr = G.deeplift(net, x, target=targets, baseline=x0)
    with torch.no_grad():
        change = net(x)[range(8), targets] - net(x0)[range(8), targets]
    torch.testing.assert_close(attr.sum(dim=1), change, rtol=1e-10, atol=1e-12)


def test_summation_to_delta_through_max_pooling():
    net = cnn(nn.MaxPool2d(2)).double()
    x, x0 = randn(3, 3, 8, 8, seed=3), 0.5 * randn(3, 3, 8, 8, seed=4)
    attr = G.deeplift(net, x, target=4, baseline=x0)
    with torch.no_grad():
        change = net(x)[:, 4] - net(x0)[:, 4]
    torch.testing.assert_close(attr.sum(dim=(1, 2, 3)), change, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid])
def test_deeplift_equals_captum_on_an_mlp(activation):
    from captum.attr import DeepLift

    net = mlp(seed=5, activation=activation)
    x, x0 = randn(5, 6, seed=6), randn(5, 6, seed=7)
    ours = G.deeplift(net, x, target=1, baseline=x0)
    ref = DeepLift(net).attribute(x.clone(), x0, target=1)
    torch.testing.assert_close(ours, ref.detach(), rtol=1e-8, atol=1e-10)


def test_deeplift_equals_captum_on_a_cnn_without_max_pooling():
    # (captum's max-pool rule does not add up to the output change on this net,
    # so the comparison uses average pooling; ours is checked on max pooling above)
    from captum.attr import DeepLift

    net = cnn(nn.AvgPool2d(2))
    x, x0 = randn(2, 3, 8, 8, seed=8, dtype=torch.float32), torch.zeros(2, 3, 8, 8)
    ours = G.deeplift(net, x.numpy(), target=3)
    ref = DeepLift(net).attribute(x.clone(), x0, target=3).detach().numpy()
    assert isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-7)


def test_deeplift_of_a_linear_network_is_weight_times_difference():
    net = nn.Sequential(nn.Linear(4, 2)).double()
    x, x0 = randn(3, 4, seed=9), randn(4, seed=10)
    attr = G.deeplift(net, x, target=1, baseline=x0)
    torch.testing.assert_close(attr, net[0].weight[1].detach() * (x - x0))


def test_equal_input_and_baseline_give_zero_without_nans():
    net = mlp()
    x = randn(2, 6, seed=11)
    attr = G.deeplift(net, x, target=0, baseline=x)
    assert torch.equal(attr, torch.zeros_like(x))


def two_equal_networks() -> tuple[nn.Sequential, nn.Sequential]:
    """f = ReLU(ReLU(x1) - 1 - ReLU(x2)) and g = ReLU(ReLU(x1 - 1) - ReLU(x2)).

    Both compute the same function (Sundararajan et al., 2017, section 2.1),
    written with the bias in different places.
    """
    def build(first_bias, second_bias):
        net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU()).double()
        with torch.no_grad():
            net[0].weight.copy_(torch.eye(2, dtype=torch.float64))
            net[0].bias.copy_(torch.tensor(first_bias, dtype=torch.float64))
            net[2].weight.copy_(torch.tensor([[1.0, -1.0]], dtype=torch.float64))
            net[2].bias.fill_(second_bias)
        return net.eval()

    return build([0.0, 0.0], -1.0), build([-1.0, 0.0], 0.0)


def test_deeplift_breaks_implementation_invariance_but_ig_does_not():
    f, g = two_equal_networks()
    grid = randn(200, 2, seed=12) * 3
    with torch.no_grad():
        torch.testing.assert_close(f(grid), g(grid))  # the same function
    x = torch.tensor([[3.0, 1.0]], dtype=torch.float64)
    dl_f = G.deeplift(f, x, target=0)
    dl_g = G.deeplift(g, x, target=0)
    # worked out by hand in the lecture: (1.5, -0.5) against (2, -1)
    torch.testing.assert_close(dl_f, torch.tensor([[1.5, -0.5]], dtype=torch.float64))
    torch.testing.assert_close(dl_g, torch.tensor([[2.0, -1.0]], dtype=torch.float64))
    # both add up to f(x) - f(0) = 1: the difference is in how the credit is split
    assert dl_f.sum().item() == pytest.approx(1.0) and dl_g.sum().item() == pytest.approx(1.0)
    ig_f = G.integrated_gradients(f, x, target=0, steps=200, method="riemann_middle")
    ig_g = G.integrated_gradients(g, x, target=0, steps=200, method="riemann_middle")
    torch.testing.assert_close(ig_f, ig_g)
    torch.testing.assert_close(ig_f, torch.tensor([[1.5, -0.5]], dtype=torch.float64))


def test_deep_shap_with_one_baseline_is_deeplift():
    net = cnn(nn.MaxPool2d(2))
    x, x0 = randn(2, 3, 8, 8, seed=13, dtype=torch.float32), randn(1, 3, 8, 8, seed=14,
                                                                   dtype=torch.float32)
    torch.testing.assert_close(G.deep_shap(net, x, target=2, background=x0),
                               G.deeplift(net, x, target=2, baseline=x0[0]))


def test_deep_shap_adds_up_to_the_change_from_the_background_mean():
    net = mlp(seed=15)
    x, background = randn(4, 6, seed=16), randn(7, 6, seed=17)
    phi = G.deep_shap(net, x, target=2, background=background)
    with torch.no_grad():
        change = net(x)[:, 2] - net(background)[:, 2].mean()
    torch.testing.assert_close(phi.sum(dim=1), change)


@pytest.mark.slow  # importing shap takes a few seconds
def test_deep_shap_equals_shap_deep_explainer():
    shap = pytest.importorskip("shap")
    net = mlp(seed=18).float()
    x, background = randn(4, 6, seed=19).float(), randn(12, 6, seed=20).float()
    reference = np.asarray(shap.DeepExplainer(net, background).shap_values(x))  # (4, 6, 3)
    for label in range(3):
        ours = G.deep_shap(net, x.numpy(), target=label, background=background.numpy())
        np.testing.assert_allclose(ours, reference[..., label], rtol=1e-4, atol=1e-6)


def test_deeplift_and_deep_shap_reject_bad_input():
    net = mlp()
    x = randn(2, 6)

    class NotSequential(nn.Module):
        def forward(self, t):
            return t

    with pytest.raises(TypeError, match="^model"):
        G.deeplift(NotSequential(), x, target=0)
    with pytest.raises(TypeError, match="^model.*Softmax"):
        G.deeplift(nn.Sequential(nn.Linear(6, 3), nn.Softmax(dim=1)).double(), x, target=0)
    with pytest.raises(ValueError, match="^baseline"):
        G.deeplift(net, x, target=0, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="^target"):
        G.deeplift(net, x, target=3)
    with pytest.raises(ValueError, match="^baseline"):
        G.deep_shap(net, x, target=0, baseline=np.zeros((0, 6)))
    with pytest.raises(ValueError, match="^baseline"):
        G.deep_shap(net, x, target=0, baseline=np.zeros((3, 5)))


def test_in_place_relu_gives_the_same_attributions():
    net = mlp(seed=21)
    in_place = nn.Sequential(net[0], nn.ReLU(inplace=True), net[2]).eval()
    x, x0 = randn(3, 6, seed=22), randn(3, 6, seed=23)
    torch.testing.assert_close(G.deeplift(in_place, x, target=1, baseline=x0),
                               G.deeplift(net, x, target=1, baseline=x0))


def test_batchnorm_and_adaptive_pooling_in_eval_mode_match_captum():
    from captum.attr import DeepLift

    torch.manual_seed(24)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3),
    ).double()
    with torch.no_grad():  # non-trivial running statistics
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
    net.eval()
    x, x0 = randn(2, 3, 6, 6, seed=25), randn(2, 3, 6, 6, seed=26)
    ours = G.deeplift(net, x, target=1, baseline=x0)
    ref = DeepLift(net).attribute(x.clone(), x0, target=1)
    torch.testing.assert_close(ours, ref.detach(), rtol=1e-8, atol=1e-10)
    net.train()
    with pytest.raises(ValueError, match="^model must be in eval"):
        G.deeplift(net, x, target=1, baseline=x0)


def test_deep_shap_baseline_keyword_and_bounded_batches():
    torch = pytest.importorskip("torch")
    from lime_core.gradients import deep_shap

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)).double()
    x = torch.randn(3, 4, dtype=torch.float64)
    back = torch.randn(10, 4, dtype=torch.float64)
    a = deep_shap(net, x, target=1, baseline=back)
    b = deep_shap(net, x, target=1, background=back)
    c = deep_shap(net, x, target=[0, 1, 1], baseline=back, batch_size=3)  # chunks of 3 pairs
    assert torch.equal(a, b)
    # adds up to S(x) - mean_b S(x'_b), row by row, whatever the chunking
    with torch.no_grad():
        gap = net(x)[:, 1] - net(back)[:, 1].mean()
        gap_c = net(x)[torch.arange(3), torch.tensor([0, 1, 1])] - net(back)[:, [0, 1, 1]].mean(dim=0)
    assert torch.allclose(a.sum(dim=1), gap, atol=1e-10)
    assert torch.allclose(c.sum(dim=1), gap_c, atol=1e-10)
    with pytest.raises(TypeError, match="give baseline= only"):
        deep_shap(net, x, target=1, baseline=back, background=back)
    with pytest.raises(TypeError, match="baseline"):
        deep_shap(net, x, target=1)
