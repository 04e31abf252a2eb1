"""The command line on the user's own data: ``sklearn-r2t fit`` and ``compare``."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_r2t.cli import _common, main
from sklearn_r2t.cli._common import method_registry
from sklearn_r2t.recordings import make_windows, pyactigraphy_data_dir, read_recording
from sklearn_r2t.symbolic import HeartRate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRUE = {"mesor": 68.0, "amplitude": 9.0, "acrophase": 16.0}


def _data_dir():
    try:
        return pyactigraphy_data_dir()
    except ModuleNotFoundError:
        pytest.skip("real recordings come from `pip install --no-deps pyActigraphy==1.2.2`")


def write_heart_rate_csv(path, n_days=3, seed=0):
    """Three days of 5-min heart rate: a known cosinor, noise, spikes and a gap."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2026-03-02 00:00", periods=n_days * 288, freq="5min")
    hours = np.asarray(t.hour + t.minute / 60, dtype=float)
    hr = TRUE["mesor"] + TRUE["amplitude"] * np.cos(2 * np.pi * (hours - TRUE["acrophase"]) / 24)
    hr = hr + rng.normal(0, 1.0, hr.size)
    spikes = rng.random(hr.size) < 0.08
    hr[spikes] += rng.uniform(20, 45, spikes.sum())  # one-sided motion artefacts
    hr[300:340] = np.nan  # the watch was off
    frame = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M:%S"), "hr": hr,
                          "note": "x"})
    frame.to_csv(path, index=False)
    return frame


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    from sklearn_r2t import __version__

    assert capsys.readouterr().out.strip() == f"sklearn-r2t {__version__}"


def test_fit_csv_recovers_known_rhythm(tmp_path, capsys):
    src = tmp_path / "hr.csv"
    write_heart_rate_csv(src)
    out, fig = tmp_path / "params.csv", tmp_path / "fit.png"
    status = main(["fit", str(src), "--model", "heart_rate", "--columns", "hr",
                   "--method", "r2t", "--method", "cauchy-auto", "--method", "ols",
                   "--output", str(out), "--figure", str(fig), "--no-progress"])
    assert status == 0
    assert "written to" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["file", "channel", "window_start", "hours", "coverage",
                                   "status", "method", "label", "model", "parameter",
                                   "value", "score", "unit"]
    # R2T's per-window score_samples; empty for the classical fits
    fitted = table.query("status == 'fitted'")
    assert fitted.query("method == 'r2t'")["score"].between(0, 1).all()
    assert table.query("method != 'r2t'")["score"].isna().all()
    assert set(table["method"]) == {"r2t", "cauchy-auto", "ols"}
    assert table["window_start"].nunique() == 3  # three midnight-to-midnight days
    assert set(table["status"]) == {"fitted"} and set(table["hours"]) == {24}
    assert set(table["unit"]) == {"bpm", "h (local clock)"}
    med = table.groupby(["method", "parameter"])["value"].median()
    for method in ("r2t", "cauchy-auto"):
        assert abs(med[method, "mesor"] - TRUE["mesor"]) < 1.5
        assert abs(med[method, "amplitude"] - TRUE["amplitude"]) < 1.5
        assert abs(med[method, "acrophase"] - TRUE["acrophase"]) < 0.5
    # the one-sided spikes pull least squares up; the robust fits are closer
    assert med["ols", "mesor"] - TRUE["mesor"] > 1.0
    assert fig.read_bytes()[:8] == PNG_MAGIC


def test_cosinor_fits_in_the_signal_units(tmp_path, capsys):
    """The default model fits any unit: here the heart rate given in beats per second."""
    src = tmp_path / "hz.csv"
    frame = write_heart_rate_csv(src, n_days=2)
    frame["hr"] = frame["hr"] / 60.0
    frame.to_csv(src, index=False)
    out = tmp_path / "p.tsv"
    assert main(["fit", str(src), "--method", "cauchy-auto", "--method", "r2t",
                 "--output", str(out), "--no-figure", "--no-progress"]) == 0
    assert "windows flagged (score < 0.05" in capsys.readouterr().err
    table = pd.read_csv(out, sep="\t")
    # R2T fits with the generic Cosinor weights in the recording's units, no mapping
    assert set(table["model"]) == {"cosinor"}
    med = table.groupby(["method", "parameter"])["value"].median()
    for method in ("cauchy-auto", "r2t"):
        assert abs(med[method, "mesor"] - TRUE["mesor"] / 60) < 0.03
        assert abs(med[method, "amplitude"] - TRUE["amplitude"] / 60) < 0.03
        assert abs(med[method, "acrophase"] - TRUE["acrophase"]) < 0.5
    # a plain table's "hr" may be in any unit (here beats per second): left blank
    assert table["unit"].isna().sum() == 2 * len(table) // 3
    assert set(table["unit"].dropna()) == {"h (local clock)"}


