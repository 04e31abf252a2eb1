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
    from .. import _compare

    model_cls = _models()[args.model]
    fit_model = model_cls()  # cosinor: replaced by one in each channel's units below
    registry = method_registry(fit_model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps)
    methods = _select_methods(args, registry)

    # 2. read and window
    from ..recordings import make_windows, read_recording

    try:
        frame = read_recording(src, time_column=args.time_column)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {args.file}: {exc}") from exc
    n_ch = fit_model.n_channels
    columns = args.columns or list(frame.columns)[: 1 if n_ch == 1 else n_ch]
    if n_ch > 1 and len(columns) != n_ch:
        raise CLIError(f"--model {args.model} needs {n_ch} --columns "
                       f"({', '.join(fit_model.channel_names)}), got {len(columns)}", status=2)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CLIError(f"{args.file}: no numeric column {missing[0]!r}; columns are "
                       f"{', '.join(map(str, frame.columns))}", status=2)
    channels = [columns] if n_ch > 1 else [[c] for c in columns]
    rows, curves = [], []
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    for chans in channels:
        win = make_windows(frame, chans, n_timesteps=args.n_timesteps,
                           window_hours=fit_model.window_hours, start_hour=args.start_hour,
                           min_coverage=args.min_coverage)
        name = "+".join(chans)
        if win.X.shape[0] == 0:
            raise CLIError(f"{args.file}: no window of {fit_model.window_hours:g} h with at "
                           f"least {args.min_coverage:.0%} of {name} recorded")
        X = win.X
        if args.model == "cosinor":
            fit_model = _cosinor_for(X)
            methods = _select_methods(args, method_registry(
                fit_model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps))
        print(f"{src.name} [{name}]: {X.shape[0]} windows of {fit_model.window_hours:g} h "
              f"from {win.start[0]:%Y-%m-%d %H:%M}, {args.n_timesteps} samples each "
              f"(every {win.step.total_seconds() / 60:g} min), {len(methods)} method(s)",
              file=sys.stderr)
        bar = tqdm(total=len(methods) * X.shape[0], unit="window",
                   disable=args.no_progress, leave=False, file=sys.stderr)
        try:
            for slug, label, est in methods:
                bar.set_description(label)
                if not _is_fitted(est):
                    est.fit(X)
                params, _ = _compare.transform_batched(est, X, batch_size=args.batch_size,
                                                       bar=bar)
                _warn_at_bounds(params, fit_model, label, name, args.model)
                scores = _scores(est, X, label, name)
                bounds = None
                if args.intervals:
                    bounds = _subsample_intervals(est, X, params, fit_model, args)
                curves.append((name, label, win, params))
                rows += _tidy_rows(src.name, name, win, slug, label, params, fit_model,
                                   args.model, unit=None if args.model != "cosinor" else name,
                                   bounds=bounds, scores=scores)
        finally:
            bar.close()
    _write_table(rows, out)
    print(f"{len(rows)} rows ({len(methods)} method(s)) written to {out} "
          f"in {time.perf_counter() - t0:.1f} s")
    if fig_path is not None:
        plot_recording(curves, fit_model, args.model, fig_path, title=src.name,
                       max_windows=args.max_windows)
        print(f"figure written to {fig_path}")
    return 0


def _warn_at_bounds(params, fit_model, label, channel, model_name) -> None:
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
                  file=sys.stderr)


def _scores(est, X, label, channel):
    """R2T's per-window training-distribution scores (None for other methods), and
    a line saying how many windows they flag."""
    if getattr(est, "score_reference_", None) is None:
        return None
    scores = est.score_samples(X)
    flagged = int(np.sum(scores < _FLAG_LEVEL))
    print(f"{label} [{channel}]: {flagged} of {int(np.sum(~np.isnan(scores)))} windows "
          f"flagged (score < {_FLAG_LEVEL:g}: unlike R2T's training data; expect about "
          f"{_FLAG_LEVEL:.0%} on data like it)", file=sys.stderr)
    return scores


def _is_fitted(estimator) -> bool:
    from .._compare import _is_fitted as is_fitted

    return is_fitted(estimator)


def _subsample_intervals(est, X, params, fit_model, args):
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


def _tidy_rows(file, channel, win, slug, label, params, fit_model, model_name, unit=None,
               bounds=None, scores=None):
    rows = []
    names, units = fit_model.param_names, fit_model.param_units
    if model_name == "cosinor":  # one harmonic: the table keeps the plain cosinor names
        names = ("mesor", "amplitude", "acrophase")
    periods = getattr(fit_model, "param_periods", (None,) * len(names))
    for i, start in enumerate(win.start):
        offset = start.hour + start.minute / 60  # acrophases as clock time
        for j, pname in enumerate(names):
            value = float(params[i, j])
            extra = {}
            if bounds is not None:
                extra = dict(lower=float(bounds[0][i, j]), upper=float(bounds[1][i, j]))
            if scores is not None:  # R2T: the window's score_samples (NaN for others)
                extra["score"] = float(scores[i])
            if periods[j] is not None and not math.isnan(value):
                value = (value + offset) % periods[j]
                # clock times: ``lower`` > ``upper`` when the interval spans midnight
                extra = {k: (v + offset) % periods[j] if k != "score" else v
                         for k, v in extra.items()}
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
