"""ASRL loss, statistics and XGBoost objective."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import make_scorer

from sklearn_r2t import ASRLObjective, ASRLThresholds, asrl_loss
from sklearn_r2t.asrl._loss import _irls_weight, _rho
from sklearn_r2t.asrl._quantiles import (
    _collective_quantiles,
    _CollectiveBackend,
    _LocalBackend,
    _quantiles,
)
from sklearn_r2t.asrl._thresholds import _column_stats, asrl_thresholds


def _heavy(n=400, k=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) if k is None else (n, k)
    y = 50.0 + rng.standard_t(2, size=shape)
    pred = 50.0 + rng.normal(scale=0.5, size=shape)
    return y, pred


def _th(d1, d2, tau):
    return ASRLThresholds(*(np.array([v], dtype=float) for v in (d1, d2, tau, 1.0, 1.0)))


# --------------------------------------------------------------------------- quantiles
@pytest.mark.parametrize("q", [0.01, 0.25, 0.5, 0.8, 0.9, 0.999])
def test_quantiles_match_numpy_inverted_cdf(q):
    rng = np.random.default_rng(1)
    v = rng.standard_t(3, size=1001)
    assert _quantiles(v, None, (q,))[0] == np.quantile(v, q, method="inverted_cdf")
    w = rng.integers(0, 4, size=v.size).astype(float)
    rep = np.repeat(v, w.astype(int))
    assert _quantiles(v, w, (q,))[0] == np.quantile(rep, q, method="inverted_cdf")


def test_quantiles_do_not_mutate_input():
    v = np.array([3.0, 1.0, 2.0, 5.0, 4.0] * 30)
    w = np.linspace(0.1, 2.0, v.size)
    v0, w0 = v.copy(), w.copy()
    _quantiles(v, w, (0.3, 0.7))
    _quantiles(v, None, (0.3, 0.7))
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(w, w0)


class _FakeComm:
    """In-process stand-in for xgboost.collective: n threads reduce in lockstep."""

    def __init__(self, n):
        self.n = n
        self.barrier = threading.Barrier(n)
        self.slots = [None] * n
        self.result = None

    def allreduce_for(self, rank):
        def allreduce(data, op):
            self.slots[rank] = np.asarray(data, dtype=float).ravel().copy()
            if self.barrier.wait() == 0:
                stack = np.stack(self.slots)
                self.result = stack.min(0) if op == "min" else stack.sum(0)
            self.barrier.wait()
            out = self.result.copy()
            self.barrier.wait()
            return out

        return allreduce


def _run_workers(parts, fn):
    comm = _FakeComm(len(parts))
    out = [None] * len(parts)

    def work(rank):
        out[rank] = fn(parts[rank], comm.allreduce_for(rank))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_collective_quantiles_are_exact_across_workers():
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.normal(size=3000), 1e6 * rng.standard_cauchy(20)])
    v[:50] = 0.25  # ties
    w = rng.integers(0, 3, size=v.size).astype(float)
    qs = (0.1, 0.5, 0.8, 0.99)
    expected = [_quantiles(v, w, (q,))[0] for q in qs]
    parts = [(v[:1000], w[:1000]), (v[1000:2900], w[1000:2900]), (v[2900:], w[2900:])]

    def fn(part, allreduce):
        vv, ww = part
        return _collective_quantiles([(vv, ww, q) for q in qs], np.full(len(qs), w.sum()),
                                     allreduce)

    for res in _run_workers(parts, fn):
        np.testing.assert_array_equal(res, expected)


@pytest.mark.parametrize("rule,per_side", [("quantile", False), ("adaptive", False),
                                           ("adaptive", True)])
@pytest.mark.parametrize("weighted", [False, True])
def test_collective_stats_match_local_stats_with_an_empty_worker(rule, per_side, weighted):
    y, pred = _heavy(900)
    y[::7] += 30.0  # one-sided errors: the two sides differ
    r = pred - y
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=r.size) if weighted else None
    cfg = (0.5, 0.8, "adaptive", rule, per_side)
    local = _column_stats(r, w, cfg, _LocalBackend())
    cut = [slice(0, 400), slice(400, 400), slice(400, None)]
    parts = [(r[c], None if w is None else w[c]) for c in cut]
    res = _run_workers(parts, lambda p, ar: _column_stats(p[0], p[1], cfg, _CollectiveBackend(ar)))
    for got in res:
        np.testing.assert_allclose(got, local, rtol=1e-12)
    if per_side:
        assert local[2] != local[7] and local[1] != local[6]


# --------------------------------------------------------------------------- loss shape
@pytest.mark.parametrize("d1,d2,tau", [(1.0, 3.0, 0.5), (0.2, 0.2, 2.0), (2.0, 10.0, 30.0)])
def test_loss_and_slope_continuous_at_thresholds(d1, d2, tau):
    th = _th(d1, d2, tau)
    eps = 1e-7
    for t in (d1, d2):
        for sign in (1.0, -1.0):
            r = sign * np.array([[t - eps], [t + eps]])
            rho = _rho(r, th)[:, 0]
            psi = (_irls_weight(r, th) * r)[:, 0]
            assert abs(rho[1] - rho[0]) < 10 * eps * max(1.0, t)
            assert abs(psi[1] - psi[0]) < 1e-5 * max(1.0, d1)


def test_loss_regions():
    th = _th(1.0, 3.0, 2.0)
    r = np.array([[0.5], [2.0], [7.0]])
    rho = _rho(r, th)[:, 0]
    assert rho[0] == pytest.approx(0.125)  # squared
    assert rho[1] == pytest.approx(2.0 - 0.5)  # delta1 * a - delta1**2 / 2
    assert rho[2] == pytest.approx(3.0 - 0.5 + 2.0 * np.log1p(4.0 / 2.0))  # logarithmic
    # symmetric, non-negative, zero at zero
    assert np.all(_rho(-r, th) == rho[:, None])
    assert _rho(np.zeros((1, 1)), th)[0, 0] == 0.0


def test_gradient_matches_finite_differences_of_asrl_loss():
    y, pred = _heavy(300, k=2)
    w = np.random.default_rng(4).uniform(0.2, 3.0, size=y.shape[0])
    obj = ASRLObjective()
    th = obj.thresholds(y, pred, w)
    grad, _ = obj.gradient_hessian(y, pred, w)
    h = 1e-6
    n = y.shape[0]
    for i in [0, 7, 50, 123, 299]:
        for j in range(2):
            up, down = pred.copy(), pred.copy()
            up[i, j] += h
            down[i, j] -= h
            fd = (asrl_loss(y, up, w, thresholds=th, multioutput="raw_values")[j]
                  - asrl_loss(y, down, w, thresholds=th, multioutput="raw_values")[j]) / (2 * h)
            # asrl_loss is a weighted mean: d/dpred_i = w_i psi_i / sum(w)
            assert fd * w.sum() == pytest.approx(grad[i, j], rel=1e-5, abs=1e-7)
    assert n == grad.shape[0]


def test_gradient_matches_fd_with_thresholds_recomputed_mad_weighting():
    # With weighting="mad" the statistics are order statistics: locally constant in any
    # residual away from the thresholds, so the total derivative is the gradient.
    y, pred = _heavy(301)
    obj = ASRLObjective(weighting="mad")
    grad, _ = obj.gradient_hessian(y, pred)
    th = obj.thresholds(y, pred)
    a = np.abs(pred - y)
    h = 1e-7
    edges = np.array([th.delta1[0], th.delta2[0]])
    for i in np.flatnonzero(np.min(np.abs(a[:, None] - edges), axis=1) > 1e-3)[:8]:
        up, down = pred.copy(), pred.copy()
        up[i] += h
        down[i] -= h
        fd = (asrl_loss(y, up, weighting="mad") - asrl_loss(y, down, weighting="mad")) / (2 * h)
        assert fd * y.size == pytest.approx(grad[i], rel=1e-4, abs=1e-6)


def test_hessian_strictly_positive_and_majorizes():
    y, pred = _heavy(500)
    pred[:5] += 1e8  # absurd residuals
    grad, hess = ASRLObjective()(y, pred)
    assert np.all(hess > 0) and np.all(np.isfinite(grad))
    assert np.all(hess.astype(np.float32) > 0)  # survives XGBoost's float32
    # Majorizer: the quadratic with curvature hess touches the loss and stays above it.
    obj = ASRLObjective()
    th = obj.thresholds(y, pred)
    r = (pred - y)[:, None]
    for step in (-3.0, -0.5, 0.5, 3.0):
        quad = _rho(r, th) + grad[:, None] * step + 0.5 * hess[:, None] * step**2
        assert np.all(quad >= _rho(r + step, th) - 1e-9)


def test_hessian_is_exact_in_the_squared_region():
    y, pred = _heavy(200)
    th = asrl_thresholds(y, pred)
    _, hess = ASRLObjective()(y, pred)
    core = np.abs(pred - y) <= th.delta1[0]
    assert np.all(hess[core] == 1.0)


def test_weights_multiply_gradient_and_hessian():
    y, pred = _heavy(200)
    w = np.full(y.size, 3.0)  # constant weights leave the quantiles unchanged
    g1, h1 = ASRLObjective()(y, pred)
    g3, h3 = ASRLObjective()(y, pred, sample_weight=w)
    np.testing.assert_allclose(g3, 3 * g1)
    np.testing.assert_allclose(h3, 3 * h1)


def test_integer_weights_equal_repeated_rows():
    y, pred = _heavy(150)
    w = np.random.default_rng(5).integers(0, 4, size=y.size)
    rep = np.repeat(np.arange(y.size), w)
    th_w = asrl_thresholds(y, pred, w)
    th_r = asrl_thresholds(y[rep], pred[rep])
    for a, b in zip(th_w, th_r, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert asrl_loss(y, pred, w) == pytest.approx(asrl_loss(y[rep], pred[rep]), rel=1e-12)


def test_multi_output_columns_are_independent():
    y, pred = _heavy(300, k=3)
    y[:, 2] *= 1000.0  # a very different scale
    pred[:, 2] *= 1000.0
    g, h = ASRLObjective()(y, pred)
    assert g.shape == h.shape == (300, 3)
    for j in range(3):
        gj, hj = ASRLObjective()(y[:, j], pred[:, j])
        np.testing.assert_allclose(g[:, j], gj)
        np.testing.assert_allclose(h[:, j], hj)
    per = asrl_loss(y, pred, multioutput="raw_values")
    assert per.shape == (3,) and asrl_loss(y, pred) == pytest.approx(per.mean())


def test_degenerate_residuals():
    obj = ASRLObjective()
    # all residuals zero: gradient 0, hessian 1
    g, h = obj(np.ones(10), np.ones(10))
    assert np.all(g == 0) and np.all(h == 1)
    # all residuals equal: everything in the squared region, gradient = residual
    g, h = obj(np.zeros(10), np.full(10, 2.0))
    np.testing.assert_allclose(g, 2.0)
    # more than q_low of the residuals exactly zero (MAD = 0): still a positive push
    pred = np.zeros(20)
    pred[:4] = [5.0, -3.0, 8.0, 100.0]
    g, h = obj(np.zeros(20), pred)
    assert np.all(np.sign(g[:4]) == np.sign(pred[:4])) and np.all(h > 0)
    # one sample
    g, h = obj(np.array([1.0]), np.array([4.0]))
    assert g[0] == pytest.approx(3.0) and h[0] == 1.0


def test_call_forms_and_pickle():
    y, pred = (v.astype(np.float32) for v in _heavy(100))  # DMatrix stores float32
    w = np.linspace(0.5, 1.5, y.size, dtype=np.float32)
    d = xgb.DMatrix(np.zeros((y.size, 1)), label=y, weight=w)
    obj = pickle.loads(pickle.dumps(ASRLObjective(q_low=0.4, q_high=0.95)))
    g1, h1 = obj(pred, d)
    g2, h2 = obj(y, pred, sample_weight=w)
    np.testing.assert_allclose(g1, g2, rtol=1e-6)
    np.testing.assert_allclose(h1, h2, rtol=1e-6)
    assert obj == ASRLObjective(q_low=0.4, q_high=0.95)
    assert "q_low=0.4" in repr(obj)


def _data(n=300, seed=0, offset=1000.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3)).round(1)  # few distinct values: identical hist cuts
    y = offset + 5 * X[:, 0] - 3 * X[:, 1] ** 2 + rng.standard_t(2, size=n)
    y[: n // 10] += 60  # one-sided gross errors
    return X, y


def test_xgb_train_and_xgbregressor_give_the_same_model():
    X, y = _data()
    base = float(np.median(y))
    booster = xgb.train({"base_score": base, "max_depth": 3, "eta": 0.3, "nthread": 1,
                         "tree_method": "hist"}, xgb.DMatrix(X, label=y), 30, obj=ASRLObjective())
    model = xgb.XGBRegressor(objective=ASRLObjective(), base_score=base, max_depth=3,
                             learning_rate=0.3, n_estimators=30, n_jobs=1,
                             tree_method="hist").fit(X, y)
    np.testing.assert_allclose(booster.predict(xgb.DMatrix(X)), model.predict(X), rtol=1e-6)


def test_sample_weights_behave_like_repeated_rows_in_xgboost():
    X, y = _data(200)
    w = np.random.default_rng(6).integers(1, 4, size=y.size)
    rep = np.repeat(np.arange(y.size), w)
    kw = dict(objective=ASRLObjective(), base_score=float(np.median(y)), max_depth=3,
              n_estimators=20, n_jobs=1, tree_method="hist")
    mw = xgb.XGBRegressor(**kw).fit(X, y, sample_weight=w)
    mr = xgb.XGBRegressor(**kw).fit(X[rep], y[rep])
    np.testing.assert_allclose(mw.predict(X), mr.predict(X), rtol=1e-5)


def test_base_score_trap_targets_far_from_zero():
    X, y = _data(400, offset=1e4)
    clean = 1e4 + 5 * X[:, 0] - 3 * X[:, 1] ** 2
    # A custom objective leaves base_score at 0.5: 20 rounds at eta 0.1 cover only
    # 1 - 0.9**20 = 88% of the distance to 1e4.
    kw = dict(objective=ASRLObjective(), max_depth=3, n_estimators=20, learning_rate=0.1,
              n_jobs=1)
    stuck = xgb.XGBRegressor(**kw).fit(X, y).predict(X)  # base_score left to XGBoost
    good = xgb.XGBRegressor(base_score=float(np.median(y)), **kw).fit(X, y).predict(X)
    assert np.median(np.abs(good - clean)) < 2.0
    assert np.median(np.abs(stuck - clean)) > 100 * np.median(np.abs(good - clean))


def test_robust_to_one_sided_outliers():
    X, y = _data(600)
    clean = 1000 + 5 * X[:, 0] - 3 * X[:, 1] ** 2
    kw = dict(max_depth=3, n_estimators=60, n_jobs=1, base_score=float(np.median(y)))
    asrl = xgb.XGBRegressor(objective=ASRLObjective(), **kw).fit(X, y).predict(X)
    sq = xgb.XGBRegressor(objective="reg:squarederror", **kw).fit(X, y).predict(X)
    assert np.mean(np.abs(asrl - clean)) < 0.5 * np.mean(np.abs(sq - clean))


def test_asrl_loss_as_metric_and_scorer():
    X, y = _data()
    base = float(np.median(y))
    res = {}
    xgb.train({"base_score": base, "nthread": 1, "max_depth": 2}, xgb.DMatrix(X, label=y), 3,
              obj=ASRLObjective(), custom_metric=asrl_loss,
              evals=[(xgb.DMatrix(X, label=y), "train")], evals_result=res, verbose_eval=False)
    assert len(res["train"]["asrl"]) == 3
    model = xgb.XGBRegressor(objective=ASRLObjective(), base_score=base, n_estimators=3,
                             n_jobs=1, eval_metric=asrl_loss)
    model.fit(X, y, eval_set=[(X, y)], verbose=False)
    assert len(model.evals_result()["validation_0"]["asrl_loss"]) == 3
    scorer = make_scorer(asrl_loss, greater_is_better=False)
    assert scorer(model, X, y) == pytest.approx(-asrl_loss(y, model.predict(X)))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,msg", [
    (dict(q_low=0.0), "q_low"), (dict(q_low=1.0), "q_low"), (dict(q_high=1.5), "q_high"),
    (dict(q_low=0.8, q_high=0.8), "smaller than q_high"), (dict(q_low="a"), "q_low"),
    (dict(weighting="foo"), "weighting"),
])
def test_invalid_parameters(kw, msg):
    with pytest.raises(ValueError, match=msg):
        ASRLObjective(**kw)
    with pytest.raises(ValueError, match=msg):
        asrl_loss(np.zeros(3), np.ones(3), **kw)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_labels(bad):
    y = np.zeros(5)
    y[2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        ASRLObjective()(y, np.ones(5))
    with pytest.raises(ValueError, match="NaN or infinity"):
        asrl_loss(y, np.ones(5))


def test_bad_weights_and_shapes():
    obj = ASRLObjective()
    with pytest.raises(ValueError, match="sums to zero"):
        obj(np.zeros(4), np.ones(4), sample_weight=np.zeros(4))
    with pytest.raises(ValueError, match="non-negative"):
        obj(np.zeros(4), np.ones(4), sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="sample_weight has 3"):
        obj(np.zeros(4), np.ones(4), sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match="mismatched shapes"):
        obj(np.zeros(4), np.ones(5))
    with pytest.raises(ValueError, match="mismatched shapes"):
        obj(np.zeros((4, 2)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least one sample"):
        obj(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="multioutput"):
        asrl_loss(np.zeros(3), np.ones(3), multioutput="variance_weighted")


# --------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 3)), min_size=1, max_size=300),
    st.floats(0.001, 0.999),
)
def test_weighted_selection_equals_repeated_rows_property(pairs, q):
    v = np.array([p[0] for p in pairs], dtype=float) / 7.0  # many ties
    w = np.array([p[1] for p in pairs], dtype=float)
    if w.sum() == 0:
        w[0] = 1.0
    rep = np.repeat(v, w.astype(int))
    assert _quantiles(v, w, (q,))[0] == np.quantile(rep, q, method="inverted_cdf")
    assert _quantiles(rep, None, (q,))[0] == np.quantile(rep, q, method="inverted_cdf")
