"""Signal columns: names and units, known vendor columns, counters.

Counters are never taken as a signal; :func:`default_signal` picks one.
"""

from __future__ import annotations

import re

import numpy as np

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


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


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
