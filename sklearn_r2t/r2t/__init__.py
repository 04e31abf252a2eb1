"""The Robust Regression Transformer (R2T), the learned estimator.

- :class:`R2TRegressor`: the scikit-learn estimator (``_estimator``);
- the network that predicts per-sample weights or parameters (``_network``);
- training on synthetic data: the stream, the skorch callbacks, the dual loss
  (``_training``);
- inference in batches, the weighted solve and its standard errors (``_inference``),
  and their calibration on synthetic data (``_calibration``);
- the weight files, shipped in ``weights/`` with a model card each (``_weights``).
"""

from ._estimator import R2TRegressor
from ._weights import WeightsError, load_weights, pretrained_path

__all__ = ["R2TRegressor", "WeightsError", "load_weights", "pretrained_path"]
