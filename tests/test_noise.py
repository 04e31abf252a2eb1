"""Tests of the structured noise: rates, asymmetry, units, reproducibility, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import least_squares

from sklearn_r2t.noise import (
    PRESETS,
    ActivityBursts,
    Clipping,
    Compose,
    Corruption,
    Drift,
    Drops,
    GaussianNoise,
    MissingStretches,
    Mixture,
    Spikes,
    check_generator,
    make_noise,
    signal_defaults,
)
from sklearn_r2t.symbolic import Cosinor, HeartRate, SkinTemperature, SpO2, Wearable

HR = HeartRate()


def flat(value, n=2000, T=96, C=None):
    """Constant sequences: every change is the corruption's doing."""
    shape = (n, T) if C is None else (n, T, C)
    return np.full(shape, float(value))


def runs(mask_row):
    """Lengths of the runs of True in a 1-D boolean array."""
    padded = np.r_[False, mask_row, False].astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return edges[1::2] - edges[::2]


def onsets(mask_row):
    """Start indices of the runs of True in a 1-D boolean array."""
    return np.flatnonzero(np.diff(np.r_[False, mask_row].astype(int)) == 1)


# -------------------------------------------------------------- make_noise
def test_presets_constant():
    assert PRESETS == ("none", "gaussian", "spikes", "drops", "missing", "combined", "motion",
                       "all", "curriculum")


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("model", [HeartRate(), SkinTemperature(), SpO2(), Wearable(), Cosinor()])
def test_every_preset_on_every_model(preset, model):
    X_clean = model.evaluate(model.sample_params(50, random_state=0), 96)
    before = X_clean.copy()
    noise = make_noise(preset, model)
    assert isinstance(noise, Mixture if preset == "curriculum" else Compose)
    X = noise(X_clean, random_state=0)
    assert X.shape == X_clean.shape and X.dtype == np.float64
    assert X is not X_clean and not np.shares_memory(X, X_clean)
    np.testing.assert_array_equal(X_clean, before)
    assert not np.isinf(X).any()
    if preset == "none":
        np.testing.assert_array_equal(X, X_clean)
    if preset in ("none", "gaussian", "spikes", "drops"):
        assert not np.isnan(X).any()


def test_make_noise_none_and_instances():
    X = flat(70.0, n=5)
    np.testing.assert_array_equal(make_noise(None, HR)(X, random_state=0), X)
    custom = Spikes(rate=0.5)
    assert make_noise(custom, HR) is custom
    composed = Compose([GaussianNoise(0.1), custom])
    assert make_noise(composed) is composed


def test_make_noise_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match="combined") as info:
        make_noise("heavy", HR)
    for name in PRESETS:
        assert name in str(info.value)


# A list or dict of presets is a Mixture (test_make_noise_mixture_of_presets).
@pytest.mark.parametrize("bad", [3, 0.5, {"combined"}, HeartRate()])
def test_make_noise_bad_type(bad):
    with pytest.raises(TypeError, match="noise must be"):
        make_noise(bad, HR)


def test_make_noise_bad_model():
    with pytest.raises(TypeError, match="SymbolicModel"):
        make_noise("combined", "heart_rate")


def test_make_noise_without_model_uses_unit_span():
    # No model: the generic defaults on data scaled to [0, 1], on every channel.
    X = flat(0.5, n=500, C=2)
    out = make_noise("gaussian")(X, random_state=0)
    sigma = signal_defaults("unknown")["sigma"]
    np.testing.assert_allclose((out - X).std(axis=(0, 1)), sigma, rtol=0.05)


