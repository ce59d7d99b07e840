"""Parsed files in the store: unchanged files are not parsed again; a change or a bad entry is
harmless."""

from __future__ import annotations

from pathlib import Path

from treebuilder import build_tree

from evalrunner.memo import Memo
from evalrunner.results import validate
from evalrunner.results.validate import validate_tree

RESULT = "fam/fam-small/zero-shot/main.yaml"


def _count_parses(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = validate.parse_file

    def spy(root, rel, shown, raw=None):
        calls.append(rel.as_posix())
        return real(root, rel, shown, raw)

    monkeypatch.setattr(validate, "parse_file", spy)
    return calls


def test_second_run_parses_only_the_changed_file(tmp_path: Path, monkeypatch) -> None:
    root = build_tree(tmp_path / "results")
    cache = Memo(tmp_path / "cache")
    calls = _count_parses(monkeypatch)
    first = validate_tree(root, memo=cache)
    assert first.ok and len(calls) == 7
    calls.clear()
    path = root / RESULT
    path.write_text(path.read_text().replace("value: 0.5", "value: 0.55"))
    second = validate_tree(root, memo=cache)
    assert calls == [RESULT]
    assert [s.value for rel, r in second.tree.results if rel == RESULT
            for t, s in r.scores.items() if t == "arc_easy"] == [0.55]


def test_cached_files_are_still_schema_checked(tmp_path: Path) -> None:
    """The cache holds parsed data, not verdicts: cross-file facts are checked every time."""
    root = build_tree(tmp_path / "results")
    cache = Memo(tmp_path / "cache")
    assert validate_tree(root, memo=cache).ok
    (root / "settings.yaml").write_text((root / "settings.yaml").read_text().replace(
        "id: zero-shot", "id: five-shot"))
    problems = [p.message for p in validate_tree(root, memo=cache).problems]
    assert any("unknown setting 'zero-shot'" in m for m in problems)


def _entries(cache: Memo) -> list[Path]:
    return sorted((cache.root / "memo" / "parse").rglob("*.json"))


def test_a_corrupt_or_foreign_entry_is_ignored(tmp_path: Path, monkeypatch) -> None:
    root = build_tree(tmp_path / "results")
    cache = Memo(tmp_path / "cache")
    assert validate_tree(root, memo=cache).ok
    entries = _entries(cache)
    assert len(entries) == 7
    spoilers = ["{not json", "\x00\xff", "[1, 2", '{"tasks": "not a list"}']
    for i, entry in enumerate(entries):
        entry.write_text(spoilers[i % len(spoilers)])
    calls = _count_parses(monkeypatch)
    report = validate_tree(root, memo=cache)
    # unreadable entries are parsed again; a readable one with wrong data is still checked
    assert len(calls) == 6 and not report.ok
    assert len({p.path for p in report.problems}) == 1


def test_dates_survive_the_cache(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "results")
    model = root / "fam/fam-small/model.yaml"
    model.write_text(model.read_text() + "release_date:\n  date: 2023-04-03\n  source: paper\n")
    cache = Memo(tmp_path / "cache")
    validate_tree(root, memo=cache)
    again = validate_tree(root, memo=cache)
    assert str(again.tree.models["fam-small"].release_date.date) == "2023-04-03"
    # a date where a string belongs stays an error when it comes from the cache
    model.write_text(model.read_text().replace("name: fam-small", "name: 2023-01-01"))
    validate_tree(root, memo=cache)
    assert not validate_tree(root, memo=cache).ok


def test_other_code_does_not_see_the_entries(tmp_path: Path, monkeypatch) -> None:
    """The entries are named by the code version: another version parses everything again."""
    root = build_tree(tmp_path / "results")
    assert validate_tree(root, memo=Memo(tmp_path / "cache")).ok
    calls = _count_parses(monkeypatch)
    assert validate_tree(root, memo=Memo(tmp_path / "cache", [root / "tasks.yaml"])).ok
    assert len(calls) == 7
