"""Reading recordings as devices and studies write them, and cutting them into days."""

import csv
import gzip
import importlib.util
import zipfile

import numpy as np
import pandas as pd
import pytest

from sklearn_r2t import SymbolicLeastSquares
from sklearn_r2t.recordings import (
    default_signal,
    make_windows,
    pyactigraphy_data_dir,
    read_recording,
)
from sklearn_r2t.symbolic import Cosinor


def _data_dir():
    try:
        return pyactigraphy_data_dir()
    except ModuleNotFoundError:
        pytest.skip("real recordings come from `pip install --no-deps pyActigraphy==1.2.2`")


def _pyactigraphy_imports() -> bool:
    if importlib.util.find_spec("pyActigraphy") is None:
        return False
    try:
        import pyActigraphy.io  # noqa: F401
    except ImportError:
        return False
    return True


def _berlin_days(start, end, freq="5min"):
    """A heart-rate cosinor peaking at 15:00 Berlin clock time, every ``freq``."""
    t = pd.date_range(start, end, freq=freq, tz="Europe/Berlin")
    hours = np.asarray(t.hour + t.minute / 60, dtype=float)
    return t, 70 + 10 * np.cos(2 * np.pi * (hours - 15) / 24)


def _peak_hours(win):
    return np.nanargmax(win.X, axis=1) * 24 / win.X.shape[1]


# --------------------------------------------------------------------------- timestamps
def test_utc_offsets_across_spring_change_cut_in_local_days(tmp_path):
    t, hr = _berlin_days("2024-03-29", "2024-04-02 23:55")
    path = tmp_path / "dst.csv"
    pd.DataFrame({"time": [x.isoformat() for x in t], "hr": hr}).to_csv(path, index=False)
    assert "+01:00" in path.read_text() and "+02:00" in path.read_text()
    frame = read_recording(path)
    assert frame.index.tz is not None and "+01:00/+02:00" in frame.attrs["time_zone_source"]
    win = make_windows(frame, "hr")
    # every window starts at local midnight, also the one after the change
    assert [(s.hour, s.minute) for s in win.start] == [(0, 0)] * 5
    np.testing.assert_array_equal(win.hours, [24, 24, 23, 24, 24])
    # 02:00-03:00 does not exist that day: the grid points 02:15, 02:30 and 02:45 have
    # no sample within half a step (02:00 keeps the samples from 01:55)
    missing = np.flatnonzero(np.isnan(win.X[2])) * 24 / win.X.shape[1]
    np.testing.assert_array_equal(missing, [2.25, 2.5, 2.75])
    np.testing.assert_array_equal(_peak_hours(win), 15.0)  # local clock, every day


def test_grid_points_are_bin_centres_so_phases_are_not_shifted():
    # Minute samples of a cosine peaking at 14:00: the model's grid point k is clock
    # time k * 15 min, so the fitted peak must be 14:00, not half a bin earlier.
    t = pd.date_range("2024-01-01", periods=3 * 1440, freq="min")
    hours = np.asarray((t - t[0]) / pd.Timedelta(hours=1))
    frame = pd.DataFrame({"y": 0.5 + 0.1 * np.cos(2 * np.pi * (hours - 14.0) / 24)}, index=t)
    win = make_windows(frame)
    acrophase = SymbolicLeastSquares(Cosinor(), loss="linear").fit(win.X).transform(win.X)[:, 2]
    np.testing.assert_allclose(acrophase[1:], 14.0, atol=1e-6)  # whole days
    assert abs(acrophase[0] - 14.0) < 1e-3  # the first bin lacks the 7.5 min before midnight


def test_autumn_change_gives_a_25_hour_day(tmp_path):
    t, hr = _berlin_days("2024-10-25", "2024-10-29 23:55")
    path = tmp_path / "autumn.csv"
    pd.DataFrame({"time": [x.isoformat() for x in t], "hr": hr}).to_csv(path, index=False)
    win = make_windows(read_recording(path), "hr")
    np.testing.assert_array_equal(win.hours, [24, 24, 25, 24, 24])
    np.testing.assert_array_equal(_peak_hours(win), 15.0)


