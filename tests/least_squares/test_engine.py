"""The batched robust solver, its losses, artefact masks and the oracle."""

import warnings

import numpy as np
import pytest
import torch

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.least_squares import _sequence_fit
from sklearn_r2t.least_squares._losses import LOSSES, TUNING, irls_weights, rho, scipy_loss
from sklearn_r2t.least_squares._sequence_fit import fit_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.noise import (
    ActivityBursts,
    Clipping,
    Compose,
    Drops,
    MissingStretches,
    Mixture,
    Spikes,
    make_noise,
)
from sklearn_r2t.symbolic import FunctionModel, HeartRate, SkinTemperature, SpO2, Wearable


def _decay(p, t):
    return p[:, :1] * torch.exp(-t / p[:, 1:2]) + p[:, 2:3]


DECAY = FunctionModel(_decay, bounds=[(0.4, 0.8), (1.0, 10.0), (0.0, 0.2)],
                      param_names=("amplitude", "tau", "offset"))


def _median_nmse(model, data, params):
    return float(np.median(normalized_mse(model, data.X_clean, model.evaluate(params, 96))))


# ------------------------------------------------------------------- losses
@pytest.mark.parametrize("loss", LOSSES)
def test_irls_weight_is_the_derivative_of_rho(loss):
    z = torch.linspace(0.0, 60.0, 601, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(rho(loss, z).sum(), z)
    np.testing.assert_allclose(irls_weights(loss, z.detach()), grad, atol=1e-12)


def test_weights_match_their_textbook_definitions():
    u = np.linspace(-8, 8, 320)  # r / s, avoiding 0
    z = torch.from_numpy(u**2)
    w = {loss: irls_weights(loss, z).numpy() for loss in LOSSES}
    c = TUNING["bisquare"]
    np.testing.assert_allclose(w["bisquare"], np.where(np.abs(u) < c, (1 - (u / c) ** 2) ** 2, 0))
    c = TUNING["welsch"]
    np.testing.assert_allclose(w["welsch"], np.exp(-((u / c) ** 2)))
    np.testing.assert_allclose(w["huber"], np.minimum(1.0, 1.0 / np.abs(u)))
    np.testing.assert_allclose(w["cauchy"], 1.0 / (1.0 + u**2))
    np.testing.assert_allclose(w["soft_l1"], 1.0 / np.sqrt(1.0 + u**2))
    np.testing.assert_allclose(w["arctan"], 1.0 / (1.0 + u**4))
    np.testing.assert_allclose(w["linear"], 1.0)
    assert w["bisquare"][np.abs(u) > 4.685].max() == 0.0  # rejected outright


@pytest.mark.parametrize("loss", ["bisquare", "welsch"])
def test_scipy_callables_match_the_torch_losses(loss):
    z = np.linspace(0.0, 40.0, 401)
    out = scipy_loss(loss)(z)
    zt = torch.from_numpy(z)
    np.testing.assert_allclose(out[0], rho(loss, zt), atol=1e-12)
    np.testing.assert_allclose(out[1], irls_weights(loss, zt), atol=1e-12)
    h = 1e-6
    fd = (scipy_loss(loss)(z + h)[1] - scipy_loss(loss)(np.abs(z - h))[1]) / (2 * h)
    inner = np.abs(z - TUNING[loss] ** 2) > 1e-3  # bisquare's rho'' jumps at c**2
    np.testing.assert_allclose(out[2][inner][1:], fd[inner][1:], atol=1e-5)


# ----------------------------------------------------- agreement with scipy
@pytest.mark.parametrize("model", [HeartRate(), SpO2(), DECAY], ids=["hr", "spo2", "decay"])
@pytest.mark.parametrize("loss", ["linear", "soft_l1", "bisquare", "welsch"])
def test_both_solvers_recover_clean_data_exactly(model, loss):
    params = model.sample_params(6, random_state=3)
    X = model.evaluate(params, 96)
    for solver in ("batched", "scipy"):
        out = fit_sequences(model, X, loss=loss, f_scale="auto", solver=solver)
        np.testing.assert_allclose(
            normalized_mse(model, X, model.evaluate(out, 96)), 0.0, atol=1e-12,
            err_msg=solver,
        )


@pytest.mark.parametrize("model", [HeartRate(), SkinTemperature(), DECAY],
                         ids=["hr", "skin", "decay"])
@pytest.mark.parametrize("loss", ["cauchy", "bisquare"])
def test_batched_and_scipy_solvers_agree_on_noisy_data(model, loss):
    data = make_wearable_sequences(40, model=model, random_state=5)
    fast = fit_sequences(model, data.X, loss=loss, f_scale="auto")
    ref = fit_sequences(model, data.X, loss=loss, f_scale="auto", solver="scipy")
    # Same start, same scale, same objective: the two optimisers land together.
    curves_fast, curves_ref = model.evaluate(fast, 96), model.evaluate(ref, 96)
    gap = normalized_mse(model, curves_ref, curves_fast)
    assert np.median(gap) < 1e-8
    assert np.quantile(gap, 0.9) < 1e-6
    err_fast, err_ref = _median_nmse(model, data, fast), _median_nmse(model, data, ref)
    assert err_fast == pytest.approx(err_ref, rel=0.05)


# ------------------------------------------------- robustness and one side
def test_bisquare_near_the_oracle_on_combined_noise():
    model = HeartRate()
    data = make_wearable_sequences(300, model=model, random_state=11)
    floor = _median_nmse(model, data, oracle_fit(model, data.X, data.artefact_mask))
    ols = _median_nmse(model, data, fit_sequences(model, data.X, loss="linear"))
    bisq = _median_nmse(model, data, fit_sequences(model, data.X, loss="bisquare",
                                                   f_scale="auto"))
    assert bisq < 1.4 * floor
    assert ols > 50 * floor


@pytest.mark.parametrize(
    "model, side", [(HeartRate(), "above"), (SkinTemperature(), "below"), (SpO2(), "below")]
)
def test_outlier_side_beats_both_when_most_samples_are_pushed_one_way(model, side):
    data = make_wearable_sequences(200, model=model, severity=4, random_state=2)
    touched = data.artefact_mask[~np.isnan(data.X)].mean()
    assert touched > 0.4
    floor = _median_nmse(model, data, oracle_fit(model, data.X, data.artefact_mask))
    both = _median_nmse(model, data, fit_sequences(model, data.X, loss="bisquare",
                                                   f_scale="auto"))
    one = _median_nmse(model, data, fit_sequences(model, data.X, loss="bisquare",
                                                  f_scale="auto", outlier_side=side))
    assert one < both / 10
    assert one < 3 * floor


def test_wrong_outlier_side_costs_accuracy_only_under_contamination():
    model = HeartRate()

    def ratio(severity):
        data = make_wearable_sequences(100, model=model, severity=severity, random_state=4)
        right, wrong = (
            _median_nmse(model, data, fit_sequences(model, data.X, loss="bisquare",
                                                    f_scale="auto", outlier_side=side))
            for side in ("above", "below")
        )
        return wrong / right

    assert ratio(0) < 1.2  # no artefacts: the side does not matter
    assert ratio(2) > 10  # ~30 % touched: starting among the artefacts breaks the fit


def test_outlier_side_per_channel_on_wearable():
    model = Wearable()
    data = make_wearable_sequences(60, model=model, severity=3, random_state=0)
    sides = ("above", "below", "below")
    per_channel = fit_sequences(model, data.X, loss="bisquare", f_scale="auto",
                                outlier_side=sides)
    # Channels are fitted independently: the stack equals its channels' fits.
    for c, (m, side) in enumerate(zip(model.components, sides, strict=True)):
        alone = fit_sequences(m, data.X[:, :, c], loss="bisquare", f_scale="auto",
                              outlier_side=side)
        np.testing.assert_allclose(per_channel[:, 3 * c : 3 * c + 3], alone, atol=1e-9)
    with pytest.raises(ValueError, match="one per channel"):
        fit_sequences(model, data.X, loss="bisquare", outlier_side=("above", "below"))
    with pytest.raises(ValueError, match="outlier_side"):
        SymbolicLeastSquares(model, outlier_side="up").fit(data.X)


# ----------------------------------------------------- batching and bounds
@pytest.mark.parametrize("model", [HeartRate(), DECAY], ids=["linear", "nonlinear"])
def test_fitting_a_batch_equals_fitting_each_sequence_alone(model):
    data = make_wearable_sequences(12, model=model, random_state=7)
    batch = fit_sequences(model, data.X, loss="bisquare", f_scale="auto")
    alone = np.vstack([fit_sequences(model, data.X[i : i + 1], loss="bisquare",
                                     f_scale="auto") for i in range(12)])
    np.testing.assert_allclose(batch, alone, rtol=1e-6, atol=1e-8)


def test_chunks_do_not_change_the_answer(monkeypatch):
    model = HeartRate()
    data = make_wearable_sequences(50, model=model, random_state=8)
    whole = fit_sequences(model, data.X, loss="welsch", f_scale="auto")
    monkeypatch.setattr(_sequence_fit, "_CHUNK_LINEAR", 7)
    chunked = fit_sequences(model, data.X, loss="welsch", f_scale="auto")
    np.testing.assert_allclose(whole, chunked, rtol=1e-6, atol=1e-8)


def test_same_input_same_bits_and_input_untouched():
    data = make_wearable_sequences(30, random_state=9)
    X = data.X.copy()
    a = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(X).transform(X)
    b = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(X).transform(X)
    assert np.array_equal(a, b)
    np.testing.assert_array_equal(X, data.X)


def test_parameters_within_bounds_and_angles_wrapped():
    model = HeartRate()
    data = make_wearable_sequences(200, model=model, severity=5, random_state=1)
    P = fit_sequences(model, data.X, loss="bisquare", f_scale="auto")
    b = model.bounds
    assert np.all((P >= b[:, 0]) & (P <= b[:, 1]))
    P = fit_sequences(DECAY, make_wearable_sequences(50, model=DECAY, random_state=1).X,
                      loss="cauchy", f_scale="auto")
    assert np.all((P >= DECAY.bounds[:, 0]) & (P <= DECAY.bounds[:, 1]))


def test_too_few_observed_samples_give_nan_and_a_warning_rest_unaffected():
    model = HeartRate()
    data = make_wearable_sequences(5, model=model, noise="gaussian", random_state=0)
    X = data.X.copy()
    X[2, 3:] = np.nan  # three samples left: fewer than 3 parameters + 1
    with pytest.warns(UserWarning, match="fewer than 4 observed samples"):
        P = fit_sequences(model, X, loss="bisquare", f_scale="auto")
    assert np.isnan(P[2]).all() and np.isfinite(np.delete(P, 2, axis=0)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rest = fit_sequences(model, np.delete(X, 2, axis=0), loss="bisquare", f_scale="auto")
    np.testing.assert_allclose(np.delete(P, 2, axis=0), rest, atol=1e-9)


def test_missing_samples_are_ignored():
    model = SkinTemperature()
    params = model.sample_params(4, random_state=0)
    X = model.evaluate(params, 96)
    X[:, 10:40] = np.nan
    X[0, 60:70] -= 3.0  # a drop among the observed samples
    P = fit_sequences(model, X, loss="bisquare", f_scale="auto")
    np.testing.assert_allclose(P, params, atol=1e-6)


def test_function_model_opts_into_the_linear_engine():
    def offset_decay(p, t):
        return p[:, :1] + p[:, 1:2] * torch.exp(-t / 5.0)

    bounds = [(0.0, 0.5), (0.1, 0.6)]
    plain = FunctionModel(offset_decay, bounds=bounds)
    linear = FunctionModel(
        offset_decay, bounds=bounds,
        linear_basis=lambda t: np.stack([np.ones_like(t), np.exp(-t / 5.0)], axis=1),
        params_from_linear=lambda theta: theta,
    )
    data = make_wearable_sequences(30, model=plain, random_state=3)
    a = fit_sequences(plain, data.X, loss="bisquare", f_scale="auto")
    b = fit_sequences(linear, data.X, loss="bisquare", f_scale="auto")
    # The two engines' L1 starts stop at slightly different points (L1 minima are
    # flat), so the scales differ a little; the fits agree to the noise level.
    np.testing.assert_allclose(a, b, atol=2e-3)
    assert _median_nmse(plain, data, a) == pytest.approx(_median_nmse(plain, data, b), rel=0.02)
    with pytest.raises(ValueError, match="together"):
        FunctionModel(offset_decay, bounds=bounds, linear_basis=lambda t: t)


def test_verbose_shows_a_progress_bar(capsys):
    data = make_wearable_sequences(20, random_state=0)
    SymbolicLeastSquares(loss="bisquare", f_scale="auto", verbose=1).fit(data.X).transform(data.X)
    assert "20/20" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="tukey"), "loss must be one of"),
        (dict(solver="fast"), "solver must be one of"),
        (dict(f_scale=-1.0), "f_scale"),
        (dict(outlier_side=3), "outlier_side"),
        (dict(max_nfev=0), "max_nfev"),
    ],
)
def test_fit_sequences_rejects_bad_options(kwargs, match):
    X = HeartRate().evaluate([[70, 10, 15]], 96)
    with pytest.raises(ValueError, match=match):
        fit_sequences(HeartRate(), X, **kwargs)


