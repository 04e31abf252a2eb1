"""Command line: ``sklearn-r2t {fit,compare,demo}`` (also ``python -m sklearn_r2t``).

- ``fit FILE``: read a recording (CSV/TSV/Parquet with a timestamp column, or an
  Actiwatch ``.AWD`` file), resample it onto the model's grid, cut it into windows
  (days by default), fit the chosen method(s) to every window and write a tidy table
  of parameters (one row per window, method, channel and parameter) and a figure.
- ``compare FILE``: the same with every method of the registry, side by side.
- ``demo``: every method on held-out synthetic data with known truth; table + figure.

Every argument and output path is checked before any data is read or fitted; errors
print one line (``sklearn-r2t: error: ...``) and exit with status 2 (usage) or 1
(data that cannot be read or fitted).
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
