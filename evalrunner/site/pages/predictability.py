"""The predictability page: per setting, a task x family table of the headline backtest (the
leave-largest-out error) with each cell's status and reason, and the full per (family, task)
table with every F-metric.

Column labels and tooltips come from the metric registry where it names the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import fmt
from ..data import SiteData
from ..render import Page
from ..tables import Column, Table, make_table
from .common import family_href, metric_table, settings_by_size, task_href

# column -> (label, kind); registry descriptions become tooltips
PRED_COLUMNS = [
    ("family", "Family", "text"), ("task", "Task", "text"), ("kind", "Kind", "text"),
    ("n", "Points", "int"), ("span_decades", "Span (decades)", "fixed2"),
    ("spearman", "Spearman ρ", "fixed2"), ("r2", "R²", "fixed2"),
    ("llo_pred", "Predicted largest", "score"), ("llo_actual", "Actual largest", "score"),
    ("llo_ae", "Abs. error (LLO)", "score"), ("llo_re", "Rel. error (LLO)", "fixed3"),
    ("skill", "Skill vs naive", "fixed2"), ("rolling_ae", "Rolling-origin error", "score"),
    ("shape", "Shape", "text"), ("emergent", "Emergent", "bool"), ("snr", "SNR", "ratio"),
    ("status", "Status", "text"), ("reason", "Reason", "text"),
]


def registry_help(data: SiteData, table: str) -> dict[str, str]:
    """Tooltip text per column of one metric table, from the metric registry."""
    return {str(e["column"]): f"{e['name']}: {e['description']} ({e['formula']})"
            for e in data.registry if e.get("kind") == "metric" and e.get("table") == table}


def registry_labels(data: SiteData, table: str) -> dict[str, str]:
    """Display name per column of one metric table, from the metric registry."""
    return {str(e["column"]): str(e["name"]) for e in data.registry
            if e.get("kind") == "metric" and e.get("table") == table}


def predictability_columns(data: SiteData, link_task: bool = False,
                           link_family: bool = False) -> list[Column]:
    helps = registry_help(data, "predictability_family_task")
    cols = []
    for key, label, kind in PRED_COLUMNS:
        link = "task_href" if key == "task" and link_task else (
            "family_href" if key == "family" and link_family else None)
        cols.append(Column(key, label, kind, helps.get(key, ""), link=link,
                           title="reason" if key == "status" else None))
    return cols


@dataclass(frozen=True)
class MatrixSetting:
    setting: str
    name: str
    matrix: str  # table id: tasks x families
    full: str  # table id: every row


@dataclass(frozen=True)
class PredictabilityPage:
    settings: list[MatrixSetting] = field(default_factory=list)
    note: str = ""


def _matrix(table_id: str, pred: pd.DataFrame, families: list[str], root: str) -> Table:
    """One row per task, one column per family: the LLO abs. error, or the status."""
    first = pred.drop_duplicates(["task", "family"])
    reason = first["reason"].astype(object)
    why = first["status"].astype(str) + [
        "" if fmt.is_missing(r) or not str(r) else f": {r}" for r in reason]
    text = first["status"].astype(str).where(first["llo_ae"].isna())
    first = first.assign(why=why, text=text)
    wide = {k: first.pivot(index="task", columns="family", values=k)
            for k in ("llo_ae", "why", "text")}
    tasks = list(wide["llo_ae"].index)
    columns: dict[str, Any] = {"task": tasks, "task_href": [task_href(root, t) for t in tasks]}
    for fam in families:
        columns[fam] = wide["llo_ae"][fam].to_numpy()
        columns[f"{fam}__why"] = wide["why"][fam].to_numpy()
        if wide["text"][fam].notna().any():
            columns[f"{fam}__text"] = wide["text"][fam].to_numpy()
    frame = pd.DataFrame(columns)
    cols = [Column("task", "Task", link="task_href")] + [
        # a missing error shows its status instead of a dash
        Column(f, f, "score", help="leave-largest-out absolute error (points of %); the "
               "tooltip gives the status and reason", title=f"{f}__why", missing=f"{f}__text")
        for f in families]
    return make_table(table_id, frame, cols, data=frame.drop(columns=["task_href"]))


def predictability_page(data: SiteData) -> Page:
    pred = metric_table(data, "predictability_family_task")
    root = "../"
    ctx = PredictabilityPage(note=data.metrics_note if pred is None else
                             "Subtasks (the MMLU subjects, for example) are left out of these "
                             "tables; api/v1/predictability_family_task.csv has every row.")
    page = Page("predictability/index.md", "predictability.md.j2", ctx, "Predictability")
    if pred is None:
        return page
    names = data.frames.settings.set_index("setting")["name"]
    tasks = data.frames.tasks
    top = set(tasks.loc[tasks["parent"].isna(), "task"])
    for sid in settings_by_size(data):
        p = pred[(pred["setting"] == sid) & pred["task"].isin(top)]
        if p.empty:
            continue
        families = sorted(p["family"].unique())
        mid, fid = f"matrix-{sid}", f"predictability-{sid}"
        page.tables.append(_matrix(mid, p, families, root))
        shown = p.assign(task_href=[task_href(root, t) for t in p["task"]],
                         family_href=[family_href(root, x) for x in p["family"]])
        page.tables.append(make_table(fid, shown, predictability_columns(data, True, True),
                                      data=p))
        ctx.settings.append(MatrixSetting(sid, str(names.get(sid, sid)), mid, fid))
    return page
