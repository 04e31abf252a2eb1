"""Tests of R2TRegressor: tiny networks and few epochs, so the whole file stays fast."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_r2t import ASRLLoss, R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, parameter_recovery_score
from sklearn_r2t.r2t import _inference, _training, _weights
from sklearn_r2t.r2t._inference import blend
from sklearn_r2t.r2t._weights import WeightsError, load_weights, pretrained_path
from sklearn_r2t.symbolic import FunctionModel, HeartRate, Wearable

TINY = dict(d_model=8, n_heads=2, dim_feedforward=16, step_features=2, hidden_size=16,
            n_synthetic=256, max_epochs=2, batch_size=64, pretrained=False)


def level(params, t_hours):
    """A constant level: the smallest symbolic model (module level so it pickles)."""
    return params[:, :1].expand(-1, t_hours.shape[0])


def decay(params, t_hours):
    """Exponential decay towards an offset (a user-defined model)."""
    return params[:, :1] * torch.exp(-t_hours / params[:, 1:2]) + params[:, 2:3]


DECAY = FunctionModel(decay, bounds=[(0.4, 0.8), (1.0, 10.0), (0.0, 0.2)],
                      param_names=("amplitude", "tau", "offset"),
                      param_units=("signal", "h", "signal"))


@parametrize_with_checks(
    # scikit-learn's checks feed tabular data with 1 to 5 columns; a one-parameter
    # model accepts sequences that short (HeartRate rightly needs 4 or more steps).
    [R2TRegressor(FunctionModel(level, bounds=[(-3.0, 3.0)]), noise="gaussian",
                  random_state=0, **TINY)],
    expected_failed_checks=lambda est: {
        "check_methods_subset_invariance": "inference runs in float32 batches; oneDNN "
        "picks kernels by batch size, so a row's output can differ in the 7th significant "
        "digit between batch sizes (about 1e-6 relative, far below any signal noise), "
        "above the check's 1e-7 tolerance",
        "check_methods_sample_order_invariance": "the same float32 effect: a row's "
        "position in the batch changes which vectorised kernel path (main loop or tail) "
        "computes it, about 1e-7 relative",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def heart_rate_data():
    return make_wearable_sequences(60, model=HeartRate(), noise="combined", random_state=3)


def test_same_random_state_gives_identical_results(heart_rate_data):
    X = heart_rate_data.X
    a = R2TRegressor(random_state=7, **TINY).fit(X).transform(X)
    b = R2TRegressor(random_state=7, **TINY).fit(X).transform(X)
    c = R2TRegressor(random_state=8, **TINY).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_alone(heart_rate_data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    R2TRegressor(random_state=0, **TINY).fit(heart_rate_data.X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_outputs_are_valid_parameters_and_curves(heart_rate_data):
    # Range-scaled input: estimates projected into the model's box. (Robust input,
    # the default from scratch, leaves them unclipped: test_r2t_equivariance.py.)
    est = R2TRegressor(random_state=0, input_scaling="range", **TINY).fit(heart_rate_data.X)
    params = est.transform(heart_rate_data.X)
    bounds = HeartRate().bounds
    assert params.shape == (60, 3)
    assert np.all((params >= bounds[:, 0]) & (params <= bounds[:, 1]))
    curves = est.predict(heart_rate_data.X)
    np.testing.assert_allclose(curves, HeartRate().evaluate(params, 96))
    assert est.history_ and all(np.isfinite(h["valid_median_mse"]) for h in est.history_)
    assert list(est.get_feature_names_out()) == ["mesor", "amplitude", "acrophase"]


def test_range_input_says_when_the_box_clips_an_estimate(heart_rate_data):
    # Heart rate in beats per second: range-scaled input is clipped to HeartRate's box,
    # and transform says so (robust input is not clipped: test_r2t_equivariance.py).
    est = R2TRegressor(random_state=0, input_scaling="range", **TINY).fit(heart_rate_data.X)
    with pytest.warns(UserWarning, match="pinned at a bound of the HeartRate model's box"):
        params = est.transform(heart_rate_data.X / 60)
    assert HeartRate().at_bound(params)[:, 0].all()


def test_nan_is_missing_data_and_input_is_not_mutated(heart_rate_data):
    X = heart_rate_data.X.copy()
    X[:, 10:40] = np.nan
    X[5] = np.nan  # a dead sensor-day: no information at all
    before = X.copy()
    est = R2TRegressor(random_state=0, **TINY).fit(X)
    with pytest.warns(UserWarning, match="entirely NaN"):
        params = est.transform(X)
    np.testing.assert_array_equal(X, before)
    assert np.isnan(params[5]).all()
    assert np.isfinite(np.delete(params, 5, axis=0)).all()


def test_multichannel_wearable():
    data = make_wearable_sequences(20, model=Wearable(), noise="combined", random_state=0)
    est = R2TRegressor(Wearable(), random_state=0, **TINY).fit(data.X)
    assert est.transform(data.X).shape == (20, 9)
    assert est.predict(data.X).shape == (20, 96, 3)
    with pytest.raises(ValueError, match="3 channel"):
        est.transform(data.X[:, :, :2])


def test_pickle_keeps_predictions_bit_identical_and_small(heart_rate_data):
    est = R2TRegressor(random_state=0, **{**TINY, "max_epochs": 1}).fit(heart_rate_data.X)
    blob = pickle.dumps(est)
    again = pickle.loads(blob)
    np.testing.assert_array_equal(again.transform(heart_rate_data.X),
                                  est.transform(heart_rate_data.X))


def test_default_model_pickles_under_2_mb():
    # The default architecture's size, trained for a single step only.
    X = make_wearable_sequences(4, random_state=0).X
    est = R2TRegressor(pretrained=False, max_steps=1, n_synthetic=256, random_state=0).fit(X)
    assert len(pickle.dumps(est)) < 2 * 1024**2


def test_y_is_ignored_unless_use_y(heart_rate_data):
    X, y = heart_rate_data.X, heart_rate_data.params
    plain = R2TRegressor(random_state=0, **TINY).fit(X).transform(X)
    with_y = R2TRegressor(random_state=0, **TINY).fit(X, y).transform(X)
    np.testing.assert_array_equal(plain, with_y)
    supervised = R2TRegressor(random_state=0, use_y=True, **TINY).fit(X, y)
    assert not np.array_equal(supervised.transform(X), plain)
    with pytest.raises(ValueError, match="known parameters"):
        R2TRegressor(use_y=True, **TINY).fit(X, y[:, :2])


def test_user_defined_model_trains_end_to_end():
    data = make_wearable_sequences(200, model=DECAY, noise="spikes", n_timesteps=48,
                                   random_state=0)
    est = R2TRegressor(DECAY, noise="spikes", random_state=0,
                       **{**TINY, "d_model": 16, "max_epochs": 6, "n_synthetic": 2048})
    est.fit(data.X)
    history = [h["valid_median_mse"] for h in est.history_]
    assert min(history[1:]) < history[0]
    mse = normalized_mse(DECAY, data.X_clean, est.predict(data.X))
    # Predicting the prior's mean curve is the baseline any training must beat.
    mean_curve = DECAY.evaluate(DECAY.bounds.mean(axis=1), 48)
    assert np.median(mse) < np.median(normalized_mse(DECAY, data.X_clean, mean_curve))


def test_asrl_as_reconstruction_loss(heart_rate_data):
    X = heart_rate_data.X
    est = R2TRegressor(reconstruction_loss=ASRLLoss(), random_state=0, **TINY).fit(X)
    plain = R2TRegressor(random_state=0, **TINY).fit(X)
    assert np.isfinite(est.transform(X)).all()
    assert not np.array_equal(est.transform(X), plain.transform(X))
    assert pickle.loads(pickle.dumps(est)).transform(X).shape == (60, 3)


def test_pipeline_grid_search_chooses_between_r2t_and_least_squares(heart_rate_data):
    X, y = heart_rate_data.X, heart_rate_data.params
    pipe = Pipeline([("fit", SymbolicLeastSquares())])
    grid = GridSearchCV(
        pipe,
        {"fit": [R2TRegressor(random_state=0, **TINY),
                 SymbolicLeastSquares(loss="soft_l1", f_scale="auto", n_restarts=2)]},
        scoring=parameter_recovery_score,
        cv=2,
    )
    grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores <= 0)
    # A two-epoch toy network cannot beat a robust least-squares fit: the search
    # must see that, which proves the scorer reads the parameters.
    assert isinstance(grid.best_estimator_[-1], SymbolicLeastSquares)
    assert grid.best_estimator_.transform(X).shape == (60, 3)


def test_set_output_pandas(heart_rate_data):
    pd = pytest.importorskip("pandas")
    est = R2TRegressor(random_state=0, **TINY).set_output(transform="pandas")
    out = est.fit(heart_rate_data.X).transform(heart_rate_data.X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["mesor", "amplitude", "acrophase"]


def test_refine_is_deprecated_but_still_works_until_removed(heart_rate_data):
    X, clean = heart_rate_data.X[:20], heart_rate_data.X_clean[:20]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the default does not warn
        raw = R2TRegressor(random_state=0, **TINY).fit(X)
    for value in (True, False, "cauchy"):
        with pytest.warns(FutureWarning, match="refine was deprecated in 0.2"):
            R2TRegressor(random_state=0, refine=value, **TINY).fit(X[:4])
    with pytest.warns(FutureWarning, match="removed in 0.4"):
        refined = R2TRegressor(random_state=0, refine=True, **TINY).fit(X)
    # A two-epoch toy network is far worse than a Cauchy fit: the calibration on
    # synthetic data must see that and trust the refined estimate.
    assert raw.refine_weight_ is None and refined.refine_weight_ >= 0.75
    mse_raw = normalized_mse(HeartRate(), clean, raw.predict(X))
    mse_refined = normalized_mse(HeartRate(), clean, refined.predict(X))
    assert np.median(mse_refined) < np.median(mse_raw) / 3
    with pytest.raises(ValueError, match="call fit again"):
        raw.set_params(refine=True).transform(X)


def test_blend_follows_the_short_arc_for_angles():
    a = np.array([[60.0, 5.0, 23.0]])
    b = np.array([[70.0, 7.0, 1.0]])
    np.testing.assert_allclose(blend(HeartRate(), a, b, 0.5), [[65.0, 6.0, 0.0]])
    np.testing.assert_allclose(blend(HeartRate(), a, b, 0.0), a)


@pytest.mark.parametrize(
    "params, X_kind, match",
    [
        ({}, "1d", "2D array"),
        ({}, "inf", "infinity"),
        ({}, "short", "at least 4 time steps"),
        ({}, "strings", "could not convert|numeric"),
        ({}, "empty", "0 sample"),
        ({"d_model": 10, "n_heads": 3}, "ok", "divisible"),
        ({"mask_ratio": 1.5}, "ok", "mask_ratio"),
        ({"lr": -1.0}, "ok", "lr"),
        ({"model": HeartRate}, "ok", "instance"),
        ({"model": "heart_rate"}, "ok", "SymbolicModel"),
        ({"pretrained": True, "d_model": 16, "n_heads": 2}, "ok", "pretrained=True"),
    ],
)
def test_bad_input_raises_clear_errors(params, X_kind, match):
    X = make_wearable_sequences(4, random_state=0).X
    X = {
        "ok": X,
        "1d": X[0],
        "inf": np.where(np.isnan(X), np.inf, X),
        "short": X[:, :3],
        "strings": np.full((3, 96), "a", dtype=object),
        "empty": X[:0],
    }[X_kind]
    with pytest.raises((ValueError, TypeError), match=match):
        R2TRegressor(**{**TINY, **params}).fit(X)


def test_shipped_weights_load_and_beat_ols():
    assert pretrained_path(HeartRate(), 96) is not None, "heart-rate weights must ship"
    data = make_wearable_sequences(100, model=HeartRate(), noise="combined", random_state=11)
    r2t = R2TRegressor().fit(data.X)
    assert r2t.pretrained_ and not r2t.history_
    ols = SymbolicLeastSquares(loss="linear").fit(data.X)
    mse_r2t = np.median(normalized_mse(HeartRate(), data.X_clean, r2t.predict(data.X)))
    mse_ols = np.median(normalized_mse(HeartRate(), data.X_clean, ols.predict(data.X)))
    assert mse_r2t < mse_ols / 3


# ------------------------------------------------ interrupts and failed fits
class _InterruptAfter(torch.nn.Module):
    """A reconstruction loss that simulates the user's Ctrl-C after a few batches."""

    def __init__(self, n_calls):
        super().__init__()
        self.n_calls = n_calls

    def forward(self, pred, target):
        self.n_calls -= 1
        if self.n_calls < 0:
            raise KeyboardInterrupt
        return (pred - target).pow(2).mean()


