"""The runner's per-item summaries: written beside each per-sample log, in the format of
evalrunner/results/items.py (which also says what a row holds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalrunner.results.items import items_path, render, summarise_all

from .samples import atomic_write_bytes


def write_items(log_path: Path, samples: dict[str, list[dict[str, Any]]], sha: str) -> Path:
    """Write the summary of `samples` (whose log has sha256 `sha`) beside the log."""
    path = items_path(log_path)
    atomic_write_bytes(path, render(summarise_all(samples), sha))
    return path
