"""Parsed result files through the build's memo store (evalrunner.memo), so a rebuild
re-parses only what changed.

YAML parsing is most of the cost of reading a results tree (libyaml builds Python objects
slowly); schema validation after it is cheap. An entry is named by the blake2b digest of a
file's bytes (and the code version) and holds the data its YAML parsed to, as JSON in which
dates and datetimes survive the round trip. A hit skips parsing only: the schema and every
cross-file check run on every build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalrunner.memo import Memo

KIND = "parse"

_DATE, _DATETIME = "\x00date", "\x00datetime"  # NUL never survives read.py: no collision


def digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _encode(obj: Any) -> Any:
    if isinstance(obj, dt.datetime):
        return {_DATETIME: obj.isoformat()}
    if isinstance(obj, dt.date):
        return {_DATE: obj.isoformat()}
    raise TypeError(f"cannot cache {type(obj).__name__}")


def _decode(obj: dict) -> Any:
    if len(obj) == 1:
        if _DATE in obj:
            return dt.date.fromisoformat(obj[_DATE])
        if _DATETIME in obj:
            return dt.datetime.fromisoformat(obj[_DATETIME])
    return obj


def dumps(obj: Any, sort_keys: bool = True) -> str:
    """Compact JSON of parsed YAML data; dates and datetimes survive the round trip (loads)."""
    return json.dumps(obj, default=_encode, separators=(",", ":"), sort_keys=sort_keys)


def loads(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_decode)


def cached(memo: Memo | None, key: str) -> Any | None:
    """The data a file whose bytes have digest `key` parsed to, if the memo holds it."""
    if memo is None or not memo.enabled:
        return None
    raw = memo.read(KIND, memo.key(KIND, key))
    if raw is None:
        return None
    try:
        return loads(raw)
    except (ValueError, RecursionError):
        return None


def store(memo: Memo | None, key: str, data: Any) -> None:
    if memo is not None and memo.enabled:
        memo.write(KIND, memo.key(KIND, key), dumps(data, sort_keys=False).encode())
