"""`densitometer build`: load + validate -> metrics -> pages -> `mkdocs build --strict`.

The generator writes Markdown, data and static files into `docs` (mkdocs.yml's docs_dir,
build/docs by default, never committed), then mkdocs renders it into `out`. mkdocs runs through
its Python API with strict mode and without quiet, so every warning fails the build (SITE.md P10).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import MkdocsFailed, SiteError

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
    stamp: str | None = None  # the build stamp shown in the footer; default: now (UTC)
    metrics: bool = True
    samples: Path | None = None  # per-sample logs; default: <results>/../samples if it exists
    parse_cache: bool = True  # reuse parsed files whose bytes are unchanged (results/cache.py)
    jobs: int | None = None  # processes writing pages; default: the cores, for big sites only


@dataclass
class BuildReport:
    out: Path
    pages: int
    files: int
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def default_stamp() -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the current UTC minute."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch
            else dt.datetime.now(dt.UTC))
    return when.strftime("%Y-%m-%d %H:%M UTC")


def cache_path(opts: BuildOptions) -> Path | None:
    """The parse cache beside the results tree (<parent>/.cache/densitometer/), or None if off."""
    from evalrunner.results.cache import default_cache_path

    return default_cache_path(opts.results) if opts.parse_cache else None


def _fresh(docs: Path) -> None:
    """Empty the generated docs folder; refuse to wipe a folder the generator did not make."""
    if docs.exists():
        if any(docs.iterdir()) and not (docs / MARKER).exists():
            raise SiteError(f"{docs}: exists and was not made by `densitometer build`; "
                            "choose another --docs folder or remove it.")
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    (docs / MARKER).write_text("written by densitometer build; wiped on every build\n")


# Below this many scores the pages are written in this process: forking costs more than it saves.
PARALLEL_SCORES = 20_000
_JOB: tuple[list, Path, Path, str] | None = None  # (parts, templates, docs, stamp) for workers


def _write_part(index: int) -> tuple[int, int]:
    """Generate part `index` of _JOB and write its pages and files; (pages, files) written."""
    from .files import write_text
    from .render import environment, write_page

    assert _JOB is not None
    todo, templates, docs, stamp = _JOB
    pages, files = todo[index]()
    env = environment(templates)
    for page in pages:
        write_page(env, page, docs, stamp)
    for rel, text in sorted(files.items()):
        write_text(docs / rel, text)
    return len(pages), len(files)


def write_docs(data, opts: BuildOptions, stamp: str) -> tuple[int, int]:  # noqa: ANN001
    """Generate and write every page and data file into a fresh docs folder, in parallel
    processes on a big site (the parts are independent: pages.parts); (pages, files)."""
    global _JOB
    from .assets import copy_own, copy_vendor
    from .pages import parts

    jobs = opts.jobs or os.cpu_count() or 1
    if opts.jobs is None and len(data.frames.scores) < PARALLEL_SCORES:
        jobs = 1
    # more slices than processes, so the processes finish at about the same time
    todo = parts(data, opts.results, shards=1 if jobs == 1 else 2 * jobs)
    _fresh(opts.docs)
    _JOB = (todo, opts.src / "templates", opts.docs, stamp)
    try:
        if jobs == 1:
            counts = [_write_part(i) for i in range(len(todo))]
        else:  # fork: the workers share the loaded data instead of pickling it
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                counts = pool.map(_write_part, range(len(todo)), chunksize=1)
    finally:
        _JOB = None
    copy_own(opts.src, opts.docs)
    copy_vendor(opts.node_modules, opts.docs)
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def generate_docs(opts: BuildOptions) -> tuple[int, int, dict[str, float]]:
    """Load, compute and write the docs folder; returns (pages, files, stage seconds)."""
    from .assets import check_vendor
    from .data import load_site_data

    seconds: dict[str, float] = {}
    check_vendor(opts.node_modules)  # fail before the slow part
    t = time.perf_counter()
    data = load_site_data(opts.results, with_metrics=opts.metrics, samples=opts.samples,
                          cache=cache_path(opts))
    seconds["load+metrics"] = time.perf_counter() - t
    t = time.perf_counter()
    pages, files = write_docs(data, opts, opts.stamp or default_stamp())
    seconds["generate"] = time.perf_counter() - t
    return pages, files, seconds


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def run_mkdocs(opts: BuildOptions, stamp: str) -> list[str]:
    """`mkdocs build --strict` through the Python API; raises MkdocsFailed on any warning."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    overrides = {"docs_dir": str(opts.docs.resolve()), "site_dir": str(opts.out.resolve()),
                 "strict": True, "copyright": f"Built {stamp} by densitometer"}
    if opts.site_url:
        overrides["site_url"] = opts.site_url
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        config = load_config(config_file=str(opts.config), **overrides)
        build(config)
    except (Abort, MkDocsException) as exc:
        shown = "\n".join(collect.messages[:30])
        raise MkdocsFailed(f"mkdocs build --strict failed: {exc}\n{shown}") from exc
    finally:
        logger.removeHandler(collect)
    return collect.messages


def build_site(opts: BuildOptions) -> BuildReport:
    stamp = opts.stamp or default_stamp()
    opts = BuildOptions(**{**opts.__dict__, "stamp": stamp})
    pages, files, seconds = generate_docs(opts)
    t = time.perf_counter()
    warnings = run_mkdocs(opts, stamp)
    seconds["mkdocs"] = time.perf_counter() - t
    return BuildReport(opts.out, pages, files, seconds, warnings)