def test_n_jobs_zero_is_refused_at_fit():
    X = HeartRate().evaluate([[70, 10, 15]], 96)
    with pytest.raises(ValueError, match="n_jobs"):
        SymbolicLeastSquares(n_jobs=0).fit(X)


# ---------------------------------------------------- masks and the oracle
def _touched(X_clean, X_noisy):
    return ~np.isclose(X_clean, X_noisy, rtol=0, atol=1e-12) & ~np.isnan(X_noisy)


@pytest.mark.parametrize(
    "corruption",
    [
        Spikes(rate=0.2, p_positive=0.5),
        ActivityBursts(rate=0.3),
        Drops(rate=0.3, tau=0.25),
        Clipping(low=0.45, high=0.55),
        Mixture([Spikes(rate=0.3), Drops(rate=0.2)]),
    ],
    ids=["spikes", "bursts", "drops", "clip", "mixture"],
)
def test_artefact_mask_is_exactly_what_the_corruption_changed(corruption):
    X_clean = np.random.RandomState(0).uniform(0.3, 0.7, size=(40, 96))
    X, mask = corruption(X_clean, random_state=1, return_mask=True)
    assert mask.shape == X.shape and mask.dtype == bool
    np.testing.assert_array_equal(mask, _touched(X_clean, X))
    np.testing.assert_array_equal(corruption(X_clean, random_state=1), X)  # same draws


