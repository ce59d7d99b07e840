"""Writing the docs folder: maps of {path: text or bytes}, each file written only where its
bytes changed, then every file no map named deleted.

UTF-8, '\\n' line ends, folders made on demand. A file that already holds exactly the bytes is
left alone, so its mtime moves only when its content changes: mkdocs' dirty build re-renders a
page only when its source is newer. A write goes to a temporary file renamed into place, so a
reader never sees half a file. No fsync: the docs folder is made from results/ at will.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from evalrunner.results.write import atomic_write_bytes

from .blocks import FOLDER as BLOCKS
from .errors import SiteError


def write_text(path: Path, text: str) -> bool:
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; True if written."""
    path = Path(path)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data, durable=False)
    return True


def _checked(rel: str) -> str:
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel or rel != p.as_posix():
        raise SiteError(f"generated file {rel!r}: expected a plain path inside the docs folder")
    return rel


def write_files(root: Path, files: Mapping[str, str | bytes]) -> set[str]:
    """Write each of `files` (paths relative to root) where its bytes differ; the paths
    written. A page's Markdown is touched when only its blocks changed: mkdocs' dirty build
    sees the Markdown's mtime."""
    written = set()
    for rel, body in files.items():
        raw = body.encode("utf-8") if isinstance(body, str) else body
        if write_bytes(root / _checked(rel), raw):
            written.add(rel)
    prefix = f"{BLOCKS}/"
    for rel in written:
        page = rel.removeprefix(prefix).removesuffix(".json") + ".md"
        if rel.startswith(prefix) and page not in written and page in files:
            (root / page).touch()
    return written


def delete_others(root: Path, keep: set[str]) -> None:
    """Delete every file under root not in `keep` (relative paths), and emptied folders."""
    for folder, _dirs, names in os.walk(root, topdown=False):
        rel_folder = Path(folder).relative_to(root).as_posix()
        for name in names:
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            if rel not in keep:
                os.unlink(os.path.join(folder, name))
        if folder != str(root) and not os.listdir(folder):
            os.rmdir(folder)
