"""A full-length training with other loss weights, against the shipped weights.

The ablation in ``r2t_accuracy.py`` trains every variant for 90 s; this trains one
variant for as long as the shipped weights were trained and sweeps the
contamination levels beside them, on the same sequences.

Usage::

    python benchmarks/r2t_loss_terms.py --loss-weights '{"mask": 1}' --minutes 12 --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.symbolic import HeartRate

RESULTS = Path(__file__).resolve().parent / "results"


def median_nmse(model, data, params):
    return float(np.nanmedian(normalized_mse(model, data.X_clean, model.evaluate(params, 96))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loss-weights", type=json.loads, required=True)
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = HeartRate()
    start = time.perf_counter()
    variant = R2TRegressor(model, pretrained=False, loss_weights=args.loss_weights,
                           max_epochs=100_000, max_time=args.minutes * 60, patience=1000,
                           random_state=args.seed).fit(np.zeros((1, 96)))
    seconds = time.perf_counter() - start
    shipped = R2TRegressor(model, pretrained=True).fit(np.zeros((1, 96)))
    label = json.dumps(args.loss_weights)
    lines = ["# R2T loss weights at full length (HeartRate)", "",
             f"Command: `python {' '.join(sys.argv)}`  ",
             f"Trained {seconds / 60:.1f} min ({variant.n_steps_} steps) with "
             f"`loss_weights={label}`; the shipped weights use every term at weight 1. "
             f"`combined` noise, {args.n_test} sequences per level, ratio to the oracle.", "",
             f"| severity | touched | shipped (all terms) | {label} |", "|---:|---:|---:|---:|"]
    for severity in (1.0, 2.0, 3.0, 4.0, 5.0):
        data = make_wearable_sequences(args.n_test, model=model, severity=severity,
                                       random_state=args.seed + 500 + int(severity))
        floor = median_nmse(model, data, oracle_fit(model, data.X, data.artefact_mask))
        touched = data.artefact_mask[~np.isnan(data.X)].mean()
        a = median_nmse(model, data, shipped.transform(data.X)) / floor
        b = median_nmse(model, data, variant.transform(data.X)) / floor
        lines.append(f"| {severity:g} | {touched:.0%} | {a:.2f} | {b:.2f} |")
        print(lines[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "r2t_loss_terms.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
