"""Site stage, built: pages and API files exist, hostile strings never reach the HTML as markup,
every internal link resolves, output is deterministic, and generated pages and chart specs match
the goldens in tests/golden/.

Regenerate the goldens after an intended change, then review the diff:

    DENSITOMETER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_site_build.py -k golden
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from site_build import REPO, STAMP, get_site

from evalrunner.site.blocks import assembled
from evalrunner.site.build import BuildOptions, generate_docs

pytestmark = [
    pytest.mark.xdist_group("site"),
    pytest.mark.skipif(not (REPO / "node_modules" / "vega-lite").is_dir(),
                       reason="node_modules missing: run `npm ci`"),
]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DENSITOMETER_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return get_site(tmp_path_factory)


def test_pages_and_api_exist(built):
    site = built.site
    for rel in ["index.html", "leaderboard/zero-shot/index.html", "models/index.html",
                "models/evil/index.html", "families/ref/index.html", "tasks/arc_easy/index.html",
                "density/index.html", "predictability/index.html", "compare/index.html",
                "methodology/index.html", "submit/index.html", "changelog/index.html",
                "api/index.html", "schema/result.schema.json", "data/lb/zero-shot.json",
                "data/models/evil.json", "data/compare.json",
                "javascripts/vendor/vega-lite.min.js"]:
        assert (site / rel).is_file(), rel
    assert not list(site.rglob("step*/index.html"))  # no page per checkpoint
    api = site / "api" / "v1"
    for name in ["leaderboard.json", "models.csv", "results.csv", "schema.json",
                 "predictability_family_task.csv", "checkpoints.csv", "tasks.csv",
                 "density.csv", "density_models.csv", "densing_law.csv"]:
        assert (api / name).is_file(), name
    header = next(csv.reader(io.StringIO((api / "results.csv").read_text())))
    assert header[:10] == ["model", "revision", "setting", "task", "metric", "value", "stderr",
                           "n_items", "tier", "source"]
    board = json.loads((api / "leaderboard.json").read_text())
    assert len(board["settings"]["zero-shot"]["rows"]) == 8
    assert "result.schema.json" in json.loads((api / "schema.json").read_text())
    assert "not in a git repository" in (site / "changelog" / "index.html").read_text()
    # the search index every page loads does not grow with the number of models
    index = json.loads((site / "search" / "search_index.json").read_text())
    locations = [d["location"] for d in index["docs"]]
    assert locations and not [x for x in locations if x.startswith("models/") and x != "models/"]


def test_hostile_strings_never_become_markup(built):
    for page in built.site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<img src=x" not in text, page
        assert "</script><img" not in text, page
        assert 'href="javascript:' not in text.lower(), page
    evil = (built.site / "models" / "evil" / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in evil


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if value and (name in ("href", "src") or name == "data-src"):
                self.urls.append(value)


def _target(site: Path, page: Path, url: str) -> Path | None:
    """The file a relative URL on `page` points to, or None for external/in-page links."""
    parts = urlsplit(html.unescape(url))
    if parts.scheme or parts.netloc or not parts.path:
        return None
    base = page.parent
    path = (site / parts.path.lstrip("/")) if parts.path.startswith("/") else (
        base / unquote(parts.path))
    path = Path(os.path.normpath(path))
    return path / "index.html" if url.split("?")[0].split("#")[0].endswith("/") or \
        path.is_dir() else path


def test_no_broken_internal_link(built):
    site = built.site
    broken, checked = [], 0
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            target = _target(site, page, url)
            if target is None:
                continue
            checked += 1
            if not target.is_file() or site.resolve() not in target.resolve().parents:
                broken.append(f"{page.relative_to(site)} -> {url}")
    assert checked > 500
    assert not broken, "\n".join(broken[:20])


def test_no_page_shows_a_missing_value_as_text(built):
    """A missing fact (a task without a source URL: the MMLU subtasks) is left out or shown
    as a dash, never printed as pandas' nan or Python's None."""
    shown = re.compile(r">\s*(?:[A-Za-z ]+: )?(?:nan|None|NaT)\s*<")
    bad = [p.relative_to(built.site).as_posix() for p in sorted(built.site.rglob("*.html"))
           if shown.search(p.read_text(encoding="utf-8"))]
    assert not bad, bad[:10]


@pytest.mark.parametrize("jobs", [None, 2])
def test_generation_is_deterministic(built, tmp_path, jobs):
    """A second build gives the same bytes, and so does one written by parallel processes (a
    site this small is otherwise written in one process)."""
    opts = BuildOptions(results=built.results, docs=tmp_path / "docs", src=REPO / "site_src",
                        config=REPO / "mkdocs.yml", node_modules=REPO / "node_modules",
                        stamp=STAMP, jobs=jobs)
    pages, _, _ = generate_docs(opts)
    assert pages == len([p for p in (tmp_path / "docs").rglob("*.md") if "_blocks" not in p.parts])
    ours = {p.relative_to(tmp_path / "docs"): p.read_bytes()
            for p in (tmp_path / "docs").rglob("*") if p.is_file()}
    theirs = {p.relative_to(built.docs): p.read_bytes()
              for p in built.docs.rglob("*") if p.is_file()}
    assert ours.keys() == theirs.keys()
    assert [k for k in ours if ours[k] != theirs[k]] == []


def _spec(docs: Path, page: str, chart_id: str) -> str:
    """A chart's spec: in the page, or in a live block the page shows (live.py)."""
    text = assembled(docs, page)
    found = re.search(rf'id="chart-{re.escape(chart_id)}" data-spec="([^"]*)"', text)
    if found:
        spec = json.loads(html.unescape(found.group(1)))
    else:
        live = [json.loads((docs / page).parent.joinpath(html.unescape(src)).resolve()
                           .read_text())
                for src in re.findall(r'class="dm-live" data-src="([^"]*)"', text)]
        charts = [d["chart"]["spec"] for d in live if d.get("chart", {}).get("id") == chart_id]
        assert charts, chart_id
        spec = charts[0]
    return json.dumps(spec, indent=1, sort_keys=True) + "\n"


