"""Batched robust fitting: throughput and accuracy against the oracle, memory.

Run alone on an idle machine (timings are the point):

    python benchmarks/fit_speed.py               # full run, ~10-15 min on 2 cores
    python benchmarks/fit_speed.py --quick       # smoke run, ~1 min

Writes ``benchmarks/results/fit_speed.md`` (tables and the command) and
``fit_speed.json``. The contamination sweep of every method, R2T's heads included,
is in ``benchmarks/r2t_accuracy.py --sections sweep``. Every accuracy is the median
normalised MSE against the clean curve and its ratio to the oracle (least squares on
exactly the samples no artefact touched), measured on the same sequences in the same
run.

Methods
-------
- ``batched <loss>``: :class:`~sklearn_r2t.SymbolicLeastSquares` (default solver) at
  every loss, ``f_scale='auto'``; ``bisquare one-sided``: with ``outlier_side`` set to
  the side the signal's artefacts push (``typical_outlier_side``).
- ``scipy <loss>``: the same estimator with ``solver='scipy'`` (start, scale and
  M-step one sequence at a time with :func:`scipy.optimize.least_squares`): timed on
  a subset (it is 60-900x slower), accuracy on that subset beside the batched fit of
  the same subset.
- ``statsmodels RLM``: :class:`statsmodels.robust.robust_linear_model.RLM` with
  ``TukeyBiweight`` on the cosinor design (1, cos, sin), one sequence at a time,
  NaN samples dropped: at its defaults (least-squares start, MAD rescaled every
  iteration) and tuned (least-absolute-deviations start from ``QuantReg``, scale
  fixed from it: the MM recipe), on the same subset.
- CosinorPy 3.1 (``fit_me``) installs from PyPI but fails on NumPy 2
  (``np.round_`` was removed), so it is reported as not runnable.
- ``R2T``: shipped weights of both heads, ``transform`` (batched inference).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.noise import typical_outlier_side
from sklearn_r2t.r2t._weights import pretrained_path
from sklearn_r2t.symbolic import FunctionModel, HeartRate

RESULTS = Path(__file__).resolve().parent / "results"
LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan", "bisquare", "welsch")


def decay(p, t):
    return p[:, :1] * torch.exp(-t / p[:, 1:2]) + p[:, 2:3]


DECAY = FunctionModel(decay, bounds=[(0.4, 0.8), (1, 10), (0, 0.2)],
                      param_names=("amplitude", "tau", "offset"), name="decay")


def median_nmse(model, X_clean, params) -> float:
    ok = ~np.isnan(params).any(axis=1)
    curves = model.evaluate(params[ok], X_clean.shape[1]).reshape(X_clean[ok].shape)
    return float(np.median(normalized_mse(model, X_clean[ok], curves)))


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


# --------------------------------------------------------------- statsmodels
def statsmodels_rlm(model, X, tuned: bool) -> np.ndarray:
    """Tukey biweight RLM per sequence on the cosinor design; parameters mapped back
    through the model's own ``params_from_linear`` (so only the fit differs)."""
    import statsmodels.api as sm
    from statsmodels.regression.quantile_regression import QuantReg

    B = model.linear_basis(model.t_hours(X.shape[1]))
    theta = np.full((X.shape[0], B.shape[1]), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(X):
            obs = ~np.isnan(y)
            rlm = sm.RLM(y[obs], B[obs], M=sm.robust.norms.TukeyBiweight())
            if tuned:
                lad = QuantReg(y[obs], B[obs]).fit(q=0.5).params
                res = rlm.fit(start_params=lad, update_scale=False)
            else:
                res = rlm.fit()
            theta[i] = res.params
    return model.project(model.params_from_linear(theta))


# ------------------------------------------------------------- throughput
def throughput(model, sizes, n_subset, seed):
    """Rows of the speed table for one model: every method on every size, and the
    per-sequence methods once, on a subset of the largest size."""
    r2t = {label: R2TRegressor(model, head=head, pretrained=True)
           for label, head in (("R2T (shipped weights)", "weights"),
                               ("R2T, paper's head (shipped weights)", "parameters"))
           if pretrained_path(model, 96, head)}
    rows = []
    for n in sizes:
        rows += _one_size(model, n, n_subset, seed, r2t, slow=n == max(sizes))
    return rows


def _one_size(model, n, n_subset, seed, r2t, slow):
    rows = []
    side = typical_outlier_side(model)
    data = make_wearable_sequences(n, model=model, random_state=seed)
    sub = slice(0, min(n_subset, n))
    oracle, t_oracle = timed(oracle_fit, model, data.X, data.artefact_mask)
    floors = {False: median_nmse(model, data.X_clean, oracle),
              True: median_nmse(model, data.X_clean[sub], oracle[sub])}

    def add(method, params, seconds, n_fit, on_subset=False):
        clean = data.X_clean[sub] if on_subset else data.X_clean
        err = median_nmse(model, clean, params)
        ratio = err / floors[on_subset]
        rows.append(dict(model=model.name, n=n, method=method, n_fit=n_fit, seconds=seconds,
                         seq_per_s=n_fit / seconds, median_nmse=err, ratio_to_oracle=ratio,
                         on_subset=on_subset))
        print(f"  {model.name:>10} n={n:>6} {method:<34} {n_fit / seconds:>10.0f} seq/s "
              f"{err:.2e} ({ratio:.2f}x oracle)", flush=True)

    add("oracle (LS on untouched samples)", oracle, t_oracle, n)
    configs = [(f"batched {loss}", dict(loss=loss)) for loss in LOSSES]
    configs.append((f"batched bisquare one-sided ({'/'.join(side)})",
                    dict(loss="bisquare", outlier_side=side)))
    for label, kw in configs:
        est = SymbolicLeastSquares(model, f_scale="auto", **kw).fit(data.X[:1])
        add(label, *timed(est.transform, data.X), n)
    for label, est in r2t.items():
        est.fit(data.X[:1])
        add(label, *timed(est.transform, data.X), n)
    if not slow:
        return rows
    Xs = data.X[sub]
    for loss in ("bisquare", "cauchy"):
        for solver in ("batched", "scipy"):
            est = SymbolicLeastSquares(model, loss=loss, f_scale="auto",
                                       solver=solver).fit(Xs[:1])
            add(f"{solver} {loss} (subset)", *timed(est.transform, Xs), Xs.shape[0], True)
    if model.linear_basis(model.t_hours(96)) is not None:
        for tuned, label in ((False, "(defaults)"), (True, "(LAD start, fixed scale)")):
            add(f"statsmodels RLM Tukey {label} (subset)",
                *timed(statsmodels_rlm, model, Xs, tuned), Xs.shape[0], True)
    return rows


# --------------------------------------------------------------- memory
_MEMORY_CHILD = r"""
import sys, numpy as np, torch
from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
n, chunk = int(sys.argv[1]), 100_000
X = np.empty((n, 96))
for s in range(0, n, chunk):
    X[s:s + chunk] = make_wearable_sequences(min(chunk, n - s), random_state=s).X
est = SymbolicLeastSquares(loss="bisquare", f_scale="auto").fit(X[:1])
def rss_kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
open("/proc/self/clear_refs", "w").write("5")  # reset the peak to the current RSS
before = rss_kb("VmRSS:")
P = est.transform(X)
peak = rss_kb("VmHWM:")
print(before, peak, X.nbytes // 1024, int(np.isnan(P).any(axis=1).sum()))
"""


def memory(n):
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(n)], capture_output=True,
                         text=True, check=True)
    before, peak, x_kb, n_nan = map(int, out.stdout.split()[-4:])
    return dict(n=n, input_mb=x_kb / 1024, rss_before_mb=before / 1024,
                peak_above_before_mb=(peak - before) / 1024, seconds=time.perf_counter() - t0,
                n_nan=n_nan)