def _fitted_state(est, X):
    return (est.transform(X), est.n_features_in_, est.n_timesteps_, len(est.history_),
            est.module_)


def test_ctrl_c_during_fit_propagates_and_leaves_no_fitted_estimator(heart_rate_data):
    X = heart_rate_data.X
    est = R2TRegressor(reconstruction_loss=_InterruptAfter(3), random_state=0, **TINY)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    with pytest.raises(NotFittedError):
        est.transform(X)


def test_ctrl_c_during_refit_keeps_the_previous_fit(heart_rate_data):
    X = heart_rate_data.X
    est = R2TRegressor(random_state=0, **TINY).fit(X)
    before = _fitted_state(est, X)
    est.set_params(reconstruction_loss=_InterruptAfter(3), max_epochs=3)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X[:, :48])  # another length: nothing of it may leak into the estimator
    after = _fitted_state(est, X)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


def test_failure_during_data_generation_keeps_the_previous_fit(heart_rate_data, monkeypatch):
    X = heart_rate_data.X
    est = R2TRegressor(random_state=0, **TINY).fit(X)
    before = _fitted_state(est, X)
    calls = []
    real_draw = _training._SyntheticStream.draw

    def failing_draw(self, n):
        calls.append(n)
        if len(calls) > 2:  # the training and validation draws pass, epoch 2's fails
            raise RuntimeError("generator broke mid-fit")
        return real_draw(self, n)

    monkeypatch.setattr(_training._SyntheticStream, "draw", failing_draw)
    with pytest.raises(RuntimeError, match="mid-fit"):
        est.fit(make_wearable_sequences(10, n_timesteps=48, random_state=0).X)
    after = _fitted_state(est, X)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