GOLDEN_FILES = {
    "home.md": lambda d: assembled(d, "index.md"),
    "model-evil.md": lambda d: assembled(d, "models/evil/index.md"),
    "density-evil.json": lambda d: (d / "data" / "model_density" / "evil.json").read_text(),
    "leaderboard-zero-shot.json": lambda d: (d / "data" / "lb" / "zero-shot.json").read_text(),
    "chart-scaling.json": lambda d: _spec(d, "families/ref/index.md",
                                                   "scaling-zero-shot"),
    "chart-density-time.json": lambda d: _spec(d, "density/index.md",
                                               "density-time-zero-shot"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_FILES))
def test_golden(built, name):
    got = GOLDEN_FILES[name](built.docs)
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written; review and commit it")
    want = path.read_text(encoding="utf-8")
    if name.endswith(".json"):
        # fitted values (a law's line) to a relative 1e-6: their last digits are the
        # optimiser's last step
        assert _close(json.loads(got), json.loads(want)), (
            f"{name} differs from tests/golden/{name}; if the change is intended, regenerate "
            "with DENSITOMETER_UPDATE_GOLDEN=1 (see this module's docstring)")
        return
    assert got == want, (
        f"{name} differs from tests/golden/{name}; if the change is intended, regenerate with "
        "DENSITOMETER_UPDATE_GOLDEN=1 (see this module's docstring)")


def _close(a, b) -> bool:  # noqa: ANN001
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and \
            math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


CHART_KINDS = [("families/ref", "scaling-zero-shot"),
               ("families/ref", "trajectories-zero-shot"),
               ("families/ref", "density-zero-shot"),
               ("density", "density-time-zero-shot"),
               ("tasks/arc_easy", "scores-zero-shot")]


def test_chart_specs_are_valid_vega_lite_of_altairs_version(built):
    """One chart of each kind against the Vega-Lite JSON Schema altair ships (the build skips
    validation for speed)."""
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema import load_schema

    schema = load_schema()
    for folder, chart_id in CHART_KINDS:
        spec = json.loads(_spec(built.docs, f"{folder}/index.md", chart_id))
        assert spec["$schema"].endswith(f"/{alt.SCHEMA_VERSION}.json")
        validate_jsonschema(spec, schema)
        assert spec["datasets"]["points"], chart_id
    scaling = json.loads(_spec(built.docs, "families/ref/index.md", CHART_KINDS[0][1]))
    assert all(layer["encoding"]["x"]["scale"]["type"] == "log"  # compute: log scale
               for layer in scaling["layer"])
