"""Fuzzing the ASRL entry points (hypothesis): a clear error or a finite answer, never a
mutated input.

For random arrays (NaN, inf, huge, tiny, empty, wrong shapes and dtypes) every public ASRL
entry point either raises ``ValueError``/``TypeError`` with a message that names the problem
(no library internals such as C++ source paths) or returns finite values; the inputs are never
modified.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_r2t import ASRLLoss, ASRLObjective, ASRLRegressor, asrl_loss
from sklearn_r2t.asrl._thresholds import asrl_thresholds

FAST = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FITS = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

_SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-300, 5e-324, 3.5e153, -3.5e153,
            1e300, 1.7e308, -1.7e308, 2.4e18, 3.4e38, 1e39, 1e12, 1e12 + 1]
_floats = st.one_of(st.sampled_from(_SPECIAL), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(-1e3, 1e3))


@st.composite
def arrays(draw, n=None, ndim=None):
    """Float arrays mostly, sometimes another dtype or a non-array."""
    kind = draw(st.sampled_from(["float"] * 6 + ["int", "bool", "complex", "str", "list"]))
    if n is None:
        n = draw(st.integers(0, 12))
    if ndim is None:
        ndim = draw(st.sampled_from([1, 1, 1, 2, 3]))
    shape = (n,) if ndim == 1 else (n, draw(st.integers(1, 3))) if ndim == 2 else (n, 1, 2)
    if kind == "float":
        dtype = draw(st.sampled_from([np.float64, np.float32]))
        with np.errstate(over="ignore"):
            return draw(hnp.arrays(np.float64, shape, elements=_floats)).astype(dtype)
    if kind == "int":
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-10**6, 10**6)))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    if kind == "complex":
        return np.ones(shape) + 1j
    if kind == "str":
        return np.full(shape, "a")
    return [float(v) for v in draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n))]


def _copy(x):
    return x.copy() if isinstance(x, np.ndarray) else list(x) if isinstance(x, list) else x


def _same(a, b):
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a is None and b is None)


def _clear(exc: Exception) -> None:
    msg = str(exc)
    assert msg and ".cpp" not in msg and ".hpp" not in msg and ".cc" not in msg, msg


def _finite(out) -> None:
    parts = out if isinstance(out, tuple) else (out,)
    for p in parts:
        if p is None:
            continue
        assert np.all(np.isfinite(np.asarray(p, dtype=np.float64))), p


def _check(fn, *inputs):
    before = [_copy(x) for x in inputs]
    try:
        out = fn(*inputs)
    except (ValueError, TypeError) as exc:
        _clear(exc)
        out = None
    for a, b in zip(inputs, before, strict=True):
        _same(a, b)
    return out


RULES = st.sampled_from([{}, dict(thresholds="adaptive"), dict(thresholds="adaptive",
                                                                 per_side=True),
                         dict(thresholds="efficient", per_side=True)])


@FAST
@given(arrays(), arrays(), st.one_of(st.none(), arrays(ndim=1)), RULES)
def test_fuzz_asrl_loss_and_thresholds(y, p, w, rule):
    out = _check(lambda a, b, c: asrl_loss(a, b, c, **rule), y, p, w)
    if out is not None:
        _finite(out)
    out = _check(lambda a, b, c: asrl_thresholds(a, b, c, **rule), y, p, w)
    if out is not None:
        _finite(tuple(out))


@FAST
@given(arrays(), arrays(), st.one_of(st.none(), arrays(ndim=1)), RULES)
def test_fuzz_objective(y, p, w, rule):
    obj = ASRLObjective(**rule)
    out = _check(lambda a, b, c: obj(a, b, sample_weight=c), y, p, w)
    if out is not None:
        _finite(out)
        assert np.all(out[1] > 0)  # positive hessian
    out = _check(lambda a, b, c: obj.calc_ders_range(b, a, c), y, p, w)
    if out is not None:
        _finite(tuple(np.asarray(out, dtype=float).ravel()))


def _tensor(x, dtype):
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        return torch.tensor(x).to(dtype) if x.dtype.kind == "f" else torch.tensor(x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "c":
        return torch.tensor(x)
    return x  # lists and strings stay as they are: they must be refused


@FAST
@given(arrays(), arrays(), st.one_of(st.none(), arrays(ndim=1)), RULES,
       st.sampled_from([torch.float32, torch.float64]), st.booleans())
def test_fuzz_torch_loss(y, p, w, rule, dtype, weight_as_numpy):
    t, q = _tensor(y, dtype), _tensor(p, dtype)
    wt = w if (weight_as_numpy or w is None) else _tensor(w, dtype)
    if isinstance(q, torch.Tensor) and q.is_floating_point():
        q = q.clone().requires_grad_(True)
    before = [x.detach().clone() if isinstance(x, torch.Tensor) else _copy(x)
              for x in (t, q, wt)]
    try:
        loss = ASRLLoss(**rule)(q, t, wt)
    except (ValueError, TypeError) as exc:
        _clear(exc)
        loss = None
    if loss is not None:
        assert torch.isfinite(loss).all()
        loss.backward()
        assert torch.isfinite(q.grad).all()
    for a, b in zip((t, q, wt), before, strict=True):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a.detach(), b, ) or bool(torch.isnan(b).any())
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


@FITS
@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    arrays(n=n, ndim=2), arrays(n=n),
    st.one_of(st.none(), arrays(n=n, ndim=1))
)), st.sampled_from([{}, dict(thresholds="adaptive", per_side=True),
                      dict(thresholds="efficient", leaf_solve=False),
                      dict(booster="lightgbm", thresholds="efficient")]))
def test_fuzz_regressor_fit_predict(data, rule):
    X, y, w = data
    est = ASRLRegressor(n_estimators=2, max_depth=2, n_jobs=1, random_state=0, **rule)
    before = [_copy(v) for v in (X, y, w)]
    try:
        est.fit(X, y, sample_weight=w)
        pred = est.predict(X)
    except (ValueError, TypeError) as exc:
        _clear(exc)
        assert not hasattr(est, "model_")  # a failed fit leaves no fitted state
        pred = None
    if pred is not None:
        _finite(pred)
    for a, b in zip((X, y, w), before, strict=True):
        _same(a, b)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_samples_are_either_refused_clearly_or_fitted(n):
    X, y = np.ones((n, 2)), np.arange(n, dtype=float)
    try:
        pred = ASRLRegressor(n_estimators=2, n_jobs=1).fit(X, y).predict(X)
    except ValueError as exc:
        _clear(exc)
    else:
        assert np.all(np.isfinite(pred))


def test_subnormal_residual_with_zero_thresholds_is_finite():
    # Found by this file's fuzzing: all residuals about 0 give delta1 = 0, and a zero
    # residual then divided 0 by 0.
    from sklearn_r2t import ASRLObjective

    grad, hess = ASRLObjective()(np.array([0.0, 0.0]), np.array([5e-324, 0.0]))
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess)) and np.all(hess > 0)


# ------------------------------------------------ issue 21: the last bad inputs
def _linear_data(n=80):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, 2.0] + 3.0 + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("c", [1e-300, 1e-30, 1e30])
def test_regressor_targets_at_the_edges_of_float64_fit_the_same_model(c):
    # fit(X, y * 1e-300) raised ZeroDivisionError (gamma / scale**2 underflowed).
    X, y = _linear_data()
    kw = dict(n_estimators=10, max_depth=3, n_jobs=1, random_state=0)
    ref = ASRLRegressor(**kw).fit(X, y).predict(X)
    np.testing.assert_allclose(ASRLRegressor(**kw).fit(X, y * c).predict(X) / c, ref,
                               rtol=1e-5, atol=1e-5)
    # Penalties in the units of y: at 1e-300 a unit gamma forbids every split.
    flat = ASRLRegressor(gamma=1.0, **kw).fit(X, y * c).predict(X)
    assert np.isfinite(flat).all()


@pytest.mark.parametrize("base_score, match", [(1e300, "float32 range"),
                                               (1e30, "times the targets' spread")])
def test_regressor_base_score_far_from_the_targets_is_refused(base_score, match):
    # base_score=1e300 raised OverflowError; 1e30 silently fitted a constant.
    X, y = _linear_data()
    est = ASRLRegressor(n_estimators=2, n_jobs=1, base_score=base_score)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert not hasattr(est, "model_")
    ASRLRegressor(n_estimators=2, n_jobs=1, base_score=0.0).fit(X, y)  # near: fine


def test_regressor_boolean_targets_count_as_zero_and_one():
    X, y = _linear_data()
    kw = dict(n_estimators=5, max_depth=2, n_jobs=1, random_state=0)
    np.testing.assert_array_equal(ASRLRegressor(**kw).fit(X, y > 3).predict(X),
                                  ASRLRegressor(**kw).fit(X, (y > 3) * 1.0).predict(X))


@pytest.mark.parametrize("fn", [lambda y, p: ASRLObjective()(y, p),
                                lambda y, p: asrl_loss(y, p)])
def test_objective_residuals_beyond_float64_are_a_clear_error(fn):
    # ASRLObjective()(-1e308 * ones, 1e308 * ones) returned NaN gradients with only
    # numpy's RuntimeWarning.
    with pytest.raises(ValueError, match="overflows float64"):
        fn(-1e308 * np.ones(5), 1e308 * np.ones(5))
    grad, hess = ASRLObjective()(-1e300 * np.ones(5), 1e300 * np.ones(5))
    assert np.isfinite(grad).all() and np.isfinite(hess).all()
