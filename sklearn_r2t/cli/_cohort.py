"""``sklearn-r2t fit`` on a cohort: several files, a folder or a glob pattern.

One task per file through :func:`sklearn_r2t.cohort.run_cohort`: in this process,
on a local ``dask.distributed`` cluster (``--workers N``) or on a running one
(``--scheduler ADDRESS``). Each task runs the single-file path
(:func:`~sklearn_r2t.cli._fit.fit_recording`) with the same options.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import os
import sys
import time
from pathlib import Path

from ._common import CLIError, _require
from ._fit import _check_timezone, fit_recording, fit_setup, read_for_fit

COHORT_HINT = 'pip install "sklearn-r2t[cohort]"'
# options that change the numbers: a folder fitted with others is not resumed
_RESULT_OPTIONS = ("command", "model", "method", "outlier_side", "columns", "time_column",
                   "date_column", "timezone", "start_hour", "min_coverage", "n_timesteps",
                   "intervals", "random_state")
# options a task needs (those above and how it runs)
_TASK_OPTIONS = (*_RESULT_OPTIONS, "n_jobs", "batch_size")


def is_cohort(args: argparse.Namespace) -> bool:
    """Several recordings, a folder, a pattern, or a cohort option."""
    from ..cohort import _GLOB_CHARS

    files = args.files
    one = Path(files[0])
    pattern = not one.is_file() and _GLOB_CHARS.search(files[0]) is not None
    return (len(files) > 1 or one.is_dir() or pattern or args.workers is not None
            or args.scheduler is not None or args.overwrite)


class _FitTask:
    """One file through ``fit_recording``; methods built once per process."""

    _cache: dict = {}

    def __init__(self, options: dict):
        self.options = options

    def _setup(self):
        key = repr(sorted(self.options.items()))
        if key not in self._cache:
            args = argparse.Namespace(**self.options, list_methods=False)
            self._cache.clear()  # one set of methods per process
            self._cache[key] = (args, *fit_setup(args))
        return self._cache[key]

    def __call__(self, path):
        args, fit_model, methods = self._setup()
        return fit_file(path, methods, fit_model, args)


def fit_file(path, methods, fit_model, args):
    """One recording through the single-file path: its table (plus ``source``), the
    days fitted and skipped, and the warnings of its log."""
    import pandas as pd

    log = io.StringIO()
    path = Path(path)
    table, columns = read_for_fit(path, fit_model, args, log=log)
    rows, curves = fit_recording(
        table, methods, fit_model, args.model, columns=columns, file=path.name,
        n_timesteps=args.n_timesteps, start_hour=args.start_hour,
        min_coverage=args.min_coverage, intervals=args.intervals,
        random_state=args.random_state, batch_size=args.batch_size, progress=False, log=log,
    )
    windows = {name: win for name, _, win, _ in curves}  # one per channel
    summary = {"windows_fitted": sum(len(w.start) for w in windows.values()),
               "windows_skipped": sum(len(w.skipped) for w in windows.values())}
    frame = pd.DataFrame(rows)
    frame.insert(0, "source", str(path))
    warnings = " | ".join(line for line in log.getvalue().splitlines()
                          if line.startswith("warning"))
    return frame, summary, warnings


def _client(args):
    """A client of the local cluster (``--workers``) or the given one, or None."""
    if args.workers is None and args.scheduler is None:
        return None, None
    if importlib.util.find_spec("distributed") is None:
        option = "--workers" if args.workers is not None else "--scheduler"
        raise CLIError(f"{option} needs dask.distributed, which is not installed: "
                       f"{COHORT_HINT}")
    from distributed import Client, LocalCluster

    if args.scheduler is not None:
        try:
            return Client(args.scheduler, timeout="30s"), None
        except OSError as exc:
            raise CLIError(f"--scheduler {args.scheduler}: cannot connect: {exc}") from exc
    # processes (torch and pandas hold the GIL), one file at a time each; the nanny
    # starts them with one OpenMP thread, and restarts one that exceeds its memory.
    # No dashboard, so no statistical profiler: it cost the workers 14 % more CPU per
    # file (35 against 41 ms, 196 files, 2 workers on 2 cores)
    import dask

    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=args.memory_limit, dashboard_address=None)
    return Client(cluster), cluster


def run_cohort(args: argparse.Namespace) -> int:
    """``fit``/``compare`` on many recordings: parts, manifest, resumable."""
    from ..cohort import MANIFEST, PARTS, find_recordings, run_cohort

    _require("pandas", f"sklearn-r2t {args.command}")
    _require("pyarrow", "a cohort's Parquet dataset")
    if args.figure is not None:
        raise CLIError("--figure: a cohort run writes no figures (fit one file for one)",
                       status=2)
    if args.workers is not None and args.scheduler is not None:
        raise CLIError("--workers and --scheduler: choose one", status=2)
    output = Path(args.output or f"{args.command}_cohort")
    if output.suffix.lower() in (".csv", ".tsv", ".parquet", ".png"):
        raise CLIError(f"--output {output}: a cohort writes a folder, not a "
                       f"{output.suffix} file", status=2)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output {output} is a file; a cohort writes a folder", status=2)
    if not os.access(output.parent if str(output.parent) else Path("."), os.W_OK):
        raise CLIError(f"--output {output}: not writable", status=2)
    try:
        paths = find_recordings(args.files)
    except FileNotFoundError as exc:
        raise CLIError(str(exc), status=2) from exc
    if args.timezone is not None:
        _check_timezone(args.timezone)
    fit_setup(args)  # bad --method, --outlier-side, ...: before any file is read
    options = {k: getattr(args, k) for k in _TASK_OPTIONS}
    options["no_progress"] = True
    fingerprint = {k: options[k] for k in _RESULT_OPTIONS}
    from .._version import __version__

    fingerprint["version"] = __version__
    client, cluster = _client(args)
    where = ("this process" if client is None else
             f"{len(client.nthreads())} worker(s) at {client.scheduler.address}")
    print(f"sklearn-r2t {args.command}: {len(paths)} recording(s) -> {output}/ on {where}",
          file=sys.stderr)
    t0 = time.perf_counter()
    try:
        manifest = run_cohort(_FitTask(options), paths, output, fingerprint,
                              overwrite=args.overwrite, client=client,
                              progress=not args.no_progress)
    except (ValueError, NotADirectoryError) as exc:
        raise CLIError(str(exc), status=2) from exc
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            # a loaded machine takes more than the nanny's 4 s to stop a worker: not news
            logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
            cluster.close()
    seconds = time.perf_counter() - t0
    counts = manifest["status"].value_counts()
    print(f"{len(manifest)} recording(s): {counts.get('ok', 0)} ok, "
          f"{counts.get('skipped', 0)} skipped (no window with enough coverage), "
          f"{counts.get('failed', 0)} failed; {int(manifest['days_fitted'].sum())} days "
          f"fitted, {int(manifest['days_skipped'].sum())} skipped for coverage; "
          f"{seconds:.1f} s")
    print(f"results: {output / PARTS}/ (one Parquet part per recording); "
          f"manifest: {output / MANIFEST}")
    failed = manifest[manifest["status"] == "failed"]
    for _, row in failed.head(5).iterrows():
        print(f"failed: {row['file']}: {row['message']}", file=sys.stderr)
    if len(failed) > 5:
        print(f"... and {len(failed) - 5} more (see {output / MANIFEST})", file=sys.stderr)
    return 1 if len(failed) else 0


def add_cohort_arguments(p: argparse.ArgumentParser) -> None:
    """The options of a cohort run (several files, a folder or a pattern)."""
    g = p.add_argument_group(
        "cohorts (several FILEs, a folder or a glob pattern)",
        "Writes OUTPUT/parameters/ (one Parquet part per recording, the tidy columns plus "
        "'source') and OUTPUT/manifest.csv (per file: ok/skipped/failed, message, days "
        "fitted and skipped, seconds). A run started again fits only the files not "
        "finished. Exit status 1 if some file failed.")
    g.add_argument("--workers", type=_workers, default=None, metavar="N",
                   help="fit on a local dask cluster of N processes, one file at a time "
                        f"each ({COHORT_HINT})")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="fit on a running dask cluster, e.g. tcp://10.0.0.1:8786 (workers "
                        "must see the files and OUTPUT)")
    g.add_argument("--memory-limit", default="auto", metavar="BYTES",
                   help="memory per local worker, e.g. 2GB; a worker above it is restarted "
                        "and its file reported failed (default: auto, the machine's "
                        "memory shared out)")
    g.add_argument("--overwrite", action="store_true",
                   help="fit every file again (default: skip those already finished)")


def _workers(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value
