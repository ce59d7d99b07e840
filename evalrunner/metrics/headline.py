"""The headline density: one fit on the reference's average over a fixed task set.

Per (reference, setting) the task set is every task the reference measures there (its fits
with status ok). The reference's mean score over the set, per revision, is fitted like any task
(density.reference_fits) and a target's mean over the same set is inverted through it (the
Densing Law paper's way: one law on the average of the benchmarks). A model without a score on
every task of the set gets no headline density, with the tasks it lacks: a model cannot raise
its density by leaving out a task, nor lower a neighbour's by the tasks it happens to have.
The per-task densities and their geometric mean stay beside it (`tasks_*` columns).

Every reference is published side by side; in each setting the default (the one the pages
lead with) is the reference whose headline is a number for the largest share of the setting's
models (`choose_defaults`), ties to the configured default, then by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import fit, points
from .config import MetricsConfig
from .stats import tie_ranks

if TYPE_CHECKING:
    from evalrunner.memo import Memo

# the pseudo task of the set's mean: with a space in it no task id (a lowercase slug) is it
TASK = "task set mean"
METRIC = "mean"
# density_table's status of the headline row -> the model table's status
_MODEL_STATUS = {"ok": "ok", "above_ceiling": "lower_bound", "above_range": "lower_bound",
                 "below_floor": "upper_bound", "below_range": "upper_bound"}
TASK_COLUMNS = ["tasks_density", "tasks_bound", "tasks_density_bound", "tasks_status"]


Sets = dict[tuple[str, str], dict[str, str]]  # (reference, setting) -> {task: metric}


def task_sets(fits: pd.DataFrame) -> Sets:
    """Per (reference, setting): {task: metric} of the tasks the reference measures there."""
    f = fits[fits["status"] == fit.OK]
    return {(str(r), str(s)): dict(zip(g["task"], g["metric"], strict=True))
            for (r, s), g in f.groupby(["reference", "setting"], sort=True)}


def _of(sets: Sets, reference: str) -> dict[str, dict[str, str]]:
    return {s: t for (r, s), t in sets.items() if r == reference}


def headline_tables(ref_rows: pd.DataFrame, finals: pd.DataFrame, sets: Sets,
                    references: list[str], config: MetricsConfig,
                    cache: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fits on the set means, density_table of the targets' set means), every reference
    against its own task sets."""
    from . import density

    targets = finals.loc[density.density_mask(finals)]
    fits, rows = [], []
    for ref in references:
        mine = _of(sets, ref)
        if not mine:
            continue
        f = density.reference_fits(
            average_rows(ref_rows.loc[ref_rows["family"] == ref], mine, config, True), [ref],
            config, cache)
        fits.append(f)
        rows.append(density.density_table(average_rows(targets, mine, config, False), f,
                                          config, cache.memo if cache is not None else None))
    if not fits:
        return (density.reference_fits(ref_rows.iloc[:0], references, config),
                pd.DataFrame(columns=density.COLUMNS))
    return pd.concat(fits, ignore_index=True), pd.concat(rows, ignore_index=True)


def choose_defaults(per_model: pd.DataFrame, configured: str | None) -> pd.DataFrame:
    """`reference_share` (per setting and reference: the share of the setting's models whose
    headline is a number) and `default_reference` (the reference with the largest share in
    its setting; ties to the configured default, then the first by id)."""
    out = per_model.copy()
    if out.empty:
        return out.assign(reference_share=pd.Series(dtype=float))
    models = out.groupby("setting")["model"].nunique()
    measured = out[out["density"].notna()].groupby(["setting", "reference"])["model"].nunique()
    share = measured.reindex(pd.MultiIndex.from_frame(out[["setting", "reference"]])).fillna(0)
    out["reference_share"] = share.to_numpy(float) / out["setting"].map(models).to_numpy(float)
    best = out.assign(_c=(out["reference"] != configured).astype(int)).sort_values(
        ["setting", "reference_share", "_c", "reference"], ascending=[True, False, True, True],
        kind="stable").drop_duplicates("setting").set_index("setting")["reference"]
    out["default_reference"] = (out["reference"] == out["setting"].map(best)).to_numpy(bool)
    return out


def _in_set(rows: pd.DataFrame, sets: dict[str, dict[str, str]]) -> np.ndarray:
    wanted = pd.MultiIndex.from_tuples(
        [(s, t, m) for s, tasks in sets.items() for t, m in tasks.items()],
        names=["setting", "task", "metric"])
    return pd.MultiIndex.from_frame(rows[["setting", "task", "metric"]].astype(str)).isin(wanted)


