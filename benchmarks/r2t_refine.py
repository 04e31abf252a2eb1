"""Does R2T's ``refine`` help the weighted head anywhere? (Why it is deprecated.)

For every built-in model with shipped weighted-head weights: the blend weight that
``fit`` calibrates (``refine=True``: Cauchy, on the ``curriculum`` training noise),
then, on held-out ``combined`` noise at severity 0 to 5, the median normalised MSE
as a ratio to the oracle of the network's estimate and of its blends
``(1 - w) * r2t + w * refined`` (w = 0.25, 0.5, 1) with a robust refit started
from it: Cauchy (``refine=True``), soft-L1 and Huber (the other losses ``refine``
takes) and Tukey's bisquare (a candidate it never had), all at ``f_scale='auto'``.

Usage::

    python benchmarks/r2t_refine.py             # a few minutes on 2 cores

Writes ``benchmarks/results/r2t_refine.md`` (with the command).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.least_squares import fit_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.r2t._calibration import _calibrate_refine
from sklearn_r2t.r2t._inference import _as_3d, _network_params, blend
from sklearn_r2t.symbolic import HeartRate, SkinTemperature, SpO2, Wearable

RESULTS = Path(__file__).parent / "results"
LOSSES = ("cauchy", "soft_l1", "huber", "bisquare")
WEIGHTS = (0.25, 0.5, 1.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sequences", type=int, default=300)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    lines = [
        "# R2T's refine against the weighted head",
        "",
        f"Command: `python {' '.join(sys.argv)}`  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 shared CPUs.",
        "",
        "Ratio of median normalised MSE to the oracle's, held-out `combined` noise, "
        f"{args.n_sequences} sequences per level. `r2t`: the shipped weighted head as "
        "it is. Each refit column: the blend with w = 0.25 / 0.5 / 1 (1 = the refit "
        "alone). **Bold**: a blend below the network by more than 2 % (the medians of "
        f"{args.n_sequences} sequences move by about that from one draw to the next).",
        "",
    ]
    gains = []
    for model in (HeartRate(), SkinTemperature(), SpO2(), Wearable()):
        name = type(model).__name__
        X_fit = make_wearable_sequences(4, model=model, random_state=0).X
        r2t = R2TRegressor(model, pretrained=True).fit(X_fit)
        w_cal = _calibrate_refine(r2t.module_, model, "curriculum", 96, True,
                                  args.random_state)
        lines += [f"## {name}: calibrated blend weight {w_cal:g}", "",
                  "| severity | touched | r2t | " + " | ".join(LOSSES) + " |",
                  "|---:|---:|---:|" + "---:|" * len(LOSSES)]
        for sev in range(6):
            d = make_wearable_sequences(args.n_sequences, model=model, severity=sev,
                                        random_state=args.random_state + 100 + sev)
            X3 = _as_3d(d.X)
            ok = ~np.isnan(X3).all(axis=1).any(axis=1)
            touched = d.artefact_mask[ok][~np.isnan(d.X[ok])].mean()
            oracle = np.nanmedian(normalized_mse(model, d.X_clean[ok], model.evaluate(
                oracle_fit(model, d.X[ok], d.artefact_mask[ok]), 96)))

            def score(P, d=d, ok=ok, oracle=oracle, model=model):
                curves = model.evaluate(P, 96)
                return np.nanmedian(normalized_mse(model, d.X_clean[ok], curves)) / oracle

            net = _network_params(r2t.module_, model, X3[ok])[0]
            base = score(net)
            cells = []
            for loss in LOSSES:
                refit = fit_sequences(model, X3[ok], loss=loss, f_scale="auto", x0=net,
                                      n_restarts=1)
                s = [score(blend(model, net, refit, w)) for w in WEIGHTS]
                gains.append((name, sev, loss, min(s) / base))
                cells.append(" / ".join(f"**{v:.2f}**" if v < 0.98 * base else f"{v:.2f}"
                                        for v in s))
            lines.append(f"| {sev} | {touched:.0%} | {base:.2f} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
        lines.append("")
    best = min(gains, key=lambda g: g[3])
    lines += [
        "## Summary",
        "",
        f"- Best blend anywhere: {best[0]}, severity {best[1]}, {best[2]}: "
        f"{best[3]:.3f}x the network's ratio.",
        f"- Blends more than 2 % better than the network: "
        f"{sum(g[3] < 0.98 for g in gains)} of {len(gains)} (model, severity, loss) cells; "
        f"more than 2 % worse: {sum(g[3] > 1.02 for g in gains)}.",
        f"- {time.perf_counter() - t0:.0f} s in all.",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "r2t_refine.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
