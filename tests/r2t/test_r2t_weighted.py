"""R2T's weighted-solve head, its standard errors, and the curriculum / motion noise."""

import numpy as np
import pytest
import torch

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.least_squares._engine import delta_method_std, weighted_lstsq, weighted_lstsq_cov
from sklearn_r2t.metrics import normalized_mse, oracle_fit, parameter_errors
from sklearn_r2t.noise import CURRICULUM_SEVERITIES, MotionArtefacts, make_noise
from sklearn_r2t.r2t._inference import encode_sequences
from sklearn_r2t.r2t._network import WeightedSolveNet
from sklearn_r2t.symbolic import FunctionModel, HeartRate, SkinTemperature, SpO2, Wearable

TINY = dict(d_model=8, n_heads=2, dim_feedforward=16, step_features=2, hidden_size=16,
            n_synthetic=256, max_epochs=2, batch_size=64, pretrained=False, random_state=0)


def decay(params, t_hours):
    return params[:, :1] * torch.exp(-t_hours / params[:, 1:2]) + params[:, 2:3]


DECAY = FunctionModel(decay, bounds=[(0.4, 0.8), (1.0, 10.0), (0.0, 0.2)])


def median_nmse(model, data, params):
    return float(np.median(normalized_mse(model, data.X_clean, model.evaluate(params, 96))))


# ---------------------------------------------------------------- the solve engine
@pytest.mark.parametrize("model", [HeartRate(), SpO2(), Wearable()], ids=lambda m: m.name)
def test_solve_with_the_true_inlier_weights_is_the_oracle(model):
    # A network that learned the artefact mask exactly would return the oracle fit.
    data = make_wearable_sequences(50, model=model, severity=2.0, random_state=0)
    net = WeightedSolveNet(model, 96, d_model=8, n_heads=2, dim_feedforward=8)
    x, observed = encode_sequences(model, data.X.reshape(50, 96, -1))
    inlier = observed * ~data.artefact_mask.reshape(x.shape)
    thetas, _, singular = net.solve(torch.from_numpy(x).double(),
                                    torch.from_numpy(inlier).double())
    assert not singular.any()
    params = np.concatenate([m.project(m.params_from_linear(t.numpy() * span)) for m, t, span
                             in zip(net.components, thetas, net.span, strict=True)], axis=1)
    oracle = oracle_fit(model, data.X, data.artefact_mask)
    np.testing.assert_allclose(model.evaluate(params, 96), model.evaluate(oracle, 96),
                               atol=1e-9)


def test_sandwich_covariance_with_0_1_weights_is_least_squares_on_the_kept_samples():
    rng = np.random.RandomState(0)
    B = torch.from_numpy(np.c_[np.ones(40), rng.randn(40, 2)])
    Y = torch.from_numpy(rng.randn(3, 40))
    W = torch.from_numpy((rng.rand(3, 40) > 0.3).astype(float))
    theta = weighted_lstsq(B, Y, W)
    cov = weighted_lstsq_cov(B, Y - theta @ B.T, W)
    for i in range(3):
        keep = W[i].numpy() > 0
        Bk, yk = B.numpy()[keep], Y[i].numpy()[keep]
        beta, *_ = np.linalg.lstsq(Bk, yk, rcond=None)
        s2 = np.sum((yk - Bk @ beta) ** 2) / (keep.sum() - 3)
        np.testing.assert_allclose(cov[i].numpy(), s2 * np.linalg.inv(Bk.T @ Bk), rtol=1e-10)
    # Per-row designs (Jacobians) give the same as the shared basis.
    np.testing.assert_allclose(weighted_lstsq_cov(B.expand(3, 40, 3), Y - theta @ B.T, W),
                               cov, rtol=1e-12)


def test_delta_method_matches_monte_carlo():
    model = HeartRate()
    theta = np.array([[70.0, 8.0, -5.0]])
    cov = np.diag([0.3, 0.2, 0.2])[None]
    draws = np.random.RandomState(0).multivariate_normal(theta[0], cov[0], 20000)
    mc = model.params_from_linear(draws).std(axis=0)
    np.testing.assert_allclose(delta_method_std(model, theta, cov)[0], mc, rtol=0.05)


