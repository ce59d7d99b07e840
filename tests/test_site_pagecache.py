"""Incremental page generation (evalrunner/site/pagecache.py): after each change to the results
tree, a docs folder updated in place is byte-identical to one generated from scratch, and a
change to one model regenerates that model's and its family's files only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from site_build import REPO, STAMP
from site_tree import Revision, _result, _scores, build_site_tree

from evalrunner.site import csvruns, pagecache
from evalrunner.site.build import BuildOptions, generate_docs, open_memo
from evalrunner.site.data import load_site_data
from evalrunner.site.pages.models import DENSITY, model_pages


@pytest.fixture(autouse=True)
def _splice_small_csvs(monkeypatch):
    """The API's per-model CSVs are rebuilt run by run (csvruns.py) on this small tree too."""
    monkeypatch.setattr(csvruns, "MIN_ROWS", 1)


def _generate(results: Path, docs: Path) -> int:
    opts = BuildOptions(results=results, docs=docs, src=REPO / "site_src",
                        config=REPO / "mkdocs.yml", node_modules=REPO / "node_modules",
                        stamp=STAMP)
    return generate_docs(opts)[0]


def _files(docs: Path) -> dict[str, bytes]:
    return {p.relative_to(docs).as_posix(): p.read_bytes()
            for p in docs.rglob("*") if p.is_file()}


def _same_as_fresh(results: Path, docs: Path, fresh: Path) -> None:
    shutil.rmtree(fresh, ignore_errors=True)
    pages = _generate(results, fresh)
    ours, theirs = _files(docs), _files(fresh)
    assert sorted(ours.keys() - theirs.keys()) == [], "stale files left behind"
    assert sorted(theirs.keys() - ours.keys()) == [], "files missing"
    assert [k for k in ours if ours[k] != theirs[k]] == []
    assert pages == sum(1 for k in ours if k.endswith(".md") and not k.startswith("_blocks/"))


def _mtimes(docs: Path) -> dict[str, int]:
    return {p.relative_to(docs).as_posix(): p.stat().st_mtime_ns
            for p in docs.rglob("*") if p.is_file()}


def _changed_units(docs: Path, before: dict[str, int]) -> set[str | None]:
    """The units with a file written (or removed) since `before` (mtimes)."""
    now = _mtimes(docs)
    return {pagecache.unit_of(k) for k in before.keys() | now.keys()
            if pagecache.unit_of(k) and now.get(k) != before.get(k)}


def _density_blocks(docs: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (docs / "data" / DENSITY).glob("*.json")}


def _edit(path: Path, change) -> None:  # noqa: ANN001
    head, _ = path.read_text().split("\n", 1)
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(head + "\n" + yaml.safe_dump(doc, sort_keys=False))


def test_incremental_docs_equal_fresh_ones(tmp_path: Path) -> None:
    results = build_site_tree(tmp_path / "results")
    docs, fresh = tmp_path / "docs", tmp_path / "fresh"
    _generate(results, docs)
    before = _mtimes(docs)

    # nothing changed: no unit file is written again
    _generate(results, docs)
    after = _mtimes(docs)
    units = [k for k in before if pagecache.unit_of(k)]
    assert units and all(after[k] == before[k] for k in units)

    # a new revision of a model outside the reference family: its unit, its family's and
    # task pages only (the family's density block too, if the density it shows moved: a
    # bound that stays a bound does not)
    _result(results, "other", "other-big", "zero-shot",
            Revision(id="v2", commit="1234567"), _scores(7e9, 2e12, 0.04, mmlu=False))
    _generate(results, docs)
    changed = _changed_units(docs, before)
    assert {u for u in changed if not u.startswith("tasks/")} - {"family_density/other"} == {
        "models/other-big", "families/other", "model_density/other-big"}
    _same_as_fresh(results, docs, fresh)

    # one score of that revision: the model, the family and that one task
    before = _mtimes(docs)
    _edit(results / "other/other-big/zero-shot/v2.yaml",
          lambda d: d["scores"]["piqa"].update(value=d["scores"]["piqa"]["value"] - .02))
    _generate(results, docs)
    changed = _changed_units(docs, before)
    assert {u for u in changed if "density/" not in u} == {"models/other-big", "families/other",
                                                           "tasks/piqa"}
    assert {u for u in changed if "density/" in u} <= {"model_density/other-big",
                                                        "family_density/other"}
    _same_as_fresh(results, docs, fresh)

    # a checkpoint score of the reference family: the fits, so densities everywhere, move;
    # they are live blocks (live.py), so no other model's or family's unit is generated
    # again: only the live block units that changed
    before, shown = _mtimes(docs), _density_blocks(docs)
    _edit(results / "ref/ref-2/zero-shot/step8000.yaml",
          lambda d: d["scores"]["arc_easy"].update(value=d["scores"]["arc_easy"]["value"] + .01))
    _generate(results, docs)
    changed = _changed_units(docs, before)
    assert {u for u in changed if u.startswith(("models/", "families/"))} == {
        "models/ref-2", "families/ref"}
    # other-chat's density is a number inside the reference's range (other-big's a bound
    # at the range's edge, which this edit does not move, so its family's density over
    # training, the family_density unit, stays as it was)
    assert "model_density/other-chat" in changed
    moved = _density_blocks(docs)
    assert moved.keys() == shown.keys() and moved["other-chat"] != shown["other-chat"]
    _same_as_fresh(results, docs, fresh)

    # a result deleted: the setting leaves the model's page
    (results / "other/other-big/five-shot/main.yaml").unlink()
    _generate(results, docs)
    _same_as_fresh(results, docs, fresh)

    # a registry edited (a model's name shows on other pages): everything is regenerated
    _edit(results / "other/other-chat/model.yaml", lambda d: d.update(name="Other Chat 2"))
    _generate(results, docs)
    _same_as_fresh(results, docs, fresh)

    # a model removed: its files leave the docs folder
    shutil.rmtree(results / "other/evil")
    _generate(results, docs)
    assert not (docs / "models/evil").exists()
    assert not (docs / "data/models/evil.json").exists()
    assert b"evil" not in (docs / "api/v1/results.csv").read_bytes()
    _same_as_fresh(results, docs, fresh)
    assert list((results.parent / ".cache" / "densitometer" / "memo" / csvruns.KIND).rglob("*"))


