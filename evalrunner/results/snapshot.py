"""The site build's validate + load, incremental: a rebuild checks only the result files that
changed since the last good build, and gives exactly what the full path gives.

After a full validate + load without errors, a snapshot is saved in the build's store: the
scores frame (Arrow IPC, never pickle: the file may be planted) and a JSON index with the code
version, the digest of every file, the parsed data of the registries (tasks, settings,
families, models) and each result's revision keys (for the duplicate check). The next build
reads and digests every file; when no registry changed, only new or changed results are
parsed, schema-checked and checked against the registries, the duplicate check runs over the
keys of all results, and the scores are the snapshot's rows minus deleted and changed files
plus the rows of the new ones. Anything found wrong, or anything odd about the snapshot, and
the full path runs instead, so every error report comes from the full code.

Unchanged results never become pydantic objects: `LazyResults` validates one from its bytes on
first access, after checking they are still the bytes this build checked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from . import cache as parse_cache
from . import layout
from .cache import digest, dumps, loads
from .load import (
    SCORE_COLUMNS,
    Frames,
    frames_from_tree,
    registry_frames,
    scores_frame,
    sort_scores,
)
from .read import MAX_BYTES
from .schema import Result
from .validate import (
    Report,
    Tree,
    ValidationFailed,
    add_document,
    check_data,
    check_result,
    discover,
    parse_file,
    revision_keys,
    validate_tree_parsed,
)

if TYPE_CHECKING:
    from evalrunner.memo import Memo

# More changed results than this and the full path (parallel parsing, parse cache) is faster.
MAX_CHANGED = 1000


class ChangedDuringBuild(RuntimeError):
    """A result file's bytes differ from the ones this build validated."""


@dataclass(frozen=True)
class Loaded:
    """A validated, loaded tree. `results`: rel -> Result (lazy on the incremental path)."""

    tree: Tree
    frames: Frames
    digests: dict[str, str]  # rel -> digest, every file (registries and results)
    results: Mapping[str, Result]
    incremental: bool
    validated: int  # result files validated with pydantic by this load


def load_tree(root: Path, memo: Memo | None = None) -> Loaded:
    """Validate and load the tree at root; raises ValidationFailed with the full report.

    With `memo` (the build's store, evalrunner.memo) the snapshot in it is used when it can
    be, and saved after every good load; None always takes the full path and saves nothing."""
    root = Path(root)
    if memo is not None and not memo.enabled:
        memo = None
    if memo is not None:
        loaded = _incremental(root, memo)
        if loaded is not None:
            return loaded
    return _full(root, memo)


# ---------------------------------------------------------------------------------------------
# Files of the snapshot


def _paths(memo: Memo) -> tuple[Path, Path]:
    """(index, scores) in the store; the index carries the code version it was written by."""
    assert memo.root is not None
    return memo.root / "snapshot.json", memo.root / "snapshot-scores.arrow"


@dataclass(frozen=True)
class _Index:
    registries: dict[str, tuple[str, Any]]  # rel -> (digest, parsed data)
    results: dict[str, tuple[str, list[tuple]]]  # rel -> (digest, revision keys)
    frame: str  # digest of the scores file
    rows: int


def _read_index(memo: Memo) -> _Index | None:
    """The index, or None when missing, unreadable, malformed or of other code."""
    path = _paths(memo)[0]
    try:
        stored = loads(path.read_bytes())
        if not isinstance(stored, dict) or stored.get("version") != memo.version.hex():
            return None
        registries = {str(r): (str(d), data) for r, (d, data) in stored["registries"].items()}
        results = {str(r): (str(d), [tuple(k) for k in keys])
                   for r, (d, keys) in stored["results"].items()}
        return _Index(registries, results, str(stored["frame"]), int(stored["rows"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _read_scores(memo: Memo, index: _Index) -> pd.DataFrame | None:
    """The snapshot's scores frame, or None unless it is exactly the one the index names."""
    import pyarrow as pa

    try:
        raw = _paths(memo)[1].read_bytes()
        if digest(raw) != index.frame:
            return None
        table = pa.ipc.open_file(pa.py_buffer(raw)).read_all()
        table.validate(full=True)
        if table.column_names != SCORE_COLUMNS or table.num_rows != index.rows:
            return None
        frame = table.cast(_plain_schema(table.schema)).to_pandas()
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException):
        return None
    if set(frame["path"].unique()) != index.results.keys():
        return None
    return frame


def _dictionary_strings(table: Any) -> Any:
    """String columns dictionary-encoded: a few distinct values each, so the file is 3x smaller
    and faster to write and read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [pc.dictionary_encode(c) if pa.types.is_large_string(c.type)
               or pa.types.is_string(c.type) else c for c in table.columns]
    schema = pa.schema([pa.field(f.name, c.type) for f, c in zip(table.schema, columns,
                                                                  strict=True)],
                       metadata=table.schema.metadata)  # pandas' dtypes, for to_pandas
    return pa.Table.from_arrays(columns, schema=schema)


def _plain_schema(schema: Any) -> Any:
    """The schema with dictionary columns back to their values (_dictionary_strings undone)."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type)
                               else f.type) for f in schema], metadata=schema.metadata)


