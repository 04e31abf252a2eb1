"""``python -m sklearn_r2t``: the ``sklearn-r2t`` command line (see ``sklearn_r2t.cli``)."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
