"""Property-based robustness tests (hypothesis) of the public entry points.

For random arrays (NaN, inf, huge, tiny, empty, wrong shapes and dtypes) and
random settings, every entry point must either answer with a finite, in-bounds
result, or raise a ``ValueError``/``TypeError`` of its own that names the
problem. Never an error from numpy, torch or scipy internals, and never a
mutated input. (ASRL's entry points: ``tests/asrl/test_fuzz_asrl.py``.)
"""

from __future__ import annotations

import re
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
import torch
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning

import sklearn_r2t
from sklearn_r2t import R2TRegressor, SoftL1Regressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, parameter_errors, parameter_recovery_score
from sklearn_r2t.noise import PRESETS, make_noise
from sklearn_r2t.r2t import _training, _weights
from sklearn_r2t.symbolic import Cosinor, FunctionModel, HeartRate, SpO2, Wearable

FAST = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

OUR_CODE = (str(Path(sklearn_r2t.__file__).parent),
            str(Path(sklearn.__file__).parent / "utils"))
# Messages of numpy/torch/scipy internals that reach the user through one of our
# frames (a ufunc raising inside our function): not a message that names the problem.
INTERNAL = re.compile(
    r"operands could not be broadcast|could not broadcast|out of bounds for axis|"
    r"too many indices|mat1 and mat2|size of tensor|expected scalar type|"
    r"unsupported operand|not supported between instances|object of type|"
    r"can't multiply sequence|Cannot cast|ufunc", re.IGNORECASE)


def outcome(fn, *args, **kwargs):
    """``fn``'s result, or None after a clear error; fails on any other error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed, and checked elsewhere
            result = fn(*args, **kwargs)
        _event("answered")
        return result
    except Exception as exc:
        if not isinstance(exc, ValueError | TypeError):
            raise AssertionError(f"internal error {type(exc).__name__}: {exc}") from exc
        origin = traceback.extract_tb(exc.__traceback__)[-1].filename
        assert origin.startswith(OUR_CODE), f"{type(exc).__name__} from {origin}: {exc}"
        assert str(exc) and not INTERNAL.search(str(exc)), f"unclear message: {exc}"
        _event(f"{type(exc).__name__}: {str(exc)[:40]}")
        return None


def _event(name):
    """Count outcomes in hypothesis' statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(name)


def values():
    """Floats that matter: mostly plausible readings; NaN, inf, huge, tiny now and then."""
    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, 5e-324,
                               3.4e38, 3.5e38, -3.5e38, 1e30, 1e300, -1e300, 1e21])
    plausible = st.floats(-200.0, 200.0)
    return st.one_of(plausible, plausible, plausible, st.just(np.nan), special,
                     st.floats(allow_nan=True, allow_infinity=True))


# Mostly float64; the other dtypes now and then.
DTYPES = st.sampled_from(["float64"] * 8 + ["float32", "float16", "int64", "bool",
                                            "complex128", "U3", "O"])


def arrays(shape, dtype=DTYPES):
    """Arrays of ``shape`` (a strategy) whose entries are mostly finite but may be anything."""
    return st.builds(_array, shape, dtype, st.data())


