"""Leaf values solved to their ASRL M-estimates, and the efficient threshold rule."""

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from sklearn_r2t import ASRLRegressor, asrl_loss
from sklearn_r2t.asrl._leaves import solve_leaf_values
from sklearn_r2t.asrl._loss import _rho
from sklearn_r2t.asrl._thresholds import asrl_thresholds


def _leaf_objective(v, r, w, th, lam, alpha):
    return float(np.sum(w * _rho((v - r)[:, None], th)[:, 0]) + 0.5 * lam * v * v
                 + alpha * abs(v))


def _scalar_minimum(r, w, th, lam, alpha):
    """Direct scalar minimisation, bracketed around the leaf's median residual."""
    med = float(np.median(r))
    span = float(np.subtract(*np.percentile(r, [75, 25]))) + 1e-12
    res = optimize.minimize_scalar(_leaf_objective, args=(r, w, th, lam, alpha),
                                   bounds=(med - 2 * span, med + 2 * span), method="bounded",
                                   options={"xatol": 1e-10})
    return res.x


@pytest.mark.parametrize("rule", ["quantile", "efficient"])
@pytest.mark.parametrize("lam,alpha", [(0.0, 0.0), (1.0, 0.0), (1.0, 2.0)])
def test_solve_leaf_values_reaches_the_scalar_minimum(rule, lam, alpha):
    rng = np.random.default_rng(0)
    n = 600
    leaf = rng.integers(0, 3, n)
    r = np.array([0.0, 3.0, -2.0])[leaf] + rng.normal(size=n)
    r[rng.random(n) < 0.15] += 25.0  # one-sided gross errors in every leaf
    w = rng.uniform(0.5, 2.0, n)
    th = asrl_thresholds(np.zeros(n), -r, w, thresholds=rule)
    v = solve_leaf_values(r, w, leaf, 3, th, lam, alpha, max_iter=200)
    for j in range(3):
        m = leaf == j
        want = _scalar_minimum(r[m], w[m], th, lam, alpha)
        f_got = _leaf_objective(v[j], r[m], w[m], th, lam, alpha)
        f_want = _leaf_objective(want, r[m], w[m], th, lam, alpha)
        assert f_got <= f_want + 1e-9 * abs(f_want)
        assert v[j] == pytest.approx(want, abs=1e-4)


def test_first_irls_step_is_the_newton_step_and_more_steps_never_rise():
    rng = np.random.default_rng(1)
    r = np.concatenate([rng.normal(size=200), rng.normal(30, 1, size=40)])
    leaf = np.zeros(r.size, dtype=np.int64)
    th = asrl_thresholds(np.zeros(r.size), -r)
    one = solve_leaf_values(r, None, leaf, 1, th, 1.0, max_iter=1)
    from sklearn_r2t.asrl._loss import _irls_weight

    h = _irls_weight(-r[:, None], th)[:, 0]
    assert one[0] == pytest.approx(np.sum(h * r) / (np.sum(h) + 1.0))
    values = [_leaf_objective(solve_leaf_values(r, None, leaf, 1, th, 1.0, max_iter=k)[0],
                              r, np.ones_like(r), th, 1.0, 0.0) for k in range(1, 12)]
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < values[0]


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm"])
def test_stump_leaves_land_at_their_m_estimates(booster):
    pytest.importorskip(booster)
    rng = np.random.default_rng(2)
    n = 400
    X = rng.uniform(-1, 1, size=(n, 1))
    y = np.where(X[:, 0] > 0, 5.0, 0.0) + rng.normal(size=n)
    y[rng.random(n) < 0.2] += 40.0
    kw = dict(booster=booster, n_estimators=1, learning_rate=1.0, max_depth=1, reg_lambda=1.0,
              min_child_weight=0.0, n_jobs=1, random_state=0)
    model = ASRLRegressor(leaf_solve=True, **kw).fit(X, y)
    stepped = ASRLRegressor(leaf_solve=False, **kw).fit(X, y)
    base = float(model.base_score_[0])
    r = y - base  # residuals before the only tree
    th = asrl_thresholds(y - base, np.zeros(n))
    pred = model.predict(X)
    for side in (X[:, 0] <= 0, X[:, 0] > 0):
        leaf_pred = np.unique(np.round(pred[side], 4))
        assert leaf_pred.size == 1  # the stump split at 0
        want = _scalar_minimum(r[side], np.ones(side.sum()), th, 1.0, 0.0)
        assert leaf_pred[0] - base == pytest.approx(want, abs=2e-3 * np.std(y))
    # The one-step leaves stop short of the M-estimate.
    assert np.mean(np.abs(stepped.predict(X) - pred)) > 1e-2


