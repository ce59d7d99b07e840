"""Text from a pull request, made inert for a GitHub comment.

Everything shown comes from untrusted files or git metadata. `md` turns a value into plain text
that GitHub's Markdown renders literally: hidden characters written out as `\\uXXXX`, HTML
escaped (GitHub passes some raw HTML through), every Markdown punctuation character
backslash-escaped (so `|` cannot split a table cell and `[x](y)` cannot become a link), and
the two things escaping does not stop broken with a zero-width space: bare-URL autolinks
(`://`, `www.`) and @-mentions (which would notify people or teams).
"""

from __future__ import annotations

import html
from typing import Any

from evalrunner.results.read import shown_name

MAX_TEXT = 300  # characters of one value; a reviewer opens the file for more
_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~:@\"'=$^")  # CommonMark's escapables, less & < > ;
_ZWSP = "\u200b"


def md(value: Any, limit: int = MAX_TEXT) -> str:
    """Plain text for a Markdown paragraph, list item or table cell."""
    text = "" if value is None else str(value)
    text = shown_name(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    if len(text) > limit:
        text = text[:limit] + "..."
    text = text.replace("://", ":" + _ZWSP + "//").replace("www.", "www" + _ZWSP + ".")
    text = text.replace("@", "@" + _ZWSP)
    out = []
    for ch in html.escape(text, quote=False):  # only &amp; &lt; &gt;: no '#' to escape below
        out.append("\\" + ch if ch in _SPECIAL else ch)
    return "".join(out)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A pipe table; cells must already be escaped with `md` (or be our own text)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return lines
