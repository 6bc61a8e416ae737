"""Fuzzing the gradient methods: wrong types, shapes, ranks, empty batches, NaN/inf,
extreme magnitudes and misbehaving models.

The rule every call must keep: a correct result (finite, checked against a closed
form where there is one) or a ValueError/TypeError whose message starts with the
name of the argument at fault. Never a silent NaN, never an unrelated exception.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from lime_core import gradients as G  # noqa: E402

ARGUMENTS = ("model", "inputs", "baseline", "target", "steps", "method", "batch_size", "eps",
             "num_samples", "noise_level", "variant", "random_state", "multiply_by_inputs")
NAMED = re.compile(r"^(" + "|".join(ARGUMENTS) + r")(\[\d+\])?\b")


def linear_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).double().eval()


def twice_the_sum(x):
    """S(x) = 2 sum_i x_i for any rank: saliency 2, gradient x input 2x, IG 2(x - x')."""
    return 2.0 * x.reshape(x.shape[0], -1).sum(dim=1)


METHODS = {
    "saliency": lambda m, x, **kw: G.saliency(m, x, **kw),
    "gradient_times_input": lambda m, x, **kw: G.gradient_times_input(m, x, **kw),
    "smoothgrad": lambda m, x, **kw: G.smoothgrad(m, x, num_samples=3, random_state=0, **kw),
    "integrated_gradients": lambda m, x, **kw: G.integrated_gradients(m, x, steps=4, **kw),
    "deeplift": lambda m, x, **kw: G.deeplift(m, x, **kw),
    "deep_shap": lambda m, x, **kw: G.deep_shap(m, x, baseline=np.zeros((2, 4)), **kw),
}


def outcome(call):
    """Run ``call``; return its result if it is finite, "error" for a named
    ValueError/TypeError, and fail the test for anything else."""
    try:
        result = call()
    except (ValueError, TypeError) as err:
        assert NAMED.match(str(err)), f"error does not name an argument: {err!r}"
        return "error"
    parts = result if isinstance(result, tuple) else (result,)
    for part in parts:
        values = part.attributions if hasattr(part, "attributions") else part
        values = values.numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
        assert np.isfinite(values).all(), "silent NaN or inf in the attributions"
    return result


# --------------------------------------------------------------------------
# wrong inputs
# --------------------------------------------------------------------------

BAD_INPUTS = {
    "string": "abc",
    "none": None,
    "dict": {"a": 1},
    "object": object(),
    "ragged": [[1.0, 2.0], [3.0]],
    "text array": np.array([["a", "b", "c", "d"]]),
    "complex": np.ones((2, 4), dtype=complex),
    "complex tensor": torch.ones(2, 4, dtype=torch.complex64),
    "scalar": np.float64(3.0),
    "empty batch": np.zeros((0, 4)),
    "one feature short": np.zeros((2, 3)),
    "rank 3": np.zeros((2, 4, 1)),
    "nan": np.array([[0.0, np.nan, 1.0, 2.0]]),
    "inf": np.array([[0.0, np.inf, 1.0, 2.0]]),
    "nan tensor": torch.tensor([[0.0, float("nan"), 1.0, 2.0]], dtype=torch.float64),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_inputs_are_refused_by_name(method, bad):
    net = linear_net()
    assert outcome(lambda: METHODS[method](net, BAD_INPUTS[bad], target=0)) == "error"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("target", [-1, 3, 1.5, "a", True, [0, 1, 2], [[0]], None],
                         ids=str)
def test_bad_targets_are_refused_by_name(method, target):
    net = linear_net()
    assert outcome(lambda: METHODS[method](net, np.ones((2, 4)), target=target)) == "error"


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, "2", True])
@pytest.mark.parametrize("method", METHODS)
def test_bad_batch_sizes_are_refused_by_name(method, batch_size):
    net = linear_net()
    call = lambda: METHODS[method](net, np.ones((2, 4)), target=0, batch_size=batch_size)  # noqa: E731
    assert outcome(call) == "error"


@pytest.mark.parametrize("baseline", [np.zeros(3), np.zeros((3, 4)), "black", np.nan,
                                      [np.inf] * 4, 1e300 * np.ones(4), np.ones(4, dtype=complex)],
                         ids=["short", "rows", "text", "nan", "inf", "1e300", "complex"])
@pytest.mark.parametrize("method", ["gradient_times_input", "integrated_gradients", "deeplift"])
def test_bad_baselines_are_refused_by_name(method, baseline):
    net = linear_net().float()
    call = lambda: METHODS[method](net, np.ones((2, 4)), target=0, baseline=baseline)  # noqa: E731
    assert outcome(call) == "error"


@pytest.mark.parametrize("kwargs", [
    {"steps": 0}, {"steps": 1.5}, {"steps": 10**12}, {"steps": None},
    {"method": "simpson"}, {"method": None}, {"steps": 1, "method": "riemann_left"},
], ids=str)
def test_bad_ig_settings_are_refused_by_name(kwargs):
    call = lambda: G.integrated_gradients(linear_net(), np.ones((2, 4)), target=0, **kwargs)  # noqa: E731
    assert outcome(call) == "error"