def _save(memo: Memo, registries: dict[str, tuple[str, Any]],
          results: dict[str, tuple[str, list[tuple]]], scores: pd.DataFrame) -> None:
    """Write the scores, then the index: the index names the scores by digest, so a crash
    between the two writes (or another build's write) is noticed, not trusted."""
    import pyarrow as pa

    from .write import atomic_write_bytes, atomic_write_text

    index_path, scores_path = _paths(memo)
    sink = pa.BufferOutputStream()
    table = _dictionary_strings(pa.Table.from_pandas(scores, preserve_index=False))
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    raw = sink.getvalue().to_pybytes()
    atomic_write_bytes(scores_path, raw, durable=False)  # a torn file fails its digest
    # key order kept: dict fields of the registries (metric_per_task...) stay in file order
    atomic_write_text(index_path, dumps({
        "version": memo.version.hex(), "frame": digest(raw), "rows": len(scores),
        "registries": registries, "results": results}, sort_keys=False))


# ---------------------------------------------------------------------------------------------
# The full path


def _full(root: Path, memo: Memo | None) -> Loaded:
    report, data = validate_tree_parsed(root, memo=memo)
    if not report.ok:
        raise ValidationFailed(report)
    frames = frames_from_tree(report.tree)
    remember(memo, report, data, frames)
    results = dict(report.tree.results)
    return Loaded(report.tree, frames, report.digests, results, False, len(results))


def remember(memo: Memo | None, report: Report, data: Mapping[str, Any],
             frames: Frames) -> None:
    """Save the snapshot of a good full load (validate_tree_parsed's report and parsed data)
    for the next build's incremental path; nothing without a cache or unless every file was
    read."""
    if memo is None or not memo.enabled or len(report.digests) != report.files:
        return
    results = dict(report.tree.results)
    registries = {rel: (d, data[rel]) for rel, d in report.digests.items() if rel not in results}
    facts = {rel: (report.digests[rel], revision_keys(r)) for rel, r in results.items()}
    _save(memo, registries, facts, frames.scores)


# ---------------------------------------------------------------------------------------------
# The incremental path: None whenever the full path must decide


def _incremental(root: Path, memo: Memo) -> Loaded | None:
    index = _read_index(memo)
    if index is None or not index.results:
        return None
    files = _read_tree(root)
    if files is None:
        return None
    prefix = root.as_posix().rstrip("/") + "/"
    digests = {rel: f.digest for rel, f in files.items()}
    registry_rels = [rel for rel, f in files.items() if f.kind != "result"]
    result_rels = [rel for rel, f in files.items() if f.kind == "result"]
    if ({rel: digests[rel] for rel in registry_rels}
            != {rel: d for rel, (d, _) in index.registries.items()}):
        return None  # a registry changed: every result may read differently
    tree = _registries(root, prefix, registry_rels, index)
    if tree is None:
        return None
    fresh = [rel for rel in result_rels if index.results.get(rel, ("",))[0] != digests[rel]]
    if len(fresh) > MAX_CHANGED:
        return None
    new = _check_fresh(root, prefix, tree, {rel: files[rel].raw for rel in fresh})
    if new is None or _has_duplicates(index, result_rels, new):
        return None
    gone = index.results.keys() - (set(result_rels) - set(fresh))
    scores = _merge(memo, index, gone, new)
    if scores is None:
        return None
    memo.hold(parse_cache.KIND)  # unchanged files' entries stay current, unread
    results = LazyResults(root, {rel: digests[rel] for rel in result_rels}, new, memo)
    tree.results = _ResultPairs(results)  # type: ignore[assignment]
    if new or gone:
        facts = {rel: index.results[rel] for rel in result_rels if rel not in new}
        facts.update({rel: (digests[rel], revision_keys(r)) for rel, r in new.items()})
        _save(memo, index.registries, facts, scores)
    return Loaded(tree, registry_frames(tree, scores), digests, results, True, len(new))


class _File(NamedTuple):
    kind: str  # as layout.kind_of
    digest: str
    raw: bytes


def _read_tree(root: Path) -> dict[str, _File] | None:
    """Every file by rel, in discover order; None if any is odd (a name, a place, a symlink,
    a size): the full path says what."""
    if not root.is_dir():
        return None
    rels, problems = discover(root)
    if problems:
        return None
    base = os.fspath(root)
    out = {}
    for rel in rels:
        kind = layout.kind_of(rel)
        name = rel.as_posix()
        raw = _read_plain(os.path.join(base, name)) if kind is not None else None
        if kind is None or raw is None:
            return None
        out[name] = _File(kind, digest(raw), raw)
    return out


