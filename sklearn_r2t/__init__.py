"""sklearn-r2t: robust regression under structured, non-Gaussian noise.

Two methods, both scikit-learn compatible:

- the Robust Regression Transformer (:class:`R2TRegressor`), which reads a noisy
  sequence and predicts the parameters of a fixed symbolic equation;
- the Adaptive Segmented Robust Loss (:class:`ASRLObjective`, :class:`ASRLRegressor`,
  :class:`ASRLLoss`), a piecewise robust loss for gradient boosting and torch.

Classical baselines (:class:`SymbolicLeastSquares`, :class:`SoftL1Regressor`) share the
same API so that every method swaps into a Pipeline or a GridSearchCV.
"""

__version__ = "0.1.0"

from ._asrl import ASRLObjective, ASRLThresholds, asrl_loss  # noqa: E402
from ._asrl_regressor import ASRLRegressor  # noqa: E402
from ._asrl_torch import ASRLLoss  # noqa: E402
from ._least_squares import SoftL1Regressor, SymbolicLeastSquares  # noqa: E402
from ._r2t import R2TRegressor  # noqa: E402

__all__ = [
    "__version__",
    "ASRLLoss",
    "ASRLObjective",
    "ASRLRegressor",
    "ASRLThresholds",
    "asrl_loss",
    "R2TRegressor",
    "SoftL1Regressor",
    "SymbolicLeastSquares",
]
