"""The figures the commands save.

A recording's windows with their fits, and the demo's comparison.
"""

from __future__ import annotations

import math

import numpy as np


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