def test_mask_skips_measurement_noise_and_keeps_hidden_artefacts():
    X_clean = np.full((30, 96), 0.5)
    noise = Compose([Spikes(rate=0.2), MissingStretches(rate=0.3)])
    X, mask = noise(X_clean, random_state=0, return_mask=True)
    hidden = mask & np.isnan(X)
    assert hidden.any()  # a spike that a gap later hid is still recorded
    np.testing.assert_array_equal(mask & ~np.isnan(X), _touched(X_clean, X))
    data = make_wearable_sequences(20, noise="gaussian", random_state=0)
    assert not data.artefact_mask.any()


def test_severity_sweeps_contamination_from_zero_to_about_sixty_percent():
    fractions = []
    for severity in (0, 1, 2, 3, 4):
        data = make_wearable_sequences(300, severity=severity, random_state=0)
        fractions.append(data.artefact_mask[~np.isnan(data.X)].mean())
    assert fractions[0] == 0.0
    assert np.all(np.diff(fractions) > 0.08)
    assert 0.12 < fractions[1] < 0.22 and 0.5 < fractions[4] < 0.65
    with pytest.raises(ValueError, match="severity"):
        make_noise("combined", HeartRate(), severity=-1)
    with pytest.raises(ValueError, match="severity"):
        make_noise(Spikes(), severity=2.0)


