"""`mkdocs build --strict` through the Python API, incremental when nothing global changed.

A rebuild after one new result file changes a few pages of a thousand, but a clean mkdocs build
renders all of them. So the site dir keeps a state file (STATE): a fingerprint of everything
every page depends on (the config, the theme, the code version of the build's store: the
package, the site sources and every installed library's version, the nav) and the size and
mtime of every docs file at the last successful build. When the fingerprint matches, mkdocs
builds with `dirty=True` (it renders only the pages whose source is newer than their output and
copies only newer static files); before that, the outputs of every docs file that changed,
appeared or vanished since the last build are deleted, so a source whose mtime went backwards
or a page whose blocks JSON changed is rebuilt too, and a vanished source leaves nothing
behind. The densitometer-blocks plugin merges the search index (mkdocs_plugin.py). Anything
else -> a clean build. The result is byte-identical to a clean build of the same docs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalrunner.memo import code_version
from evalrunner.results.write import atomic_write_text

from . import blocks
from .errors import MkdocsFailed

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from .build import BuildOptions

# Hidden, so mkdocs' clean_directory leaves it alone; it holds a digest and the relative paths,
# sizes and mtimes of docs files (no absolute path), so it is harmless to publish.
STATE = ".densitometer-build.json"
PLUGIN = "densitometer-blocks"
SEARCH_INDEX = "search/search_index.json"  # in site_dir, written by the search plugin
COPYRIGHT = "Built by densitometer"  # static: a stamp here would change every page on every build
_DIRTY_WARNING = "A 'dirty' build is being performed"

log = logging.getLogger(__name__)
Snapshot = dict[str, list[int]]  # docs file (src_uri) -> [mtime_ns, size]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


class _DropDirtyWarning(logging.Filter):
    """mkdocs warns on every dirty build that navigation may be stale, and strict mode counts
    that warning as a failure. Our dirty builds are safe (a clean build whenever the nav or
    anything global changes, stale outputs deleted first), so exactly that record is dropped;
    a logger filter stops it before it reaches the handlers, and any other warning still fails."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_DIRTY_WARNING)


def docs_snapshot(docs: Path) -> Snapshot:
    """[mtime_ns, size] of every file under docs, by its path relative to docs (as mkdocs walks:
    symlinks followed)."""
    out: Snapshot = {}
    for folder, _, names in os.walk(docs, followlinks=True):
        rel = Path(folder).relative_to(docs).as_posix()
        for name in names:
            stat = os.stat(os.path.join(folder, name))
            out[name if rel == "." else f"{rel}/{name}"] = [stat.st_mtime_ns, stat.st_size]
    return out


def _nav_entries(nav: Any) -> Iterator[tuple[str | None, str]]:
    """(title or None, page or URL) of every nav item, depth first."""
    for item in nav if isinstance(nav, list) else [nav]:
        if isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    yield title, value
                else:
                    yield from _nav_entries(value)
        else:
            yield None, str(item)


def _nav_state(config: MkDocsConfig, snapshot: Snapshot) -> list:
    """What the nav shown on every page depends on besides mkdocs.yml: the state of the pages
    whose nav title comes from their own content (without a nav: every page, titles included)."""
    if config.nav is None:
        return sorted((src, st) for src, st in snapshot.items() if src.endswith(".md"))
    return [(page, snapshot.get(page)) for title, page in _nav_entries(config.nav)
            if title is None]


def _hash_tree(digest: Any, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())


def fingerprint(config: MkDocsConfig, config_file: Path, overrides: dict[str, Any],
                snapshot: Snapshot, code: bytes) -> str:
    """A digest of everything that affects every page; a different one means a clean build."""
    from mkdocs.utils import yaml_load

    text = config_file.read_bytes()
    digest = hashlib.sha256(text)
    digest.update(json.dumps({
        "config": yaml_load(text),  # with !ENV values (SITE_URL) and INHERIT resolved
        "overrides": overrides,
        # the store's code version: the package (plugin included), the site sources and
        # every library's version (mkdocs, the theme...)
        "code": code.hex(),
        "nav": _nav_state(config, snapshot),
    }, sort_keys=True, default=str).encode())
    if config.theme.custom_dir:
        _hash_tree(digest, Path(config.theme.custom_dir))
    return digest.hexdigest()


def read_state(site: Path) -> dict[str, Any] | None:
    """The state of the last successful build, or None (unreadable counts as none)."""
    try:
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(state, dict) and isinstance(state.get("docs"), dict)
    return state if ok else None