def test_early_stopping_still_ends_training_quietly(heart_rate_data):
    # A learning rate too small to change anything: no epoch improves on the first.
    est = R2TRegressor(random_state=0, **{**TINY, "max_epochs": 6, "patience": 1, "lr": 1e-12})
    est.fit(heart_rate_data.X)
    assert len(est.history_) == 2


# ---------------------------------------------------------------- time budget
class _FakeClock:
    """A clock that advances a fixed amount per reading, optionally jumping later."""

    def __init__(self, tick=0.01, jump_after=None, jump=0.0):
        self.now, self.calls, self.tick = 0.0, 0, tick
        self.jump_after, self.jump = jump_after, jump

    def __call__(self):
        self.calls += 1
        self.now += self.tick
        if self.jump_after is not None and self.calls == self.jump_after:
            self.now += self.jump
        return self.now


BUDGET = {**TINY, "max_epochs": 50, "n_synthetic": 512}


@pytest.mark.filterwarnings("ignore:max_time=.*allowed only:sklearn.exceptions.ConvergenceWarning")
def test_max_time_fixes_a_step_count_and_repeats_exactly(heart_rate_data, monkeypatch):
    X = heart_rate_data.X
    fits = []
    for _ in range(2):
        monkeypatch.setattr(_training, "_clock", _FakeClock(tick=0.01))
        fits.append(R2TRegressor(random_state=0, max_time=1.5, **BUDGET).fit(X))
    a, b = fits
    steps_per_epoch = 512 // 64
    assert 10 < a.n_steps_ < 50 * steps_per_epoch  # the budget, not max_epochs, decided
    assert a.n_steps_ == b.n_steps_ == a.history_[-1]["steps"]
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    # The same step count without a clock: the same fit (the schedule follows steps only).
    monkeypatch.setattr(_training, "_clock", _FakeClock(tick=1e9))  # must not matter
    c = R2TRegressor(random_state=0, max_steps=a.n_steps_, **BUDGET).fit(X)
    np.testing.assert_array_equal(a.transform(X), c.transform(X))