@pytest.mark.parametrize("kwargs", [
    {"num_samples": 0}, {"noise_level": -1.0}, {"noise_level": math.nan},
    {"variant": "median"}, {"random_state": "seed"}, {"random_state": -3},
], ids=str)
def test_bad_smoothgrad_settings_are_refused_by_name(kwargs):
    call = lambda: G.smoothgrad(linear_net(), np.ones((2, 4)), target=0, **kwargs)  # noqa: E731
    assert outcome(call) == "error"


@pytest.mark.parametrize("kwargs", [
    {"eps": -1.0}, {"eps": math.nan}, {"eps": "x"}, {"multiply_by_inputs": 1},
    {"baseline": (np.zeros(4),)},
], ids=str)
def test_bad_deeplift_settings_are_refused_by_name(kwargs):
    call = lambda: G.deeplift(linear_net(), np.ones((2, 4)), target=0, **kwargs)  # noqa: E731
    assert outcome(call) == "error"


@pytest.mark.parametrize("baseline", [None, np.zeros((0, 4)), np.zeros((3, 5)), np.zeros(4),
                                      np.full((2, 4), np.nan), (np.zeros((2, 4)),)],
                         ids=["none", "empty", "width", "one row 1-D", "nan", "tuple"])
def test_bad_deep_shap_backgrounds_are_refused_by_name(baseline):
    call = lambda: G.deep_shap(linear_net(), np.ones((2, 4)), target=0, baseline=baseline)  # noqa: E731
    assert outcome(call) == "error"


def test_bad_tuples_of_inputs_are_refused_by_name():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 1), nn.Linear(3, 1)

        def forward(self, a, b):
            return self.a(a) + self.b(b)

    net = Two().double().eval()
    good = (np.ones((2, 2)), np.ones((2, 3)))
    for inputs, baseline in [((), None), ((np.ones((2, 2)), np.ones((3, 3))), None),
                             (good, (np.zeros(2),)), (good, np.zeros(2)),
                             ((np.ones((2, 2)), "x"), None)]:
        call = lambda i=inputs, b=baseline: G.deeplift(net, i, target=0, baseline=b)  # noqa: E731
        assert outcome(call) == "error"
    result = outcome(lambda: G.deeplift(net, good, target=0, baseline=0.5))
    assert isinstance(result, tuple) and result[0].shape == (2, 2)


# --------------------------------------------------------------------------
# extreme magnitudes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-300, 1e-30, 1e30, 1e300], ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_extreme_magnitudes_give_a_correct_result_or_a_named_error(method, dtype, scale):
    net = linear_net().to(dtype)
    x = scale * np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    result = outcome(lambda: METHODS[method](net, x, target=1))
    if dtype == torch.float32 and scale >= 1e300:
        assert result == "error"  # 1e300 does not fit in float32: refused, named
    if dtype == torch.float64 and scale <= 1e-30 and method != "smoothgrad":
        assert not isinstance(result, str)  # tiny inputs are fine


def test_huge_finite_inputs_that_overflow_the_model_are_named():
    with pytest.raises(ValueError, match="^model returned NaN or infinite scores"):
        G.saliency(twice_the_sum, torch.full((1, 4), 1e308, dtype=torch.float64), target=None)
    # numpy in: a plain callable computes in float32, where 1e308 does not fit
    with pytest.raises(ValueError, match="^inputs holds values too large"):
        G.saliency(twice_the_sum, np.full((1, 4), 1e308), target=None)


# --------------------------------------------------------------------------
# misbehaving models
# --------------------------------------------------------------------------

def _numpy_model(x):
    return torch.as_tensor(x.detach().numpy().sum(axis=1, keepdims=True))


def _no_grad_model(x):
    with torch.no_grad():
        return x.sum(dim=1, keepdim=True)


_PARAMETER = torch.ones(1, requires_grad=True)


