"""Escaping untrusted text for each context it can land in.

Every string that comes from a result file (names, descriptions, sources, URLs) is untrusted.
- HTML text and attributes: Jinja autoescape (templates) or `html_text` (code building HTML).
- Markdown: `md_text` / `md_cell` escape HTML first (Markdown passes raw HTML through), then the
  Markdown syntax characters, so `|` cannot split a table cell and `*x*` cannot format.
- JSON embedded in an HTML attribute (chart specs): `attr_json`, HTML-escaped with quotes.
- JSON files fetched by the browser need nothing: they are parsed, never inserted as HTML (the
  glue sets `textContent`).
- Links: only http(s) URLs become links (`safe_url`); anything else is shown as text.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from markupsafe import Markup, escape

# Python-Markdown's escapable characters plus the tables extension's "|".
_MD_SPECIAL = "\\`*_{}[]()#+-.!|"
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


def html_text(text: Any) -> Markup:
    """Text for an HTML element or attribute."""
    return escape("" if text is None else str(text))


def md_text(text: Any) -> Markup:
    """Text for Markdown (a paragraph, a list item or a pipe-table cell): HTML, then Markdown."""
    out = str(html_text(text))
    # '&' was already turned into '&amp;', so escaping '#' or '(' cannot break an entity.
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in out)
    return Markup(out.replace("\r", " ").replace("\n", " "))


md_cell = md_text


def safe_url(url: Any) -> str | None:
    """The URL if it is a plain http(s) URL, else None (javascript:, data:, relative, ...)."""
    if not isinstance(url, str) or not _SAFE_URL.match(url.strip()):
        return None
    return url.strip()


def link(url: Any, title: Any = None) -> Markup:
    """An <a> to an http(s) URL, or the escaped text when the URL is not allowed."""
    shown = title if title not in (None, "") else url
    safe = safe_url(url)
    if safe is None:
        return html_text(shown)
    return Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(safe, str(shown))


def attr_json(data: Any) -> Markup:
    """JSON for an HTML attribute value (inside double quotes): every quote and angle escaped."""
    text = data if isinstance(data, str) else compact_json(data)
    return Markup(html.escape(text, quote=True))


def compact_json(data: Any) -> str:
    """Deterministic compact JSON (sorted keys, no spaces, NaN rejected)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def slug(text: str) -> str:
    """An anchor/file name from an id that is already path-safe (ids follow the schema pattern)."""
    return re.sub(r"[^a-z0-9._+-]", "-", str(text).lower())
