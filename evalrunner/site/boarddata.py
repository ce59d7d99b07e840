"""The compact JSON the browser renders tables from (site_src/javascripts/board.js).

Format (version 1), chosen so the page's HTML does not grow with the number of models:

    {"v": 1, "title": ..., "note": ..., "fields": [names], "rows": [[values in field order]],
     "columns": [{"key", "label", "type": "num"|"text", "digits", "text", "err", "link",
                  "help", "hidden"}],
     "filters": [{"key", "label", "kind": "select"|"range"|"check"}]}

Every board is written twice: `<name>.json` with every row, and `<name>.head.json` with the
first page in the default order (`default_sort`, `default_dir`) plus `total` and `full` (the
name of the complete file). The page loads the head first, so what it fetches before it shows
the table does not grow with the number of models; board.js then loads the complete file.

Numbers are already rounded to what the page shows (fmt.py decides), so the browser prints
them with `toFixed(digits)` and shows exactly what Python would; `text` names a field holding
preformatted text (counts such as '70.4M'), `err` a field shown as the cell's tooltip, and `link`
the kind of page the cell links to ('model', 'family').
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from . import fmt
from .leaderboard import Leaderboard
from .tables import plain_values


@dataclass(frozen=True)
class BoardColumn:
    key: str
    label: str
    type: str = "text"  # num | text
    digits: int = 0
    text: str | None = None
    err: str | None = None
    link: str | None = None
    help: str = ""
    hidden: bool = False


@dataclass(frozen=True)
class BoardFilter:
    key: str
    label: str
    kind: str  # select (one of the values), check (any of the values), range (min/max)


def _fields(columns: list[BoardColumn], filters: list[BoardFilter]) -> list[str]:
    """The union of keys the columns and filters use, in the order the rows hold them."""
    fields: list[str] = ["id"]
    for c in columns:
        for k in (c.key, c.text, c.err):
            if k and k not in fields:
                fields.append(k)
    for f in filters:
        if f.key not in fields:
            fields.append(f.key)
    for extra_key in ("family",):
        if extra_key not in fields:
            fields.append(extra_key)
    return fields


def encode(title: str, note: str, columns: list[BoardColumn], filters: list[BoardFilter],
           records: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> str:
    """The JSON text; the fields are the union of keys the columns and filters use."""
    fields = _fields(columns, filters)
    return encode_columns(title, note, columns, filters, {
        k: plain_values([r.get(k) for r in records]) for k in fields}, len(records), extra)


def encode_columns(title: str, note: str, columns: list[BoardColumn],
                   filters: list[BoardFilter], data: dict[str, list[Any]], n: int,
                   extra: dict[str, Any] | None = None) -> str:
    """`encode` of `n` records given as a list of plain values (tables.plain) per field; a field
    absent from `data` is None in every row."""
    fields = _fields(columns, filters)
    nones = [None] * n
    rows = [list(r) for r in zip(*[data.get(k, nones) for k in fields], strict=True)]
    doc = {"v": 1, "title": title, "note": note, "fields": fields, "rows": rows,
           "columns": [{k: v for k, v in asdict(c).items() if v not in (None, "", False)}
                       for c in columns],
           "filters": [asdict(f) for f in filters], **(extra or {})}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


PAGE = 50  # rows per page in board.js


def head_path(path: str) -> str:
    """data/lb/x.json -> data/lb/x.head.json"""
    return path.removesuffix(".json") + ".head.json"


def _first_rows(doc: dict[str, Any], n: int) -> list[list[Any]]:
    """The first n rows as board.js orders them by default: by `default_sort` in
    `default_dir`, missing values last, ties in file order (text compared case-folded, close
    to the browser's localeCompare)."""
    rows, key = doc["rows"], doc.get("default_sort")
    if key not in doc["fields"]:
        return rows[:n]
    i = doc["fields"].index(key)
    present = [r for r in rows if r[i] is not None]
    missing = [r for r in rows if r[i] is None]
    text = any(isinstance(r[i], str) for r in present)
    present.sort(key=lambda r: str(r[i]).casefold() if text else r[i],
                 reverse=doc.get("default_dir") == "desc")
    return (present + missing)[:n]


def with_head(path: str, text: str, page: int = PAGE) -> dict[str, str]:
    """{path: the complete board, head_path(path): its first page} (see the module doc)."""
    doc = json.loads(text)
    head = {**doc, "rows": _first_rows(doc, page), "total": len(doc["rows"])}
    if len(doc["rows"]) > page:
        head["full"] = path.rsplit("/", 1)[-1]
    return {path: text, head_path(path): json.dumps(
        head, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"}


NE_HELP = "Non-embedding parameters, where the count is known."
TOTAL_HELP = "Total parameters (the size filter uses these)."
FIT_HELP = ("The parameter count density and scaling fits use: active non-embedding > "
            "non-embedding > active > total, whichever is known (the tooltip says which).")


def size_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The parameter-count fields of a board row (values, texts, the fit basis)."""
    return {"n_ne": row["n_non_embedding"], "n_ne_t": fmt.count(row["n_non_embedding"]),
            "n_total": row["n_total"], "n_total_t": fmt.count(row["n_total"]),
            "n_fit": row["n_fit"], "n_fit_t": fmt.count(row["n_fit"]),
            "n_fit_basis": None if fmt.is_missing(row.get("n_fit_basis"))
            else f"from the {str(row['n_fit_basis']).replace('_', '-')} count"}


def size_columns(fit_hidden: bool = True) -> list[BoardColumn]:
    return [BoardColumn("n_ne", "Params (non-emb.)", "num", 0, text="n_ne_t", help=NE_HELP),
            BoardColumn("n_total", "Params (total)", "num", 0, text="n_total_t",
                        help=TOTAL_HELP),
            BoardColumn("n_fit", "N used by fits", "num", 0, text="n_fit_t", err="n_fit_basis",
                        help=FIT_HELP, hidden=fit_hidden)]


def leaderboard_json(board: Leaderboard, frames_tasks: pd.DataFrame, setting_name: str) -> str:
    """The leaderboard of one setting in the compact format."""
    names = frames_tasks.set_index("task")["name"]
    ref = board.density_reference
    columns = [
        BoardColumn("rank", "Rank", "num", 0,
                    help="Tie group: 1 + the number of models whose 95% interval of the average "
                         "lies wholly above this one's."),
        BoardColumn("name", "Model", link="model"),
        BoardColumn("family_name", "Family", link="family"),
        BoardColumn("avg", "Average", "num", fmt.SCORE_DIGITS, text="avg_t",
                    help="Mean score (%) over " + ", ".join(board.core) + " with the 95% interval"
                    if board.core else "No task is shared by enough models to average."),
    ]
    if "density" in board.rows.columns:
        # hidden where no model has a number or a bound
        shown = board.rows.get("density_shown", pd.Series(dtype=object))
        none = bool(board.rows["density"].isna().all()) and not any(
            isinstance(x, str) and x.startswith((">", "<")) for x in shown)
        columns.append(BoardColumn("density", f"Density (ref. {ref})" if ref else "Density",
                                   "num", 0, text="density_t", err="density_status", hidden=none,
                                   help=f"Capacity density relative to the {ref} reference "
                                   "family (Densing Law, arXiv 2412.04315), with its 95% "
                                   "interval; '> X' or '< X' where it lies outside the "
                                   "reference's range, a bound and not a figure."))
    for t in board.tasks:
        columns.append(BoardColumn(f"t:{t}", str(names.get(t, t)), "num", fmt.SCORE_DIGITS,
                                   err=f"e:{t}", help=f"{t}: score in %, stderr in the tooltip"))
    columns += size_columns() + [
        BoardColumn("tokens", "Tokens", "num", 0, text="tokens_t",
                    help="Training tokens seen by the revision shown."),
        BoardColumn("release", "Released"),
        BoardColumn("tier", "Tier", help="reproduced: run by this project; submitted: by a "
                    "contributor; published: imported from a public source."),
        BoardColumn("kind", "Kind", hidden=True),
        BoardColumn("open", "Open weights", hidden=True),
        BoardColumn("revision", "Revision", hidden=True),
    ]
    filters = [BoardFilter("family_name", "Family", "select"),
               BoardFilter("n_total", "Size", "range"),
               BoardFilter("tier", "Tier", "check"),
               BoardFilter("kind", "Kind", "check"),
               BoardFilter("open", "Open weights", "check")]
    rows = board.rows
    used = ["model", "name", "family", "family_name", "rank", "avg", "avg_hi", "avg_reason",
            "n_non_embedding", "n_total", "n_fit", "n_fit_basis", "tokens", "release_date",
            "tier", "kind", "open_weights", "revision", "density", "density_status",
            "density_shown"]
    records = []
    for r in rows[[c for c in used if c in rows.columns]].to_dict("records"):
        rec = {"id": r["model"], "name": r["name"], "family": r["family"],
               "family_name": r["family_name"], "rank": r["rank"],
               "avg": fmt.pct_value(r["avg"]),
               "avg_t": fmt.plus_minus(r["avg"], r["avg_hi"] - r["avg"])
               if not fmt.is_missing(r["avg"]) else f"{fmt.MISSING} ({r['avg_reason']})",
               **size_fields(r),
               "tokens": r["tokens"], "tokens_t": fmt.count(r["tokens"]),
               "release": None if fmt.is_missing(r["release_date"]) else fmt.day(
                   r["release_date"]),
               "tier": r["tier"], "kind": r["kind"],
               "open": "yes" if r["open_weights"] else "no", "revision": r["revision"]}
        if "density" in r:
            rec["density"] = None if fmt.is_missing(r["density"]) else float(fmt.ratio(
                r["density"]))
            shown = r.get("density_shown")
            rec["density_t"] = fmt.ratio(r["density"]) if fmt.is_missing(shown) else shown
            rec["density_status"] = r.get("density_status")
        records.append(rec)
    data = {k: plain_values([r.get(k) for r in records])
            for k in _fields(columns, filters) if not k.startswith(("t:", "e:"))}
    for t in board.tasks:  # a column at a time: most of the values
        data[f"t:{t}"] = fmt.pct_values(rows[t].to_numpy(float))
        data[f"e:{t}"] = ["" if math.isnan(e) else f"stderr {fmt.pct(e)}"
                          for e in rows[f"{t}__se"].to_numpy(float)]
    title = f"Leaderboard: {setting_name}"
    note = "Scores in %. " + (f"Average over {len(board.core)} tasks." if board.core else "")
    return encode_columns(title, note, columns, filters, data, len(records),
                          {"setting": board.setting, "default_sort": "rank",
                           "default_dir": "asc"})