# ----------------------------------------------------------------- report
def markdown(args, speed, mem, elapsed):
    lines = [
        "# Batched robust fitting: speed, accuracy, contamination",
        "",
        f"Command: `{' '.join(['python benchmarks/fit_speed.py', *sys.argv[1:]])}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}; total {elapsed / 60:.1f} min. Noise: "
        "the `combined` preset (severity 1) unless stated. Ratios: median normalised MSE "
        "over the oracle's (least squares on the samples no artefact touched) on the "
        "same sequences; 'subset' rows are timed and scored on the first "
        f"{args.subset} sequences.",
        "",
        "## Throughput and accuracy",
        "",
        "| model | n | method | seq / s | median NMSE | x oracle |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in speed:
        lines.append(f"| {r['model']} | {r['n']} | {r['method']} | {r['seq_per_s']:,.0f} | "
                     f"{r['median_nmse']:.2e} | {r['ratio_to_oracle']:.2f} |")
    lines += ["", "Speed-ups in this run (same sequences):", ""]
    for model in dict.fromkeys(r["model"] for r in speed):
        sub = {r["method"]: r for r in speed if r["model"] == model and r["on_subset"]}
        for loss in ("bisquare", "cauchy"):
            b, s = sub.get(f"batched {loss} (subset)"), sub.get(f"scipy {loss} (subset)")
            if b and s:
                speedup = b["seq_per_s"] / s["seq_per_s"]
                lines.append(
                    f"- {model}, {loss}: batched {b['seq_per_s']:,.0f} seq/s vs scipy "
                    f"{s['seq_per_s']:,.0f} seq/s: **{speedup:.0f}x** (x oracle "
                    f"{b['ratio_to_oracle']:.2f} vs {s['ratio_to_oracle']:.2f})"
                )
        for r in speed:
            if r["model"] == model and r["method"] == "batched bisquare" and r["n"] == 10_000:
                lines.append(
                    f"- {model}, bisquare on 10,000 sequences: {r['seq_per_s']:,.0f} seq/s"
                )
    lines += ["", "CosinorPy 3.1 installs but its `fit_me` fails on NumPy 2 (`np.round_` "
              "was removed), so it is not in the table.", ""]
    if mem:
        lines += ["## Memory", "",
                  f"{mem['n']:,} heart-rate sequences ({mem['input_mb']:.0f} MB of input), "
                  "`SymbolicLeastSquares(loss='bisquare', f_scale='auto').transform`: peak "
                  f"resident memory **{mem['peak_above_before_mb']:.0f} MB above** the process "
                  f"before the call (input included in that baseline), "
                  f"{mem['seconds']:.0f} s including generating the data.", ""]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--decay-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--subset", type=int, default=300,
                    help="sequences for the per-sequence (scipy, statsmodels) methods")
    ap.add_argument("--memory-n", type=int, default=1_000_000)
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.decay_sizes, args.subset = [500, 2000], [300], 40
        args.memory_n = 50_000
    start = time.perf_counter()
    print("throughput", flush=True)
    speed = throughput(HeartRate(), args.sizes, args.subset, args.random_state)
    speed += throughput(DECAY, args.decay_sizes, max(args.subset // 3, 20), args.random_state)
    print("memory", flush=True)
    mem = memory(args.memory_n)
    print(f"  {mem}", flush=True)
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (args.out / f"fit_speed{suffix}.json").write_text(json.dumps(
        dict(argv=sys.argv[1:], speed=speed, memory=mem,
             maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        indent=1))
    (args.out / f"fit_speed{suffix}.md").write_text(markdown(args, speed, mem, elapsed))
    print(f"wrote {args.out}/fit_speed{suffix}.md ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()
