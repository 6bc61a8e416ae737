"""DeepLIFT / DeepSHAP / Integrated Gradients level with captum beyond nn.Sequential:
Module subclasses, several inputs, Conv1d/MaxPool1d, multiply_by_inputs=False."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lime_core import gradients as G  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:captum"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


class TwoBranch(nn.Module):
    """Not a Sequential: forward calls its layers by name, with a skip connection."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.act1 = nn.ReLU()
        self.fc2 = nn.Linear(8, 8)
        self.act2 = nn.Tanh()
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.act1(self.fc1(x))
        return self.head(self.act2(self.fc2(h)) + h)


class TwoInputs(nn.Module):
    """A model of two inputs: a (n, 4) table and a (n, 1, 10) signal."""

    def __init__(self):
        super().__init__()
        self.table = nn.Sequential(nn.Linear(4, 5), nn.ReLU())
        self.signal = nn.Sequential(nn.Conv1d(1, 3, 3), nn.ReLU(), nn.AvgPool1d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(5 + 12, 6), nn.Sigmoid(), nn.Linear(6, 2))

    def forward(self, table, signal):
        return self.head(torch.cat([self.table(table), self.signal(signal)], dim=1))


def conv1d_net(pool: nn.Module) -> nn.Module:
    # the pooling layer is not next to another nonlinearity: captum's hooks get a
    # ReLU followed by MaxPool wrong (see the last test), ours do not
    return nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1), pool,
        nn.Conv1d(4, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(2),
        nn.Flatten(), nn.Linear(8, 3),
    )


def build(factory, seed):
    torch.manual_seed(seed)
    return factory().double().eval()


def test_module_subclass_matches_captum_deeplift():
    from captum.attr import DeepLift

    net = build(TwoBranch, 1)
    x, x0 = randn(5, 6, seed=2), randn(5, 6, seed=3)
    ours = G.deeplift(net, x, target=[0, 1, 2, 0, 1], baseline=x0)
    ref = DeepLift(net).attribute(x.clone(), x0, target=[0, 1, 2, 0, 1]).detach()
    torch.testing.assert_close(ours, ref, rtol=1e-8, atol=1e-10)
    # and it is not just the gradient times input: the rescale rule changes it
    assert not torch.allclose(ours, G.gradient_times_input(net, x, target=[0, 1, 2, 0, 1],
                                                           baseline=x0))


def test_a_layer_used_twice_gets_the_rule_at_each_call():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 2)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

    net = build(Shared, 4)
    flat = nn.Sequential(net.fc1, nn.ReLU(), net.fc2, nn.ReLU(), net.fc3).eval()
    x, x0 = randn(3, 4, seed=5), randn(3, 4, seed=6)
    torch.testing.assert_close(G.deeplift(net, x, target=1, baseline=x0),
                               G.deeplift(flat, x, target=1, baseline=x0))


def test_two_inputs_give_two_attributions_like_captum():
    from captum.attr import DeepLift, DeepLiftShap

    net = build(TwoInputs, 7)
    xs = (randn(4, 4, seed=8), randn(4, 1, 10, seed=9))
    bases = (randn(4, 4, seed=10), randn(4, 1, 10, seed=11))
    ours = G.deeplift(net, xs, target=1, baseline=bases)
    ref = DeepLift(net).attribute(tuple(x.clone() for x in xs), bases, target=1)
    assert isinstance(ours, tuple) and len(ours) == 2
    for a, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, r.detach(), rtol=1e-8, atol=1e-10)
    # summation-to-delta over both inputs together
    with torch.no_grad():
        change = net(*xs)[:, 1] - net(*bases)[:, 1]
    torch.testing.assert_close(ours[0].sum(1) + ours[1].sum((1, 2)), change)

    background = (randn(6, 4, seed=12), randn(6, 1, 10, seed=13))
    ours = G.deep_shap(net, xs, target=0, baseline=background)
    ref = DeepLiftShap(net).attribute(tuple(x.clone() for x in xs), background, target=0)
    for a, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, r.detach(), rtol=1e-8, atol=1e-10)
    # numpy in, numpy out, element by element
    ours_np = G.deeplift(net, tuple(x.numpy() for x in xs), target=1)
    assert all(isinstance(a, np.ndarray) for a in ours_np)


