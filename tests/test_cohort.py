"""Cohorts: many recordings in one call, serial or on dask, resumable, with a manifest."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.cli import main
from sklearn_r2t.cohort import (
    MANIFEST_COLUMNS,
    find_recordings,
    fit_recordings,
    part_name,
    run_cohort,
    transform_days,
)
from sklearn_r2t.symbolic import HeartRate

ARGS = ["--model", "heart_rate", "--method", "bisquare-auto", "--no-progress"]


def write_recording(path, n_days=3, seed=0, acrophase=16.0, gap=None):
    """``n_days`` of 15-min heart rate from 06:00 (a partial first day), spikes, a gap."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-03-02 06:00", periods=int(n_days * 96), freq="15min")
    hours = np.asarray(t.hour + t.minute / 60, dtype=float)
    hr = 66 + 9 * np.cos(2 * np.pi * (hours - acrophase) / 24) + rng.normal(0, 1, t.size)
    spikes = rng.random(t.size) < 0.1
    hr[spikes] += rng.uniform(20, 40, spikes.sum())
    if gap is not None:
        hr[slice(*gap)] = np.nan
    pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M"), "hr": hr}).to_csv(path, index=False)


@pytest.fixture
def cohort(tmp_path):
    """Three good recordings (one with an off-wrist day), a broken one, a short one."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    write_recording(folder / "a.csv", seed=0, acrophase=15.0)
    write_recording(folder / "b.csv", seed=1, acrophase=16.0, gap=(90, 170))
    write_recording(folder / "c.csv", seed=2, acrophase=17.0)
    (folder / "broken.csv").write_text("time,hr\n2026-03-02 00:00,1\nnot a time,2\n")
    write_recording(folder / "short.csv", n_days=0.3, seed=3)
    (folder / "notes.md").write_text("not a recording")
    return folder


def _table(output):
    frame = pd.read_parquet(output / "parameters")
    keys = ["source", "channel", "window_start", "method", "parameter"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_cli_cohort_manifest_and_dataset(cohort, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["fit", str(cohort), "--output", str(out), *ARGS])
    assert status == 1  # the broken file failed; the others ran
    printed = capsys.readouterr()
    assert "3 ok, 1 skipped" in printed.out and "1 failed" in printed.out
    assert "broken.csv" in printed.err
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    rows = manifest.set_index(manifest["file"].map(lambda f: Path(f).name))
    assert list(rows.index) == ["a.csv", "b.csv", "broken.csv", "c.csv", "short.csv"]
    assert list(rows["status"]) == ["ok", "ok", "failed", "ok", "skipped"]  # not notes.md
    assert rows.loc["broken.csv", "message"].startswith("cannot read")
    assert "no window" in rows.loc["short.csv", "message"]
    # 06:00 start: a 75 %-covered first day and a 25 %-covered fourth; b is off-wrist
    # for 20 hours of its second day
    assert rows.loc["a.csv", "days_fitted"] == 3 and rows.loc["a.csv", "days_skipped"] == 1
    assert rows.loc["b.csv", "days_fitted"] == 2 and rows.loc["b.csv", "days_skipped"] == 2
    assert (manifest["seconds"] >= 0).all() and (manifest["cpu_seconds"] >= 0).all()
    table = _table(out)
    assert len(list((out / "parameters").glob("*.parquet"))) == 3  # one part per fitted file
    # every window is in the table: fitted ones with values, skipped ones with the reason
    assert table["source"].nunique() == 3 and len(table) == manifest["rows"].sum()
    fitted = table[table["status"] == "fitted"]
    assert fitted["value"].notna().all() and len(fitted) == 3 * 8
    assert table.loc[table["status"] != "fitted", "value"].isna().all()
    assert len(table) == 3 * (manifest["days_fitted"] + manifest["days_skipped"]).sum()
    acro = fitted[fitted.parameter == "acrophase"].groupby("file")["value"].median()
    np.testing.assert_allclose(acro.to_numpy(), [15.0, 16.0, 17.0], atol=0.3)


def test_cohort_rows_equal_single_file_rows(cohort, tmp_path):
    """One reading path: a cohort's part holds the single-file table, plus `source`."""
    out = tmp_path / "out"
    main(["fit", str(cohort / "a.csv"), str(cohort / "c.csv"), "--output", str(out), *ARGS])
    single = tmp_path / "a.parquet"
    assert main(["fit", str(cohort / "a.csv"), "--output", str(single), "--no-figure",
                 *ARGS]) == 0
    expected = pd.read_parquet(single)
    part = pd.read_parquet(out / "parameters" / f"{part_name(cohort / 'a.csv')}.parquet")
    assert part["source"].eq(str(cohort / "a.csv")).all()
    pd.testing.assert_frame_equal(part.drop(columns="source"), expected)


