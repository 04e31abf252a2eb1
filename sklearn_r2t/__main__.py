"""``python -m sklearn_r2t``: the ``sklearn-r2t`` command line (see ``sklearn_r2t._cli``)."""

import sys

from ._cli import build_parser, main, plot_demo, run_demo, run_fit

__all__ = ["build_parser", "main", "plot_demo", "run_demo", "run_fit"]

if __name__ == "__main__":
    sys.exit(main())
