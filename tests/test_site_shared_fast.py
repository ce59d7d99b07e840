"""The shared parts' fast paths give exactly what the plain code gives: the API's JSON, the
leaderboard's per-column formatting and reasons, the revisions the boards reuse, and the big
CSVs rebuilt from an unchanged previous file."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from site_tree import build_site_tree

from evalrunner.results.load import load_frames
from evalrunner.site import csvruns, fmt, leaderboard, tables
from evalrunner.site.api import _json
from evalrunner.site.data import leaderboard_revisions
from evalrunner.site.leaderboard import build_leaderboard
from evalrunner.site.tables import frame_csv


def test_api_json_is_strict_and_round_trips() -> None:
    doc = {"b": [1, 2.5, None, "é\u2028"], "a": {"x": True}}
    assert json.loads(_json(doc)) == doc and _json(doc).endswith("\n")
    assert _json(doc).index('"a"') < _json(doc).index('"b"')  # sorted keys: stable bytes
    for bad in [{"a": float("nan")}, [1, {"b": [float("inf")]}]]:
        with pytest.raises(ValueError):
            _json(bad)


def test_column_formatting_is_fmt() -> None:
    values = [0.0, -0.0, -1e-9, -0.0004, -0.0005, 0.00049, 0.4213, 1.0, 0.99949, -0.12345,
              float("nan"), None, np.float64(0.5), 123.456, 1e-300]
    floats = np.array([np.nan if v is None else v for v in values], dtype=float)
    assert fmt.pct_values(floats) == [fmt.pct_value(v) for v in values]
    assert [str(x) for x in fmt.pct_values(floats)] == [
        str(fmt.pct_value(v)) for v in values]  # 0.0, never -0.0
    plain = ["a", 1, True, 2.5, float("nan"), None, np.int64(3), pd.NA]
    assert tables.plain_values(plain) == [tables.plain(v) for v in plain]


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    return load_frames(build_site_tree(tmp_path_factory.mktemp("tree") / "results"))


def test_boards_from_the_shared_revisions_and_missing_reasons(frames, monkeypatch) -> None:
    s = frames.scores
    shown = leaderboard_revisions(s[s["primary"]])
    for setting in frames.settings["setting"]:
        a = build_leaderboard(frames, setting)
        b = build_leaderboard(frames, setting, shown=shown)
        pd.testing.assert_frame_equal(a.rows, b.rows)
    # a model without two core tasks: no average, and the reason names both, in core order
    monkeypatch.setattr(leaderboard, "CORE_COVERAGE", 0.5)  # 7 of 8 models keep them core
    board = build_leaderboard(frames, "zero-shot")
    gone = board.core[:2]
    model = board.rows["model"].iloc[0]
    cut = frames.scores[~((frames.scores["model"] == model) & frames.scores["task"].isin(gone))]
    thinner = build_leaderboard(type(frames)(**{**frames.__dict__, "scores": cut}), "zero-shot")
    assert thinner.core == board.core
    row = thinner.rows.set_index("model").loc[model]
    assert math.isnan(row["avg"]) and row["avg_reason"] == "missing " + ", ".join(gone)
    assert {"", "missing " + ", ".join(gone)} <= set(thinner.rows["avg_reason"])


def test_csv_runs_from_the_store_give_the_whole_csv(tmp_path, monkeypatch):
    from evalrunner.memo import Memo

    monkeypatch.setattr(csvruns, "MIN_ROWS", 1)
    for text in ("x", "é"):
        rows = pd.DataFrame({"model": [f"m{i // 3}" for i in range(30)],
                             "text": [text] * 30, "value": np.arange(30) / 7})
        memo = Memo(tmp_path / text)
        first = csvruns.csv_text(rows, "model", memo)
        assert first == frame_csv(rows) == csvruns.csv_text(rows, "model", memo)
        assert memo.hits == 10 and memo.misses == 10
        changed = rows.assign(value=rows["value"].where(rows["model"] != "m4", -1.0))
        assert csvruns.csv_text(changed, "model", memo) == frame_csv(changed)
        assert memo.misses == 11  # only m4's run was formatted again
