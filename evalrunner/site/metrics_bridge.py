"""The one place the site calls the metrics stage (evalrunner.metrics).

The site renders metric sections only for tables that exist, so it still builds while a table is
missing; the reason is shown on the pages that would have shown it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from evalrunner.results.load import Frames

from .data import METRIC_TABLES


def _as_dict(entry: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(entry):
        return {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    if isinstance(entry, dict):
        return dict(entry)
    return {k: v for k, v in vars(entry).items() if not k.startswith("_")}


def metric_registry() -> list[dict[str, Any]]:
    """The metric registry as plain dicts (name, direction, unit, citation, description, ...)."""
    try:
        from evalrunner.metrics import registry
    except ImportError:
        return []
    metrics = getattr(registry, "METRICS", [])
    items = metrics.values() if isinstance(metrics, dict) else metrics
    return [_as_dict(m) for m in items]


def compute_metrics(
    frames: Frames,
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]], str, str | None, float | None]:
    """(tables, registry, note, reference family, D0); tables are empty with a note on failure."""
    try:
        from evalrunner.metrics.compute import compute_all
        from evalrunner.metrics.config import MetricsConfig
    except ImportError as exc:
        return {}, metric_registry(), f"the metrics stage is not available ({exc})", None, None
    config = MetricsConfig()
    result = compute_all(frames, config)
    tables = {}
    for name in METRIC_TABLES:
        table = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if isinstance(table, pd.DataFrame):
            tables[name] = table
    missing = [n for n in METRIC_TABLES if n not in tables]
    note = f"not computed: {', '.join(missing)}" if missing else ""
    return tables, metric_registry(), note, config.default_reference, config.d0
