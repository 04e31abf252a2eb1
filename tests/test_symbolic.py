"""Tests of the symbolic models: shapes, priors, numpy/torch agreement, gradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_r2t.symbolic import (
    Cosinor,
    FunctionModel,
    HeartRate,
    SkinTemperature,
    SpO2,
    SymbolicModel,
    Wearable,
    circular_difference,
)


def _decay(p, t):
    # Module level so that the model stays picklable.
    return p[:, :1] * torch.exp(-t[None, :] / p[:, 1:2]) + p[:, 2:3]


def decay_model():
    return FunctionModel(
        _decay,
        bounds=[(0.5, 1.0), (1.0, 10.0), (0.0, 0.2)],
        param_names=("amplitude", "tau", "offset"),
        param_units=("signal", "h", "signal"),
        name="decay",
    )


MODELS = {
    "heart_rate": HeartRate,
    "skin_temperature": SkinTemperature,
    "spo2": SpO2,
    "wearable": Wearable,
    "cosinor": Cosinor,
    "cosinor3": lambda: Cosinor(n_harmonics=3, period_hours=12.0),
    "decay": decay_model,
}


@pytest.fixture(params=sorted(MODELS), ids=sorted(MODELS))
def model(request):
    return MODELS[request.param]()


# ------------------------------------------------------------------- contract
def test_contract_attributes(model):
    n_params = len(model.param_names)
    assert model.n_params == n_params
    assert len(model.param_units) == n_params
    assert len(model.param_periods) == n_params
    assert model.bounds.shape == (n_params, 2)
    assert np.all(model.bounds[:, 0] < model.bounds[:, 1])
    assert model.output_range.reshape(-1, 2).shape == (model.n_channels, 2)
    assert len(model.channel_names) == model.n_channels
    assert isinstance(model.name, str) and model.name
    assert model.angular_mask.shape == (n_params,)
    assert "(" in repr(model)


def test_wearable_layout():
    m = Wearable()
    assert m.n_channels == 3 and m.n_params == 9
    assert m.channel_names == ("heart_rate", "skin_temperature", "spo2")
    assert m.param_names[0] == "heart_rate_mesor" and m.param_names[-1] == "spo2_nadir"
    assert m.angular_mask.sum() == 3
    np.testing.assert_array_equal(
        m.bounds, np.vstack([HeartRate().bounds, SkinTemperature().bounds, SpO2().bounds])
    )


def test_cosinor_parameter_layout():
    m = Cosinor(n_harmonics=2, period_hours=24.0)
    assert m.param_names == ("mesor", "amplitude_1", "acrophase_1", "amplitude_2", "acrophase_2")
    assert m.param_periods == (None, None, 24.0, None, 12.0)
    np.testing.assert_allclose(m.bounds[4], (0.0, 12.0))


@pytest.mark.parametrize("n_timesteps", [16, 96, 250])
def test_evaluate_shapes(model, n_timesteps):
    params = model.sample_params(5, random_state=0)
    out = model.evaluate(params, n_timesteps)
    expected = (5, n_timesteps) if model.n_channels == 1 else (5, n_timesteps, model.n_channels)
    assert out.shape == expected
    assert out.dtype == np.float64
    assert np.all(np.isfinite(out))
    # A single parameter vector is treated as a batch of one.
    np.testing.assert_array_equal(model.evaluate(params[0], n_timesteps), out[:1])


def test_t_hours(model):
    t = model.t_hours(48)
    assert t.shape == (48,)
    assert t[0] == 0.0
    np.testing.assert_allclose(np.diff(t), model.window_hours / 48)
    assert t[-1] < model.window_hours


def test_sample_params_within_bounds_and_reproducible(model):
    p = model.sample_params(2000, random_state=3)
    assert p.shape == (2000, model.n_params)
    b = model.bounds
    assert np.all(p >= b[:, 0]) and np.all(p <= b[:, 1])
    # Uniform prior: the sample spreads over most of each range.
    spread = (p.max(axis=0) - p.min(axis=0)) / (b[:, 1] - b[:, 0])
    assert np.all(spread > 0.95)
    np.testing.assert_array_equal(p, model.sample_params(2000, random_state=3))
    rs = np.random.RandomState(7)
    assert not np.array_equal(model.sample_params(3, rs), model.sample_params(3, rs))


def test_curves_stay_in_output_range():
    # The prior is physiological: clean curves stay in the plausible range. (Not
    # HeartRate: mesor 50 with amplitude 20 reaches 30 bpm, below its 40 bpm floor.)
    for model in (SkinTemperature(), SpO2()):
        y = model.evaluate(model.sample_params(500, random_state=0), 96)
        y = y[..., None] if y.ndim == 2 else y
        r = model.output_range.reshape(-1, 2)
        assert np.all(y >= r[:, 0]) and np.all(y <= r[:, 1])


def test_spo2_below_ceiling_and_dips_at_nadir():
    m = SpO2()
    y = m.evaluate([[98.0, 3.0, 4.0]], 96)[0]
    assert y.max() <= 98.0 + 1e-12 and y.min() >= 95.0 - 1e-12
    t = m.t_hours(96)
    assert t[np.argmin(y)] == pytest.approx(4.0)


def test_heart_rate_formula():
    m = HeartRate()
    t = m.t_hours(96)
    y = m.evaluate([[70.0, 10.0, 15.0]], 96)[0]
    np.testing.assert_allclose(y, 70 + 10 * np.cos(2 * np.pi * (t - 15) / 24))
    assert t[np.argmax(y)] == pytest.approx(15.0)


def test_normalize(model):
    y = model.evaluate(model.sample_params(10, random_state=0), 32)
    z = model.normalize(y)
    assert z.shape == y.shape
    r = model.output_range.reshape(-1, 2)
    lo = r[:, 0] if model.n_channels > 1 else r[0, 0]
    hi = r[:, 1] if model.n_channels > 1 else r[0, 1]
    np.testing.assert_allclose(model.normalize(np.broadcast_to(lo, y.shape)), 0.0, atol=1e-12)
    np.testing.assert_allclose(model.normalize(np.broadcast_to(hi, y.shape)), 1.0)


# -------------------------------------------------------------- numpy vs torch
def test_numpy_and_torch_agree(model):
    params = model.sample_params(7, random_state=1)
    expected = model.evaluate(params, 40)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        out = model.evaluate_torch(torch.tensor(params, dtype=dtype), 40)
        assert out.dtype == dtype
        assert tuple(out.shape) == expected.shape
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=tol, atol=tol)


def test_evaluate_torch_keeps_graph(model):
    params = torch.tensor(model.sample_params(3, random_state=2), requires_grad=True)
    out = model.evaluate_torch(params, 24)
    out.sum().backward()
    assert params.grad is not None and params.grad.shape == params.shape
    assert torch.all(torch.isfinite(params.grad))


def test_gradcheck(model):
    # Central differences in float64 against autograd, on a short grid to stay fast.
    params = torch.tensor(model.sample_params(2, random_state=4), requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: model.evaluate_torch(p, 16), (params,))


# ---------------------------------------------------------- circular errors
def test_circular_difference_examples():
    assert circular_difference(23.0, 1.0, 24.0) == pytest.approx(-2.0)
    assert circular_difference(1.0, 23.0, 24.0) == pytest.approx(2.0)
    assert circular_difference(5.0, 5.0, 24.0) == pytest.approx(0.0)
    assert circular_difference(12.0, 0.0, 24.0) == pytest.approx(-12.0)  # [-P/2, P/2)
    np.testing.assert_allclose(
        circular_difference([0.5, 11.0], [11.5, 0.0], 12.0), [1.0, -1.0]
    )


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(-1e3, 1e3, allow_nan=False),
    b=st.floats(-1e3, 1e3, allow_nan=False),
    period=st.sampled_from([1.0, 12.0, 24.0, 2 * math.pi]),
)
def test_circular_difference_properties(a, b, period):
    d = float(circular_difference(a, b, period))
    assert -period / 2 - 1e-9 <= d < period / 2 + 1e-9
    # Same angle: a - (b + d) is a whole number of periods.
    k = (a - b - d) / period
    assert abs(k - round(k)) < 1e-6
    # Antisymmetric up to the half-period tie.
    d2 = float(circular_difference(b, a, period))
    assert abs(d + d2) < 1e-6 or abs(abs(d) - period / 2) < 1e-6


def test_circular_difference_shifting_by_period():
    a = np.linspace(0, 24, 50)
    np.testing.assert_allclose(
        circular_difference(a + 24.0, 3.0, 24.0), circular_difference(a, 3.0, 24.0), atol=1e-9
    )


# ---------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("shape", [(2, 2), (2, 4), (2, 3, 1), (4,)])
def test_evaluate_rejects_wrong_param_shape(shape):
    m = HeartRate()
    with pytest.raises(ValueError, match="params of shape"):
        m.evaluate(np.ones(shape), 24)
    with pytest.raises(ValueError, match="params of shape"):
        m.evaluate_torch(torch.ones(shape, dtype=torch.float64), 24)


@pytest.mark.parametrize("n_timesteps", [0, 1, 3])
def test_too_short_sequences_raise(n_timesteps):
    with pytest.raises(ValueError, match="at least"):
        HeartRate().evaluate([[70.0, 10.0, 15.0]], n_timesteps)


@pytest.mark.parametrize("n_timesteps", [24.0, "96", None, True])
def test_non_integer_n_timesteps_raise(n_timesteps):
    with pytest.raises(TypeError, match="n_timesteps must be an int"):
        HeartRate().t_hours(n_timesteps)


def test_numpy_integer_n_timesteps_accepted():
    assert HeartRate().evaluate([[70.0, 10.0, 15.0]], np.int64(24)).shape == (1, 24)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_harmonics=0), ValueError, "n_harmonics"),
        (dict(n_harmonics=1.5), TypeError, "n_harmonics"),
        (dict(period_hours=0.0), ValueError, "period_hours"),
        (dict(window_hours=-1.0), ValueError, "window_hours"),
        (dict(mesor_bounds=(0.7, 0.3)), ValueError, "mesor_bounds.*low < high"),
        (dict(window_hours=np.inf), ValueError, "window_hours"),
        (dict(window_hours=np.nan), ValueError, "window_hours"),
        (dict(period_hours=np.inf), ValueError, "period_hours"),
        (dict(period_hours="24"), TypeError, "period_hours"),
        (dict(amplitude_bounds=(-0.2, 0.2)), ValueError, "amplitude_bounds must be >= 0"),
        (dict(amplitude_bounds=(0.1,)), ValueError, "amplitude_bounds"),
        (dict(output_range=(1.0, 0.0)), ValueError, "output_range"),
        (dict(output_range=(0.5, 0.5)), ValueError, "output_range"),
        (dict(output_range=(0.0, np.inf)), ValueError, "output_range"),
    ],
)
def test_cosinor_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Cosinor(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(function=None, bounds=[(0, 1)]), TypeError, "callable"),
        (dict(bounds=[0, 1]), ValueError, "bounds must have shape"),
        (dict(bounds=[(0, 1), (2, 1)]), ValueError, "lower bound"),
        (dict(bounds=[(0, np.inf)]), ValueError, "finite"),
        (dict(bounds=[(0, 1)], param_names=("a", "b")), ValueError, "param_names"),
        (dict(bounds=[(0, 1)], output_range=[(0, 1), (0, 1)]), ValueError, "output_range"),
        (dict(bounds=np.zeros((0, 2))), ValueError, "at least one parameter"),
        (dict(bounds=[(0, 1)], window_hours=0.0), ValueError, "window_hours"),
        (dict(bounds=[(0, 1)], window_hours=-3.0), ValueError, "window_hours"),
        (dict(bounds=[(0, 1)], window_hours=np.nan), ValueError, "window_hours"),
        (dict(bounds=[(0, 1)], window_hours="24"), TypeError, "window_hours"),
        (dict(bounds=[(0, 1)], output_range=(1.0, 0.0)), ValueError, "output_range"),
        (dict(bounds=[(0, 1)], output_range=(0.3, 0.3)), ValueError, "output_range"),
        (dict(bounds=[(0, 1)], param_periods=(0.0,)), ValueError, r"param_periods\[0\]"),
        (dict(bounds=[(0, 1)], param_periods=(-24.0,)), ValueError, "param_periods"),
        (dict(bounds=[(0, 1)], param_periods=(np.nan,)), ValueError, "param_periods"),
        (dict(bounds=[(0, 1)], param_periods=("24",)), TypeError, "param_periods"),
        (dict(bounds=[(0, 1), (0, 1)], param_names=("a", "a")), ValueError, "unique"),
        (dict(bounds=[(0, 1)], param_names="a"), TypeError, "param_names"),
        (dict(bounds=[(0, 1)], channel_names=()), ValueError, "channel_names"),
        (dict(bounds=[(0, 1)], name=""), TypeError, "name"),
        (dict(bounds=[("a", 1)]), TypeError, "bounds"),
    ],
)
def test_function_model_bad_arguments(kwargs, error, match):
    kwargs.setdefault("function", _decay)
    with pytest.raises(error, match=match):
        FunctionModel(**kwargs)


def test_wearable_like_stack_needs_one_window():
    from sklearn_r2t.symbolic._physiology import _ChannelStack

    with pytest.raises(ValueError, match="window_hours"):
        _ChannelStack([HeartRate(), Cosinor(window_hours=12.0)])


def test_base_class_equation_is_abstract():
    with pytest.raises(NotImplementedError):
        SymbolicModel().equation(torch.zeros(1, 0), torch.zeros(4))


def test_function_model_multichannel():
    def two(p, t):
        return torch.stack([p[:, :1] + 0 * t, p[:, 1:2] * t / 24], dim=-1)

    m = FunctionModel(
        two, bounds=[(0, 1), (0, 1)], output_range=[(0, 1), (0, 1)], channel_names=("a", "b")
    )
    out = m.evaluate([[0.5, 1.0]], 24)
    assert out.shape == (1, 24, 2)
    np.testing.assert_allclose(out[0, :, 0], 0.5)


def _transposed(p, t):
    return (p[:, :1] + 0 * t).T  # (n_timesteps, n): a common slip


def _list_output(p, t):
    return [1.0]


def _one_row(p, t):
    return p[:1, :1] + 0 * t


def _fails(p, t):
    return p[:, 5] + t  # index out of range


def _nan_output(p, t):
    return torch.log(p[:, :1] - 2.0) + 0 * t


@pytest.mark.parametrize(
    "function, error, match",
    [
        (_transposed, ValueError, r"shape \(n, n_timesteps\).*got .*shape \(7, 2\)"),
        (_list_output, TypeError, "must return a torch Tensor"),
        (_one_row, ValueError, "must return a float Tensor of shape"),
        (_fails, ValueError, "failed on a probe evaluation.*IndexError"),
        (_nan_output, ValueError, "non-finite"),
    ],
)
def test_function_model_checks_the_function_at_construction(function, error, match):
    with pytest.raises(error, match=match):
        FunctionModel(function, bounds=[(0.0, 1.0), (1.0, 2.0)])


def test_function_model_checks_output_shape_at_every_use():
    # A function that only misbehaves on other batch sizes than the probe's.
    def sometimes(p, t):
        return (p[:, :1] + 0 * t)[:2]

    model = FunctionModel(sometimes, bounds=[(0.0, 1.0)])
    with pytest.raises(ValueError, match="float Tensor of shape"):
        model.evaluate(np.full((3, 1), 0.5), 16)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ([[70.0, 10.0, np.inf]], ValueError, "finite"),
        ([["a", "b", "c"]], TypeError, "real numbers"),
        ([[70.0, 10.0, 1j]], TypeError, "real numbers"),
        ([[True, False, True]], TypeError, "real numbers"),
    ],
)
def test_evaluate_rejects_bad_params(params, error, match):
    with pytest.raises(error, match=match):
        HeartRate().evaluate(np.asarray(params), 24)


def test_evaluate_nan_params_give_nan_curves():
    out = HeartRate().evaluate([[70.0, 10.0, 5.0], [np.nan, 10.0, 5.0]], 24)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()