def test_preset_structure_per_signal():
    noise = make_noise("combined", Wearable())
    kinds = {(type(s).__name__, s.channels) for s in noise}
    assert ("ActivityBursts", ("heart_rate",)) in kinds
    assert ("Drops", ("skin_temperature",)) in kinds
    assert ("Drops", ("spo2",)) in kinds
    assert ("Clipping", ("spo2",)) in kinds
    assert ("MissingStretches", None) in kinds
    # Missing stretches come last so that nothing after them fills a gap.
    assert isinstance(noise.steps[-1], MissingStretches)
    # Unknown channel names get the generic defaults.
    assert signal_defaults("my_sensor") == signal_defaults("default")
    assert "Compose" in repr(noise)


# ---------------------------------------------------------- reproducibility
@pytest.mark.parametrize("model", [HeartRate(), Wearable()])
def test_reproducible_with_random_state(model):
    X = model.evaluate(model.sample_params(100, random_state=0), 96)
    noise = make_noise("combined", model)
    a = noise(X, random_state=42)
    np.testing.assert_array_equal(a, noise(X, random_state=42))
    np.testing.assert_array_equal(a, noise(X, random_state=np.random.default_rng(42)))
    np.testing.assert_array_equal(
        noise(X, random_state=np.random.RandomState(1)),
        noise(X, random_state=np.random.RandomState(1)),
    )
    assert not np.array_equal(a, noise(X, random_state=43), equal_nan=True)
    # A shared generator advances: two calls differ.
    rng = np.random.default_rng(0)
    assert not np.array_equal(noise(X, random_state=rng), noise(X, random_state=rng),
                              equal_nan=True)


def test_check_generator():
    g = np.random.default_rng(0)
    assert check_generator(g) is g
    assert isinstance(check_generator(None), np.random.Generator)
    assert isinstance(check_generator(np.int64(3)), np.random.Generator)
    for bad in ("0", 1.5, True):
        with pytest.raises(TypeError, match="random_state"):
            check_generator(bad)


def test_input_not_mutated_even_if_read_only():
    X = HR.evaluate(HR.sample_params(20, random_state=0), 96)
    X.flags.writeable = False
    out = make_noise("combined", HR)(X, random_state=0)
    assert out.flags.writeable
    assert np.isnan(out).any() and not np.isnan(X).any()


def test_float32_and_list_input():
    X = flat(70.0, n=3, T=24).astype(np.float32)
    out = GaussianNoise(0.01)(X, random_state=0, model=HR)
    assert out.dtype == np.float64 and out.shape == X.shape
    assert GaussianNoise(0.01)(X.tolist(), random_state=0).shape == X.shape


def test_empty_batch():
    out = make_noise("combined", HR)(np.empty((0, 96)), random_state=0)
    assert out.shape == (0, 96)


# ------------------------------------------------------ rates and magnitudes
def test_gaussian_sigma_is_fraction_of_each_channel_span():
    m = Wearable()
    X = flat(0.0, n=1000, C=3)
    out = GaussianNoise(sigma=0.02)(X, random_state=0, model=m)
    span = np.diff(m.output_range, axis=1)[:, 0]
    np.testing.assert_allclose(out.std(axis=(0, 1)), 0.02 * span, rtol=0.03)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0.0, atol=0.002 * span.max())


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_spike_rate_and_one_sided_magnitude(rate):
    X = flat(70.0)
    out = Spikes(rate=rate, magnitude=(0.1, 0.4), p_positive=1.0)(X, random_state=1, model=HR)
    d = out - X
    hit = d != 0
    assert abs(hit.mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / X.size) + 1e-4
    span = np.ptp(HR.output_range)
    assert d[hit].min() >= 0.1 * span - 1e-9 and d[hit].max() <= 0.4 * span + 1e-9
    # Isolated: spikes are single samples, not stretches (at a small rate).
    if rate <= 0.05:
        assert np.mean([r.max() for r in map(runs, hit) if r.size]) < 1.5


@pytest.mark.parametrize("p_positive", [0.0, 0.25, 0.9])
def test_spike_sign_probability(p_positive):
    X = flat(0.5)
    d = Spikes(rate=0.1, magnitude=0.2, p_positive=p_positive)(X, random_state=2) - X
    up = (d[d != 0] > 0).mean()
    assert abs(up - p_positive) < 0.02
    np.testing.assert_allclose(np.abs(d[d != 0]), 0.2)