def test_compare_runs_every_method_and_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    src = tmp_path / "hr.parquet"
    frame = write_heart_rate_csv(tmp_path / "tmp.csv", n_days=2)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame.to_parquet(src)
    out = tmp_path / "cmp.parquet"
    assert main(["compare", str(src), "--model", "heart_rate", "--columns", "hr",
                 "--output", str(out), "--no-figure", "--no-progress"]) == 0
    table = pd.read_parquet(out)
    assert set(table["method"]) == set(method_registry(HeartRate()))
    assert not table["value"].isna().any()


def test_fit_real_actiwatch_recording(tmp_path):
    awd = _data_dir() / "example_01.AWD"
    out, fig = tmp_path / "a.csv", tmp_path / "a.png"
    assert main(["fit", str(awd), "--method", "r2t", "--method", "cauchy-auto", "--output",
                 str(out), "--figure", str(fig), "--no-progress"]) == 0
    table = pd.read_csv(out)
    days = table["window_start"].nunique()
    frame = read_recording(awd)
    full_days = (frame.index[-1].normalize() - frame.index[0].normalize()).days - 1
    assert full_days <= days <= full_days + 2  # whole days, plus partial ones over 50 %
    acro = table[table["parameter"] == "acrophase"].groupby("method")["value"].median()
    assert ((acro > 10) & (acro < 18)).all()  # a day-active person peaks in daytime
    assert fig.read_bytes()[:8] == PNG_MAGIC


def test_read_actiwatch_temperature_channel():
    frame = read_recording(_data_dir() / "test_sample_awt.AWD")
    assert list(frame.columns) == ["activity", "temperature"]
    assert frame.attrs["epoch"] == "60s"
    assert 30 < frame["temperature"].median() < 40  # degC on the wrist
    win = make_windows(frame, ["activity", "temperature"])
    assert win.X.ndim == 3 and win.X.shape[1:] == (96, 2)