def test_max_time_is_checked_every_batch_and_the_last_epoch_is_scored(heart_rate_data,
                                                                      monkeypatch):
    # The machine "slows down" right after the timed first steps: the planned step
    # count no longer fits, and the backstop must stop within one batch.
    clock = _FakeClock(tick=0.01, jump_after=25, jump=100.0)
    monkeypatch.setattr(_training, "_clock", clock)
    est = R2TRegressor(random_state=0, max_time=5.0, **{**BUDGET, "n_synthetic": 2048})
    with pytest.warns(UserWarning, match="ran out after"):
        est.fit(heart_rate_data.X)
    last = est.history_[-1]
    steps_per_epoch = 2048 // 64
    assert 0 < last["train_batch_count"] < steps_per_epoch
    assert np.isfinite(last["valid_median_mse"])  # the partial epoch was scored
    assert est.n_steps_ == last["steps"] < est.max_epochs * steps_per_epoch


def test_a_budget_that_plans_too_few_steps_says_what_would_do(heart_rate_data, monkeypatch):
    # Every clock reading is 0.02 s: 10 timed steps plan about 60 steps in 2 s.
    monkeypatch.setattr(_training, "_clock", _FakeClock(tick=0.02))
    est = R2TRegressor(random_state=0, max_time=2.0, **BUDGET)
    with pytest.warns(ConvergenceWarning, match=r"max_time=\d+ would plan 100 steps") as rec:
        est.fit(heart_rate_data.X)
    assert _training._PROBE_STEPS < est.n_steps_ < _training._MIN_STEPS
    need = int(str(rec[0].message).split("max_time=")[2].split()[0])
    # The suggested budget does plan at least 100 steps on the same "machine".
    monkeypatch.setattr(_training, "_clock", _FakeClock(tick=0.02))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        longer = R2TRegressor(random_state=0, max_time=need, **BUDGET).fit(heart_rate_data.X)
    assert longer.n_steps_ >= _training._MIN_STEPS


