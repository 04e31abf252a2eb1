"""Fit cohorts: many recordings in one call, in one process or on a dask cluster.

- :func:`fit_recordings`: read, window and fit every recording of a cohort with one
  fitted sequence estimator; write a partitioned Parquet dataset (one part per
  recording) and a manifest (one row per recording: ok, skipped or failed, with the
  message, the days fitted and skipped, the seconds). One bad file never stops the
  run; a run started again only fits the files it has not finished (each part is
  written to a temporary file and renamed, so a killed run leaves no half part).
- :func:`transform_days`: the same estimator over a :class:`dask.array.Array` or a
  dask DataFrame of days, block by block.
- :func:`find_recordings`: files, folders and glob patterns as a list of files.

``sklearn-r2t fit`` on several files, a folder or a pattern runs the same engine.
Tasks go to a :class:`distributed.Client` when one is given (``pip install
"sklearn-r2t[cohort]"``); results do not depend on where a file was fitted: every
file is fitted alone, on one thread.

Output folder::

    OUTPUT/parameters/<stem>-<hash>.parquet   one part per recording (the dataset)
    OUTPUT/manifest.csv                        one row per recording of the last run
    OUTPUT/_done/<stem>-<hash>.json            what each finished file reported
    OUTPUT/_options.json                       the options the results were fitted with
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_COLUMNS", "find_recordings", "fit_recordings", "transform_days"]

#: Columns of ``manifest.csv``, in order.
MANIFEST_COLUMNS = ("file", "status", "message", "days_fitted", "days_skipped", "rows",
                    "seconds", "cpu_seconds", "part")
PARTS, DONE, MANIFEST, OPTIONS = "parameters", "_done", "manifest.csv", "_options.json"
_GLOB_CHARS = re.compile(r"[*?\[]")


# --------------------------------------------------------------------------- inputs
def find_recordings(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Files, folders and glob patterns as one list of recordings.

    Parameters
    ----------
    paths : str, path-like or iterable of them
        Files (taken as they are, whatever their suffix: one that cannot be read
        fails on its own), folders (the files directly inside whose suffix has a
        reader, sorted) and glob patterns such as ``'cohort/*.csv'`` or
        ``'cohort/**/*.csv'`` (recursive; matches sorted, suffixes with a reader
        only).

    Returns
    -------
    files : list of pathlib.Path
        In the order given, each file once.

    Raises
    ------
    FileNotFoundError
        A path that is neither a file nor a folder and no pattern, or a folder or
        pattern without one recording.
    """
    from .recordings import READERS

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: dict[str, Path] = {}
    for entry in paths:
        p = Path(entry)
        if p.is_file():
            matches = [p]
        elif p.is_dir():
            matches = sorted(f for f in p.iterdir() if _is_recording(f))
        elif _GLOB_CHARS.search(str(entry)):
            matches = sorted(Path(f) for f in glob.glob(str(entry), recursive=True)
                             if _is_recording(Path(f)))
        else:
            raise FileNotFoundError(f"no such file or folder: {entry}")
        if not matches:
            raise FileNotFoundError(
                f"no recording ({', '.join(sorted(READERS))}) in {entry}")
        for f in matches:
            found.setdefault(os.path.abspath(f), f)
    return list(found.values())


def _is_recording(path: Path) -> bool:
    """A file whose suffix has a reader (compressed or not: ``x.csv.gz``)."""
    from .recordings import READERS
    from .recordings._formats import _split_suffix

    return path.is_file() and _split_suffix(path)[0] in READERS


def part_name(path: str | os.PathLike) -> str:
    """Stable, unique name of a recording's part: its stem and a hash of its path."""
    absolute = os.path.abspath(path)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).name)[:80]
    return f"{stem}-{hashlib.sha1(absolute.encode()).hexdigest()[:10]}"


