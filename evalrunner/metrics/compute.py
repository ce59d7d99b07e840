"""The whole metrics pass as one pure function: frames in, tables out (no I/O).

`compute_all(frames, config)` is what `densitometer metrics` writes to CSV and what the site
generator calls in-process. Rows are sorted, so the result does not depend on input row order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from . import checkpoints, densing, density, predictability, task_aggregates
from .config import MetricsConfig
from .prepare import MetricsInputError, prepare


@dataclasses.dataclass(frozen=True)
class MetricTables:
    """Every table `densitometer metrics` publishes (file name = field name + .csv)."""

    predictability_family_task: pd.DataFrame
    checkpoints: pd.DataFrame
    tasks: pd.DataFrame
    density: pd.DataFrame
    density_models: pd.DataFrame
    densing_law: pd.DataFrame
    density_fits: pd.DataFrame
    references: tuple[str, ...]
    default_reference: str | None

    def tables(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), pd.DataFrame)}


def choose_references(families: pd.DataFrame,
                      config: MetricsConfig) -> tuple[list[str], str | None]:
    """The reference families to use and the default among them.

    `config.references` (if given) must name families with `reference: true`; otherwise every
    such family is used. The default is `config.default_reference` when available, else the
    first reference by id.
    """
    flagged = sorted(families.loc[families["reference"].astype(bool), "family"])
    if config.references:
        unknown = [r for r in config.references if r not in flagged]
        if unknown:
            raise MetricsInputError(
                f"reference family {unknown[0]!r} is not a family with reference: true; "
                f"available: {', '.join(flagged) or 'none'}")
        refs = list(config.references)
    else:
        refs = flagged
    if not refs:
        return [], None
    default = config.default_reference if config.default_reference in refs else refs[0]
    return sorted(refs), default


def compute_all(frames: Any, config: MetricsConfig | None = None) -> MetricTables:
    """All metric tables from frames following the loader's contract (evalrunner.results.load)."""
    config = config or MetricsConfig()
    prep = prepare(frames, config)
    points = predictability.family_points(prep.finals, config)
    family = predictability.family_table(points, config)
    ckpt = checkpoints.checkpoint_table(prep.rows, config)
    family = predictability.add_snr(family, prep.finals, ckpt)
    tasks = task_aggregates.task_table(family, points, ckpt, config)

    refs, default = choose_references(frames.families, config)
    fits = density.reference_fits(density.density_rows(prep.rows), refs, config)
    per_task = density.density_table(prep.finals, fits, config)
    per_model = density.model_table(per_task, frames.models, default or "", config)
    law = densing.densing_table(per_model, config, default)
    return MetricTables(
        predictability_family_task=family,
        checkpoints=ckpt,
        tasks=tasks,
        density=per_task,
        density_models=per_model,
        densing_law=law,
        density_fits=fits,
        references=tuple(refs),
        default_reference=default,
    )