def test_step_caps_below_the_minimum_do_not_warn(heart_rate_data):
    # max_steps / max_epochs are explicit choices (tests and quick looks use them).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = R2TRegressor(random_state=0, max_steps=3, **TINY).fit(heart_rate_data.X)
    assert est.n_steps_ == 3


# -------------------------------------------------------------- weight files
# SHA-256 of the tensors (names, dtypes, shapes, bytes) of the weights shipped before
# the format carried metadata: the conversion kept every tensor bit for bit.
ORIGINAL_TENSORS = {
    "heart_rate": "b64a59d15846478685d9c1a0b8d7ea68ab77df7257fb8bc1dd3f953851ac40be",
    "skin_temperature": "f2f3c8d2a17dcb47f4dcb959d6a96d5deb69c59b3639d17f30ac7c2b88b1531c",
    "spo2": "05ca1f7488f3309bd3ee6c7bfdca91e74e0672c4b81eb797b58a75bb0debe5bc",
    "wearable": "e79b4e7c119ffee0c7c96c920da2e1ad27deffc7af90cde4b9c4e6282408a60f",
}


def _paper_names(state):
    """The parameter head's tensors under their names from before the shared encoder."""
    renames = (("encoder.embed.", "embed."), ("encoder.encoder.", "encoder."),
               ("encoder.norm.", "norm."), ("encoder.positions", "positions"))
    out = {}
    for key, value in state.items():
        for new, old in renames:
            if key.startswith(new):
                key = old + key[len(new):]
                break
        out[key] = value
    return out


@pytest.mark.parametrize("head", ["weights", "parameters"])
@pytest.mark.parametrize("name", sorted(ORIGINAL_TENSORS))
def test_shipped_weight_files_carry_their_identity(name, head):
    model = _weights._PRETRAINED_MODELS[name]()
    payload = load_weights(pretrained_path(model, 96, head), model, 96)
    assert payload["model"] == name and payload["n_timesteps"] == 96
    assert payload["head"] == head
    defaults = R2TRegressor(head=head).get_params()
    assert all(defaults[k] == v for k, v in payload["architecture"].items())
    if head == "parameters":  # the paper-head files are the original tensors, renamed
        digest = _weights._weights_digest({}, _paper_names(payload["state_dict"]))
        assert digest == ORIGINAL_TENSORS[name]


