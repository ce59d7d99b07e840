"""Page generation: every page from a documented context object (one module per page kind).

`generate(data, results)` returns the pages and the other files (browser data, API, schemas),
each keyed by its path under docs_dir. Nothing is written here.
"""

from __future__ import annotations

from pathlib import Path

from ..api import api_files
from ..data import SiteData
from ..render import Page
from . import compare, home
from .changelog import changelog_page
from .density import density_page
from .families import family_pages
from .indexes import index_pages, models_json
from .methodology import methodology_page
from .models import model_pages
from .predictability import predictability_page
from .submit import schema_files, submit_page
from .tasks import task_pages


def generate(data: SiteData, results: Path) -> tuple[list[Page], dict[str, str]]:
    boards = home.boards(data)
    pages = home.pages(data, boards)
    pages += index_pages(data)
    pages += model_pages(data)
    pages += family_pages(data)
    pages += task_pages(data)
    pages += [density_page(data), predictability_page(data), compare.compare_page(),
              methodology_page(data), submit_page(), changelog_page(results),
              Page("api/index.md", "api.md.j2", None, "API")]
    files = {**home.client_files(data, boards), **compare.client_files(data),
             "data/models.json": models_json(data), **api_files(data, boards),
             **schema_files()}
    return pages, files
