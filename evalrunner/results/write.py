"""Writing result files: deterministic YAML, atomic (temp file + rename), never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .layout import schema_comment
from .schema import Strict


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style, keys in declaration order, floats with full precision (repr).

    libyaml's emitter when present: 4x faster, and byte-identical output (checked on the
    imported tree by the re-import test)."""


def _repr_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", repr(float(value)))


_Dumper.add_representer(float, _repr_float)


def to_data(obj: Strict) -> dict[str, Any]:
    """A model as plain data: defaults and None left out so files stay small and readable."""
    data = obj.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    if "schema_version" in type(obj).model_fields:  # always written, and first
        data = {"schema_version": obj.schema_version, **data}
    return data


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write data to path through a temp file in the same folder, then rename: a reader (or a
    run killed midway) sees the old file or the new one, never half of one. `durable=False`
    skips the fsync, for caches that check what they read (a crash may leave junk there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files; published files must stay readable (web servers, CI).
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> bool:
    """atomic_write_bytes for UTF-8 text; False (and nothing written) if it was unchanged."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_bytes(path, text.encode("utf-8"))
    return True


def write_file(root: Path, rel: PurePosixPath, kind: str, obj: Strict) -> bool:
    """Write one results file (kind as in layout.kind_of) under root; True if it changed."""
    text = schema_comment(kind, PurePosixPath("results") / rel) + dump_yaml(to_data(obj))
    return atomic_write_text(Path(root) / rel, text)
