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
- Dirty builds (mkdocs_build.py sets `dirty` on this plugin): mkdocs renders only the changed
  pages and the search plugin indexes only those, so the index is merged with the previous one
  (read before the search plugin overwrites it) into the index a clean build would write.
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
from .mkdocs_build import SEARCH_INDEX

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


def _by_page(entries: list[dict]) -> dict[str, list[dict]]:
    """Search entries by the url of their page (a location is the page url, then '#anchor')."""
    out: dict[str, list[dict]] = {}
    for entry in entries:
        out.setdefault(str(entry.get("location", "")).partition("#")[0], []).append(entry)
    return out


def merge_search_index(fresh: dict, old: dict, pages: list[str], rebuilt: set[str]) -> dict:
    """The index of a clean build from a dirty one: for each page url in build order, its fresh
    entries if it was rebuilt, else its entries in the old index; pages gone are dropped."""
    new_entries, old_entries = _by_page(fresh.get("docs", [])), _by_page(old.get("docs", []))
    return {**fresh, "docs": [entry for url in pages for entry in
                              (new_entries if url in rebuilt else old_entries).get(url, [])]}


def trim_search_index(doc: dict) -> dict:
    """The index without the section entries of family pages."""
    return {**doc, "docs": [d for d in doc.get("docs", [])
                            if not _FAMILY_SECTION.match(str(d.get("location", "")))]}


class BlocksPlugin(BasePlugin):
    def __init__(self) -> None:
        super().__init__()
        self.dirty = False  # set by mkdocs_build.py before a dirty build
        self._old_index: dict | None = None  # the previous search index, on a dirty build
        self._pages: list[str] = []  # urls of the documentation pages, in build order
        self._rebuilt: set[str] = set()  # urls of the pages rendered by this build

    def on_pre_build(self, config, **kwargs) -> None:  # noqa: ANN001
        # before the search plugin's on_post_build overwrites it
        path = Path(config["site_dir"]) / SEARCH_INDEX
        self._old_index = (json.loads(path.read_text(encoding="utf-8"))
                           if self.dirty and path.is_file() else None)
        self._rebuilt = set()

    def on_nav(self, nav, config, files, **kwargs):  # noqa: ANN001, ANN201
        # as Page.url (not every page has its Page yet): the home page's url is ''
        self._pages = ["" if f.url in (".", "./") else f.url for f in files.documentation_pages()]
        return nav

    def on_page_context(self, context, page, config, nav, **kwargs):  # noqa: ANN001, ANN201
        self._rebuilt.add(page.url)  # called only for the pages a dirty build renders
        return context

    def on_post_page(self, output: str, page, config, **kwargs) -> str:  # noqa: ANN001
        src = page.file.src_uri
        try:
            found = blocks.load(Path(config["docs_dir"]), src)
            return output if found is None else blocks.fill(output, found, src)
        except ValueError as exc:  # a BlockError, or a blocks file that is not JSON
            raise PluginError(f"densitometer-blocks: {src}: {exc}") from exc

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
        index = site / SEARCH_INDEX
        if index.is_file():
            doc = json.loads(index.read_text(encoding="utf-8"))
            if self._old_index is not None:
                doc = merge_search_index(doc, self._old_index, self._pages, self._rebuilt)
            doc = trim_search_index(doc)
            atomic_write_text(index, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
