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

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._version import __version__

# built-in models by CLI name (imported lazily: ``--help`` and ``--version`` stay fast)
MODEL_NAMES = ("heart_rate", "skin_temperature", "spo2", "wearable", "cosinor")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
INSTALL_HINT = 'pip install "sklearn-r2t[cli]"'
# ``cosinor`` (any 24-hour rhythm in any unit) is fitted as a heart-rate cosinor after
# mapping the middle of the recording's typical day to 70 and its half-range to 8 "bpm":
# days with 0.25 to 2.5 times that amplitude and a mesor within 2.5 of it
# then sit inside HeartRate's bounds (mesor 50-90, amplitude 2-20), so the shipped R2T
# weights apply. Cosinors are affine-equivariant, so the parameters map back exactly.
_BRIDGE_CENTER, _BRIDGE_SPREAD = 70.0, 8.0


class CLIError(Exception):
    """An error reported as one line; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- helpers
def _models():
    from ._r2t import _PRETRAINED_MODELS
    from .symbolic import Cosinor

    return {**_PRETRAINED_MODELS, Cosinor.name: Cosinor}


def slugify(label: str) -> str:
    """CLI name of a method label: ``'Cauchy (auto)'`` -> ``'cauchy-auto'``."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def method_registry(model, n_jobs=None, n_timesteps: int = 96) -> dict:
    """Methods of :func:`~sklearn_r2t._compare.standard_methods` by CLI name.

    Returns
    -------
    registry : dict of str -> (label, estimator)
    """
    from ._compare import standard_methods

    return {slugify(label): (label, est)
            for label, est in standard_methods(model, n_jobs=n_jobs, n_timesteps=n_timesteps)}


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise CLIError(f"{what} needs {module}, which is not installed: {INSTALL_HINT}")


def _check_output(path: str, suffixes: Sequence[str], what: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise CLIError(f"{what} {path!r} must end in {', '.join(suffixes)}", status=2)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"{what} {path!r}: folder {str(parent)!r} does not exist", status=2)
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise CLIError(f"{what} {path!r}: not writable", status=2)
    if p.is_dir():
        raise CLIError(f"{what} {path!r} is a folder, not a file", status=2)
    return p


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


def run_fit(args: argparse.Namespace) -> int:
    # 1. everything that can be checked without reading or fitting
    _require("pandas", f"sklearn-r2t {args.command}")
    if args.output.lower().endswith(".parquet"):
        _require("pyarrow", "--output *.parquet")
    src = Path(args.file)
    if not src.is_file():
        raise CLIError(f"no such file: {args.file}", status=2)
    from .recordings import READERS

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
    from . import _compare
    from .symbolic import HeartRate

    model_cls = _models()[args.model]
    fit_model = HeartRate() if args.model == "cosinor" else model_cls()
    registry = method_registry(fit_model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps)
    methods = _select_methods(args, registry)

    # 2. read and window
    from .recordings import make_windows, read_recording

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
        X, bridge = _bridge(win.X, args.model)
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


def _is_fitted(estimator) -> bool:
    from ._compare import _is_fitted as is_fitted

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
    from . import _compare
    from .symbolic import circular_difference

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