# --------------------------------------------------------------------------- one file
def _atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` then rename onto ``path``: readers never see half a file, and
    the leading dot hides a killed run's leftover from Parquet dataset readers."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run_one(task: Callable, path: Path, output: Path) -> dict:
    """Fit one recording with ``task`` and write its part and its record.

    ``task(path)`` returns ``(frame, summary, message)``; a
    ``NoWindowsError`` marks the file skipped, any other
    exception failed. Never raises for a bad file: the record says what happened.
    """
    from .cli._common import CLIError
    from .cli._fit import NoWindowsError

    key = part_name(path)
    record = dict(file=str(path), status="ok", message="", days_fitted=0, days_skipped=0,
                  rows=0, seconds=math.nan, cpu_seconds=math.nan, part="")
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        frame, summary, message = task(path)
        part = output / PARTS / f"{key}.parquet"
        _atomic_write(part, lambda tmp: frame.to_parquet(tmp, index=False))
        record.update(message=message, days_fitted=summary["windows_fitted"],
                      days_skipped=summary["windows_skipped"], rows=len(frame),
                      part=f"{PARTS}/{part.name}")
    except NoWindowsError as exc:
        record.update(status="skipped", message=str(exc))
    except Exception as exc:  # one bad file never stops the cohort
        text = str(exc) if isinstance(exc, CLIError) else f"{type(exc).__name__}: {exc}"
        record.update(status="failed", message=text)
    # wall and CPU time (this thread's): far apart, the file system or the machine's
    # other work held the file up
    record.update(seconds=round(time.perf_counter() - t0, 4),
                  cpu_seconds=round(time.thread_time() - c0, 4))
    _atomic_write(output / DONE / f"{key}.json",
                  lambda tmp: tmp.write_text(json.dumps(record)))
    return record


@contextlib.contextmanager
def _one_thread():
    """One torch thread: each file is a few small fits, which extra threads only slow
    down (and results then do not depend on the machine's core count)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --------------------------------------------------------------------------- the engine
def _check_folder(output: Path, options: dict, overwrite: bool) -> None:
    """Make the folder; refuse results fitted with other options unless overwriting."""
    if output.exists() and not output.is_dir():
        raise NotADirectoryError(f"{output} is a file; a cohort's output is a folder")
    opt_file = output / OPTIONS
    text = json.dumps(options, sort_keys=True, indent=1, default=str)
    if opt_file.is_file():
        earlier = json.loads(opt_file.read_text())
        if earlier != json.loads(text):
            if not overwrite:
                changed = sorted(k for k in {*earlier, *options}
                                 if earlier.get(k) != json.loads(text).get(k))
                raise ValueError(
                    f"{output} holds results fitted with other options ({', '.join(changed)}"
                    "); pass overwrite=True (--overwrite) or choose another folder")
            for sub in (PARTS, DONE):  # other options: drop every earlier result
                for f in (output / sub).glob("*"):
                    f.unlink()
    for sub in (PARTS, DONE):
        (output / sub).mkdir(parents=True, exist_ok=True)
        for tmp in (output / sub).glob(".*.tmp"):  # a killed run's half-written files
            tmp.unlink(missing_ok=True)
    _atomic_write(opt_file, lambda tmp: tmp.write_text(text))


def _finished(output: Path, path: Path) -> dict | None:
    """The record of a file an earlier run finished (ok or skipped), else None."""
    done = output / DONE / f"{part_name(path)}.json"
    try:
        record = json.loads(done.read_text())
    except (OSError, ValueError):
        return None
    if record.get("status") == "ok" and (output / record.get("part", "")).is_file():
        return record
    return record if record.get("status") == "skipped" else None


def _serial(task, todo, output) -> Iterator[dict]:
    with _one_thread():
        for path in todo:
            yield run_one(task, path, output)


def run_many(task: Callable, paths: Sequence[Path], output: Path) -> list[dict]:
    """:func:`run_one` over a few files: one dask task, fewer round trips."""
    return [run_one(task, path, output) for path in paths]


def _distributed(task, todo, output, client) -> Iterator[dict]:
    """Submit the files to ``client`` in small batches, a bounded number in flight.

    A task per file costs the scheduler and this client a few milliseconds each,
    as much as a file's fit on two cores; batches of up to 16 files keep that small
    while every worker still gets several batches (and the last ones stay short).
    """
    from distributed import as_completed

    shared = client.scatter(task, broadcast=True, hash=False)  # one copy per worker
    n_threads = sum(client.nthreads().values()) or 1
    size = max(1, min(16, len(todo) // (8 * n_threads)))
    batches = iter([todo[i : i + size] for i in range(0, len(todo), size)])
    which: dict = {}
    queue = as_completed()

    def submit(n):
        for batch in batches:
            fut = client.submit(run_many, shared, batch, output, pure=False)
            which[fut.key] = batch
            queue.add(fut)
            n -= 1
            if n == 0:
                return

    submit(max(4, 2 * n_threads))
    try:
        for fut in queue:
            batch = which.pop(fut.key)
            try:
                records = fut.result()
            except Exception as exc:  # a worker died (memory limit?), or cannot write
                records = [dict(file=str(path), status="failed", message=(
                    f"the task did not finish on its worker: {type(exc).__name__}: {exc}"),
                    days_fitted=0, days_skipped=0, rows=0, seconds=math.nan,
                    cpu_seconds=math.nan, part="") for path in batch]
            fut.release()
            submit(1)
            yield from records
    finally:
        client.cancel(list(queue.futures))


def run_cohort(
    task: Callable,
    paths: Sequence[Path],
    output: str | os.PathLike,
    options: dict,
    *,
    overwrite: bool = False,
    client=None,
    progress: bool = False,
):
    """Run ``task`` on every file not finished yet; write parts, records, manifest.

    Returns the manifest (:class:`pandas.DataFrame`, one row per path, in order).
    Interrupted, it still writes the manifest (unfinished files ``pending``).
    """
    from tqdm.auto import tqdm

    output = Path(output)
    _check_folder(output, options, overwrite)
    inside = output.resolve()
    paths = [p for p in paths if inside not in Path(p).resolve().parents]  # our own files
    records: dict[str, dict] = {}
    todo = []
    for path in paths:
        record = None if overwrite else _finished(output, path)
        if record is None:
            todo.append(path)
        else:
            records[os.path.abspath(path)] = {**record, "file": str(path)}
    days = sum(r["days_fitted"] for r in records.values())
    counts = {"failed": 0}
    bar = tqdm(total=len(paths), initial=len(records), unit="file", disable=not progress,
               desc="fit", dynamic_ncols=True)
    run = _serial(task, todo, output) if client is None else _distributed(task, todo,
                                                                          output, client)
    try:
        for record in run:
            records[os.path.abspath(record["file"])] = record
            days += record["days_fitted"]
            counts["failed"] += record["status"] == "failed"
            bar.set_postfix(days=days, failed=counts["failed"], refresh=False)
            bar.update(1)
    finally:
        bar.close()
        manifest = _write_manifest(output, paths, records)
    return manifest


def _write_manifest(output: Path, paths, records):
    import pandas as pd

    empty = dict(status="pending", message="", days_fitted=0, days_skipped=0, rows=0,
                 seconds=math.nan, cpu_seconds=math.nan, part="")
    rows = [records.get(os.path.abspath(p), {**empty, "file": str(p)}) for p in paths]
    manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    _atomic_write(output / MANIFEST, lambda tmp: manifest.to_csv(tmp, index=False))
    return manifest


# --------------------------------------------------------------------------- Python API
class _EstimatorTask:
    """A fitted estimator over one recording, through the command line's reading path."""

    def __init__(self, estimator, model, method, options):
        self.estimator, self.model, self.method, self.options = (estimator, model, method,
                                                                 options)

    def __call__(self, path):
        import argparse

        from .cli._cohort import fit_file
        from .cli._common import slugify

        args = argparse.Namespace(**self.options, model=self.model.name, intervals=0,
                                  random_state=0, no_progress=True, date_column=None,
                                  timezone=None)
        methods = [(slugify(self.method), self.method, self.estimator)]
        return fit_file(path, methods, self.model, args)


def _model_of(estimator):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    model = getattr(estimator, "model", None)
    if model is None:  # R2TRegressor's default
        from .symbolic import HeartRate

        model = HeartRate()
    if not hasattr(model, "param_names"):
        raise TypeError(f"{type(estimator).__name__}.model must be a SymbolicModel, "
                        f"got {type(model).__name__}")
    return model


def fit_recordings(
    estimator,
    paths,
    output: str | os.PathLike,
    *,
    method: str | None = None,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    n_timesteps: int = 96,
    start_hour: float = 0.0,
    min_coverage: float = 0.5,
    overwrite: bool = False,
    client=None,
    progress: bool = False,
):
    """Fit every day of every recording of a cohort; write a Parquet dataset.

    Each recording is read (:func:`~sklearn_r2t.recordings.read_recording`), cut
    into windows (:func:`~sklearn_r2t.recordings.make_windows`) and fitted with
    ``estimator.transform``, exactly as ``sklearn-r2t fit`` does; its rows (the
    command line's tidy table plus ``source``, the path) go to one Parquet part.
    Files already finished in ``output`` are not fitted again (unless
    ``overwrite``), so a run that was killed resumes where it stopped.

    Parameters
    ----------
    estimator : fitted sequence estimator
        :class:`~sklearn_r2t.R2TRegressor`, :class:`~sklearn_r2t.SymbolicLeastSquares`
        or any estimator with a ``model`` (a
        :class:`~sklearn_r2t.symbolic.SymbolicModel`) whose ``transform`` maps
        ``(n_days, n_timesteps[, n_channels])`` to ``(n_days, model.n_params)``.
    paths : str, path-like or iterable of them
        Files, folders or glob patterns (:func:`find_recordings`).
    output : str or path-like
        Folder of the results (created): ``parameters/`` (the dataset, read it
        with ``pandas.read_parquet`` or ``dask.dataframe.read_parquet``),
        ``manifest.csv``, and the bookkeeping that lets a run resume.
    method : str, default=None
        Label of the method in the table (default: the estimator's class name).
    columns : list of str, default=None
        Signal columns, one per channel of the model (None: the first numeric one).
    time_column : str, default=None
        Timestamp column of table files (None: the first that parses).
    n_timesteps : int, default=96
        Grid points per window.
    start_hour : float, default=0.0
        Clock hour at which windows start.
    min_coverage : float, default=0.5
        Windows with a smaller fraction of grid bins recorded are skipped (and
        counted in the manifest).
    overwrite : bool, default=False
        Fit every file again. Also needed to reuse a folder fitted with other
        options, whose results are then dropped.
    client : distributed.Client, default=None
        Fit on this dask cluster (the workers must see the files and ``output``);
        None fits one file after another in this process. The results are the
        same, bit for bit.
    progress : bool, default=False
        Show a progress bar over files (with the days fitted so far).

    Returns
    -------
    manifest : pandas.DataFrame
        One row per recording (also written to ``output/manifest.csv``): ``file``,
        ``status`` (``ok``, ``skipped`` when no window has enough coverage,
        ``failed``), ``message`` (the error, or warnings such as a parameter stuck
        at its bound), ``days_fitted``, ``days_skipped`` (under ``min_coverage``),
        ``rows``, ``seconds`` (wall), ``cpu_seconds`` (the fitting thread's CPU time)
        and ``part``.

    See Also
    --------
    transform_days : The same estimator over a dask array or DataFrame of days.
    sklearn_r2t.recordings.make_windows : How a recording becomes windows.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from pathlib import Path
    >>> from sklearn_r2t import SymbolicLeastSquares
    >>> from sklearn_r2t.cohort import fit_recordings
    >>> from sklearn_r2t.symbolic import HeartRate
    >>> folder = Path(tempfile.mkdtemp())
    >>> t = pd.date_range("2026-01-05", periods=3 * 96, freq="15min")
    >>> hours = np.asarray(t.hour + t.minute / 60)
    >>> for k in range(3):
    ...     hr = 65 + 8 * np.cos(2 * np.pi * (hours - 15 - k) / 24)
    ...     pd.DataFrame({"time": t, "hr": hr}).to_csv(folder / f"p{k}.csv", index=False)
    >>> (folder / "broken.csv").write_text("not,a,recording\\n")
    16
    >>> est = SymbolicLeastSquares(HeartRate(), loss="bisquare", f_scale="auto").fit(
    ...     np.zeros((1, 96)))
    >>> manifest = fit_recordings(est, folder, folder / "out")
    >>> manifest[["status", "days_fitted"]].value_counts().sort_index()
    status  days_fitted
    failed  0              1
    ok      3              3
    Name: count, dtype: int64
    >>> table = pd.read_parquet(folder / "out" / "parameters")
    >>> table.query("parameter == 'acrophase'").groupby("file")["value"].median().round(2)
    file
    p0.csv    15.0
    p1.csv    16.0
    p2.csv    17.0
    Name: value, dtype: float64
    """
    model = _model_of(estimator)
    paths = find_recordings(paths)
    label = method or type(estimator).__name__
    options = dict(columns=list(columns) if columns is not None else None,
                   time_column=time_column, n_timesteps=int(n_timesteps),
                   start_hour=float(start_hour), min_coverage=float(min_coverage),
                   batch_size=256)
    from sklearn.base import clone

    fingerprint = dict(options, method=label, model=model.name,
                       estimator=repr(clone(estimator)))
    task = _EstimatorTask(estimator, model, label, options)
    return run_cohort(task, paths, output, fingerprint, overwrite=overwrite, client=client,
                      progress=progress)


# --------------------------------------------------------------------------- days
def _transform_block(block, estimator):
    import numpy as np

    return np.asarray(estimator.transform(block), dtype=float)


def _transform_partition(frame, estimator, names):
    import pandas as pd

    return pd.DataFrame(_transform_block(frame.to_numpy(dtype=float), estimator),
                        index=frame.index, columns=names)


def transform_days(estimator, days):
    """A fitted sequence estimator over a dask collection of days, block by block.

    Parameters
    ----------
    estimator : fitted sequence estimator
        As for :func:`fit_recordings`; it is shipped to the workers once.
    days : dask.array.Array or dask.dataframe.DataFrame
        An array of shape ``(n_days, n_timesteps[, n_channels])`` (chunked along
        days only: other axes are joined into one chunk), or a DataFrame with one
        row per day and one numeric column per time step (single-channel models).
        NaN marks missing samples.

    Returns
    -------
    params : dask.array.Array of shape (n_days, n_params) or dask.dataframe.DataFrame
        Lazy; the DataFrame has one column per parameter
        (``estimator.model.param_names``) and the index of ``days``.

    See Also
    --------
    fit_recordings : From files to a Parquet dataset.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn_r2t import SymbolicLeastSquares
    >>> from sklearn_r2t.cohort import transform_days
    >>> from sklearn_r2t.symbolic import HeartRate
    >>> model = HeartRate()
    >>> X = model.evaluate(np.array([[65.0, 8.0, 15.0]] * 1000), 96)
    >>> est = SymbolicLeastSquares(model, loss="bisquare", f_scale="auto").fit(X[:1])
    >>> params = transform_days(est, da.from_array(X, chunks=250))
    >>> params.shape, params.numblocks
    ((1000, 3), (4, 1))
    >>> np.round(params.compute()[0], 6)
    array([65.,  8., 15.])
    """
    import dask
    import dask.array as da

    model = _model_of(estimator)
    shared = dask.delayed(estimator, pure=True)  # one node of the graph, not one per block
    if isinstance(days, da.Array):
        if days.ndim not in (2, 3):
            raise ValueError(f"days must have 2 or 3 dimensions, got shape {days.shape}")
        days = days.rechunk({axis: -1 for axis in range(1, days.ndim)})
        return days.map_blocks(_transform_block, shared, dtype=float,
                               chunks=(days.chunks[0], (model.n_params,)),
                               drop_axis=[2] if days.ndim == 3 else [])
    import dask.dataframe as dd
    import pandas as pd

    if isinstance(days, dd.DataFrame):
        names = list(model.param_names)
        meta = pd.DataFrame({name: pd.Series(dtype=float) for name in names})
        return days.map_partitions(_transform_partition, shared, names, meta=meta)
    raise TypeError(f"days must be a dask Array or DataFrame, got {type(days).__name__}")
