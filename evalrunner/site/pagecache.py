"""Incremental page generation: a model's or a family's files are generated again only when
what they are made from changed (a rebuild after one new result touches one model and one family).

A *unit* is the files one model owns (its page, blocks, downloads, compare data), one family
owns (its page, blocks, chart data) or one task owns (its page, rankings, charts), or the
live blocks (live.py) of one model's density or one family's density over training;
`unit_of` tells them by path. Everything else (leaderboards, API, indexes) is shared and
generated on every build.

A unit's fingerprint hashes exactly what its generator reads:
- its rows of the score frame (every column) and the digests of its result files (provenance);
  a task's also the revision every model shows (chosen across all of a model's tasks);
- its rows of the metric tables its page kind declares (UNIT_TABLES); the generator gets a view
  of the data holding only those tables (`scoped`), so a page that starts reading another table
  fails loudly instead of going stale;
- a global part: the registry files, the registry frames, the metric registry and the headline
  reference. The code version is not hashed here: the store's key of every entry carries it.

A unit's files are kept in the build's store (evalrunner.memo) under its fingerprint, as one
JSON object {path: text}; an entry is only ever written whole, and one that is not a map of the
unit's own paths is regenerated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from evalrunner.memo import Memo, frame_digest, frame_types, row_hashes
from evalrunner.results import layout

from . import blocks
from .data import SiteData

KIND = "unit"
# The metric tables each kind of unit reads (pages/models.py, families.py, tasks.py,
# science.py). The live block kinds (live.py) are what many pages show and what moves
# without them: a reference family's new checkpoint moves every density, and only they follow.
UNIT_TABLES = {
    "models": (),
    "families": ("predictability_family_task", "twostage", "diagnostics", "coverage", "passk",
                 "passuntil", "ladder", "ladder_summary"),
    "tasks": ("predictability_family_task", "tasks", "twostage", "diagnostics", "coverage",
              "passk", "passuntil", "ladder", "ladder_summary"),
    "model_density": ("density_models",),
    "family_density": ("checkpoint_density",),
}
UNIT_KEYS = {"models": "model", "families": "family", "tasks": "task",  # the unit's column
             "model_density": "model", "family_density": "family"}


class UndeclaredTable(KeyError):
    """A unit's generator read a metric table its kind does not declare in UNIT_TABLES."""


