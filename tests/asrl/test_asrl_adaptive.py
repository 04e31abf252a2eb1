"""Adaptive and per-side ASRL thresholds; finite results for extreme inputs; input types."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_r2t import ASRLObjective, ASRLThresholds, asrl_loss
from sklearn_r2t.asrl._loss import _irls_weight, _rho
from sklearn_r2t.asrl._thresholds import asrl_thresholds

ADAPTIVE = dict(thresholds="adaptive", per_side=True)


def test_gaussian_residuals_get_a_median_core_and_a_far_tail():
    r = np.random.default_rng(0).normal(scale=2.0, size=20000)
    th = asrl_thresholds(np.zeros_like(r), r, **ADAPTIVE)
    # Gaussian: heaviness 1, delta1 = 0.6745 sigma, log region beyond 3 sigma per side.
    assert th.delta1[0] == pytest.approx(0.6745 * 2.0, rel=0.1)
    for d2 in (th.delta2[0], th.delta2_neg[0]):
        assert d2 == pytest.approx(3 * 2.0, rel=0.06)
    share_log = np.mean(np.abs(r) > th.delta2[0])
    q_th = asrl_thresholds(np.zeros_like(r), r)  # quantile rule: 20 % in the log region
    assert share_log < 0.01 < 0.19 < np.mean(np.abs(r) > q_th.delta2[0])


def test_heavier_tails_shrink_the_core():
    rng = np.random.default_rng(1)
    gauss = rng.normal(size=20000)
    cauchy = rng.standard_cauchy(size=20000)
    th_g = asrl_thresholds(np.zeros(20000), gauss, thresholds="adaptive")
    th_c = asrl_thresholds(np.zeros(20000), cauchy, thresholds="adaptive")
    # delta1 in robust-scale units: 0.6745 for Gaussian, far smaller for Cauchy
    assert th_g.delta1[0] / th_g.scale[0] == pytest.approx(0.6745, rel=0.1)
    assert th_c.delta1[0] / th_c.scale[0] < 0.2


def test_one_sided_errors_only_widen_their_own_side():
    rng = np.random.default_rng(2)
    r = rng.normal(size=5000)
    bad = rng.choice(5000, 1000, replace=False)
    r[bad] -= rng.uniform(4, 13, size=1000)  # r = pred - y: y += big gives r < 0
    sym = asrl_thresholds(np.zeros_like(r), r, thresholds="adaptive")
    side = asrl_thresholds(np.zeros_like(r), r, **ADAPTIVE)
    assert sym.is_symmetric() and not side.is_symmetric()
    assert side.delta2_neg[0] > side.delta2[0]  # contaminated side is wider ...
    assert side.delta2[0] < sym.delta2[0]  # ... and the clean side tighter than symmetric
    # the core is sized from the clean side: near 0.6745 (the clean sigma is 1)
    assert 0.5 < side.delta1[0] < 0.9
    # most gross errors (4 to 13 out) sit in the log region of their side
    assert np.mean(-r[bad] > side.delta2_neg[0]) > 0.75


def test_asymmetric_loss_is_continuous_and_gradient_matches_fd():
    th = ASRLThresholds(*(np.array([v]) for v in (1.0, 2.0, 0.7, 1.0, 1.0, 1.0, 5.0, 3.0)))
    eps = 1e-7
    for t in (1.0, 2.0, -1.0, -5.0):
        r = np.array([[t - eps], [t + eps]])
        rho = _rho(r, th)[:, 0]
        psi = (_irls_weight(r, th) * r)[:, 0]
        assert abs(rho[1] - rho[0]) < 1e-5 and abs(psi[1] - psi[0]) < 1e-5
    rng = np.random.default_rng(3)
    y = rng.standard_t(2, size=400)
    y[:60] += 20
    pred = rng.normal(scale=0.3, size=400)
    obj = ASRLObjective(**ADAPTIVE)
    fixed = obj.thresholds(y, pred)
    grad, hess = obj.gradient_hessian(y, pred)
    assert np.all(hess > 0) and np.all(hess <= 1.0)
    h = 1e-6
    for i in (0, 5, 100, 399):
        up, dn = pred.copy(), pred.copy()
        up[i] += h
        dn[i] -= h
        fd = (asrl_loss(y, up, thresholds=fixed) - asrl_loss(y, dn, thresholds=fixed)) / (2 * h)
        assert fd * 400 == pytest.approx(grad[i], rel=1e-4, abs=1e-6)


def test_weights_equal_repeated_rows_for_the_adaptive_rule():
    rng = np.random.default_rng(4)
    y, pred = rng.standard_t(3, size=300), rng.normal(size=300)
    w = rng.integers(0, 4, size=300).astype(float)
    rep = np.repeat(np.arange(300), w.astype(int))
    a = asrl_thresholds(y, pred, w, **ADAPTIVE)
    b = asrl_thresholds(y[rep], pred[rep], **ADAPTIVE)
    for f in ("delta1", "delta2", "delta2_neg", "scale"):
        assert getattr(a, f)[0] == pytest.approx(getattr(b, f)[0], rel=1e-12)


@pytest.mark.parametrize("rule", [{}, ADAPTIVE])
@pytest.mark.parametrize("mag", [1e-200, 1.0, 3.5e153, 1e300, 1.7e308])
def test_gradient_and_hessian_stay_finite_for_any_finite_input(rule, mag):
    rng = np.random.default_rng(5)
    r = rng.standard_t(2, size=200)
    r = r / np.max(np.abs(r)) * mag
    grad, hess = ASRLObjective(**rule).gradient_hessian(np.zeros(200), r)
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess)) and np.all(hess > 0)
    th = asrl_thresholds(np.zeros(200), r, **rule)
    assert all(np.all(np.isfinite(f)) for f in th if f is not None)
    if mag <= 1e150:  # the loss value itself is representable
        assert np.isfinite(asrl_loss(np.zeros(200), r, **rule))
    else:  # a finite value or a clear error
        try:
            assert np.isfinite(asrl_loss(np.zeros(200), r, **rule))
        except ValueError as exc:
            assert "overflows" in str(exc)


def test_statistics_are_scale_equivariant_through_the_rescaling():
    r = np.random.default_rng(6).standard_t(3, size=500)
    small = asrl_thresholds(np.zeros(500), r, **ADAPTIVE)
    huge = asrl_thresholds(np.zeros(500), r * 2.0**600, **ADAPTIVE)
    for f in ("delta1", "delta2", "tau", "delta2_neg", "tau_neg"):
        assert getattr(huge, f)[0] == pytest.approx(getattr(small, f)[0] * 2.0**600, rel=1e-12)


@pytest.mark.parametrize("bad,exc", [
    ("abc", TypeError), (["a", "b"], TypeError), (np.array([1 + 2j, 3j]), TypeError),
    (None, TypeError),
])
def test_non_numeric_input_gives_type_error(bad, exc):
    with pytest.raises(exc, match="real"):
        asrl_loss(bad, np.zeros(2))
    if bad is not None:  # None is "no weights"
        with pytest.raises(exc, match="real"):
            ASRLObjective()(np.zeros(2), np.zeros(2), sample_weight=bad)


@pytest.mark.parametrize("kw,msg", [
    (dict(thresholds="foo"), "thresholds"), (dict(per_side="yes"), "per_side"),
    (dict(weighting=3), "weighting"),
])
def test_new_parameters_are_validated(kw, msg):
    with pytest.raises(ValueError, match=msg):
        ASRLObjective(**kw)


def test_fixed_thresholds_are_validated():
    th = ASRLThresholds(*(np.array([v]) for v in (1.0, 0.5, 1.0, 1.0, 1.0)))
    with pytest.raises(ValueError, match="delta2 must be at least delta1"):
        asrl_loss(np.zeros(3), np.ones(3), thresholds=th)
    th = ASRLThresholds(*(np.array([v]) for v in (1.0, 2.0, -1.0, 1.0, 1.0)))
    with pytest.raises(ValueError, match="tau must be positive"):
        asrl_loss(np.zeros(3), np.ones(3), thresholds=th)
