"""Tests of make_wearable_sequences."""

import pickle
import time

import numpy as np
import pytest
import torch
from sklearn.utils import Bunch

from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.noise import PRESETS, GaussianNoise, MissingStretches
from sklearn_r2t.symbolic import Cosinor, FunctionModel, HeartRate, SpO2, Wearable


def _decay(p, t):
    return p[:, :1] * torch.exp(-t[None, :] / p[:, 1:2]) + p[:, 2:3]


def test_defaults_heart_rate_combined():
    b = make_wearable_sequences(50, random_state=0)
    assert isinstance(b, Bunch)
    assert isinstance(b.model, HeartRate)
    assert b.X.shape == b.X_clean.shape == (50, 96)
    assert b.params.shape == (50, 3)
    assert b.param_names == ("mesor", "amplitude", "acrophase")
    assert b.channel_names == ("heart_rate",)
    np.testing.assert_allclose(b.t_hours, np.arange(96) * 0.25)
    assert np.isnan(b.X).any() and not np.isnan(b.X_clean).any()
    # Combined noise on heart rate is one-sided upwards.
    assert np.nanmean(b.X - b.X_clean) > 0


@pytest.mark.parametrize("model", [HeartRate(), SpO2(), Wearable(), Cosinor(n_harmonics=2)])
def test_clean_curves_are_the_model_at_the_params(model):
    b = make_wearable_sequences(20, model=model, n_timesteps=48, random_state=1)
    np.testing.assert_array_equal(b.X_clean, model.evaluate(b.params, 48))
    np.testing.assert_array_equal(b.t_hours, model.t_hours(48))
    assert np.all(b.params >= model.bounds[:, 0]) and np.all(b.params <= model.bounds[:, 1])
    assert b.model is model


def test_wearable_is_three_dimensional():
    b = make_wearable_sequences(30, model=Wearable(), random_state=0)
    assert b.X.shape == (30, 96, 3) and b.params.shape == (30, 9)
    assert b.channel_names == ("heart_rate", "skin_temperature", "spo2")
    d = b.X - b.X_clean
    assert np.nanmean(d[..., 0]) > 0  # heart rate: upward bursts
    assert np.nanmean(d[..., 1]) < 0  # skin temperature: drops
    assert np.nanmean(d[..., 2]) < 0  # SpO2: dips
    assert np.nanmax(b.X[..., 2]) <= 100.0
    miss = np.isnan(b.X)
    np.testing.assert_array_equal(miss[..., 0], miss[..., 2])


def test_reproducible():
    a = make_wearable_sequences(40, model=Wearable(), random_state=7)
    b = make_wearable_sequences(40, model=Wearable(), random_state=7)
    for key in ("X", "X_clean", "params"):
        np.testing.assert_array_equal(a[key], b[key])
    c = make_wearable_sequences(40, model=Wearable(), random_state=8)
    assert not np.array_equal(a.params, c.params)
    rs = [make_wearable_sequences(5, random_state=np.random.RandomState(3)) for _ in range(2)]
    np.testing.assert_array_equal(rs[0].X, rs[1].X)
    g = np.random.default_rng(0)
    first, second = (make_wearable_sequences(5, random_state=g) for _ in range(2))
    assert not np.array_equal(first.params, second.params)


@pytest.mark.parametrize("noise", [*PRESETS, None])
def test_noise_argument(noise):
    b = make_wearable_sequences(10, noise=noise, random_state=0)
    assert b.X.shape == (10, 96)
    if noise in (None, "none"):
        np.testing.assert_array_equal(b.X, b.X_clean)
    else:
        assert not np.array_equal(b.X, b.X_clean)


def test_noise_instance_gets_the_model():
    # A bare corruption has no model: the dataset passes its own, so the
    # magnitude is a fraction of heart rate's span (output_range, in bpm).
    b = make_wearable_sequences(500, noise=GaussianNoise(0.05), random_state=0)
    span = np.ptp(HeartRate().output_range)
    assert np.std(b.X - b.X_clean) == pytest.approx(0.05 * span, rel=0.05)
    b = make_wearable_sequences(500, noise=MissingStretches(rate=0.3), random_state=0)
    assert np.isnan(b.X).mean() == pytest.approx(0.3, abs=0.02)


def test_user_defined_model():
    model = FunctionModel(_decay, bounds=[(0.5, 1), (1, 10), (0, 0.2)], name="decay")
    b = make_wearable_sequences(25, model=model, n_timesteps=32, random_state=0)
    assert b.X.shape == (25, 32)
    np.testing.assert_allclose(b.X_clean, model.evaluate(b.params, 32))
    # Generic defaults for an unknown channel: one-sided upward contamination.
    assert np.nanmean(b.X - b.X_clean) > 0


def test_bunch_pickles():
    b = make_wearable_sequences(5, model=Wearable(), random_state=0)
    c = pickle.loads(pickle.dumps(b))
    np.testing.assert_array_equal(c.X, b.X)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_sequences=0), ValueError, "n_sequences must be >= 1"),
        (dict(n_sequences=-3), ValueError, "n_sequences"),
        (dict(n_sequences=2.5), TypeError, "n_sequences must be an int"),
        (dict(n_sequences=True), TypeError, "n_sequences"),
        (dict(n_sequences=5, n_timesteps=2), ValueError, "at least"),
        (dict(n_sequences=5, n_timesteps=96.0), TypeError, "n_timesteps"),
        (dict(n_sequences=5, model=HeartRate), TypeError, "instance"),
        (dict(n_sequences=5, model="heart_rate"), TypeError, "SymbolicModel"),
        (dict(n_sequences=5, noise="loud"), ValueError, "valid presets"),
        (dict(n_sequences=5, random_state="seed"), TypeError, "random_state"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_wearable_sequences(**kwargs)


def test_speed_large_batch():
    # The contract is 100,000 x 96 in under 2 s on 2 cores; a 20,000 batch keeps
    # the suite fast and leaves room for a busy machine.
    make_wearable_sequences(1000, random_state=0)  # warm-up
    start = time.perf_counter()
    b = make_wearable_sequences(20_000, random_state=0)
    elapsed = time.perf_counter() - start
    assert b.X.shape == (20_000, 96)
    assert elapsed < 2.0
