"""A persistent, content-addressed cache of curve-fit records.

A rebuild after one new result file rarely changes the inputs of the reference-family fits,
yet refitting them is the slowest part of the metrics stage. Each record is stored under the
blake2b hash of everything that decides it: the code of the fitting modules, the library
versions, the configuration and the input arrays (dtype, shape, bytes). A hit therefore gives
exactly what a fresh fit would.

The file is JSON, never pickle (a planted file must not run code). Python's json writes floats
with repr and reads them back exactly, NaN and +-inf included. Loading is tolerant: anything
unexpected leaves an empty cache (or drops the entry). Entries not used in a run are dropped on
save, so the file holds one build's fits and does not grow.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

VERSION = 1
Scalar = str | int | float | bool | None
Record = dict[str, Scalar]
# name -> allowed types of a record's values; a stored record must match it exactly
Schema = Mapping[str, tuple[type, ...]]


@functools.cache
def code_version() -> bytes:
    """Digest of the code and libraries that decide a fit: any change invalidates every entry."""
    import scipy

    from . import density, fit, ladder, laws

    h = hashlib.blake2b(digest_size=32)
    for module in (fit, laws, density, ladder):
        h.update(Path(module.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(f"numpy {np.__version__} scipy {scipy.__version__}".encode())
    return h.digest()


def fit_key(kind: str, arrays: tuple[np.ndarray, ...], config: Any) -> str:
    """The hash of one fit's inputs: kind, every config value, and each array's bytes."""
    h = hashlib.blake2b(code_version(), digest_size=32)
    h.update(kind.encode())
    # repr of a frozen dataclass is deterministic and exact (floats by repr, dates, tuples)
    h.update(repr(sorted(dataclasses.asdict(config).items())).encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"|{a.dtype.str}{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _matches(record: Any, schema: Schema) -> bool:
    """A stored record has exactly the schema's names, each with an allowed type."""
    return (isinstance(record, dict) and record.keys() == schema.keys()
            and all(type(record[k]) in schema[k] for k in schema))


def _read_entries(path: Path) -> tuple[dict[str, Record], bool]:
    """(entries, clean): entries with a str key and a dict value; clean = nothing was dropped."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}, not path.exists()
    if not (isinstance(data, dict) and data.get("version") == VERSION
            and isinstance(data.get("entries"), dict)):
        return {}, False
    entries = {k: v for k, v in data["entries"].items()
               if isinstance(k, str) and isinstance(v, dict)}
    return entries, len(entries) == len(data["entries"])


class FitCache:
    """Records by key, loaded from one JSON file; `save` writes back the ones used this run."""

    def __init__(self, path: Path | None = None, entries: dict[str, Record] | None = None,
                 clean: bool = True):
        self.path = path
        self._stored = entries or {}
        self._used: dict[str, Record] = {}
        self._dirty = not clean
        self.hits = self.misses = 0

    @classmethod
    def load(cls, path: Path) -> FitCache:
        entries, clean = _read_entries(Path(path))
        return cls(Path(path), entries, clean)

    def get(self, key: str, schema: Schema) -> Record | None:
        """The stored record for key if it fits the schema (a copy: callers may change it)."""
        record = self._stored.get(key)
        if not _matches(record, schema):
            self.misses += 1
            return None
        self.hits += 1
        self._used[key] = record
        return dict(record)

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        self._used[key] = {k: _plain(v) for k, v in record.items()}
        self._dirty = True

    def save(self) -> bool:
        """Write the used entries (atomically) if they differ from the file; True if written."""
        if self.path is None or not (self._dirty or self._used.keys() != self._stored.keys()):
            return False
        from evalrunner.results.write import atomic_write_text

        text = json.dumps({"version": VERSION, "entries": self._used}, sort_keys=True,
                          allow_nan=True, separators=(",", ":"))
        try:
            return atomic_write_text(self.path, text + "\n")
        except OSError:
            return False  # a read-only cache folder costs speed, never the build


def _plain(value: Any) -> Scalar:
    """numpy scalars as the Python values json writes (and reads back) exactly."""
    return value.item() if isinstance(value, np.generic) else value