def average_rows(rows: pd.DataFrame, sets: dict[str, dict[str, str]], config: MetricsConfig,
                 by_revision: bool) -> pd.DataFrame:
    """One row per (model[, revision], setting, source) that has every task of its setting's
    set: the mean score (stderr sqrt(sum s^2)/k), chance and ceiling, the mean answer loss when
    every task has one, and its point status; task TASK, metric METRIC. `rows` are prepared
    rows (every revision: `by_revision`) or finals (one per task: the model's)."""
    if not sets or rows.empty:
        return rows.iloc[:0].assign(task=pd.Series(dtype=object))
    sub = rows.loc[_in_set(rows, sets)]
    keys = ["setting", "source", "family", "kind", "model"] + (["revision"] if by_revision
                                                                 else [])
    loss = sub["answer_loss"].to_numpy(float)
    sub = sub.assign(s2=sub["s"].to_numpy(float) ** 2,
                     has_loss=(np.isfinite(loss) & (loss > 0)).astype(int))
    g = sub.groupby(keys, sort=True, dropna=False)
    out = g.agg(value=("value", "mean"), s2=("s2", "sum"), k=("task", "nunique"),
                rows=("task", "size"), chance=("chance", "mean"), ceiling=("ceiling", "mean"),
                answer_loss=("answer_loss", "mean"), has_loss=("has_loss", "sum"),
                n_fit=("n_fit", "first"), tokens=("tokens", "first"),
                final=("final", "all"), revision_first=("revision", "first")).reset_index()
    need = out["setting"].map({s: len(t) for s, t in sets.items()}).to_numpy(int)
    out = out.loc[(out["k"].to_numpy(int) == need) & (out["rows"].to_numpy(int) == need)].copy()
    if not by_revision:
        out["revision"] = out.pop("revision_first")
    else:
        out = out.drop(columns="revision_first")
    k = out["k"].to_numpy(float)
    out["answer_loss"] = out["answer_loss"].where(out["has_loss"] == out["k"])
    out["s"] = np.sqrt(out["s2"].to_numpy(float)) / k
    out["zs"] = points.z_band(out["s"], out["chance"], out["ceiling"], config)
    higher = np.ones(len(out), dtype=bool)
    out["point_status"] = points.status(out["value"], out["zs"], out["chance"], out["ceiling"],
                                        higher, config)
    out = out.assign(task=TASK, metric=METRIC, category="capability", higher=True,
                     parent=np.nan, stderr=out["s"])
    return out.drop(columns=["s2", "k", "rows", "has_loss"]).reset_index(drop=True)


def attach(per_model: pd.DataFrame, headline: pd.DataFrame, per_task: pd.DataFrame,
           sets: Sets) -> pd.DataFrame:
    """model_table's rows with the headline density in `density`, `bound`, `density_bound`,
    `status`, `reason` (and `task_set`, `n_hat`, its 95% interval `density_low` to
    `density_high` and `density_rank` with tie groups); the geometric mean over the tasks
    moves to the TASK_COLUMNS."""
    out = per_model.copy()
    for new, old in zip(TASK_COLUMNS, ["density", "bound", "density_bound", "status"],
                        strict=True):
        out[new] = out[old]
    keys = ["model", "setting", "reference"]
    h = headline.set_index(keys)
    at = pd.MultiIndex.from_frame(out[keys])
    found = at.isin(h.index)
    hit = h.reindex(at[found])
    pairs = list(zip(out["reference"], out["setting"], strict=True))
    out["task_set"] = [";".join(sorted(sets.get(p, {}))) for p in pairs]
    out["n_hat"] = np.nan
    for col in ("density", "density_bound", "n_hat", "density_low", "density_high"):
        out.loc[found, col] = hit[col].to_numpy(float)
        out.loc[~found, col] = np.nan
    out["bound"] = ""
    out.loc[found, "bound"] = hit["bound"].to_numpy(object)
    status = hit["status"].map(_MODEL_STATUS).fillna("not_measured").to_numpy(object)
    out.loc[found, "status"] = status
    size = pd.Series([len(sets.get(p, {})) for p in pairs], index=out.index)
    out.loc[found, "reason"] = [
        f"{_lead(st)} the mean over the setting's {n} tasks ({tasks}): {why}"
        for st, n, tasks, why in zip(status, size[found], out.loc[found, "task_set"],
                                     hit["reason"], strict=True)]
    have = per_task.groupby(["model", "setting"])["task"].agg(set)
    missing = [_missing(sets.get((r, s), {}), have.get((m, s), set()))
               for m, s, r in zip(out.loc[~found, "model"], out.loc[~found, "setting"],
                                  out.loc[~found, "reference"], strict=True)]
    out.loc[~found, "status"] = "not_measured"
    out.loc[~found, "reason"] = missing
    # ranks by headline density with tie groups: models whose intervals overlap share a rank
    out["density_rank"] = np.nan
    for _, at in out.groupby(["setting", "reference"], sort=False).indices.items():
        lo, hi = (out[c].to_numpy(float)[at] for c in ("density_low", "density_high"))
        number = out["density"].to_numpy(float)[at]
        out.loc[out.index[at], "density_rank"] = tie_ranks(np.where(np.isfinite(number), lo,
                                                                    np.nan), hi)
    return out