def sequences(n_timesteps, n_channels=1, max_n=4):
    """Arrays of the right shape most of the time, of any of the usual dtypes."""
    right = (st.tuples(st.integers(0, max_n), st.just(n_timesteps)) if n_channels == 1 else
             st.tuples(st.integers(0, max_n), st.just(n_timesteps), st.just(n_channels)))
    shape = st.one_of(right, right, right,
                      hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    return arrays(shape)


def _array(shape, dtype, data):
    """Plausible values at a random scale, with a few special values and dead rows injected."""
    rng = np.random.RandomState(data.draw(st.integers(0, 2**32 - 1)))
    scale = data.draw(st.sampled_from([1.0, 1.0, 1.0, 1e-3, 1e6, 1e20, 1e35, 1e-300]))
    arr = np.asarray(rng.uniform(-20.0, 200.0, size=shape) * scale)
    if arr.size:
        for _ in range(data.draw(st.integers(0, 3))):
            arr.flat[data.draw(st.integers(0, arr.size - 1))] = data.draw(values())
        if arr.ndim >= 2 and data.draw(st.booleans()):
            arr[data.draw(st.integers(0, arr.shape[0] - 1))] = np.nan  # a dead sensor-day
    if dtype in ("U3", "O"):
        return arr.astype(str).astype(dtype) if dtype == "U3" else arr.astype(object)
    with np.errstate(all="ignore"):
        return arr.astype(dtype)


def _same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and (
        np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype != object
        else all(x is y or x == y or (x != x and y != y)
                 for x, y in zip(a.ravel(), b.ravel(), strict=True)))


def check_params(model, X, params, clipped=True):
    """Each row all NaN or finite in the box (with ``clipped=False``, as robust-input
    R2T returns them: angles in their period, the rest unbounded); all NaN where a
    channel is empty or has fewer observed samples than its parameters plus one (no
    fit can pin them: issue 21), finite everywhere else."""
    X3 = np.asarray(X, dtype=float)
    X3 = X3[:, :, None] if X3.ndim == 2 else X3
    counts = (~np.isnan(X3)).sum(axis=1)
    empty = (counts == 0).any(axis=1)
    sparse = (counts < -(-model.n_params // model.n_channels) + 1).any(axis=1)
    assert params.shape == (len(X3), model.n_params)
    nan_rows = np.isnan(params).all(axis=1)
    assert nan_rows[empty | sparse].all()
    assert not nan_rows[~sparse].any()
    ok = params[~nan_rows]
    assert np.isfinite(ok).all()
    lo, hi = model.bounds.T
    inside = (ok >= lo - 1e-6 * (hi - lo)) & (ok <= hi + 1e-6 * (hi - lo))
    assert np.all(inside if clipped else inside[:, model.angular_mask])


# ------------------------------------------------------------------ R2T
_R2T = {}


def r2t(model_name):
    """Fitted on shipped weights once per model (instant), reused by every example."""
    if model_name not in _R2T:
        model = {"heart_rate": HeartRate, "wearable": Wearable}[model_name]()
        X = make_wearable_sequences(4, model=model, random_state=0).X
        _R2T[model_name] = R2TRegressor(model).fit(X)
    return _R2T[model_name]


@FAST
@given(X=sequences(96))
def test_r2t_transform_and_predict(X):
    est, before = r2t("heart_rate"), X.copy()
    params = outcome(est.transform, X)
    assert _same(X, before)
    if params is not None:
        check_params(est.model_, X, params, clipped=est.input_scaling_ == "range")
        curves = outcome(est.predict, X)
        assert curves is not None and curves.shape == np.shape(X)[:2]


@FAST
@given(X=sequences(96, n_channels=3, max_n=3))
def test_r2t_wearable_transform(X):
    est, before = r2t("wearable"), X.copy()
    params = outcome(est.transform, X)
    assert _same(X, before)
    if params is not None:
        check_params(est.model_, X, params, clipped=est.input_scaling_ == "range")


@FAST
@given(X=sequences(96), noise=st.sampled_from(["combined"] * 4 + ["foo", 42, None, ["spikes"]]))
def test_r2t_fit_with_shipped_weights(X, noise):
    before = X.copy()
    # pretrained=True: other lengths are a clear error here, not a long training.
    est = outcome(R2TRegressor(noise=noise, pretrained=True).fit, X)
    assert _same(X, before)
    if est is not None:
        assert est.pretrained_ and est.n_features_in_ == 96


# ------------------------------------------------ least squares (short Cosinor)
COSINOR = Cosinor()


@FAST
@given(X=sequences(8, max_n=3))
def test_least_squares_fit_transform(X):
    before = X.copy()
    est = SymbolicLeastSquares(COSINOR, loss="soft_l1", n_restarts=1, max_nfev=20)
    fitted = outcome(est.fit, X)
    assert _same(X, before)
    if fitted is not None:
        params = outcome(fitted.transform, X)
        assert _same(X, before)
        if params is not None:
            check_params(COSINOR, X, params)


# ----------------------------------------------------------- symbolic models
@FAST
@given(data=st.data(),
       model=st.sampled_from([HeartRate(), SpO2(), Wearable(), Cosinor(n_harmonics=2)]),
       n_timesteps=st.one_of(st.integers(4, 40), st.integers(-2, 40),
                             st.sampled_from([4.0, "96", None, True])))
def test_models_evaluate(data, model, n_timesteps):
    right = st.tuples(st.integers(0, 3), st.just(model.n_params))
    params = data.draw(arrays(st.one_of(right, right, right, hnp.array_shapes(
        min_dims=0, max_dims=3, max_side=4))))
    before = params.copy()
    out = outcome(model.evaluate, params, n_timesteps)
    assert _same(params, before)
    if out is not None:
        p = np.asarray(params, dtype=float).reshape(-1, model.n_params)
        assert out.shape[:2] == (len(p), n_timesteps)
        moderate = np.all(np.abs(p) < 1e100, axis=1)  # finite math, no float64 overflow
        assert np.isfinite(out[moderate]).all()
        assert np.isnan(out[np.isnan(p).any(axis=1)]).any(axis=tuple(range(1, out.ndim))).all()


# ------------------------------------------------------------------ datasets
@FAST
@given(
    n_sequences=st.one_of(st.integers(1, 30), st.integers(1, 30),
                          st.integers(-3, 30), st.sampled_from([2.0, "5", None, True])),
    model=st.sampled_from([None, HeartRate(), Wearable(), Cosinor(), SpO2(), HeartRate,
                           "spo2", 3]),
    noise=st.one_of(st.sampled_from(PRESETS), st.sampled_from(PRESETS),
                    st.sampled_from(["foo", 3, None, ["spikes", "drops"]])),
    n_timesteps=st.one_of(st.integers(4, 100), st.integers(4, 100), st.integers(-2, 100),
                          st.sampled_from([96.0, "96", None])),
    random_state=st.one_of(st.integers(0, 2**32 - 1), st.integers(-3, 2**32 - 1),
                           st.sampled_from([None, "x", 1.5])),
)
def test_make_wearable_sequences(n_sequences, model, noise, n_timesteps, random_state):
    data = outcome(make_wearable_sequences, n_sequences, model=model, noise=noise,
                   n_timesteps=n_timesteps, random_state=random_state)
    if data is not None:
        m = data.model
        assert data.X.shape == data.X_clean.shape and len(data.X) == n_sequences
        assert np.isfinite(data.X_clean).all()
        assert not np.isinf(data.X).any()
        lo, hi = m.bounds.T
        assert np.all((data.params >= lo) & (data.params <= hi))


# --------------------------------------------------------------------- noise
@FAST
@given(X=sequences(24, max_n=3), preset=st.sampled_from(PRESETS),
       model=st.sampled_from([None, HeartRate(), SpO2()]),
       random_state=st.one_of(st.integers(-3, 2**31), st.sampled_from([None, "x"])))
def test_noise_presets(X, preset, model, random_state):
    before = X.copy()
    noisy = outcome(make_noise(preset, model), X, random_state=random_state)
    assert _same(X, before)
    if noisy is not None:
        clean = np.asarray(X, dtype=float)
        assert noisy.shape == clean.shape and noisy.dtype == np.float64
        # Noise adds missing samples and finite artefacts; it never invents inf.
        assert np.isnan(noisy[np.isnan(clean)]).all()
        assert not np.isinf(noisy[np.isfinite(clean)]).any()


# ------------------------------------------------------------------- metrics
# Found by the fuzzing above (raw numpy errors before), kept as explicit cases.
@pytest.mark.parametrize("call", ["noise", "dataset"])
def test_negative_seed_is_a_clear_error(call):
    with pytest.raises(ValueError, match="non-negative"):
        if call == "noise":
            make_noise("gaussian")(np.zeros((2, 8)), random_state=-5)
        else:
            make_wearable_sequences(2, random_state=-1)


def test_noise_on_zero_length_sequences_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one time step"):
        make_noise("gaussian")(np.zeros((2, 0)))


def _same_shape_often(data, first, strategy):
    return data.draw(st.one_of(arrays(st.just(first.shape)), arrays(st.just(first.shape)),
                               strategy))


@FAST
@given(y_true=sequences(8, max_n=3), data=st.data())
def test_normalized_mse(y_true, data):
    y_pred = _same_shape_often(data, y_true, sequences(8, max_n=3))
    a, b = y_true.copy(), y_pred.copy()
    mse = outcome(normalized_mse, Cosinor(), y_true, y_pred)
    assert _same(a, y_true) and _same(b, y_pred)
    if mse is not None:
        shape = np.broadcast_shapes(y_true.shape, y_pred.shape)
        assert mse.shape == shape[:1]
        a, b = (np.broadcast_to(np.asarray(y, float), shape) for y in (y_true, y_pred))
        seen = (np.isfinite(a) & np.isfinite(b)).any(axis=1)  # NaN only with no pair
        assert np.isfinite(mse[seen]).all()


@FAST
@given(p_true=sequences(3, max_n=3), data=st.data())
def test_parameter_errors_and_score(p_true, data):
    p_pred = _same_shape_often(data, p_true, sequences(3, max_n=3))
    a, b = p_true.copy(), p_pred.copy()
    err = outcome(parameter_errors, HeartRate(), p_true, p_pred)
    assert _same(a, p_true) and _same(b, p_pred)
    if err is not None:
        assert err.shape == np.broadcast_shapes(p_true.shape, p_pred.shape)
        assert np.all((err >= 0) | np.isnan(err))
    est = r2t("heart_rate")
    n = len(p_true) if np.ndim(p_true) == 2 and len(p_true) else 2
    X = make_wearable_sequences(n, random_state=0).X
    score = outcome(parameter_recovery_score, est, X, p_true)
    assert _same(a, p_true)
    if score is not None:
        assert score <= 0 or np.isnan(score)


def test_clear_error_check_catches_internal_errors():
    # The checker itself must fail on an internal error, or every test above is void.
    with pytest.raises(AssertionError):
        outcome(torch.ones(2, 3).matmul, torch.ones(2, 3))
    with pytest.raises(AssertionError):
        outcome(np.ones((2, 3)).__add__, np.ones((4,)))


# ------------------------------------------------ issue 21: the last bad inputs
# Each reproducer of issue 21, kept as a regression case.
_TINY = dict(d_model=8, n_heads=2, dim_feedforward=16, step_features=2, hidden_size=16,
             n_synthetic=512, max_epochs=50, batch_size=64, pretrained=False)


def _clean_row(n_timesteps=96):
    return make_wearable_sequences(1, noise="gaussian", random_state=1,
                                   n_timesteps=n_timesteps).X[0]


@pytest.mark.parametrize("n_observed", [1, 2, 3])
@pytest.mark.parametrize("method", ["transform", "std", "predict", "sample_weights"])
def test_r2t_rows_too_sparse_give_nan_with_one_warning(n_observed, method):
    # One observed sample reached torch's "singular" error; two returned parameters
    # pinned at a bound ([54.53, 20.0, 1.38]) without a word.
    est = r2t("heart_rate")
    X = np.vstack([np.full(96, np.nan), _clean_row()])
    X[0, 5 : 5 + 7 * n_observed : 7] = 109.0
    call = {"transform": est.transform, "predict": est.predict,
            "std": lambda X: est.transform(X, return_std=True)[1],
            "sample_weights": est.sample_weights}[method]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = call(X)
    messages = [str(w.message) for w in record]
    assert messages == ["1 sequence(s) have fewer than 4 observed samples in a channel "
                        "(rows 0); their parameters are returned as NaN."]
    assert np.isnan(out[0]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the good row alone: no warning at all
        alone = call(X[1:])
    np.testing.assert_allclose(out[1:], alone, rtol=1e-6)  # the rest of the batch


def _step(p, t):
    return p[:, :1] + p[:, 1:2] * (t >= 12.0).to(p.dtype)


STEP = FunctionModel(_step, bounds=[(0.0, 1.0), (-0.5, 0.5)],
                     linear_basis=lambda t: np.stack([np.ones_like(t), 1.0 * (t >= 12.0)], 1),
                     params_from_linear=lambda theta: theta)


def test_singular_systems_give_nan_in_r2t_as_in_least_squares():
    # Twelve observed samples, all before the step: its size cannot be known.
    X = STEP.evaluate(np.array([[0.4, 0.2], [0.5, -0.1]]), 24)
    X[0, 12:] = np.nan
    r2t_est = R2TRegressor(STEP, random_state=0, max_steps=2, **_TINY).fit(X)
    for est in (SymbolicLeastSquares(STEP, loss="linear").fit(X), r2t_est):
        with pytest.warns(UserWarning, match=r"^1 sequence\(s\) have a singular weighted "
                                             r"system \(rows 0\); their parameters"):
            params = est.transform(X)
        assert np.isnan(params[0]).all() and np.isfinite(params[1]).all()


def test_r2t_trains_on_short_sequences_with_gaps():
    # 4-step sequences: training rows with under 3 observed samples (masking, gaps)
    # made the weighted solve raise torch's "singular" error.
    X = make_wearable_sequences(8, n_timesteps=4, noise="gaussian", random_state=0).X
    est = R2TRegressor(random_state=0, max_steps=3, **{**_TINY, "n_synthetic": 256}).fit(X)
    X[0, 1:] = np.nan
    with pytest.warns(UserWarning, match="fewer than 4 observed samples"):
        params = est.transform(X)
    assert np.isnan(params[0]).all() and np.isfinite(params[1:]).all()


class _FakeClock:
    """Every reading advances ``tick`` seconds, plus ``jump`` at reading ``jump_after``."""

    def __init__(self, tick, jump_after=None, jump=0.0):
        self.now, self.calls, self.tick = 0.0, 0, tick
        self.jump_after, self.jump = jump_after, jump

    def __call__(self):
        self.calls += 1
        self.now += self.tick + (self.jump if self.calls == self.jump_after else 0.0)
        return self.now


def test_a_budget_spent_before_the_first_step_warns_and_stops_at_once(monkeypatch):
    # max_time=0.05 trained 0 steps in 9 empty epochs (36 s), silently.
    monkeypatch.setattr(_training, "_clock", _FakeClock(tick=1.0))
    est = R2TRegressor(random_state=0, max_time=0.5, **_TINY)
    with pytest.warns(ConvergenceWarning, match=r"allowed only 0 optimiser step.*barely "
                                                r"trained.*before the first step"):
        est.fit(make_wearable_sequences(4, random_state=0).X)
    assert est.n_steps_ == 0
    # One scored epoch without a step, not `patience` empty ones.
    assert len(est.history_) == 1 and est.history_[0]["steps"] == 0


@pytest.mark.parametrize("jump_after, timing", [(5, "set-up and the first step took"),
                                                (8, r"would plan 100 steps")])
def test_a_budget_cut_during_the_timing_steps_warns(monkeypatch, jump_after, timing):
    # A loaded machine ran out of max_time=15 within the 10 timed steps (3, 4 and 8
    # steps), and the fit said nothing. (The clock jumps at its 5th reading: after
    # the first step; at its 8th: after the fourth.)
    monkeypatch.setattr(_training, "_clock",
                        _FakeClock(tick=0.01, jump_after=jump_after, jump=100.0))
    est = R2TRegressor(random_state=0, max_time=5.0, **_TINY)
    with pytest.warns(ConvergenceWarning, match="allowed only .* step") as record:
        est.fit(make_wearable_sequences(4, random_state=0).X)
    assert 0 < est.n_steps_ < _training._PROBE_STEPS
    assert est.n_steps_ == est.history_[-1]["steps"]  # honest: the steps taken
    message = str(record[0].message)
    assert f"n_steps_={est.n_steps_}" in message and re.search(timing, message)


def test_damaged_shipped_file_on_a_slow_machine_says_the_fallback_trained_nothing(
        tmp_path, monkeypatch):
    # pretrained="auto" with a damaged file warned, then returned after 20-57 s with
    # n_steps_=0 and no word about it. Here the 300 s fall-back budget is spent before
    # the first step (every clock reading is 400 s).
    path = tmp_path / "heart_rate_t96.pt"
    path.write_bytes(b"not a torch file")
    monkeypatch.setattr(_weights, "pretrained_path",
                        lambda model, n, head, input_scaling=None: path)
    monkeypatch.setattr(_training, "_clock", _FakeClock(tick=400.0))
    with pytest.warns(UserWarning) as record:
        est = R2TRegressor(random_state=0, **{**_TINY, "pretrained": "auto"}).fit(
            make_wearable_sequences(4, random_state=0).X)
    assert any("damaged" in str(w.message) and "within max_time=300 s" in str(w.message)
               for w in record)
    assert any(issubclass(w.category, ConvergenceWarning)
               and "max_time=300 s allowed only 0 optimiser step" in str(w.message)
               for w in record)
    assert not est.pretrained_ and est.n_steps_ == 0


def test_soft_l1_at_the_edges_of_float64():
    # y * 1e-300 reached numpy's "array must not contain infs or NaNs" (f_scale="auto");
    # y * 1e-30 stopped at the least-squares start without a word.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, 2.0] + 3.0 + 0.1 * rng.normal(size=60)
    y[:6] += 30.0
    for f_scale in ("auto", 0.05):
        ref = SoftL1Regressor(f_scale=f_scale).fit(X, y)
        for c in (1e-300, 1e-30, 1e30):
            est = SoftL1Regressor(f_scale=f_scale if f_scale == "auto" else f_scale * c)
            est.fit(X, y * c)
            np.testing.assert_allclose(est.coef_ / c, ref.coef_, rtol=1e-7)
            np.testing.assert_allclose(est.intercept_ / c, ref.intercept_, rtol=1e-7)


def test_boolean_targets_count_as_zero_and_one_like_scikit_learns():
    # SoftL1Regressor(f_scale="auto").fit(X, y > 3) reached numpy's boolean-subtract
    # TypeError; HuberRegressor (and every regressor here) takes booleans as 0/1.
    from sklearn.linear_model import HuberRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, 2.0] + 3.0 > 3.0
    HuberRegressor().fit(X, y)  # scikit-learn's behaviour, followed here
    for est in (SoftL1Regressor(f_scale="auto"), SoftL1Regressor()):
        a, b = est.fit(X, y).coef_.copy(), est.fit(X, y.astype(float)).coef_
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bounds", [[(-1e300, 1e300)], [(0.0, 1e39)], [(-3e38, 3e38)]])
def test_function_model_bounds_must_fit_float32(bounds):
    # FunctionModel(f, bounds=[(-1e300, 1e300)]) was accepted; the networks compute
    # lower bound + share * width in float32 (and scale the signal by output_range).
    with pytest.raises(ValueError, match="bounds and their widths .* float32 range"):
        FunctionModel(lambda p, t: p[:, :1] + 0 * t, bounds=bounds)
    with pytest.raises(ValueError, match="output_range and its widths .* float32 range"):
        FunctionModel(lambda p, t: p[:, :1] + 0 * t, bounds=[(0.0, 1.0)],
                      output_range=bounds[0])
