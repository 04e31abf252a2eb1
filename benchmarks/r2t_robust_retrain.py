"""A robust-input retrain of a physiological model against its shipped weights.

The decision rule for shipping retrained weights: on the same sequences (``combined``
noise, severity 0 to 5), the candidate must be no worse than the shipped file
beyond noise. Produce a candidate with, e.g.::

    python benchmarks/train_pretrained.py --models heart_rate --minutes 14 --threads 1 \\
        --loss-weights '{"mask": 1}' --out-dir /tmp/candidate

then::

    python benchmarks/r2t_robust_retrain.py /tmp/candidate/heart_rate_t96.pt

Prints the ratio of each to the oracle per severity (writes nothing: the candidate is
not part of the repository).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences
from sklearn_r2t.metrics import normalized_mse, oracle_fit
from sklearn_r2t.r2t._weights import _PRETRAINED_MODELS, load_weights


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights")
    parser.add_argument("--model", default="heart_rate", choices=list(_PRETRAINED_MODELS))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    model = _PRETRAINED_MODELS[args.model]()
    X0 = np.zeros((1, 96, model.n_channels))
    shipped = R2TRegressor(model).fit(X0)
    payload = load_weights(args.weights, model, 96)
    candidate = R2TRegressor(model, input_scaling=payload["input_scaling"], pretrained=False,
                             max_steps=1, n_synthetic=64, batch_size=64, random_state=0).fit(X0)
    candidate.module_.load_state_dict(payload["state_dict"])
    print("severity | touched | shipped | candidate  (median normalised MSE / oracle's)")
    for sev in range(6):
        d = make_wearable_sequences(args.n, model=model, noise="combined", severity=sev,
                                    random_state=args.seed + sev)
        oracle = np.median(normalized_mse(model, d.X_clean, model.evaluate(
            oracle_fit(model, d.X, d.artefact_mask), 96)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r = [np.median(normalized_mse(model, d.X_clean, e.predict(d.X))) / oracle
                 for e in (shipped, candidate)]
        print(f"{sev} | {d.artefact_mask[~np.isnan(d.X)].mean():.0%} | {r[0]:.2f} | {r[1]:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
