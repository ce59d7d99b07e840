"""Page generation: every page from a documented context object (one module per page kind).

`parts(data, results, shards, units, ...)` cuts the work into independent pieces, each returning
its pages and its other files (browser data, API, schemas) keyed by path under docs_dir; nothing
is written here. The build (build.write_docs) runs the pieces, in parallel processes on a big
site, and asks only for the model, family and task units whose inputs changed (pagecache.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pagecache
from ..api import api_files
from ..boarddata import with_head
from ..data import SiteData
from ..render import Page
from . import compare, home
from .changelog import changelog_page
from .density import density_page
from .families import family_density, family_pages
from .indexes import index_pages, models_json
from .methodology import methodology_page
from .models import model_density, model_pages
from .predictability import predictability_page
from .submit import schema_files, submit_page
from .tasks import task_pages

if TYPE_CHECKING:
    from evalrunner.memo import Memo

Output = tuple[list[Page], dict[str, str | bytes]]  # files: text, or bytes as they are


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


def _api(data: SiteData, results: Path, memo: Memo | None) -> Output:
    """The API files (most of it the big results.csv, its runs kept in `memo`); the boards
    again (a fraction of a second) so the parts stay independent."""
    return [], api_files(data, home.boards(data), memo)


def _eee(data: SiteData, stamp: str, memo: Memo | None) -> Callable[[], Output]:
    """The part writing the Every Eval Ever archive (eee.py): a record per result file, kept
    in `memo` with the archive under the digest of its inputs (a dozen seconds saved on every
    rebuild of a day). The archive is looked up here, in the building process: on a hit the
    records are not read, and only this process can keep them from its sweep."""
    from ..eee import ARCHIVE, KIND, RECORD_KIND, archive, inputs_key

    if memo is None or not memo.enabled:
        return lambda: ([], {ARCHIVE: archive(data, stamp)})
    key = memo.key(KIND, inputs_key(data, stamp))
    kept = memo.read(KIND, key, "zip")
    if kept is not None:
        memo.hold(RECORD_KIND)  # the next change reads them again
        return lambda: ([], {ARCHIVE: kept})

    def make() -> Output:
        made = archive(data, stamp, memo)
        memo.write(KIND, key, made, "zip")
        return [], {ARCHIVE: made}
    return make


def _compare_index(data: SiteData, results: Path) -> Output:
    return [], compare.index_file(data)


def _models(data: SiteData, ids: list[str]) -> Output:
    """Model units (pagecache.py): the pages and the compare view's data of `ids`."""
    return (model_pages(pagecache.scoped(data, "models"), ids),
            compare.model_files(data, ids))


def _families(data: SiteData, ids: list[str]) -> Output:
    return family_pages(pagecache.scoped(data, "families"), ids), {}


def _tasks(data: SiteData, ids: list[str]) -> Output:
    return task_pages(pagecache.scoped(data, "tasks"), ids), {}


def _live(make: Callable, kind: str, data: SiteData, ids: list[str]) -> Output:
    """Live block units (live.py): what many pages show and moves without them."""
    return [], make(pagecache.scoped(data, kind), ids)


def _slices(ids: list[str], n: int) -> list[list[str]]:
    return [chunk for chunk in (ids[k::n] for k in range(n)) if chunk]


def parts(data: SiteData, results: Path, shards: int = 1,
          units: dict[str, list[str]] | None = None,
          memo: Memo | None = None,
          stamp: str = "1970-01-01 00:00 UTC") -> list[Callable[[], Output]]:
    """The generator cut into independent parts with disjoint pages and files, biggest first:
    the API, the leaderboards and small pages, the compare view's index, then the units of
    every kind (pagecache.UNIT_TABLES) in `shards` slices each: every one, or per kind the ids
    in `units`. `memo`: the build's store, for the API's big CSVs and the archive (None:
    reuse nothing); `stamp`: the build's, the Every Eval Ever records' creation time."""
    every = {kind: pagecache.unit_ids(data.frames, kind) for kind in pagecache.UNIT_TABLES}
    units = every if units is None else units
    out: list[Callable[[], Output]] = [partial(_api, data, results, memo),
                                       _eee(data, stamp, memo)]
    out += [partial(make, data, results) for make in (_boards, _compare_index)]
    makers = [("models", _models), ("families", _families), ("tasks", _tasks)]
    makers += [(kind, partial(_live, make, kind))
               for kind, make in (("model_density", model_density),
                                  ("family_density", family_density))]
    for kind, make in makers:
        out += [partial(make, data, ids) for ids in _slices(units.get(kind, []), shards)]
    return out
