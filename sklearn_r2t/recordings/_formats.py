"""File formats: suffixes and compression, text tables with metadata headers.

Also Actiwatch ``.AWD`` files and the formats only pyActigraphy reads.
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
from pathlib import Path

import numpy as np

from ._columns import _is_number
from ._timestamps import _looks_like_time

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