def _gaussian_efficiency(d1, d2, tau):
    def psi(a):
        a = abs(a)
        return a if a <= d1 else d1 if a <= d2 else d1 * tau / (tau + a - d2)

    def dpsi(a):
        a = abs(a)
        return 1.0 if a <= d1 else 0.0 if a <= d2 else -d1 * tau / (tau + a - d2) ** 2

    pts = [-d2, -d1, d1, d2]
    e1 = integrate.quad(lambda x: dpsi(x) * stats.norm.pdf(x), -40, 40, points=pts, limit=200)[0]
    e2 = integrate.quad(lambda x: psi(x) ** 2 * stats.norm.pdf(x), -40, 40, points=pts,
                        limit=200)[0]
    return e1 * e1 / e2


@pytest.mark.parametrize("per_side", [False, True])
def test_efficient_thresholds_keep_95_percent_gaussian_efficiency(per_side):
    rng = np.random.default_rng(3)
    r = rng.normal(size=100_000)
    th = asrl_thresholds(np.zeros_like(r), r, thresholds="efficient", per_side=per_side)
    (d1, d2, tau), (d1n, d2n, taun) = th.sides()
    sigma = 1.0  # the true scale of the residuals
    for a, b, c in ((d1, d2, tau), (d1n, d2n, taun)):
        assert _gaussian_efficiency(a[0] / sigma, b[0] / sigma, c[0] / sigma) >= 0.95
    assert np.mean(np.abs(r) <= d1[0]) >= 0.85  # the bulk is in the squared region
    # The paper's quantile rule treats half of a clean sample as beyond the core.
    q = asrl_thresholds(np.zeros_like(r), r, thresholds="quantile")
    assert _gaussian_efficiency(q.delta1[0], q.delta2[0], q.tau[0]) < 0.8


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm", "catboost"])
@pytest.mark.parametrize("rule", ["quantile", "efficient"])
def test_one_sided_gross_errors_do_not_break_the_solved_fit(booster, rule):
    pytest.importorskip(booster)
    rng = np.random.default_rng(4)
    n = 600
    X = rng.uniform(-2, 2, size=(n, 2))
    f = 10 + 3 * X[:, 0] - 2 * X[:, 1]
    y = f + rng.normal(size=n)
    bad = rng.random(n) < 0.3
    y[bad] += rng.uniform(30, 100, bad.sum())
    kw = dict(booster=booster, n_estimators=60, learning_rate=0.2, max_depth=3, n_jobs=1,
              random_state=0, leaf_solve=True)
    pred = ASRLRegressor(thresholds=rule, **kw).fit(X, y).predict(X)
    assert np.median(np.abs(pred - f)) < 1.0
    assert np.mean(pred - f) < 2.5  # a squared-error fit sits about 0.3 * 65 = 20 above


def test_lightgbm_model_predicts_the_training_margin_the_solver_saw():
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.standard_t(1.5, size=300)
    m = ASRLRegressor(booster="lightgbm", n_estimators=20, max_depth=2, n_jobs=1,
                      random_state=0, leaf_solve=True).fit(X, y)
    assert m.leaf_solve_
    # An ASRL loss at least as low as the stepped model's on the training data.
    s = ASRLRegressor(booster="lightgbm", n_estimators=20, max_depth=2, n_jobs=1,
                      random_state=0, leaf_solve=False).fit(X, y)
    assert asrl_loss(y, m.predict(X)) <= asrl_loss(y, s.predict(X)) * 1.01


