"""The built fixture site in headless Chromium (Debian's /usr/bin/chromium via playwright):
no console errors, numeric sorting, filters kept in the URL across a reload, charts drawn, the
compare view, instant navigation, and a hostile model name shown as text with no dialog.

The site is built once per session (tests/site_build.py) with SITE_URL set to the server's
origin, so Material's instant navigation is active.
"""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import expect
from site_build import REPO, get_site
from site_tree import HOSTILE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("site"),
    pytest.mark.skipif(shutil.which("chromium") is None and not
                       __import__("os").path.exists("/usr/bin/chromium"),
                       reason="Debian chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.skipif(not (REPO / "node_modules" / "vega-lite").is_dir(),
                       reason="node_modules missing: run `npm ci`"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return get_site(tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield b
        b.close()


class Watch:
    """Console messages, page errors, dialogs and requests leaving the origin."""

    def __init__(self, page, origin: str) -> None:
        self.console: list[tuple[str, str]] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.console.append(("error", str(e))))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: r.url.startswith(origin) or self.outside.append(r.url))

    def problems(self) -> list:
        bad = [m for m in self.console if m[0] in ("error", "warning")]
        return bad + [("dialog", d) for d in self.dialogs] + [("outside", u)
                                                              for u in self.outside]


@pytest.fixture
def page(browser, site):
    p = browser.new_page(viewport={"width": 1400, "height": 900})
    p.watch = Watch(p, site.origin)
    yield p
    p.close()


def _column(page, key: str) -> list[str]:
    return page.eval_on_selector_all(
        f".dm-board tbody tr td:nth-child({_index(page, key)})",
        "cells => cells.map(c => c.getAttribute('data-sort') ?? c.textContent)")


def _index(page, key: str) -> int:
    keys = page.eval_on_selector_all(".dm-board thead th", "ths => ths.map(t => t.dataset.key)")
    return keys.index(key) + 1


def test_home_loads_without_console_errors(page, site):
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    assert page.locator(".dm-board tbody tr").count() == 8
    assert page.locator(".dm-board tr.dm-row-published").count() == 6  # marked rows
    assert page.locator(".dm-board .dm-tier-published").count() == 6
    assert page.watch.problems() == []


def test_numeric_column_sorts_numerically(page, site):
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    page.click(".dm-board th[data-key='n_ne']")  # params: 20M ... 7B, a numeric column
    values = [float(v) for v in _column(page, "n_ne")]
    assert values == sorted(values, reverse=True) and values[0] == 7e9
    texts = page.eval_on_selector_all(
        f".dm-board tbody td:nth-child({_index(page, 'n_ne')})", "cs => cs.map(c => c.textContent)")
    assert texts[0] == "7.00B" and texts[-1] == "20.0M"  # as text, "7.00B" < "20.0M"
    page.click(".dm-board th[data-key='n_ne']")
    values = [float(v) for v in _column(page, "n_ne")]
    assert values == sorted(values)  # 2e7 < 8e7 < 3e8 < 1e9 ... (not string order)
    assert "sort=n_ne" in page.url and "dir=asc" in page.url
    assert page.watch.problems() == []


def test_filter_narrows_rows_and_survives_reload(page, site):
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    page.select_option(".dm-filter[data-filter='family_name'] select", "Ref")
    assert page.locator(".dm-board tbody tr").count() == 5
    page.check(".dm-filter[data-filter='tier'] input[value='published']")
    page.fill(".dm-search", "ref 3")
    assert page.locator(".dm-board tbody tr").count() == 1
    assert "family_name=Ref" in page.url and "q=ref+3" in page.url
    page.reload()
    page.wait_for_selector(".dm-board tbody tr")
    assert page.locator(".dm-board tbody tr").count() == 1
    assert page.input_value(".dm-filter[data-filter='family_name'] select") == "Ref"
    assert page.input_value(".dm-search") == "ref 3"
    assert page.watch.problems() == []


def test_column_toggle_hides_a_column(page, site):
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    assert page.locator(".dm-board th[data-key='tokens']").count() == 1
    page.click(".dm-columns summary")
    page.uncheck(".dm-columns input[value='tokens']")
    assert page.locator(".dm-board th[data-key='tokens']").count() == 0
    page.reload()
    page.wait_for_selector(".dm-board tbody tr")
    assert page.locator(".dm-board th[data-key='tokens']").count() == 0


