"""Curve-fit records through the build's memo store (evalrunner.memo).

A rebuild after one new result file rarely changes the inputs of the reference-family fits,
yet refitting them is the slowest part of the metrics stage. A record is stored under the
digest of everything that decides it: the code version (memo.py), the configuration and the
input arrays (dtype, shape, bytes). A hit therefore gives exactly what a fresh fit would.

Each record is a JSON object of scalars. Python's json writes floats with repr and reads them
back exactly, NaN and +-inf included; a stored record must match the caller's schema (names
and value types) or it is refitted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from evalrunner.memo import Memo

KIND = "fit"
Scalar = str | int | float | bool | None
Record = dict[str, Scalar]
# name -> allowed types of a record's values; a stored record must match it exactly
Schema = Mapping[str, tuple[type, ...]]


def fit_key(kind: str, arrays: tuple[np.ndarray, ...], config: Any) -> str:
    """The digest of one fit's inputs: kind, every config value, and each array's bytes."""
    h = hashlib.blake2b(digest_size=16)
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


class FitCache:
    """Fit records by fit_key, in `memo`."""

    def __init__(self, memo: Memo):
        self.memo = memo

    def get(self, key: str, schema: Schema) -> Record | None:
        """The stored record for key if it fits the schema (a copy: callers may change it)."""
        raw = self.memo.read(KIND, self.memo.key(KIND, key))
        try:
            record = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            record = None
        return dict(record) if _matches(record, schema) else None

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        plain = {k: _plain(v) for k, v in record.items()}
        self.memo.write(KIND, self.memo.key(KIND, key),
                        json.dumps(plain, sort_keys=True, allow_nan=True,
                                   separators=(",", ":")).encode())


def _plain(value: Any) -> Scalar:
    """numpy scalars as the Python values json writes (and reads back) exactly."""
    return value.item() if isinstance(value, np.generic) else value
