"""Where the tests find the repository, the committed results and the published data
(../shared/data, or DENSITOMETER_SHARED_DATA); `NEEDS_DATA` marks a module that reads the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalrunner.importers.base import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"
DATA = shared_data_dir(REPO)
NEEDS_DATA = [
    pytest.mark.data,
    pytest.mark.skipif(DATA is None, reason="published data not found: set "
                       "DENSITOMETER_SHARED_DATA or put it at ../shared/data"),
]


def edit_csv_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file in place (`row` counts data rows from 0): a hostile copy of a
    published table."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    table[row][column] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