def test_make_windows_marks_missing_and_drops_sparse_days():
    t = pd.date_range("2026-01-01 06:00", "2026-01-03 23:59", freq="1min")
    frame = pd.DataFrame({"x": np.arange(t.size, dtype=float)}, index=t)
    frame.loc["2026-01-02 10:00":"2026-01-02 11:59", "x"] = np.nan
    win = make_windows(frame, "x", min_coverage=0.5)
    assert [str(s.date()) for s in win.start] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    # grid points are bin centres: 10:00 and 12:00 keep the minutes within 7.5 of them
    np.testing.assert_allclose(win.coverage, [0.75, 1 - 7 / 96, 1.0])
    assert np.isnan(win.X[1]).sum() == 7 and np.isnan(win.X[0]).sum() == 24
    assert len(make_windows(frame, "x", min_coverage=0.8).start) == 2
    # the mean of 23:53-00:07 of a ramp: its value at the grid point, midnight
    np.testing.assert_allclose(win.X[2, 0], frame["x"].iloc[-1447:-1432].mean())
    np.testing.assert_allclose(win.X[2, 0], frame.loc["2026-01-03 00:00", "x"])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--output", "nowhere/p.csv"], "does not exist"),
        (["--output", "p.xlsx"], "must end in"),
        (["--figure", "f.jpg"], "must end in"),
        (["--method", "nope"], "unknown --method 'nope'"),
        (["--model", "heart_rate", "--columns", "missing"], "no numeric column 'missing'"),
    ],
)
def test_bad_arguments_fail_before_any_fit(tmp_path, monkeypatch, capsys, extra, message):
    src = tmp_path / "hr.csv"
    write_heart_rate_csv(src, n_days=1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sklearn_r2t._compare.transform_batched", _fail)
    assert main(["fit", str(src), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sklearn-r2t: error:") and message in err
    assert len(err.strip().splitlines()) == 1


def _fail(*args, **kwargs):
    raise AssertionError("fitted before the arguments were checked")


@pytest.mark.parametrize(
    "argv",
    [["demo", "--n-jobs", "0"], ["demo", "--random-state", "-1"],
     ["demo", "--n-sequences", "0"], ["fit", "x.csv", "--min-coverage", "2"],
     ["fit", "x.csv", "--start-hour", "24"], ["fit", "x.csv", "--outlier-side", "up"],
     ["fit"]],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_file_and_unreadable_data(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "absent.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4\n")
    assert main(["fit", str(bad), "--output", str(tmp_path / "o.csv")]) == 1
    assert "no column holds timestamps" in capsys.readouterr().err


def test_demo_checks_matplotlib_first(monkeypatch, tmp_path, capsys):
    real = _common.importlib.util.find_spec
    monkeypatch.setattr(_common.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr("sklearn_r2t._compare.compare_methods", _fail)
    assert main(["demo", "--output", str(tmp_path / "d.png")]) == 1
    assert "pip install matplotlib (or the extra [cli]" in capsys.readouterr().err


def test_demo_rejects_bad_output_before_fitting(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sklearn_r2t._compare.compare_methods", _fail)
    assert main(["demo", "--output", str(tmp_path / "no" / "d.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_outlier_side_goes_to_the_methods_that_take_it(tmp_path, capsys):
    src = tmp_path / "hr.csv"
    write_heart_rate_csv(src, n_days=1)
    registry = method_registry(HeartRate())
    takers = [n for n, (_, est) in registry.items() if "outlier_side" in est.get_params()]
    out = tmp_path / "o.csv"
    argv = ["fit", str(src), "--model", "heart_rate", "--columns", "hr", "--output", str(out),
            "--no-figure", "--no-progress", "--outlier-side", "above"]
    if not takers:  # before the one-sided losses exist: a clear error, not silence
        assert main([*argv, "--method", "cauchy-auto"]) == 2
        assert "none of the chosen methods takes outlier_side" in capsys.readouterr().err
    else:
        assert main([*argv, "--method", takers[0]]) == 0
        assert pd.read_csv(out)["method"].eq(takers[0]).all()


def test_list_methods(capsys):
    assert main(["compare", "--list-methods"]) == 0
    out = capsys.readouterr().out
    assert "cauchy-auto" in out and "r2t" in out and "refine" not in out


def test_console_script_entry_point(tmp_path):
    src = tmp_path / "hr.csv"
    write_heart_rate_csv(src, n_days=1)
    res = subprocess.run(
        [sys.executable, "-m", "sklearn_r2t", "fit", str(src), "--model", "heart_rate",
         "--columns", "hr", "--no-figure", "--output", str(tmp_path / "o.csv")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o.csv").exists()


def test_warns_when_the_model_prior_clips_the_fit(tmp_path, capsys):
    """Wrist temperature of the Actiwatch-T sits above SkinTemperature's mesor range."""
    awd = _data_dir() / "test_sample_awt.AWD"
    out = tmp_path / "t.csv"
    assert main(["fit", str(awd), "--model", "skin_temperature", "--columns", "temperature",
                 "--method", "cauchy-auto", "--output", str(out), "--no-figure",
                 "--no-progress"]) == 0
    assert "mesor is at its bound" in capsys.readouterr().err
    assert main(["fit", str(awd), "--columns", "temperature", "--method", "cauchy-auto",
                 "--output", str(out), "--no-figure", "--no-progress"]) == 0
    assert "mesor is at its bound" not in capsys.readouterr().err
    table = pd.read_csv(out)
    assert table["unit"].iloc[0] == "°C"  # the AWD reader knows the channel's unit
    mesor = table.query("parameter == 'mesor' and status == 'fitted'")["value"]
    assert (mesor > 35.5).all()  # the cosinor fits in the data's own units


def test_subsample_intervals(tmp_path):
    src = tmp_path / "hr.csv"
    write_heart_rate_csv(src, n_days=3)
    out = tmp_path / "p.csv"
    argv = ["fit", str(src), "--model", "heart_rate", "--columns", "hr", "--method",
            "cauchy-auto", "--intervals", "8", "--output", str(out), "--no-figure",
            "--no-progress"]
    assert main(argv) == 0
    table = pd.read_csv(out)
    assert {"lower", "upper"} <= set(table.columns)
    lin = table[table["parameter"] != "acrophase"]
    assert (lin["lower"] <= lin["upper"]).all()
    assert ((lin["lower"] <= lin["value"]) & (lin["value"] <= lin["upper"])).mean() >= 0.5
    width = (lin["upper"] - lin["lower"]).median()
    assert 0 < width < 3  # bpm: dropping 30 % of a clean-ish day moves it a little
    assert main(argv) == 0  # seeded: the same intervals again
    pd.testing.assert_frame_equal(pd.read_csv(out), table)
    with pytest.raises(SystemExit):
        main([*argv, "--intervals", "-1"])
