"""R2T on any unit: robust input scaling, affine equivariance, the generic cosinor's
shipped weights, the weight-file input convention and ``score_samples``."""

import warnings

import numpy as np
import pytest
import torch

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.r2t import _weights
from sklearn_r2t.r2t._inference import robust_location_scale
from sklearn_r2t.r2t._weights import WeightsError, load_weights, pretrained_path
from sklearn_r2t.symbolic import Cosinor, FunctionModel, HeartRate, circular_difference

TINY = dict(d_model=8, n_heads=2, dim_feedforward=16, n_synthetic=256, max_steps=3,
            batch_size=64, pretrained=False, random_state=0)
# (a, b) pairs: shifts, rescalings by 1e-3 to 1e3, negative a.
MAPS = [(2.5, 0.0), (1.0, 1e3), (-1.0, 0.0), (-3.7, 12.5), (1e-3, -5.0), (-250.0, 1e4)]


def _expected(model, p, a, b):
    """Cosinor parameters of ``a * X + b``: mesor a * m + b, amplitudes |a| * A, each
    acrophase half its harmonic's period later when a < 0."""
    out = p.copy()
    out[:, 0] = a * p[:, 0] + b
    out[:, 1::2] = abs(a) * p[:, 1::2]
    if a < 0:
        for j in range(2, p.shape[1], 2):
            period = model.param_periods[j]
            out[:, j] = (p[:, j] + period / 2) % period
    return out


def _check_equivariant(model, p0, p1, a, b, rtol=1e-4):
    exp = _expected(model, p0, a, b)
    amp = abs(a) * p0[:, 1::2].max(axis=1)
    assert np.all(np.abs(p1[:, 0] - exp[:, 0]) <= rtol * np.maximum(np.abs(exp[:, 0]), amp))
    assert np.all(np.abs(p1[:, 1::2] - exp[:, 1::2]) <= rtol * abs(a) * p0[:, 1::2])
    for j in range(2, p0.shape[1], 2):
        period = model.param_periods[j]
        assert np.all(np.abs(circular_difference(p1[:, j], exp[:, j], period))
                      <= rtol * period)


@pytest.mark.parametrize("model", [HeartRate(), Cosinor(n_harmonics=2)])
def test_robust_input_makes_estimates_affine_equivariant(model):
    data = make_wearable_sequences(60, model=model, noise="combined", random_state=1)
    est = R2TRegressor(model, input_scaling="robust", **TINY).fit(data.X[:2])
    assert est.input_scaling_ == "robust"
    p0 = est.transform(data.X)
    for a, b in MAPS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # HeartRate: far outside its prior
            p1 = est.transform(a * data.X + b)
        _check_equivariant(model, p0, p1, a, b)


def test_robust_scale_survives_a_zero_mad_and_is_signed():
    X = np.zeros((3, 96, 1))
    X[0, 60:, 0] = np.linspace(1, 5, 36)  # more than half zeros: MAD 0
    X[1] = np.nan
    X[1, ::3, 0] = 7.0  # constant
    X[2, :, 0] = np.random.default_rng(0).standard_normal(96)
    loc, scale = robust_location_scale(X)
    assert np.all(np.isfinite(loc)) and np.all(np.abs(scale) > 0)
    assert scale[1, 0] == 1.0 and loc[1, 0] == 7.0
    loc2, scale2 = robust_location_scale(-3 * X + 2)
    np.testing.assert_allclose(loc2, -3 * loc + 2)
    np.testing.assert_allclose(scale2[[0, 2]], -3 * scale[[0, 2]])