class _NanGradient(torch.autograd.Function):
    """A finite score whose gradient is NaN (as sqrt or log at 0 give)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.sum(dim=1, keepdim=True)

    @staticmethod
    def backward(ctx, grad):
        return torch.full(ctx.shape, math.nan, dtype=grad.dtype)

BAD_MODELS = {
    "nan output": (lambda x: x.sum(1, keepdim=True) * math.nan, ValueError, "^model returned NaN"),
    "inf output": (lambda x: x.sum(1, keepdim=True) + math.inf, ValueError, "^model returned NaN"),
    "nan gradient": (_NanGradient.apply, ValueError,
                     "^model has NaN or infinite gradients"),
    "too many rows": (lambda x: torch.cat([x, x]).sum(1, keepdim=True), ValueError,
                      "^model must return scores of shape"),
    "rank 3 output": (lambda x: x.unsqueeze(2), ValueError, "^model must return scores of shape"),
    "numpy output": (lambda x: np.ones((len(x), 1)), TypeError, "^model must return a torch"),
    "list output": (lambda x: [1.0] * len(x), TypeError, "^model must return a torch"),
    "int output": (lambda x: torch.ones(len(x), 1, dtype=torch.long), TypeError,
                   "^model must return floating"),
    "wraps numpy (detach)": (_numpy_model, TypeError, "^model must be differentiable"),
    "calls .numpy()": (lambda x: torch.as_tensor(x.numpy().sum(1, keepdims=True)), TypeError,
                       "^model must be differentiable"),
    "no_grad inside": (_no_grad_model, TypeError, "^model must be differentiable"),
    "ignores its input": (lambda x: _PARAMETER.expand(len(x), 1) * 1.0, TypeError,
                          "^model must be differentiable"),
    "raises": (lambda x: 1 / 0, ValueError, "^model raised ZeroDivisionError"),
    "shape error": (nn.Linear(5, 2), ValueError, "^model failed on inputs of shape"),
}


@pytest.mark.parametrize("method", ["saliency", "gradient_times_input", "smoothgrad",
                                    "integrated_gradients"])
@pytest.mark.parametrize("bad", BAD_MODELS, ids=list(BAD_MODELS))
def test_misbehaving_models_are_named(method, bad):
    model, error, message = BAD_MODELS[bad]
    x = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    with pytest.raises(error, match=message):
        METHODS[method](model, x, target=0)


@pytest.mark.parametrize("method", ["deeplift", "deep_shap"])
def test_misbehaving_modules_are_named_by_deeplift(method):
    x = np.ones((2, 4))
    nan_net = linear_net()
    with torch.no_grad():
        nan_net[2].bias[0] = math.nan
    with pytest.raises(ValueError, match="^model returned NaN"):
        METHODS[method](nan_net, x, target=0)
    # the raw torch shape error of issue 13, now named
    with pytest.raises(ValueError, match="^model failed on inputs of shape"):
        METHODS[method](nn.Sequential(nn.Linear(5, 2)).double(), x, target=0)
    with pytest.raises(TypeError, match="^model must be a torch.nn.Module"):
        METHODS[method](lambda t: t, x, target=0)
    with pytest.raises(TypeError, match="^model must contain only"):
        METHODS[method](nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1)).double(), x, target=0)

    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, t):
            return self.fc(t.detach())

    with pytest.raises(TypeError, match="^model must be differentiable"):
        METHODS[method](Detached().double().eval(), x, target=0)


# --------------------------------------------------------------------------
# property-based: any shape and magnitude, closed forms or named errors
# --------------------------------------------------------------------------

@st.composite
def batches(draw):
    rank = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank)))
    scale = draw(st.sampled_from([0.0, 1e-200, 1e-8, 1.0, 1e8, 1e150, 1e300]))
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).standard_normal(shape) * scale
    if values.size and draw(st.booleans()) and draw(st.booleans()):
        values.flat[draw(st.integers(0, values.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
    as_tensor = draw(st.booleans())
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    return (torch.as_tensor(values, dtype=dtype) if as_tensor else values), values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches(), method=st.sampled_from(["saliency", "gradient_times_input",
                                                "integrated_gradients"]))
def test_any_batch_gives_the_closed_form_or_a_named_error(batch, method):
    inputs, values = batch
    result = outcome(lambda: METHODS[method](twice_the_sum, inputs, target=None))
    valid = (values.ndim >= 1 and values.shape[0] > 0 and np.isfinite(values).all()
             and (not isinstance(inputs, torch.Tensor) or inputs.dtype == torch.float64
                  or np.abs(values).max(initial=0) < 3e38))
    if not valid:
        assert result == "error"
        return
    if isinstance(result, str):  # only a score overflow may refuse a valid batch
        assert values.size and 2 * np.abs(values).sum() > 1e38
        return
    got = result.numpy() if isinstance(result, torch.Tensor) else result
    expected = {"saliency": np.full(values.shape, 2.0),
                "gradient_times_input": 2.0 * values,
                "integrated_gradients": 2.0 * values}[method]
    np.testing.assert_allclose(got, expected.astype(got.dtype), rtol=1e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 3), d=st.integers(1, 5), seed=st.integers(0, 2**16),
       scale=st.sampled_from([0.0, 1e-200, 1e-3, 1.0, 1e100, 1e300]),
       shap=st.booleans())
def test_deeplift_of_a_linear_layer_is_weight_times_difference_or_named(n, d, seed, scale, shap):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, 2)).double().eval()
    gen = np.random.default_rng(seed)
    x, x0 = scale * gen.standard_normal((n, d)), scale * gen.standard_normal((1, d))
    if shap:
        result = outcome(lambda: G.deep_shap(net, x, target=1, baseline=x0))
    else:
        result = outcome(lambda: G.deeplift(net, x, target=1, baseline=x0[0]))
    if n == 0:
        assert result == "error"
        return
    if isinstance(result, str):  # only an overflow of the scores may refuse valid rows
        assert scale >= 1e300
        return
    w = net[0].weight[1].detach().numpy()
    np.testing.assert_allclose(result, w * (x - x0), rtol=1e-9, atol=1e-300)
