"""Page generation: every page from a documented context object (one module per page kind).

`parts(data, results, shards)` cuts the work into independent pieces, each returning its pages
and its other files (browser data, API, schemas) keyed by path under docs_dir; nothing is written
here. The build (build.write_docs) runs the pieces, in parallel processes on a big site.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..api import api_files
from ..boarddata import with_head
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

Output = tuple[list[Page], dict[str, str]]


def _boards(data: SiteData, results: Path) -> Output:
    """The leaderboards and the small pages."""
    boards = home.boards(data)
    pages = home.pages(data, boards)
    pages += index_pages(data)
    pages += [density_page(data), predictability_page(data), compare.compare_page(),
              methodology_page(data), submit_page(), changelog_page(results),
              Page("api/index.md", "api.md.j2", None, "API")]
    files = {**home.client_files(data, boards),
             **with_head("data/models.json", models_json(data)), **schema_files()}
    return pages, files


def _api(data: SiteData, results: Path) -> Output:
    """The API files (most of it the big results.csv); the boards again (a fraction of a
    second) so the parts stay independent."""
    return [], api_files(data, home.boards(data))


def _compare_data(data: SiteData, results: Path) -> Output:
    return [], compare.client_files(data)


def _task_pages(data: SiteData, results: Path) -> Output:
    return task_pages(data), {}


def _only_pages(make: Callable[..., list[Page]], data: SiteData,
                shard: tuple[int, int]) -> Output:
    return make(data, shard), {}


def parts(data: SiteData, results: Path, shards: int = 1) -> list[Callable[[], Output]]:
    """The generator cut into independent parts with disjoint pages and files, biggest first:
    the API, the leaderboards and small pages, the compare data, the task pages, then the model
    and family pages in `shards` slices each."""
    out: list[Callable[[], Output]] = [partial(make, data, results) for make in (
        _api, _boards, _compare_data, _task_pages)]
    for k in range(shards):
        out += [partial(_only_pages, model_pages, data, (k, shards)),
                partial(_only_pages, family_pages, data, (k, shards))]
    return out

