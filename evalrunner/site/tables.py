"""Tables: values kept apart from their text, rendered as HTML and written as CSV and JSON.

A `Table` holds the raw DataFrame (what the downloads contain, full precision) and the HTML of
the rows the page shows (per cell: text, sortable value, link, tooltip). `Column.kind` picks the
formatter from fmt.py, so every table formats a kind of number the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from evalrunner.metrics.output import csv_text

from . import fmt
from .escape import safe_url

# kind -> (formatter, numeric?)
KINDS: dict[str, tuple[Callable[[Any], str], bool]] = {
    "text": (lambda v: fmt.MISSING if fmt.is_missing(v) else str(v), False),
    "score": (fmt.pct, True),  # a fraction shown in percent
    "count": (fmt.count, True),  # parameters, tokens: 70.4M
    "ratio": (fmt.ratio, True),  # 3 significant digits
    "fixed2": (lambda v: fmt.fixed(v, 2), True),
    "fixed3": (lambda v: fmt.fixed(v, 3), True),
    "int": (fmt.integer, True),
    "date": (fmt.day, True),
    "days": (fmt.days, True),
    "bool": (fmt.boolean, False),
}


@dataclass(frozen=True)
class Column:
    """One column: `key` in the data, header `label`, formatter `kind`, tooltip `help`."""

    key: str
    label: str
    kind: str = "text"
    help: str = ""
    link: str | None = None  # key of a column holding this cell's link target
    stderr: str | None = None  # key of a column holding the stderr shown as '± s'
    title: str | None = None  # key of a column holding the cell's tooltip (a reason)
    missing: str | None = None  # key of a column holding the text shown for a missing value

    @property
    def numeric(self) -> bool:
        return KINDS[self.kind][1]


@dataclass(frozen=True)
class Table:
    """A rendered table and the data behind it; `id` names its downloads (`<id>.csv`).
    `body` is the HTML of its rows (`<tr>` elements), every value escaped."""

    id: str
    columns: list[Column]
    body: Markup
    data: pd.DataFrame | None  # None only when there are no downloads
    caption: str = ""
    downloads: bool = True
    classes: list[str] = field(default_factory=list)


Cell = tuple[str, str | None, str | None, str | None]  # text, sort value, tooltip, link


def _cell_parts(column: Column, lists: dict[str, list[Any]], n: int) -> list[Cell]:
    """Every row's cell in one column, unescaped: its text, sort value (numeric columns),
    tooltip and link (checked: an outside link only as http(s))."""
    values = lists.get(column.key, [None] * n)
    errors = lists.get(column.stderr) if column.stderr else None
    links = lists.get(column.link) if column.link else None
    titles = lists.get(column.title) if column.title else None
    instead = lists.get(column.missing) if column.missing else None
    formatter, numeric = KINDS[column.kind]
    out: list[Cell] = []
    for i, value in enumerate(values):
        text = formatter(value)
        if errors is not None and not fmt.is_missing(value):
            text = fmt.score(value, errors[i])
        elif instead is not None and fmt.is_missing(value) and isinstance(instead[i], str):
            text = instead[i]
        title = None
        if titles is not None and not fmt.is_missing(titles[i]) and str(titles[i]):
            title = str(titles[i])
        href = links[i] if links is not None else None
        if not isinstance(href, str) or not href:
            href = None
        elif href.startswith(("http://", "https://")):
            href = safe_url(href)
        out.append((text, fmt.sort_value(value) if numeric else None, title, href))
    return out


def _cells(column: Column, lists: dict[str, list[Any]], n: int) -> list[str]:
    """The `<td>` of every row in one column: text, sort value, link and tooltip, escaped."""
    out = []
    for text, sort, title, href in _cell_parts(column, lists, n):
        attrs = f' data-sort="{escape(sort)}" class="dm-num"' if sort is not None else ""
        if title is not None:
            attrs += f' title="{escape(title)}"'
        inner = escape(text)
        if href is not None and href.startswith(("http://", "https://")):
            inner = Markup(f'<a href="{escape(href)}" rel="nofollow noopener">{inner}</a>')
        elif href is not None:
            inner = Markup(f'<a href="{escape(href)}">{inner}</a>')
        out.append(f"<td{attrs}>{inner}</td>")
    return out


def rows_data(lists: dict[str, list[Any]], n: int,
              columns: Sequence[Column]) -> list[list[dict[str, str]]]:
    """The cells of each of the `n` rows as data (text, and sort, title and href where a cell
    has them), for a table the browser renders."""
    cells = [_cell_parts(c, lists, n) for c in columns]
    return [[{k: v for k, v in zip(("text", "sort", "title", "href"), cell, strict=True)
              if v is not None} for cell in row] for row in zip(*cells, strict=True)]


def make_table(table_id: str, frame: pd.DataFrame, columns: Sequence[Column],
               caption: str = "", data: pd.DataFrame | None = None,
               downloads: bool = True) -> Table:
    """Cells for `columns` from each row of `frame`; `data` (default: frame) is downloaded."""
    keys = {k for c in columns for k in (c.key, c.link, c.stderr, c.title, c.missing) if k}
    lists = frame[[k for k in frame.columns if k in keys]].to_dict("list")
    return table_from_lists(table_id, lists, len(frame), columns, caption,
                            frame if data is None else data, downloads)


def table_from_lists(table_id: str, lists: dict[str, list[Any]], n: int,
                     columns: Sequence[Column], caption: str = "",
                     data: pd.DataFrame | None = None, downloads: bool = True) -> Table:
    """A table from columns given as lists of `n` values (a column absent from `lists` is
    missing in every row). Built column by column straight to HTML: per-cell objects rendered
    by a template were most of the page generation at scale."""
    if downloads and data is None:
        raise ValueError(f"table {table_id}: downloads need the data frame")
    body = "".join(rows_html(lists, n, columns))
    return Table(table_id, list(columns), Markup(body), data, caption, downloads)


def rows_html(lists: dict[str, list[Any]], n: int, columns: Sequence[Column]) -> list[str]:
    """The `<tr>` of each of the `n` rows, as table_from_lists makes them."""
    cells = [_cells(c, lists, n) for c in columns]
    return [f"<tr>{''.join(row)}</tr>\n" for row in zip(*cells, strict=True)]


def plain(value: Any) -> Any:
    if fmt.is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def plain_values(values: list[Any]) -> list[Any]:
    """`plain` of each value; the common types without a call (boards, API: a value per model
    and task)."""
    out = []
    for v in values:
        t = type(v)
        if t is str or t is int or t is bool:
            out.append(v)
        elif t is float:
            out.append(None if v != v else v)
        else:
            out.append(plain(v))
    return out


def frame_csv(frame: pd.DataFrame) -> str:
    """Deterministic, spreadsheet-safe CSV; floats in shortest round-trip form."""
    return csv_text(frame)


def cut_csv(frame: pd.DataFrame, sizes: Iterable[int]) -> tuple[str, list[str]] | None:
    """(header line, the rows of each consecutive run of `sizes` rows) of `frame_csv(frame)`,
    from one CSV pass: a CSV per run costs a few milliseconds of pandas overhead each, which is
    seconds for a thousand models. None if a quoted cell holds a line break (lines are then
    not rows)."""
    header, _, body = frame_csv(frame).partition("\n")
    lines = body.split("\n")[:-1]
    if len(lines) != len(frame):
        return None
    out, start = [], 0
    for n in sizes:
        out.append("".join(line + "\n" for line in lines[start:start + n]))
        start += n
    return header + "\n", out


def csv_by(frame: pd.DataFrame, key: str, columns: list[str]) -> dict[Any, str]:
    """`frame_csv` of `columns` for each value of `key`, rows in frame order within a group:
    one CSV pass cut at the group boundaries, each group on its own when that cannot be."""
    frame = frame.sort_values(key, kind="stable")
    sizes = frame.groupby(key, sort=False).size()
    cut = cut_csv(frame[columns].reset_index(drop=True), sizes)
    if cut is None:
        return {k: frame_csv(g[columns].reset_index(drop=True))
                for k, g in frame.groupby(key, sort=False)}
    header, bodies = cut
    return {k: header + body for k, body in zip(sizes.index, bodies, strict=True)}


def frame_json(frame: pd.DataFrame) -> str:
    """Deterministic, compact JSON in pandas' "split" layout: {"columns": [...], "data":
    [[...], ...]}, NaN as null, dates as ISO days, floats to 15 significant digits (the CSV
    beside it keeps full precision)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.to_json(orient="split", index=False, double_precision=15,
                       force_ascii=False) + "\n"


def download_files(table: Table) -> dict[str, str]:
    """`<id>.csv` and `<id>.json`, to go beside the page."""
    if not table.downloads or table.data is None:
        return {}
    return {f"{table.id}.csv": frame_csv(table.data), f"{table.id}.json": frame_json(table.data)}
