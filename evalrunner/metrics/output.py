"""Writing metric tables: CSV and JSON with stable columns, sorted rows, fixed float format.

Floats are written with 12 significant digits (`%.12g`), so reruns on the same input give
byte-identical files; missing values are empty in CSV and null in JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from evalrunner.results.write import atomic_write_text

from .compute import MetricTables
from .registry import registry_json

FLOAT_FORMAT = "%.12g"


def _json_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else float(FLOAT_FORMAT % value)
    return value


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): text
# from result files (model names, notes) gets a leading apostrophe, as OWASP recommends.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(column: pd.Series) -> pd.Series:
    """The column with a leading apostrophe on every formula-like text cell."""
    try:
        risky = column.str.startswith(_FORMULA_START, na=False)
    except AttributeError:  # not text-like at all (e.g. objects): check cell by cell
        risky = column.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
    risky = risky.fillna(False).astype(bool)
    if not risky.any():
        return column
    column = column.astype(object).copy()
    column[risky] = "'" + column[risky].astype(str)
    return column


def csv_text(table: pd.DataFrame, float_format: str | None = None) -> str:
    """Deterministic, spreadsheet-safe CSV: ISO days for dates, formula-like text defused."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
        elif not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = _defuse(out[col])
    return out.to_csv(index=False, float_format=float_format, lineterminator="\n")


def to_csv(table: pd.DataFrame) -> str:
    return csv_text(table, FLOAT_FORMAT)


def to_json(table: pd.DataFrame) -> str:
    records = [{k: _json_value(v) for k, v in row.items()}
               for row in table.to_dict(orient="records")]
    return json.dumps({"columns": list(table.columns), "rows": records}, indent=1) + "\n"


def write_tables(tables: MetricTables, out: Path) -> list[Path]:
    """Write every table as <name>.csv and <name>.json, and the metric registry; returns the
    paths written (unchanged files are left alone)."""
    out = Path(out)
    written = []
    for name, table in tables.tables().items():
        for suffix, text in ((".csv", to_csv(table)), (".json", to_json(table))):
            path = out / f"{name}{suffix}"
            if atomic_write_text(path, text):
                written.append(path)
    path = out / "metric_registry.json"
    if atomic_write_text(path, registry_json()):
        written.append(path)
    return written
