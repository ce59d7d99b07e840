"""The validate + load through the store (results/groups.py) gives exactly what the full
validation gives, checks only the groups whose files changed, and leaves every decision on a
problem to the full validation."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from site_tree import build_site_tree

from evalrunner.memo import Memo
from evalrunner.results import groups
from evalrunner.results.load import frames_from_tree
from evalrunner.results.schema import Result
from evalrunner.results.validate import ValidationFailed, validate_tree
from evalrunner.results.write import write_file
from evalrunner.site.data import load_site_data

FRAMES = ("scores", "models", "families", "tasks", "settings")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Memo]:
    """A results tree and its store, after one cold build (which writes every group)."""
    root = build_site_tree(tmp_path / "results")
    cache = Memo(tmp_path / ".cache" / "densitometer")
    cold = groups.load_tree(root, cache)
    assert cold.incremental and cold.validated == len(cold.results) > 0
    _assert_as_full(cold, root, list(cold.results))
    return root, cache


def _entries(cache: Memo) -> dict[str, bytes]:
    """The group entries in the store: name -> bytes."""
    assert cache.root is not None
    return {p.name: p.read_bytes() for p in (cache.root / "memo" / groups.KIND).rglob("*")
            if p.is_file()}


def _result_rels(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*/*.yaml"))


def _result(root: Path, rel: str) -> Result:
    return dict(validate_tree(root).tree.results)[rel]


def _write(root: Path, rel: str, result: Result) -> None:
    write_file(root, PurePosixPath(rel), "result", result)


def _assert_as_full(loaded: groups.Loaded, root: Path, touched: list[str]) -> None:
    """The loaded tree equals a from-scratch validate_tree + frames_from_tree (no cache)."""
    report = validate_tree(root)
    assert report.ok
    frames = frames_from_tree(report.tree)
    for name in FRAMES:
        assert_frame_equal(getattr(loaded.frames, name), getattr(frames, name), check_exact=True)
    for part in ("tasks", "settings", "families", "models", "model_paths", "broken"):
        assert getattr(loaded.tree, part) == getattr(report.tree, part), part
    assert dict(loaded.digests) == report.digests
    assert set(report.digests) == {p.relative_to(root).as_posix() for p in root.rglob("*.yaml")}
    full = dict(report.tree.results)
    assert list(loaded.results) == list(full)
    for rel in touched:
        assert loaded.results[rel] == full[rel]
    assert list(loaded.tree.results) == report.tree.results


def _incremental(root: Path, cache: Memo, touched: list[str]) -> groups.Loaded:
    loaded = groups.load_tree(root, cache)
    assert loaded.incremental
    _assert_as_full(loaded, root, touched)
    return loaded


def _ref2(root: Path) -> Result:
    return _result(root, "ref/ref-2/zero-shot/step1000.yaml")


def _new_checkpoint(root: Path, step: int) -> str:
    """A new checkpoint of ref-2 (step 1500 sorts between existing ones)."""
    base = _ref2(root)
    rev = base.revision.model_copy(update={"id": f"step{step}", "step": step, "final": False})
    rel = f"ref/ref-2/zero-shot/step{step}.yaml"
    _write(root, rel, base.model_copy(update={"revision": rev}))
    return rel


def test_an_unchanged_rebuild_validates_no_result(tree, monkeypatch) -> None:
    root, cache = tree
    calls: list[object] = []
    real = Result.model_validate.__func__  # type: ignore[attr-defined]

    def spy(cls, *args, **kwargs):
        calls.append(args[0])
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(Result, "model_validate", classmethod(spy))
    before = _entries(cache)
    loaded = groups.load_tree(root, cache)
    assert loaded.incremental and loaded.validated == 0 and calls == []
    assert _entries(cache) == before  # no entry added or changed
    _assert_as_full(loaded, root, [])


def test_added_result(tree) -> None:
    root, cache = tree
    rel = _new_checkpoint(root, 1500)
    loaded = _incremental(root, cache, [rel])
    # the model's group is checked again, no other: its files are validated, the others not
    assert loaded.validated == len([r for r in loaded.results if r.startswith("ref/ref-2/")])
    assert groups.load_tree(root, cache).validated == 0  # the store holds it now


def test_changed_value(tree) -> None:
    root, cache = tree
    rel = _result_rels(root)[3]
    result = _result(root, rel)
    task = next(iter(result.scores))
    score = result.scores[task].model_copy(update={"value": 0.123456789})
    _write(root, rel, result.model_copy(update={"scores": {**result.scores, task: score}}))
    loaded = _incremental(root, cache, [rel])
    group = rel.rsplit("/", 2)[0] + "/"
    assert loaded.validated == len([r for r in loaded.results if r.startswith(group)])
    assert 0.123456789 in set(loaded.frames.scores.loc[loaded.frames.scores["path"] == rel,
                                                       "value"])


def test_deleted_result(tree) -> None:
    root, cache = tree
    rel = _result_rels(root)[5]
    (root / rel).unlink()
    loaded = _incremental(root, cache, [])
    group = rel.rsplit("/", 2)[0] + "/"
    assert loaded.validated == len([r for r in loaded.results if r.startswith(group)])
    assert rel not in loaded.results
    assert rel not in set(loaded.frames.scores["path"])


def test_add_change_and_delete_at_once(tree) -> None:
    root, cache = tree
    added = [_new_checkpoint(root, 1500), _new_checkpoint(root, 999_999)]
    (root / _result_rels(root)[0]).unlink()
    _incremental(root, cache, added)


def test_a_changed_registry_checks_every_group_again(tree) -> None:
    root, cache = tree
    tasks = root / "tasks.yaml"
    tasks.write_text(tasks.read_text().replace("name: MMLU", "name: MMLU all"))
    loaded = _incremental(root, cache, [])
    assert loaded.validated == len(loaded.results)  # every result may read differently now
    assert (loaded.frames.tasks["name"] == "MMLU all").any()
    assert groups.load_tree(root, cache).validated == 0


@pytest.mark.parametrize("bad", ["setting", "value", "duplicate", "not yaml"])
def test_an_invalid_result_reports_as_the_full_path(tree, bad: str) -> None:
    root, cache = tree
    base = _ref2(root)
    rel = "ref/ref-2/zero-shot/bad.yaml"
    # a new revision, except for "duplicate": the step of step1000.yaml under another id
    update: dict = {"revision": base.revision.model_copy(
        update={"id": "bad", "step": base.revision.step if bad == "duplicate" else 77})}
    if bad == "setting":  # a setting settings.yaml does not have
        rel = "ref/ref-2/ten-shot/bad.yaml"
        update["setting"] = "ten-shot"
    elif bad == "value":  # an accuracy of 42
        task = next(iter(base.scores))
        update["scores"] = {**base.scores,
                            task: base.scores[task].model_copy(update={"value": 42.0})}
    _write(root, rel, base.model_copy(update=update))
    if bad == "not yaml":
        (root / rel).write_text("model: [unclosed\n")
    with pytest.raises(ValidationFailed) as err:
        groups.load_tree(root, cache)
    full = validate_tree(root)
    assert not full.ok and err.value.report.problems == full.problems


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pickle", "other columns",
                                    "rows of another group", "keys of another group",
                                    "a duplicate planted"])
def test_a_damaged_or_planted_entry_is_checked_again(tree, damage: str) -> None:
    """An entry that is not exactly its group's checked rows (torn, planted, of another
    group, one hiding a duplicate) is a miss: the group is parsed and checked again."""
    import pyarrow as pa

    root, cache = tree
    assert cache.root is not None
    found = {p.name: p for p in (cache.root / "memo" / groups.KIND).rglob("*.arrow")}
    paths = sorted(found.values())
    victim, other = paths[0], paths[1]
    raw = victim.read_bytes()
    table = pa.ipc.open_file(pa.py_buffer(raw)).read_all()

    def arrow(t: pa.Table) -> bytes:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, t.schema) as writer:
            writer.write_table(t)
        return sink.getvalue().to_pybytes()

    if damage == "garbage":
        victim.write_bytes(b"ARROW1\x00\x00garbage")
    elif damage == "truncated":
        victim.write_bytes(raw[: len(raw) // 2])
    elif damage == "pickle":
        import pickle
        victim.write_bytes(pickle.dumps(pd.DataFrame({"path": ["x"]})))
    elif damage == "other columns":
        victim.write_bytes(arrow(table.drop_columns(["value"])))
    elif damage == "rows of another group":
        victim.write_bytes(other.read_bytes())
    elif damage == "keys of another group":
        theirs = pa.ipc.open_file(pa.py_buffer(other.read_bytes())).read_all().schema.metadata
        victim.write_bytes(arrow(table.replace_schema_metadata(theirs)))
    elif damage == "a duplicate planted":  # its own keys, but one of another group's results
        ours = json.loads(table.schema.metadata[b"densitometer.revision_keys"])
        theirs = json.loads(pa.ipc.open_file(pa.py_buffer(other.read_bytes())).read_all()
                            .schema.metadata[b"densitometer.revision_keys"])
        first = next(iter(ours))
        ours[first] = ours[first] + next(iter(theirs.values()))
        victim.write_bytes(arrow(table.replace_schema_metadata(
            {**table.schema.metadata, b"densitometer.revision_keys": json.dumps(ours)})))
    loaded = groups.load_tree(root, cache)
    _assert_as_full(loaded, root, [])
    if damage == "a duplicate planted":  # a claim the store cannot check: the full validation
        assert not loaded.incremental
        return
    mine = set(table.column("path").to_pylist())
    assert loaded.incremental and loaded.validated == len(mine)
    again = pa.ipc.open_file(pa.py_buffer(victim.read_bytes())).read_all()  # written again
    assert again.equals(table) and again.schema.metadata == table.schema.metadata
    assert groups.load_tree(root, cache).validated == 0


def test_a_result_changed_after_the_build_is_refused(tree) -> None:
    root, cache = tree
    loaded = groups.load_tree(root, cache)
    rel = _result_rels(root)[2]
    (root / rel).write_text((root / rel).read_text() + "\n# edited\n")
    with pytest.raises(groups.ChangedDuringBuild):
        loaded.results[rel]


def test_lazy_results_are_the_full_validations(tree) -> None:
    root, cache = tree
    loaded = groups.load_tree(root, cache)
    assert isinstance(loaded.results, groups.LazyResults) and loaded.results.loads == 0
    full = dict(validate_tree(root).tree.results)
    assert {rel: loaded.results[rel] for rel in loaded.results} == full
    assert loaded.results.loads == len(full)


def test_site_data_incremental_and_without_cache(tree) -> None:
    root, cache = tree
    rel = _new_checkpoint(root, 1500)
    fast = load_site_data(root, with_metrics=False, memo=cache)
    plain = load_site_data(root, with_metrics=False)
    assert isinstance(fast.result_by_path, groups.LazyResults)
    for name in FRAMES:
        assert_frame_equal(getattr(fast.frames, name), getattr(plain.frames, name),
                           check_exact=True)
    assert dict(fast.digests) == dict(plain.digests) and len(plain.digests) > 0
    runner = [p for p, r in plain.result_by_path.items() if r.provenance.kind == "runner"]
    assert runner and all(fast.result_by_path[p] == plain.result_by_path[p]
                          for p in runner + [rel])