def test_chart_renders_with_marks_and_tooltip(page, site):
    page.goto(site.origin + "/families/ref/")
    chart = "#chart-scaling-zero-shot"
    page.wait_for_selector(f"{chart} svg .mark-symbol path")
    options = page.locator(f"{chart} select option").all_text_contents()
    assert "Arc Easy (arc_easy)" in options and len(options) > 1
    page.select_option(f"{chart} select", "arc_easy")
    # five models and the leave-largest-out prediction of the picked task only
    expect(page.locator(f"{chart} svg .mark-symbol path")).to_have_count(6)
    page.locator(f"{chart} svg .mark-symbol path").first.hover()
    page.wait_for_selector("#vg-tooltip-element.visible")
    page.wait_for_selector("#chart-trajectories-zero-shot svg .mark-line path")
    assert page.watch.problems() == []


def test_live_blocks_draw_densities(page, site):
    """A model's density table and a family's density over training come from data files
    the page fills in (live.py): the table sorts, the chart draws, its CSV link resolves."""
    page.goto(site.origin + "/models/evil/")
    rows = page.locator("#table-density tbody tr")
    expect(rows).to_have_count(2)
    assert page.locator("#table-density th").first.text_content() == "Setting"
    bound = page.locator("#table-density td[title]").last
    assert "lower bound" in bound.get_attribute("title")
    head = page.locator("#table-density th").first
    head.click()  # tablesort: by setting, then the other way round
    first = rows.first.locator("td").first.text_content()
    head.click()
    assert {first, rows.first.locator("td").first.text_content()} == {"five-shot", "zero-shot"}
    page.goto(site.origin + "/families/ref/")
    chart = "#chart-density-zero-shot"
    page.wait_for_selector(f"{chart} svg .mark-line path")
    link = page.locator(f"figure:has({chart}) figcaption a").get_attribute("href")
    assert link.endswith("/data/family_density/ref/density-zero-shot.csv")
    assert page.request.get(link).ok
    assert page.locator(".dm-loading").count() == 0
    assert page.watch.problems() == []


def test_instant_navigation_draws_charts(page, site):
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    page.evaluate("window.__marker = 1")
    page.click(".dm-board a[href$='families/ref/']")
    page.wait_for_selector("#chart-scaling-zero-shot svg .mark-symbol path")
    assert page.evaluate("window.__marker") == 1  # no full page load
    assert page.watch.problems() == []


def test_compare_shows_two_models(page, site):
    page.goto(site.origin + "/compare/?s=zero-shot&m=ref-1&m=ref-5")
    page.wait_for_selector("#dm-compare-table tbody tr")
    heads = page.locator("#dm-compare-table th.dm-compare-col a").all_text_contents()
    assert heads == ["Ref 1", "Ref 5"]
    assert page.locator("#dm-compare-table tbody tr").count() >= 5
    assert page.locator("#dm-compare-table td.dm-better").count() >= 1
    assert "m=ref-1%40step143000" in page.url or "m=ref-1@step143000" in page.url
    assert page.watch.problems() == []


def test_hostile_model_name_is_text(page, site):
    for path in ["/models/evil/", "/", "/compare/?s=zero-shot&m=evil&m=ref-1", "/models/",
                 "/families/other/", "/tasks/crows_pairs_english/", "/density/"]:
        page.goto(site.origin + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0, path
    page.goto(site.origin + "/models/evil/")
    heading = page.locator("article h1").first.evaluate("h => h.firstChild.textContent")
    assert heading.strip() == HOSTILE
    page.goto(site.origin + "/")
    page.wait_for_selector(".dm-board tbody tr")
    assert HOSTILE in page.locator(".dm-board tbody").text_content()
    assert page.watch.dialogs == []
    assert page.watch.problems() == []


def test_a_big_board_shows_its_head_then_every_row(page, site):
    """The page fetches the head file first and draws it; the complete rows replace it. Here
    the head is cut to two rows (a real head holds a page of 50), through a routed response."""
    from evalrunner.site.boarddata import with_head

    full = (site.site / "data" / "lb" / "zero-shot.json").read_text()
    head = with_head("data/lb/zero-shot.json", full, page=2)["data/lb/zero-shot.head.json"]
    total = len(json.loads(full)["rows"])
    assert total > 2 and len(json.loads(head)["rows"]) == 2
    fetched: list[str] = []
    page.on("request", lambda r: "/data/lb/" in r.url and fetched.append(r.url.split("/")[-1]))
    page.route("**/data/lb/zero-shot.head.json",
               lambda route: route.fulfill(body=head, content_type="application/json"))
    page.goto(site.origin + "/")
    expect(page.locator(".dm-board tbody tr")).to_have_count(total)
    expect(page.locator(".dm-board .dm-status")).to_have_text(f"{total} of {total} rows")
    assert fetched[:2] == ["zero-shot.head.json", "zero-shot.json"]
    assert page.watch.problems() == []
