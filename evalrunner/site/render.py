"""Rendering pages from jinja2 templates (site_src/templates) and their context objects.

Autoescape is on for every template, Markdown ones included: a page's Markdown is mostly raw
HTML blocks, and text that lands in Markdown proper goes through the `md` filter (escape.md_text).
Undefined names are errors. HTML the code builds goes in as Markup; data never does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from markupsafe import Markup

from . import blocks, escape, fmt
from .boarddata import head_path
from .charts import ChartBlock
from .tables import Table, download_files, frame_csv


@dataclass
class Page:
    """One generated page: `path` is its Markdown file under docs_dir (always `.../index.md`
    or `index.md`, so files written beside it share its URL folder)."""

    path: str
    template: str
    context: Any
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[ChartBlock] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # extra files beside the page
    search: bool = True  # listed in the search index

    @property
    def root(self) -> str:
        """Relative URL from the page to the site root ('' for the home page)."""
        return "../" * (len(PurePosixPath(self.path).parts) - 1)


def yaml_title(title: str) -> Markup:
    """A front-matter title: HTML-escaped (Material prints page titles unescaped in the header
    and <title>) and written as a JSON string, which YAML reads as a double-quoted scalar."""
    return Markup(json.dumps(str(escape.html_text(title))))


def environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=escape.md_text, link=escape.link, safe_url=escape.safe_url, pct=fmt.pct,
        score=fmt.score, count=fmt.count, day=fmt.day, ratio=fmt.ratio, sig=fmt.sig,
        days=fmt.days, integer=fmt.integer, fixed=fmt.fixed, interval=fmt.interval,
        boolean=fmt.boolean, sortv=fmt.sort_value, attr_json=escape.attr_json,
    )
    env.filters["yaml_title"] = yaml_title
    env.filters["board_head"] = head_path  # a board loads its first page first
    env.globals["MISSING"] = fmt.MISSING
    return env


def render_page(env: jinja2.Environment, page: Page, stamp: str) -> str:
    template = env.get_template(page.template)
    tables = {t.id: t for t in page.tables}
    charts = {c.id: c for c in page.charts}
    return template.render(page=page.context, root=page.root, title=page.title, stamp=stamp,
                           tables=tables, charts=charts, search=page.search)


def page_files(env: jinja2.Environment, page: Page, stamp: str) -> dict[str, str]:
    """The page's Markdown, its HTML blocks (blocks.py) and everything offered beside it (table
    and chart downloads), by path under docs_dir."""
    text, found = blocks.split(render_page(env, page, stamp))
    out = {page.path: text}
    if found:
        out[blocks.path_for(PurePosixPath(), page.path).as_posix()] = blocks.dump(found)
    folder = PurePosixPath(page.path).parent
    beside = {name: body for table in page.tables for name, body in download_files(table).items()}
    beside.update({f"{chart.id}.csv": frame_csv(chart.data) for chart in page.charts})
    beside.update(page.files)
    out.update({(folder / name).as_posix(): body for name, body in beside.items()})
    return out
