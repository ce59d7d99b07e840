"""Incremental mkdocs builds (evalrunner/site/mkdocs_build.py): after any change to the
docs folder, a dirty build on top of the previous site gives exactly the bytes of a clean build
of the same docs, renders only what changed, and still fails on any warning.

The docs folder is generated once from the synthetic tree; each test copies it with the repo's
mkdocs.yml and theme overrides, builds, edits the docs as the generator would, and rebuilds.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from site_build import REPO, STAMP
from site_tree import build_site_tree

from evalrunner.site import live
from evalrunner.site.build import BuildOptions, generate_docs
from evalrunner.site.errors import MkdocsFailed
from evalrunner.site.mkdocs_build import STATE, run_mkdocs
from evalrunner.site.pages.models import DENSITY

pytestmark = [
    pytest.mark.xdist_group("site"),
    pytest.mark.skipif(not (REPO / "node_modules" / "vega-lite").is_dir(),
                       reason="node_modules missing: run `npm ci`"),
]
SITE_URL = "http://127.0.0.1:8000/"
MODEL = "models/evil/index.md"  # a model page (not in the search index)
TASK = "tasks/piqa/index.md"  # a task page (in the search index)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A docs folder generated from the synthetic tree, with one extra (unlinked) task page and
    data file that the tests may delete without breaking any link."""
    base = tmp_path_factory.mktemp("incremental")
    docs = base / "docs"
    generate_docs(BuildOptions(results=build_site_tree(base / "results"), docs=docs,
                               src=REPO / "site_src", config=REPO / "mkdocs.yml",
                               node_modules=REPO / "node_modules", stamp=STAMP))
    _copy_page(docs, TASK, "tasks/spare/index.md")
    (docs / "data" / "spare.csv").write_text("a,b\n1,2\n")
    return docs


@pytest.fixture(autouse=True)
def _fixed_build_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the sitemap's lastmod


@dataclass(frozen=True)
class Project:
    docs: Path
    config: Path
    overrides: Path
    site: Path

    def build(self, out: Path | None = None, site_url: str | None = SITE_URL) -> list[str]:
        return run_mkdocs(BuildOptions(docs=self.docs, out=out or self.site, config=self.config,
                                       site_url=site_url), STAMP)


@pytest.fixture
def project(generated, tmp_path) -> Project:
    """A copy of the docs (mtimes kept), of mkdocs.yml and of the theme overrides, built once."""
    docs, overrides = tmp_path / "docs", tmp_path / "overrides"
    shutil.copytree(generated, docs)
    shutil.copytree(REPO / "site_src" / "overrides", overrides)
    config = tmp_path / "mkdocs.yml"
    config.write_text((REPO / "mkdocs.yml").read_text()
                      .replace("custom_dir: site_src/overrides", f"custom_dir: {overrides}"))
    made = Project(docs, config, overrides, tmp_path / "site")
    made.build()
    return made


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The pages whose Markdown is rendered, recorded by a spy on mkdocs' Page.render."""
    from mkdocs.structure.pages import Page

    seen: list[str] = []
    render = Page.render

    def spy(self, config, files):  # noqa: ANN001, ANN202
        seen.append(self.file.src_uri)
        return render(self, config, files)

    monkeypatch.setattr(Page, "render", spy)
    return seen


def _copy_page(docs: Path, page: str, to: str) -> None:
    """A new page at the same depth as `page` (so its relative links still resolve)."""
    for rel, new in [(page, to), (f"_blocks/{page[:-3]}.json", f"_blocks/{to[:-3]}.json")]:
        (docs / new).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(docs / rel, docs / new)


def _rewrite(path: Path, text: str) -> None:
    """Write like the generator, with an mtime surely newer than the last build's outputs."""
    path.write_text(text, encoding="utf-8")
    later = time.time() + 2
    os.utime(path, (later, later))


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file() and p.name != STATE}


def assert_same_as_clean(project: Project) -> None:
    """Every file of the site equals that of a clean build of the same docs."""
    clean = project.site.parent / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    project.build(clean)
    ours, theirs = _files(project.site), _files(clean)
    assert sorted(ours.keys() - theirs.keys()) == []
    assert sorted(theirs.keys() - ours.keys()) == []
    assert [k for k in ours if ours[k] != theirs[k]] == []


def _pages(project: Project) -> int:
    return sum(1 for _ in project.docs.rglob("*.md") if "_blocks" not in _.parts)


def test_nothing_changed_renders_nothing(project, renders):
    before = {p: p.stat().st_mtime_ns for p in project.site.rglob("index.html")}
    assert project.build() == []
    assert renders == []
    after = {p: p.stat().st_mtime_ns for p in project.site.rglob("index.html")}
    assert after == before
    assert_same_as_clean(project)


# page -> the search entry of its new section (family sections are trimmed, model pages are
# not indexed)
SECTIONS = {"tasks/piqa/index.md": "tasks/piqa/#a-new-section", "index.md": "#a-new-section",
            "families/ref/index.md": None, MODEL: None}


@pytest.mark.parametrize("page", sorted(SECTIONS))
def test_one_page_markdown_changed(project, renders, page):
    path = project.docs / page
    _rewrite(path, path.read_text() + "\n## A new section\n\nWith searchable words.\n")
    project.build()
    assert renders == [page]
    index = json.loads((project.site / "search" / "search_index.json").read_text())
    found = [d["location"] for d in index["docs"] if d["location"].endswith("#a-new-section")]
    assert found == [SECTIONS[page]] if SECTIONS[page] else found == []
    assert_same_as_clean(project)


