"""What SymbolicLeastSquares reports beside the parameters: standard errors, the
robust scale, final weights, an outlier mask, iterations and convergence."""

import warnings

import numpy as np
import pytest
import torch

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.least_squares import _engine as bf
from sklearn_r2t.least_squares._losses import LOSSES, irls_weights, psi_derivative
from sklearn_r2t.least_squares._sequence_fit import fit_sequences
from sklearn_r2t.symbolic import (
    Cosinor,
    FunctionModel,
    HeartRate,
    SkinTemperature,
    SpO2,
    Wearable,
)

# Agreement with statsmodels: both IRLS loops stop once the coefficients move by
# about 1e-7 of their size (ours: TOL relative to 1 + max |theta|; RLM: tol=1e-12
# on the coefficients here), so the two fixed points differ by at most a few 1e-5
# of a standard error, and the weights and standard errors, smooth functions of
# the fit, by a few 1e-5 relative (measured: at most 1e-4 and 2.4e-5 over 120
# sequences). 1e-3 leaves a margin of 10x, while the nearest other covariance
# (Huber's H1, RLM's default) differs from ours by a median 9 % of a standard
# error (up to 38 %; benchmarks/results/sls_statistics.md).
RTOL = 1e-3


def _wrap(d, period):
    return (d + period / 2) % period - period / 2


