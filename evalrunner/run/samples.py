"""Per-sample logs: lm-eval's `samples`, one JSON line per (task, item, filter), gzip-compressed
deterministically (no timestamp in the header), written atomically outside results/. Each
result file names its log by sha256 (provenance.samples_sha256).

Layout: `<samples_dir>/<family>/<model>/<setting>/<revision>.jsonl.gz`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from evalrunner.results import write


def sample_path(samples_dir: Path, family: str, model: str, setting: str, revision: str) -> Path:
    return Path(samples_dir) / family / model / setting / f"{revision}.jsonl.gz"


def _plain(obj: Any) -> Any:
    """JSON for what lm-eval keeps in samples: numpy scalars, tuples, sets, the odd object."""
    if hasattr(obj, "item") and callable(obj.item):
        try:
            return obj.item()
        except (TypeError, ValueError):
            pass
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    return str(obj)


def render(samples: dict[str, list[dict[str, Any]]]) -> bytes:
    """Tasks in name order, items in lm-eval's order, keys sorted: the same run, the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        for task in sorted(samples):
            for sample in samples[task]:
                line = json.dumps({"task": task, **sample}, sort_keys=True, default=_plain,
                                  ensure_ascii=False, allow_nan=True)
                gz.write(line.encode("utf-8") + b"\n")
    return buf.getvalue()


def remove_stale_temps(path: Path) -> None:
    """Temp files of `path` left by a killed writer (`.<name>.*.tmp`, as atomic writes name
    them). Call only where no other process writes `path` at the same time."""
    if path.parent.is_dir():
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    remove_stale_temps(path)  # left by a run killed before its rename
    write.atomic_write_bytes(path, data)


def write_samples(path: Path, samples: dict[str, list[dict[str, Any]]]) -> str:
    """Write the log; returns its sha256 (hex)."""
    blob = render(samples)
    atomic_write_bytes(path, blob)
    return hashlib.sha256(blob).hexdigest()


def read_samples(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