@pytest.mark.parametrize("rewrite_markdown", [True, False])
def test_one_page_blocks_changed(project, renders, rewrite_markdown):
    """The contract rewrites the .md with its blocks; without that the build still notices."""
    path = project.docs / "_blocks" / "models" / "evil" / "index.json"
    found = json.loads(path.read_text())
    _rewrite(path, json.dumps([found[0] + "<p>changed block</p>", *found[1:]]))
    if rewrite_markdown:
        _rewrite(project.docs / MODEL, (project.docs / MODEL).read_text())
    project.build()
    assert renders == [MODEL]
    assert "changed block" in (project.site / "models" / "evil" / "index.html").read_text()
    assert_same_as_clean(project)


def test_page_added_and_page_deleted(project, renders):
    search = project.site / "search" / "search_index.json"
    assert "tasks/spare/" in search.read_text()
    _copy_page(project.docs, TASK, "tasks/fresh/index.md")
    (project.docs / "tasks" / "spare" / "index.md").unlink()
    shutil.rmtree(project.docs / "_blocks" / "tasks" / "spare")
    project.build()
    assert renders == ["tasks/fresh/index.md"]
    assert not (project.site / "tasks" / "spare").exists()
    sitemap = (project.site / "sitemap.xml").read_text()
    assert "/tasks/fresh/" in sitemap and "/tasks/spare/" not in sitemap
    assert "tasks/spare/" not in search.read_text() and "tasks/fresh/" in search.read_text()
    assert_same_as_clean(project)


def test_data_files_added_changed_deleted(project, renders):
    (project.docs / "data" / "spare.csv").unlink()
    _rewrite(project.docs / "data" / "new.csv", "x\n1\n")
    changed = project.docs / "stylesheets" / "extra.css"
    changed.write_text(changed.read_text() + "\n/* changed */\n")
    old = time.time() - 10 * 86400  # an mtime that went backwards: still a change
    os.utime(changed, (old, old))
    project.build()
    assert renders == []
    assert not (project.site / "data" / "spare.csv").exists()
    assert (project.site / "stylesheets" / "extra.css").read_text().endswith("/* changed */\n")
    assert_same_as_clean(project)


@pytest.mark.parametrize("change", ["mkdocs.yml", "overrides"])
def test_global_change_builds_clean(project, renders, change):
    if change == "mkdocs.yml":
        project.config.write_text(project.config.read_text()
                                  .replace("site_name: Densitometer", "site_name: Densito"))
    else:
        (project.overrides / "main.html").write_text(
            '{% extends "base.html" %}\n{% block footer %}<footer>ours</footer>{% endblock %}\n')
    project.build()
    assert len(renders) == _pages(project)
    home = (project.site / "index.html").read_text()
    assert ("Densito -" in home or "Densito<" in home) if change == "mkdocs.yml" \
        else "<footer>ours</footer>" in home
    assert_same_as_clean(project)


def test_site_url_from_the_environment_is_global(project, renders, monkeypatch):
    """mkdocs.yml reads SITE_URL when no site_url is passed: the same bytes, another site."""
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:8001/")
    project.build(site_url=None)
    renders.clear()
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:8002/")
    project.build(site_url=None)
    assert len(renders) == _pages(project)
    assert "127.0.0.1:8002" in (project.site / "robots.txt").read_text()


def test_a_warning_in_a_dirty_build_still_fails(project, renders):
    page = project.docs / MODEL
    good = page.read_text()
    _rewrite(page, good + "\n[broken](missing.md)\n")
    with pytest.raises(MkdocsFailed, match="missing.md") as failed:
        project.build()
    assert renders == [MODEL]  # it was a dirty build
    assert "dirty" not in str(failed.value)
    assert not (project.site / STATE).exists()  # so the next build is clean
    _rewrite(page, good)
    renders.clear()
    project.build()
    assert len(renders) == _pages(project)
    assert_same_as_clean(project)


def test_without_reuse_the_previous_html_is_not_trusted(project, renders):
    """`densitometer build --no-cache` (CI) builds clean even over a valid state: an output
    planted in the site folder does not survive."""
    planted = project.site / "models" / "evil" / "index.html"
    planted.write_text("<script>alert('planted')</script>")
    run_mkdocs(BuildOptions(docs=project.docs, out=project.site, config=project.config,
                            site_url=SITE_URL, incremental=False), STAMP)
    assert "planted" not in planted.read_text()
    assert len(renders) == _pages(project)
    assert not (project.site / STATE).exists()  # nothing about the build host is published
    assert_same_as_clean(project)


def test_a_changed_live_block_is_copied_without_rendering(project, renders):
    """Every model's density moves with the reference fits: only the data files the pages
    show in the browser (live.py) change, and the dirty build renders no page for that."""
    folder = project.docs / "data" / DENSITY
    shown = sorted(folder.glob("*.json"))
    assert {p.stem for p in shown} >= {"evil", "ref-1"}
    for path in shown:
        _rewrite(path, live.note(f"density of {path.stem}: 1.5\r\n× ü"))
    project.build()
    assert renders == []
    assert (project.site / "data" / DENSITY / "evil.json").read_text() == (
        live.note("density of evil: 1.5\r\n× ü"))
    assert_same_as_clean(project)
