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
