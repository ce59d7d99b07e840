"""The API's big CSVs rebuilt run by run (evalrunner/site/csvsplice.py): whatever changed, the
file is exactly frame_csv of the whole frame, and only changed runs are formatted again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalrunner.site import csvsplice
from evalrunner.site.tables import frame_csv

REL = "api/v1/results.csv"
CELLS = st.one_of(st.none(), st.sampled_from(["a", "b,c", 'q"uote', "line\nbreak", "=1+1",
                                              "é ü", "-2", " "]))


def _frame(rows: list[tuple]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["model", "text", "value", "n"])
    f["value"] = f["value"].astype("float64")
    f["n"] = f["n"].astype("Int64")
    return f.sort_values("model", kind="stable").reset_index(drop=True)


def _write(docs: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    monkeypatch.setattr(csvsplice, "MIN_ROWS", 1)


ROWS = st.lists(st.tuples(st.sampled_from(["m1", "m2", "m3", "m4"]), CELLS,
                          st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                          st.one_of(st.none(), st.integers(-5, 5))), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS, ROWS)
def test_rebuilt_runs_equal_the_whole_csv(tmp_path, before, after) -> None:
    docs = tmp_path / "docs"
    first = csvsplice.csv_files(REL, _frame(before), "model", docs)
    assert first[REL] == frame_csv(_frame(before))
    _write(docs, first)
    second = csvsplice.csv_files(REL, _frame(after), "model", docs)
    assert second[REL] == frame_csv(_frame(after))


def test_only_changed_runs_are_formatted(tmp_path, monkeypatch) -> None:
    rows = [(f"m{i}", "x", i + 0.5, i) for i in range(10) for _ in range(3)]
    docs = tmp_path / "docs"
    _write(docs, csvsplice.csv_files(REL, _frame(rows), "model", docs))
    rows[4] = ("m1", "changed", 1.0, 1)
    calls: list[int] = []
    real = csvsplice.frame_csv
    monkeypatch.setattr(csvsplice, "frame_csv", lambda f: calls.append(len(f)) or real(f))
    out = csvsplice.csv_files(REL, _frame(rows), "model", docs)
    assert out[REL] == frame_csv(_frame(rows))
    assert sorted(calls) == [0, 3]  # the header, then m1's three rows


def test_a_previous_file_that_does_not_match_its_index_is_not_used(tmp_path) -> None:
    rows = [(f"m{i}", "x", float(i), i) for i in range(5)]
    docs = tmp_path / "docs"
    _write(docs, csvsplice.csv_files(REL, _frame(rows), "model", docs))
    text = (docs / REL).read_text()
    (docs / REL).write_text(text.replace("m3,x", "m3,<script>"))  # planted, same length
    assert csvsplice.csv_files(REL, _frame(rows), "model", docs)[REL] == frame_csv(_frame(rows))
    (docs / csvsplice.index_path(REL)).write_text("{not json")
    assert csvsplice.csv_files(REL, _frame(rows), "model", docs)[REL] == frame_csv(_frame(rows))


def test_no_previous_folder_and_split_keys_format_everything(tmp_path) -> None:
    rows = _frame([("m1", "a", 1.0, 1), ("m2", "b", 2.0, 2)])
    assert csvsplice.csv_files(REL, rows, "model", None)[REL] == frame_csv(rows)
    split = pd.concat([rows, rows.iloc[:1]], ignore_index=True)  # m1, m2, m1: not runs
    assert csvsplice.csv_files(REL, split, "model", tmp_path) == {REL: frame_csv(split)}
    assert np.array_equal(csvsplice._runs(np.array(["a", "a", "b"], dtype=object))[0], [0, 2])