# ------------------------------------------------------------------ the estimator
def test_weighted_head_is_the_default_and_gives_standard_errors():
    data = make_wearable_sequences(40, random_state=1)
    est = R2TRegressor(**TINY).fit(data.X)
    assert isinstance(est.module_, WeightedSolveNet) and est.module_.linear
    params, std = est.transform(data.X, return_std=True)
    assert params.shape == std.shape == (40, 3)
    assert np.all(std > 0) and np.isfinite(std).all()
    assert est.std_scale_.shape == (3,)
    np.testing.assert_array_equal(params, est.transform(data.X))
    X = data.X.copy()
    X[0] = np.nan
    params, std = est.transform(X, return_std=True)
    assert np.isnan(params[0]).all() and np.isnan(std[0]).all()


def test_parameter_head_has_no_standard_errors():
    data = make_wearable_sequences(20, random_state=1)
    est = R2TRegressor(head="parameters", **TINY).fit(data.X)
    assert est.std_scale_ is None
    with pytest.raises(ValueError, match="return_std=True needs head='weights'"):
        est.transform(data.X, return_std=True)


def test_model_without_linear_basis_uses_gauss_newton_steps():
    data = make_wearable_sequences(30, model=DECAY, n_timesteps=24, random_state=0)
    est = R2TRegressor(DECAY, noise="combined", **TINY).fit(data.X)
    assert not est.module_.linear
    params, std = est.transform(data.X, return_std=True)
    lo, hi = DECAY.bounds.T
    assert np.all((params >= lo) & (params <= hi))
    assert np.isfinite(std).all() and np.all(std > 0)


@pytest.mark.parametrize("loss_weights, match", [
    ({"typo": 1.0}, "unknown terms \\['typo'\\]"),
    ({"mask": -1.0}, "must be a finite number >= 0"),
    ({"mask": True}, "must be a finite number >= 0"),
    ({"reconstruction": 0, "parameters": 0.0}, "every term weight 0"),
])
def test_bad_loss_weights_are_named(loss_weights, match):
    with pytest.raises(ValueError, match=match):
        R2TRegressor(loss_weights=loss_weights, **TINY).fit(np.zeros((2, 96)))


def test_mask_term_is_not_a_parameter_head_term():
    with pytest.raises(ValueError, match="head='parameters' has"):
        R2TRegressor(head="parameters", loss_weights={"mask": 1.0}, **TINY).fit(np.zeros((2, 96)))


def test_loss_weights_change_training():
    X = np.zeros((2, 96))
    a = R2TRegressor(**TINY).fit(X).module_.state_dict()
    b = R2TRegressor(loss_weights={"mask": 1.0}, **TINY).fit(X).module_.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------- shipped weights
@pytest.fixture(scope="module")
def shipped_heart_rate():
    return R2TRegressor(pretrained=True, random_state=0).fit(np.zeros((1, 96)))


@pytest.mark.parametrize("severity", [1.0, 2.0, 3.0])
def test_shipped_weighted_head_against_the_one_sided_bisquare(shipped_heart_rate, severity):
    # The sweep (benchmarks/results/r2t_evidence.md): a clear win at 30 % touched
    # (severity 2), a draw at 15 % and 43 %; never far from the oracle up to 43 %.
    model = HeartRate()
    data = make_wearable_sequences(400, model=model, severity=severity, random_state=11)
    r2t = median_nmse(model, data, shipped_heart_rate.transform(data.X))
    rival = SymbolicLeastSquares(model, loss="bisquare", f_scale="auto", outlier_side="above")
    bisquare = median_nmse(model, data, rival.fit(data.X).transform(data.X))
    oracle = median_nmse(model, data, oracle_fit(model, data.X, data.artefact_mask))
    assert r2t < (1.0 if severity == 2.0 else 1.1) * bisquare
    assert r2t < 1.7 * oracle


def test_shipped_intervals_are_calibrated(shipped_heart_rate):
    model = HeartRate()
    data = make_wearable_sequences(1000, model=model, noise="curriculum", random_state=12)
    params, std = shipped_heart_rate.transform(data.X, return_std=True)
    covered = (parameter_errors(model, data.params, params) <= 1.645 * std).mean(axis=0)
    assert np.all((covered > 0.85) & (covered < 0.95)), covered