def test_resume_fits_only_missing_files(cohort, tmp_path, monkeypatch):
    """A run killed half-way, started again, fits only the files it had not finished."""
    out = tmp_path / "out"
    paths = find_recordings(cohort)
    fitted = []
    from sklearn_r2t.cli import _cohort

    opts = _cli_options()

    class Killed(_cohort._FitTask):
        def __call__(self, path):
            if len(fitted) == 2:
                raise KeyboardInterrupt  # the user presses Ctrl-C on the third file
            fitted.append(path.name)
            return super().__call__(path)

    with pytest.raises(KeyboardInterrupt):
        run_cohort(Killed(opts), paths, out, {"k": 1})
    manifest = pd.read_csv(out / "manifest.csv")
    assert list(manifest["status"]) == ["ok", "ok", "pending", "pending", "pending"]
    (out / "parameters" / ".half-written.parquet.0.tmp").write_bytes(b"PAR1")  # a leftover
    first = {p.name: p.stat().st_mtime_ns for p in (out / "parameters").glob("*.parquet")}

    fitted.clear()

    class Counting(_cohort._FitTask):
        def __call__(self, path):
            fitted.append(path.name)
            return super().__call__(path)

    manifest = run_cohort(Counting(opts), paths, out, {"k": 1})
    assert fitted == ["broken.csv", "c.csv", "short.csv"]
    assert list(manifest["status"]) == ["ok", "ok", "failed", "ok", "skipped"]
    assert not list((out / "parameters").glob(".*.tmp"))
    again = {p.name: p.stat().st_mtime_ns for p in (out / "parameters").glob("*.parquet")}
    assert all(again[name] == t for name, t in first.items())  # untouched
    # a third run retries only the failed file; --overwrite refits all
    fitted.clear()
    run_cohort(Counting(opts), paths, out, {"k": 1})
    assert fitted == ["broken.csv"]
    fitted.clear()
    run_cohort(Counting(opts), paths, out, {"k": 1}, overwrite=True)
    assert len(fitted) == 5


def _cli_options():
    import argparse

    from sklearn_r2t.cli import _cohort

    args = argparse.Namespace(command="fit", model="heart_rate", method=["bisquare-auto"],
                              outlier_side=None, columns=None, time_column=None,
                              date_column=None, timezone=None,
                              start_hour=0.0, min_coverage=0.5, n_timesteps=96, intervals=0,
                              random_state=0, n_jobs=None, batch_size=50)
    return {**{k: getattr(args, k) for k in _cohort._TASK_OPTIONS}, "no_progress": True}


def test_other_options_need_overwrite(cohort, tmp_path, capsys):
    out = tmp_path / "out"
    files = [str(cohort / "a.csv"), str(cohort / "c.csv")]
    assert main(["fit", *files, "--output", str(out), *ARGS]) == 0
    status = main(["fit", *files, "--output", str(out), "--model", "heart_rate",
                   "--method", "ols", "--no-progress"])
    assert status == 2 and "other options (method)" in capsys.readouterr().err
    assert main(["fit", *files, "--output", str(out), "--model", "heart_rate",
                 "--method", "ols", "--no-progress", "--overwrite"]) == 0
    assert set(_table(out)["method"]) == {"ols"}
    assert json.loads((out / "_options.json").read_text())["method"] == ["ols"]


@pytest.mark.parametrize("argv, message", [
    (["--figure", "x.png"], "no figures"),
    (["--output", "x.csv"], "a folder"),
    (["--workers", "2", "--scheduler", "tcp://x:1"], "choose one"),
])
def test_cohort_usage_errors(cohort, argv, message, capsys):
    assert main(["fit", str(cohort), *argv, *ARGS]) == 2
    assert message in capsys.readouterr().err


