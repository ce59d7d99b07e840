"""Live blocks: what many pages show and what moves without them, as small data files that the
browser renders (site_src/javascripts/site.js).

Capacity density moves whenever a reference family's fits move, which is every model and every
family at once: one new checkpoint of a reference family would otherwise generate and render a
thousand model pages again. So a page holds only a placeholder naming a data file,
`data/<kind>/<key>.json`, and that file holds one of
- `{"note": text}`,
- `{"table": {"id", "columns": [{"label", "numeric", "help"}], "rows": [[cell]]}}`, a cell
  being `{"text", "sort"?, "title"?}` (tables.rows_data),
- `{"chart": {"id", "title", "spec", "csv"}}`, a Vega-Lite spec and its data's link.
The files are generated as units of their own (pagecache.py: kinds model_density and
family_density), so a page does not depend on what they show and is not generated, rendered or
patched again when only that moves. The browser puts every text in through textContent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from .tables import Column

KINDS = ("model_density", "family_density")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,200}")  # an id (results/schema.py)


def path(kind: str, *keys: str, suffix: str = ".json") -> str:
    """`data/<kind>/<key>/.../<last key><suffix>` relative to docs; every key is checked to be
    an id, so no path leaves the folder."""
    if kind not in KINDS:
        raise ValueError(f"live block kind {kind!r}: expected one of {KINDS}")
    for key in keys:
        if not _KEY.fullmatch(key):
            raise ValueError(f"live block {kind}: key {key!r} is not an id")
    return "/".join(("data", kind, *keys)) + suffix


def placeholder(src: str, what: str) -> Markup:
    """Where a page shows the data file at `src` (a link relative to the page)."""
    return Markup('<div class="dm-live" data-src="{0}" data-search-exclude>'
                  '<p class="dm-loading">Loading {1}… (it needs JavaScript; the same data: '
                  '<a href="{0}" download>JSON</a>).</p></div>').format(src, what)


def dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def note(text: str) -> str:
    return dump({"note": text})


def table(table_id: str, columns: Sequence[Column], rows: list[list[dict[str, str]]]) -> str:
    """`rows`: tables.rows_data of the table's rows."""
    return dump({"table": {
        "id": table_id,
        "columns": [{"label": c.label, "numeric": c.numeric, "help": c.help} for c in columns],
        "rows": rows}})


def chart(chart_id: str, title: str, spec: str, csv: str) -> str:
    return dump({"chart": {"id": chart_id, "title": title, "spec": json.loads(spec),
                           "csv": csv}})
