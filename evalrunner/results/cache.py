"""A content-hash cache of parsed result files, so a rebuild re-parses only what changed.

YAML parsing is most of the cost of reading a results tree (libyaml builds Python objects
slowly); schema validation after it is cheap. The cache maps each file's path to the blake2b
digest of its bytes and the data its YAML parsed to. A hit skips parsing only: the schema and
every cross-file check run on every build. The cache is plain JSON (never pickle: it must be
safe to read even if someone plants one), keyed by the code that decides what parsing accepts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from .write import atomic_write_text

_DATE, _DATETIME = "\x00date", "\x00datetime"  # NUL never survives read.py: no collision


def _code_version() -> str:
    """Changes whenever the reading rules or the schema change, invalidating the cache."""
    here = Path(__file__).parent
    h = hashlib.blake2b(digest_size=8)
    for name in ("read.py", "schema.py", "cache.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


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


class ParseCache:
    """Parsed data by (path, digest). `load` tolerates a missing or corrupt file (empty cache)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.version = _code_version()
        self.entries: dict[str, tuple[str, Any]] = {}
        self.hits = 0
        if path is not None and path.is_file():
            try:
                stored = loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = {}
            if isinstance(stored, dict) and stored.get("version") == self.version:
                self.entries = {k: (v[0], v[1]) for k, v in stored.get("files", {}).items()}
        self.fresh: dict[str, tuple[str, Any]] = {}

    def get(self, rel: str, key: str) -> Any | None:
        entry = self.entries.get(rel)
        if entry is not None and entry[0] == key:
            self.hits += 1
            self.fresh[rel] = entry
            return entry[1]
        return None

    def put(self, rel: str, key: str, data: Any) -> None:
        self.fresh[rel] = (key, data)

    def save(self) -> None:
        """Keep only this build's files (deleted files drop out); unchanged, nothing is written."""
        if self.path is None:
            return
        if self.fresh.keys() == self.entries.keys() and self.hits == len(self.fresh) and \
                self.path.is_file():
            return  # every file came from the cache and none was deleted
        text = dumps({"version": self.version, "files": self.fresh})
        atomic_write_text(self.path, text)


def default_cache_path(root: Path) -> Path:
    """Beside the results tree, in a folder git ignores: <parent>/.cache/densitometer/."""
    return Path(root).resolve().parent / ".cache" / "densitometer" / "parse-cache.json"