@pytest.mark.parametrize("rate", [0.05, 0.15, 0.4])
def test_missing_fraction_and_contiguity(rate):
    X = flat(70.0)
    out = MissingStretches(rate=rate, duration=(0.5, 2.0))(X, random_state=3, model=HR)
    miss = np.isnan(out)
    assert abs(miss.mean() - rate) < 0.015
    # Stretches, not scattered points: runs of at least 2 samples (0.5 h at 15 min).
    lengths = np.concatenate([runs(r) for r in miss[:300]])
    assert np.median(lengths) >= 2
    np.testing.assert_array_equal(out[~miss], 70.0)


def test_missing_extremes():
    X = flat(1.0, n=10)
    assert np.isnan(MissingStretches(rate=1.0)(X, random_state=0)).all()
    np.testing.assert_array_equal(MissingStretches(rate=0.0)(X, random_state=0), X)


def test_missing_shared_across_channels():
    m = Wearable()
    X = m.evaluate(m.sample_params(200, random_state=0), 96)
    out = make_noise("missing", m)(X, random_state=0)
    miss = np.isnan(out)
    assert miss.any()
    np.testing.assert_array_equal(miss[..., 0], miss[..., 1])
    np.testing.assert_array_equal(miss[..., 0], miss[..., 2])
    own = MissingStretches(rate=0.2, shared=False)(X, random_state=0, model=m)
    assert not np.array_equal(np.isnan(own[..., 0]), np.isnan(own[..., 1]))


def test_durations_are_hours_at_any_sampling_rate():
    # The same gaps in hours at 15-minute and 3.75-minute sampling.
    noise = MissingStretches(rate=0.1, duration=(1.0, 2.0))
    mean_hours = []
    for T in (96, 384):
        miss = np.isnan(noise(flat(1.0, n=800, T=T), random_state=0, model=HR))
        assert abs(miss.mean() - 0.1) < 0.01
        lengths = np.concatenate([runs(r) for r in miss])
        mean_hours.append(np.mean(lengths) * 24.0 / T)
    assert 1.0 <= mean_hours[0] <= 2.2 and 1.0 <= mean_hours[1] <= 2.2
    assert abs(mean_hours[0] - mean_hours[1]) < 0.15


@pytest.mark.parametrize("rate", [0.05, 0.12, 0.3])
def test_activity_bursts_raise_heart_rate(rate):
    X = flat(70.0)
    burst = ActivityBursts(rate=rate, duration=(0.25, 2.0), magnitude=(0.15, 0.5))
    d = burst(X, random_state=4, model=HR) - X
    assert d.min() >= 0.0  # one-sided: exercise only raises heart rate
    assert abs((d > 0).mean() - rate) < 0.02
    assert d.max() <= 0.5 * np.ptp(HR.output_range) + 1e-9
    # Sustained: covered samples come in runs of up to 2 h (8 samples).
    lengths = np.concatenate([runs(r) for r in (d > 0)[:500]])
    assert lengths.max() >= 6 and np.median(lengths) >= 2


def test_activity_bursts_have_smooth_onset_and_offset():
    X = flat(0.0, n=3000)
    burst = ActivityBursts(rate=0.02, duration=2.0, magnitude=0.5, ramp=0.3)
    d = burst(X, random_state=5)
    # Isolated bursts fully inside the window: tapered ends, a plateau at 0.5.
    shapes = [
        row[s : s + 8]
        for row in d
        for s, length in zip(onsets(row > 0), runs(row > 0), strict=True)
        if length == 8 and 0 < s and s + 8 < 96
    ]
    assert len(shapes) > 20
    shape = np.median(shapes, axis=0)
    assert shape[0] < 0.5 * 0.5 and shape[-1] < 0.5 * 0.5
    np.testing.assert_allclose(shape[2:6], 0.5)
    assert np.all(np.diff(shape[:3]) > 0) and np.all(np.diff(shape[5:]) < 0)
    # ramp=0 gives a box.
    box = ActivityBursts(rate=0.05, duration=2.0, magnitude=0.5, ramp=0.0)(X, random_state=5)
    assert set(np.unique(box)) <= {0.0, 0.5}


