"""Heavy HTML blocks (tables, charts, fact lists) kept out of the Markdown mkdocs parses.

Python-Markdown parses every raw HTML block tag by tag and unescapes every character reference
in its attributes; on a page with a few tables and chart specs that was most of `mkdocs build`
(100 of 145 s at 10k result files). So the templates mark their big HTML with START ... END, the
generator moves each marked block into `<docs>/_blocks/<page>.json` and leaves a placeholder,
and the `densitometer-blocks` mkdocs plugin (mkdocs_plugin.py) puts the blocks back into the
finished page. The search index sees placeholders, not table cells: tables and charts are data
(downloadable beside the page), not prose.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

START, END = "<!--dm:block-->", "<!--/dm:block-->"
FOLDER = "_blocks"  # under docs_dir; excluded from the site by mkdocs.yml's exclude_docs
_PLACEHOLDER = '<div class="dm-block" data-block="{}"></div>'
_FOUND = re.compile(r'<div class="dm-block" data-block="(\d+)"></div>')


class BlockError(ValueError):
    pass


def split(text: str) -> tuple[str, list[str]]:
    """(Markdown with placeholders, the blocks in order). Blocks never nest."""
    parts = text.split(START)
    out, blocks = [parts[0]], []
    for part in parts[1:]:
        block, sep, rest = part.partition(END)
        if not sep:
            raise BlockError("a block START without its END (blocks never nest)")
        out.append(_PLACEHOLDER.format(len(blocks)))
        out.append(rest)
        blocks.append(block)
    joined = "".join(out)
    if END in joined:
        raise BlockError("a block END without its START")
    return joined, blocks


def fill(html: str, blocks: list[str], where: str = "page") -> str:
    """Put every block back in place of its placeholder; each must appear exactly once."""
    seen: list[int] = []

    def put(match: re.Match[str]) -> str:
        i = int(match.group(1))
        if i >= len(blocks):
            raise BlockError(f"{where}: placeholder {i} but only {len(blocks)} blocks")
        seen.append(i)
        return blocks[i]

    out = _FOUND.sub(put, html)
    if sorted(seen) != list(range(len(blocks))):
        raise BlockError(f"{where}: blocks placed {sorted(seen)}, expected 0..{len(blocks) - 1}"
                         " once each (did Markdown swallow a placeholder?)")
    return out


def path_for(docs: Path, page: str) -> Path:
    """Where the blocks of the page whose Markdown is `page` (relative to docs) live."""
    return docs / FOLDER / PurePosixPath(page).with_suffix(".json")


def dump(blocks: list[str]) -> str:
    return json.dumps(blocks, ensure_ascii=False, separators=(",", ":")) + "\n"


def load(docs: Path, page: str) -> list[str] | None:
    """The blocks of a page, or None if it has none."""
    path = path_for(docs, page)
    if not path.is_file():
        return None
    blocks = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
        raise BlockError(f"{path}: expected a JSON list of HTML strings")
    return blocks


def assembled(docs: Path, page: str) -> str:
    """A generated page's Markdown with its blocks back in (what the site shows, before
    mkdocs)."""
    text = (docs / page).read_text(encoding="utf-8")
    blocks = load(docs, page)
    return text if blocks is None else fill(text, blocks, page)
