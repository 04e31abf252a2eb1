"""``sklearn-r2t fit`` and ``compare``.

A recording is read, resampled, cut into windows and fitted; the parameters are
written as a tidy table, the fits as a figure.
"""

from __future__ import annotations

import argparse
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

# ``cosinor`` (any 24-hour rhythm in any unit) is fitted as a heart-rate cosinor after
# mapping the middle of the recording's typical day to 70 and its half-range to 8 "bpm":
# days with 0.25 to 2.5 times that amplitude and a mesor within 2.5 of it
# then sit inside HeartRate's bounds (mesor 50-90, amplitude 2-20), so the shipped R2T
# weights apply. Cosinors are affine-equivariant, so the parameters map back exactly.
_BRIDGE_CENTER, _BRIDGE_SPREAD = 70.0, 8.0


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


def _bridge(X, model_name):
    """Affine map of a ``cosinor`` recording onto the heart-rate scale (see top)."""
    if model_name != "cosinor":
        return X, None
    # the typical day: median over windows at each clock time, smoothed over 2 hours
    # (circularly), so that neither artefacts nor noise set the scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN clock times
        profile = np.nanmedian(X, axis=0)
    profile = np.where(np.isnan(profile), np.nanmedian(X), profile)
    k = max(1, profile.size // 12)
    smooth = np.convolve(np.concatenate([profile[-k:], profile, profile[:k]]),
                         np.ones(k) / k, mode="same")[k:-k]
    center = float(smooth.max() + smooth.min()) / 2
    spread = float(smooth.max() - smooth.min()) / 2 or float(np.nanstd(X)) or 1.0
    return _BRIDGE_CENTER + _BRIDGE_SPREAD * (X - center) / spread, (center, spread)


def _unbridge(params, bridge):
    if bridge is None:
        return params
    center, spread = bridge
    out = params.copy()
    out[:, 0] = center + (params[:, 0] - _BRIDGE_CENTER) * spread / _BRIDGE_SPREAD
    out[:, 1] = params[:, 1] * spread / _BRIDGE_SPREAD
    return out


class NoWindowsError(CLIError):
    """A recording without one window of enough coverage (a cohort skips it)."""


def fit_setup(args: argparse.Namespace):
    """The model to fit and the chosen ``(slug, label, estimator)`` methods."""
    from ..symbolic import HeartRate

    model_cls = _models()[args.model]
    fit_model = HeartRate() if args.model == "cosinor" else model_cls()
    registry = method_registry(fit_model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps)
    return fit_model, _select_methods(args, registry)


def run_fit(args: argparse.Namespace) -> int:
    # 1. everything that can be checked without reading or fitting
    _require("pandas", f"sklearn-r2t {args.command}")
    if args.output.lower().endswith(".parquet"):
        _require("pyarrow", "--output *.parquet")
    src = Path(args.file)
    if not src.is_file():
        raise CLIError(f"no such file: {args.file}", status=2)
    from ..recordings import READERS

    if src.suffix.lower() in (".parquet", ".pq"):
        _require("pyarrow", "reading Parquet")
    if src.suffix.lower() not in READERS:
        raise CLIError(f"{args.file}: unknown file type {src.suffix!r}; expected "
                       f"{', '.join(sorted(READERS))}", status=2)
    out = _check_output(args.output, TABLE_SUFFIXES, "--output")
    fig_path = None
    if not args.no_figure:
        _require("matplotlib", "the figure (or pass --no-figure)")
        fig_path = _check_output(args.figure, FIGURE_SUFFIXES, "--figure")
    fit_model, methods = fit_setup(args)

    # 2. read, window and fit
    t0 = time.perf_counter()
    rows, curves, _ = fit_recording(src, methods, fit_model, args)
    _write_table(rows, out)
    print(f"{len(rows)} rows ({len(methods)} method(s)) written to {out} "
          f"in {time.perf_counter() - t0:.1f} s")
    if fig_path is not None:
        plot_recording(curves, fit_model, args.model, fig_path, title=src.name,
                       max_windows=args.max_windows)
        print(f"figure written to {fig_path}")
    return 0


def fit_recording(src, methods, fit_model, args, *, log=None):
    """Read one recording, cut it into windows and fit every method to them.

    The one reading path of ``fit``, ``compare`` and their cohort runs
    (:mod:`sklearn_r2t.cohort`). Errors are :class:`CLIError`; a recording without
    one window of enough coverage raises :class:`NoWindowsError`.

    Parameters
    ----------
    src : pathlib.Path
    methods : list of (slug, label, estimator)
    fit_model : SymbolicModel
    args : argparse.Namespace
        The ``fit`` options (``columns``, ``time_column``, ``n_timesteps``, ...).
    log : file-like, default=None
        Where messages go (None: ``sys.stderr``).

    Returns
    -------
    rows : list of dict
        The tidy table's rows.
    curves : list of (channel, label, Windows, params)
        The figure's data.
    summary : dict
        ``windows_fitted`` and ``windows_skipped`` (under ``--min-coverage``), summed
        over channels.
    """
    from .. import _compare
    from ..recordings import make_windows, read_recording

    log = sys.stderr if log is None else log
    try:
        frame = read_recording(src, time_column=args.time_column)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {src}: {exc}") from exc
    n_ch = fit_model.n_channels
    columns = args.columns or list(frame.columns)[: 1 if n_ch == 1 else n_ch]
    if n_ch > 1 and len(columns) != n_ch:
        raise CLIError(f"--model {args.model} needs {n_ch} --columns "
                       f"({', '.join(fit_model.channel_names)}), got {len(columns)}", status=2)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CLIError(f"{src}: no numeric column {missing[0]!r}; columns are "
                       f"{', '.join(map(str, frame.columns))}", status=2)
    channels = [columns] if n_ch > 1 else [[c] for c in columns]
    rows, curves = [], []
    summary = {"windows_fitted": 0, "windows_skipped": 0}
    from tqdm.auto import tqdm

    for chans in channels:
        win = make_windows(frame, chans, n_timesteps=args.n_timesteps,
                           window_hours=fit_model.window_hours, start_hour=args.start_hour,
                           min_coverage=args.min_coverage)
        name = "+".join(chans)
        if win.X.shape[0] == 0:
            raise NoWindowsError(f"{src}: no window of {fit_model.window_hours:g} h with at "
                                 f"least {args.min_coverage:.0%} of {name} recorded")
        summary["windows_fitted"] += win.X.shape[0]
        summary["windows_skipped"] += win.n_skipped
        # a Cosinor estimator fits any unit itself; the CLI's "cosinor" is a heart-rate fit
        X, bridge = _bridge(win.X, args.model if fit_model.name != "cosinor" else None)
        print(f"{src.name} [{name}]: {X.shape[0]} windows of {fit_model.window_hours:g} h "
              f"from {win.start[0]:%Y-%m-%d %H:%M}, {args.n_timesteps} samples each "
              f"(every {win.step.total_seconds() / 60:g} min), {len(methods)} method(s)",
              file=log)
        bar = tqdm(total=len(methods) * X.shape[0], unit="window",
                   disable=args.no_progress, leave=False, file=sys.stderr)
        try:
            for slug, label, est in methods:
                bar.set_description(label)
                if not _is_fitted(est):
                    est.fit(X)
                params, _ = _compare.transform_batched(est, X, batch_size=args.batch_size,
                                                       bar=bar)
                _warn_at_bounds(params, fit_model, label, name, args.model, file=log)
                bounds = None
                if args.intervals:
                    bounds = _subsample_intervals(est, X, params, bridge, fit_model, args)
                params = _unbridge(params, bridge)
                curves.append((name, label, win, params))
                rows += _tidy_rows(src.name, name, win, slug, label, params, fit_model,
                                   args.model, unit=None if args.model != "cosinor" else name,
                                   bounds=bounds)
        finally:
            bar.close()
    return rows, curves, summary


def _warn_at_bounds(params, fit_model, label, channel, model_name, file=None) -> None:
    """Say so when a model's prior range clips the fits: the data do not fit its bounds."""
    bounds = np.asarray(fit_model.bounds, dtype=float)
    periods = getattr(fit_model, "param_periods", (None,) * len(bounds))
    for j, (lo, hi) in enumerate(bounds):
        if periods[j] is not None:
            continue
        col = params[:, j][~np.isnan(params[:, j])]
        at = np.isclose(col, lo, rtol=1e-6, atol=1e-9) | np.isclose(col, hi, rtol=1e-6,
                                                                   atol=1e-9)
        if col.size and at.mean() > 0.2:
            hint = "" if model_name == "cosinor" else "; --model cosinor takes any unit"
            print(f"warning: {label} [{channel}]: {fit_model.param_names[j]} is at its "
                  f"bound ({lo:g} or {hi:g}) in {at.mean():.0%} of the windows{hint}",
                  file=sys.stderr if file is None else file)


def _is_fitted(estimator) -> bool:
    from .._compare import _is_fitted as is_fitted

    return is_fitted(estimator)


def _subsample_intervals(est, X, params, bridge, fit_model, args):
    """5th and 95th percentiles of each parameter over ``args.intervals`` refits.

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

    rng = np.random.default_rng(args.random_state)
    n = args.intervals
    Xr = np.repeat(X, n, axis=0)
    drop = rng.random(Xr.shape[:2]) < 0.3
    Xr[drop] = np.nan
    reps, _ = _compare.transform_batched(est, Xr, batch_size=args.batch_size)
    reps = _unbridge(reps, bridge).reshape(X.shape[0], n, -1)
    point = _unbridge(params, bridge)
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


def _tidy_rows(file, channel, win, slug, label, params, fit_model, model_name, unit=None,
               bounds=None):
    rows = []
    names, units = fit_model.param_names, fit_model.param_units
    periods = getattr(fit_model, "param_periods", (None,) * len(names))
    for i, start in enumerate(win.start):
        offset = start.hour + start.minute / 60  # acrophases as clock time
        for j, pname in enumerate(names):
            value = float(params[i, j])
            extra = {}
            if bounds is not None:
                extra = dict(lower=float(bounds[0][i, j]), upper=float(bounds[1][i, j]))
            if periods[j] is not None and not math.isnan(value):
                value = (value + offset) % periods[j]
                # clock times: ``lower`` > ``upper`` when the interval spans midnight
                extra = {k: (v + offset) % periods[j] for k, v in extra.items()}
            rows.append(dict(
                file=file, channel=channel, window_start=start.isoformat(),
                coverage=round(float(win.coverage[i]), 4), method=slug, label=label,
                model=model_name, parameter=pname, value=value, **extra,
                unit="h (clock)" if periods[j] is not None else (unit or units[j]),
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