def test_bursts_downward_when_p_positive_zero():
    d = ActivityBursts(rate=0.2, p_positive=0.0)(flat(0.5), random_state=0) - 0.5
    assert d.max() == 0.0 and d.min() < 0


@pytest.mark.parametrize("tau", [0.0, 0.25])
def test_drops_lower_skin_temperature(tau):
    m = SkinTemperature()
    X = flat(33.0)
    drop = Drops(rate=0.12, duration=(0.25, 3.0), magnitude=(0.2, 0.6), tau=tau)
    d = drop(X, random_state=6, model=m) - X
    assert d.max() <= 0.0  # the sensor off the skin reads colder, never warmer
    assert abs((d < 0).mean() - 0.12) < 0.02
    assert d.min() >= -0.6 * 9.0 - 1e-9
    if tau > 0:
        # Falls towards ambient: within a drop the reading keeps going down.
        row = d[np.argmax((d < 0).sum(axis=1))]
        start = onsets(row < 0)[0]
        length = runs(row < 0)[0]
        if length >= 3:
            seg = row[start : start + length]
            assert seg[1] <= seg[0]


def test_clipping():
    m = SpO2()
    X = flat(99.0, n=500)
    noisy = GaussianNoise(0.05)(X, random_state=0, model=m)
    assert noisy.max() > 100
    clipped = Clipping(high=100.0)(noisy, model=m)
    assert clipped.max() == 100.0
    np.testing.assert_array_equal(clipped[noisy < 100], noisy[noisy < 100])
    # No bounds: the model's output range; NaN stays NaN.
    noisy[0, :5] = np.nan
    both = Clipping()(noisy * 1.2 - 20, model=m)
    assert np.nanmin(both) >= 85.0 and np.nanmax(both) <= 100.0
    assert np.isnan(both[0, :5]).all()
    lower = Clipping(low=95.0)(noisy - 5.0, model=m)
    assert np.nanmin(lower) == 95.0 and np.nanmax(lower) < 100


def test_combined_spo2_never_above_100():
    m = SpO2()
    out = make_noise("combined", m)(m.evaluate(m.sample_params(2000, random_state=0), 96),
                                    random_state=0)
    assert np.nanmax(out) <= 100.0


def test_drift_is_slow_and_sized():
    X = flat(0.0, n=2000)
    d = Drift(magnitude=0.05, timescale=6.0)(X, random_state=0)
    # Knot values have std 0.05; the cosine blend between knots shrinks it a little.
    assert 0.03 < d.std() < 0.055
    # Slow: a 15-minute step moves far less than the wander itself.
    assert np.abs(np.diff(d, axis=1)).mean() < 0.2 * d.std()


def test_channel_selection():
    m = Wearable()
    X = flat(0.0, n=50, C=3)
    out = GaussianNoise(0.1, channels="skin_temperature")(X, random_state=0, model=m)
    assert (out[..., 1] != 0).all() and (out[..., [0, 2]] == 0).all()
    out = GaussianNoise(0.1, channels=[0, -1])(X, random_state=0, model=m)
    assert (out[..., 1] == 0).all() and (out[..., [0, 2]] != 0).all()