@pytest.mark.parametrize("pool", [nn.AvgPool1d(2), nn.MaxPool1d(2)], ids=["avg", "max"])
def test_conv1d_and_pool1d_match_captum(pool):
    from captum.attr import DeepLift

    net = build(lambda: conv1d_net(pool), 14)
    x, x0 = randn(3, 2, 8, seed=15), 0.3 * randn(3, 2, 8, seed=16)
    ours = G.deeplift(net, x, target=2, baseline=x0)
    ref = DeepLift(net).attribute(x.clone(), x0, target=2).detach()
    torch.testing.assert_close(ours, ref, rtol=1e-7, atol=1e-9)
    with torch.no_grad():
        change = net(x)[:, 2] - net(x0)[:, 2]
    torch.testing.assert_close(ours.sum(dim=(1, 2)), change, rtol=1e-9, atol=1e-10)


def test_multiply_by_inputs_false_gives_captums_multipliers():
    from captum.attr import DeepLift, DeepLiftShap

    net = build(TwoBranch, 17)
    x, x0 = randn(4, 6, seed=18), randn(4, 6, seed=19)
    mult = G.deeplift(net, x, target=2, baseline=x0, multiply_by_inputs=False)
    ref = DeepLift(net, multiply_by_inputs=False).attribute(x.clone(), x0, target=2).detach()
    torch.testing.assert_close(mult, ref, rtol=1e-8, atol=1e-10)
    # the multipliers times (x - x') are the attributions
    torch.testing.assert_close(mult * (x - x0), G.deeplift(net, x, target=2, baseline=x0))

    background = randn(5, 6, seed=20)
    ours = G.deep_shap(net, x, target=1, baseline=background, multiply_by_inputs=False)
    ref = DeepLiftShap(net, multiply_by_inputs=False).attribute(x.clone(), background,
                                                                target=1).detach()
    torch.testing.assert_close(ours, ref, rtol=1e-8, atol=1e-10)
    with pytest.raises(TypeError):  # keyword-only
        G.deeplift(net, x, 2, x0, 1e-10, 64, False)
    with pytest.raises(TypeError, match="^multiply_by_inputs"):
        G.deeplift(net, x, target=2, multiply_by_inputs="yes")


@pytest.mark.parametrize("factory", [TwoBranch, lambda: conv1d_net(nn.MaxPool1d(2))],
                         ids=["subclass", "conv1d"])
def test_integrated_gradients_match_captum_on_the_same_models(factory):
    from captum.attr import IntegratedGradients

    net = build(factory, 21)
    shape = (3, 6) if isinstance(net, TwoBranch) else (3, 2, 8)
    x, x0 = randn(*shape, seed=22), randn(*shape, seed=23)
    ours = G.integrated_gradients(net, x, target=0, baseline=x0, steps=32)
    ref = IntegratedGradients(net).attribute(x, x0, target=0, n_steps=32).detach()
    torch.testing.assert_close(ours, ref, rtol=1e-8, atol=1e-10)


def test_functional_nonlinearity_is_not_seen_and_deeplift_warns():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 1)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))  # a function, not an nn.ReLU layer

    net = build(Functional, 24)
    x = randn(6, 4, seed=25) * 3
    with pytest.warns(UserWarning, match="nonlinearity as a function"):
        G.deeplift(net, x, target=None, baseline=randn(4, seed=26))


def test_unsupported_layers_and_training_mode_are_named():
    net = build(TwoBranch, 27)
    x = randn(2, 6)
    net.act2 = nn.Softmax(dim=1)
    with pytest.raises(TypeError, match="^model must contain only .* got a Softmax layer"):
        G.deeplift(net, x, target=0)
    with pytest.raises(TypeError, match="^model must be a torch.nn.Module"):
        G.deeplift(lambda t: t.sum(1), x, target=None)
    drop = nn.Sequential(nn.Linear(6, 2), nn.Dropout(0.5)).double().train()
    with pytest.raises(ValueError, match="^model must be in eval"):
        G.deeplift(drop, x, target=0)


def test_relu_then_max_pool_adds_up_where_captum_does_not():
    # captum's hooks on two nonlinear layers in a row lose summation-to-delta
    # (here by about half the output change); our rule keeps it
    from captum.attr import DeepLift

    def factory():
        return nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
                             nn.Flatten(), nn.Linear(16, 3))

    net = build(factory, 14)
    x, x0 = randn(3, 2, 8, seed=15), 0.3 * randn(3, 2, 8, seed=16)
    with torch.no_grad():
        change = net(x)[:, 2] - net(x0)[:, 2]
    ours = G.deeplift(net, x, target=2, baseline=x0)
    ref = DeepLift(net).attribute(x.clone(), x0, target=2).detach()
    torch.testing.assert_close(ours.sum(dim=(1, 2)), change, rtol=1e-9, atol=1e-12)
    assert float((ref.sum(dim=(1, 2)) - change).abs().max()) > 1e-3
