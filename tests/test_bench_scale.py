"""Smoke test of the scale benchmark on a tiny synthetic tree, and the store
pass-through of load_frames. The benchmark itself is never run at size in the suite."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_tiny_synthetic_tree_validates_and_loads_through_the_cache(tmp_path: Path) -> None:
    from evalrunner.memo import Memo, default_root
    from evalrunner.results.load import load_frames

    counts = _module("synth").write_tree(tmp_path / "results", 40, seed=1)
    assert counts["results"] == 40 and counts["models"] == 4
    cache = Memo(default_root(tmp_path / "results"))
    first = load_frames(tmp_path / "results", memo=cache)
    assert cache.misses == len(list((cache.root / "memo" / "parse").rglob("*.json"))) > 40
    again = load_frames(tmp_path / "results", memo=cache)
    assert cache.hits == cache.misses
    assert len(first.scores) == len(again.scores) == 40 * 30
    assert first.scores["value"].equals(again.scores["value"])


def test_scale_benchmark_data_stages_write_json(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    assert _module("scale").main(["--files", "30", "--until", "metrics", "--no-browser",
                                  "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["floor"]["files"] == 30 + 2 + res["synth"]["families"] + res["synth"]["models"]
    assert set(res["cold"]["stages"]) == {"read+validate+load", "metrics"}
    assert res["cold"]["score_rows"] == 30 * 30
    assert res["summary"]["peak_mib"] > 0
