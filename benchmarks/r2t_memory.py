"""Peak memory of ``R2TRegressor.transform`` on many heart-rate sequences.

The sequences are generated once into an ``.npy`` file; a fresh child process
loads them, fits (shipped weights: instant), and transforms them, reading its
peak resident set size (``ru_maxrss``) before and after. Reported: the input's
size, the RSS just before ``transform`` (imports, model, input), and the peak
above the input (peak RSS minus the input's bytes) and above the pre-transform RSS.

Usage::

    python benchmarks/r2t_memory.py --n-sequences 1000000 --out benchmarks/results/r2t_memory.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, time
import numpy as np
from sklearn_r2t import R2TRegressor

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

X = np.load(sys.argv[1])
est = R2TRegressor().fit(X[:8])
before = rss_mb()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
params = est.transform(X)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"input_mb": X.nbytes / 2**20, "rss_before_mb": before,
                  "peak_before_transform_mb": peak_before, "peak_mb": peak,
                  "seconds": seconds, "finite": bool(np.isfinite(params).all())}))
"""


def generate(path: Path, n_sequences: int, seed: int, chunk: int = 50_000) -> None:
    from sklearn_r2t.datasets import make_wearable_sequences

    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_sequences, 96))
    for i, start in enumerate(range(0, n_sequences, chunk)):
        n = min(chunk, n_sequences - start)
        X[start:start + n] = make_wearable_sequences(n, noise="gaussian",
                                                     random_state=seed + i).X
    X.flush()
    del X


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-sequences", type=int, default=1_000_000)
    parser.add_argument("--data", default="/tmp/r2t_memory_X.npy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="append a markdown row here")
    parser.add_argument("--label", default="this checkout")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_file() or np.load(data, mmap_mode="r").shape[0] != args.n_sequences:
        generate(data, args.n_sequences, args.seed)
    # Run from / so that the code measured is the one on PYTHONPATH (or installed),
    # not a checkout that happens to be the working directory.
    result = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(data.resolve())],
                                       check=True, capture_output=True, text=True,
                                       env=os.environ, cwd="/").stdout)
    result["code"] = subprocess.run(
        [sys.executable, "-c", "import sklearn_r2t; print(sklearn_r2t.__file__)"],
        capture_output=True, text=True, env=os.environ, cwd="/").stdout.strip()
    result["peak_above_input_mb"] = result["peak_mb"] - result["input_mb"]
    result["peak_above_rss_before_mb"] = result["peak_mb"] - result["rss_before_mb"]
    print(json.dumps(result, indent=2))
    if args.out:
        out = Path(args.out)
        if not out.is_file():
            out.write_text(
                "# R2T transform: peak memory\n\n"
                "Heart-rate sequences of 96 steps (float64), shipped weights, CPU. "
                "RSS in MiB.\n\n"
                "| code | sequences | input | RSS before transform | peak RSS | "
                "peak above input | peak above RSS before | seconds | command |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
        with out.open("a") as f:
            f.write(f"| {args.label} | {args.n_sequences:,} | {result['input_mb']:.0f} | "
                    f"{result['rss_before_mb']:.0f} | {result['peak_mb']:.0f} | "
                    f"{result['peak_above_input_mb']:.0f} | "
                    f"{result['peak_above_rss_before_mb']:.0f} | {result['seconds']:.0f} | "
                    f"`{' '.join(['python', *sys.argv])}` ({time.strftime('%Y-%m-%d')}) |\n")


if __name__ == "__main__":
    main()
