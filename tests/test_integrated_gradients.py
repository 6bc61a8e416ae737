"""Integrated Gradients against captum, closed forms and the completeness axiom."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from lime_core import gradients as G  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def random_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 6, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(24, 4),
    ).eval()


@pytest.fixture(scope="module")
def cnn_batch():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(3, 3, 8, 8, generator=gen)
    baseline = 0.1 * torch.randn(3, 3, 8, 8, generator=gen)
    return random_cnn(), x, baseline


@pytest.mark.parametrize("method", G.CAPTUM_IG_METHODS)
def test_ig_equals_captum_on_a_random_cnn(cnn_batch, method):
    from captum.attr import IntegratedGradients

    net, x, baseline = cnn_batch
    ours = G.integrated_gradients(net, x, target=[0, 1, 3], baseline=baseline, steps=16,
                                  method=method, batch_size=20)
    ref = IntegratedGradients(net).attribute(x, baseline, target=[0, 1, 3], n_steps=16,
                                             method=method)
    assert ours.shape == x.shape
    # 1e-5 relative to the size of the attributions
    assert float((ours - ref).abs().max() / ref.abs().max()) < 1e-5


@pytest.mark.parametrize("method", G.CAPTUM_IG_METHODS)
def test_integration_nodes_follow_captum(method):
    from captum.attr._utils.approximation_methods import approximation_parameters

    step_sizes, alphas = approximation_parameters(method)
    nodes, weights = G.integration_nodes(10, method)
    np.testing.assert_allclose(nodes, alphas(10), atol=1e-7)
    np.testing.assert_allclose(weights, step_sizes(10), atol=1e-12)


def test_gauss_legendre_integrates_polynomials_exactly():
    nodes, weights = G.integration_nodes(4, "gausslegendre")
    for degree in range(8):  # exact up to degree 2m - 1 = 7
        assert np.sum(weights * nodes**degree) == pytest.approx(1 / (degree + 1), rel=1e-12)


def test_ig_of_a_linear_model_is_weight_times_difference():
    gen = np.random.default_rng(1)
    w = gen.normal(size=(3, 5))
    lin = nn.Linear(5, 3).double()
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w))
    x, x0 = gen.normal(size=(2, 5)), gen.normal(size=(2, 5))
    attr = G.integrated_gradients(lin, x, target=[2, 0], baseline=x0, steps=3)
    assert isinstance(attr, np.ndarray)
    np.testing.assert_allclose(attr, w[[2, 0]] * (x - x0), rtol=1e-10)


def test_ig_of_a_quadratic_matches_the_integral():
    # S(x) = sum x_i^2 from x' = 0: IG_i = x_i * int_0^1 2 a x_i da = x_i^2 exactly
    x = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    for method in ("gausslegendre", "riemann_middle"):
        attr = G.integrated_gradients(lambda t: (t**2).sum(dim=1), x, target=None,
                                      steps=8, method=method)
        torch.testing.assert_close(attr, x**2)


def smooth_net(seed: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 6 * 6, 8), nn.Sigmoid(),
        nn.Linear(8, 2),
    ).double().eval()


def test_completeness_gap_shrinks_as_steps_grow():
    net = smooth_net()
    gen = torch.Generator().manual_seed(4)
    x = 2 * torch.rand(2, 1, 8, 8, generator=gen, dtype=torch.float64)
    gaps = []
    for steps in (8, 16, 32, 64, 128, 256):
        result = G.integrated_gradients(net, x, target=1, steps=steps, method="riemann_right",
                                        return_result=True)
        assert isinstance(result, G.IntegratedGradientsResult)
        assert result.steps == steps and result.method == "riemann_right"
        # chunks of 64 path points, plus one pass scoring x and x'
        assert result.model_calls == -(-2 * steps // 64) + 1
        gaps.append(result.convergence_delta.max().item())
    # a first-order rule: the gap falls like 1/steps
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < gaps[0] / 16
    # Gauss-Legendre is already far more accurate with few steps
    gl = G.integrated_gradients(net, x, target=1, steps=16, return_result=True)
    assert gl.convergence_delta.max().item() < gaps[-1]


def test_convergence_delta_is_the_completeness_gap(cnn_batch):
    net, x, baseline = cnn_batch
    result = G.integrated_gradients(net, x.numpy(), target=2, baseline=baseline.numpy(),
                                    steps=8, return_result=True)
    with torch.no_grad():
        change = (net(x)[:, 2] - net(baseline)[:, 2]).numpy()
    expected = np.abs(result.attributions.reshape(3, -1).sum(axis=1) - change)
    assert isinstance(result.convergence_delta, np.ndarray)
    np.testing.assert_allclose(result.convergence_delta, expected, rtol=1e-4, atol=1e-7)


def test_batching_and_baseline_forms_give_the_same_answer(cnn_batch):
    net, x, _ = cnn_batch
    row = torch.full((3, 8, 8), 0.2)
    a = G.integrated_gradients(net, x, target=1, baseline=0.2, steps=10)
    b = G.integrated_gradients(net, x, target=1, baseline=row, steps=10, batch_size=7)
    c = G.integrated_gradients(net, x, target=1, baseline=row.expand(3, 3, 8, 8).numpy(),
                               steps=10, batch_size=1000)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-7)


def test_ig_rejects_bad_input(cnn_batch):
    net, x, baseline = cnn_batch
    with pytest.raises(ValueError, match="^baseline"):
        G.integrated_gradients(net, x, target=0, baseline=baseline[:2])
    with pytest.raises(ValueError, match="^target"):
        G.integrated_gradients(net, x, target=4, steps=4)
    with pytest.raises(ValueError, match="^method"):
        G.integrated_gradients(net, x, target=0, method="simpson")
    with pytest.raises(ValueError, match="^steps"):
        G.integrated_gradients(net, x, target=0, steps=1, method="riemann_left")
    with pytest.raises(TypeError, match="^steps"):
        G.integrated_gradients(net, x, target=0, steps=2.5)
    with pytest.raises(TypeError, match="^baseline"):
        G.integrated_gradients(net, x, target=0, baseline="black")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="^baseline must be a finite number"):
            G.integrated_gradients(net, x, target=0, baseline=bad, steps=4)
        with pytest.raises(ValueError, match="^baseline must be a finite number"):
            G.gradient_times_input(net, x, target=0, baseline=bad)


def test_textbook_trapezoid_is_exact_on_a_linear_model_and_captums_is_not():
    net = nn.Linear(4, 1).double()
    x = torch.randn(2, 4, dtype=torch.float64)
    for m in (3, 10):
        exact = G.integrated_gradients(net, x, target=None, steps=m, method="trapezoid",
                                       return_result=True)
        captum_rule = G.integrated_gradients(net, x, target=None, steps=m, method="riemann_trapezoid",
                                             return_result=True)
        with torch.no_grad():
            change = (net(x) - net(torch.zeros_like(x)))[:, 0].abs()
        assert float(exact.convergence_delta.max()) < 1e-12
        assert torch.allclose(captum_rule.convergence_delta, change / m, atol=1e-12)
    nodes, weights = G.integration_nodes(7, "trapezoid")
    assert weights.sum() == pytest.approx(1.0, abs=1e-15) and nodes[0] == 0 and nodes[-1] == 1


@pytest.mark.parametrize("m", [101, 150, 400, 1001, 4000, 100_000])
def test_gauss_legendre_beyond_the_eigenvalue_method_is_still_gauss_legendre(m):
    # above GAUSS_LEGENDRE_EIGEN_MAX the nodes come from the asymptotic expansion
    # (Newton-polished up to 1000): O(m) memory instead of numpy's m x m matrix
    nodes, weights = G.integration_nodes(m, "gausslegendre")
    assert nodes.shape == weights.shape == (m,)
    assert np.all(np.diff(nodes) > 0) and 0 < nodes[0] and nodes[-1] < 1
    np.testing.assert_allclose(nodes + nodes[::-1], 1.0, atol=1e-15)  # symmetric
    np.testing.assert_allclose(weights, weights[::-1], rtol=1e-13)
    # exact for polynomials (checked up to degree 60) and for a fast oscillation
    for degree in range(0, 61, 3):
        assert np.sum(weights * nodes**degree) == pytest.approx(1 / (degree + 1), rel=1e-12)
    assert np.sum(weights * np.cos(150 * nodes)) == pytest.approx(np.sin(150) / 150, abs=1e-13)


def test_gauss_legendre_above_100_nodes_agrees_with_numpys_eigenvalue_method():
    nodes, weights = G.integration_nodes(150, "gausslegendre")
    t, v = np.polynomial.legendre.leggauss(150)
    np.testing.assert_allclose(nodes, (1 + t) / 2, atol=1e-15)
    # (numpy's own weights are off by up to ~1e-11 next to the ends)
    np.testing.assert_allclose(weights, v / 2, rtol=1e-10)


def test_ig_with_thousands_of_gauss_legendre_steps():
    # S(x) = sum sin(x_i) from 0: IG_i = x_i * int_0^1 cos(a x_i) da = sin(x_i)
    x = torch.tensor([[1.0, -2.0, 0.5, 30.0]], dtype=torch.float64)
    result = G.integrated_gradients(lambda t: torch.sin(t).sum(dim=1), x, target=None,
                                    steps=5000, batch_size=1000, return_result=True)
    torch.testing.assert_close(result.attributions, torch.sin(x), rtol=1e-12, atol=1e-12)
    assert result.model_calls == 5 + 1
    with pytest.raises(ValueError, match="^steps must be <= 10000000"):
        G.integrated_gradients(lambda t: t.sum(dim=1), x, target=None, steps=10**8)