def _unit_entries(results: Path) -> list[Path]:
    return sorted((results.parent / ".cache" / "densitometer" / "memo" / pagecache.KIND)
                  .rglob("*.json"))


def test_a_bad_unit_entry_is_regenerated(tmp_path: Path) -> None:
    """An entry that does not decode, or names a path its unit does not own (a planted one
    writing over a shared page), is not used: the unit is generated again."""
    results = build_site_tree(tmp_path / "results")
    docs, fresh = tmp_path / "docs", tmp_path / "fresh"
    _generate(results, docs)
    entries = _unit_entries(results)
    assert entries
    spoilers = ["{not json", "[1, 2]", json.dumps({"index.md": "<script>planted</script>"}),
                json.dumps({"models/x/index.md": 1})]
    for n, entry in enumerate(entries):
        entry.write_text(spoilers[n % len(spoilers)])
    _generate(results, docs)
    assert "planted" not in (docs / "index.md").read_text()
    _same_as_fresh(results, docs, fresh)
    memo = open_memo(BuildOptions(results=results, src=REPO / "site_src",
                                  node_modules=REPO / "node_modules"))
    plan = pagecache.plan(load_site_data(results), memo)
    assert all(ids == [] for ids in plan[2].values())  # repaired: every unit from the store


def test_a_unit_reading_an_undeclared_table_fails(tmp_path: Path) -> None:
    data = load_site_data(build_site_tree(tmp_path / "results"))
    scoped = pagecache.scoped(data, "family_density")
    assert scoped.metrics.get("checkpoint_density") is not None
    with pytest.raises(pagecache.UndeclaredTable):
        scoped.metrics.get("densing_law")
    # model and family pages do not read densities: they show them as live blocks
    models = pagecache.scoped(data, "models")
    with pytest.raises(pagecache.UndeclaredTable):
        models.metrics.get("density_models")
    with pytest.raises(pagecache.UndeclaredTable):
        pagecache.scoped(data, "families").metrics.get("checkpoint_density")
    assert model_pages(models, ["ref-1"])[0].path == "models/ref-1/index.md"


@pytest.mark.parametrize(("rel", "unit"), [
    ("models/ref-1/index.md", "models/ref-1"), ("_blocks/models/ref-1/index.json", "models/ref-1"),
    ("data/models/ref-1.json", "models/ref-1"), ("families/ref/scaling-x.csv", "families/ref"),
    ("tasks/piqa/index.md", "tasks/piqa"), ("models/index.md", None), ("tasks/index.md", None),
    ("data/compare.json", None), ("api/v1/results.csv", None),
    ("_blocks/families/index.json", None),
    ("data/model_density/ref-1.json", "model_density/ref-1"),
    ("data/family_density/ref/zero-shot.json", "family_density/ref"),
    ("data/family_density/ref/density-zero-shot.csv", "family_density/ref"),
    ("data/family_density.csv", None), ("data/lb/zero-shot.json", None)])
def test_unit_of(rel: str, unit: str | None) -> None:
    assert pagecache.unit_of(rel) == unit


def test_a_planted_page_is_repaired_and_a_planted_entry_is_not_used_without_reuse(
        tmp_path: Path) -> None:
    """The docs folder is output only: a page planted there is rewritten by the next build. A
    store entry planted under the right key is used by an incremental build (the key is of the
    inputs, not the outputs), but not by `--no-cache`, which CI runs."""
    results = build_site_tree(tmp_path / "results")
    docs = tmp_path / "docs"
    _generate(results, docs)
    page = docs / "models" / "evil" / "index.md"
    page.write_text("<script>alert('planted')</script>")
    _generate(results, docs)
    assert "planted" not in page.read_text()
    for entry in _unit_entries(results):
        files = json.loads(entry.read_text())
        if "models/evil/index.md" in files:
            files["models/evil/index.md"] = "<script>alert('planted')</script>"
            entry.write_text(json.dumps(files))
    _generate(results, docs)
    assert "planted" in page.read_text()
    opts = BuildOptions(results=results, docs=docs, src=REPO / "site_src",
                        config=REPO / "mkdocs.yml", node_modules=REPO / "node_modules",
                        stamp=STAMP, incremental=False)
    generate_docs(opts)
    assert "planted" not in page.read_text()
