"""The generic cosinor's R2T weights against the classical robust fits, with truth.

``R2TRegressor(Cosinor())`` (shipped weights, robust input scaling) on synthetic
one-harmonic days of ``Cosinor()``'s prior with ``combined`` noise at severities 0
to 5, beside Cauchy and Tukey's bisquare (MAD scale, ``f_scale='auto'``), the
one-sided bisquare (``outlier_side='above'``: right for the generic upward
artefacts) and OLS; each as its median normalised MSE over the oracle's (least
squares on the samples no artefact touched). The same days in counts-like units
(``300 + 1000 * (X - 0.5)``) give R2T the same ratios (equivariance), which the
table checks. A second table: days with Gaussian noise only, at falling
signal-to-noise ratios, as a ratio to OLS.

Usage::

    python benchmarks/r2t_generic_cosinor.py      # a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.noise import Compose, GaussianNoise, make_noise
from sklearn_r2t.symbolic import Cosinor

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--severities", type=float, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    command = "python benchmarks/r2t_generic_cosinor.py " + " ".join(sys.argv[1:])
    model = Cosinor()
    methods = {
        "R2T (generic cosinor)": R2TRegressor(model),
        "Cauchy (auto)": SymbolicLeastSquares(model, loss="cauchy", f_scale="auto"),
        "Bisquare (auto)": SymbolicLeastSquares(model, loss="bisquare", f_scale="auto"),
        "Bisquare one-sided (above)": SymbolicLeastSquares(
            model, loss="bisquare", f_scale="auto", outlier_side="above"),
        "OLS": SymbolicLeastSquares(model, loss="linear"),
    }
    rows = []
    for k, sev in enumerate(args.severities):
        d = make_wearable_sequences(args.n, model=model, noise="combined", severity=sev,
                                    random_state=args.seed + k)
        oracle = np.median(normalized_mse(model, d.X_clean, model.evaluate(
            oracle_fit(model, d.X, d.artefact_mask), 96)))
        row = {"severity": sev, "touched": float(d.artefact_mask[~np.isnan(d.X)].mean())}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for name, est in methods.items():
                curves = est.fit(d.X).predict(d.X)
                row[name] = float(np.median(normalized_mse(model, d.X_clean, curves)) / oracle)
            # the same days in other units: R2T's curves map back exactly
            r2t = methods["R2T (generic cosinor)"]
            scaled = (r2t.predict(300 + 1000 * (d.X - 0.5)) - 300) / 1000 + 0.5
            row["R2T, counts-like units"] = float(
                np.median(normalized_mse(model, d.X_clean, scaled)) / oracle)
        rows.append(row)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()},
              flush=True)
    # Low signal-to-noise days with no artefact: Gaussian noise only, of SD 0.01 (the
    # training noise) plus `extra` (of the unit span; amplitudes are 0.02-0.2).
    # Ratio to OLS, the efficient fit there.
    low_snr = []
    Xc = model.evaluate(model.sample_params(args.n, random_state=np.random.RandomState(
        args.seed + 100)), 96)
    for extra in (0.0, 0.01, 0.03, 0.05, 0.1):
        noise = (Compose([make_noise("gaussian", model), GaussianNoise(extra)], model=model)
                 if extra else make_noise("gaussian", model))
        X = noise(Xc, random_state=args.seed + 101)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            err = {name: float(np.median(normalized_mse(model, Xc, (
                est if name.startswith("R2T") else est.fit(X)).predict(X))))
                for name, est in methods.items()}
        low_snr.append({"extra_sd": extra, **{k: v / err["OLS"] for k, v in err.items()}})
        print(low_snr[-1], flush=True)
    names = [*methods, "R2T, counts-like units"]
    lines = ["# R2T: the generic cosinor's weights against the classical fits", "",
             f"Produced by `{command.strip()}`.", "",
             f"{args.n} synthetic `Cosinor()` days per severity (`combined` noise); median "
             "normalised MSE over the oracle's (1.00 is the floor).", "",
             "| severity | touched | " + " | ".join(names) + " |",
             "|---:|---:|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['severity']:g} | {r['touched']:.0%} | "
                     + " | ".join(f"{r[n]:.2f}" for n in names) + " |")
    lines += ["", "Low signal-to-noise days without artefacts: Gaussian noise of SD 0.01 "
              "plus the extra SD below (fractions of the unit span; `Cosinor()`'s "
              "amplitudes are 0.02-0.2); median normalised MSE over OLS's, the efficient "
              "fit there.", "",
              "| extra noise SD | " + " | ".join(methods) + " |",
              "|---:|" + "---:|" * len(methods)]
    lines += [f"| {r['extra_sd']:g} | " + " | ".join(f"{r[n]:.2f}" for n in methods) + " |"
              for r in low_snr]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "r2t_generic_cosinor.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "r2t_generic_cosinor.json").write_text(json.dumps(
        {"command": command, "rows": rows, "low_snr": low_snr}, indent=1))


if __name__ == "__main__":
    main()
