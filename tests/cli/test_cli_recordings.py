"""``sklearn-r2t fit`` on recordings as devices and studies write them (issue 22's cases)."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from sklearn_r2t.cli._main import main
from sklearn_r2t.recordings import pyactigraphy_data_dir

FIT = ["--method", "cauchy-auto", "--no-figure", "--no-progress"]


def _data_dir():
    try:
        return pyactigraphy_data_dir()
    except ModuleNotFoundError:
        pytest.skip("real recordings come from `pip install --no-deps pyActigraphy==1.2.2`")


def _heart_rate(start, end, freq="5min", zone="Europe/Berlin", seed=0):
    """Heart rate peaking at 15:00 local clock time, with one-sided spikes."""
    t = pd.date_range(start, end, freq=freq, tz=zone)
    hours = np.asarray(t.hour + t.minute / 60, dtype=float)
    rng = np.random.default_rng(seed)
    hr = 68 + 9 * np.cos(2 * np.pi * (hours - 15) / 24) + rng.normal(0, 1, t.size)
    spikes = rng.random(t.size) < 0.05
    hr[spikes] += rng.uniform(20, 40, spikes.sum())
    return t, hr


def _acrophases(table):
    fitted = table[(table["parameter"] == "acrophase") & (table["status"] == "fitted")]
    return fitted["value"].to_numpy()


def test_offsets_across_a_daylight_saving_change(tmp_path, capsys):
    t, hr = _heart_rate("2024-03-29", "2024-04-02 23:55")
    src, out = tmp_path / "dst.csv", tmp_path / "out.csv"
    pd.DataFrame({"time": [x.isoformat() for x in t], "hr": hr}).to_csv(src, index=False)
    assert main(["fit", str(src), "--model", "heart_rate", "--output", str(out), *FIT]) == 0
    err = capsys.readouterr().err
    assert "+01:00/+02:00" in err and "1 of 23 h" in err
    table = pd.read_csv(out)
    starts = [pd.Timestamp(s) for s in table["window_start"].unique()]
    assert [s.hour for s in starts] == [0] * 5  # local midnight, also after the change
    assert sorted(table.drop_duplicates("window_start")["hours"]) == [23, 24, 24, 24, 24]
    np.testing.assert_allclose(_acrophases(table), 15, atol=0.5)
    assert set(table.loc[table["parameter"] == "acrophase", "unit"]) == {
        "h (Europe/Paris clock)"}  # any zone with these offsets: Paris sorts first


def test_utc_file_says_so_and_takes_a_zone(tmp_path, capsys):
    t, hr = _heart_rate("2024-06-03", "2024-06-06 23:55")
    src, out = tmp_path / "z.csv", tmp_path / "out.csv"
    stamps = [x.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ") for x in t]
    pd.DataFrame({"time": stamps, "hr": hr}).to_csv(src, index=False)
    assert main(["fit", str(src), "--model", "heart_rate", "--output", str(out), *FIT]) == 0
    assert "pass --timezone" in capsys.readouterr().err
    table = pd.read_csv(out)
    assert set(table.loc[table["parameter"] == "acrophase", "unit"]) == {"h (UTC clock)"}
    np.testing.assert_allclose(_acrophases(table), 13, atol=0.5)  # 15:00 CEST = 13:00 UTC
    assert main(["fit", str(src), "--model", "heart_rate", "--timezone", "Europe/Berlin",
                 "--output", str(out), *FIT]) == 0
    table = pd.read_csv(out)
    np.testing.assert_allclose(_acrophases(table), 15, atol=0.5)
    assert main(["fit", str(src), "--timezone", "Mars/Olympus", "--output", str(out),
                 *FIT]) == 2
    assert "not a known time zone" in capsys.readouterr().err


def test_times_of_day_without_dates_fail_clearly(tmp_path, capsys):
    n = 3 * 2880
    src = tmp_path / "study.csv"
    pd.DataFrame({"line": np.arange(1, n + 1),
                  "linetime": pd.date_range("2024-01-01", periods=n, freq="30s")
                  .strftime("%H:%M:%S"),
                  "activity": np.random.default_rng(0).poisson(50, n)}).to_csv(src,
                                                                              index=False)
    assert main(["fit", str(src), "--output", str(tmp_path / "o.csv"), *FIT]) == 1
    err = capsys.readouterr().err
    assert "'linetime' holds times of day without dates" in err and "--date-column" in err


def test_skipped_windows_are_in_the_table_and_the_log(tmp_path, capsys):
    t, hr = _heart_rate("2024-05-06 13:00", "2024-05-10 23:55", zone=None)
    # off the wrist (from 23:50: midnight's grid point holds the samples within 7.5 min)
    hr[(t >= "2024-05-07 23:50") & (t < "2024-05-09 06:00")] = np.nan
    src, out = tmp_path / "gaps.csv", tmp_path / "out.csv"
    pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M"), "hr": hr}).to_csv(src, index=False)
    assert main(["fit", str(src), "--model", "heart_rate", "--output", str(out), *FIT]) == 0
    err = capsys.readouterr().err
    assert "3 windows of 24 h fitted" in err and "2 skipped (1 under --min-coverage 50%, " \
        "1 without data" in err
    days = pd.read_csv(out).drop_duplicates("window_start").set_index("window_start")
    assert days["status"].to_dict() == {
        "2024-05-06T00:00:00": "skipped: coverage 46% < min_coverage 50%",
        "2024-05-07T00:00:00": "fitted",
        "2024-05-08T00:00:00": "skipped: no data",
        "2024-05-09T00:00:00": "fitted",
        "2024-05-10T00:00:00": "fitted",
    }
    assert days["coverage"].tolist() == [round(11 / 24, 3), 1.0, 0.0, 0.75, 1.0]


def test_duplicates_are_reported(tmp_path, capsys):
    t, hr = _heart_rate("2024-05-06", "2024-05-07 23:55", zone=None)
    frame = pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M:%S"), "hr": hr})
    frame = pd.concat([frame, frame.iloc[:5].assign(hr=frame["hr"].iloc[:5] + 40)])
    src = tmp_path / "dup.csv"
    frame.to_csv(src, index=False)
    assert main(["fit", str(src), "--output", str(tmp_path / "o.csv"), *FIT]) == 0
    assert "5 timestamps appear more than once (10 rows; 5 with differing values)" in \
        capsys.readouterr().err


def test_values_are_rounded(tmp_path):
    t, hr = _heart_rate("2024-05-06", "2024-05-07 23:55", zone=None)
    src, out = tmp_path / "hr.csv", tmp_path / "out.csv"
    pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M:%S"), "hr": hr}).to_csv(src,
                                                                            index=False)
    assert main(["fit", str(src), "--model", "heart_rate", "--output", str(out), *FIT]) == 0
    text = out.read_text().splitlines()[1:]
    assert max(len(line.split(",")[10]) for line in text) <= 7  # e.g. 68.123, 14.987


def test_vendor_exports_and_compressed_files(tmp_path, capsys):
    data = _data_dir()
    for name, unit in [("test_sample_rpx_eng.csv", "counts"),
                       ("sample-timeSeries.csv.gz", "mg")]:
        out = tmp_path / f"{name}.csv"
        assert main(["fit", str(data / name), "--output", str(out), *FIT]) == 0
        table = pd.read_csv(out)
        assert table["channel"].iloc[0] in ("activity", "acc")
        assert unit in set(table["unit"])
        assert (table["status"] == "fitted").any()
    assert "Europe/London" in capsys.readouterr().err


def test_formats_only_pyactigraphy_reads(tmp_path, capsys):
    path = _data_dir() / "test_sample.agd"
    try:
        import pyActigraphy.io  # noqa: F401
    except ImportError:
        assert importlib.util.find_spec("pyActigraphy") is not None
        assert main(["fit", str(path), "--output", str(tmp_path / "o.csv"), *FIT]) == 1
        err = capsys.readouterr().err
        assert "through pyActigraphy" in err and "--no-deps" in err
        return
    assert main(["fit", str(path), "--min-coverage", "0.2", "--output",
                 str(tmp_path / "o.csv"), *FIT]) == 0