def test_leaf_solve_with_eval_set():
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] + rng.normal(size=200)
    ev = [(X[:50], y[:50])]
    assert ASRLRegressor(n_estimators=5, n_jobs=1, leaf_solve="auto").fit(X, y).leaf_solve_
    m = ASRLRegressor(n_estimators=5, n_jobs=1, leaf_solve="auto").fit(X, y, eval_set=ev)
    assert m.leaf_solve_ is False  # "auto": the libraries' eval caches miss solved leaves
    with pytest.raises(ValueError, match="eval_set"):
        ASRLRegressor(n_estimators=5, n_jobs=1, leaf_solve=True).fit(X, y, eval_set=ev)
    with pytest.raises(ValueError, match="leaf_solve"):
        ASRLRegressor(leaf_solve="yes").fit(X, y)


def test_multi_output_xgboost_solves_each_output_and_pickles():
    import pickle

    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, size=(300, 2))
    F = np.c_[3 * X[:, 0], -2 * X[:, 1] + 10]
    Y = F + rng.normal(scale=0.3, size=F.shape)
    Y[:40, 0] += 30.0
    Y[40:80, 1] -= 30.0
    kw = dict(n_estimators=40, learning_rate=0.3, max_depth=2, n_jobs=1, random_state=0)
    m = ASRLRegressor(leaf_solve=True, **kw).fit(X, Y)
    s = ASRLRegressor(leaf_solve=False, **kw).fit(X, Y)
    assert m.leaf_solve_ and m.predict(X).shape == (300, 2)
    err = np.median(np.abs(m.predict(X) - F), axis=0)
    assert np.all(err < 0.5)
    # Solved leaves fit the training data at least as well under the loss they minimise.
    assert asrl_loss(Y, m.predict(X)) <= asrl_loss(Y, s.predict(X))
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(again.predict(X), m.predict(X))


def test_leaves_larger_than_the_cap_are_solved_on_a_sample():
    from sklearn_r2t.asrl import _leaves
    from sklearn_r2t.asrl._objective import ASRLObjective

    rng = np.random.default_rng(8)
    n = 6000
    y = rng.standard_t(2, size=n) + 2.0
    leaf_ids = np.where(rng.random(n) < 0.5, 3, 4)  # two leaves, node ids 3 and 4

    def run(cap):
        solver = _leaves.LeafSolver(ASRLObjective(), y, None, 1.0, 0.0, 0.0,
                                    lambda model, it: leaf_ids, max_rows_per_leaf=cap)
        solver(y, np.zeros(n))
        return solver.after_iteration(None, 0)[0]

    ids_full, full = run(10**9)
    ids_cap, capped = run(500)
    assert ids_full.tolist() == ids_cap.tolist() == [3, 4]
    assert np.allclose(capped, full, atol=0.15)
    assert not np.allclose(capped, full, atol=1e-9)  # it did subsample


def test_lightgbm_fitted_model_pickles_without_training_state():
    import pickle

    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(9)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] + rng.normal(size=200)
    m = ASRLRegressor(booster="lightgbm", n_estimators=10, n_jobs=1, random_state=0,
                      leaf_solve=True).fit(X, y)
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(again.predict(X), m.predict(X))


def test_auto_thresholds_pick_a_rule_on_a_held_out_split_and_refit():
    rng = np.random.default_rng(10)
    X = rng.uniform(-2, 2, size=(300, 2))
    y = 5 + 2 * X[:, 0] + rng.normal(size=300)
    y[:60] += 40.0
    kw = dict(n_estimators=30, learning_rate=0.2, max_depth=3, n_jobs=1, random_state=0)
    m = ASRLRegressor(thresholds="auto", **kw).fit(X, y)
    assert set(m.threshold_scores_) == {"quantile", "efficient"}
    assert m.thresholds_ == min(m.threshold_scores_, key=m.threshold_scores_.get)
    assert m.get_params()["thresholds"] == "auto"  # the parameter is untouched
    direct = ASRLRegressor(thresholds=m.thresholds_, **kw).fit(X, y)
    np.testing.assert_array_equal(m.predict(X), direct.predict(X))
    with pytest.raises(ValueError, match="at least 10 samples"):
        ASRLRegressor(thresholds="auto").fit(X[:5], y[:5])
