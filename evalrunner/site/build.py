"""`densitometer build`: load + validate -> metrics -> pages -> `mkdocs build --strict`.

The generator writes Markdown, data and static files into `docs` (mkdocs.yml's docs_dir,
build/docs by default, never committed), then mkdocs renders it into `out`. mkdocs runs through
its Python API with strict mode and without quiet, so every warning fails the build
(quiet would hide the warnings strict mode counts).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SiteError
from .mkdocs_build import run_mkdocs

if TYPE_CHECKING:
    from evalrunner.memo import Memo

MARKER = ".densitometer-generated"  # a docs folder the generator owns (safe to wipe)


@dataclass(frozen=True)
class BuildOptions:
    """Every path is a parameter; the defaults are relative to the repository root."""

    results: Path = Path("results")
    out: Path = Path("site")
    docs: Path = Path("build/docs")
    src: Path = Path("site_src")
    config: Path = Path("mkdocs.yml")
    node_modules: Path = Path("node_modules")
    site_url: str | None = None  # default: mkdocs.yml (SITE_URL env, else the public URL)
    stamp: str | None = None  # the build stamp shown on the home page; default: now (UTC)
    metrics: bool = True
    samples: Path | None = None  # per-sample logs; default: <results>/../samples if it exists
    # reuse the last build's work through the store (evalrunner.memo): parsed files, checked
    # groups of results (groups.py), reference fits; unchanged pages (pagecache.py) and unchanged
    # HTML (mkdocs_build.py); False builds everything from scratch
    incremental: bool = True
    jobs: int | None = None  # processes writing pages; default: the cores, for big sites only


@dataclass
class BuildReport:
    out: Path
    pages: int
    files: int
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


STAMP_FORMAT = "%Y-%m-%d %H:%M UTC"  # the stamp's form; eee.py reads the day back from it


def default_stamp() -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the current UTC minute."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch
            else dt.datetime.now(dt.UTC))
    return when.strftime(STAMP_FORMAT)


def code_sources(opts: BuildOptions) -> list[Path]:
    """What the site's code version covers besides the package: the site sources and the
    browser libraries in use."""
    from .assets import VENDOR

    return [opts.src, *(opts.node_modules / p / "package.json" for p in VENDOR)]


def open_memo(opts: BuildOptions) -> Memo:
    """The store beside the results tree (<parent>/.cache/densitometer/), or one that keeps
    nothing when the build reuses nothing; its code version covers code_sources."""
    from evalrunner.memo import Memo, default_root

    return Memo(default_root(opts.results) if opts.incremental else None, code_sources(opts))


def _claim(docs: Path) -> None:
    """Make the docs folder, or check that an existing one is the generator's: it deletes what
    it did not write there, so it refuses a folder it did not make."""
    if docs.exists() and any(docs.iterdir()) and not (docs / MARKER).exists():
        raise SiteError(f"{docs}: exists and was not made by `densitometer build`; "
                        "choose another --docs folder or remove it.")
    docs.mkdir(parents=True, exist_ok=True)


# Below this many scores the pages are made in this process: forking costs more than it saves.
PARALLEL_SCORES = 20_000
# (parts, templates, stamp, docs, store, unit -> entry key, units to generate) for the workers
_JOB: tuple[list, Path, str, Path, Memo, dict[str, str], set[str]] | None = None


def _write_part(index: int) -> list[str]:
    """Make part `index` of _JOB (its pages rendered, its other files), write its files where
    they changed and keep the units it generated in the store; the paths it made. The workers
    write, so the files never travel between processes."""
    from . import pagecache
    from .files import write_files
    from .render import environment, page_files

    assert _JOB is not None
    todo, templates, stamp, docs, memo, keys, stale = _JOB
    pages, files = todo[index]()
    env = environment(templates)
    out: dict[str, str | bytes] = {}
    for page in pages:
        out.update(page_files(env, page, stamp))
    out.update(files)
    write_files(docs, out)
    made = {pagecache.unit_of(rel) for rel in out} & stale
    pagecache.store(memo, keys, made, out)  # type: ignore[arg-type]
    return list(out)


def write_docs(data, opts: BuildOptions, stamp: str,  # noqa: ANN001
               memo: Memo | None = None) -> tuple[int, int]:
    """Generate every page and data file and make the docs folder hold exactly them. The parts
    (pages.parts) run in parallel processes on a big site; model, family and task units whose
    inputs are unchanged come from the store (pagecache.py). `memo`: the build's store
    (default: open_memo). Returns the pages and the other files (data, downloads, assets)."""
    global _JOB
    from . import blocks, pagecache
    from .assets import own_files, vendor_files
    from .files import delete_others, write_files
    from .pages import parts

    _claim(opts.docs)
    memo = memo if memo is not None else open_memo(opts)
    templates = opts.src / "templates"
    keys, kept, stale = pagecache.plan(data, memo)
    jobs = opts.jobs or os.cpu_count() or 1
    if opts.jobs is None and len(data.frames.scores) < PARALLEL_SCORES:
        jobs = 1
    # more slices than processes, so the processes finish at about the same time
    todo = parts(data, opts.results, shards=1 if jobs == 1 else 2 * jobs, units=stale,
                 memo=memo, stamp=stamp)
    regenerated = {f"{kind}/{i}" for kind, ids in stale.items() for i in ids}
    _JOB = (todo, templates, stamp, opts.docs, memo, keys, regenerated)
    try:
        if jobs == 1:
            made = [_write_part(i) for i in range(len(todo))]
        else:  # fork: the workers share the loaded data instead of pickling it
            # frozen, the collector leaves the loaded objects alone: they stay shared (no
            # copy-on-write of every page they sit on) and a collection does not walk them
            gc.freeze()
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                made = pool.map(_write_part, range(len(todo)), chunksize=1)
    finally:
        _JOB = None
        gc.unfreeze()
    held = {rel for part in made for rel in part}
    # a unit that made no file is kept as such
    pagecache.store(memo, keys, regenerated - {pagecache.unit_of(rel) for rel in held}, {})
    files: dict[str, str | bytes] = {rel: body for unit in kept.values()
                                     for rel, body in unit.items()}
    files.update(own_files(opts.src))
    files.update(vendor_files(opts.node_modules))
    files[MARKER] = ("written by densitometer build, which deletes every other file it did "
                     "not write\n")
    write_files(opts.docs, files)
    held.update(files)
    delete_others(opts.docs, held)
    prefix = f"{blocks.FOLDER}/"
    pages = sum(rel.endswith(".md") and not rel.startswith(prefix) for rel in held)
    return pages, sum(not rel.startswith(prefix) for rel in held) - pages - 1  # the marker


def generate_docs(opts: BuildOptions) -> tuple[int, int, dict[str, float]]:
    """Load, compute and write the docs folder; returns (pages, files, stage seconds)."""
    from .assets import check_vendor
    from .data import load_site_data

    seconds: dict[str, float] = {}
    check_vendor(opts.node_modules)  # fail before the slow part
    t = time.perf_counter()
    memo = open_memo(opts)
    data = load_site_data(opts.results, with_metrics=opts.metrics, samples=opts.samples,
                          memo=memo)
    seconds["load+metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    pages, files = write_docs(data, opts, opts.stamp or default_stamp(), memo)
    memo.sweep()
    seconds["generate"] = time.perf_counter() - t
    return pages, files, seconds


def build_site(opts: BuildOptions) -> BuildReport:
    stamp = opts.stamp or default_stamp()
    opts = BuildOptions(**{**opts.__dict__, "stamp": stamp})
    pages, files, seconds = generate_docs(opts)
    t = time.perf_counter()
    warnings = run_mkdocs(opts, stamp)
    seconds["mkdocs"] = time.perf_counter() - t
    return BuildReport(opts.out, pages, files, seconds, warnings)