def test_utc_z_times_stay_utc_unless_a_zone_is_given(tmp_path):
    t, hr = _berlin_days("2024-06-03", "2024-06-06 23:55")
    path = tmp_path / "z.csv"
    stamps = [x.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ") for x in t]
    pd.DataFrame({"time": stamps, "hr": hr}).to_csv(path, index=False)
    frame = read_recording(path)
    assert str(frame.index.tz) == "UTC" and "no local zone" in frame.attrs["time_zone_source"]
    np.testing.assert_array_equal(_peak_hours(make_windows(frame, "hr")), 13.0)  # UTC clock
    local = read_recording(path, timezone="Europe/Berlin")
    win = make_windows(local, "hr")
    assert win.timezone == "Europe/Berlin"
    np.testing.assert_array_equal(_peak_hours(win), 15.0)
    # or at windowing time
    np.testing.assert_array_equal(_peak_hours(make_windows(frame, "hr",
                                                           timezone="Europe/Berlin")), 15.0)


def test_zone_aware_parquet_starts_every_day_at_local_midnight(tmp_path):
    pytest.importorskip("pyarrow")
    t, hr = _berlin_days("2024-03-29", "2024-04-02 23:55")
    path = tmp_path / "berlin.parquet"
    pd.DataFrame({"time": t, "hr": hr}).to_parquet(path)
    win = make_windows(read_recording(path), "hr")
    assert [s.hour for s in win.start] == [0] * 5
    np.testing.assert_array_equal(win.hours, [24, 24, 23, 24, 24])


def test_naive_local_times_with_a_zone_tell_the_repeated_hour_apart(tmp_path):
    t, hr = _berlin_days("2024-10-26", "2024-10-28 23:55")
    path = tmp_path / "naive.csv"
    pd.DataFrame({"time": t.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S"),
                  "hr": hr}).to_csv(path, index=False)
    naive = read_recording(path)
    # without a zone, 02:00-02:55 is written twice: reported as duplicates and merged
    assert naive.attrs["n_duplicated"] == 12 and len(naive) == len(t) - 12
    aware = read_recording(path, timezone="Europe/Berlin")
    assert aware.attrs["n_duplicated"] == 0 and len(aware) == len(t)
    np.testing.assert_array_equal(make_windows(aware, "hr").hours, [24, 25, 24])


def test_bracketed_zone_names(tmp_path):
    t, hr = _berlin_days("2024-10-26", "2024-10-28 23:55")
    path = tmp_path / "ukb.csv"
    stamps = [x.strftime("%Y-%m-%d %H:%M:%S.%f%z") + " [Europe/Berlin]" for x in t]
    pd.DataFrame({"time": stamps, "acc": hr}).to_csv(path, index=False)
    frame = read_recording(path)
    assert str(frame.index.tz) == "Europe/Berlin"
    assert frame.index.equals(pd.DatetimeIndex(t, name="time"))
    assert frame.attrs["units"] == {"acc": "mg"}  # UK Biobank's ENMO


def test_duplicated_timestamps_are_reported_and_averaged(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("time,hr\n2024-01-01 00:00,63.9\n2024-01-01 00:00,103.9\n"
                    "2024-01-01 00:05,70\n2024-01-01 00:10,71\n2024-01-01 00:10,71\n")
    frame = read_recording(path)
    assert frame["hr"].tolist() == pytest.approx([83.9, 70, 71])
    assert frame.attrs["n_duplicated"] == 2
    assert "2 timestamps appear more than once (4 rows; 1 with differing values)" in \
        frame.attrs["notes"][0]


def test_times_of_day_without_dates_are_refused(tmp_path):
    n = 3 * 2880
    path = tmp_path / "study.csv"
    pd.DataFrame({"line": np.arange(1, n + 1),
                  "linetime": pd.date_range("2024-01-01", periods=n, freq="30s")
                  .strftime("%H:%M:%S"),
                  "activity": np.random.default_rng(0).poisson(50, n)}).to_csv(path,
                                                                               index=False)
    with pytest.raises(ValueError, match="'linetime' holds times of day without dates"):
        read_recording(path)


def test_time_of_day_with_a_named_date_column(tmp_path):
    n = 2 * 288
    t = pd.date_range("2024-05-06", periods=n, freq="5min")
    path = tmp_path / "split.csv"
    pd.DataFrame({"day": t.strftime("%d/%m/%Y"), "clock": t.strftime("%H:%M"),
                  "hr": np.linspace(60, 80, n) ** 1.01}).to_csv(path, index=False)
    frame = read_recording(path, time_column="clock", date_column="day")
    assert frame.index.equals(pd.DatetimeIndex(t, name="time"))
    # found without being named, too: a date column beside a time-of-day column
    assert read_recording(path).index.equals(frame.index)


def test_row_counters_are_never_signals(tmp_path):
    n = 600
    path = tmp_path / "counter.csv"
    pd.DataFrame({"index": np.arange(n), "time": pd.date_range("2024-01-01", periods=n,
                                                               freq="min").astype(str),
                  "flag": np.arange(n) % 2, "hr": 60 + np.sin(np.arange(n))}).to_csv(
        path, index=False)
    frame = read_recording(path)
    assert "index" not in frame and frame.attrs["dropped_columns"] == {
        "index": "a row counter, not a signal"}
    assert default_signal(frame) == "hr"  # not the 0/1 flag


# --------------------------------------------------------------------------- readers
def test_compressed_files_read_like_the_plain_one(tmp_path):
    t = pd.date_range("2024-01-01", periods=500, freq="min")
    plain = tmp_path / "r.csv"
    pd.DataFrame({"time": t.astype(str), "hr": 60 + np.sin(np.arange(500))}).to_csv(
        plain, index=False)
    with gzip.open(tmp_path / "r.csv.gz", "wb") as f:
        f.write(plain.read_bytes())
    with zipfile.ZipFile(tmp_path / "r.csv.zip", "w") as z:
        z.write(plain, "r.csv")
    expected = read_recording(plain)
    for name in ("r.csv.gz", "r.csv.zip"):
        pd.testing.assert_frame_equal(read_recording(tmp_path / name), expected)


def test_unknown_suffix_names_the_readers(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"unknown file type '.xlsx'.*\.awd"):
        read_recording(path)


def test_actiwatch_awd_with_temperature_and_units():
    frame = read_recording(_data_dir() / "test_sample_awt.AWD")
    assert list(frame.columns) == ["activity", "temperature"]
    assert frame.attrs["units"] == {"activity": "counts", "temperature": "°C"}
    assert 30 < frame["temperature"].median() < 40


def _actiware_epochs(path):
    """The epoch-by-epoch section of an Actiware export, parsed independently."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        rows = list(csv.reader(f))
    head = max(i for i, r in enumerate(rows) if r[:4] == ["Line", "Date", "Time", "Activity"])
    body = [r for r in rows[head + 1:] if len(r) > 4 and r[0]]
    return pd.to_numeric(pd.Series([r[3] for r in body]), errors="coerce")


@pytest.mark.parametrize("name, language", [("test_sample_rpx_eng.csv", "en"),
                                            ("test_sample_rpx_fr.csv", "fr"),
                                            ("test_sample_rpx_ger_with_light.csv", "de")])
def test_actiware_respironics_exports(name, language):
    path = _data_dir() / name
    frame = read_recording(path)
    assert {"activity", "light"} <= set(frame.columns)
    assert frame.attrs["units"]["activity"] == "counts"
    assert frame.attrs["units"]["light"] == "lux"
    assert not any(c.lower() in ("line", "ligne", "zeile") for c in frame.columns)
    step = frame.index.to_series().diff().median()
    assert step in (pd.Timedelta("30s"), pd.Timedelta("60s"))
    assert (frame.index.to_series().diff().dropna() == step).mean() > 0.99
    if language == "en":
        assert frame.index[0] == pd.Timestamp("2015-07-04 09:45:00")  # day first
        epochs = _actiware_epochs(path)
        np.testing.assert_allclose(frame["activity"].to_numpy(), epochs.to_numpy())


def test_uk_biobank_time_series():
    frame = read_recording(_data_dir() / "sample-timeSeries.csv.gz")
    assert str(frame.index.tz) == "Europe/London"
    assert frame.index[0] == pd.Timestamp("2014-05-07 13:29:50.439", tz="Europe/London")
    assert frame.attrs["units"]["acc"] == "mg" and default_signal(frame) == "acc"
    win = make_windows(frame, "acc")
    assert len(win.start) + len(win.skipped) == 7


@pytest.mark.parametrize("name, signal", [("test_sample_atr.txt", "PIM"),
                                          ("test_sample_tal.txt", "activity"),
                                          ("test_sample_dqt.csv", "Accelleration X+Y")])
def test_other_vendor_text_exports(name, signal):
    frame = read_recording(_data_dir() / name)
    assert signal in frame.columns and frame[signal].notna().mean() > 0.9
    assert frame.index.is_monotonic_increasing and frame.attrs["n_duplicated"] == 0


def test_mesa_layout_needs_its_day_column():
    path = _data_dir() / "test_sample_mesa.csv"
    with pytest.raises(ValueError, match="'daybymidnight'"):
        read_recording(path)
    frame = read_recording(path, date_column="daybymidnight")
    assert "activity" in frame and "line" not in frame
    assert frame.index[1] - frame.index[0] == pd.Timedelta("30s")


@pytest.mark.parametrize("name", ["test_sample.agd", "test_sample.mtn"])
def test_formats_read_through_pyactigraphy(name):
    path = _data_dir() / name
    if not _pyactigraphy_imports():
        with pytest.raises(ValueError, match="through pyActigraphy.*--no-deps"):
            read_recording(path)
        return
    frame = read_recording(path)
    assert frame.attrs["reader"].startswith("pyActigraphy.io.read_raw_")
    assert frame.attrs["units"]["activity"] == "counts" and len(frame) > 1000


# --------------------------------------------------------------------------- windows
def test_skipped_windows_are_listed_with_coverage_and_reason():
    t = pd.date_range("2026-01-01 18:00", "2026-01-05 23:59", freq="1min")
    frame = pd.DataFrame({"x": np.cos(np.arange(t.size) / 200.0)}, index=t)
    # off the wrist all day (from 23:50: the day's first grid point, midnight, is the
    # mean of the samples within 7.5 minutes of it)
    frame.loc["2026-01-02 23:50":"2026-01-03", "x"] = np.nan
    frame.loc["2026-01-04 00:00":"2026-01-04 15:59", "x"] = np.nan
    win = make_windows(frame, "x", min_coverage=0.5)
    assert [str(s.date()) for s in win.start] == ["2026-01-02", "2026-01-05"]
    skipped = win.skipped
    assert [str(s.date()) for s in skipped["start"]] == ["2026-01-01", "2026-01-03",
                                                        "2026-01-04"]
    np.testing.assert_allclose(skipped["coverage"], [0.25, 0.0, 1 / 3])
    assert skipped["reason"].tolist() == ["coverage 25% < min_coverage 50%", "no data",
                                          "coverage 33% < min_coverage 50%"]


def test_awd_reader_matches_pyactigraphy_where_its_reader_runs():
    """Our AWD reader against pyActigraphy's own (which needs pandas < 3 and its deps).

    Measured with pandas 3 by translating its removed ``delim_whitespace`` argument:
    activity identical on all 15 AWD files of the wheel.
    """
    if not _pyactigraphy_imports():
        pytest.skip("pyActigraphy does not import (installed without its dependencies)")
    from pyActigraphy.io import read_raw_awd

    for path in sorted(_data_dir().glob("*.AWD")):
        try:
            raw = read_raw_awd(str(path))
        except TypeError as exc:  # pandas >= 3 removed delim_whitespace
            pytest.skip(f"pyActigraphy's AWD reader fails with this pandas: {exc}")
        ours = read_recording(path)
        assert ours.index.equals(pd.DatetimeIndex(raw.data.index, name="time"))
        np.testing.assert_array_equal(ours["activity"], raw.data.astype(float))


def test_naive_times_in_a_skipped_hour_are_dropped_and_reported(tmp_path):
    t = pd.date_range("2024-03-30", "2024-04-01", freq="15min")  # 02:00-02:45 on 31 Mar
    path = tmp_path / "spring.csv"
    pd.DataFrame({"time": t.astype(str), "hr": 60 + np.sin(np.arange(t.size))}).to_csv(
        path, index=False)
    frame = read_recording(path, timezone="Europe/Berlin")
    assert len(frame) == t.size - 4
    assert frame.attrs["notes"] == ["4 times fall in the hour a daylight-saving change "
                                    "skips in Europe/Berlin (they do not exist there) and "
                                    "were dropped"]


def test_actilife_csv_without_time_columns(tmp_path):
    """ActiGraph's ActiLife CSV export: times from the header's start and epoch.

    The layout as ActiLife writes it (ten header lines, then one row per epoch); the
    counts are made up.
    """
    n = 2 * 1440
    counts = np.random.default_rng(0).poisson(200, (n, 3))
    lines = [
        "------------ Data File Created By ActiGraph GT3X+ ActiLife v6.13.3 Firmware "
        "v3.2.1 date format d/M/yyyy at 30 Hz  Filter Normal -----------",
        "Serial Number: MOS2D12345678", "Start Time 10:00:00", "Start Date 7/5/2014",
        "Epoch Period (hh:mm:ss) 00:01:00", "Download Time 12:00:00",
        "Download Date 9/5/2014", "Current Memory Address: 0",
        "Current Battery Voltage: 4.09     Mode = 12",
        "--------------------------------------------------",
        "Axis1,Axis2,Axis3,Steps",
    ] + [f"{a},{b},{c},{a % 7}" for a, b, c in counts]
    path = tmp_path / "actilife.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    frame = read_recording(path)
    assert frame.index[0] == pd.Timestamp("2014-05-07 10:00")  # day first, as declared
    assert frame.index[-1] == pd.Timestamp("2014-05-09 09:59")
    np.testing.assert_array_equal(frame["Axis1"], counts[:, 0])
    assert frame.attrs["units"]["Axis1"] == "counts" and default_signal(frame) == "Axis1"