@pytest.mark.parametrize("model", [HeartRate(), SkinTemperature(), SpO2()],
                         ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("loss", ["bisquare", "huber", "linear"])
def test_matches_statsmodels_rlm_on_the_cosinor_design(model, loss):
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.robust.norms import HuberT, TukeyBiweight

    data = make_wearable_sequences(12, model=model, severity=2, random_state=3)
    est = SymbolicLeastSquares(model, loss=loss, f_scale="auto").fit(data.X)
    ours = est.fit_details(data.X)
    B = model.linear_basis(model.t_hours(96))
    # Ours: Tukey at c = 4.685 scales; scipy's huber switches at 1 scale.
    norm = {"bisquare": TukeyBiweight(c=4.685), "huber": HuberT(t=1.0)}.get(loss)
    h1_gap = []
    for i in range(len(data.X)):
        y = data.X[i]
        ok = ~np.isnan(y)
        if loss == "linear":
            res = sm.OLS(y[ok], B[ok]).fit()
            np.testing.assert_allclose(ours.scale[i], np.sqrt(res.scale), rtol=RTOL)
        else:
            # An independent start (median regression), the same fixed scale.
            start = sm.QuantReg(y[ok], B[ok]).fit(q=0.5, max_iter=5000).params
            fit = sm.RLM(y[ok], B[ok], M=norm)
            kw = dict(start_params=start, start_scale=ours.scale[i], update_scale=False,
                      conv="coefs", tol=1e-12, maxiter=1000)
            res = fit.fit(cov="H3", **kw)
            np.testing.assert_allclose(ours.weights[i, ok], res.weights, atol=RTOL)
            h1 = fit.fit(cov="H1", **kw).bse
            h1_gap.append(np.max(np.abs(h1 / res.bse - 1)))
        params = model.params_from_linear(res.params[None])
        std = bf.delta_method_std(model, res.params[None], res.cov_params()[None])[0]
        at_bound = ours.at_bound[i]
        diff = model.project(params)[0] - ours.params[i]
        for j, period in enumerate(model.param_periods):
            if period is not None:
                diff[j] = _wrap(diff[j], period)
        assert np.all(np.abs(diff) <= RTOL * ours.std[i])
        np.testing.assert_allclose(ours.std[i], std, rtol=RTOL)
        # The returned parameter sits at its bound exactly where statsmodels'
        # unconstrained estimate lies outside (or on) it.
        lb, ub = model.bounds.T
        outside = ~model.angular_mask & ((params[0] <= lb + 1e-9) | (params[0] >= ub - 1e-9))
        np.testing.assert_array_equal(at_bound, outside)
    if h1_gap:  # the test can tell one covariance from another
        assert max(h1_gap) > 10 * RTOL


def test_psi_derivative_is_the_slope_of_the_influence_function():
    u = torch.linspace(-6.0, 6.0, 1201, dtype=torch.float64)
    kinks = ((u.abs() - 1.0).abs() < 1e-2) | ((u.abs() - 4.685).abs() < 1e-2)
    for loss in LOSSES:
        def psi(v, loss=loss):
            return v * irls_weights(loss, v * v)
        numeric = (psi(u + 1e-6) - psi(u - 1e-6)) / 2e-6
        assert torch.allclose(numeric[~kinks], psi_derivative(loss, u * u)[~kinks], atol=1e-6)


def test_m_estimator_cov_of_least_squares_is_the_ols_covariance():
    rng = np.random.RandomState(0)
    B = torch.from_numpy(rng.normal(size=(40, 3)))
    R = torch.from_numpy(rng.normal(size=(5, 40)))
    obs = torch.from_numpy(rng.uniform(size=(5, 40)) > 0.2)
    cov = bf.m_estimator_cov(B, R * obs, obs, "linear", torch.ones(5, dtype=torch.float64))
    for i in range(5):
        Bi, ri = B[obs[i]].numpy(), R[i, obs[i]].numpy()
        s2 = ri @ ri / (len(ri) - 3)
        np.testing.assert_allclose(cov[i].numpy(), s2 * np.linalg.inv(Bi.T @ Bi), rtol=1e-10)


@pytest.mark.parametrize("loss", ["bisquare", "cauchy", "huber"])
def test_intervals_cover_under_independent_noise(loss):
    # Gaussian noise only: what the sandwich assumes. 400 sequences: a coverage
    # of 0.90 is measured within +-0.015 (one standard error), the band is +-3.
    model = HeartRate()
    rng = np.random.RandomState(1)
    params = model.sample_params(400, random_state=rng)
    X = model.evaluate(params, 96) + 2.0 * rng.normal(size=(400, 96))
    est = SymbolicLeastSquares(model, loss=loss, f_scale="auto").fit(X)
    details = est.fit_details(X)
    err = details.params - params
    err[:, 2] = _wrap(err[:, 2], 24.0)
    inside = ~details.at_bound.any(axis=1)  # clipped estimates have no interval
    coverage = (np.abs(err) <= 1.645 * details.std)[inside].mean(axis=0)
    assert np.all((coverage > 0.855) & (coverage < 0.945)), coverage
    # ... and the robust scale estimates the noise's sigma (2 bpm).
    assert np.median(details.scale) == pytest.approx(2.0, rel=0.1)


def test_outlier_mask_and_weights_mark_the_artefacts():
    model = HeartRate()
    rng = np.random.RandomState(2)
    params = np.array([[65.0, 10.0, 15.0]] * 50)
    X = model.evaluate(params, 96) + rng.normal(size=(50, 96))
    spikes = np.zeros(X.shape, dtype=bool)
    spikes[:, 10:14] = spikes[:, 50] = True
    X[spikes] += 40.0
    X[:, 70] = np.nan
    details = SymbolicLeastSquares(model, loss="bisquare", f_scale="auto").fit(X).fit_details(X)
    assert details.outliers[spikes].all()
    assert details.outliers[~spikes].mean() < 0.03  # 2.5 sigma: about 1 % of Gaussian noise
    assert np.all(details.weights[spikes] == 0.0)  # bisquare rejects them outright
    assert np.isnan(details.weights[:, 70]).all() and not details.outliers[:, 70].any()
    assert np.nanmin(details.weights) >= 0.0 and np.nanmax(details.weights) <= 1.0


@pytest.mark.filterwarnings("ignore:1 sequence:UserWarning")
def test_transform_std_weights_and_details_agree():
    data = make_wearable_sequences(30, severity=2, random_state=0)
    X = data.X.copy()
    X[3] = np.nan  # a sequence entirely missing
    X_before = X.copy()
    est = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(X)
    params, std = est.transform(X, return_std=True)
    details = est.fit_details(X)
    np.testing.assert_array_equal(params, est.transform(X))
    np.testing.assert_array_equal(params, details.params)
    # (Equal up to rounding: torch's batched pseudo-inverse is not bit-stable.)
    np.testing.assert_allclose(std, details.std, rtol=1e-9)
    np.testing.assert_array_equal(est.sample_weights(X), details.weights)
    np.testing.assert_array_equal(X, X_before)  # input untouched
    assert details.scale.shape == details.n_iter.shape == details.converged.shape == (30,)
    assert details.weights.shape == details.outliers.shape == X.shape
    assert np.isnan(params[3]).all() and np.isnan(std[3]).all() and np.isnan(details.scale[3])
    assert details.n_iter[3] == 0 and not details.converged[3]
    assert np.isnan(details.weights[3]).all()
    ok = np.arange(30) != 3
    assert np.all(std[ok] > 0) and details.converged[ok].all() and np.all(details.n_iter[ok] > 0)


def test_multi_channel_and_3d_input_keep_a_channel_axis():
    data = make_wearable_sequences(10, model=Wearable(), random_state=0)
    est = SymbolicLeastSquares(Wearable(), loss="bisquare", f_scale="auto",
                               outlier_side=("above", "below", "below")).fit(data.X)
    details = est.fit_details(data.X)
    assert details.std.shape == details.at_bound.shape == (10, 9)
    assert details.scale.shape == details.n_iter.shape == (10, 3)
    assert details.weights.shape == (10, 96, 3)
    # Scales in each channel's own unit: bpm, degrees C, % SpO2.
    assert np.all(np.median(details.scale, axis=0) < [10.0, 1.0, 3.0])
    # Each channel's weights and outliers are its own: a drop in skin temperature
    # alone is flagged there and nowhere else.
    X = Wearable().evaluate(Wearable().sample_params(10, random_state=1), 96)
    X = X + 0.01 * np.random.RandomState(1).normal(size=X.shape)
    X[:, 20:26, 1] -= 3.0
    d = SymbolicLeastSquares(Wearable(), loss="bisquare", f_scale="auto").fit(X).fit_details(X)
    assert d.outliers[:, 20:26, 1].all() and not d.outliers[:, :, [0, 2]].any()
    assert np.all(d.weights[:, 20:26, 1] == 0.0) and np.all(d.weights[:, :, 0] > 0.5)
    hr = make_wearable_sequences(5, random_state=0).X
    one = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(hr[:, :, None])
    assert one.sample_weights(hr[:, :, None]).shape == (5, 96, 1)
    assert one.fit_details(hr[:, :, None]).scale.shape == (5, 1)


def test_convergence_flag_reports_an_iteration_cap(monkeypatch):
    data = make_wearable_sequences(40, severity=2, random_state=0)
    est = SymbolicLeastSquares(loss="cauchy", f_scale="auto").fit(data.X)
    assert est.fit_details(data.X).converged.mean() > 0.95
    monkeypatch.setattr(bf, "MAX_ITER", 2)
    capped = est.fit_details(data.X)
    assert capped.n_iter.max() == 2 and capped.converged.mean() < 0.5
    ols = SymbolicLeastSquares(loss="linear").fit(data.X).fit_details(data.X)
    assert np.all(ols.n_iter == 0) and ols.converged.all()
    assert np.all(ols.weights[~np.isnan(data.X)] == 1.0)


def _offset_decay(p, t):
    return p[:, :1] + p[:, 1:2] * torch.exp(-t / 5.0)


def test_nonlinear_engine_std_matches_the_linear_one():
    # The same model with and without a linear basis: Jacobian sandwich (LM
    # path) against coefficient sandwich plus delta method (IRLS path).
    bounds = [(-1.0, 1.0), (-1.0, 1.0)]
    plain = FunctionModel(_offset_decay, bounds=bounds)
    linear = FunctionModel(
        _offset_decay, bounds=bounds,
        linear_basis=lambda t: np.stack([np.ones_like(t), np.exp(-t / 5.0)], axis=1),
        params_from_linear=lambda theta: theta,
    )
    rng = np.random.RandomState(0)
    P = np.column_stack([rng.uniform(0.2, 0.4, 20), rng.uniform(0.2, 0.5, 20)])
    X = plain.evaluate(P, 96) + 0.01 * rng.normal(size=(20, 96))
    X[:, 30:34] += 0.3
    for loss in ("linear", "bisquare"):
        a = fit_sequences(plain, X, loss=loss, f_scale=0.02, return_details=True,
                          return_std=True)
        b = fit_sequences(linear, X, loss=loss, f_scale=0.02, return_details=True,
                          return_std=True)
        np.testing.assert_allclose(a.params, b.params, atol=1e-6)
        np.testing.assert_allclose(a.std, b.std, rtol=1e-3)
        np.testing.assert_allclose(a.scale, b.scale, rtol=1e-6)


def test_scipy_solver_reports_the_same_statistics():
    # A fixed scale: with 'auto' the two starts (exact IRLS least absolute
    # deviations against scipy's soft-L1 surrogate) land at different points of a
    # flat L1 minimum, and their scales differ by up to 15 %.
    data = make_wearable_sequences(8, severity=1, random_state=4)
    kw = dict(loss="bisquare", f_scale=0.03)
    fast = SymbolicLeastSquares(**kw).fit(data.X).fit_details(data.X)
    ref = SymbolicLeastSquares(solver="scipy", **kw).fit(data.X).fit_details(data.X)
    span = np.ptp(HeartRate().output_range)
    np.testing.assert_allclose(fast.scale, 0.03 * span)
    np.testing.assert_allclose(ref.scale, 0.03 * span)
    # scipy stops at its default tolerances (ftol = xtol = 1e-8, on the cost and
    # the step), looser than the batched IRLS: a few 1e-3 apart at most.
    np.testing.assert_allclose(fast.std, ref.std, rtol=1e-2)
    np.testing.assert_allclose(fast.weights, ref.weights, atol=1e-2)
    assert ref.converged.all() and np.all(ref.n_iter > 0)


def test_fit_sequences_std_needs_details():
    X = make_wearable_sequences(2, random_state=0).X
    with pytest.raises(ValueError, match="return_details"):
        fit_sequences(HeartRate(), X, return_std=True)


def test_estimates_pinned_at_a_bound_are_reported_not_silent():
    # Heart rate in beats per minute on Cosinor(), whose box suits [0, 1] data: the
    # mesor and amplitude are clipped to the box, and transform says so.
    data = make_wearable_sequences(6, model=HeartRate(), noise="gaussian", random_state=0)
    est = SymbolicLeastSquares(Cosinor(), loss="bisquare", f_scale="auto").fit(data.X)
    with pytest.warns(UserWarning, match=r"6 of 6 sequences have mesor, amplitude_1 pinned"):
        params = est.transform(data.X)
    assert (params[:, 0] == 0.7).all()
    np.testing.assert_array_equal(Cosinor().at_bound(params)[:, :2], True)
    # inside the box: silent
    ok = make_wearable_sequences(6, model=Cosinor(), noise="gaussian", random_state=0).X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(ok).transform(ok)
