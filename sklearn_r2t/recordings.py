"""Read real recordings and cut them into the fixed-length windows the estimators take.

- :func:`read_recording`: a table (CSV, TSV, TXT or Parquet, also ``.gz``/``.zip``/
  ``.bz2``/``.xz`` compressed; vendor exports with metadata lines above the data, such
  as Actiware/Respironics, ActiLife, ActTrust, Tempatilumi or Daqtometer CSVs, and UK
  Biobank's ``*-timeSeries.csv.gz``), an Actiwatch ``.AWD`` file, or a format that only
  pyActigraphy reads (``.agd``, ``.mtn``), as a :class:`pandas.DataFrame` indexed by
  time, with the channels' units in ``frame.attrs["units"]``.
- :func:`make_windows`: resample one or more columns onto the model's grid (15 min for
  96 samples a day), cut the recording into windows (days by default, in local civil
  time) and return the ``(n_windows, n_timesteps[, n_channels])`` array, NaN where
  nothing was recorded, with every window it skipped and why.
- :func:`pyactigraphy_data_dir`: the real recordings shipped in the pyActigraphy
  wheel (``pip install --no-deps pyActigraphy==1.2.2``), found without importing it.

Timestamps: naive times are taken as the local civil time they were written in. Times
with a UTC offset (``+01:00``, ``Z``), a zone in brackets (UK Biobank's
``2014-05-07 13:29:50.439+0100 [Europe/London]``) or a zone-aware Parquet column give
a zone-aware index; a file whose offsets change (a daylight-saving change) is read in
the zone those offsets belong to. Days are cut at local midnight of that zone, so a
day with a daylight-saving change lasts 23 or 25 hours (``Windows.hours``).

pandas is needed here (``pip install pandas``, or the extra ``[cli]``).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
import lzma
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np

__all__ = [
    "READERS",
    "Windows",
    "default_signal",
    "make_windows",
    "pyactigraphy_data_dir",
    "read_awd",
    "read_recording",
]

# Actiwatch epoch codes (header line 4) -> epoch length, as pyActigraphy's RawAWD reads them
_AWD_EPOCHS = {"1": "15s", "2": "30s", "4": "60s", "8": "2min", "20": "5min", "81": "2s",
               "C1": "5s", "C2": "10s"}
# Actiwatch model letter (first character of the serial, header line 6) -> second channel
_AWD_EXTRA = {"D": "light", "I": "pressure", "L": "light", "P": "light", "S": "sound",
              "T": "temperature"}
_AWD_UNITS = {"activity": "counts", "light": "lux", "temperature": "°C"}

# file suffix -> reader; compressed files are read by the suffix under the compression's
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": None}
# formats pyActigraphy reads and this module does not (see _read_with_pyactigraphy)
PYACTIGRAPHY_FORMATS = {".agd": ("read_raw_agd", "ActiGraph .agd"),
                        ".mtn": ("read_raw_mtn", "CamNtech MotionWare .mtn")}
READERS = {**{s: "table" for s in TABLE_SUFFIXES}, ".awd": "awd",
           **{s: "pyactigraphy" for s in PYACTIGRAPHY_FORMATS}}
PYACTIGRAPHY_INSTALL = (
    "pip install --no-deps pyActigraphy==1.2.2 accelerometer==6.2.3, then pip install "
    "lmfit numba spm1d pyexcel pyexcel-ods3 pyexcel-xlsx stochastic lxml pytz "
    "imbalanced-learn (the extra [pyactigraphy]: pyActigraphy's dependencies without "
    "accelerometer's pins, which conflict with scikit-learn >= 1.6)"
)

# names of vendor columns -> our names and units (first match wins, case-insensitive)
_KNOWN_COLUMNS = [
    (r"activity|activit[ée]|aktivit[äa]t|atividade|counts?", "activity", "counts"),
    (r"axis ?[123]|vector magnitude|vm", None, "counts"),  # ActiGraph
    (r"steps", None, "steps"),
    (r"lux", None, "lux"),
    (r"white light|lumi[èe]re blanche|wei(ß|ss)es licht|light|luminosidade|whitelight",
     "light", "lux"),
    (r"temp(erature)?|temp\.", "temperature", "°C"),
    (r"hr|heart ?rate|heart_rate|pulse|bpm", None, "bpm"),
    (r"spo2|sp02|oxygen saturation", None, "%"),
    (r"met", None, "MET"),
]
# a unit written in the column name: "hr (bpm)", "temp [degC]"
_UNIT_IN_NAME = re.compile(r"^(.*?)\s*[\(\[]\s*([^\)\]]+?)\s*[\)\]]\s*$")
_MISSING = {"", "nan", "na", "n/a", "none", "null", "kz", "-", "--", "?"}
_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(\s*[ap]\.?m\.?)?$", re.I)
_DATE_ONLY = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_BRACKET_ZONE = re.compile(r"^(.*?)\s*\[([A-Za-z0-9_/+\-]+)\]$")
# zones tried first when naming the zone of a file's changing UTC offsets
_COMMON_ZONES = (
    "Europe/London", "Europe/Paris", "Europe/Helsinki", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "America/Halifax", "America/Santiago", "America/Sao_Paulo", "Australia/Sydney",
    "Australia/Adelaide", "Pacific/Auckland", "Asia/Jerusalem", "Europe/Moscow",
)


# --------------------------------------------------------------------------- AWD
def read_awd(path: str | os.PathLike):
    """Read an Actiwatch ``.AWD`` file: activity counts and the device's extra channel.

    The format (as pyActigraphy's ``read_raw_awd`` reads it): 7 header lines (name,
    start date, start time, epoch code, age, serial whose first letter is the model,
    sex), then one epoch a line: ``count`` or ``count , value [M]`` where the second
    value is light, temperature (Actiwatch-T, °C), pressure or sound and ``M`` an
    event marker. pyActigraphy 1.2.2's own reader is not used: it needs pandas < 3
    (``delim_whitespace``) and keeps only activity and light.

    Parameters
    ----------
    path : str or path-like
        The ``.AWD`` file.

    Returns
    -------
    frame : pandas.DataFrame
        Indexed by epoch start time (naive: the device's local clock); column
        ``activity`` (counts per epoch) and, for devices that record one,
        ``temperature``, ``light``, ``pressure`` or ``sound``. ``frame.attrs`` holds
        ``name``, ``serial``, ``epoch`` and ``units``.
    """
    import pandas as pd

    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    if len(lines) < 8:
        raise ValueError(f"{path}: too short for an AWD file (7 header lines, then data).")
    header = [line.strip() for line in lines[:7]]
    code = header[3]
    if code not in _AWD_EPOCHS:
        raise ValueError(
            f"{path}: unknown AWD epoch code {code!r} on line 4 (known: "
            f"{', '.join(sorted(_AWD_EPOCHS))})."
        )
    try:
        start = pd.to_datetime(f"{header[1]} {header[2]}", format="mixed", dayfirst=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read the start time {header[1]!r} {header[2]!r}.") \
            from exc
    extra = _AWD_EXTRA.get(header[5][:1].upper())
    activity, second = [], []
    for number, line in enumerate(lines[7:], start=8):
        fields = [x for x in line.replace(",", " ").split() if x != "M"]
        if not fields:
            continue
        try:
            activity.append(float(fields[0]))
            second.append(float(fields[1]) if len(fields) > 1 else np.nan)
        except ValueError as exc:
            raise ValueError(f"{path}, line {number}: not a number: {line!r}.") from exc
    index = pd.date_range(start, periods=len(activity), freq=_AWD_EPOCHS[code])
    frame = pd.DataFrame({"activity": activity}, index=index)
    if extra is not None:
        frame[extra] = second
    frame.index.name = "time"
    frame.attrs.update(name=header[0], serial=header[5], epoch=_AWD_EPOCHS[code],
                       units={c: _AWD_UNITS[c] for c in frame.columns if c in _AWD_UNITS},
                       reader="sklearn_r2t AWD reader")
    return frame


# --------------------------------------------------------------------------- opening
def _split_suffix(path: Path) -> tuple[str, str | None]:
    """``(format suffix, compression suffix or None)``: ``x.csv.gz`` -> (".csv", ".gz")."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        return (suffixes[-2] if len(suffixes) > 1 else ""), suffixes[-1]
    return (suffixes[-1] if suffixes else ""), None


def _open_bytes(path: Path, compression: str | None) -> bytes:
    if compression is None:
        return path.read_bytes()
    if compression == ".zip":
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise ValueError(f"{path}: a .zip must hold exactly one file, it holds "
                                 f"{len(names)}: {names[:5]}.")
            return z.read(names[0])
    with COMPRESSIONS[compression](path, "rb") as f:
        return f.read()


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


# --------------------------------------------------------------------------- tables
def _data_block(text: str, path) -> tuple[list[str], list[list[str]], int]:
    """Find the table in a text file: ``(column names, rows, line number of the header)``
    (-1 when the first row of the table is data).

    Vendor exports put metadata lines (``"Identity:","X"``) above the data. The table is
    the longest run of consecutive rows with the same number of fields (at least 2);
    its first row is the header unless it already holds a timestamp, in which case the
    names come from a metadata row with as many fields (Daqtometer's ``Name:,...``).
    """
    sample = "\n".join(text.splitlines()[-50:])
    counts = {d: sample.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True))
    widths = [len(r) if any(x.strip() for x in r) else 0 for r in rows]
    # width without trailing empty fields: a trailing delimiter on some lines only
    # (Actiware's last line, Tempatilumi's data lines) does not end the table
    filled = [max((k + 1 for k, x in enumerate(r) if x.strip()), default=0) for r in rows]
    best, best_len, i = None, 0, 0
    while i < len(widths):
        j = i
        while j < len(widths) and widths[j] and (widths[j] == widths[i]
                                                 or filled[j] == filled[i]):
            j += 1
        if widths[i] >= 2 and j - i > best_len:
            best, best_len = i, j - i
        i = max(j, i + 1)
    if best is None or best_len < 2:
        raise ValueError(f"{path}: no table found (no run of rows with the same number "
                         "of fields).")
    block = rows[best : best + best_len]
    width = len(block[0])
    if not any(_looks_like_time(x) for x in block[0]):
        return [x.strip() for x in block[0]], block[1:], best
    # the first row is data: the header is the row above (Actiware leaves a blank line
    # between them) or, in Daqtometer files, a "Name:" metadata row
    for r in rows[:best][::-1]:
        cells = [x.strip() for x in r]
        if not any(cells):
            continue
        if len(cells) == width and not any(_looks_like_time(x) or _is_number(x)
                                           for x in cells if x):
            return cells, block, best
        break
    for r in rows[:best]:
        if len(r) == width and r[0].strip().lower().startswith("name"):
            # channel names without units (Daqtometer): not a header to read units from
            return ["time"] + [x.strip() for x in r[1:]], block, -1
    return [f"column_{k}" for k in range(width)], block, -1


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _looks_like_time(text: str) -> bool:
    text = text.strip()
    if len(text) < 8 or not re.match(r"^\d", text):
        return False
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.to_datetime(_BRACKET_ZONE.sub(r"\1", text), format="mixed", utc=True)
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(re.search(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", text))


def _to_numeric(values):
    """Numbers from strings: vendor missing-value marks and decimal commas handled."""
    import pandas as pd

    s = pd.Series(values, dtype="object").astype("string").str.strip()
    s = s.mask(s.str.lower().isin(_MISSING))
    out = pd.to_numeric(s, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any() and s[bad].str.fullmatch(r"-?\d*,\d+([eE][+-]?\d+)?").all():
        out = pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce")
        bad = out.isna() & s.notna()
    return out.astype(float), int(bad.sum())


def _plain_table(text: str):
    """A text table without metadata lines, read by pandas' C parser; None otherwise.

    The same table :func:`_data_block` finds when every line has the header's number
    of fields and the header holds no timestamp, without a Python loop over rows.
    """
    import pandas as pd

    head = text[:4096].splitlines()
    if len(head) < 3:
        return None
    counts = {d: head[1].count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    header = next(csv.reader([head[0]], delimiter=delimiter, skipinitialspace=True))
    if len(header) < 2 or not all(x.strip() for x in header) \
            or any(_looks_like_time(x) for x in header):
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str,
                            keep_default_na=False, skipinitialspace=True,
                            skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None
    if frame.shape[1] != len(header) or (frame == "").all(axis=1).any():
        return None  # a blank line or a short row: the careful reader decides
    frame.columns = [x.strip() for x in header]
    return frame.apply(lambda col: col.str.strip())


def _read_text_table(path: Path, text: str):
    import pandas as pd

    plain = _plain_table(text)
    if plain is not None and plain.columns.is_unique:
        plain.attrs["vendor_export"] = False
        plain.attrs["header_lines"] = []
        return plain
    names, body, first = _data_block(text, path)
    names = [n if n else f"column_{k}" for k, n in enumerate(names)]
    data = {}
    for k, name in enumerate(names):
        if name in data:
            name = f"{name}_{k}"
        data[name] = [r[k].strip() if k < len(r) else "" for r in body]
    frame = pd.DataFrame(data)
    # metadata lines above the table: a vendor export, whose column names mean units
    frame.attrs["vendor_export"] = first > 0
    frame.attrs["header_lines"] = text.splitlines()[:200] if first > 0 else []
    return frame


def _epoch_index(lines, n_rows, path, info):
    """Times of a table without a time column, from its header's start and epoch.

    ActiGraph's ActiLife CSV export ("Start Time 10:00:00", "Start Date 5/7/2014",
    "Epoch Period (hh:mm:ss) 00:01:00", "date format M/d/yyyy"): one row per epoch.
    """
    import pandas as pd

    text = "\n".join(lines)
    date = re.search(r"Start Date[:,\s]+([0-9][0-9/.\-]+)", text)
    clock = re.search(r"Start Time[:,\s]+([0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)", text)
    epoch = re.search(r"Epoch Period \(hh:mm:ss\)[:,\s]+([0-9]{1,2}:[0-9]{2}:[0-9]{2})",
                      text)
    if not (date and clock and epoch):
        return None
    fmt = re.search(r"date format\s+(\S+)", text, re.I)
    dayfirst = bool(fmt and fmt.group(1).lower().startswith("d"))
    start = pd.to_datetime(f"{date.group(1)} {clock.group(1)}", dayfirst=dayfirst,
                           format="mixed")
    step = pd.Timedelta(epoch.group(1))
    info["notes"].append(f"times from the header: start {start}, one row every {step}")
    return pd.date_range(start, periods=n_rows, freq=step, name="time")


def _read_table(path: Path, fmt: str, compression: str | None):
    import pandas as pd

    if fmt in (".parquet", ".pq"):
        return pd.read_parquet(io.BytesIO(_open_bytes(path, compression))
                               if compression else path)
    return _read_text_table(path, _decode(_open_bytes(path, compression)))


# --------------------------------------------------------------------------- timestamps
def _zone_for_offsets(instants, offsets):
    """A zone whose UTC offset equals the file's at every sample, or None.

    Every zone that matches gives the same local times over the recording; the first
    of a few common zones is preferred, then the others in alphabetical order.
    """
    import zoneinfo

    import pandas as pd

    change = np.flatnonzero(np.diff(offsets) != 0)
    picks = np.unique(np.concatenate([[0, len(offsets) - 1], change, change + 1,
                                      np.linspace(0, len(offsets) - 1, 60).astype(int)]))
    points = instants[picks]
    want = pd.to_timedelta(offsets[picks], unit="m")
    zones = list(_COMMON_ZONES) + sorted(
        z for z in zoneinfo.available_timezones()
        if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
        and z not in _COMMON_ZONES)
    naive = points.tz_localize(None)
    for zone in zones:
        try:
            local = points.tz_convert(zone).tz_localize(None)
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            continue
        if ((local - naive) == want).all():
            return zone
    return None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]|$)")


def _offset_minutes(strings) -> np.ndarray:
    def one(s):
        m = _OFFSET.search(s)
        if m.group(1) == "Z":
            return 0
        sign = -1 if m.group(1)[0] == "-" else 1
        digits = m.group(1)[1:].replace(":", "")
        return sign * (int(digits[:2]) * 60 + int(digits[2:]))

    return np.array([one(s) for s in strings])


def _parse_naive(strings, name, path):
    """Naive times, day-first or month-first: whichever makes the times run forward."""
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    if _ISO_DATE.match(str(strings[0])):
        # year first (ISO 8601) is never day-first: one vectorised parse, not the
        # day-first trial, which falls back to dateutil row by row (13x the whole
        # read of a week-long minute CSV)
        t = pd.DatetimeIndex(pd.to_datetime(strings, errors="coerce", format="ISO8601"))
        if not t.isna().any():
            return t
    tries = []
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Parsing dates in %d.%m.%Y format when..."
            fmt = guess_datetime_format(str(strings[0]), dayfirst=dayfirst)
        for kwargs in ([{"format": fmt}] if fmt else []) + [{"format": "mixed",
                                                             "dayfirst": dayfirst}]:
            try:
                t = pd.DatetimeIndex(pd.to_datetime(strings, errors="coerce", **kwargs))
            except (ValueError, TypeError, OverflowError):
                continue
            if t.isna().any():
                continue
            # day-first or month-first: the reading whose steps are regular wins
            d = np.diff(t.asi8)
            irregular = int((d != np.median(d)).sum()) if d.size else 0
            tries.append((int((d < 0).sum()), irregular, len(tries), t))
            break
    if not tries:
        t = pd.to_datetime(strings, errors="coerce", format="mixed")
        bad = pd.Series(strings)[t.isna()].iloc[0]
        raise ValueError(f"{path}: column {name!r} has a value that is no time: {bad!r}.")
    return min(tries, key=lambda x: x[:3])[3]


def _parse_times(values, name, path, info):
    """DatetimeIndex of a column of timestamps (any of the forms in the module doc)."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        idx = pd.DatetimeIndex(values, name="time")
        info["time_zone_source"] = ("the column's zone" if idx.tz is not None
                                    else "no zone in the file")
        return idx
    if values.dtype.kind in "fiub":
        raise ValueError(f"{path}: column {name!r} holds numbers, not timestamps; name the "
                         "timestamp column with time_column= (--time-column).")
    s = pd.Series(values, dtype="object").astype("string").str.strip()
    if s.isna().any():
        raise ValueError(f"{path}: column {name!r} has {int(s.isna().sum())} empty "
                         "timestamps.")
    strings = s.to_numpy(dtype=object)
    if all(_TIME_OF_DAY.match(x) for x in strings[:: max(1, len(strings) // 200)]):
        raise _TimeOfDayOnly(name)
    zone = None
    bracket = s.str.extract(_BRACKET_ZONE)
    if bracket[1].notna().all():
        zones = bracket[1].unique()
        if len(zones) > 1:
            raise ValueError(f"{path}: column {name!r} names several zones: "
                             f"{', '.join(map(str, zones[:4]))}.")
        zone = str(zones[0])
        strings = bracket[0].to_numpy(dtype=object)
        info["time_zone_source"] = f"zone named in the file: [{zone}]"
    has_offset = pd.Series(strings, dtype="string[pyarrow]").str.contains(
        r"(?:Z|[+-]\d{2}:?\d{2})$").to_numpy(dtype=bool)  # _OFFSET, in one Arrow pass
    if has_offset.any() and not has_offset.all():
        bad = strings[~has_offset][0]
        raise ValueError(f"{path}: column {name!r} mixes times with and without a UTC "
                         f"offset (e.g. {bad!r}).")
    if not has_offset.any():
        idx = _parse_naive(strings, name, path)
        if zone is not None:
            idx = _localize(idx, zone, info)
        return pd.DatetimeIndex(idx, name="time")
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(strings, utc=True, format="ISO8601"))
    except (ValueError, TypeError):
        idx = pd.DatetimeIndex(pd.to_datetime(strings, utc=True, format="mixed"))
    if zone is not None:
        return idx.tz_convert(zone).rename("time")
    offsets = _offset_minutes(strings)
    distinct = np.unique(offsets)
    if len(distinct) == 1:
        if distinct[0] == 0:
            info["time_zone_source"] = "UTC ('Z' or +00:00) in the file: no local zone"
            return idx.rename("time")
        tz = timezone(timedelta(minutes=int(distinct[0])))
        info["time_zone_source"] = f"UTC offset {_fmt_offset(distinct[0])} in the file"
        return idx.tz_convert(tz).rename("time")
    found = _zone_for_offsets(idx, offsets)
    shown = "/".join(_fmt_offset(o) for o in distinct)
    if found is None:
        # no zone has these offsets at these dates: keep the clock times as written
        info["time_zone_source"] = (f"UTC offsets {shown} that match no time zone: the "
                                    "clock times as written")
        wall = idx.tz_localize(None) + pd.to_timedelta(offsets, unit="m")
        return pd.DatetimeIndex(wall, name="time")
    info["time_zone_source"] = (f"UTC offsets {shown} in the file; any zone with "
                                "these offsets gives the same local times")
    return idx.tz_convert(found).rename("time")


def _fmt_offset(minutes) -> str:
    sign = "-" if minutes < 0 else "+"
    m = abs(int(minutes))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _localize(idx, zone, info):
    """Naive local times -> zone-aware; a repeated hour (autumn) is told apart by order.

    Times in the hour a spring change skips do not exist in ``zone``: they become NaT
    (dropped by the caller) and a note says how many.
    """
    try:
        out = idx.tz_localize(zone, ambiguous="infer", nonexistent="NaT")
        unplaced = 0
    except Exception:  # pytz/zoneinfo raise several types when the order cannot tell
        out = idx.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        unplaced = int(out.isna().sum() - idx.isna().sum())
        info.setdefault("notes", []).append(
            f"{unplaced} times in a repeated (daylight-saving) hour of {zone} could not be "
            "told apart by their order and were dropped")
    skipped = int(out.isna().sum() - idx.isna().sum()) - unplaced
    if skipped:
        info.setdefault("notes", []).append(
            f"{skipped} times fall in the hour a daylight-saving change skips in {zone} "
            "(they do not exist there) and were dropped")
    return out


class _TimeOfDayOnly(ValueError):
    def __init__(self, column):
        super().__init__(column)
        self.column = column


def _combine_date_time(frame, date_col, time_col, path):
    """One timestamp per row from a date (or day-number) column and a time-of-day column."""
    import pandas as pd

    day = frame[date_col]
    time = frame[time_col].astype("string").str.strip()
    numeric = pd.to_numeric(day, errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        # day numbers (MESA's daybymidnight): dates counted from 2000-01-01 as day 1
        dates = pd.Timestamp("2000-01-01") + pd.to_timedelta(numeric - numeric.min(), "D")
        text = dates.dt.strftime("%Y-%m-%d") + " " + time
        return text, "day numbers (dates counted from 2000-01-01; clock times are real)"
    return day.astype("string").str.strip() + " " + time, None


def _find_time_column(frame, path):
    """Name of the timestamp column: the first whose first values parse as dates + times."""
    import pandas as pd

    if isinstance(frame.index, pd.DatetimeIndex):
        return None
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "M" or isinstance(col.dtype, pd.DatetimeTZDtype):
            return name
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "fiub":
            continue
        head = [str(x) for x in col.dropna().head(20)]
        if head and all(_looks_like_time(x) or _TIME_OF_DAY.match(x.strip())
                        for x in head):
            return name
    return None


def _date_time_pair(frame):
    """(date column, time column) when a table splits them (Actiware's Date, Time)."""
    dates = times = None
    for name in frame.columns:
        head = [str(x).strip() for x in frame[name].dropna().head(20)]
        if not head or frame[name].dtype.kind in "fiub":
            continue
        if dates is None and all(_DATE_ONLY.match(x) for x in head):
            dates = name
        elif times is None and all(_TIME_OF_DAY.match(x) for x in head):
            times = name
    return (dates, times) if dates is not None and times is not None else None


# --------------------------------------------------------------------------- columns
def _is_counter(col) -> bool:
    """A row counter or elapsed-epoch count: integers rising by the same step every row."""
    v = col.to_numpy(dtype=float)
    if v.size < 3 or np.isnan(v).any() or not np.all(v == np.round(v)):
        return False
    d = np.diff(v)
    return bool(d[0] > 0 and np.all(d == d[0]))


def _name_and_unit(name: str) -> tuple[str, str | None]:
    m = _UNIT_IN_NAME.match(str(name))
    if m:
        return m.group(1), m.group(2)
    return str(name), None


def _known(name: str):
    low = name.strip().lower()
    for pattern, ours, unit in _KNOWN_COLUMNS:
        if re.fullmatch(pattern, low):
            return ours, unit
    return None, None


def _clean_columns(frame, path, info, units, vendor=False):
    """Numeric signal columns: numbers parsed, counters and empty columns dropped.

    Units come from the column name (``hr (bpm)``, ``temp [°C]``) and, in vendor
    exports only, from the vendor's column names (Actiware's ``Activity`` is counts,
    ``White Light`` lux): a plain table's ``hr`` may be in any unit.
    """
    import pandas as pd

    out, dropped = {}, {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind not in "fiub":
            if col.dtype.kind == "M" or isinstance(col.dtype, pd.DatetimeTZDtype):
                continue
            values, n_bad = _to_numeric(col.to_numpy())
            if values.notna().sum() == 0 or n_bad > 0.5 * len(values):
                continue  # text (interval status, ids)
            if n_bad:
                info.setdefault("notes", []).append(
                    f"{n_bad} values of {name!r} are not numbers and were read as missing")
            col = pd.Series(values.to_numpy(), index=frame.index)
        col = col.astype(float)
        if col.notna().sum() == 0:
            dropped[str(name)] = "empty"
            continue
        if _is_counter(col):
            dropped[str(name)] = "a row counter, not a signal"
            continue
        base, unit = _name_and_unit(str(name))
        ours, known_unit = _known(base) if vendor else (None, None)
        new = str(name) if unit is None and ours is None else (ours or base)
        if new in out:
            new = str(name)
        out[new] = col
        if unit or known_unit:
            units[new] = unit or known_unit
    info["dropped_columns"] = dropped
    return pd.DataFrame(out, index=frame.index)


def default_signal(frame) -> str:
    """The column taken as the signal when none is named: ``activity`` if there is
    one, else the first column that is not a 0/1 flag, a constant or a small set of
    integer codes (day of week, markers).

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_recording`.

    Returns
    -------
    name : str
    """
    names = list(frame.columns)
    names = [n for n in names if n == "activity"] + [n for n in names if n != "activity"]
    for name in names:
        v = frame[name].dropna().to_numpy()
        distinct = np.unique(v)
        if distinct.size <= 2:
            continue
        if np.all(v == np.round(v)) and distinct.size <= 10:
            continue
        return str(name)
    return str(frame.columns[0])


# --------------------------------------------------------------------------- pyActigraphy
def _read_with_pyactigraphy(path: Path, fmt: str):
    """Read a format only pyActigraphy reads (activity, plus light when recorded)."""
    import pandas as pd

    function, what = PYACTIGRAPHY_FORMATS[fmt]
    if importlib.util.find_spec("pyActigraphy") is None:
        raise ValueError(f"{path}: {what} files are read through pyActigraphy, which is "
                         f"not installed: {PYACTIGRAPHY_INSTALL}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pyActigraphy import io as pio
    except ImportError as exc:
        raise ValueError(
            f"{path}: {what} files are read through pyActigraphy, which is installed "
            f"without its dependencies ({exc}): {PYACTIGRAPHY_INSTALL}") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = getattr(pio, function)(str(path))
    frame = pd.DataFrame({"activity": raw.data.astype(float)})
    units = {"activity": "counts"}
    light = getattr(raw, "light", None)
    if light is not None and getattr(light, "data", None) is not None:
        data = light.data
        data = data.to_frame() if isinstance(data, pd.Series) else data
        for k, c in enumerate(data.columns):
            name = "light" if k == 0 else str(c).lower().replace(" ", "_")
            frame[name] = data[c].reindex(frame.index).astype(float)
            units[name] = "lux"
    frame.index = pd.DatetimeIndex(frame.index, name="time")
    frame.attrs.update(units=units, reader=f"pyActigraphy.io.{function}")
    return frame


# --------------------------------------------------------------------------- entry point
def read_recording(path: str | os.PathLike, *, time_column: str | None = None,
                   date_column: str | None = None, timezone: str | None = None):
    """Read a recording into a DataFrame indexed by time.

    Parameters
    ----------
    path : str or path-like
        A table (``.csv``, ``.tsv``, ``.txt``, ``.parquet``; also compressed ``.gz``,
        ``.zip``, ``.bz2``, ``.xz``): a timestamp column (or a date and a time column)
        and numeric signal columns, optionally under vendor metadata lines. An
        Actiwatch ``.AWD`` file. ``.agd`` and ``.mtn`` through pyActigraphy.
    time_column : str, default=None
        Timestamp column of a table; None takes the first column whose values parse as
        dates and times (or a date column and a time-of-day column side by side).
    date_column : str, default=None
        With a time column that holds only times of day (``HH:MM:SS``): the column
        holding the date, or the day number (1, 2, ...), of each row.
    timezone : str, default=None
        IANA zone (``"Europe/Berlin"``, ``"UTC"``). Zone-aware times are converted to
        it; naive times are taken as written in it (a repeated autumn hour is told
        apart by the order of the rows). None keeps the file's own zone, or its naive
        local times.

    Returns
    -------
    frame : pandas.DataFrame
        Sorted by time, one row per distinct time (duplicated times averaged), numeric
        columns only. Row counters (``line``, epoch numbers) and text columns are
        dropped. ``frame.attrs`` holds ``units`` (column -> unit, where known),
        ``time_zone_source``, ``n_duplicated``, ``dropped_columns``, ``notes`` and
        ``reader``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unknown extension, a file that does not parse, no timestamp column, times
        of day without a date, or no numeric column.

    Examples
    --------
    >>> from sklearn_r2t.recordings import pyactigraphy_data_dir, read_recording
    >>> frame = read_recording(pyactigraphy_data_dir() / "example_01.AWD")
    >>> list(frame.columns), str(frame.index[1] - frame.index[0]), frame.attrs["units"]
    (['activity'], '0 days 00:01:00', {'activity': 'counts'})
    """

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    fmt, compression = _split_suffix(path)
    kind = READERS.get(fmt)
    if kind is None:
        raise ValueError(
            f"{path}: unknown file type {''.join(path.suffixes[-2:])!r}; expected one of "
            f"{', '.join(sorted(READERS))} (optionally compressed: "
            f"{', '.join(COMPRESSIONS)})."
        )
    if kind != "table" and compression is not None:
        raise ValueError(f"{path}: decompress {fmt} files first.")
    info: dict = {"notes": [], "time_zone_source": "no zone in the file"}
    if kind == "awd":
        frame = read_awd(path)
        units = dict(frame.attrs.get("units", {}))
        info.update({k: v for k, v in frame.attrs.items() if k != "units"})
        info["time_zone_source"] = "the device's clock, no zone"
    elif kind == "pyactigraphy":
        frame = _read_with_pyactigraphy(path, fmt)
        units = dict(frame.attrs["units"])
        info["reader"] = frame.attrs["reader"]
        info["time_zone_source"] = "the device's clock, no zone"
    else:
        table = _read_table(path, fmt, compression)
        frame, units = _index_table(table, path, time_column, date_column, info)
        info["reader"] = "sklearn_r2t table reader"
    frame = frame.select_dtypes("number")
    if frame.shape[1] == 0:
        raise ValueError(f"{path}: no numeric signal column.")
    idx = frame.index
    if timezone is not None:
        try:
            if idx.tz is None:
                idx = _localize(idx, timezone, info)
            else:
                idx = idx.tz_convert(timezone)
        except Exception as exc:  # unknown zone names raise several types
            raise ValueError(f"unknown time zone {timezone!r} ({exc}).") from exc
        info["time_zone_source"] = f"timezone={timezone!r}"
        frame = frame.set_axis(idx, axis=0)
        frame = frame[frame.index.notna()]
    frame = frame.sort_index(kind="stable")
    dup = frame.index.duplicated(keep=False)
    n_dup = int(frame.index[dup].nunique())
    if n_dup:
        conflicting = int((frame[dup].groupby(level=0).nunique(dropna=True) > 1)
                          .any(axis=1).sum())
        frame = frame.groupby(level=0, sort=True).mean()
        info["notes"].append(
            f"{n_dup} timestamps appear more than once ({int(dup.sum())} rows; "
            f"{conflicting} with differing values): each is replaced by the mean of its "
            "rows")
    info["n_duplicated"] = n_dup
    frame.index.name = "time"
    frame.attrs = {**info, "units": {c: u for c, u in units.items() if c in frame.columns}}
    return frame


def _index_table(table, path, time_column, date_column, info):
    """The table's numeric columns indexed by its timestamps."""
    import pandas as pd

    units: dict = {}
    if isinstance(table.index, pd.DatetimeIndex):
        idx = table.index
        info["time_zone_source"] = ("the index's zone" if idx.tz is not None
                                    else "no zone in the file")
        return _clean_columns(table, path, info, units).set_axis(idx.rename("time")), units
    if time_column is not None and time_column not in table.columns:
        raise ValueError(f"{path}: no column {time_column!r}; columns are "
                         f"{list(table.columns)}.")
    if date_column is not None and date_column not in table.columns:
        raise ValueError(f"{path}: no column {date_column!r}; columns are "
                         f"{list(table.columns)}.")
    used = []
    if time_column is None and date_column is None:
        pair = _date_time_pair(table)
        if pair is not None:
            date_column, time_column = pair
    if time_column is None:
        time_column = _find_time_column(table, path)
        if time_column is None:
            idx = _epoch_index(table.attrs.get("header_lines", []), len(table), path, info)
            if idx is None:
                raise ValueError(f"{path}: no column holds timestamps; name one with "
                                 "time_column= (--time-column).")
            frame = _clean_columns(table, path, info, units, vendor=True)
            return frame.set_axis(idx, axis=0), units
    if date_column is not None:
        values, note = _combine_date_time(table, date_column, time_column, path)
        if note:
            info["notes"].append(f"{date_column!r} holds {note}")
        used = [date_column, time_column]
    else:
        values, used = table[time_column], [time_column]
    try:
        idx = _parse_times(values, time_column, path, info)
    except _TimeOfDayOnly as exc:
        hints = [c for c in table.columns if re.search("day|date|datum|data", str(c), re.I)
                 and c != exc.column]
        hint = f" (candidates: {', '.join(map(repr, hints))})" if hints else ""
        raise ValueError(
            f"{path}: column {exc.column!r} holds times of day without dates, so the days "
            "cannot be told apart; name the column that holds each row's date or day "
            f"number with date_column= (--date-column){hint}.") from None
    info["time_column"] = " + ".join(map(str, used))
    rest = table.drop(columns=used)
    frame = _clean_columns(rest, path, info, units,
                           vendor=bool(table.attrs.get("vendor_export")))
    if "named in the file" in info.get("time_zone_source", "") and "acc" in frame:
        units["acc"] = "mg"  # UK Biobank's accelerometer package: ENMO in milli-g
    frame.index = idx
    return frame[frame.index.notna()], units


# --------------------------------------------------------------------------- windows
@dataclass
class Windows:
    """Windows cut from a recording by :func:`make_windows`.

    Attributes
    ----------
    X : ndarray of shape (n_windows, n_timesteps) or (n_windows, n_timesteps, n_channels)
        Mean of the samples in each grid bin; NaN where none was recorded.
    start : pandas.DatetimeIndex
        Start time of each window (local civil time; zone-aware when the recording is).
    coverage : ndarray of shape (n_windows,)
        Fraction of the grid bins that hold data.
    columns : list of str
        The channels.
    step : pandas.Timedelta
        Grid spacing (in local clock time).
    hours : ndarray of shape (n_windows,)
        Elapsed hours of each window: 23 or 25 for a day with a daylight-saving change
        (zone-aware times only; naive times carry no such information, and give
        ``window_hours``).
    skipped : pandas.DataFrame
        The windows left out: ``start``, ``coverage``, ``hours`` and ``reason``.
    timezone : str or None
        Zone of the local clock the windows are cut in (None: naive local times).
    """

    X: np.ndarray
    start: object
    coverage: np.ndarray
    columns: list
    step: object
    hours: np.ndarray = field(default=None)
    skipped: object = field(default=None)
    timezone: str | None = None


def make_windows(
    frame,
    columns=None,
    *,
    n_timesteps: int = 96,
    window_hours: float = 24.0,
    start_hour: float = 0.0,
    min_coverage: float = 0.5,
    timezone: str | None = None,
) -> Windows:
    """Resample a recording onto the model's grid and cut it into windows.

    The grid is local clock time: a window runs from ``start_hour`` to ``start_hour``
    on the local clock, so with a daylight-saving change the skipped hour holds no
    data (a 23-hour day) and the repeated hour's two passes are averaged bin by bin
    (a 25-hour day); ``Windows.hours`` says which.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by time (:func:`read_recording`).
    columns : str or list of str, default=None
        Channels, in the model's order; None takes every column.
    n_timesteps : int, default=96
        Grid points per window (96 over 24 h: one every 15 minutes).
    window_hours : float, default=24.0
        Window length.
    start_hour : float, default=0.0
        Clock time at which windows start (0: midnight to midnight).
    min_coverage : float in [0, 1], default=0.5
        Windows with a smaller fraction of grid bins holding data (of every channel)
        are skipped, such as partial first and last days; they are listed in
        ``Windows.skipped``.
    timezone : str, default=None
        Cut days in this zone's civil time (zone-aware index only; naive times are
        already local). None: the index's own zone.

    Returns
    -------
    windows : Windows
    """
    import pandas as pd

    if columns is None:
        columns = list(frame.columns)
    elif isinstance(columns, str):
        columns = [columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"No column {missing[0]!r}; columns are {list(frame.columns)}.")
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage}.")
    if len(frame) == 0:
        raise ValueError("The recording has no rows.")
    idx = pd.DatetimeIndex(frame.index)
    tz = idx.tz
    if timezone is not None:
        if tz is None:
            raise ValueError("timezone= needs a zone-aware index; pass timezone to "
                             "read_recording to place naive times in a zone.")
        idx = idx.tz_convert(timezone)
        tz = idx.tz
    wall = idx.tz_localize(None) if tz is not None else idx
    step = pd.Timedelta(hours=window_hours / n_timesteps)
    length = pd.Timedelta(hours=window_hours)
    first = wall.min().normalize() + pd.Timedelta(hours=start_hour)
    if first > wall.min():
        first -= length
    values = frame[columns].astype(float).set_axis(wall, axis=0)
    grid = values.resample(step, origin=first).mean()
    grid = grid.reindex(pd.date_range(first, grid.index.max() + length, freq=step,
                                      inclusive="left"))
    n_windows = len(grid) // n_timesteps
    arr = grid.to_numpy()[: n_windows * n_timesteps].reshape(n_windows, n_timesteps,
                                                            len(columns))
    coverage = (~np.isnan(arr)).all(axis=2).mean(axis=1)
    starts = grid.index[: n_windows * n_timesteps : n_timesteps]
    if tz is not None:
        bounds = pd.DatetimeIndex(list(starts) + [starts[-1] + length])
        aware = bounds.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        hours = np.asarray((aware[1:] - aware[:-1]) / pd.Timedelta(hours=1), dtype=float)
        starts = aware[:-1]
    else:
        hours = np.full(n_windows, window_hours)
    keep = (coverage >= min_coverage) & (coverage > 0)
    reasons = np.where(coverage == 0, "no data",
                       [f"coverage {c:.0%} < min_coverage {min_coverage:.0%}"
                        for c in coverage])
    skipped = pd.DataFrame({"start": starts[~keep], "coverage": coverage[~keep],
                            "hours": hours[~keep], "reason": reasons[~keep]})
    X = arr[keep]
    if len(columns) == 1:
        X = X[:, :, 0]
    return Windows(X=X, start=starts[keep], coverage=coverage[keep], columns=columns,
                   step=step, hours=hours[keep], skipped=skipped,
                   timezone=None if tz is None else str(tz))


def pyactigraphy_data_dir() -> Path:
    """Folder of the real recordings that ship in the pyActigraphy wheel.

    pyActigraphy is not imported (its own dependencies are not needed to read its
    files): install it with ``pip install --no-deps pyActigraphy==1.2.2``, as ``make``
    does.

    Returns
    -------
    path : pathlib.Path
        ``.../site-packages/pyActigraphy/tests/data``.

    Raises
    ------
    ModuleNotFoundError
        If pyActigraphy is not installed.
    """
    spec = importlib.util.find_spec("pyActigraphy")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "pyActigraphy is not installed; its recordings come with "
            "`pip install --no-deps pyActigraphy==1.2.2`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "tests" / "data"