def _weights_file(tmp_path, name="heart_rate", edit=None, raw=None):
    path = tmp_path / f"{name}_t96.pt"
    if raw is not None:
        path.write_bytes(raw)
        return path
    model = _weights._PRETRAINED_MODELS[name]()
    payload = load_weights(pretrained_path(model, 96), model, 96)
    if edit is not None:
        edit(payload)
    torch.save(payload, path)
    return path


def _resign(payload):
    """A consistent checksum for an edited payload (a file made wrong on purpose)."""
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "sha256")}
    payload["sha256"] = _weights._weights_digest(meta, payload["state_dict"])


def _nan_weights(payload):
    payload["state_dict"]["to_logits.1.bias"][0] = np.nan
    _resign(payload)


def _other_length(payload):
    payload["n_timesteps"] = 48
    _resign(payload)


def _tampered(payload):
    payload["state_dict"]["to_logits.1.bias"] += 1.0


def _old_format(payload):
    for key in ("format", "format_version", "sha256"):
        del payload[key]


SHIPPED_BYTES = pretrained_path(HeartRate(), 96).read_bytes()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="spo2"), "another model.*'spo2'"),
        (dict(edit=_nan_weights), "non-finite weights in to_logits.1.bias"),
        (dict(edit=_tampered), "fails its checksum"),
        (dict(edit=_old_format), "not a sklearn_r2t weight file"),
        (dict(edit=_other_length), "n_timesteps: file 48, expected 96"),
        (dict(raw=SHIPPED_BYTES[: len(SHIPPED_BYTES) // 2]), "damaged"),
        (dict(raw=b"not a torch file"), "damaged"),
        (dict(raw=b""), "damaged"),
    ],
)
def test_bad_weight_files_give_clear_errors(tmp_path, kwargs, match):
    path = _weights_file(tmp_path, **kwargs)
    with pytest.raises(WeightsError, match=match) as info:
        load_weights(path, HeartRate(), 96)
    assert "weights_only" not in str(info.value)  # never suggest the unsafe option


def test_pretrained_checks_the_file_it_loads(tmp_path, monkeypatch, heart_rate_data):
    # The SpO2 weights saved under the heart-rate name must not load.
    path = _weights_file(tmp_path, name="spo2")
    monkeypatch.setattr(_weights, "pretrained_path",
                        lambda model, n, head, input_scaling=None: path)
    X = heart_rate_data.X
    with pytest.raises(ValueError, match="pretrained=True but .*another model"):
        R2TRegressor(pretrained=True).fit(X)
    quick = dict(n_synthetic=256, max_steps=2, random_state=0)
    with pytest.warns(UserWarning, match="another model.*within max_time=300 s"):
        est = R2TRegressor(**quick).fit(X)
    assert not est.pretrained_ and est.n_steps_ == 2
    with pytest.warns(UserWarning, match="within max_time=7 s"):
        R2TRegressor(max_time=7.0, **quick).fit(X)


def test_missing_shipped_file_warns_and_trains_bounded(monkeypatch, heart_rate_data):
    monkeypatch.setattr(_weights, "pretrained_path",
                        lambda model, n, head, input_scaling=None: None)
    X = heart_rate_data.X
    with pytest.raises(ValueError, match="pretrained=True but the shipped file .* is missing"):
        R2TRegressor(pretrained=True).fit(X)
    with pytest.warns(UserWarning, match="missing.*within max_time=300 s"):
        R2TRegressor(n_synthetic=256, max_steps=2, random_state=0).fit(X)


def test_other_architecture_trains_from_scratch_without_warning(heart_rate_data):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = R2TRegressor(random_state=0, **{**TINY, "pretrained": "auto"})
        est.fit(heart_rate_data.X)
    assert not est.pretrained_


# ------------------------------------------------------- settings and ranges
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"noise": "foo"}, ValueError, "Unknown noise preset 'foo'"),
        ({"noise": 42}, TypeError, "noise must be"),
        ({"max_steps": 0}, ValueError, "max_steps"),
        ({"lr": np.inf}, ValueError, "lr"),
        ({"max_time": np.nan}, ValueError, "max_time"),
        ({"batch_size": 1.5}, ValueError, "batch_size"),
        ({"fine_tune": True, "max_epochs": 0}, ValueError, "max_epochs=0.*fine-tuning"),
    ],
)
def test_settings_are_checked_even_with_shipped_weights(params, error, match):
    X = make_wearable_sequences(4, random_state=0).X
    with pytest.raises(error, match=match):
        R2TRegressor(**params).fit(X)


