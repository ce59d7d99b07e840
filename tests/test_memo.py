"""The build's store (evalrunner/memo.py): one code version names every entry, a bad entry is
a miss, and a sweep keeps exactly what the run used."""

from __future__ import annotations

import json
from pathlib import Path

from evalrunner import memo as memo_module
from evalrunner.memo import Memo, code_version


def test_the_code_version_covers_the_package_the_sources_and_the_libraries(tmp_path: Path,
                                                                           monkeypatch) -> None:
    src = tmp_path / "site_src"
    (src / "templates").mkdir(parents=True)
    (src / "templates" / "page.md.j2").write_text("a")
    first = code_version((src,))
    assert code_version((src,)) == first and code_version(()) != first
    (src / "templates" / "page.md.j2").write_text("b")
    code_version.cache_clear()
    assert code_version((src,)) != first  # a template edit is a code change
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1")
    monkeypatch.setattr(memo_module, "PACKAGE", package)
    code_version.cache_clear()
    before = code_version(())
    (package / "a.py").write_text("x = 2")
    code_version.cache_clear()
    assert code_version(()) != before  # so is any edit of the package
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    after = code_version(())
    code_version.cache_clear()
    assert code_version(()) == after  # bytecode is not code
    code_version.cache_clear()


def test_json_entries_compute_once_and_survive_bad_files(tmp_path: Path) -> None:
    store = Memo(tmp_path)
    calls: list[int] = []

    def compute() -> dict:
        calls.append(1)
        return {"a": [1, 2.5, None], "b": float("nan")}

    key = store.key("thing", "input")
    assert store.json("thing", key, compute)["a"] == [1, 2.5, None]
    again = Memo(tmp_path).json("thing", key, compute)
    assert len(calls) == 1 and again["a"] == [1, 2.5, None] and again["b"] != again["b"]
    (entry,) = (tmp_path / "memo" / "thing").rglob("*.json")
    for bad in ("{not json", "\x00\xff", "[1, 2"):
        entry.write_text(bad)
        Memo(tmp_path).json("thing", key, compute)
        assert json.loads(entry.read_text())["a"] == [1, 2.5, None]
    assert len(calls) == 4
    entry.write_text('{"a": "planted"}')
    got = Memo(tmp_path).json("thing", key, compute, check=lambda v: isinstance(v["a"], list))
    assert got["a"] == [1, 2.5, None] and len(calls) == 5


def test_keys_differ_by_kind_inputs_and_part_boundaries(tmp_path: Path) -> None:
    store = Memo(tmp_path)
    assert len({store.key("a", "xy"), store.key("b", "xy"), store.key("a", "x", "y"),
                store.key("a", "xy", ""), store.key("a", b"xz")}) == 5
    assert store.key("a", "xy") == Memo(tmp_path / "other").key("a", "xy")  # not by place
    assert store.key("a", "xy") != Memo(tmp_path, [tmp_path / "src"]).key("a", "xy")


def test_sweep_keeps_what_the_run_read_or_wrote_and_held_kinds(tmp_path: Path) -> None:
    first = Memo(tmp_path)
    for kind in ("fit", "parse"):
        for name in ("used", "unused"):
            first.write(kind, first.key(kind, name), b"{}")
    second = Memo(tmp_path)
    assert second.read("fit", second.key("fit", "used")) == b"{}"
    second.write("fit", second.key("fit", "new"), b"{}")
    second.hold("parse")
    assert second.sweep() == 1  # fit/unused
    names = {p.stem for p in (tmp_path / "memo").rglob("*.json")}
    assert names == {second.key("fit", "used"), second.key("fit", "new"),
                     second.key("parse", "used"), second.key("parse", "unused")}
    third = Memo(tmp_path)
    assert third.sweep() == 4 and not (tmp_path / "memo" / "fit").exists()


def test_a_store_without_a_folder_keeps_nothing(tmp_path: Path) -> None:
    off = Memo(None)
    calls: list[int] = []
    for _ in range(2):
        off.json("x", off.key("x", "k"), lambda: calls.append(1) or 1)
    off.write("x", "k", b"1")
    assert len(calls) == 2 and off.read("x", "k") is None and off.sweep() == 0
    assert not off.enabled and list(tmp_path.iterdir()) == []


def test_json_many_computes_only_the_missing_or_unusable_entries_in_one_call(
        tmp_path: Path) -> None:
    store = Memo(tmp_path)
    keys = [store.key("many", str(i)) for i in range(4)]
    calls: list[list[int]] = []

    def compute(missing: list[int]) -> list[list[int]]:
        calls.append(missing)
        return [[i, i * i] for i in missing]

    def check(i: int, v: object) -> bool:
        return isinstance(v, list) and len(v) == 2 and v[0] == i

    assert store.json_many("many", keys, compute, check) == [[i, i * i] for i in range(4)]
    assert calls == [[0, 1, 2, 3]]
    entries = {p.stem: p for p in (tmp_path / "memo" / "many").rglob("*.json")}
    entries[keys[1]].write_text("[1")  # torn
    entries[keys[3]].write_text("[0, 0]")  # decodes, fails the check
    again = Memo(tmp_path)
    assert again.json_many("many", keys, compute, check) == [[i, i * i] for i in range(4)]
    assert calls[1] == [1, 3] and again.misses == 2 and again.hits == 2
