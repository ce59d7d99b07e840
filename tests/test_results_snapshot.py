"""The incremental validate + load (results/snapshot.py) gives exactly what the full path gives,
and falls back to it whenever anything is new to the registries, wrong, or odd."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from site_tree import build_site_tree

from evalrunner.memo import Memo
from evalrunner.results import snapshot
from evalrunner.results.load import frames_from_tree
from evalrunner.results.schema import Result
from evalrunner.results.validate import ValidationFailed, validate_tree
from evalrunner.results.write import write_file
from evalrunner.site.data import load_site_data

FRAMES = ("scores", "models", "families", "tasks", "settings")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Memo]:
    """A results tree and its store, after one full build (which saves the snapshot)."""
    root = build_site_tree(tmp_path / "results")
    cache = Memo(tmp_path / ".cache" / "densitometer")
    assert not snapshot.load_tree(root, cache).incremental
    return root, cache


def _result_rels(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*/*/*.yaml"))


def _result(root: Path, rel: str) -> Result:
    return dict(validate_tree(root).tree.results)[rel]


def _write(root: Path, rel: str, result: Result) -> None:
    write_file(root, PurePosixPath(rel), "result", result)


def _assert_as_full(loaded: snapshot.Loaded, root: Path, touched: list[str]) -> None:
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


def _incremental(root: Path, cache: Memo, touched: list[str]) -> snapshot.Loaded:
    loaded = snapshot.load_tree(root, cache)
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
    index, scores = snapshot._paths(cache)
    before = (index.stat().st_mtime_ns, scores.stat().st_mtime_ns)
    loaded = snapshot.load_tree(root, cache)
    assert loaded.incremental and loaded.validated == 0 and calls == []
    assert (index.stat().st_mtime_ns, scores.stat().st_mtime_ns) == before  # nothing rewritten
    _assert_as_full(loaded, root, [])


def test_added_result(tree) -> None:
    root, cache = tree
    rel = _new_checkpoint(root, 1500)
    loaded = _incremental(root, cache, [rel])
    assert loaded.validated == 1
    # the snapshot now holds it: the next build validates nothing
    assert snapshot.load_tree(root, cache).validated == 0


def test_changed_value(tree) -> None:
    root, cache = tree
    rel = _result_rels(root)[3]
    result = _result(root, rel)
    task = next(iter(result.scores))
    score = result.scores[task].model_copy(update={"value": 0.123456789})
    _write(root, rel, result.model_copy(update={"scores": {**result.scores, task: score}}))
    loaded = _incremental(root, cache, [rel])
    assert loaded.validated == 1
    assert 0.123456789 in set(loaded.frames.scores.loc[loaded.frames.scores["path"] == rel,
                                                       "value"])


def test_deleted_result(tree) -> None:
    root, cache = tree
    rel = _result_rels(root)[5]
    (root / rel).unlink()
    loaded = _incremental(root, cache, [])
    assert loaded.validated == 0 and rel not in loaded.results
    assert rel not in set(loaded.frames.scores["path"])


def test_add_change_and_delete_at_once(tree) -> None:
    root, cache = tree
    added = [_new_checkpoint(root, 1500), _new_checkpoint(root, 999_999)]
    (root / _result_rels(root)[0]).unlink()
    _incremental(root, cache, added)


def test_a_changed_registry_takes_the_full_path(tree) -> None:
    root, cache = tree
    tasks = root / "tasks.yaml"
    tasks.write_text(tasks.read_text().replace("name: MMLU", "name: MMLU all"))
    loaded = snapshot.load_tree(root, cache)
    assert not loaded.incremental
    _assert_as_full(loaded, root, [])
    assert (loaded.frames.tasks["name"] == "MMLU all").any()
    assert snapshot.load_tree(root, cache).incremental  # saved again


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
        snapshot.load_tree(root, cache)
    full = validate_tree(root)
    assert not full.ok and err.value.report.problems == full.problems


@pytest.mark.parametrize("damage", ["garbage scores", "garbage index", "truncated scores",
                                    "other scores", "pickle", "rows of another tree"])
def test_a_damaged_or_planted_snapshot_is_ignored(tree, tmp_path: Path, damage: str) -> None:
    root, cache = tree
    index, scores = snapshot._paths(cache)
    raw = scores.read_bytes()
    if damage == "garbage scores":
        scores.write_bytes(b"ARROW1\x00\x00garbage")
    elif damage == "garbage index":
        index.write_text("{not json")
    elif damage == "truncated scores":
        scores.write_bytes(raw[: len(raw) // 2])
    elif damage == "pickle":
        import pickle
        scores.write_bytes(pickle.dumps(pd.DataFrame({"path": ["x"]})))
    elif damage == "other scores":  # valid Arrow, named by the index, wrong columns
        idx = snapshot._read_index(cache)
        assert idx is not None
        snapshot._save(cache, idx.registries, idx.results, pd.DataFrame({"path": ["x"]}))
    elif damage == "rows of another tree":  # consistent pair, but its paths are not the index's
        stored = json.loads(index.read_text())
        first = next(iter(stored["results"]))
        stored["results"]["x/y/z/w.yaml"] = stored["results"].pop(first)
        index.write_text(json.dumps(stored))
    rel = _new_checkpoint(root, 1500)
    loaded = snapshot.load_tree(root, cache)
    assert not loaded.incremental
    _assert_as_full(loaded, root, [rel])
    assert snapshot.load_tree(root, cache).incremental  # and replaced by a good one


def test_a_snapshot_of_other_code_is_ignored(tree, monkeypatch) -> None:
    root, cache = tree
    assert not snapshot.load_tree(root, Memo(cache.root, [root])).incremental  # other code


def test_a_result_changed_after_the_build_is_refused(tree) -> None:
    root, cache = tree
    loaded = snapshot.load_tree(root, cache)
    rel = _result_rels(root)[2]
    (root / rel).write_text((root / rel).read_text() + "\n# edited\n")
    with pytest.raises(snapshot.ChangedDuringBuild):
        loaded.results[rel]


def test_lazy_results_come_from_the_store_without_parsing(tree, monkeypatch) -> None:
    root, cache = tree
    loaded = snapshot.load_tree(root, cache)
    full = dict(validate_tree(root).tree.results)

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again although the store holds the file's data")

    monkeypatch.setattr(snapshot, "parse_file", refuse)
    assert {rel: loaded.results[rel] for rel in loaded.results} == full


def test_site_data_incremental_and_without_cache(tree) -> None:
    root, cache = tree
    rel = _new_checkpoint(root, 1500)
    fast = load_site_data(root, with_metrics=False, memo=cache)
    plain = load_site_data(root, with_metrics=False)
    assert isinstance(fast.result_by_path, snapshot.LazyResults)
    for name in FRAMES:
        assert_frame_equal(getattr(fast.frames, name), getattr(plain.frames, name),
                           check_exact=True)
    assert dict(fast.digests) == dict(plain.digests) and len(plain.digests) > 0
    runner = [p for p, r in plain.result_by_path.items() if r.provenance.kind == "runner"]
    assert runner and all(fast.result_by_path[p] == plain.result_by_path[p]
                          for p in runner + [rel])
