"""A retrained R2T weight file against the shipped one and the classical rivals.

The decision rule for shipping retrained weights: on the same sequences (``combined``
noise, severity 0 to 5), the candidate must be no worse than the shipped file
beyond noise. Beside them, the rivals a robust statistician would pick: the
bisquare (MAD scale) and the one-sided bisquare on the side the model's artefacts
push. Produce a candidate with, e.g.::

    python benchmarks/train_pretrained.py --models heart_rate --minutes 42 --threads 1 \\
        --loss-weights '{"mask": 1}' --out-dir /tmp/candidate

then::

    python benchmarks/r2t_robust_retrain.py /tmp/candidate/heart_rate_t96.pt --model heart_rate

Prints the ratio of each to the oracle per severity; ``--out FILE`` also writes the
table (Markdown, with the command) and a JSON beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from sklearn_r2t import R2TRegressor, SymbolicLeastSquares
from sklearn_r2t._compare import compare_methods
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.noise import typical_outlier_side
from sklearn_r2t.r2t._weights import _GENERIC_MODELS, _PRETRAINED_MODELS, load_weights

MODELS = {**_PRETRAINED_MODELS, **_GENERIC_MODELS}


def candidate_estimator(path, model, n_timesteps=96):
    """An R2TRegressor carrying the tensors and calibration of a weight file."""
    payload = load_weights(path, model, n_timesteps)
    X0 = np.zeros((1, n_timesteps, model.n_channels))
    est = R2TRegressor(model, input_scaling=payload["input_scaling"], pretrained=False,
                       max_steps=1, n_synthetic=64, batch_size=64, random_state=0).fit(X0)
    est.module_.load_state_dict(payload["state_dict"])
    if "calibration" in payload:  # as a fit with the file shipped would have them
        est.std_scale_ = np.asarray(payload["calibration"]["std_scale"])
    if "score_reference" in payload:
        est.score_reference_ = payload["score_reference"]
    return est, payload


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights")
    parser.add_argument("--model", default="heart_rate", choices=list(MODELS))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--label", default="candidate",
                        help="the weight file's column name in the table")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the table here (Markdown) and a JSON beside it")
    args = parser.parse_args(argv)
    command = "python benchmarks/r2t_robust_retrain.py " + " ".join(sys.argv[1:])
    model = MODELS[args.model]()
    X0 = np.zeros((1, 96, model.n_channels))
    shipped = R2TRegressor(model).fit(X0)
    candidate, payload = candidate_estimator(args.weights, model)
    side = typical_outlier_side(model)
    methods = {
        f"shipped ({shipped.input_scaling_})": shipped,
        f"{args.label} ({payload['input_scaling']})": candidate,
        "bisquare": SymbolicLeastSquares(model, loss="bisquare", f_scale="auto"),
        "one-sided bisquare": SymbolicLeastSquares(model, loss="bisquare", f_scale="auto",
                                                   outlier_side=side),
    }
    rows = []
    print("severity | touched | " + " | ".join(methods)
          + "  (median normalised MSE / oracle's)")
    for sev in range(6):
        d = make_wearable_sequences(args.n, model=model, noise="combined", severity=sev,
                                    random_state=args.seed + sev)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            # fitted estimators (both R2T files) are used as they are
            scored = compare_methods(list(methods.items()), d, model)
        row = {"severity": sev, "touched": float(d.artefact_mask[~np.isnan(d.X)].mean()),
               **{r["method"]: r["ratio_to_oracle"] for r in scored[1:]}}
        rows.append(row)
        print(f"{sev} | {row['touched']:.0%} | "
              + " | ".join(f"{row[n]:.2f}" for n in methods), flush=True)
    if args.out:
        lines = [f"# R2T retrain: `{args.model}`", "", f"Produced by `{command}`.", "",
                 f"{args.n} synthetic days per severity (`combined` noise); median "
                 "normalised MSE over the oracle's (1.00 is the floor). One-sided: "
                 f"`outlier_side={side}`.", "",
                 "| severity | touched | " + " | ".join(methods) + " |",
                 "|---:|---:|" + "---:|" * len(methods)]
        lines += [f"| {r['severity']} | {r['touched']:.0%} | "
                  + " | ".join(f"{r[n]:.2f}" for n in methods) + " |" for r in rows]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"command": command, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
