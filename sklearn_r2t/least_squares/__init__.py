"""Classical robust baselines fitted with :func:`scipy.optimize.least_squares`.

- :class:`SymbolicLeastSquares`: robust fits of a symbolic model to every sequence
  (the batched MM-type solver of :func:`fit_sequences`), the classical counterpart
  of :class:`~sklearn_r2t.R2TRegressor` with the same fit/transform/predict API.
- :class:`SoftL1Regressor`: a linear regressor for tabular data with a robust loss,
  beside scikit-learn's :class:`~sklearn.linear_model.HuberRegressor`.
"""

from ._sequence_fit import fit_sequences
from ._soft_l1 import SoftL1Regressor
from ._symbolic_least_squares import SymbolicLeastSquares

__all__ = ["SymbolicLeastSquares", "SoftL1Regressor", "fit_sequences"]
