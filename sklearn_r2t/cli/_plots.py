"""The figures the commands save.

A recording's windows with their fits, and the demo's comparison.
"""

from __future__ import annotations

import math

import numpy as np


def plot_recording(curves, fit_model, model_name, path, title="", max_windows=28,
                   units=None, clock="local clock") -> None:
    """Figure of ``fit``/``compare``: every day at a glance.

    One small panel per window (up to ``max_windows``, seven to a row, one block of
    rows per channel) with the 15-minute means and the fitted curve(s). With up to
    three methods each curve is drawn; with more (``compare``), the panels show the
    median curve over the methods and the band they span, and a last row shows each
    method's parameters day by day, so methods that disagree stand out. Legends sit
    below the panels, never on the data; axes carry the units.

    Parameters
    ----------
    curves : list of (channel, label, Windows, params)
        ``params`` in the recording's units, one row per window.
    units : dict of str -> str, default=None
        Unit of each channel, for the y axes.
    clock : str, default="local clock"
        What the x axis' hours are.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    units = units or {}
    by_channel: dict = {}
    for name, label, win, params in curves:
        by_channel.setdefault(name, []).append((label, win, params))
    n_methods = max(len(v) for v in by_channel.values())
    many = n_methods > 3
    n_days = max(len(v[0][1].start) for v in by_channel.values())
    shown = min(max_windows, n_days)
    n_cols = min(7, shown)
    rows_per_channel = math.ceil(shown / n_cols)
    periods = getattr(fit_model, "param_periods", (None,) * fit_model.n_params)
    n_summary = fit_model.n_params if many else 0
    n_day_rows = rows_per_channel * len(by_channel)
    n_rows = n_day_rows + (len(by_channel) if many else 0)  # + one parameter row each
    left = 1.5 if many else 0.6  # inches: the method names of the parameter rows
    width = max(2.15 * n_cols + left + 0.2, 9.0 if many else 6.0)
    height = 1.75 * n_rows + 1.3
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(n_rows, max(n_cols, n_summary), hspace=0.75, wspace=0.12)
    t_hours = fit_model.t_hours(curves[0][2].X.shape[1])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles = {}
    for b, (name, entries) in enumerate(by_channel.items()):
        win = entries[0][1]
        Xw = win.X if win.X.ndim == 3 else win.X[:, :, None]
        unit = units.get(name)
        ylabel = f"{name} ({unit})" if unit else name
        lo, hi = np.nanpercentile(Xw[:shown, :, 0], [0.5, 99.5]) if Xw.size else (0, 1)
        pad = 0.08 * (hi - lo or 1.0)
        first_ax = None
        for c in range(shown):
            r, k = divmod(c, n_cols)
            ax = fig.add_subplot(grid[b * rows_per_channel + r, k], sharey=first_ax)
            first_ax = first_ax or ax
            h = ax.plot(t_hours, Xw[c, :, 0], ".", ms=2.0, color="0.55")[0]
            handles.setdefault("15-min mean of the data", h)
            ys = []
            for m, (label, _, params) in enumerate(entries):
                p = params[c : c + 1]
                if np.isnan(p).any():
                    continue
                # parameters are in the recording's units (a cosinor is the same
                # equation in any unit), so the curve is too
                y = fit_model.evaluate(p, t_hours.size).reshape(t_hours.size, -1)[:, 0]
                ys.append(y)
                if not many:
                    h = ax.plot(t_hours, y, lw=1.5, color=colors[m % len(colors)],
                                ls=("-", "--", "-.")[m % 3])[0]
                    handles.setdefault(label, h)
            if many and ys:
                ys = np.array(ys)
                h = ax.fill_between(t_hours, ys.min(0), ys.max(0), color="C0", alpha=0.25,
                                    lw=0)
                handles.setdefault(f"range of the {len(entries)} methods", h)
                h = ax.plot(t_hours, np.median(ys, axis=0), color="C0", lw=1.5)[0]
                handles.setdefault("median of the methods", h)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_xlim(0, t_hours[-1] + (t_hours[1] - t_hours[0]))
            ax.set_xticks([0, 6, 12, 18, 24])
            ax.tick_params(labelsize=7)
            start = win.start[c]
            label_day = f"{start:%a %d %b}"
            if win.hours is not None and abs(win.hours[c] - fit_model.window_hours) > 1e-6:
                label_day += f" ({win.hours[c]:g} h)"
            ax.set_title(label_day, fontsize=8, pad=2)
            if k == 0:
                ax.set_ylabel(ylabel, fontsize=8)
            else:
                ax.tick_params(labelleft=False)
            if r == rows_per_channel - 1 or c + n_cols >= shown:
                ax.set_xlabel(f"{clock} (h)" if start.hour == 0 and start.minute == 0
                              else f"hours from {start:%H:%M}", fontsize=7)
    for b, (name, entries) in enumerate(by_channel.items() if many else ()):
        # each method's parameters, one tick per day: where methods disagree
        labels = [lab for lab, _, _ in entries]
        span = max(1, max(n_cols, n_summary) // n_summary)
        for s, j in enumerate(range(n_summary)):
            ax = fig.add_subplot(grid[n_day_rows + b, s * span : (s + 1) * span])
            for m, (_, win, params) in enumerate(entries):
                v = params[:, j].astype(float)
                if periods[j] is not None:
                    v = (v + np.array([t.hour + t.minute / 60 for t in win.start])) % periods[j]
                ax.plot(v, np.full(v.shape, m), "|", ms=6, color="C0", alpha=0.6)
                ax.plot(np.nanmedian(v), m, "o", ms=3.5, color="k")
            pu = fit_model.param_units[j].replace("degC", "°C")
            if model_name == "cosinor" and periods[j] is None:
                pu = units.get(name, "")
            if periods[j] is not None:
                pu = f"{clock}, h"
            ax.set_xlabel(f"{fit_model.param_names[j]}" + (f" ({pu})" if pu else ""),
                          fontsize=7)
            ax.set_yticks(range(len(labels)))
            ax.set_yticklabels(labels if s == 0 else [], fontsize=6.5)
            ax.tick_params(axis="x", labelsize=7)
            ax.set_ylim(len(labels) - 0.5, -0.5)
            if s == 0:
                ax.set_title(f"{name}: each method's fit, one tick a day, dot = median",
                             fontsize=8, loc="left", pad=2)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(4, len(
        handles)), fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    more = f"; first {shown} of {n_days} shown" if shown < n_days else ""
    fig.suptitle(f"{title}: {model_name} fitted per day ({n_days} windows{more})",
                 fontsize=10)
    fig.subplots_adjust(left=left / width, right=1 - 0.2 / width, top=1 - 0.55 / height,
                        bottom=0.75 / height + 0.02)
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
