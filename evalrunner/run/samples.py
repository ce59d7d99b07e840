"""The runner's per-sample logs: written atomically outside results/, in the format of
evalrunner/results/samples.py (layout, records, sha256).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalrunner.results import write
from evalrunner.results.samples import log_sha256, render


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
    return log_sha256(blob)
