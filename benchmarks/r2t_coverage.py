"""Simulation-based calibration of R2T's intervals: expected coverage across the prior.

For each model with shipped weights (the four built-ins and the generic cosinor):
``--n`` parameter vectors drawn from the model's prior, their curves corrupted with
the training noise (``curriculum``) and with ``combined`` noise at severities 1 and 3,
then ``transform(X, return_std=True)``. For each nominal level ``q`` the interval
``params +- z_q * std`` (circular for angles) should contain the true parameter a
share ``q`` of the time (the expected-coverage diagnostic of ``sbi``). The seeds
differ from the ones the shipped ``std_scale_`` was calibrated on.

Usage::

    python benchmarks/r2t_coverage.py        # a few minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import parameter_errors
from sklearn_r2t.symbolic import Cosinor, HeartRate, SkinTemperature, SpO2, Wearable

RESULTS = Path(__file__).resolve().parent / "results"
LEVELS = (0.5, 0.8, 0.9, 0.95)
NOISES = (("curriculum", 1.0), ("combined", 1.0), ("combined", 3.0))


def coverage(model, n, seed):
    est = R2TRegressor(model).fit(np.zeros((1, 96, model.n_channels)))
    out = {}
    for k, (noise, severity) in enumerate(NOISES):
        data = make_wearable_sequences(n, model=model, noise=noise, severity=severity,
                                       random_state=seed + k)
        params, std = est.transform(data.X, return_std=True)
        ok = np.isfinite(params).all(axis=1)
        z = np.abs(parameter_errors(model, data.params[ok], params[ok])) / std[ok]
        out[f"{noise} x{severity:g}"] = {
            f"{q:.0%}": dict(zip(model.param_names,
                                 (np.mean(z <= norm.ppf(0.5 + q / 2), axis=0)).round(4).tolist(),
                                 strict=True))
            for q in LEVELS}
    return est.input_scaling_, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7000)
    args = parser.parse_args(argv)
    command = "python benchmarks/r2t_coverage.py " + " ".join(sys.argv[1:])
    lines = ["# R2T: coverage of the intervals across the prior", "",
             f"Produced by `{command.strip()}`.", "",
             f"{args.n} sequences per model and noise, parameters drawn from the model's "
             "prior; share of the true parameters inside `params +- z * std` at each "
             "nominal level. 90 % intervals should cover 85-95 %.", ""]
    results = {}
    for model in (HeartRate(), SkinTemperature(), SpO2(), Wearable(), Cosinor()):
        scaling, cov = coverage(model, args.n, args.seed)
        name = type(model).__name__
        results[name] = {"input_scaling": scaling, "coverage": cov}
        lines += [f"## {name} ({scaling} input)", "",
                  "| noise | level | " + " | ".join(model.param_names) + " |",
                  "|---|---:|" + "---:|" * model.n_params]
        for noise, by_level in cov.items():
            for level, vals in by_level.items():
                lines.append(f"| {noise} | {level} | "
                             + " | ".join(f"{v:.1%}" for v in vals.values()) + " |")
        lines.append("")
        print(name, {k: v["90%"] for k, v in cov.items()}, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "r2t_coverage.md").write_text("\n".join(lines))
    (RESULTS / "r2t_coverage.json").write_text(json.dumps(
        {"command": command, "levels": LEVELS, "results": results}, indent=1))


if __name__ == "__main__":
    main()
