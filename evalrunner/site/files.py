"""Writing generated files: UTF-8, '\\n' line ends, folders made on demand.

A file that already holds exactly the bytes is left alone, so its mtime moves only when its
content changes: mkdocs' dirty build re-renders a page only when its source is newer, and the
page cache (pagecache.py) keeps the files of unchanged units. A write goes to a temporary file
renamed into place, so a reader never sees half a file. No fsync: the docs folder is rebuilt
from results/ at will, and an interrupted build regenerates everything (pagecache.MANIFEST).
While `recording()` is active every path written or confirmed is collected, so the build knows
which files this build produced and can delete the rest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from evalrunner.results.write import atomic_write_bytes

_RECORD: list[Path] | None = None


@contextlib.contextmanager
def recording() -> Iterator[list[Path]]:
    """Collect the paths passed to write_text/write_bytes inside the block."""
    global _RECORD
    previous, _RECORD = _RECORD, []
    try:
        yield _RECORD
    finally:
        _RECORD = previous


def write_text(path: Path, text: str) -> bool:
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; True if written."""
    path = Path(path)
    if _RECORD is not None:
        _RECORD.append(path)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data, durable=False)
    return True