def _lead(status: str) -> str:
    return {"ok": "in range:", "lower_bound": "a lower bound:",
            "upper_bound": "an upper bound:"}.get(status, "not measured:")


def _missing(task_set: dict[str, str], have: set[str]) -> str:
    if not task_set:
        return ("no headline density: this reference measures no task in this setting "
                "(per-task densities beside it)")
    lacking = sorted(set(task_set) - have)
    if lacking:
        return (f"no headline density: no score on {len(lacking)} of the setting's "
                f"{len(task_set)} tasks ({', '.join(lacking)}); a density over a different task "
                "set would not compare with its neighbours'")
    return ("no headline density: this reference has no usable fit on the mean over the "
            "setting's task set")


CHECKPOINT_COLUMNS = ["model", "revision", "setting", "reference", "tokens", "density", "bound",
                      "density_bound", "density_low", "density_high", "status", "reason"]


def checkpoint_table(rows: pd.DataFrame, set_fits: pd.DataFrame, sets: Sets,
                     per_model: pd.DataFrame, config: MetricsConfig,
                     memo: Memo | None = None) -> pd.DataFrame:
    """Per (model, revision, setting) of every model with several revisions with tokens: the
    headline density of that revision against the setting's default reference (its mean over
    the task set inverted through the set fit), with its 95% interval, or its bound. The final
    revision's row is the model's headline; earlier ones show how density grew in training.
    `memo`: the build's store, for the intervals (density.judge)."""
    from . import density, tabular

    empty = pd.DataFrame(columns=CHECKPOINT_COLUMNS)
    if per_model.empty or set_fits.empty or rows.empty:
        return empty
    defaults = per_model.loc[per_model["default_reference"].astype(bool),
                             ["setting", "reference"]].drop_duplicates()
    with_tokens = rows.loc[(rows["tokens"] > 0) & density.density_mask(rows)]
    several = with_tokens.groupby(["model", "setting"])["revision"].transform("nunique") > 1
    with_tokens = with_tokens.loc[several.to_numpy(bool)]
    out = []
    for setting, ref in zip(defaults["setting"], defaults["reference"], strict=True):
        mine = sets.get((ref, setting))
        fits = set_fits[(set_fits["reference"] == ref) & (set_fits["setting"] == setting)]
        if not mine or fits.empty:
            continue
        avg = average_rows(with_tokens.loc[with_tokens["setting"] == setting], {setting: mine},
                           config, True)
        if avg.empty:
            continue
        codes = tabular.pair_codes(tabular.codes(avg["model"]), tabular.codes(avg["revision"]))
        found = density.target_pairs(avg, fits, codes)
        if found is None:
            continue
        li, ri = found
        j = density.judge(avg, fits, li, ri, memo)
        status = tabular.strings(density.STATUS, j.status)
        out.append(pd.DataFrame({
            "model": avg["model"].to_numpy(object)[li],
            "revision": avg["revision"].to_numpy(object)[li], "setting": setting,
            "reference": ref, "tokens": avg["tokens"].to_numpy(float)[li],
            "density": j.density, "bound": j.bound, "density_bound": j.n_bound / j.n_m,
            "density_low": j.low, "density_high": j.high,
            "status": [_MODEL_STATUS.get(s, "not_measured") for s in status],
            "reason": tabular.strings(j.labels, j.reason)}))
    if not out:
        return empty
    return pd.concat(out, ignore_index=True).sort_values(
        ["setting", "model", "tokens", "revision"], kind="stable").reset_index(drop=True)