def test_oracle_fit_uses_exactly_the_untouched_samples():
    model = HeartRate()
    data = make_wearable_sequences(50, model=model, severity=3, random_state=0)
    X = data.X.copy()
    P = oracle_fit(model, X, data.artefact_mask)
    np.testing.assert_array_equal(X, data.X)
    ref = fit_sequences(model, np.where(data.artefact_mask, np.nan, data.X), loss="linear")
    np.testing.assert_array_equal(P, ref)
    # Changing a touched sample changes nothing; changing a clean one does.
    i, t = np.argwhere(data.artefact_mask & ~np.isnan(X))[0]
    X[i, t] += 50.0
    np.testing.assert_array_equal(oracle_fit(model, X, data.artefact_mask), P)
    i, t = np.argwhere(~data.artefact_mask & ~np.isnan(X))[0]
    X[i, t] += 50.0
    assert not np.allclose(oracle_fit(model, X, data.artefact_mask)[i], P[i])
    ols = _median_nmse(model, data, fit_sequences(model, data.X, loss="linear"))
    assert _median_nmse(model, data, P) < ols / 20
    with pytest.raises(ValueError, match="shape of X"):
        oracle_fit(model, data.X, data.artefact_mask[:, :10])


def test_oracle_floor_matches_least_squares_theory():
    # Least squares on n clean Gaussian samples: the curve error averaged over the
    # window is sigma^2 chi2_p / n, whose median is sigma^2 * 2.366 / n for p = 3.
    model = HeartRate()
    data = make_wearable_sequences(2000, model=model, noise="gaussian", random_state=0)
    floor = _median_nmse(model, data, oracle_fit(model, data.X, data.artefact_mask))
    sigma = 0.015  # the heart-rate preset's noise, as a fraction of the span
    assert floor == pytest.approx(sigma**2 * 2.366 / 96, rel=0.1)
