"""The one place the site calls the metrics stage (evalrunner.metrics).

`compute_metrics(frames)` returns the published metric tables, the registry (metrics and
decisions as plain dicts), the default reference family and D0.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalrunner.metrics.registry import METRIC_TABLES
from evalrunner.results.load import Frames

from .errors import SiteError

if TYPE_CHECKING:
    from evalrunner.memo import Memo


class MetricsFailed(SiteError):
    """The metrics stage refused the input (`--no-metrics` builds without it)."""


def metric_registry() -> list[dict[str, Any]]:
    """The registry's metrics as dicts (name, table, column, direction, unit, description,
    formula, citation), then its decisions (topic, text) with kind='decision'."""
    from evalrunner.metrics import registry

    out = [dataclasses.asdict(m) | {"kind": "metric"} for m in registry.METRICS]
    out += [dataclasses.asdict(d) | {"kind": "decision"} for d in registry.DECISIONS]
    return out


def compute_metrics(
    frames: Frames, items: pd.DataFrame | None = None, memo: Memo | None = None,
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]], str, str | None, float | None]:
    """(tables, registry, note, default reference family, D0); `items`: per-item rows of the
    runner's per-sample logs for the diagnostics and pass@k tables; `memo`: the build's store
    (evalrunner.memo), where reference fits are kept between builds; None fits afresh."""
    try:
        from evalrunner.metrics.compute import compute_all
        from evalrunner.metrics.config import MetricsConfig
    except ImportError as exc:
        return {}, [], f"the metrics stage is not available ({exc})", None, None
    from evalrunner.metrics.prepare import MetricsInputError, prepare

    config = MetricsConfig()
    try:
        prepared = prepare(frames, config)
        result = compute_all(frames, config, items=items, prepared=prepared,
                             memo=memo)
    except MetricsInputError as exc:
        raise MetricsFailed(f"the metrics stage rejected the results: {exc}") from exc
    tables = {name: table for name, table in result.tables().items()
              if isinstance(table, pd.DataFrame)}
    reference = result.default_reference
    missing = [n for n in METRIC_TABLES if n not in tables]
    note = f"not computed: {', '.join(missing)}" if missing else ""
    return tables, metric_registry(), note, reference, config.d0
