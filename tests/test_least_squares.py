"""Tests of the classical robust baselines: SoftL1Regressor and SymbolicLeastSquares."""

import numpy as np
import pytest
from sklearn.linear_model import HuberRegressor, LinearRegression, Ridge

from sklearn_r2t import SoftL1Regressor

# ----------------------------------------------------------------- SoftL1Regressor


def _outlier_regression(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    coef = np.array([1.5, -2.0, 0.5])
    y = X @ coef + 3.0 + 0.1 * rng.normal(size=n)
    y[: n // 10] += rng.uniform(20, 60, size=n // 10)  # one-sided gross outliers
    return X, y, coef


def test_soft_l1_regressor_resists_outliers():
    X, y, coef = _outlier_regression()
    ols = LinearRegression().fit(X, y)
    reg = SoftL1Regressor(f_scale="auto").fit(X, y)
    err_ols = np.abs(ols.intercept_ - 3.0)
    err = np.abs(reg.intercept_ - 3.0)
    assert err < 0.05 < err_ols
    np.testing.assert_allclose(reg.coef_, coef, atol=0.05)
    # The estimated scale is the inlier noise sigma (0.1), not the outliers' spread.
    assert 0.07 < reg.f_scale_ < 0.15
    # Comparable to scikit-learn's Huber on the same data.
    huber = HuberRegressor().fit(X, y)
    assert err < 2 * abs(huber.intercept_ - 3.0) + 0.02


def test_soft_l1_regressor_default_scale_is_least_squares_like_on_small_targets():
    # Targets scaled to ~[0, 1]: every residual is below f_scale=1, so the loss is
    # nearly quadratic and the fit nearly that of least squares.
    X, y, _ = _outlier_regression()
    y = y / 1000.0
    reg = SoftL1Regressor().fit(X, y)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ols.coef_, atol=1e-3 * np.abs(ols.coef_).max())


def test_soft_l1_regressor_exact_and_no_intercept():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(50, 4))
    coef = rng.normal(size=4)
    reg = SoftL1Regressor(fit_intercept=False, f_scale="auto").fit(X, X @ coef)
    np.testing.assert_allclose(reg.coef_, coef, atol=1e-8)
    assert reg.intercept_ == 0.0
    np.testing.assert_allclose(reg.predict(X), X @ coef, atol=1e-8)


def test_soft_l1_regressor_sample_weight_is_repetition():
    X, y, _ = _outlier_regression(n=120, seed=2)
    w = np.random.RandomState(3).randint(0, 4, size=len(y))
    a = SoftL1Regressor(alpha=0.3).fit(X, y, sample_weight=w)
    b = SoftL1Regressor(alpha=0.3).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-7)


def test_soft_l1_regressor_alpha_is_ridge_for_large_scale():
    # With a huge f_scale the loss is 2 s^2 (sqrt(1 + (r/s)^2) - 1) ~ r^2: ridge
    # with the same alpha (sklearn's Ridge minimises ||r||^2 + alpha ||coef||^2).
    rng = np.random.RandomState(4)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=80)
    reg = SoftL1Regressor(f_scale=1e6, alpha=5.0).fit(X, y)
    ridge = Ridge(alpha=5.0).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ridge.coef_, rtol=1e-5)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, rtol=1e-5)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(f_scale=0.0), "f_scale"),
        (dict(f_scale=-1.0), "f_scale"),
        (dict(f_scale="mad"), "f_scale"),
        (dict(alpha=-1.0), "alpha"),
        (dict(fit_intercept="yes"), "fit_intercept"),
    ],
)
def test_soft_l1_regressor_invalid_params(params, match):
    X, y, _ = _outlier_regression(n=20)
    with pytest.raises(ValueError, match=match):
        SoftL1Regressor(**params).fit(X, y)


def test_soft_l1_regressor_bad_input_and_no_mutation():
    X, y, _ = _outlier_regression(n=30)
    X0, y0 = X.copy(), y.copy()
    SoftL1Regressor(f_scale="auto").fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    Xbad = X.copy()
    Xbad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SoftL1Regressor().fit(Xbad, y)
    Xbad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SoftL1Regressor().fit(Xbad, y)
    with pytest.raises(ValueError, match="0 sample"):
        SoftL1Regressor().fit(X[:0], y[:0])
    with pytest.raises(ValueError):
        SoftL1Regressor().fit(np.array([["a", "b"]] * 3), [1.0, 2.0, 3.0])
