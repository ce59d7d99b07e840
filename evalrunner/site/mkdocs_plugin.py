"""The `densitometer-blocks` mkdocs plugin: puts the generator's HTML blocks back into pages.

Registered as an entry point (pyproject.toml) and listed in mkdocs.yml, so a plain
`mkdocs build` of a generated docs folder gives the same site as `densitometer build`.
See blocks.py for why the blocks are kept out of the Markdown.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from . import blocks


class BlocksPlugin(BasePlugin):
    def on_post_page(self, output: str, page, config, **kwargs) -> str:  # noqa: ANN001
        docs = Path(config["docs_dir"])
        try:
            found = blocks.load(docs, page.file.src_uri)
            return output if found is None else blocks.fill(output, found, page.file.src_uri)
        except (blocks.BlockError, ValueError) as exc:
            raise PluginError(f"densitometer-blocks: {exc}") from exc