def test_generic_cosinor_ships_weights_for_any_unit():
    # Activity-count-like days: mesor 300, amplitude 120, artefacts on that scale.
    model = Cosinor()
    data = make_wearable_sequences(200, model=model, noise="combined", random_state=2)
    X = 300 + 1000 * (data.X - 0.5)
    truth = data.params.copy()
    truth[:, 0] = 300 + 1000 * (truth[:, 0] - 0.5)
    truth[:, 1] *= 1000
    est = R2TRegressor(Cosinor()).fit(X[:1])
    assert est.pretrained_ and est.input_scaling_ == "robust" and est.n_steps_ == 0
    params = est.transform(X)
    # Far outside Cosinor()'s default box (mesor 0.3-0.7): nothing is clipped.
    assert np.median(np.abs(params[:, 0] - truth[:, 0])) < 0.05 * np.median(truth[:, 1])
    assert np.median(np.abs(params[:, 1] / truth[:, 1] - 1)) < 0.1
    # The same weights (and their shipped calibration and reference) serve a Cosinor
    # with other bounds: the network never sees them.
    other = R2TRegressor(Cosinor(mesor_bounds=(0, 1e4), amplitude_bounds=(0, 1e3))).fit(X[:1])
    np.testing.assert_array_equal(other.transform(X), params)
    np.testing.assert_array_equal(other.score_samples(X), est.score_samples(X))
    for a, b in MAPS:
        _check_equivariant(model, params, est.transform(a * X + b), a, b)


def test_cosinor_without_shipped_weights_trains():
    assert pretrained_path(Cosinor(n_harmonics=2), 96) is None
    assert pretrained_path(Cosinor(period_hours=12.0), 96) is None
    assert pretrained_path(Cosinor(mesor_bounds=(10, 20)), 96) is not None


def test_heart_rate_ships_both_input_conventions():
    # The default file reads robust input; the range-scaled one ships beside it and
    # loads, instantly, when asked for (no training from scratch).
    X = make_wearable_sequences(20, noise="combined", random_state=5).X
    default = R2TRegressor(HeartRate()).fit(X[:1])
    ranged = R2TRegressor(HeartRate(), input_scaling="range").fit(X[:1])
    assert default.input_scaling_ == "robust" and ranged.input_scaling_ == "range"
    assert default.pretrained_ and ranged.pretrained_ and ranged.n_steps_ == 0
    assert pretrained_path(HeartRate(), 96, input_scaling="range").name == (
        "heart_rate_t96_range.pt")
    # both fit heart rate in bpm, and only the robust one follows a change of unit
    assert np.abs(default.transform(X)[:, 0] - ranged.transform(X)[:, 0]).max() < 5
    _check_equivariant(HeartRate(), default.transform(X), default.transform(X / 60),
                       1 / 60, 0.0)


def test_robust_scaling_is_refused_where_it_cannot_work():
    decay = FunctionModel(lambda p, t: p[:, :1] * torch.exp(-t / p[:, 1:2]),
                          bounds=[(0.4, 0.8), (1.0, 10.0)])
    X = decay.evaluate(decay.sample_params(4, random_state=0), 96)
    with pytest.raises(ValueError, match="linear basis holding the constant"):
        R2TRegressor(decay, input_scaling="robust", **TINY).fit(X)
    with pytest.raises(ValueError, match="needs head='weights'"):
        R2TRegressor(head="parameters", input_scaling="robust", **TINY).fit(
            np.zeros((2, 96)))
    est = R2TRegressor(decay, **TINY).fit(X)  # "auto": range scaling, no error
    assert est.input_scaling_ == "range"


def test_implausible_physiological_estimates_warn():
    data = make_wearable_sequences(30, noise="combined", random_state=3)
    est = R2TRegressor(input_scaling="robust", **TINY).fit(data.X[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est.transform(data.X)  # heart rate in bpm: plausible, silent
    with pytest.warns(UserWarning, match="far outside the HeartRate prior"):
        est.transform(data.X / 60)  # beats per second


def _resign(payload):
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "sha256")}
    payload["sha256"] = _weights._weights_digest(meta, payload["state_dict"])