# ---------------------------------------------- the combined preset as a whole
def test_combined_wearable_asymmetry_and_contamination():
    m = Wearable()
    X_clean = m.evaluate(m.sample_params(2000, random_state=0), 96)
    X = make_noise("combined", m)(X_clean, random_state=0)
    r = m.normalize(X) - m.normalize(X_clean)
    observed = ~np.isnan(r)
    assert abs(1 - observed.mean() - 0.1) < 0.01
    for c, sign in enumerate((+1, -1, -1)):  # heart rate up; temperature, SpO2 down
        rc = r[..., c][observed[..., c]]
        outlier = np.abs(rc) > 0.06  # well beyond the 1-2 % measurement noise
        assert 0.08 < outlier.mean() < 0.3
        assert (np.sign(rc[outlier]) == sign).mean() > 0.9
        assert sign * np.median(rc[outlier]) > 0.1


def _cosinor_fit(y, t, loss):
    """Linear cosinor fit (mesor, cos, sin) of one normalised sequence."""
    ok = ~np.isnan(y)
    A = np.c_[np.ones(ok.sum()), np.cos(2 * np.pi * t[ok] / 24), np.sin(2 * np.pi * t[ok] / 24)]
    beta = np.linalg.lstsq(A, y[ok], rcond=None)[0]
    if loss != "linear":
        r = y[ok] - A @ beta
        scale = 1.4826 * np.median(np.abs(r - np.median(r)))
        beta = least_squares(lambda b: A @ b - y[ok], beta, loss=loss, f_scale=scale).x
    return beta[0] + beta[1] * np.cos(2 * np.pi * t / 24) + beta[2] * np.sin(2 * np.pi * t / 24)


@pytest.mark.parametrize("model", [HeartRate(), SkinTemperature(), SpO2()])
def test_combined_defeats_ols_but_not_a_tuned_robust_fit(model):
    # The point of the preset: least squares is biased by the one-sided outliers,
    # soft_l1 with a MAD-based scale is not (downstream target: >= 10x).
    X_clean = model.evaluate(model.sample_params(60, random_state=1), 96)
    X = make_noise("combined", model)(X_clean, random_state=1)
    y, y_clean, t = model.normalize(X), model.normalize(X_clean), model.t_hours(96)
    mse = {
        loss: np.median(
            [np.mean((_cosinor_fit(a, t, loss) - b) ** 2) for a, b in zip(y, y_clean, strict=True)]
        )
        for loss in ("linear", "soft_l1")
    }
    assert mse["linear"] > 5e-4
    assert mse["linear"] > 10 * mse["soft_l1"]


@settings(max_examples=25, deadline=None)
@given(
    preset=st.sampled_from(PRESETS),
    n=st.integers(1, 6),
    T=st.integers(16, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_presets_properties(preset, n, T, seed):
    m = Wearable()
    X_clean = m.evaluate(m.sample_params(n, random_state=seed % 1000), T)
    X = make_noise(preset, m)(X_clean, random_state=seed)
    assert X.shape == X_clean.shape
    miss = np.isnan(X)
    # NaN only from (shared) missing stretches, never inf.
    assert (miss == miss[..., :1]).all()
    assert np.isfinite(X[~miss]).all()
    assert np.nanmax(X[..., 2], initial=0.0) <= 100.0


# -------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Spikes(rate=-0.1), r"rate must be a fraction in \[0, 1\]"),
        (lambda: Spikes(rate=1.5), r"rate must be a fraction in \[0, 1\]"),
        (lambda: MissingStretches(rate=2), r"rate must be a fraction"),
        (lambda: ActivityBursts(rate=np.nan), "finite"),
        (lambda: Spikes(p_positive=1.2), "p_positive"),
        (lambda: Spikes(magnitude=-0.1), "magnitude must be non-negative"),
        (lambda: ActivityBursts(magnitude=(0.5, 0.1)), "low <= high"),
        (lambda: ActivityBursts(magnitude=(0.1, 0.2, 0.3)), "pair"),
        (lambda: ActivityBursts(duration=-1.0), "duration must be non-negative"),
        (lambda: Drops(duration=0.0), "duration must be > 0"),
        (lambda: MissingStretches(duration=(0.0, 1.0)), "duration must be > 0"),
        (lambda: Drops(tau=-0.1), "tau"),
        (lambda: ActivityBursts(ramp=0.8), "ramp"),
        (lambda: GaussianNoise(sigma=-1.0), "sigma"),
        (lambda: Drift(timescale=0.0), "timescale"),
        (lambda: Drift(magnitude=-0.1), "magnitude"),
        (lambda: Clipping(low=2.0, high=1.0), "low must be <= high"),
    ],
)
def test_invalid_parameters_raise_value_error(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Spikes(rate="0.1"), "rate must be a real number"),
        (lambda: Spikes(rate=True), "rate must be a real number"),
        (lambda: ActivityBursts(duration="long"), "duration"),
        (lambda: ActivityBursts(duration=None), "duration"),
        (lambda: MissingStretches(shared="yes"), "shared"),
        (lambda: GaussianNoise(channels=[1.5]), "channels"),
        (lambda: Compose([GaussianNoise(), "spikes"]), "Corruption"),
        (lambda: Compose([], model="hr"), "SymbolicModel"),
    ],
)
def test_invalid_parameter_types_raise_type_error(factory, match):
    with pytest.raises(TypeError, match=match):
        factory()


