"""The parse cache: unchanged files are not parsed again; a change or a bad cache is harmless."""

from __future__ import annotations

from pathlib import Path

from treebuilder import build_tree

from evalrunner.results import validate
from evalrunner.results.cache import ParseCache
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
    cache = tmp_path / "cache.json"
    calls = _count_parses(monkeypatch)
    first = validate_tree(root, cache=cache)
    assert first.ok and len(calls) == 7
    calls.clear()
    path = root / RESULT
    path.write_text(path.read_text().replace("value: 0.5", "value: 0.55"))
    second = validate_tree(root, cache=cache)
    assert calls == [RESULT]
    assert [s.value for rel, r in second.tree.results if rel == RESULT
            for t, s in r.scores.items() if t == "arc_easy"] == [0.55]


def test_cached_files_are_still_schema_checked(tmp_path: Path) -> None:
    """The cache holds parsed data, not verdicts: cross-file facts are checked every time."""
    root = build_tree(tmp_path / "results")
    cache = tmp_path / "cache.json"
    assert validate_tree(root, cache=cache).ok
    (root / "settings.yaml").write_text((root / "settings.yaml").read_text().replace(
        "id: zero-shot", "id: five-shot"))
    problems = [p.message for p in validate_tree(root, cache=cache).problems]
    assert any("unknown setting 'zero-shot'" in m for m in problems)


def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "results")
    cache = tmp_path / "cache.json"
    cache.write_text("{not json")
    assert validate_tree(root, cache=cache).ok
    assert ParseCache(cache).entries  # rewritten, and readable
    cache.write_text('{"version": "other", "files": {"tasks.yaml": ["x", {"tasks": []}]}}')
    assert validate_tree(root, cache=cache).ok


def test_dates_survive_the_cache(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "results")
    model = root / "fam/fam-small/model.yaml"
    model.write_text(model.read_text() + "release_date:\n  date: 2023-04-03\n  source: paper\n")
    cache = tmp_path / "cache.json"
    validate_tree(root, cache=cache)
    again = validate_tree(root, cache=cache)
    assert str(again.tree.models["fam-small"].release_date.date) == "2023-04-03"
    # a date where a string belongs stays an error when it comes from the cache
    model.write_text(model.read_text().replace("name: fam-small", "name: 2023-01-01"))
    validate_tree(root, cache=cache)
    assert not validate_tree(root, cache=cache).ok


def test_an_unchanged_tree_leaves_the_cache_file_alone(tmp_path: Path) -> None:
    """Nothing changed: the cache is not rewritten; a deleted file is dropped from it."""
    root = build_tree(tmp_path / "results")
    cache = tmp_path / "cache.json"
    validate_tree(root, cache=cache)
    cache.write_text(cache.read_text() + " ")  # a marker a rewrite would remove
    validate_tree(root, cache=cache)
    assert cache.read_text().endswith(" ")
    (root / RESULT).unlink()
    validate_tree(root, cache=cache)
    assert RESULT not in ParseCache(cache).entries and not cache.read_text().endswith(" ")
