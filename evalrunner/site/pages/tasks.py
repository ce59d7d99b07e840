"""One page per task and the tasks index.

`TaskPage`: the registry facts (description, chance level, ceiling, metric, direction), the
task's row of the metrics' per-task table (coverage, extrapolation error, shape census, SNR), its
predictability across families, and per setting a ranking of models by this task (the first
RANKING_ROWS rows shown, all of them in the download) with a chart of score against parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from .. import fmt
from ..charts import scatter_chart
from ..data import SiteData
from ..escape import link
from ..render import Page
from ..tables import Column, make_table
from .common import family_href, metric_table, model_href, task_href
from .predictability import predictability_columns, registry_help, registry_labels
from .science import ScienceSection, task_science

RANKING_ROWS = 100
CHART_MAX_POINTS = 2000  # beyond this the page links the data instead of drawing it


@dataclass(frozen=True)
class TaskRanking:
    setting: str
    name: str
    table: str
    chart: str | None
    n_models: int


@dataclass(frozen=True)
class TaskPage:
    id: str
    name: str
    facts: list[tuple[str, Any]]
    description: str
    citation: str
    url: Markup | None
    subtasks: list[tuple[str, str]]  # (name, href)
    summary: str | None  # table id of the metrics' per-task row
    predictability: str | None
    rankings: list[TaskRanking] = field(default_factory=list)
    note: str = ""
    science: list[ScienceSection] = field(default_factory=list)  # two-stage, diagnostics, pass@k


def task_pages(data: SiteData, ids: list[str] | None = None) -> list[Page]:
    """The page of every task, or of the tasks in `ids` only (the build generates the tasks
    whose inputs changed)."""
    f = data.frames
    root = "../../"
    primary = f.scores[f.scores["primary"]]
    chosen = data.shown_revisions  # across every task of a model: before the cut
    if ids is not None:
        primary = primary[primary["task"].isin(ids)]
    finals = primary.merge(chosen, on=["model", "setting", "revision"]).merge(
        f.models[["model", "name", "n_fit"]], on="model").merge(
        f.families[["family", "name"]].rename(columns={"name": "family_name"}), on="family")
    pred = metric_table(data, "predictability_family_task")
    per_task = metric_table(data, "tasks")
    helps = registry_help(data, "tasks")
    setting_names = f.settings.set_index("setting")["name"]
    by_task = dict(tuple(finals.groupby("task", sort=True)))
    labels = registry_labels(data, "tasks")
    registry = f.tasks.to_dict("records")
    children: dict[Any, list[tuple[str, str]]] = {}  # parent -> its subtasks (name, href)
    for s in registry:
        if not fmt.is_missing(s["parent"]):
            children.setdefault(s["parent"], []).append((s["name"], task_href(root, s["task"])))
    out = []
    for t in registry:
        tid = t["task"]
        if ids is not None and tid not in ids:
            continue
        tables, charts, rankings = [], [], []
        fin = by_task.get(tid, finals.iloc[:0])
        for sid in sorted(fin["setting"].unique()):
            g = fin[fin["setting"] == sid].sort_values(
                ["value", "model"], ascending=[t["direction"] == "lower", True], kind="stable")
            g = g.assign(rank=range(1, len(g) + 1))
            full = g[["rank", "model", "name", "family", "revision", "value", "stderr",
                      "n_items", "n_fit", "tier"]]
            shown = g.head(RANKING_ROWS)  # links only for the rows the page shows
            shown = shown.assign(href=[model_href(root, m) for m in shown["model"]],
                                 family_href=[family_href(root, x) for x in shown["family"]])
            tables.append(make_table(f"ranking-{sid}", shown, [
                Column("rank", "#", "int"), Column("name", "Model", link="href"),
                Column("family_name", "Family", link="family_href"),
                Column("value", "Score (%)", "score", stderr="stderr"),
                Column("n_fit", "N used by fits", "count"), Column("tier", "Tier")],
                data=full))
            chart_id = None
            pts = g[g["n_fit"].notna()]
            if 0 < len(pts) <= CHART_MAX_POINTS:
                chart_id = f"scores-{sid}"
                charts.append(scatter_chart(chart_id, f"{t['name']}: score against parameters",
                                            pd.DataFrame({"name": pts["name"],
                                                          "family": pts["family_name"],
                                                          "x": pts["n_fit"],
                                                          "value": pts["value"]}),
                                            "parameters N (as used by the fits)"))
            rankings.append(TaskRanking(sid, str(setting_names.get(sid, sid)),
                                        f"ranking-{sid}", chart_id, len(g)))
        summary = pred_id = None
        if per_task is not None and "task" in per_task.columns:
            row = per_task[per_task["task"] == tid]
            if len(row):
                summary = "summary"
                cols = [Column(c, labels.get(c, c.replace("_", " ")), _kind(row[c]),
                               helps.get(c, ""), title="reason" if c == "status" else None)
                        for c in row.columns if c not in ("task", "reason")]
                tables.append(make_table("summary", row, cols))
        if pred is not None:
            p = pred[pred["task"] == tid]
            if len(p):
                pred_id = "predictability"
                shown = p.assign(family_href=[family_href(root, x) for x in p["family"]])
                tables.append(make_table(pred_id, shown, predictability_columns(
                    data, link_family=True), data=p))
        subs = children.get(tid, [])
        facts = [("Task id", tid), ("Harness task", t["harness_task"] or tid),
                 ("Metric", t["metric"]), ("Better", t["direction"]),
                 ("Chance level", fmt.pct(t["chance"]) + " %"),
                 ("Ceiling", fmt.pct(t["ceiling"]) + " %"),
                 ("Items", fmt.integer(t["n_items"])), ("Output type", t["output_type"]),
                 ("Category", t["category"])]
        if not fmt.is_missing(t["parent"]):
            facts.append(("Subtask of", Markup('<a href="{}">{}</a>').format(
                task_href(root, t["parent"]), t["parent"])))
        sci_tables, sci_charts, science = task_science(data, tid, root)
        tables += sci_tables
        charts += sci_charts
        ctx = TaskPage(tid, t["name"], facts, t["description"] or "", t["citation"] or "",
                       None if fmt.is_missing(t["url"]) else link(t["url"], t["url"]), subs,
                       summary, pred_id, rankings, data.metrics_note, science)
        out.append(Page(f"tasks/{tid}/index.md", "task.md.j2", ctx, t["name"], tables, charts))
    return out


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_numeric_dtype(series):
        return "fixed3"
    return "text"
