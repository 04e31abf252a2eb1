"""The entry point: argument types, the parser, and the dispatch to the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .._version import __version__
from ._cohort import add_cohort_arguments, is_cohort, run_cohort
from ._common import MODEL_NAMES, CLIError, _models, method_registry
from ._demo import run_demo
from ._fit import run_fit


def _n_jobs(text: str) -> int:
    value = int(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be -1 (all cores) or >= 1, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _nonnegative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**32 - 1], got {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def _hour(text: str) -> float:
    value = float(text)
    if not 0 <= value < 24:
        raise argparse.ArgumentTypeError(f"must be in [0, 24), got {value}")
    return value


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sklearn-r2t",
        description="Robust regression under structured noise: R2T, ASRL and baselines.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name in ("fit", "compare"):
        p = sub.add_parser(
            name,
            help=("fit a symbolic model to every day of a recording" if name == "fit" else
                  "fit every method to every day of a recording, side by side"),
            description=(
                "Read FILE (CSV/TSV/TXT/Parquet with a timestamp column, also .gz/.zip, "
                "vendor exports with metadata lines; Actiwatch .AWD; .agd/.mtn through "
                "pyActigraphy), resample onto the model's grid, cut into windows (days, "
                "in the recording's local time), fit "
                + ("the chosen method(s)" if name == "fit" else "every method")
                + " and write a tidy table of parameters per window (skipped windows "
                "too, with the reason) plus a figure."
            ),
        )
        p.add_argument("files", metavar="FILE", nargs="*",
                       help="the recording; several, a folder or a glob pattern "
                            "('cohort/*.csv') make a cohort run (see below)")
        p.add_argument("--model", choices=MODEL_NAMES, default="cosinor",
                       help="symbolic model: a physical one (values in its units: bpm, "
                            "degC, %%) or 'cosinor', a 24-h rhythm in any unit "
                            "(default: cosinor)")
        if name == "fit":
            p.add_argument("--method", action="append", metavar="NAME",
                           help="method to fit (repeat for several); names from "
                                "`sklearn-r2t compare --list-methods` (default: r2t)")
        p.add_argument("--list-methods", action="store_true",
                       help="print the method names for --model and exit")
        p.add_argument("--outlier-side", choices=("both", "above", "below"), default=None,
                       help="side of the artefacts, for the methods that take it")
        p.add_argument("--columns", nargs="+", metavar="COL",
                       help="signal column(s); default: the first (each is fitted apart)")
        p.add_argument("--time-column", default=None,
                       help="timestamp column of a table (default: the first that parses, "
                            "or a date column beside a time-of-day column)")
        p.add_argument("--date-column", default=None,
                       help="with a time column of times of day only (HH:MM:SS): the "
                            "column with each row's date or day number")
        p.add_argument("--timezone", default=None, metavar="ZONE",
                       help="IANA zone whose civil days define the windows, e.g. "
                            "Europe/Berlin; naive times are taken as written in it "
                            "(default: the file's own zone or offsets; naive times as "
                            "written)")
        p.add_argument("--start-hour", type=_hour, default=0.0,
                       help="clock hour at which windows start (default: 0, midnight)")
        p.add_argument("--min-coverage", type=_fraction, default=0.5,
                       help="skip windows with less recorded; they stay in the table with "
                            "status 'skipped' (default: 0.5)")
        p.add_argument("--n-timesteps", type=_positive_int, default=96,
                       help="grid points per window (default: 96, one every 15 min)")
        stem = "{stem}"
        p.add_argument("--output", default=None,
                       help=f"table: .csv, .tsv or .parquet (default: {stem}_{name}.csv); "
                            f"for a cohort, a folder (default: {name}_cohort)")
        p.add_argument("--figure", default=None,
                       help=f"figure: .png, .pdf or .svg (default: {stem}_{name}.png)")
        p.add_argument("--intervals", type=_nonnegative_int, default=0, metavar="N",
                       help="add columns lower/upper: 5th-95th percentiles over N refits "
                            "that each drop a random 30%% of the samples (how much an "
                            "estimate depends on which samples were recorded; not a "
                            "calibrated confidence interval). Default: 0, none")
        p.add_argument("--random-state", type=_seed, default=0,
                       help="seed of --intervals (default: 0)")
        p.add_argument("--no-figure", action="store_true", help="write no figure")
        p.add_argument("--max-windows", type=_positive_int, default=28,
                       help="windows drawn in the figure, seven to a row (default: 28)")
        p.add_argument("--n-jobs", type=_n_jobs, default=None,
                       help="joblib workers over windows (default: 1; -1: all cores)")
        p.add_argument("--batch-size", type=_positive_int, default=50, help=argparse.SUPPRESS)
        p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        add_cohort_arguments(p)
        p.set_defaults(func=run_fit)

    demo = sub.add_parser(
        "demo",
        help="compare the robust fits on synthetic wearable data (table + figure)",
        description=(
            "Fit every method of the registry (least squares at scipy's defaults and "
            "with a robust scale, Tukey's bisquare, R2T's two heads) to held-out synthetic "
            "sequences with the 'combined' structured noise; print a table and save a "
            "figure."
        ),
    )
    demo.add_argument("--n-sequences", type=_positive_int, default=200,
                      help="number of held-out test sequences (default: 200)")
    demo.add_argument("--random-state", type=_seed, default=0,
                      help="seed of the test set (default: 0)")
    demo.add_argument("--output", default="r2t_demo.png",
                      help="figure path, .png/.pdf/.svg (default: ./r2t_demo.png)")
    demo.add_argument("--n-jobs", type=_n_jobs, default=None,
                      help="joblib workers over sequences (default: 1; -1: all cores)")
    demo.add_argument("--model", choices=[m for m in MODEL_NAMES], default="heart_rate",
                      help="built-in symbolic model (default: heart_rate)")
    demo.add_argument("--n-timesteps", type=_positive_int, default=96,
                      help="samples per sequence (default: 96, one every 15 min)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.set_defaults(func=run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sklearn_r2t`` and the ``sklearn-r2t`` script.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name (``sys.argv[1:]`` when None), e.g.
        ``["fit", "day.csv", "--model", "heart_rate"]``.

    Returns
    -------
    status : int
        0 on success, 1 when the data cannot be read or fitted, 2 for bad arguments
        (argparse's own usage errors exit with 2 through ``SystemExit``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "list_methods", False):
            fit_model = _models()["heart_rate" if args.model == "cosinor" else args.model]()
            for slug, (label, _) in method_registry(fit_model).items():
                print(f"{slug:24s} {label}")
            return 0
        if args.command in ("fit", "compare"):
            if not args.files:
                parser.error(f"{args.command}: the following arguments are required: FILE")
            if is_cohort(args):
                return run_cohort(args)
            args.file = args.files[0]
            stem = Path(args.file).stem
            args.output = args.output or f"{stem}_{args.command}.csv"
            args.figure = args.figure or f"{stem}_{args.command}.png"
        return args.func(args)
    except CLIError as exc:
        print(f"sklearn-r2t: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("sklearn-r2t: interrupted", file=sys.stderr)
        return 130