@pytest.mark.parametrize("shape", [(96,), (2, 3, 4, 5), ()])
def test_bad_shapes_raise(shape):
    with pytest.raises(ValueError, match="shape"):
        make_noise("combined", HR)(np.zeros(shape), random_state=0)


def test_non_numeric_input_raises():
    with pytest.raises(ValueError, match="numeric"):
        make_noise("gaussian", HR)([["a", "b"] * 10], random_state=0)


def test_channel_mismatch_raises():
    with pytest.raises(ValueError, match="3 channel"):
        make_noise("combined", Wearable())(np.zeros((2, 96)), random_state=0)
    with pytest.raises(ValueError, match="1 channel"):
        make_noise("combined", HR)(np.zeros((2, 96, 3)), random_state=0)


def test_unknown_channel_raises():
    with pytest.raises(ValueError, match="Unknown channel 'pulse'"):
        GaussianNoise(channels="pulse")(np.zeros((2, 96)), model=HR)
    with pytest.raises(ValueError, match="no model"):
        GaussianNoise(channels="heart_rate")(np.zeros((2, 96)))
    with pytest.raises(ValueError, match="out of range"):
        GaussianNoise(channels=3)(np.zeros((2, 96, 3)), model=Wearable())


def test_base_class_is_abstract():
    class Nothing(Corruption):
        pass

    with pytest.raises(NotImplementedError):
        Nothing()(np.zeros((1, 8)))


def test_mixture_gives_each_sequence_one_component():
    from sklearn_r2t.noise import Mixture

    X = flat(70.0, n=4000)
    up = Spikes(rate=0.5, magnitude=0.2, p_positive=1.0)
    down = Spikes(rate=0.5, magnitude=0.2, p_positive=0.0)
    out = Mixture([up, down], weights=[3, 1])(X, random_state=0, model=HR)
    d = out - X
    raised, lowered = (d > 0).any(axis=1), (d < 0).any(axis=1)
    assert not (raised & lowered).any()  # one component per sequence
    assert raised.mean() == pytest.approx(0.75, abs=0.03)
    np.testing.assert_array_equal(out, Mixture([up, down], weights=[3, 1])(
        X, random_state=0, model=HR))


def test_make_noise_mixture_of_presets():
    from sklearn_r2t.noise import Mixture

    assert isinstance(make_noise(["combined", "drops"], HR), Mixture)
    mix = make_noise({"combined": 0.5, "gaussian": 0.5}, HR)
    assert mix.weights == [0.5, 0.5]
    with pytest.raises(ValueError, match="non-negative"):
        make_noise({"combined": -1.0}, HR)
    with pytest.raises(ValueError, match="Unknown noise preset"):
        make_noise(["combined", "typo"], HR)