@pytest.mark.parametrize("model", [HeartRate(), SkinTemperature(), SpO2(), Wearable()],
                         ids=lambda m: m.name)
def test_both_heads_ship_for_every_builtin_model(model):
    X = np.zeros((1, 96, model.n_channels))
    for head in ("weights", "parameters"):
        est = R2TRegressor(model, head=head, pretrained=True).fit(X)
        assert est.pretrained_ and est.n_steps_ == 0


# ------------------------------------------------------------------------ noise
def test_motion_events_hit_every_channel_at_once_in_its_direction():
    model = Wearable()
    clean = model.evaluate(model.sample_params(200, random_state=0), 96)
    X, mask = MotionArtefacts(rate=0.2)(clean, random_state=0, model=model, return_mask=True)
    # One event, all channels: the masks agree sample by sample.
    assert mask.any() and (mask == mask[..., :1]).all()
    diff = X - clean
    assert (diff[..., 0][mask[..., 0]] > 0).all()  # heart rate up
    assert (diff[..., 1][mask[..., 1]] < 0).all()  # skin temperature down
    assert (diff[..., 2][mask[..., 2]] < 0).all()  # SpO2 down
    np.testing.assert_array_equal(diff[~mask], 0.0)


def test_motion_effects_are_checked():
    with pytest.raises(ValueError, match="effects must be a non-empty dict"):
        MotionArtefacts(effects={})
    for bad in [(0.1, -0.2), (-0.3, -0.1), (0.0, 0.0), "ab", (0.1,)]:
        with pytest.raises(ValueError, match="pair of .*one sign"):
            MotionArtefacts(effects={"spo2": bad})
    model = Wearable()
    clean = model.evaluate(model.sample_params(50, random_state=0), 96)
    X, mask = MotionArtefacts(rate=0.3, effects={"spo2": (-0.1, -0.4)})(
        clean, random_state=0, model=model, return_mask=True)
    assert not mask[..., :2].any() and mask[..., 2].any()
    assert (X - clean)[..., 2][mask[..., 2]].max() < 0
    with pytest.raises(ValueError, match="Unknown channel 'ecg'"):
        MotionArtefacts(effects={"ecg": (0.1, 0.2)})(
            np.zeros((2, 96, 3)), model=Wearable(), random_state=0)


def test_curriculum_spans_clean_to_heavily_contaminated():
    model = HeartRate()
    noise = make_noise("curriculum", model)
    assert len(noise.components) == len(CURRICULUM_SEVERITIES)
    data = make_wearable_sequences(2000, model=model, noise=noise, random_state=0)
    observed = ~np.isnan(data.X)
    touched = (data.artefact_mask & observed).sum(1) / observed.sum(1)
    assert (touched == 0).mean() > 0.05  # clean sequences are part of it
    assert np.quantile(touched, 0.9) > 0.6  # and two thirds touched


def test_sample_weights_flag_the_artefacts(shipped_heart_rate):
    data = make_wearable_sequences(200, severity=2.0, random_state=13)
    w = shipped_heart_rate.sample_weights(data.X)
    assert w.shape == data.X.shape
    observed = ~np.isnan(data.X)
    np.testing.assert_array_equal(np.isnan(w), ~observed)
    assert np.nanmin(w) >= 0 and np.nanmax(w) <= 1
    clean, touched = observed & ~data.artefact_mask, observed & data.artefact_mask
    assert np.median(w[clean]) > 0.9 and np.median(w[touched]) < 0.1
    with pytest.raises(ValueError, match="sample_weights needs head='weights'"):
        R2TRegressor(head="parameters", **TINY).fit(data.X[:2]).sample_weights(data.X)


def test_shipped_calibration_is_used_only_for_its_noise():
    from sklearn_r2t.r2t._weights import load_weights, pretrained_path

    model = SkinTemperature()
    stored = load_weights(pretrained_path(model, 96), model, 96)["calibration"]
    X = np.zeros((1, 96))
    default = R2TRegressor(model).fit(X)
    assert stored["noise"] == default.noise == "curriculum"
    np.testing.assert_array_equal(default.std_scale_, stored["std_scale"])
    other = R2TRegressor(model, noise="combined", random_state=0).fit(X)
    assert not np.array_equal(other.std_scale_, stored["std_scale"])
