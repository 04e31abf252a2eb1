"""How well ``R2TRegressor(max_time=...)`` holds its budget, and whether it repeats.

For each budget: a fit from scratch (default architecture, heart rate) under
``max_time``; the seconds the fit took (``fit_time_``) against the budget; the
steps it planned (``n_steps_``); then a second fit with ``max_steps=n_steps_`` and
no time budget, whose parameters must equal the first's bit for bit (the
learning-rate schedule depends on steps only). Writes a markdown table.

Usage::

    python benchmarks/r2t_budget.py --budgets 5 10 20 --out benchmarks/results/r2t_budget.md
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from sklearn_r2t import R2TRegressor
from sklearn_r2t.datasets import make_wearable_sequences


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", nargs="+", type=float, default=[5.0, 10.0, 20.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    X = make_wearable_sequences(200, noise="combined", random_state=args.seed).X
    rows = []
    for budget in args.budgets:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            timed = R2TRegressor(pretrained=False, max_time=budget,
                                 random_state=args.seed).fit(X)
        cut = any("ran out" in str(w.message) for w in caught)
        start = time.perf_counter()
        again = R2TRegressor(pretrained=False, max_steps=timed.n_steps_,
                             random_state=args.seed).fit(X)
        repeat_seconds = time.perf_counter() - start
        same = np.array_equal(timed.transform(X), again.transform(X))
        steps = [h["steps"] for h in timed.history_]
        rows.append((budget, timed.fit_time_, timed.n_steps_, len(timed.history_),
                     steps[-1], cut, same, repeat_seconds))
        print(rows[-1], flush=True)
    lines = ["# R2T: time budget adherence and repeatability", "",
             f"`{' '.join(['python', *sys.argv])}` ({time.strftime('%Y-%m-%d')}), "
             f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), on a 2-core "
             "machine shared with other jobs. Default architecture, heart rate, "
             "trained from scratch.", "",
             "| max_time (s) | fit took (s) | over budget (s) | steps planned | epochs | "
             "steps run | backstop fired | refit with max_steps=n_steps_ identical | "
             "refit took (s) |",
             "|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for budget, took, n_steps, epochs, run, cut, same, again in rows:
        lines.append(f"| {budget:g} | {took:.1f} | {took - budget:+.1f} | {n_steps} | {epochs} "
                     f"| {run} | {'yes' if cut else 'no'} | {'yes' if same else 'NO'} "
                     f"| {again:.1f} |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
