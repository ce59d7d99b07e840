"""Provenance from the data folder's MANIFEST.csv: repository, commit, path, license, sha256.

Every imported result names the file it came from. The importer checks the file's sha256
against the manifest before using it, so a changed source file fails loudly.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from evalrunner.results.schema import ImportProvenance

from .base import MANIFEST, SourceDataError

COLUMNS = ("local_path", "repo", "commit", "source_path", "sha256", "license")


@dataclass(frozen=True)
class SourceFile:
    """One manifest row: a file as it sits in its public repository."""

    local_path: str  # relative to the data folder
    repository: str
    commit: str
    path: str  # inside the repository
    sha256: str
    license: str

    def provenance(self, importer: str, row: str | None = None,
                   notes: str = "") -> ImportProvenance:
        return ImportProvenance(kind="import", repository=self.repository, commit=self.commit,
                                path=self.path, license=self.license, sha256=self.sha256,
                                importer=importer, row=row, notes=notes)

    def cite(self, row: str) -> str:
        """A short citation for a fact read from one row of this file."""
        return f"{self.repository}@{self.commit[:8]} {self.path}, {row}"


class Manifest:
    """The rows of MANIFEST.csv, looked up by local path, with sha256 checks."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.rows = _read(self.root / MANIFEST)

    def source(self, local: str | Path) -> SourceFile:
        """The manifest row of a file under the data folder, after checking its sha256."""
        rel = Path(local).resolve().relative_to(self.root.resolve()).as_posix() \
            if Path(local).is_absolute() else Path(local).as_posix()
        row = self.rows.get(rel)
        if row is None:
            raise SourceDataError(self.root / MANIFEST, rel, "a manifest row for this file",
                                  "none", fix="only files listed in MANIFEST.csv can be imported")
        actual = sha256_of(self.root / rel)
        if actual != row.sha256:
            raise SourceDataError(self.root / rel, "sha256", row.sha256, actual,
                                  fix="the file differs from the one the manifest lists")
        return row


@cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def _read(path: Path) -> dict[str, SourceFile]:
    if not path.is_file():
        raise SourceDataError(path, "file", "a MANIFEST.csv", "no such file")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceDataError(path, "header", f"columns {', '.join(COLUMNS)}",
                                  reader.fieldnames)
        rows = {}
        for r in reader:
            rows[r["local_path"]] = SourceFile(r["local_path"], r["repo"], r["commit"],
                                               r["source_path"], r["sha256"], r["license"])
    return rows
