"""The API's big CSVs rebuilt run by run (evalrunner/site/csvruns.py): whatever changed, the
file is exactly frame_csv of the whole frame, and only changed runs are formatted again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalrunner.memo import Memo
from evalrunner.site import csvruns
from evalrunner.site.tables import frame_csv

REL = "api/v1/results.csv"
CELLS = st.one_of(st.none(), st.sampled_from(["a", "b,c", 'q"uote', "line\nbreak", "=1+1",
                                              "é ü", "-2", " "]))


def _frame(rows: list[tuple]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["model", "text", "value", "n"])
    f["value"] = f["value"].astype("float64")
    f["n"] = f["n"].astype("Int64")
    return f.sort_values("model", kind="stable").reset_index(drop=True)


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    monkeypatch.setattr(csvruns, "MIN_ROWS", 1)


ROWS = st.lists(st.tuples(st.sampled_from(["m1", "m2", "m3", "m4"]), CELLS,
                          st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                          st.one_of(st.none(), st.integers(-5, 5))), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS, ROWS)
def test_rebuilt_runs_equal_the_whole_csv(tmp_path, before, after) -> None:
    memo = Memo(tmp_path / "store")
    assert csvruns.csv_text(_frame(before), "model", memo) == frame_csv(_frame(before))
    assert csvruns.csv_text(_frame(after), "model", memo) == frame_csv(_frame(after))


def test_only_changed_runs_are_formatted(tmp_path, monkeypatch) -> None:
    rows = [(f"m{i}", "x", i + 0.5, i) for i in range(10) for _ in range(3)]
    memo = Memo(tmp_path / "store")
    csvruns.csv_text(_frame(rows), "model", memo)
    rows[4] = ("m1", "changed", 1.0, 1)
    calls: list[int] = []
    real = csvruns.frame_csv
    monkeypatch.setattr(csvruns, "frame_csv", lambda f: calls.append(len(f)) or real(f))
    out = csvruns.csv_text(_frame(rows), "model", memo)
    assert out == frame_csv(_frame(rows))
    assert sorted(calls) == [0, 3]  # the header, then m1's three rows


def test_an_entry_is_named_by_its_rows(tmp_path) -> None:
    """Changed rows never read the entry of the rows they replace."""
    rows = [(f"m{i}", "x", float(i), i) for i in range(5)]
    memo = Memo(tmp_path / "store")
    csvruns.csv_text(_frame(rows), "model", memo)
    rows[3] = ("m3", "<script>", 3.0, 3)
    assert csvruns.csv_text(_frame(rows), "model", memo) == frame_csv(_frame(rows))


def test_no_store_and_split_keys_format_everything(tmp_path) -> None:
    rows = _frame([("m1", "a", 1.0, 1), ("m2", "b", 2.0, 2)])
    assert csvruns.csv_text(rows, "model", None) == frame_csv(rows)
    split = pd.concat([rows, rows.iloc[:1]], ignore_index=True)  # m1, m2, m1: not runs
    memo = Memo(tmp_path / "store")
    assert csvruns.csv_text(split, "model", memo) == frame_csv(split)
    assert memo.hits == memo.misses == 0
    assert np.array_equal(csvruns._runs(np.array(["a", "a", "b"], dtype=object))[0], [0, 2])
