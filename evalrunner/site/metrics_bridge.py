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
    Columns: model, revision, setting, tokens, density, status.

    Each revision is a target model of density.density_table (its rows as finals) and gets
    model_table's geometric mean over its tasks in range; only the columns used are made."""
    from evalrunner.metrics import density, tabular

    cols = ["model", "revision", "setting", "tokens", "density", "status"]
    if reference is None or fits.empty:
        return pd.DataFrame(columns=cols)
    keep, target, setting = _revision_targets(rows)
    # the few columns read, then the rows (positions only grow: a cheap take)
    targets = rows[[*density.JUDGED_COLUMNS, "revision", "tokens"]].iloc[keep]
    fits = fits[fits["reference"] == reference]
    found = density.target_pairs(targets, fits, target)
    if found is None or len(found[0]) == 0:
        return pd.DataFrame(columns=cols)
    li, ri = found
    per_task = density.judge(targets, fits, li, ri)
    # model_table's groups: (target, setting), the reference being one; li runs through them
    group = tabular.pair_codes(target[li], setting[li])
    first = li[np.flatnonzero(np.r_[True, group[1:] != group[:-1]])]
    agg = density.aggregate(group, int(group.max()) + 1, per_task.status, per_task.density,
                            per_task.n_bound / per_task.n_m)
    _, first_row = np.unique(target, return_index=True)  # a target's tokens: its first row's
    at = targets.iloc[first]
    out = pd.DataFrame({"model": at["model"].array, "revision": at["revision"].array,
                        "setting": at["setting"].array,
                        "tokens": targets["tokens"].to_numpy(float)[first_row][target[first]],
                        "density": agg.density,
                        "status": agg.status()})
    return out.sort_values(["setting", "model", "tokens"], kind="stable").reset_index(drop=True)


def _revision_targets(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, target, setting codes) of the rows with tokens of models with several such
    revisions in a setting; a target code per (model, revision), in their sort order."""
    from evalrunner.metrics import tabular

    keep = np.flatnonzero(rows["tokens"].to_numpy(float) > 0)
    model, revision, setting = (tabular.codes(rows[c])[keep] for c in
                                ("model", "revision", "setting"))
    several = tabular.distinct_per_group(tabular.pair_codes(model, setting), revision) > 1
    keep, model, revision, setting = (a[several] for a in (keep, model, revision, setting))
    return keep, tabular.pair_codes(model, revision), setting


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
