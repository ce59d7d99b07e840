"""The one place the site calls the metrics stage (evalrunner.metrics).

`compute_metrics(frames)` returns the published metric tables, the registry (metrics and
decisions as plain dicts), the default reference family and D0. It also computes
`checkpoint_density`: the density of every revision of a checkpoint series, for the family pages'
"density over training" chart, with the metrics' own functions (the same fits and inversion as
the final models' density), each revision treated as a target model.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalrunner.results.load import Frames

from .data import METRIC_TABLES
from .errors import SiteError


class MetricsFailed(SiteError):
    """The metrics stage refused the input (`--no-metrics` builds without it)."""


def metric_registry() -> list[dict[str, Any]]:
    """The registry's metrics as dicts (name, table, column, direction, unit, description,
    formula, citation), then its decisions (topic, text) with kind='decision'."""
    from evalrunner.metrics import registry

    out = [dataclasses.asdict(m) | {"kind": "metric"} for m in registry.METRICS]
    out += [dataclasses.asdict(d) | {"kind": "decision"} for d in registry.DECISIONS]
    return out


def checkpoint_density(rows: pd.DataFrame, fits: pd.DataFrame, reference: str | None,
                       config: Any) -> pd.DataFrame:
    """Per (model, revision, setting): density against `reference` for models with several
    revisions; `rows` are the metrics' prepared rows (prepare(frames, config).rows).
    Columns: model, revision, setting, tokens, density, status."""
    from evalrunner.metrics import density

    cols = ["model", "revision", "setting", "tokens", "density", "status"]
    if reference is None or fits.empty:
        return pd.DataFrame(columns=cols)
    rows = rows[rows["tokens"].notna() & (rows["tokens"] > 0)]
    n_revs = rows.groupby(["model", "setting"])["revision"].transform("nunique")
    rows = rows[n_revs > 1]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    key = rows["model"] + "\x1f" + rows["revision"]
    tokens = pd.Series(rows["tokens"].to_numpy(), index=key).groupby(level=0).first()
    rows = rows.assign(model=key, final=True)
    per_task = density.density_table(rows, fits[fits["reference"] == reference], config)
    targets = pd.DataFrame({"model": per_task["model"].unique(), "release_date": pd.NaT})
    per_model = density.model_table(per_task, targets, reference, config)
    if per_model.empty:
        return pd.DataFrame(columns=cols)
    split = per_model["model"].str.split("\x1f", n=1, expand=True)
    out = pd.DataFrame({"model": split[0], "revision": split[1],
                        "setting": per_model["setting"],
                        "tokens": per_model["model"].map(tokens).astype(float),
                        "density": per_model["density"].where(per_model["status"] == "ok",
                                                              np.nan),
                        "status": per_model["status"]})
    return out.sort_values(["setting", "model", "tokens"], kind="stable").reset_index(drop=True)


def compute_metrics(
    frames: Frames, items: pd.DataFrame | None = None, fit_cache: Path | None = None,
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]], str, str | None, float | None]:
    """(tables, registry, note, default reference family, D0); `items`: per-item rows of the
    runner's per-sample logs for the diagnostics and pass@k tables; `fit_cache`: a JSON file
    of reference fits kept between builds (evalrunner.metrics.fitcache), None fits afresh."""
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
                             fit_cache=fit_cache)
    except MetricsInputError as exc:
        raise MetricsFailed(f"the metrics stage rejected the results: {exc}") from exc
    tables = {name: table for name, table in result.tables().items()
              if isinstance(table, pd.DataFrame)}
    reference = result.default_reference
    tables["checkpoint_density"] = checkpoint_density(
        prepared.rows, tables.get("density_fits", pd.DataFrame()), reference, config)
    missing = [n for n in METRIC_TABLES if n not in tables]
    note = f"not computed: {', '.join(missing)}" if missing else ""
    return tables, metric_registry(), note, reference, config.d0
