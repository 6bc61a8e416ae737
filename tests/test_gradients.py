"""Saliency, gradient x input and SmoothGrad against captum and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lime_core import gradients as G  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")


def small_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16, 5),
    ).eval()


@pytest.fixture(scope="module")
def cnn_and_inputs():
    net = small_cnn()
    gen = torch.Generator().manual_seed(1)
    return net, torch.randn(3, 3, 8, 8, generator=gen)


@pytest.mark.parametrize("absolute", [True, False])
def test_saliency_equals_captum(cnn_and_inputs, absolute):
    from captum.attr import Saliency

    net, x = cnn_and_inputs
    ours = G.saliency(net, x, target=[0, 3, 4], absolute=absolute)
    ref = Saliency(net).attribute(x.clone(), target=[0, 3, 4], abs=absolute)
    assert ours.shape == x.shape
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-7)
    if not absolute:
        assert (ours < 0).any()


def test_gradient_times_input_equals_captum(cnn_and_inputs):
    from captum.attr import InputXGradient

    net, x = cnn_and_inputs
    ours = G.gradient_times_input(net, x, target=2)
    ref = InputXGradient(net).attribute(x.clone(), target=2)
    torch.testing.assert_close(ours, ref.detach(), rtol=1e-5, atol=1e-7)


def test_gradient_times_input_is_exact_for_a_linear_model():
    gen = np.random.default_rng(0)
    w, b = gen.normal(size=6), 0.7
    lin = nn.Linear(6, 1).double()
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w[None]))
        lin.bias.fill_(b)
    x, x0 = gen.normal(size=(4, 6)), gen.normal(size=6)
    attr = G.gradient_times_input(lin, x, target=0, baseline=x0)
    assert isinstance(attr, np.ndarray)
    np.testing.assert_allclose(attr, w * (x - x0), rtol=1e-12)
    # the contributions add up to f(x) - f(x')
    np.testing.assert_allclose(attr.sum(axis=1), (x - x0) @ w, rtol=1e-12)


def test_numpy_in_numpy_out_and_batching_does_not_change_results(cnn_and_inputs):
    net, x = cnn_and_inputs
    whole = G.saliency(net, x.numpy(), target=1, absolute=False)
    one_by_one = G.saliency(net, x.numpy(), target=1, absolute=False, batch_size=1)
    assert isinstance(whole, np.ndarray) and whole.shape == tuple(x.shape)
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-5, atol=1e-8)


def test_plain_callable_and_scalar_output():
    # a function (not a module) with one score per row: S(x) = sum x^3, gradient 3 x^2
    x = torch.linspace(-1, 1, 12).reshape(3, 4)
    grads = G.saliency(lambda t: (t**3).sum(dim=1), x, target=None, absolute=False)
    torch.testing.assert_close(grads, 3 * x**2)


def quadratic(t):
    """S(x) = sum_i x_i^2, so dS/dx = 2x: SmoothGrad has closed forms."""
    return (t**2).reshape(len(t), -1).sum(dim=1)


def test_smoothgrad_closed_forms():
    x = torch.tensor([[0.0, 1.0, 2.0, 4.0]], dtype=torch.float64)
    level, n = 0.25, 4000
    sigma = level * 4.0  # range of the row is 4
    result = G.smoothgrad(quadratic, x, target=None, num_samples=n, noise_level=level,
                          random_state=3, return_result=True)
    assert result.noise_std[0] == pytest.approx(sigma)
    assert result.random_state == 3
    # E[2(x + eps)] = 2x, with Monte-Carlo error 2 sigma / sqrt(n)
    tol = 5 * 2 * sigma / np.sqrt(n)
    np.testing.assert_allclose(result.attributions.numpy(), 2 * x.numpy(), atol=tol)
    sq = G.smoothgrad(quadratic, x, target=None, num_samples=n, noise_level=level,
                      variant="smoothgrad_sq", random_state=3)
    np.testing.assert_allclose(sq.numpy(), 4 * x.numpy() ** 2 + 4 * sigma**2, rtol=0.1, atol=0.3)
    var = G.smoothgrad(quadratic, x, target=None, num_samples=n, noise_level=level,
                       variant="vargrad", random_state=3)
    np.testing.assert_allclose(var.numpy(), 4 * sigma**2, rtol=0.1)


def test_smoothgrad_is_reproducible_and_private(cnn_and_inputs):
    net, x = cnn_and_inputs
    before = np.random.get_state()  # noqa: NPY002 (checking it is untouched)
    a = G.smoothgrad(net, x, target=1, num_samples=4, random_state=7)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], before[1]) and after[2] == before[2]
    b = G.smoothgrad(net, x, target=1, num_samples=4, random_state=7)
    c = G.smoothgrad(net, x, target=1, num_samples=4, random_state=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # no noise: SmoothGrad is the gradient
    plain = G.smoothgrad(net, x, target=1, num_samples=2, noise_level=0.0, random_state=0)
    torch.testing.assert_close(plain, G.saliency(net, x, target=1, absolute=False))


def test_bad_inputs_are_rejected(cnn_and_inputs):
    net, x = cnn_and_inputs
    with pytest.raises(ValueError, match="^target"):
        G.saliency(net, x, target=5)
    with pytest.raises(ValueError, match="^target"):
        G.saliency(net, x, target=-1)
    with pytest.raises(ValueError, match="^target"):
        G.saliency(net, x, target=[0, 1])
    with pytest.raises(ValueError, match="^target must be given"):
        G.saliency(net, x, target=None)
    with pytest.raises(TypeError, match="^target"):
        G.saliency(net, x, target=1.5)
    with pytest.raises(TypeError, match="^model"):
        G.saliency("not a model", x, target=0)
    with pytest.raises(ValueError, match="^inputs"):
        G.saliency(net, x[:0], target=0)
    with pytest.raises(ValueError, match="^inputs"):
        G.saliency(net, np.full((1, 3, 8, 8), np.nan), target=0)
    with pytest.raises(ValueError, match="^baseline"):
        G.gradient_times_input(net, x, target=0, baseline=np.zeros((3, 8, 7)))
    with pytest.raises(ValueError, match="^batch_size"):
        G.saliency(net, x, target=0, batch_size=0)
    with pytest.raises(ValueError, match="^variant"):
        G.smoothgrad(net, x, target=0, variant="smooth")
    with pytest.raises(ValueError, match="^noise_level"):
        G.smoothgrad(net, x, target=0, noise_level=-0.1)
    with pytest.raises(TypeError, match="^random_state"):
        G.smoothgrad(net, x, target=0, random_state="seed")
    with pytest.raises(ValueError, match="^model must return"):
        G.saliency(lambda t: t.sum(), x, target=0)


def test_a_float64_tensor_works_with_a_float32_network(cnn_and_inputs):
    net, x = cnn_and_inputs
    attr = G.integrated_gradients(net, x.double(), target=0, steps=4)
    assert isinstance(attr, torch.Tensor) and attr.dtype == torch.float32
    torch.testing.assert_close(attr, G.integrated_gradients(net, x, target=0, steps=4))


def test_model_failing_on_the_inputs_is_reported_by_name():
    net = nn.Sequential(nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"^model failed on inputs of shape \(\d+, 5\)"):
        G.integrated_gradients(net, torch.randn(2, 5), target=0, steps=4)
    with pytest.raises(ValueError, match=r"^model failed on inputs of shape"):
        G.saliency(net, torch.randn(2, 5), target=0)


def test_smoothgrad_in_bounded_batches_equals_one_big_draw():
    # the noisy copies are made batch_size at a time; the noise is the same numbers as
    # one (N, n, ...) draw, so the result does not depend on batch_size
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    x = torch.randn(7, 5, dtype=torch.float64)
    n, samples, level = 7, 9, 0.2
    eps = torch.as_tensor(np.random.default_rng(3).standard_normal((samples, n, 5)))
    std = level * (x.max(dim=1).values - x.min(dim=1).values)
    noisy = (x.unsqueeze(0) + eps * std.reshape(1, n, 1)).reshape(samples * n, 5)
    grads = G.saliency(net, noisy, target=1, absolute=False).reshape(samples, n, 5)
    expected = {"smoothgrad": grads.mean(0), "smoothgrad_sq": (grads**2).mean(0),
                "vargrad": grads.var(0, unbiased=False)}
    for variant, want in expected.items():
        for batch_size in (1, 5, 1000):
            got = G.smoothgrad(net, x, target=1, num_samples=samples, noise_level=level,
                               variant=variant, random_state=3, batch_size=batch_size)
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