def _read_plain(path: str | Path) -> bytes | None:
    """A regular file's bytes within the size limit, or None. Stricter than read.read_bytes
    (which the full path uses to say what is wrong), with one stat instead of three."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return None
        raw = _read_to_end(fd, st.st_size + 1, MAX_BYTES + 1)
    finally:
        os.close(fd)
    return raw if len(raw) <= MAX_BYTES else None


def _read_to_end(fd: int, size: int, limit: int) -> bytes:
    """At most `limit` bytes up to the end of the file, read `size` bytes at a time: sized to
    the file, not the limit (a buffer of the limit per read made reading 11k files 5x
    slower)."""
    parts, total = [], 0
    while total < limit:
        chunk = os.read(fd, min(size, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _registries(root: Path, prefix: str, rels: list[str], index: _Index) -> Tree | None:
    """The tree's registries from the snapshot's parsed data (same bytes: same digest)."""
    tree = Tree(root)
    for rel in rels:
        obj, problems = check_data(root, PurePosixPath(rel), prefix + rel,
                                   index.registries[rel][1])
        if obj is None or problems or add_document(tree, rel, obj, prefix + rel):
            return None
    return tree


def _check_fresh(root: Path, prefix: str, tree: Tree,
                 fresh: dict[str, bytes]) -> dict[str, Result] | None:
    """New and changed results, parsed and checked as the full path does; None on a problem."""
    out = {}
    for rel, raw in fresh.items():
        path, shown = PurePosixPath(rel), prefix + rel
        data, problems = parse_file(root, path, shown, raw)
        if data is None or problems:
            return None
        obj, problems = check_data(root, path, shown, data)
        if obj is None or problems or check_result(tree, shown, rel, obj):
            return None
        out[rel] = obj
    return out


def _has_duplicates(index: _Index, rels: list[str], new: dict[str, Result]) -> bool:
    """cross_check's duplicate-revision rule over every result's keys."""
    seen: dict[tuple, str] = {}
    for rel in rels:
        keys = revision_keys(new[rel]) if rel in new else index.results[rel][1]
        for key in keys:
            if seen.setdefault(key, rel) != rel:
                return True
    return False


def _merge(memo: Memo, index: _Index, gone: set[str],
           new: dict[str, Result]) -> pd.DataFrame | None:
    """The snapshot's score rows without `gone` files, with the rows of `new` ones."""
    scores = _read_scores(memo, index)
    if scores is None:
        return None
    if gone:
        scores = scores[~scores["path"].isin(gone)]
    if not new:
        return scores.reset_index(drop=True)
    added = scores_frame(new.items())
    if list(added.dtypes) != list(scores.dtypes):
        return None
    return sort_scores(pd.concat([scores, added], ignore_index=True))


# ---------------------------------------------------------------------------------------------
# Results on demand


class LazyResults(Mapping[str, Result]):
    """rel -> Result for every result file of the tree, validated on first access from the
    file's bytes (or its parse entry in the store), which must still have this build's
    digest."""

    def __init__(self, root: Path, digests: dict[str, str], ready: Mapping[str, Result],
                 memo: Memo | None = None):
        self._root, self._digests, self._memo = root, digests, memo
        self._ready: dict[str, Result] = dict(ready)
        self.loads = 0  # results validated on access (tests, benchmarks)

    def __getitem__(self, rel: str) -> Result:
        found = self._ready.get(rel)
        if found is None:
            if rel not in self._digests:
                raise KeyError(rel)
            found = self._ready[rel] = self._load(rel)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def __contains__(self, rel: object) -> bool:
        return rel in self._digests

    def _load(self, rel: str) -> Result:
        raw = _read_plain(self._root / rel)
        key = self._digests[rel]
        if raw is None or digest(raw) != key:
            raise ChangedDuringBuild(f"{self._root / rel}: changed while the site was being "
                                     "built; build again")
        self.loads += 1
        data = parse_cache.cached(self._memo, key)
        if data is None:
            data, problems = parse_file(self._root, PurePosixPath(rel), rel, raw)
            if data is None:  # validated bytes parse, unless the code changed under us
                raise ChangedDuringBuild(f"{self._root / rel}: {problems[0].message}")
        return Result.model_validate(data)


class _ResultPairs(Sequence[tuple[str, Result]]):
    """Tree.results, (rel, Result) in discover order, over LazyResults."""

    def __init__(self, results: LazyResults):
        self._results = results
        self._rels = list(results)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [(rel, self._results[rel]) for rel in self._rels[i]]
        return self._rels[i], self._results[self._rels[i]]

    def __len__(self) -> int:
        return len(self._rels)


__all__ = ["ChangedDuringBuild", "LazyResults", "Loaded", "load_tree", "MAX_CHANGED"]