def plot_recording(curves, fit_model, model_name, path, title="", max_windows=7) -> None:
    """Figure of ``fit``/``compare``: each window's data and fitted curves.

    One row per channel, one column per window (the first ``max_windows``); each
    row's legend gives each method's median parameters over all windows.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_channel: dict = {}
    for name, label, win, params in curves:
        by_channel.setdefault(name, []).append((label, win, params))
    n_rows = len(by_channel)
    n_cols = min(max_windows, max(len(v[0][1].start) for v in by_channel.values()))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.6 * n_cols + 4.2, 2.8 * n_rows + 0.6),
                             squeeze=False, sharey="row")
    t_hours = fit_model.t_hours(curves[0][2].X.shape[1])
    for r, (name, entries) in enumerate(by_channel.items()):
        win = entries[0][1]
        Xw = win.X if win.X.ndim == 3 else win.X[:, :, None]
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= Xw.shape[0]:
                ax.set_visible(False)
                continue
            ax.plot(t_hours, Xw[c, :, 0], ".", ms=2.5, color="0.6", label="data (15-min mean)")
            for k, (label, _, params) in enumerate(entries):
                p = params[c : c + 1]
                if np.isnan(p).any():
                    continue
                # parameters are in the recording's units (a cosinor is the same
                # equation in any unit), so the curve is too
                y = fit_model.evaluate(p, t_hours.size).reshape(t_hours.size, -1)[:, 0]
                ax.plot(t_hours, y, lw=1.4, ls=("-", "--", "-.", ":")[k % 4], label=label)
            ax.set_title(f"{win.start[c]:%a %d %b}", fontsize=9)
            ax.set_xticks([0, 6, 12, 18, 24])
            ax.set_xlabel(f"hours from {win.start[c]:%H:%M}", fontsize=8)
            if c == 0:
                ax.set_ylabel(name)
        # one legend per channel, right of its row, with the median parameters
        handles, labels = axes[r, 0].get_legend_handles_labels()
        medians = {lab: np.nanmedian(params, axis=0) for lab, _, params in entries}
        labels = [_legend_label(lab, medians.get(lab), fit_model) for lab in labels]
        axes[r, n_cols - 1].legend(handles, labels, loc="upper left", fontsize=7.5,
                                   bbox_to_anchor=(1.03, 1.0), title=f"{name}: median "
                                   "over windows", title_fontsize=7.5)
    fig.suptitle(f"{title}: {model_name} fitted per window "
                 f"({len(curves[0][2].start)} windows; first {n_cols} shown)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _legend_label(label, median, fit_model):
    if median is None:
        return label
    periods = getattr(fit_model, "param_periods", (None,) * fit_model.n_params)
    parts = [f"{n} {median[j]:.3g}" for j, n in enumerate(fit_model.param_names)
             if periods[j] is None][:4]
    return f"{label}: {', '.join(parts)}"


# --------------------------------------------------------------------------- demo
def _method_group(label: str) -> str:
    if label.startswith("R2T"):
        return "R2T (learned)"
    if label == "OLS" or "f_scale=1" in label:
        return "least squares, scipy defaults"
    return "robust loss, robust scale"


def plot_demo(bunch, fitted: dict, rows: list, path, n_sequences: int) -> None:
    """The demo's figure: one column per method group, fits on top, errors below.

    Top row: one held-out sequence (noisy samples, the true curve and the group's
    fits); bottom row: each fit minus the true curve, on one shared scale, so that
    methods whose curves overlap on top can still be told apart. The legend carries
    each method's median NMSE over all ``n_sequences`` test sequences.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = bunch.model
    t = bunch.t_hours
    n_ch = model.n_channels
    X = bunch.X.reshape(bunch.X.shape[0], t.size, n_ch)[:, :, 0]
    clean = bunch.X_clean.reshape(bunch.X.shape[0], t.size, n_ch)[:, :, 0]
    nmse = {r["method"]: r["median_nmse"] for r in rows}
    ratio = {r["method"]: r.get("ratio_to_oracle") for r in rows}
    groups: dict = {}
    for label in fitted:
        if label != "Oracle":  # the floor is quoted in the legends, not drawn
            groups.setdefault(_method_group(label), []).append(label)
    i = 0  # the first test sequence: not picked to flatter any method
    unit = model.param_units[0] if model.param_units else ""
    channel = model.channel_names[0].replace("_", " ")
    fig, axes = plt.subplots(2, len(groups), figsize=(5.0 * len(groups), 6.4), sharex=True,
                             sharey="row", squeeze=False,
                             gridspec_kw={"height_ratios": [1.6, 1.0]})
    errs = {}
    for label, params in fitted.items():
        p = params[i : i + 1]
        if not np.isnan(p).any():
            errs[label] = model.evaluate(p, t.size).reshape(t.size, n_ch)[:, 0] - clean[i]
    lim = max((np.abs(e).max() for e in errs.values()), default=1.0)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for g, (group, labels) in enumerate(groups.items()):
        top, bottom = axes[0, g], axes[1, g]
        top.plot(t, X[i], ".", color="0.6", ms=3.5, label="noisy samples")
        top.plot(t, clean[i], "-", color="k", lw=2.4, label="true curve")
        bottom.axhline(0, color="k", lw=1.2)
        for k, label in enumerate(labels):
            if label not in errs:
                continue
            color = colors[(list(fitted).index(label)) % len(colors)]
            text = f"{label}: NMSE {nmse.get(label, math.nan):.1e}"
            if ratio.get(label) is not None:
                text += f" ({ratio[label]:.1f}x oracle)"
            top.plot(t, clean[i] + errs[label], lw=1.5, color=color,
                     ls=("-", "--", "-.")[k % 3], label=text)
            bottom.plot(t, errs[label], lw=1.5, color=color, ls=("-", "--", "-.")[k % 3])
        top.set_title(group)
        top.legend(fontsize=7.5, loc="upper left")
        bottom.set_xlabel("time (h)")
        bottom.set_ylim(-1.1 * lim, 1.1 * lim)
        if g == 0:
            top.set_ylabel(f"{channel} ({unit})")
            bottom.set_ylabel(f"fit - true ({unit})")
    fig.suptitle(
        f"{type(model).__name__}, 'combined' structured noise: one held-out sequence"
        + (f" ({channel} channel)" if n_ch > 1 else "") + "; "
        f"NMSE = median over {n_sequences} sequences",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_demo(args: argparse.Namespace) -> int:
    _require("matplotlib", "sklearn-r2t demo (its figure)")
    out = _check_output(args.output, FIGURE_SUFFIXES, "--output")
    from ._compare import compare_methods, format_table, standard_methods
    from .datasets import make_wearable_sequences

    model = _models()[args.model]()
    t0 = time.perf_counter()
    bunch = make_wearable_sequences(
        args.n_sequences, model=model, noise="combined", n_timesteps=args.n_timesteps,
        random_state=args.random_state,
    )
    print(
        f"sklearn-r2t demo: {args.n_sequences} held-out {type(model).__name__} sequences "
        f"({args.n_timesteps} steps over {model.window_hours:g} h), 'combined' noise "
        f"({np.isnan(bunch.X).mean():.0%} missing), random_state={args.random_state}."
    )
    methods = standard_methods(model, n_jobs=args.n_jobs, n_timesteps=args.n_timesteps)
    if not any(label.startswith("R2T") for label, _ in methods):
        print(f"(R2T skipped: no shipped weights for {type(model).__name__} at "
              f"{args.n_timesteps} steps; R2TRegressor(pretrained=False) trains them.)")
    rows, fitted = compare_methods(
        methods, bunch, model, progress=not args.no_progress, return_params=True
    )
    print()
    print(format_table(rows))
    print()
    print(
        "NMSE: mean squared error against the clean curve, with the signal scaled by its "
        "plausible range (model.output_range). Parameter errors: median absolute, "
        "circular for phases. f_scale is in the same normalised units; 'auto' is "
        "1.4826 * MAD of the residuals, per sequence. 'x oracle': the median NMSE over "
        "that of least squares on exactly the samples no artefact touched."
    )
    verdict = r2t_verdict(rows)
    if verdict:
        print(verdict)
    plot_demo(bunch, fitted, rows, out, args.n_sequences)
    print(f"Figure saved to {out} ({time.perf_counter() - t0:.1f} s in all).")
    return 0


def r2t_verdict(rows) -> str:
    """One sentence: how R2T fares against the best classical fit in ``rows``."""
    from ._compare import best_classical

    r2t = next((r["median_nmse"] for r in rows if r["method"] == "R2T"), None)
    best = best_classical(rows)
    if r2t is None or best is None:
        return ""
    rival, rival_nmse = best
    ratio = r2t / rival_nmse
    if ratio > 1:
        return (f"Where R2T loses: here the best classical fit, {rival}, is {ratio:.1f}x "
                "more accurate than R2T (shipped weights).")
    return f"R2T is {1 / ratio:.1f}x more accurate than the best classical fit, {rival}."


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
                "Read FILE (CSV/TSV/Parquet with a timestamp column, or Actiwatch .AWD), "
                "resample onto the model's grid, cut into windows (days), fit "
                + ("the chosen method(s)" if name == "fit" else "every method")
                + " and write a tidy table of parameters per window plus a figure."
            ),
        )
        p.add_argument("file", metavar="FILE", nargs="?", help="the recording")
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
                       help="timestamp column of a table (default: the first that parses)")
        p.add_argument("--start-hour", type=_hour, default=0.0,
                       help="clock hour at which windows start (default: 0, midnight)")
        p.add_argument("--min-coverage", type=_fraction, default=0.5,
                       help="drop windows with less recorded (default: 0.5)")
        p.add_argument("--n-timesteps", type=_positive_int, default=96,
                       help="grid points per window (default: 96, one every 15 min)")
        stem = "{stem}"
        p.add_argument("--output", default=None,
                       help=f"table: .csv, .tsv or .parquet (default: {stem}_{name}.csv)")
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
        p.add_argument("--max-windows", type=_positive_int, default=7,
                       help="windows drawn in the figure (default: 7)")
        p.add_argument("--n-jobs", type=_n_jobs, default=None,
                       help="joblib workers over windows (default: 1; -1: all cores)")
        p.add_argument("--batch-size", type=_positive_int, default=50, help=argparse.SUPPRESS)
        p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        p.set_defaults(func=run_fit)

    demo = sub.add_parser(
        "demo",
        help="compare the robust fits on synthetic wearable data (table + figure)",
        description=(
            "Fit every method of the registry (least squares at scipy's defaults and "
            "with a robust scale, R2T with and without refine) to held-out synthetic "
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
            if args.file is None:
                parser.error(f"{args.command}: the following arguments are required: FILE")
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
