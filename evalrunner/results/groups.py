"""The site build's validate + load through the build's store (evalrunner.memo): a rebuild
checks and loads only the result files whose group changed, and gives exactly what the full
validation gives.

A group is one model's result files (`<family>/<model>/...`). Its entry is named by the
digests of its files and of every registry file (and, as every entry, the code version), and
holds what checking those files alone concludes: they parse, pass the schema and every check
against the registries (validate.check_result), with their score rows and revision keys, as
Arrow IPC (never pickle). So an entry is a pure function of its name. What spans groups is
checked on every build: the registries against each other (cross_check) and that no two
results share a revision key. A cold build parses every file once (in parallel) and writes
every group; a rebuild after one new file parses and checks its model's files.

Any problem, or anything odd about a file, and the full validation (validate.validate_tree)
runs instead, so every report comes from one code path.

Unchanged results never become pydantic objects: `LazyResults` validates one from its bytes on
first access (a page of that model asks), after checking they are still the bytes this build
checked.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from . import layout
from .cache import digest
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
    Tree,
    ValidationFailed,
    add_document,
    check_data,
    check_result,
    cross_check,
    discover,
    parse_file,
    parse_files,
    revision_keys,
    validate_tree,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from evalrunner.memo import Memo

KIND = "group"
_KEYS = b"densitometer.revision_keys"  # Arrow schema metadata: rel -> revision keys


class ChangedDuringBuild(RuntimeError):
    """A result file's bytes differ from the ones this build validated."""


@dataclass(frozen=True)
class Loaded:
    """A validated, loaded tree. `results`: rel -> Result (lazy when loaded from the store)."""

    tree: Tree
    frames: Frames
    digests: dict[str, str]  # rel -> digest, every file (registries and results)
    results: Mapping[str, Result]
    incremental: bool  # through the store, without the full validation
    validated: int  # result files validated with pydantic by this load


def load_tree(root: Path, memo: Memo | None = None) -> Loaded:
    """Validate and load the tree at root; raises ValidationFailed with the full report.
    `memo`: the build's store; None (or a disabled one) always runs the full validation."""
    root = Path(root)
    if memo is not None and memo.enabled:
        loaded = _through_store(root, memo)
        if loaded is not None:
            return loaded
    report = validate_tree(root, memo=memo)
    if not report.ok:
        raise ValidationFailed(report)
    results = dict(report.tree.results)
    return Loaded(report.tree, frames_from_tree(report.tree), report.digests, results, False,
                  len(results))


# ---------------------------------------------------------------------------------------------
# Through the store: None whenever the full validation must decide


def _through_store(root: Path, memo: Memo) -> Loaded | None:
    files = _read_tree(root)
    if files is None:
        return None
    prefix = root.as_posix().rstrip("/") + "/"
    digests = {rel: digest(raw) for rel, raw in files.items()}
    kinds = {rel: layout.kind_of(PurePosixPath(rel)) for rel in files}
    registries = digest("\n".join(f"{rel}\0{d}" for rel, d in digests.items()
                                  if kinds[rel] != "result").encode())
    group_of = {rel: rel.rsplit("/", 2)[0] for rel in files if kinds[rel] == "result"}
    groups: dict[str, list[str]] = {}
    for rel, g in group_of.items():
        groups.setdefault(g, []).append(rel)
    keys = {g: memo.key(KIND, registries, *(f"{rel}\0{digests[rel]}" for rel in rels))
            for g, rels in groups.items()}
    found = {g: t for g in groups if (t := _read_group(memo, keys[g], groups[g])) is not None}
    todo = [rel for rel in files if group_of.get(rel) not in found]
    # registries through their parse entries (read on every build); a result's checked rows
    # are its group's entry, so a parse entry of it would be a second copy, written for nothing
    parsed = [row for registry in (True, False) for row in parse_files(
        root, [PurePosixPath(r) for r in todo if (kinds[r] != "result") == registry], prefix,
        None, memo if registry else None, files)]
    checked = []
    for rel, _, data, problems in parsed:
        if data is None or problems:
            return None
        obj, problems = check_data(root, PurePosixPath(rel), prefix + rel, data)
        if obj is None or problems:
            return None
        checked.append((rel, obj))
    tree = Tree(root)
    for rel, obj in checked:  # the registries first, in discover order, as the full path
        if not isinstance(obj, Result) and add_document(tree, rel, obj, prefix + rel):
            return None
    if cross_check(tree, prefix):  # the registries among themselves: no result is in tree yet
        return None
    new = {rel: obj for rel, obj in checked if isinstance(obj, Result)}
    if any(check_result(tree, prefix + rel, rel, obj) for rel, obj in new.items()):
        return None
    missed = [g for g in groups if g not in found]
    if missed:
        found.update(_write_groups(memo, {g: keys[g] for g in missed},
                                   {g: [(rel, new[rel]) for rel in groups[g]] for g in missed}))
    if _has_duplicates(facts for _, facts in found.values()):
        return None
    scores = _scores([found[g][0] for g in groups])
    results = LazyResults(root, {rel: digests[rel] for g in groups for rel in groups[g]}, new)
    tree.results = _ResultPairs(results)  # type: ignore[assignment]
    return Loaded(tree, registry_frames(tree, scores), digests, results, True, len(new))


