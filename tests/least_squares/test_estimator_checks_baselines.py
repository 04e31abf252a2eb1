"""scikit-learn's estimator checks for the classical baselines."""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_r2t import SoftL1Regressor, SymbolicLeastSquares
from sklearn_r2t.symbolic import Cosinor, FunctionModel


class ShortCosinor(Cosinor):
    """A cosinor that accepts sequences of any length (a user's choice of
    ``min_timesteps``): scikit-learn's checks generate tabular data with as few as
    1 to 3 columns, which :class:`HeartRate` rightly refuses as too short."""

    min_timesteps = 1


def _decay(p, t):
    return p[:, :1] * torch.exp(-t / p[:, 1:2]) + p[:, 2:3]


class ShortDecay(FunctionModel):
    """An exponential decay (no linear basis) that accepts any length, as above."""

    min_timesteps = 1

    def __init__(self):
        super().__init__(_decay, bounds=[(0.4, 0.8), (1.0, 10.0), (0.0, 0.2)])


ESTIMATORS = [
    SoftL1Regressor(),
    SoftL1Regressor(f_scale="auto", alpha=0.1),
    SymbolicLeastSquares(),
    # One start and few evaluations keep the checks fast on their random data.
    SymbolicLeastSquares(ShortCosinor(), loss="cauchy", f_scale="auto", n_restarts=1, max_nfev=30),
    SymbolicLeastSquares(ShortCosinor(), loss="bisquare", f_scale="auto", outlier_side="above"),
    SymbolicLeastSquares(ShortCosinor(), loss="welsch", f_scale=0.05, solver="scipy", max_nfev=30),
    # No linear basis: the batched Levenberg-Marquardt engine.
    SymbolicLeastSquares(ShortDecay(), loss="bisquare", f_scale="auto", n_restarts=2),
]

# These checks fit data with only 2 or 3 columns (time steps). The default model,
# HeartRate, needs more than its 3 parameters to identify them and raises a ValueError
# naming the problem: the intended behaviour (issue 2, section 6). The same checks
# pass on the ShortCosinor instance above, which accepts such short sequences.
_TOO_SHORT = (
    "the check's data has only 2 or 3 columns (time steps), too short for HeartRate's "
    "3 parameters: a ValueError by design. Passes with ShortCosinor (any length)."
)
_SHORT_DATA_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_pipeline_consistency",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, SymbolicLeastSquares) and estimator.model is None:
        return dict.fromkeys(_SHORT_DATA_CHECKS, _TOO_SHORT)
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
