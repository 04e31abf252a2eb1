"""scikit-learn's estimator checks for the classical baselines."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_r2t import SoftL1Regressor

ESTIMATORS = [
    SoftL1Regressor(),
    SoftL1Regressor(f_scale="auto", alpha=0.1),
]


def _expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
