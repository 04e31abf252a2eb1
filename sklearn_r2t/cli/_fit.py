"""``sklearn-r2t fit`` and ``compare``.

A recording is read, resampled, cut into windows and fitted; the parameters are
written as a tidy table, the fits as a figure.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ._common import (
    FIGURE_SUFFIXES,
    TABLE_SUFFIXES,
    CLIError,
    _check_output,
    _models,
    _require,
    method_registry,
)
from ._plots import plot_recording

# ``cosinor`` (any 24-hour rhythm in any unit) is fitted in the recording's own units:
# R2T's generic Cosinor weights read robustly standardised days, and the classical fits
# get a box of mesors and amplitudes (``_cosinor_for``) that no plausible day reaches.
# Windows whose R2T score (``score_samples``) is below this are counted as flagged.
_FLAG_LEVEL = 0.05


# --------------------------------------------------------------------------- fit / compare
def _select_methods(args, registry: dict) -> list[tuple[str, str, object]]:
    if args.command == "compare":
        names = list(registry)
    else:
        names = args.method or [("r2t" if "r2t" in registry else "cauchy-auto")]
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise CLIError(
            f"unknown --method {unknown[0]!r} for this model; choose from: "
            f"{', '.join(registry)}", status=2,
        )
    chosen = [(n, *registry[n]) for n in dict.fromkeys(names)]
    if args.outlier_side is not None:
        takes = [(n, lab, est) for n, lab, est in chosen if "outlier_side" in est.get_params()]
        if not takes:
            raise CLIError(
                "--outlier-side: none of the chosen methods takes outlier_side "
                f"({', '.join(n for n, _, _ in chosen)})", status=2,
            )
        for _, _, est in takes:
            est.set_params(outlier_side=args.outlier_side)
    return chosen


def _cosinor_for(X):
    """A 24-hour ``Cosinor`` in the units of the windows ``X``: its output range is
    the recording's central 99 % and its box 10 such spans wide, so that the bounds
    never clip a fit (R2T's generic weights ignore them; the classical fits use them)."""
    from ..symbolic import Cosinor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN input: checked before
        lo, hi = np.nanquantile(X, [0.005, 0.995])
    span = float(hi - lo) or max(abs(float(lo)), 1.0)
    return Cosinor(mesor_bounds=(lo - 5 * span, hi + 5 * span),
                   amplitude_bounds=(0.0, 10 * span), output_range=(lo, lo + span))


class NoWindowsError(CLIError):
    """A recording without one window of enough coverage (a cohort skips it)."""


def fit_setup(args: argparse.Namespace):
    """The model to fit and the chosen ``(slug, label, estimator)`` methods."""
    model_cls = _models()[args.model]
    fit_model = model_cls()  # cosinor: one in each channel's units, in fit_recording
    registry = method_registry(fit_model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps)
    return fit_model, _select_methods(args, registry)


def read_for_fit(src, fit_model, args, log=None):
    """Read a recording and choose its signal column(s): the reading step of ``fit``,
    ``compare`` and their cohort runs (:mod:`sklearn_r2t.cohort`).

    Returns
    -------
    frame : pandas.DataFrame
    columns : list of str
    """
    from ..recordings import default_signal, read_recording

    log = sys.stderr if log is None else log

    try:
        frame = read_recording(src, time_column=args.time_column,
                               date_column=args.date_column, timezone=args.timezone)
    except (ValueError, OSError, UnicodeDecodeError, csv.Error) as exc:
        message = str(exc).removeprefix(f"{src}: ")  # the path is said once
        raise CLIError(f"cannot read {src}: {message}") from exc
    n_ch = fit_model.n_channels
    if args.columns:
        columns = args.columns
    elif n_ch == 1:
        columns = [default_signal(frame)]
    else:
        columns = list(frame.columns)[:n_ch]
    if n_ch > 1 and len(columns) != n_ch:
        raise CLIError(f"--model {args.model} needs {n_ch} --columns "
                       f"({', '.join(fit_model.channel_names)}), got {len(columns)}", status=2)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        dropped = frame.attrs.get("dropped_columns", {})
        why = f" ({missing[0]} is {dropped[missing[0]]})" if missing[0] in dropped else ""
        raise CLIError(f"{src}: no numeric column {missing[0]!r}{why}; columns are "
                       f"{', '.join(map(str, frame.columns))}", status=2)
    _report_reading(src.name, frame, log)
    if not args.columns:
        units = frame.attrs.get("units", {})
        others = [str(c) for c in frame.columns if c not in columns]
        print(f"{src.name}: signal {', '.join(_with_unit(c, units) for c in columns)}"
              + (f" (other columns: {', '.join(others)}; choose with --columns)"
                 if others else ""), file=log)
    return frame, columns


def run_fit(args: argparse.Namespace) -> int:
    # 1. everything that can be checked without reading or fitting
    _require("pandas", f"sklearn-r2t {args.command}")
    if args.output.lower().endswith(".parquet"):
        _require("pyarrow", "--output *.parquet")
    src = Path(args.file)
    if not src.is_file():
        raise CLIError(f"no such file: {args.file}", status=2)
    from ..recordings import READERS
    from ..recordings._formats import COMPRESSIONS, _split_suffix

    fmt, _ = _split_suffix(src)
    if fmt in (".parquet", ".pq"):
        _require("pyarrow", "reading Parquet")
    if fmt not in READERS:
        raise CLIError(f"{args.file}: unknown file type {''.join(src.suffixes[-2:])!r}; "
                       f"expected {', '.join(sorted(READERS))} (also compressed: "
                       f"{', '.join(COMPRESSIONS)})", status=2)
    if args.timezone is not None:
        _check_timezone(args.timezone)
    out = _check_output(args.output, TABLE_SUFFIXES, "--output")
    fig_path = None
    if not args.no_figure:
        _require("matplotlib", "the figure (or pass --no-figure)")
        fig_path = _check_output(args.figure, FIGURE_SUFFIXES, "--figure")
    fit_model, methods = fit_setup(args)

    # 2. read
    frame, columns = read_for_fit(src, fit_model, args)

    # 3. window and fit
    t0 = time.perf_counter()
    rows, curves = fit_recording(
        frame, methods, fit_model, args.model, columns=columns, file=src.name,
        n_timesteps=args.n_timesteps, start_hour=args.start_hour,
        min_coverage=args.min_coverage, intervals=args.intervals,
        random_state=args.random_state, batch_size=args.batch_size,
        progress=not args.no_progress,
    )
    _write_table(rows, out)
    print(f"{len(rows)} rows ({len(methods)} method(s)) written to {out} "
          f"in {time.perf_counter() - t0:.1f} s")
    if fig_path is not None:
        plot_recording(curves, fit_model, args.model, fig_path, title=src.name,
                       max_windows=args.max_windows, units=frame.attrs.get("units", {}),
                       clock=_clock_name(curves[0][2]))
        print(f"figure written to {fig_path}")
    return 0


def _check_timezone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise CLIError(f"--timezone {name!r} is not a known time zone (IANA names such "
                       "as Europe/Berlin, America/New_York or UTC)", status=2) from exc


def _with_unit(column, units) -> str:
    return f"{column} ({units[column]})" if units.get(column) else str(column)


def _report_reading(name: str, frame, log=None) -> None:
    """One line each: where the times' zone came from, what was dropped or merged."""
    log = sys.stderr if log is None else log
    attrs = frame.attrs
    source = attrs.get("time_zone_source") or "no zone in the file"
    tz = frame.index.tz
    if tz is None:
        print(f"{name}: times without a zone ({source}): days cut at midnight of the clock "
              "as written", file=log)
    else:
        where = "UTC midnight" if str(tz) == "UTC" else "local midnight"
        print(f"{name}: times in {tz} ({source}): days cut at {where}", file=log)
    if tz is not None and str(tz) == "UTC" and "timezone=" not in source:
        print(f"{name}: the file gives UTC times only: days and acrophases are in UTC; "
              "pass --timezone (e.g. Europe/London) to cut days in local time",
              file=log)
    dropped = attrs.get("dropped_columns") or {}
    if dropped:
        print(f"{name}: ignored column(s): "
              + ", ".join(f"{c} ({why})" for c, why in dropped.items()), file=log)
    for note in attrs.get("notes") or []:
        print(f"{name}: {note}", file=log)


def _clock_name(win) -> str:
    """What an acrophase's clock is: local clock (naive), UTC or a named zone."""
    if win.timezone is None:
        return "local clock"
    if win.timezone == "UTC":
        return "UTC clock"
    return f"{win.timezone} clock"


def fit_recording(frame, methods, fit_model, model_name, *, columns, file="",
                  n_timesteps=96, start_hour=0.0, min_coverage=0.5, intervals=0,
                  random_state=0, batch_size=50, progress=False, log=None):
    """Window one recording and fit every method to every window.

    The single-file path of ``fit`` and ``compare``: each channel (or the group of
    channels of a multi-channel model) is cut into windows with
    :func:`~sklearn_r2t.recordings.make_windows` and fitted; windows left out are
    kept in the table with their coverage and the reason, and counted in the log.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`~sklearn_r2t.recordings.read_recording`.
    methods : list of (slug, label, estimator)
    fit_model : SymbolicModel
        The model the estimators fit; for ``model_name='cosinor'`` each channel
        gets a ``Cosinor`` in its own units (the estimators are cloned onto it).
    model_name : str
        CLI name of the model.
    columns : list of str
        Signal columns; each is fitted apart unless the model has several channels.
    file : str
        Name written in the table's ``file`` column.
    log : file-like, default=None
        Where messages go (None: ``sys.stderr``).

    Returns
    -------
    rows : list of dict
        The tidy table's rows.
    curves : list of (channel, label, Windows, params)
        For :func:`plot_recording`.

    Raises
    ------
    NoWindowsError
        When no window of a channel has ``min_coverage`` recorded (a
        :class:`CLIError`; a cohort run reports the file as skipped).
    """
    from sklearn.base import clone
    from tqdm.auto import tqdm

    from .. import _compare
    from ..recordings import make_windows

    n_ch = fit_model.n_channels
    channels = [columns] if n_ch > 1 else [[c] for c in columns]
    units = frame.attrs.get("units", {})
    rows, curves = [], []
    for chans in channels:
        win = make_windows(frame, chans, n_timesteps=n_timesteps,
                           window_hours=fit_model.window_hours, start_hour=start_hour,
                           min_coverage=min_coverage)
        name = "+".join(chans)
        _report_windows(file, name, win, fit_model.window_hours, min_coverage, log)
        if win.X.shape[0] == 0:
            raise NoWindowsError(f"{file}: no window of {fit_model.window_hours:g} h with at "
                           f"least {min_coverage:.0%} of {name} recorded (coverage of "
                           "each: " + ", ".join(f"{c:.0%}" for c in win.skipped["coverage"])
                           + ")")
        X = win.X
        chan_model, chan_methods = fit_model, methods
        if model_name == "cosinor":
            chan_model = _cosinor_for(X)
            chan_methods = [(slug, label, clone(est).set_params(model=chan_model))
                            for slug, label, est in methods]
        unit = units.get(chans[0]) if model_name == "cosinor" and n_ch == 1 else None
        clock = _clock_name(win)
        bar = tqdm(total=len(chan_methods) * X.shape[0], unit="window", disable=not progress,
                   leave=False, file=sys.stderr)
        try:
            for slug, label, est in chan_methods:
                bar.set_description(label)
                if not _is_fitted(est):
                    est.fit(X)
                with warnings.catch_warnings():
                    # said below, per channel with the share of windows and a hint
                    warnings.filterwarnings("ignore", message=".* pinned at a bound ")
                    params, _ = _compare.transform_batched(est, X, batch_size=batch_size,
                                                           bar=bar)
                _warn_at_bounds(params, chan_model, label, name, model_name, file=log)
                scores = _scores(est, X, label, name, log)
                bounds = None
                if intervals:
                    bounds = _subsample_intervals(est, X, params, chan_model, intervals,
                                                  random_state, batch_size)
                curves.append((name, label, win, params))
                rows += _tidy_rows(file, name, win, slug, label, params, chan_model,
                                   model_name, unit=unit, bounds=bounds, clock=clock,
                                   scores=scores)
                rows += _skipped_rows(file, name, win, slug, label, chan_model, model_name,
                                      unit=unit, clock=clock, bounds=bounds is not None)
        finally:
            bar.close()
    order = {slug: k for k, (slug, _, _) in enumerate(methods)}
    rows.sort(key=lambda r: (r["channel"], order[r["method"]], r["window_start"]))
    return rows, curves


def _report_windows(file, name, win, window_hours, min_coverage, log=None) -> None:
    n_skip = len(win.skipped)
    first = win.start[0] if len(win.start) else None
    text = (f"{file} [{name}]: {len(win.start)} windows of {window_hours:g} h fitted"
            + (f" from {first:%Y-%m-%d %H:%M}" if first is not None else "")
            + f", {win.X.shape[1] if win.X.size else 0} samples each "
            f"(every {win.step.total_seconds() / 60:g} min)")
    if n_skip:
        empty = int((win.skipped["coverage"] == 0).sum())
        text += (f"; {n_skip} skipped ({n_skip - empty} under --min-coverage "
                 f"{min_coverage:.0%}, {empty} without data; listed in the table with "
                 "status 'skipped')")
    print(text, file=sys.stderr if log is None else log)
    hours = np.concatenate([win.hours, win.skipped["hours"].to_numpy(dtype=float)])
    odd = hours[np.abs(hours - window_hours) > 1e-6]
    if odd.size:
        kinds = ", ".join(f"{int((odd == h).sum())} of {h:g} h" for h in np.unique(odd))
        print(f"{file} [{name}]: daylight-saving changes: windows {kinds} (clock-time "
              "grid: the skipped hour is missing data, a repeated hour is averaged; "
              "column 'hours')", file=sys.stderr if log is None else log)


def _warn_at_bounds(params, fit_model, label, channel, model_name, file=None) -> None:
    """Say so when a model's prior range clips the fits: the data do not fit its bounds."""
    hit = fit_model.at_bound(params)
    fitted = ~np.isnan(params)
    for j, (lo, hi) in enumerate(fit_model.bounds):
        at = hit[fitted[:, j], j]
        if at.size and at.mean() > 0.2:
            hint = "" if model_name == "cosinor" else "; --model cosinor takes any unit"
            print(f"warning: {label} [{channel}]: {fit_model.param_names[j]} is at its "
                  f"bound ({lo:g} or {hi:g}) in {at.mean():.0%} of the windows{hint}",
                  file=sys.stderr if file is None else file)


def _scores(est, X, label, channel, log=None):
    """R2T's per-window training-distribution scores (None for other methods), and
    a line saying how many windows they flag."""
    if getattr(est, "score_reference_", None) is None:
        return None
    scores = est.score_samples(X)
    flagged = int(np.sum(scores < _FLAG_LEVEL))
    print(f"{label} [{channel}]: {flagged} of {int(np.sum(~np.isnan(scores)))} windows "
          f"flagged (score < {_FLAG_LEVEL:g}: unlike R2T's training data; expect about "
          f"{_FLAG_LEVEL:.0%} on data like it)", file=sys.stderr if log is None else log)
    return scores


def _is_fitted(estimator) -> bool:
    from .._compare import _is_fitted as is_fitted

    return is_fitted(estimator)


def _subsample_intervals(est, X, params, fit_model, n, random_state, batch_size):
    """5th and 95th percentiles of each parameter over ``n`` refits.

    Each refit drops a random 30 % of the window's samples (set to NaN, which every
    estimator reads as missing). The spread says how much an estimate depends on
    which samples happened to be recorded; it is not a calibrated confidence interval.
    Angular parameters are summarised as circular differences from the estimate.

    Returns
    -------
    (lower, upper) : ndarrays of shape (n_windows, n_params), in the recording's units
    """
    from .. import _compare
    from ..symbolic import circular_difference

    rng = np.random.default_rng(random_state)
    Xr = np.repeat(X, n, axis=0)
    drop = rng.random(Xr.shape[:2]) < 0.3
    Xr[drop] = np.nan
    reps, _ = _compare.transform_batched(est, Xr, batch_size=batch_size)
    reps = reps.reshape(X.shape[0], n, -1)
    point = params
    periods = getattr(fit_model, "param_periods", (None,) * point.shape[1])
    lower, upper = np.empty_like(point), np.empty_like(point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window whose refits all failed
        for j, period in enumerate(periods):
            if period is None:
                lower[:, j], upper[:, j] = np.nanpercentile(reps[:, :, j], [5, 95], axis=1)
            else:
                d = circular_difference(reps[:, :, j], point[:, None, j], period)
                lo, hi = np.nanpercentile(d, [5, 95], axis=1)
                lower[:, j], upper[:, j] = point[:, j] + lo, point[:, j] + hi
    return lower, upper


def _round(value: float, period=None) -> float:
    """Table precision: 5 significant digits; clock times to 0.001 h (3.6 s)."""
    if math.isnan(value):
        return value
    if period is not None:
        return round(value, 3) % period
    return float(f"{value:.5g}")


def _param_unit(j, fit_model, unit, clock) -> str:
    """A parameter's unit: clock hours for phases; the signal's unit for a cosinor."""
    periods = getattr(fit_model, "param_periods", (None,) * fit_model.n_params)
    if periods[j] is not None:
        return f"h ({clock})"
    return (fit_model.param_units[j] if unit is None else unit).replace("degC", "°C")


def _param_names(fit_model, model_name):
    """The table's parameter names: a one-harmonic cosinor keeps the plain names."""
    if model_name == "cosinor" and fit_model.n_params == 3:
        return ("mesor", "amplitude", "acrophase")
    return fit_model.param_names


def _tidy_rows(file, channel, win, slug, label, params, fit_model, model_name, unit=None,
               bounds=None, clock="local clock", scores=None):
    rows = []
    names = _param_names(fit_model, model_name)
    periods = getattr(fit_model, "param_periods", (None,) * len(names))
    if model_name == "cosinor" and unit is None:
        unit = ""  # a cosinor in the signal's unit, which the reader does not know
    for i, start in enumerate(win.start):
        offset = start.hour + start.minute / 60  # acrophases as clock time
        failed = bool(np.isnan(params[i]).all())
        for j, pname in enumerate(names):
            value = float(params[i, j])
            extra = {}
            if bounds is not None:
                extra = dict(lower=float(bounds[0][i, j]), upper=float(bounds[1][i, j]))
            if periods[j] is not None and not math.isnan(value):
                value = (value + offset) % periods[j]
                # clock times: ``lower`` > ``upper`` when the interval spans midnight
                extra = {k: (v + offset) % periods[j] for k, v in extra.items()}
            extra = {k: _round(v, periods[j]) for k, v in extra.items()}
            if scores is not None:  # R2T: the window's score_samples
                extra["score"] = round(float(scores[i]), 4)
            rows.append(dict(
                file=file, channel=channel, window_start=start.isoformat(),
                hours=round(float(win.hours[i]), 3), coverage=round(float(win.coverage[i]), 3),
                status="failed" if failed else "fitted", method=slug, label=label,
                model=model_name, parameter=pname, value=_round(value, periods[j]), **extra,
                unit=_param_unit(j, fit_model, unit, clock),
            ))
    return rows


def _skipped_rows(file, channel, win, slug, label, fit_model, model_name, unit=None,
                  clock="local clock", bounds=False):
    """Rows of the windows that were not fitted: NaN values, coverage and reason."""
    rows = []
    if model_name == "cosinor" and unit is None:
        unit = ""
    for _, w in win.skipped.iterrows():
        for j, pname in enumerate(_param_names(fit_model, model_name)):
            extra = dict(lower=math.nan, upper=math.nan) if bounds else {}
            rows.append(dict(
                file=file, channel=channel, window_start=w["start"].isoformat(),
                hours=round(float(w["hours"]), 3), coverage=round(float(w["coverage"]), 3),
                status=f"skipped: {w['reason']}", method=slug, label=label,
                model=model_name, parameter=pname, value=math.nan, **extra,
                unit=_param_unit(j, fit_model, unit, clock),
            ))
    return rows


def _write_table(rows, path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