def write_state(site: Path, digest: str, snapshot: Snapshot) -> None:
    atomic_write_text(site / STATE, json.dumps({"fingerprint": digest, "docs": snapshot},
                                               sort_keys=True, separators=(",", ":")))


def changed_sources(before: Snapshot, now: Snapshot) -> set[str]:
    """Docs files that appeared, vanished or changed size or mtime (either way) since."""
    return {src for src in before.keys() | now.keys() if before.get(src) != now.get(src)}


def output_of(src: str, config: MkDocsConfig) -> Path:
    """The site file built from a docs file; a page's blocks JSON builds the page's HTML."""
    from mkdocs.structure.files import File

    prefix = f"{blocks.FOLDER}/"
    if src.startswith(prefix) and src.endswith(".json"):
        src = src.removeprefix(prefix).removesuffix(".json") + ".md"
    return Path(File(src, config.docs_dir, config.site_dir, config.use_directory_urls)
                .abs_dest_path)


def remove_outputs(sources: Iterable[str], config: MkDocsConfig) -> int:
    """Delete the outputs of `sources` inside site_dir, and the folders that leaves empty; a
    dirty build then rebuilds those still generated (it builds every missing output)."""
    site = Path(config.site_dir).resolve()
    removed = 0
    for src in sources:
        path = output_of(src, config).resolve()
        if site not in path.parents or path == site / STATE or not path.is_file():
            continue
        path.unlink()
        removed += 1
        for folder in path.parents:
            if folder == site or any(folder.iterdir()):
                break
            folder.rmdir()
    return removed


def _can_be_dirty(config: MkDocsConfig, state: dict[str, Any] | None, digest: str) -> bool:
    """Dirty only on top of a complete build with the same fingerprint, with our plugin (it
    merges the search index) and, with a search plugin, the previous search index to merge."""
    searched = any(name.rpartition("/")[2] == "search" for name in config.plugins)
    return (state is not None and state.get("fingerprint") == digest
            and config.plugins.get(PLUGIN) is not None
            and (not searched or (Path(config.site_dir) / SEARCH_INDEX).is_file()))


@contextlib.contextmanager
def _dirty_warning_dropped() -> Iterator[None]:
    logger, drop = logging.getLogger("mkdocs.commands.build"), _DropDirtyWarning()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def build_incrementally(config: MkDocsConfig, config_file: Path,
                        overrides: dict[str, Any], code: bytes, reuse: bool = True) -> bool:
    """Build the site, dirty when safe (and `reuse`); True if it was a dirty build."""
    from mkdocs.commands.build import build

    site = Path(config.site_dir)
    snapshot = docs_snapshot(Path(config.docs_dir))
    digest = fingerprint(config, config_file, overrides, snapshot, code)
    state = read_state(site)
    dirty = reuse and _can_be_dirty(config, state, digest)
    (site / STATE).unlink(missing_ok=True)  # an interrupted build must not pass as complete
    if dirty:
        assert state is not None
        removed = remove_outputs(changed_sources(state["docs"], snapshot), config)
        config.plugins[PLUGIN].dirty = True
        log.info("incremental mkdocs build: %d stale outputs removed", removed)
    with _dirty_warning_dropped():
        build(config, dirty=dirty)
    if reuse:  # a from-scratch build (CI, the published site) leaves no state to publish
        write_state(site, digest, snapshot)
    return dirty


def mkdocs_overrides(opts: BuildOptions) -> dict[str, Any]:
    overrides: dict[str, Any] = {"docs_dir": str(opts.docs.resolve()),
                                 "site_dir": str(opts.out.resolve()),
                                 "strict": True, "copyright": COPYRIGHT}
    if opts.site_url:
        overrides["site_url"] = opts.site_url
    return overrides


def run_mkdocs(opts: BuildOptions, stamp: str | None = None) -> list[str]:
    """`mkdocs build --strict` through the Python API; raises MkdocsFailed on any warning.
    `stamp` is no longer shown by mkdocs (a static footer keeps unchanged pages unchanged);
    the parameter stays for callers."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    from .build import code_sources  # it runs this module

    overrides = mkdocs_overrides(opts)
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        config = load_config(config_file=str(opts.config), **overrides)
        code = code_version(tuple(p.resolve() for p in code_sources(opts)))
        build_incrementally(config, opts.config, overrides, code, reuse=opts.incremental)
    except (Abort, MkDocsException) as exc:
        shown = "\n".join(collect.messages[:30])
        raise MkdocsFailed(f"mkdocs build --strict failed: {exc}\n{shown}") from exc
    finally:
        logger.removeHandler(collect)
    return collect.messages
