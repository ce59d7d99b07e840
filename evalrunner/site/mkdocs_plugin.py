"""The `densitometer-blocks` mkdocs plugin: puts the generator's HTML blocks back into pages,
and keeps what every page downloads at start from growing with the number of models.

Registered as an entry point (pyproject.toml) and listed in mkdocs.yml after `search`, so a
plain `mkdocs build` of a generated docs folder gives the same site as `densitometer build`.
- Blocks: see blocks.py for why tables and charts are kept out of the Markdown.
- Sitemap: Material's instant navigation fetches sitemap.xml on every first page load; the model
  pages (one per model) move to sitemap-models.xml, which robots.txt names for crawlers (links
  to a model page are then ordinary page loads).
- Search index: Material's search loads it on every first page load; a family page is indexed
  by its title and lead only, not by its section headings (the same on every family page).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from evalrunner.results.write import atomic_write_bytes, atomic_write_text

from . import blocks

_URL = re.compile(r"\s*<url>.*?</url>", re.S)
_MODEL_PAGE = re.compile(r"<loc>[^<]*/models/[^/<]+/</loc>")
_FAMILY_SECTION = re.compile(r"^families/[^/]+/#")


def split_sitemap(text: str) -> tuple[str, str]:
    """(sitemap without model pages, a sitemap of the model pages), both complete documents."""
    opening = re.match(r".*?<urlset[^>]*>", text, re.S)
    if opening is None:
        raise PluginError("densitometer-blocks: sitemap.xml has no <urlset>")
    urls = _URL.findall(text)

    def doc(chosen: list[str]) -> str:
        return f"{opening.group(0)}{''.join(chosen)}\n</urlset>\n"

    return (doc([u for u in urls if not _MODEL_PAGE.search(u)]),
            doc([u for u in urls if _MODEL_PAGE.search(u)]))


def trim_search_index(doc: dict) -> dict:
    """The index without the section entries of family pages."""
    return {**doc, "docs": [d for d in doc.get("docs", [])
                            if not _FAMILY_SECTION.match(str(d.get("location", "")))]}


class BlocksPlugin(BasePlugin):
    def on_post_page(self, output: str, page, config, **kwargs) -> str:  # noqa: ANN001
        docs = Path(config["docs_dir"])
        try:
            found = blocks.load(docs, page.file.src_uri)
            return output if found is None else blocks.fill(output, found, page.file.src_uri)
        except ValueError as exc:  # a BlockError, or a blocks file that is not JSON
            raise PluginError(f"densitometer-blocks: {exc}") from exc

    def on_post_build(self, config, **kwargs) -> None:  # noqa: ANN001
        site = Path(config["site_dir"])
        sitemap = site / "sitemap.xml"
        if sitemap.is_file():
            main, models = split_sitemap(sitemap.read_text(encoding="utf-8"))
            atomic_write_text(sitemap, main)
            atomic_write_bytes(site / "sitemap.xml.gz", gzip.compress(main.encode(), mtime=0))
            atomic_write_text(site / "sitemap-models.xml", models)
            base = (config.get("site_url") or "").rstrip("/")
            if base:
                atomic_write_text(site / "robots.txt", f"Sitemap: {base}/sitemap.xml\n"
                                  f"Sitemap: {base}/sitemap-models.xml\n")
        index = site / "search" / "search_index.json"
        if index.is_file():
            doc = trim_search_index(json.loads(index.read_text(encoding="utf-8")))
            atomic_write_text(index, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