class DeclaredTables(Mapping):
    """The metric tables a unit may read; asking for any other one is an error, not a miss."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], declared: Iterable[str]):
        self._declared = frozenset(declared)
        self._tables = {k: v for k, v in tables.items() if k in self._declared}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._declared:
            raise UndeclaredTable(f"{name!r} is not in pagecache.UNIT_TABLES for this page kind: "
                                  "declare it there, so its rows are part of the fingerprint")
        return self._tables[name]

    def get(self, name: str, default=None):  # noqa: ANN001, ANN201
        try:
            return self[name]
        except UndeclaredTable:
            raise
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def scoped(data: SiteData, kind: str) -> SiteData:
    """The data a unit of `kind` ('models', 'families' or 'tasks') is generated from."""
    return data.with_metrics(DeclaredTables(data.metrics, UNIT_TABLES[kind]))


def unit_of(rel: str) -> str | None:
    """The unit owning a docs file ('models/<id>', 'model_density/<id>'...), or None if
    shared."""
    parts = PurePosixPath(rel).parts
    if parts and parts[0] == blocks.FOLDER:
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] in UNIT_TABLES:
        return f"{parts[0]}/{parts[1]}"
    # browser data: data/models/<id>.json (compare), data/<live kind>/<id>[/...]
    if len(parts) >= 3 and parts[0] == "data" and parts[1] in UNIT_TABLES:
        if len(parts) > 3:
            return f"{parts[1]}/{parts[2]}"
        if parts[2].endswith(".json"):
            return f"{parts[1]}/{parts[2].removesuffix('.json')}"
    return None


def _global(data: SiteData) -> bytes:
    """What every unit reads besides its own rows."""
    f = data.frames
    h = hashlib.blake2b(digest_size=16)
    for frame in (f.models, f.families, f.tasks, f.settings):
        h.update(frame_digest(frame))
    h.update(frame_types(f.scores))
    registries = sorted((k, v) for k, v in data.digests.items()
                        if layout.kind_of(PurePosixPath(k)) != "result")
    h.update(json.dumps([registries, data.registry, data.metrics_note, data.reference,
                         data.d0], sort_keys=True, default=str).encode())
    return h.digest()


def grouped_digests(frame: pd.DataFrame, key: pd.Series) -> dict[str, bytes]:
    """Per value of `key`, a digest of its rows of `frame` (in frame order)."""
    if frame.empty:
        return {}
    head, rows = frame_types(frame), row_hashes(frame)
    codes, values = pd.factorize(key, use_na_sentinel=True)  # fast on Arrow strings
    order = np.argsort(codes, kind="stable")  # each value's rows together, in frame order
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    ends = np.cumsum(counts) + int((codes < 0).sum())  # NaN keys (code -1) sort first
    return {str(v): hashlib.blake2b(head + rows[order[e - n:e]].tobytes(),
                                    digest_size=16).digest()
            for v, n, e in zip(values, counts, ends, strict=True)}


def fingerprints(data: SiteData) -> dict[str, str] | None:
    """unit -> fingerprint for every model, family and task unit; None when the files'
    digests are unknown: then nothing is reused."""
    digests = data.digests
    if not digests:
        return None
    f = data.frames
    g = _global(data)
    family_of = dict(zip(f.models["model"], f.models["family"], strict=True))
    parts: dict[str, list[bytes]] = {}

    def add(kind: str, by: Mapping[str, bytes], label: bytes) -> None:
        for key, digest in by.items():
            parts.setdefault(f"{kind}/{key}", []).append(label + digest)

    def every(kind: str, label: bytes) -> None:
        for unit in _units(f, kind):
            parts.setdefault(unit, []).append(label)

    scores = f.scores
    for kind, col in UNIT_KEYS.items():
        add(kind, grouped_digests(scores, scores[col]), b"scores")
    files = scores.drop_duplicates("path")[["path", "model", "family"]]
    for kind in ("models", "families"):  # provenance (a model page shows its files' origin)
        for key, paths in files.groupby(UNIT_KEYS[kind], sort=False)["path"]:
            parts.setdefault(f"{kind}/{key}", []).append(
                b"files" + json.dumps([[p, digests.get(p)] for p in paths]).encode())
    # a task page ranks the revision each model shows, chosen across all its tasks
    every("tasks", b"shown" + frame_digest(data.shown_revisions))
    for kind, names in UNIT_TABLES.items():
        col = UNIT_KEYS[kind]
        for name in names:
            table = data.metrics.get(name)
            if table is None or table.empty:
                continue
            label = name.encode()
            if col in table.columns:
                add(kind, grouped_digests(table, table[col].fillna("")), label)
            elif col == "family" and "model" in table.columns:
                add(kind, grouped_digests(table, table["model"].map(family_of).fillna("")), label)
            else:  # no unit column: every unit of the kind reads all of it
                every(kind, label + frame_digest(table))
    return {unit: hashlib.blake2b(g + b"".join(parts.get(unit, [])), digest_size=16).hexdigest()
            for kind in UNIT_TABLES for unit in _units(f, kind)}


def unit_ids(f, kind: str) -> list[str]:  # noqa: ANN001
    """The ids of every unit of `kind` (frames `f`)."""
    col = UNIT_KEYS[kind]
    return list({"model": f.models, "family": f.families, "task": f.tasks}[col][col])


def _units(f, kind: str) -> list[str]:  # noqa: ANN001
    return [f"{kind}/{i}" for i in unit_ids(f, kind)]


def _read_unit(memo: Memo, unit: str, key: str) -> dict[str, str] | None:
    """A unit's stored files, or None unless every path is a string the unit owns."""
    raw = memo.read(KIND, key)
    try:
        files = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    if not (isinstance(files, dict) and all(
            isinstance(rel, str) and isinstance(body, str) and unit_of(rel) == unit
            for rel, body in files.items())):
        return None
    return files


def plan(data: SiteData, memo: Memo
         ) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, list[str]]]:
    """(unit -> its entry's key, the files of every unit the store holds, kind -> ids of the
    units to generate)."""
    fps = (fingerprints(data) or {}) if memo.enabled else {}
    keys = {unit: memo.key(KIND, fp) for unit, fp in fps.items()}
    kept: dict[str, dict[str, str]] = {}
    stale: dict[str, list[str]] = {}
    for kind in UNIT_TABLES:
        stale[kind] = []
        for i in unit_ids(data.frames, kind):
            unit = f"{kind}/{i}"
            files = _read_unit(memo, unit, keys[unit]) if unit in keys else None
            if files is None:
                stale[kind].append(i)
            else:
                kept[unit] = files
    return keys, kept, stale


def store(memo: Memo, keys: Mapping[str, str], units: Iterable[str],
          made: Mapping[str, str | bytes]) -> None:
    """Keep the files of `units` (generated this build) found in `made`, a part's files."""
    by_unit: dict[str, dict[str, str]] = {unit: {} for unit in units}
    for rel, body in made.items():
        files = by_unit.get(unit_of(rel) or "")
        if files is not None:
            if not isinstance(body, str):
                raise TypeError(f"{rel}: a unit's files are text")
            files[rel] = body
    for unit, files in by_unit.items():
        if unit in keys:
            memo.write(KIND, keys[unit], json.dumps(files, ensure_ascii=False,
                                                    sort_keys=True).encode("utf-8"))
