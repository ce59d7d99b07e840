"""Site stage, unit level: formatting, escaping, ranks, leaderboard averages, the compact JSON,
the changelog and the vendor check. No build, no browser."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from types import SimpleNamespace

import markdown
import numpy as np
import pandas as pd
import pytest
from site_tree import HOSTILE, build_site_tree
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.metrics.stats import tie_ranks
from evalrunner.results.load import load_frames
from evalrunner.site import escape, fmt
from evalrunner.site.assets import VendorMissing, check_vendor
from evalrunner.site.boarddata import leaderboard_json
from evalrunner.site.leaderboard import build_leaderboard
from evalrunner.site.pages.changelog import git_history


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    return load_frames(build_site_tree(tmp_path_factory.mktemp("tree") / "results"))


def test_numbers_have_one_format():
    assert fmt.pct(0.4213) == "42.1"
    assert fmt.pct(float("nan")) == fmt.MISSING
    assert fmt.score(0.4213, 0.0123) == "42.1 \u00b1 1.2"
    assert fmt.plus_minus(0.7, 0.008) == "70.0 \u00b1 0.8"
    assert fmt.count(70_426_624) == "70.4M"
    assert fmt.count(11_846_072_320) == "11.8B"
    assert fmt.count(999_600_000) == "1.00B"
    assert fmt.count(299_892_736_000) == "300B"
    assert fmt.sig(0.0004123) == "0.000412"
    assert fmt.sig(9.996) == "10.0"
    assert fmt.fixed(-0.0001, 1) == "0.0"
    assert fmt.days(math.log(2) / 0.0073) == "95.0 days"  # 94.95
    assert fmt.day(np.datetime64("2023-04-03")) == "2023-04-03"


def test_sort_values_are_plain_decimals():
    # tablesort's number parsing reads 1e-05 as 1
    assert fmt.sort_value(1e-5) == "0.00001"
    assert fmt.sort_value(2.5e11) == "250000000000"
    assert fmt.sort_value(float("nan")) == ""
    assert fmt.sort_value(None) == ""


def test_markdown_escaping_renders_hostile_text_as_text():
    text = f"{HOSTILE} | *bold* [x](javascript:alert(3))"
    html = markdown.markdown(f"| a |\n|---|\n| {escape.md_cell(text)} |",
                             extensions=["tables"])
    assert "<img" not in html and "<em>" not in html and "<a " not in html
    assert html.count("<td>") == 1  # the pipe did not split the cell
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_only_http_links_are_links():
    assert escape.safe_url("javascript:alert(1)") is None
    assert escape.safe_url("data:text/html,x") is None
    assert escape.safe_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    assert str(escape.link("javascript:alert(1)", "t")) == "t"
    assert str(escape.link("https://example.org/", HOSTILE)) == (
        '<a href="https://example.org/" rel="nofollow noopener">'
        "&lt;img src=x onerror=alert(1)&gt;</a>")


def test_json_in_an_attribute_cannot_close_it():
    out = str(escape.attr_json({"name": '"><script>alert(1)</script>'}))
    assert '"' not in out and "<" not in out
    assert json.loads(__import__("html").unescape(out))["name"].startswith('">')


def test_tie_ranks_count_intervals_wholly_above():
    lo = np.array([0.70, 0.60, 0.50, np.nan])
    hi = np.array([0.80, 0.72, 0.55, np.nan])
    assert tie_ranks(lo, hi)[:3].tolist() == [1, 1, 3]
    assert np.isnan(tie_ranks(lo, hi)[3])
    order = np.array([2, 0, 1])  # ranks do not depend on row order
    assert tie_ranks(lo[order], hi[order]).tolist() == [3, 1, 1]


def test_leaderboard_average_interval_and_core_tasks(frames):
    board = build_leaderboard(frames, "zero-shot")
    assert "crows_pairs_english" not in board.tasks  # bias tasks are not leaderboard columns
    # mmlu is missing for 1 of 8 models (< 90%), so it is shown but not averaged
    assert "mmlu" in board.tasks and "mmlu" not in board.core
    assert board.core == ["arc_easy", "hellaswag", "lambada_openai", "piqa"]
    row = board.rows.set_index("model").loc["ref-3"]
    s = frames.scores
    mine = s[(s["model"] == "ref-3") & (s["setting"] == "zero-shot")
             & (s["revision"] == "step143000") & s["task"].isin(board.core)]
    assert row["revision"] == "step143000"  # the final revision, not the latest checkpoint row
    assert row["avg"] == pytest.approx(mine["value"].mean())
    se = math.sqrt((mine["stderr"] ** 2).sum()) / 4
    assert row["avg_hi"] - row["avg"] == pytest.approx(fmt.Z95 * se)
    assert list(board.rows["rank"]) == sorted(board.rows["rank"])


def test_compact_json_rows_match_fields(frames):
    board = build_leaderboard(frames, "zero-shot")
    doc = json.loads(leaderboard_json(board, frames.tasks, "Zero-shot"))
    assert doc["v"] == 1 and len(doc["rows"]) == 8
    assert all(len(r) == len(doc["fields"]) for r in doc["rows"])
    keys = {c["key"] for c in doc["columns"]}
    assert {"rank", "name", "avg", "t:arc_easy", "n_ne", "tokens", "release", "tier"} <= keys
    evil = dict(zip(doc["fields"], next(r for r in doc["rows"] if r[0] == "evil"), strict=True))
    assert evil["name"] == HOSTILE  # kept as data; the browser inserts it as text
    assert evil["t:arc_easy"] == float(fmt.pct(evil["t:arc_easy"] / 100))  # display precision


def test_changelog_without_a_repository(tmp_path):
    changes, note = git_history(tmp_path)
    assert changes == [] and "not in a git repository" in note


def test_changelog_lists_commits_touching_results(tmp_path):
    results = tmp_path / "results"
    (results / "fam").mkdir(parents=True)
    (results / "fam" / "a.yaml").write_text("x: 1\n")
    (tmp_path / "other.txt").write_text("not results\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=T", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "add results"], check=True)
    changes, note = git_history(results)
    assert note == "" and len(changes) == 1
    assert (changes[0].subject, changes[0].added, changes[0].author) == ("add results", 1, "T")


def test_missing_node_modules_says_run_npm_ci(tmp_path):
    with pytest.raises(VendorMissing, match="npm ci"):
        check_vendor(tmp_path)
    result = CliRunner().invoke(app, ["build", "--node-modules", str(tmp_path),
                                      "--results", str(tmp_path), "--out", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "npm ci" in result.output


def test_commands_have_help_with_an_example():
    for cmd in ("build", "serve"):
        result = CliRunner().invoke(app, [cmd, "--help"])
        assert result.exit_code == 0 and "Example: densitometer" in result.output


def test_serve_refuses_a_missing_site(tmp_path: Path):
    result = CliRunner().invoke(app, ["serve", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "densitometer build" in result.output


def test_mkdocs_warnings_fail_the_build(tmp_path):
    """Strict mode through the Python API, without quiet."""
    from evalrunner.site.build import BuildOptions, run_mkdocs
    from evalrunner.site.errors import MkdocsFailed

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[broken](missing.md)\n")
    config = Path(__file__).resolve().parents[1] / "mkdocs.yml"
    text = config.read_text().split("\nnav:")[0]  # the real config, without its nav
    overrides = config.parent / "site_src" / "overrides"
    (tmp_path / "mkdocs.yml").write_text(
        text.replace("custom_dir: site_src/overrides", f"custom_dir: {overrides}"))
    opts = BuildOptions(docs=docs, out=tmp_path / "site", config=tmp_path / "mkdocs.yml")
    with pytest.raises(MkdocsFailed, match="missing.md"):
        run_mkdocs(opts, "stamp")


@pytest.mark.parametrize("third", ["plain", "two\nlines"])
def test_csv_by_equals_one_csv_per_group(third):
    """The one-pass CSV cut at group boundaries (and its fallback when a cell holds a line
    break) gives exactly the CSV of each group on its own."""
    import pandas as pd

    from evalrunner.site.tables import csv_by, frame_csv

    frame = pd.DataFrame({"m": ["b", "a", "b", "c", "a"], "x": [1.5, 2.0, 3.0, None, 0.1],
                          "t": ["=1+1", "ok", third, "z", "-x"]})
    got = csv_by(frame, "m", ["m", "x", "t"])
    assert sorted(got) == ["a", "b", "c"]
    for key, group in frame.groupby("m"):
        assert got[key] == frame_csv(group[["m", "x", "t"]].reset_index(drop=True))
    assert got["b"].splitlines()[1].startswith("b,1.5,'=1+1")


def test_make_table_cells_escape_link_sort_and_explain_missing_values():
    import pandas as pd

    from evalrunner.site.tables import Column, make_table

    frame = pd.DataFrame({
        "name": ["<b>x</b>", "y"], "href": ["https://e.org/?a=1&b=2", "../y/"],
        "v": [0.4213, float("nan")], "se": [0.012, float("nan")],
        "why": ["ok", "too few models"], "instead": [None, "no fit"]})
    table = make_table("t", frame, [
        Column("name", "Name", link="href"),
        Column("v", "Score", "score", stderr="se", title="why", missing="instead")])
    rows = table.body.strip().split("\n")
    assert rows[0] == ('<tr><td><a href="https://e.org/?a=1&amp;b=2" rel="nofollow noopener">'
                       '&lt;b&gt;x&lt;/b&gt;</a></td><td data-sort="0.4213" class="dm-num" '
                       'title="ok">42.1 ± 1.2</td></tr>')
    assert rows[1] == ('<tr><td><a href="../y/">y</a></td><td data-sort="" class="dm-num" '
                       'title="too few models">no fit</td></tr>')


def test_board_head_is_the_first_page_in_the_default_order():
    from evalrunner.site.boarddata import head_path, with_head

    doc = {"v": 1, "fields": ["id", "rank", "name"], "default_sort": "rank",
           "default_dir": "asc", "rows": [["a", 3, "b"], ["b", None, "a"], ["c", 1, "C"],
                                          ["d", 2, "d"], ["e", 1, "e"]]}
    files = with_head("data/lb/x.json", json.dumps(doc), page=3)
    assert head_path("data/lb/x.json") == "data/lb/x.head.json"
    head = json.loads(files["data/lb/x.head.json"])
    assert [r[0] for r in head["rows"]] == ["c", "e", "d"]  # ties keep file order
    assert head["total"] == 5 and head["full"] == "x.json"
    assert json.loads(files["data/lb/x.json"]) == doc
    by_name = json.loads(with_head("m.json", json.dumps({**doc, "default_sort": "name"}),
                                   page=5)["m.head.json"])
    assert [r[2] for r in by_name["rows"]] == ["a", "b", "C", "d", "e"]
    assert "full" not in by_name  # everything fits in the head


def test_sitemap_split_and_search_index_trim():
    from evalrunner.site.mkdocs_plugin import split_sitemap, trim_search_index

    def url(path):
        return f"\n    <url>\n         <loc>https://x.org/{path}</loc>\n    </url>"

    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
            'schemas/sitemap/0.9">' + "".join(url(p) for p in (
                "", "models/", "models/a-1/", "families/models/", "models/b/")) + "\n</urlset>\n")
    main, models = split_sitemap(text)
    assert main.startswith('<?xml') and main.endswith("</urlset>\n")
    assert [p for p in ("models/a-1/", "models/b/") if p in main] == []
    assert "x.org/models/</loc>" in main and "families/models/" in main
    assert models.count("<url>") == 2 and "models/a-1/" in models
    index = {"config": {}, "docs": [{"location": "families/f/", "title": "F", "text": "lead"},
                                    {"location": "families/f/#models", "title": "Models"},
                                    {"location": "tasks/t/#scores", "title": "Scores"}]}
    assert [d["location"] for d in trim_search_index(index)["docs"]] == [
        "families/f/", "tasks/t/#scores"]


def test_blocks_leave_placeholders_and_come_back_exactly_once():
    from evalrunner.site import blocks

    text = ("# T\n\n<!--dm:block--><table>a</table><!--/dm:block-->\n\n"
            "x <!--dm:block-->b<!--/dm:block-->\n")
    md, found = blocks.split(text)
    assert found == ["<table>a</table>", "b"] and "<table>" not in md
    assert blocks.fill(md, found) == text.replace(blocks.START, "").replace(blocks.END, "")
    with pytest.raises(blocks.BlockError, match="without its END"):
        blocks.split("<!--dm:block-->open")
    with pytest.raises(blocks.BlockError, match="without its START"):
        blocks.split("stray<!--/dm:block-->")
    with pytest.raises(blocks.BlockError, match="once each"):  # Markdown lost a placeholder
        blocks.fill(md.replace('data-block="1"', 'data-block="0"'), found)


def test_density_chart_draws_the_law_only_when_there_is_one():
    from evalrunner.site.charts import density_time_chart

    points = pd.DataFrame({"name": ["A", "B"], "family": ["f", "g"],
                           "release_date": pd.to_datetime(["2023-03-01", "2024-03-01"]),
                           "density": [0.5, 2.0]})
    line = pd.DataFrame({"release_date": pd.to_datetime(["2023-03-01", "2024-03-01"]),
                         "density": [0.6, 1.9]})
    with_law = json.loads(density_time_chart("c", "t", points, line).spec)
    marks = [layer["mark"]["type"] for layer in with_law["layer"]]
    assert marks == ["point", "line"]
    assert [r["density"] for r in with_law["datasets"]["law"]] == [0.6, 1.9]
    without = json.loads(density_time_chart("c", "t", points, line.iloc[:0]).spec)
    assert "law" not in without["datasets"]
    assert "layer" not in without or len(without["layer"]) == 1


def test_no_file_cites_internal_documents_or_issues():
    """The methodology page is the public definition: no tracked file outside results/ cites a
    recipe document the repository does not hold, or an issue number. The needles are built from
    pieces so that this test does not match itself."""
    import re

    docs = "|".join(("METRICS", "STYLE", "LMEVAL", "SITE", "SLURM"))
    needle = re.compile(r"\b(?:" + docs + r")\.md\b" + "|" + "shared" + "/docs"
                        + r"|\b[Ii]ssue[ -]?#?\d+" + r"|\(#\d+\)")
    root = Path(__file__).resolve().parents[1]
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", ".", ":!results"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    found = []
    for name in filter(None, listed):
        path = root / name
        if path.name == "package-lock.json" or not path.is_file():
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1)
                  if needle.search(line)]
    assert not found, "internal document or issue cited:\n" + "\n".join(found)


def test_density_page_sets_implied_beside_true_losses_only_where_measured():
    from evalrunner.site.data import SiteData
    from evalrunner.site.pages.density import _loss_table
    from evalrunner.site.render import Page

    rows = pd.DataFrame({
        "model": ["t1", "t1", "r1", "t2"], "setting": ["s"] * 4, "reference": ["ref"] * 4,
        "family": ["other", "other", "ref", "other"], "task": ["a", "b", "a", "a"],
        "score": [0.6, 0.7, 0.5, 0.4], "loss_hat": [0.45, 0.3, 0.5, 0.8],
        "loss_true": [0.5, 0.36, 0.5, np.nan], "density": [np.nan, 1.4, 1.0, 0.5],
        "bound": [">", "", "", ""], "density_bound": [0.72, np.nan, np.nan, np.nan],
        "status": ["above_range", "ok", "ok", "ok"], "reason": ["beyond", "in range"] * 2})
    data = SiteData(frames=None, tree=None)
    page = Page("density/index.md", "density.md.j2", None, "Capacity density")
    names = pd.Series({"t1": "Target <1>", "t2": "T2", "r1": "R1"})
    assert _loss_table(page, rows, "s", "ref", names, "../", data) == "losses-s"
    table = page.tables[0]
    shown = table.data
    # the reference's own runs and models without a measured loss are not listed
    assert list(shown["model"]) == ["t1", "t1"]
    assert list(shown["loss_true"]) == [0.5, 0.36]
    assert "Target &lt;1&gt;" in table.body and "<1>" not in table.body  # names are escaped
    assert "&gt; 0.72" in table.body  # a bound, never a number, where N^ is out of range
    assert _loss_table(page, rows.assign(loss_true=np.nan), "s", "ref", names, "../",
                       data) is None


def test_ladder_section_lists_predictions_and_projections_with_a_chart():
    from evalrunner.site.data import SiteData
    from evalrunner.site.pages.science import _ladder_section

    n = np.nan
    table = pd.DataFrame({
        "reference": ["lad"] * 3, "setting": ["s"] * 3, "task": ["t", "t", "u"],
        "origin_n": [1e9] * 3, "n_runs": [16] * 3, "target": ["big <b>", "lad-3b", "big <b>"],
        "target_family": ["big", "lad", "big"],
        "role": ["target model", "larger ladder run", "target model"],
        "label": ["prediction", "prediction", "projection"], "score_true": [0.6, 0.5, n],
        "pred_chained": [0.55, 0.52, 0.7], "chained_low": [0.5, 0.5, 0.6],
        "chained_high": [0.6, 0.54, 0.8], "err_chained": [-0.05, 0.02, n],
        "pred_true_loss": [0.58, 0.5, n], "err_true_loss": [-0.02, 0.0, n],
        "loss_true": [0.4, 0.5, n], "loss_pred": [0.42, 0.49, 0.3], "link_r2": [0.99] * 3,
        "status": ["ok"] * 3, "reason": ["fitted"] * 3})
    summary = pd.DataFrame({"reference": ["lad"], "setting": ["s"], "task": ["t"],
                            "origin_n": [1e9], "n_runs": [16], "n_predictions": [2],
                            "n_projections": [0], "mae_chained": [0.035],
                            "mae_true_loss": [0.01], "loss_mape": [0.03], "coverage": [1.0],
                            "link_r2": [0.99], "status": ["ok"], "reason": ["2 compared"]})
    data = SiteData(frames=None, tree=None, metrics={"ladder": table, "ladder_summary": summary})
    tabs, charts, section = _ladder_section(data, "family", "big", "task", "../../")
    [tab] = tabs  # a target family's page: no origin of its own to sum up
    assert list(tab.data["target"]) == ["big <b>", "big <b>"]  # the target family's rows
    assert "big &lt;b&gt;" in tab.body and "<b>" not in tab.body
    assert "50.0 to 60.0" in tab.body  # the chained interval, in points
    assert section.tables == ["ladder"] and section.charts == ["ladder-predicted"]
    spec = json.loads(charts[0].spec)
    # only compared target predictions are drawn: the projection has no actual score
    assert [p["target"] for p in spec["datasets"]["points"]] == ["big <b>"]
    tabs, charts, section = _ladder_section(data, "family", "lad", "task", "../../")
    assert section.tables == ["ladder_summary", "ladder"]  # per origin first, then per target
    assert "3.5" in tabs[0].body and len(tabs[1].data) == 3  # the ladder's page has every row
    # and draws every compared forecast, its larger run's too (a grid's targets are those)
    points = json.loads(charts[0].spec)["datasets"]["points"]
    assert [(p["target"], p["role"]) for p in points] == [
        ("big <b>", "target model"), ("lad-3b", "larger ladder run")]
    tabs, _, section = _ladder_section(data, "task", "t", "family", "../../")
    assert section.tables == ["ladder_summary", "ladder"] and 'href="../../families/lad/"' in \
        tabs[0].body
    assert _ladder_section(data, "task", "v", "family", "../../") is None


def test_the_home_pages_doubling_time_carries_its_interval_and_records():
    from evalrunner.site.data import SiteData
    from evalrunner.site.pages.home import _intro

    law = pd.DataFrame({"setting": ["s", "t"], "reference": ["ref", "ref"],
                        "default_reference": [True, True], "doubling_days": [39.3, 95.0],
                        "doubling_ci_low": [31.5, np.nan], "doubling_ci_high": [179.6, np.nan],
                        "n_records": [7, 5]})
    frames = SimpleNamespace(models=pd.DataFrame(index=range(3)),
                             families=pd.DataFrame(index=[0]),
                             tasks=pd.DataFrame({"parent": [None, "x"]}),
                             settings=pd.DataFrame(index=[0, 1]),
                             scores=pd.DataFrame({"path": ["a", "a", "b"]}))
    data = SiteData(frames=frames, tree=None, metrics={"densing_law": law})
    assert _intro(data, "s").doubling == ("39.3 days (95% interval 32-180, 7 records, ref "
                                          "reference)")
    assert _intro(data, "t").doubling == "95.0 days"  # no interval computed: none invented
