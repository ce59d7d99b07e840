"""The whole metrics pass as one pure function: frames in, tables out (no I/O).

`compute_all(frames, config)` is what `densitometer metrics` writes to CSV and what the site
generator calls in-process. Rows are sorted, so the result does not depend on input row order.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import (
    checkpoints,
    densing,
    density,
    diagnostics,
    fitcache,
    headline,
    itemdata,
    ladder,
    passk,
    predictability,
    task_aggregates,
    twostage,
)
from .config import MetricsConfig
from .prepare import MetricsInputError, prepare

if TYPE_CHECKING:
    from evalrunner.memo import Memo


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
    # two-stage prediction, continuous-metric diagnostics, inference-time scaling
    twostage: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    diagnostics: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    passk: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    passuntil: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    # a ladder's forecasts of its larger runs and targets, checked where they exist
    ladder: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    # the same per rolling origin: how the forecasts met the targets that exist
    ladder_summary: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    # the headline density of every revision of a model with several, with its interval
    checkpoint_density: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if isinstance(getattr(self, f.name), pd.DataFrame)}


class _Clock:
    """Calls a stage and, when asked to, records its wall time under a name."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings

    def __call__(self, name: str, func, *args):
        start = time.perf_counter()
        out = func(*args)
        if self.timings is not None:
            self.timings[name] = time.perf_counter() - start
        return out


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


def compute_all(frames: Any, config: MetricsConfig | None = None,
                timings: dict[str, float] | None = None,
                items: pd.DataFrame | None = None, prepared: Any = None,
                memo: Memo | None = None) -> MetricTables:
    """All metric tables from frames following the loader's contract (evalrunner.results.load).

    If `timings` is given, the wall time of each stage (seconds) is recorded in it. `items`:
    per-item rows of the runner's per-sample logs (evalrunner.metrics.itemdata) for the
    diagnostics and pass@k tables, which are empty without them. `prepared`: what
    `prepare(frames, config)` returned, for a caller that needs the rows too (it is the
    biggest intermediate at scale: made once). `memo`: the build's store
    (evalrunner.memo), where reference fits, density intervals and two-stage rows are kept so
    unchanged ones are not redone.
    """
    config = config or MetricsConfig()
    clock = _Clock(timings)
    prep = prepared if prepared is not None else clock("prepare", prepare, frames, config)
    points = clock("family points", predictability.family_points, prep.finals, config)
    family = clock("F0-F7", predictability.family_table, points, config)
    ckpt = clock("C1-C5", checkpoints.checkpoint_table, prep.rows, config)
    family = clock("F8", predictability.add_snr, family, prep.finals, ckpt)
    tasks = clock("T1-T6", task_aggregates.task_table, family, points, ckpt, config)

    refs, default = choose_references(frames.families, config)
    cache = fitcache.FitCache(memo) if memo is not None and memo.enabled else None
    ref_rows = density.density_rows(prep.rows, refs)
    fits = clock("reference fits", density.reference_fits, ref_rows, refs, config, cache)
    # the headline: per reference, one fit on its mean over the setting's task set
    sets = headline.task_sets(fits)
    set_fits, per_set = clock("task set fits", headline.headline_tables, ref_rows, prep.finals,
                              sets, refs, config, cache)
    predicted = clock("ladder predictions", ladder.ladder_table, prep.rows, prep.finals, refs,
                      config, cache)
    per_task = clock("density", density.density_table, prep.finals, fits, config, memo)
    per_model = clock("density per model", density.model_table, per_task, frames.models,
                      default or "", config)
    per_model = headline.choose_defaults(headline.attach(per_model, per_set, per_task, sets),
                                         default)
    ckpt_density = clock("checkpoint density", headline.checkpoint_table, prep.rows, set_fits,
                         sets, per_model, config, memo)
    fits = pd.concat([fits, set_fits], ignore_index=True) if len(set_fits) else fits
    fits = fits.drop(columns=density.BOOT)  # the draws live in the intervals, not in a table
    law = clock("densing law", densing.densing_table, per_model, config, default)
    items = items if items is not None else pd.DataFrame(columns=itemdata.COLUMNS)
    pk = clock("pass@k", passk.passk_table, items)
    cov = clock("coverage", passk.coverage_table, pk, prep.rows)
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
        twostage=clock("two-stage", twostage.twostage_table, prep.rows, prep.finals,
                       frames.scores, config, memo),
        diagnostics=clock("diagnostics", diagnostics.diagnostics_table, items, prep.rows),
        passk=pk,
        coverage=cov,
        passuntil=clock("PassUntil", passk.passuntil_table, cov, prep.rows),
        ladder=predicted,
        ladder_summary=ladder.summary_table(predicted),
        checkpoint_density=ckpt_density,
    )