@functools.cache
def _arrow_schema() -> pa.Schema:
    """The score rows' columns as Arrow types (declared, so a group whose column is all
    missing still has the type of every other group's)."""
    import pyarrow as pa

    kinds = {"step": pa.int64(), "final": pa.bool_(), "primary": pa.bool_(),
             "aggregate": pa.bool_()}
    floats = {"tokens", "value", "stderr", "n_items", "n_shot", "answer_nll_token",
              "answer_nll_byte", "heldout_nll_token"}
    return pa.schema([(c, kinds.get(c, pa.float64() if c in floats else pa.string()))
                      for c in SCORE_COLUMNS])


Group = tuple["pa.Table", dict[str, list[list]]]  # score rows, rel -> revision keys


def _write_groups(memo: Memo, keys: dict[str, str],
                  results: dict[str, list[tuple[str, Result]]]) -> dict[str, Group]:
    """Each group's entry, from one scores frame of all their results (a frame per group
    cost milliseconds each: seconds on a cold build); a model's rows are contiguous in it."""
    import numpy as np
    import pyarrow as pa

    frame = scores_frame([pair for pairs in results.values() for pair in pairs])
    table = pa.Table.from_pandas(frame, schema=_arrow_schema(), preserve_index=False)
    names = np.array([rel.rsplit("/", 2)[0] for rel in frame["path"]], dtype=object)
    cuts = np.flatnonzero(names[1:] != names[:-1]) + 1
    spans = {str(names[a]): (int(a), int(b)) for a, b in
             zip(np.r_[0, cuts], np.r_[cuts, len(names)], strict=True)} if len(names) else {}
    out = {}
    for g, pairs in results.items():
        start, stop = spans.get(g, (0, 0))
        facts = {rel: [list(k) for k in revision_keys(r)] for rel, r in pairs}
        part = table.slice(start, stop - start).replace_schema_metadata(
            {**table.schema.metadata, _KEYS: json.dumps(facts).encode()})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, part.schema) as writer:
            writer.write_table(part)
        memo.write(KIND, keys[g], sink.getvalue().to_pybytes(), ext="arrow")
        out[g] = part, facts
    return out


def _read_group(memo: Memo, key: str, rels: list[str]) -> Group | None:
    """The group's entry, or None unless it is whole and holds exactly the group's files."""
    import pyarrow as pa

    raw = memo.read(KIND, key, ext="arrow")
    if raw is None:
        return None
    try:
        table = pa.ipc.open_file(pa.py_buffer(raw)).read_all()
        table.validate(full=True)
        facts = json.loads(table.schema.metadata[_KEYS])
        if (not table.schema.equals(_arrow_schema()) or not isinstance(facts, dict)
                or sorted(facts) != sorted(rels)
                or not set(table.column("path").to_pylist()) <= set(rels)
                or not all(isinstance(k, list) and all(isinstance(x, list) and len(x) == 4
                                                      for x in k) for k in facts.values())):
            return None
    except (ValueError, TypeError, KeyError, pa.ArrowException):
        return None
    return table, facts


def _has_duplicates(groups: Iterable[dict[str, list[list]]]) -> bool:
    """cross_check's duplicate-revision rule over every result's keys."""
    seen: dict[tuple, str] = {}
    for facts in groups:
        for rel, keys in facts.items():
            for key in keys:
                if seen.setdefault(tuple(key), rel) != rel:
                    return True
    return False


def _scores(tables: list[pa.Table]) -> pd.DataFrame:
    import pyarrow as pa

    if not tables:
        return scores_frame([])
    # the pandas metadata of one group restores every column's dtype (Int64 steps...)
    return sort_scores(pa.concat_tables(tables).to_pandas())


# ---------------------------------------------------------------------------------------------
# Reading the tree


def _read_tree(root: Path) -> dict[str, bytes] | None:
    """Every file's bytes by rel, in discover order; None if any is odd (a name, a place, a
    symlink, a size): the full validation says what."""
    if not root.is_dir():
        return None
    rels, problems = discover(root)
    if problems:
        return None
    base = os.fspath(root)
    out = {}
    for rel in rels:
        name = rel.as_posix()
        raw = _read_plain(os.path.join(base, name)) if layout.kind_of(rel) else None
        if raw is None:
            return None
        out[name] = raw
    return out


def _read_plain(path: str | Path) -> bytes | None:
    """A regular file's bytes within the size limit, or None. Stricter than read.read_bytes
    (which the full validation uses to say what is wrong), with one stat instead of three."""
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


# ---------------------------------------------------------------------------------------------
# Results on demand


class LazyResults(Mapping[str, Result]):
    """rel -> Result for every result file of the tree, parsed and validated on first access
    from the file's bytes, which must still have this build's digest."""

    def __init__(self, root: Path, digests: dict[str, str], ready: Mapping[str, Result]):
        self._root, self._digests = root, digests
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
        if raw is None or digest(raw) != self._digests[rel]:
            raise ChangedDuringBuild(f"{self._root / rel}: changed while the site was being "
                                     "built; build again")
        self.loads += 1
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


__all__ = ["ChangedDuringBuild", "LazyResults", "Loaded", "load_tree"]