def test_max_epochs_zero_without_weights_is_refused():
    X = make_wearable_sequences(4, random_state=0).X
    with pytest.raises(ValueError, match="max_epochs=0 would return an untrained network"):
        R2TRegressor(**{**TINY, "max_epochs": 0}).fit(X)


def test_use_y_far_outside_the_bounds_is_refused(heart_rate_data):
    X, y = heart_rate_data.X, heart_rate_data.params.copy()
    y[0, 0] = 500.0  # mesor in the wrong unit
    with pytest.raises(ValueError, match="far outside the model's bounds.*mesor"):
        R2TRegressor(use_y=True, **TINY).fit(X, y)
    y[0, 0] = 91.0  # a little outside: clipped, accepted
    y[1, 2] = 30.0  # angles wrap
    R2TRegressor(use_y=True, random_state=0, **TINY).fit(X, y)


def test_values_beyond_float32_are_refused_and_huge_ones_stay_finite(heart_rate_data):
    X = heart_rate_data.X.copy()
    est = R2TRegressor().fit(X)
    X[3, 10] = 1e39
    with pytest.raises(ValueError, match="float32 range"):
        est.transform(X)
    with pytest.raises(ValueError, match="float32 range"):
        SymbolicLeastSquares().fit(X)
    X[3, 10] = 1e30  # inside float32, far beyond any heart rate: used to give NaN
    assert np.isfinite(est.transform(X)).all()


def test_a_spike_in_one_wearable_channel_stays_in_its_parameters():
    data = make_wearable_sequences(40, model=Wearable(), noise="combined", random_state=0)
    est = R2TRegressor(Wearable()).fit(data.X)
    base = est.transform(data.X)
    X = data.X.copy()
    X[:, 10, 0] = 1e30  # an absurd heart-rate reading
    spiked = est.transform(X)
    assert np.isfinite(spiked).all()
    width = np.diff(Wearable().bounds, axis=1)[:, 0]
    shift = np.median(np.abs(spiked - base), axis=0) / width
    # Skin temperature and SpO2 barely move (the input is clipped to one span
    # beyond the plausible range before the shared embedding).
    assert np.all(shift[3:] < 0.02), shift


def test_verbose_shows_a_progress_bar_over_the_sequences(heart_rate_data, capsys):
    est = R2TRegressor(verbose=1).fit(heart_rate_data.X)
    capsys.readouterr()
    est.transform(heart_rate_data.X)
    assert "60/60" in capsys.readouterr().err
    est.set_params(verbose=0).transform(heart_rate_data.X)
    assert capsys.readouterr().err == ""


def test_transform_encodes_in_batches(heart_rate_data):
    est = R2TRegressor().fit(heart_rate_data.X)
    X3 = heart_rate_data.X[:, :, None]
    full = _inference._network_params(est.module_, est.model_, X3, batch_size=4096)[0]
    small = _inference._network_params(est.module_, est.model_, X3, batch_size=7)[0]
    np.testing.assert_allclose(small, full, rtol=1e-5)


@pytest.mark.parametrize("make", [lambda: R2TRegressor(random_state=0, **TINY),
                                  lambda: SymbolicLeastSquares(n_restarts=1)],
                         ids=["R2TRegressor", "SymbolicLeastSquares"])
@pytest.mark.parametrize("bad", ["short", "channels", "float32"])
def test_rejected_input_keeps_the_previous_fit(make, bad, heart_rate_data):
    # validate_sequences records n_features_in_ only once every check has passed.
    X = heart_rate_data.X[:10]
    est = make().fit(X)
    before = est.transform(X)
    X_bad = {"short": X[:, :3], "channels": np.stack([X, X], axis=2),
             "float32": np.where(np.isnan(X), 1e39, X)}[bad]
    with pytest.raises(ValueError):
        est.fit(X_bad)
    assert est.n_features_in_ == 96
    np.testing.assert_array_equal(est.transform(X), before)
