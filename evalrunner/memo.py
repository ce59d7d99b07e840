"""One content-addressed store for everything a rebuild reuses: `<results>/../.cache/densitometer/`.

An entry is named by the digest of its kind, its inputs and one code version: every file of
the installed `evalrunner` package, the site sources in use (templates, CSS, JavaScript) and
the version of every installed distribution. Any code change is therefore a cold build, and a
hit is exactly what computing again would give; no stage keeps its own list of "the code".
Nothing is read back from a previous build's output: the output is made from inputs only.

Entries are plain JSON or Arrow IPC, never pickle (anyone who can write the folder could
plant one). Reading is tolerant: a missing, torn or malformed entry is a miss. Writing goes to
a temporary file renamed into place. A hit touches its entry, so `sweep` can delete every entry
the build neither read nor wrote (by mtime: the page writers are forked processes), and the
folder holds about one build's work instead of growing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent
FOLDER = "memo"
_MISS = object()  # what _load returns for no usable entry


def _hash_tree(h: Any, root: Path) -> None:
    """Every file under root (a file: itself), by relative path and bytes; bytecode left out."""
    root = Path(root)
    if root.is_file():
        h.update(b"file\0" + root.read_bytes())
        return
    for path in sorted(p for p in root.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")


@functools.cache
def code_version(sources: tuple[Path, ...] = ()) -> bytes:
    """The package, the given site sources and every installed distribution's version."""
    h = hashlib.blake2b(digest_size=16)
    _hash_tree(h, PACKAGE)
    for source in sources:
        h.update(b"source\0")
        if Path(source).exists():
            _hash_tree(h, Path(source))
    dists = sorted(f"{d.metadata['Name']}=={d.version}"
                   for d in importlib.metadata.distributions())
    h.update("\n".join(dists).encode())
    return h.digest()


def digest(*parts: bytes | str) -> str:
    """A hex digest of parts (each length-prefixed, so parts cannot run into each other)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
    return h.hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row, of every column (frame_types says which columns): what an
    entry made from a frame's rows is keyed by."""
    import pandas as pd

    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def frame_types(frame: pd.DataFrame) -> bytes:
    """The columns and their dtypes: part of every digest of rows."""
    return repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode()


def frame_digest(frame: pd.DataFrame | None) -> bytes:
    """A digest of every row and column of `frame`, with its columns and dtypes."""
    if frame is None:
        return b"none"
    return hashlib.blake2b(frame_types(frame) + row_hashes(frame).tobytes(),
                           digest_size=16).digest()


class Memo:
    """The store at `root` (None: a store that never hits and keeps nothing, `--no-cache`).

    `sources`: the site sources in use, part of the code version."""

    def __init__(self, root: Path | None, sources: Iterable[Path] = ()):
        self.root = Path(root) if root is not None else None
        self.version = code_version(tuple(Path(s).resolve() for s in sources))
        self.hits = self.misses = 0
        self.held: set[str] = set()  # kinds sweep leaves alone (hold)
        # an entry whose mtime is older than this was not used by this run; the time is the
        # file system's own (its timestamps are coarser than time.time())
        self.started: int | None = None
        if self.root is not None:
            with contextlib.suppress(OSError):
                self.root.mkdir(parents=True, exist_ok=True)
                (self.root / ".opened").touch()
                self.started = (self.root / ".opened").stat().st_mtime_ns

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def key(self, kind: str, *inputs: bytes | str) -> str:
        return digest(self.version, kind, *inputs)

    def _path(self, kind: str, key: str, ext: str) -> Path | None:
        if self.root is None:
            return None
        return self.root / FOLDER / kind / key[:2] / f"{key}.{ext}"

    def read(self, kind: str, key: str, ext: str = "json") -> bytes | None:
        path = self._path(kind, key, ext)
        if path is None:
            return None
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used by this build: sweep keeps it
        self.hits += 1
        return raw

    def write(self, kind: str, key: str, raw: bytes, ext: str = "json") -> None:
        from evalrunner.results.write import atomic_write_bytes

        path = self._path(kind, key, ext)
        if path is None:
            return
        try:
            atomic_write_bytes(path, raw, durable=False)  # a torn entry fails to decode
        except OSError:
            pass  # a read-only cache costs speed, never the build

    def _load(self, kind: str, key: str, check: Callable[[Any], bool]) -> Any:
        """The entry (kind, key) decoded if it passes `check`, else _MISS."""
        raw = self.read(kind, key)
        if raw is None:
            return _MISS
        try:
            stored = json.loads(raw)
            if check(stored):
                return stored
        except (ValueError, TypeError, KeyError, RecursionError):
            pass
        self.hits -= 1  # read counted it: unusable, it is a miss
        self.misses += 1
        return _MISS

    def _dump(self, kind: str, key: str, value: Any) -> None:
        self.write(kind, key, json.dumps(value, separators=(",", ":"), allow_nan=True).encode())

    def json(self, kind: str, key: str, compute: Callable[[], T],
             check: Callable[[Any], bool] = lambda _: True) -> T:
        """The entry (kind, key) if it decodes and passes `check`, else compute (plain JSON
        data) and store it."""
        value = self._load(kind, key, check)
        if value is _MISS:
            value = compute()
            self._dump(kind, key, value)
        return value

    def json_many(self, kind: str, keys: list[str],
                  compute: Callable[[list[int]], list[T]],
                  check: Callable[[int, Any], bool] = lambda _i, _v: True) -> list[T]:
        """The entries of `keys` as json() reads them (`check(position, value)`); the missing
        or unusable ones computed in one call (`compute(positions)`: their values, in that
        order) and stored, so a vectorised computation stays one pass however many miss."""
        out = [self._load(kind, key, lambda v, i=i: check(i, v)) for i, key in enumerate(keys)]
        missing = [i for i, value in enumerate(out) if value is _MISS]
        if missing:
            for i, value in zip(missing, compute(missing), strict=True):
                out[i] = value
                self._dump(kind, keys[i], value)
        return out

    def hold(self, kind: str) -> None:
        """Keep every entry of `kind` at the next sweep: this run relied on them without
        reading each one (an incremental load reads only the changed files)."""
        self.held.add(kind)

    def sweep(self) -> int:
        """Delete every entry not read or written since this store was opened (by this process
        or the workers it forked); the number deleted."""
        if self.root is None or self.started is None or not (self.root / FOLDER).is_dir():
            return 0
        removed = 0
        for folder, _dirs, names in os.walk(self.root / FOLDER, topdown=False):
            if Path(folder).relative_to(self.root / FOLDER).parts[:1] in {(k,) for k in self.held}:
                continue
            for name in names:
                path = Path(folder) / name
                try:
                    stale = path.stat().st_mtime_ns < self.started
                except OSError:
                    continue
                if stale:
                    path.unlink(missing_ok=True)
                    removed += 1
            if folder != str(self.root / FOLDER) and not os.listdir(folder):
                os.rmdir(folder)
        return removed


def default_root(results: Path) -> Path:
    """Beside the results tree, in a folder git ignores: <parent>/.cache/densitometer/."""
    return Path(results).resolve().parent / ".cache" / "densitometer"