def test_weight_files_record_their_input_convention(tmp_path):
    model = Cosinor()
    payload = load_weights(pretrained_path(model, 96), model, 96)
    assert payload["format_version"] == 2 and payload["input_scaling"] == "robust"
    assert "bounds" not in payload  # robust input never sees them
    # A format-1 file (no input_scaling) loads as a range-scaled network.
    hr = HeartRate()
    shipped = load_weights(pretrained_path(hr, 96, input_scaling="range"), hr, 96)
    v1 = {k: v for k, v in shipped.items() if k != "input_scaling"}
    v1["format_version"] = 1
    _resign(v1)
    torch.save(v1, tmp_path / "v1.pt")
    assert load_weights(tmp_path / "v1.pt", hr, 96)["input_scaling"] == "range"
    # Format 2 must say; an unknown convention or version fails clearly.
    for edit, match in [({}, "input_scaling None"),
                        ({"input_scaling": "minmax"}, "input_scaling 'minmax'"),
                        ({"format_version": 3}, "format version 3; .* reads versions 1, 2")]:
        bad = {**v1, "format_version": 2, **edit}
        _resign(bad)
        torch.save(bad, tmp_path / "bad.pt")
        with pytest.raises(WeightsError, match=match):
            load_weights(tmp_path / "bad.pt", hr, 96)
    # The checksum covers the convention: flipping it without re-signing is caught.
    flipped = {**payload, "input_scaling": "range"}
    torch.save(flipped, tmp_path / "flipped.pt")
    with pytest.raises(WeightsError, match="checksum"):
        load_weights(tmp_path / "flipped.pt", model, 96)


def test_score_samples_is_uniform_on_training_like_data_and_flags_misspecification():
    model = Cosinor()
    est = R2TRegressor(model).fit(np.zeros((1, 96)))
    data = make_wearable_sequences(600, model=model, noise="curriculum", random_state=4)
    scores = est.score_samples(data.X)
    assert scores.shape == (600,) and np.all((scores > 0) & (scores <= 1))
    assert 0.01 < np.mean(scores < 0.05) < 0.10
    assert 0.4 < np.mean(scores) < 0.6
    # Every sample of one sequence missing: NaN, like transform.
    X = data.X[:30].copy()
    X[0] = np.nan
    with pytest.warns(UserWarning, match="entirely NaN"):
        scores = est.score_samples(X)
    assert np.isnan(scores[0]) and not np.isnan(scores[1:]).any()
    # Days with a second harmonic as large as the first: mostly flagged, and
    # transform says so.
    two = Cosinor(n_harmonics=2)
    p = two.sample_params(200, random_state=np.random.RandomState(5))
    p[:, 3] = p[:, 1]
    X2 = two.evaluate(p, 96) + 0.01 * np.random.default_rng(6).standard_normal((200, 96))
    assert np.mean(est.score_samples(X2) < 0.05) > 0.5
    with pytest.warns(UserWarning, match="look unlike R2T's training data"):
        est.transform(X2)


def test_score_combines_distance_and_residual_structure_by_simes():
    from sklearn_r2t.r2t._score import score_pvalues

    # Features: (x, autocorrelation) for a one-channel model; nulls of 99 values each.
    ref = {"mean": [0.0, 0.0], "precision": np.eye(2).tolist(), "n_channels": 1,
           "null": np.linspace(0.01, 3.0, 99).tolist(),
           "null_autocorrelation": np.linspace(-0.5, 0.5, 99).tolist()}
    usual = [0.0, 0.0]            # typical distance, typical autocorrelation
    structured = [0.0, 0.9]       # residual structure the distance hardly sees
    far = [5.0, 0.0]              # unusual view, white residuals
    p = score_pvalues(ref, np.array([usual, structured, far]))
    assert p[0] > 0.4
    # Simes: min(2 * p_min, p_max); beyond every null value a p-value is 1 / 100.
    np.testing.assert_allclose(p[1], 2 / 100)
    np.testing.assert_allclose(p[2], 2 / 100)
    # A reference from before the autocorrelation test: the distance alone.
    old = {k: v for k, v in ref.items() if k != "null_autocorrelation"}
    np.testing.assert_allclose(score_pvalues(old, np.array([far])), 1 / 100)