def test_output_inside_the_inputs_is_not_read(cohort):
    """``cohort/**/*.csv`` with the results in ``cohort/out``: the manifest is no input."""
    pattern = str(cohort / "**" / "*.csv")
    for _ in range(2):
        assert main(["fit", pattern, "--output", str(cohort / "out"), *ARGS]) == 1
    manifest = pd.read_csv(cohort / "out" / "manifest.csv")
    assert len(manifest) == 5
    assert not manifest["file"].str.startswith(str(cohort / "out")).any()


def test_binary_garbage_is_a_read_error(tmp_path, capsys):
    """Bytes that are no text: one line and status 1, not a traceback (csv.Error)."""
    src = tmp_path / "garbage.csv"
    src.write_bytes(np.random.default_rng(0).bytes(4096))
    assert main(["fit", str(src), "--output", str(tmp_path / "o.csv"), "--no-figure",
                 *ARGS]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_find_recordings(cohort):
    names = [p.name for p in find_recordings(str(cohort / "*.csv"))]
    assert names == ["a.csv", "b.csv", "broken.csv", "c.csv", "short.csv"]
    both = find_recordings([cohort / "a.csv", str(cohort / "[ab].csv"), cohort / "notes.md"])
    assert [p.name for p in both] == ["a.csv", "b.csv", "notes.md"]  # each once
    with pytest.raises(FileNotFoundError, match="no such file"):
        find_recordings(cohort / "missing.csv")
    with pytest.raises(FileNotFoundError, match="no recording"):
        find_recordings(str(cohort / "*.parquet"))


@pytest.fixture
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _estimator():
    est = SymbolicLeastSquares(HeartRate(), loss="bisquare", f_scale="auto")
    return est.fit(np.zeros((1, 96)))


def test_workers_identical_to_serial(cohort, tmp_path, client):
    serial = fit_recordings(_estimator(), cohort, tmp_path / "serial")
    dist = fit_recordings(_estimator(), cohort, tmp_path / "dask", client=client)
    timing = ["seconds", "cpu_seconds"]
    pd.testing.assert_frame_equal(serial.drop(columns=timing), dist.drop(columns=timing))
    a, b = _table(tmp_path / "serial"), _table(tmp_path / "dask")
    assert (a["status"] == "fitted").sum() == 24
    pd.testing.assert_frame_equal(a, b, check_exact=True)  # bit for bit


def test_cli_on_a_running_cluster(cohort, tmp_path, client, capsys):
    out = tmp_path / "out"
    status = main(["fit", str(cohort), "--output", str(out), "--scheduler",
                   client.scheduler.address, *ARGS])
    assert status == 1
    assert "2 worker(s)" in capsys.readouterr().err
    serial = tmp_path / "serial"
    main(["fit", str(cohort), "--output", str(serial), *ARGS])
    pd.testing.assert_frame_equal(_table(out), _table(serial), check_exact=True)


def test_transform_days_matches_transform():
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    est = _estimator()
    rng = np.random.default_rng(0)
    X = HeartRate().evaluate(np.column_stack([rng.uniform(55, 75, 40), rng.uniform(4, 12, 40),
                                              rng.uniform(0, 24, 40)]), 96)
    X[rng.random(X.shape) < 0.1] = np.nan
    # block by block, bit for bit (the batched solver's last bits depend on the batch)
    expected = np.concatenate([est.transform(X[i : i + 15]) for i in range(0, 40, 15)])
    params = transform_days(est, da.from_array(X, chunks=(15, 40)))
    assert params.shape == (40, 3) and params.numblocks == (3, 1)
    np.testing.assert_array_equal(params.compute(), expected)
    np.testing.assert_allclose(params.compute(), est.transform(X), rtol=1e-12)
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=2)
    out = transform_days(est, frame).compute()
    assert list(out.columns) == list(HeartRate().param_names)
    expected = np.concatenate([est.transform(X[:20]), est.transform(X[20:])])
    np.testing.assert_array_equal(out.to_numpy(), expected)
    with pytest.raises(TypeError, match="dask Array or DataFrame"):
        transform_days(est, X)
