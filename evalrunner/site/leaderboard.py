"""The leaderboard of one setting: one row per model, its average with a 95% interval, tie ranks.

Average: the unweighted mean of the headline scores over the setting's *core tasks* (top-level
capability tasks where higher is better, reported for at least CORE_COVERAGE of the setting's
models). A model missing a core task has no average (shown with the reason), so averages are
always over the same tasks.

Interval: `se_avg = sqrt(sum_t s_t^2) / k` (tasks treated as independent), where `s_t` is the
reported stderr, else the binomial `sqrt(y(1-y)/n_items)`;
95% interval `avg +- 1.96 se_avg`.

Rank as tie groups (as LMSYS Chatbot Arena ranks): `rank_i = 1 + #{j : lo_j > hi_i}`, the number
of models whose whole interval lies above this model's, plus one. Models whose intervals overlap
share a rank; the rank does not depend on the order of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalrunner.metrics.stats import tie_ranks
from evalrunner.results.load import Frames

from . import fmt
from .data import leaderboard_revisions
from .fmt import Z95

CORE_COVERAGE = 0.9


@dataclass(frozen=True)
class Leaderboard:
    """One setting's leaderboard. `rows` has one row per model (see `build_leaderboard`)."""

    setting: str
    tasks: list[str]  # task columns, registry order
    core: list[str]  # the tasks averaged
    rows: pd.DataFrame
    density_reference: str | None = None


def _stderr(values: pd.Series, stderr: pd.Series, n_items: pd.Series) -> pd.Series:
    """Reported stderr, else binomial from n_items (NaN when neither is known)."""
    binomial = np.sqrt(values * (1 - values) / n_items)
    return stderr.where(stderr.notna(), binomial)


def core_tasks(frames: Frames, table: pd.DataFrame, tasks: list[str]) -> list[str]:
    info = frames.tasks.set_index("task")
    n = len(table)
    out = []
    for t in tasks:
        row = info.loc[t]
        if row["category"] != "capability" or row["direction"] != "higher":
            continue
        if n and table[t].notna().sum() >= CORE_COVERAGE * n:
            out.append(t)
    return out


def build_leaderboard(frames: Frames, setting: str, density: pd.DataFrame | None = None,
                      shown: pd.DataFrame | None = None) -> Leaderboard:
    """The leaderboard of `setting`; `density` is the metrics' density_models table, if any;
    `shown`: leaderboard_revisions of every primary score (SiteData.shown_revisions, computed
    once), whose rows of `setting` are the revisions this setting's scores choose."""
    s = frames.scores
    s = s[(s["setting"] == setting) & s["primary"]]
    if shown is None:
        chosen = leaderboard_revisions(s)
    else:  # per model and setting: the same rows, in the same order
        chosen = shown[shown["setting"] == setting].reset_index(drop=True)
    s = s.merge(chosen, on=["model", "setting", "revision"])
    info = frames.tasks.set_index("task")
    t = frames.tasks
    top = set(t.loc[t["parent"].isna() & (t["category"] != "bias"), "task"])
    present = set(s["task"].unique())
    tasks = [t for t in frames.tasks["task"] if t in top and t in present]

    n_items = s["n_items"].fillna(s["task"].map(info["n_items"]).astype("float64"))
    s = s.assign(se=_stderr(s["value"], s["stderr"], n_items))
    values = s.pivot(index="model", columns="task", values="value").reindex(columns=tasks)
    errors = s.pivot(index="model", columns="task", values="se").reindex(columns=tasks)
    core = core_tasks(frames, values, tasks)

    per_model = s.groupby("model", sort=True).agg(
        revision=("revision", "first"), step=("step", "first"), tokens=("tokens", "first"),
        tier=("tier", "first"), source=("source", "first"))
    rows = per_model.join(values).join(errors.add_suffix("__se"))
    if core:
        complete = values[core].notna().all(axis=1)
        avg = values[core].mean(axis=1).where(complete)
        se = np.sqrt((errors[core] ** 2).sum(axis=1, min_count=len(core))) / len(core)
        se = se.where(complete)
    else:
        avg = pd.Series(np.nan, index=values.index)
        se = avg.copy()
    rows["avg"] = avg
    rows["avg_se"] = se
    rows["avg_lo"] = avg - Z95 * se.fillna(0.0)
    rows["avg_hi"] = avg + Z95 * se.fillna(0.0)
    rows["rank"] = tie_ranks(rows["avg_lo"].to_numpy(), rows["avg_hi"].to_numpy())
    if core:
        missing = values[core].isna().to_numpy()
        names = np.array(core, dtype=object)
        reasons = [""] * len(rows)
        for i in np.flatnonzero(missing.any(axis=1)):  # few: a row per model was slow
            reasons[i] = "missing " + ", ".join(names[missing[i]])
        rows["avg_reason"] = reasons
    else:
        rows["avg_reason"] = "no core tasks in this setting"

    models = frames.models.set_index("model")
    fams = frames.families.set_index("family")["name"]
    rows = rows.join(models[["name", "family", "kind", "open_weights", "n_non_embedding",
                             "n_total", "n_fit", "n_fit_basis", "training_tokens",
                             "release_date"]])
    rows["family_name"] = rows["family"].map(fams)
    rows["tokens"] = rows["tokens"].fillna(rows["training_tokens"])
    reference = None
    if density is not None and len(density):
        rows, reference = _join_density(rows, density, setting)
    rows = rows.reset_index().rename(columns={"index": "model"})
    rows = rows.assign(_r=rows["rank"].fillna(np.inf), _a=-rows["avg"].fillna(-np.inf))
    rows = rows.sort_values(["_r", "_a", "model"], kind="stable").drop(columns=["_r", "_a"])
    return Leaderboard(setting, tasks, core, rows.reset_index(drop=True), reference)


def _join_density(rows: pd.DataFrame, density: pd.DataFrame,
                  setting: str) -> tuple[pd.DataFrame, str | None]:
    """Attach the density against the default reference family (metrics' density_models)."""
    d = density[(density["setting"] == setting) & density["default_reference"].astype(bool)]
    if d.empty:
        return rows, None
    reference = str(d["reference"].iloc[0])
    keep = d.drop_duplicates("model").set_index("model")
    rows = rows.assign(density=keep["density"].reindex(rows.index))
    rows["density_shown"] = pd.Series(fmt.density_column(keep), index=keep.index).reindex(
        rows.index)
    why = keep["status"].astype(str) + ": " + keep["reason"].astype(str)
    rows["density_status"] = why.reindex(rows.index)
    return rows, reference
