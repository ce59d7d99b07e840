"""Sections of the family and task pages: two-stage prediction through a
continuous proxy, continuous-metric diagnostics, and inference-time scaling (pass@k coverage
curves, the coverage law and the PassUntil task law).

`family_science(data, family, root)` and `task_science(data, task, root)` return the tables and
charts to add to the page and the `ScienceSection`s the template `_science.j2` renders in order.
Columns take their tooltips from the metric registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import fmt
from ..charts import ChartBlock, predicted_chart, series_chart
from ..data import SiteData
from ..tables import Column, Table, make_table
from .common import family_href, metric_table, model_href, task_href
from .predictability import registry_help


@dataclass(frozen=True)
class ScienceSection:
    title: str
    intro: str
    tables: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


TWOSTAGE = [
    ("setting", "Setting", "text"), ("proxy", "Proxy", "text"), ("n_step1", "Step-1 points", "int"),
    ("n_step2", "Step-2 points", "int"), ("score_actual", "Actual largest", "score"),
    ("pred_chained", "Two-stage", "score"), ("ae_chained", "Two-stage error", "score"),
    ("pred_true_proxy", "From true proxy", "score"), ("ae_true_proxy", "Step-2 error", "score"),
    ("pred_direct", "Direct P_pow", "score"), ("ae_direct", "P_pow error", "score"),
    ("loss_actual", "Proxy (actual)", "fixed3"), ("loss_pred", "Proxy (predicted)", "fixed3"),
    ("link_r2", "Link R²", "fixed2"), ("status", "Status", "text"),
]
DIAGNOSTICS = [
    ("setting", "Setting", "text"), ("n_points", "Points", "int"), ("n_items", "Items", "int"),
    ("rho_logp", "ρ log p(correct)", "fixed2"), ("rho_pchoice", "ρ p(correct | choices)",
                                                  "fixed2"),
    ("rho_mass", "ρ mass on choices", "fixed2"), ("rho_acc", "ρ accuracy", "fixed2"),
    ("acc_constant_share", "Constant-accuracy items", "score"),
    ("lost", "Lost to accuracy", "fixed2"), ("agg_rho_logp", "Aggregate ρ log p", "fixed2"),
    ("agg_rho_acc", "Aggregate ρ accuracy", "fixed2"), ("status", "Status", "text"),
]
COVERAGE = [
    ("setting", "Setting", "text"), ("n_samples", "Samples", "int"), ("n_items", "Items", "int"),
    ("pass_at_1", "pass@1", "score"), ("pass_at_n", "pass@n", "score"),
    ("cov_a", "a", "fixed3"), ("cov_b", "b", "fixed3"), ("k_pred", "Predicted at k", "int"),
    ("coverage_pred", "Predicted coverage", "score"), ("holdout_ae", "Hold-out error", "score"),
    ("status", "Status", "text"),
]
PASSUNTIL = [
    ("setting", "Setting", "text"), ("n", "Models", "int"), ("pu_c", "c", "ratio"),
    ("pu_alpha", "α", "fixed3"), ("llo_pred", "Predicted largest", "score"),
    ("llo_actual", "Actual largest", "score"), ("llo_ae", "Abs. error", "score"),
    ("status", "Status", "text"),
]

TWOSTAGE_INTRO = (
    "The largest model's score predicted in two steps (Gadre et al. 2024; AI2 model ladders): "
    "the proxy loss against scale from the smaller models' final revisions, then the score "
    "against the proxy from all their revisions. Beside it: step 2 alone from the largest "
    "model's true proxy, and the direct P_pow fit of the same final revisions.")
DIAGNOSTICS_INTRO = (
    "Per item, the Spearman correlation with scale (over every revision) of the log-probability "
    "of the correct answer, of its probability among the choices, of the mass on the choices "
    "and of accuracy, averaged over items (Schaeffer et al. 2024). The drop from log p to "
    "accuracy is the predictability the accuracy metric destroys.")
COVERAGE_INTRO = (
    "Repeated sampling: pass@k (the unbiased estimator, averaged over items) for k = 1..n, the "
    "coverage law c(k) = exp(a·k^b) (Brown et al. 2024) extrapolated to 10n samples, and a "
    "hold-out check (fitted on k ≤ n/2, scored at n). Final revisions.")
LADDER = [
    ("setting", "Setting", "text"), ("origin_n", "Fitted up to", "count"),
    ("n_runs", "Runs", "int"), ("label", "Kind", "text"),
    ("score_true", "Actual", "score"), ("pred_chained", "Chained", "score"),
    ("chained_shown", "95% interval", "text"), ("err_chained", "Chained error", "score"),
    ("pred_true_loss", "From true loss", "score"), ("err_true_loss", "Step-2 error", "score"),
    ("loss_true", "True loss", "fixed3"), ("loss_pred", "Predicted loss", "fixed3"),
    ("link_r2", "Step-2 R²", "fixed2"), ("status", "Status", "text"),
]
LADDER_SUMMARY = [
    ("origin_n", "Fitted up to", "count"), ("mae_chained", "Chained error (mean abs.)", "score"),
    ("mae_true_loss", "Step-2 error (mean abs.)", "score"),
    ("loss_mape", "Loss error (mean rel.)", "score"), ("coverage", "Inside 95%", "score"),
    ("n_predictions", "Compared", "int"), ("n_projections", "Projected", "int"),
    ("n_runs", "Runs", "int"), ("link_r2", "Step-2 R²", "fixed2"), ("status", "Status", "text"),
    ("setting", "Setting", "text"),
]
LADDER_INTRO = (
    "A ladder of small runs over sizes and token budgets forecasts larger runs of its recipe "
    "(Bhagia et al. 2024; Gadre et al. 2024): step 1, the task's answer loss (held-out loss "
    "for a grid that recorded only that) L(N, D) = a·N^-α + b·D^-β + E on the "
    "fitted runs' final checkpoints; step 2, a sigmoid from that loss to the score on their "
    "checkpoints. The origin rolls over increasing size: each row says up to which size the "
    "ladder was fitted. A prediction is compared with a target that exists "
    "(errors are predicted minus actual, in points); a projection is a "
    "forecast for a target never scored on the task, and has no error. The interval refits "
    "both steps on the fitted runs resampled with replacement. The first table sums up each "
    "origin (the rolling-origin check: errors should shrink as the origin grows); the second "
    "lists every target.")
PASSUNTIL_INTRO = (
    "The PassUntil task law PU = exp(-c·X^(-α)) on pass@1 from many samples (Hu et al. 2024), "
    "fitted on the smaller models and scored on the largest.")


def _columns(data: SiteData, table: str, spec, first: list[Column]) -> list[Column]:
    helps = registry_help(data, table)
    return first + [Column(k, label, kind, helps.get(k, ""),
                           title="reason" if k == "status" else None) for k, label, kind in spec]


def _first(key: str, label: str, link: str) -> list[Column]:
    return [Column(key, label, link=link)]


def _link(frame: pd.DataFrame, key: str, root: str) -> pd.DataFrame:
    href = {"family": family_href, "task": task_href, "model": model_href}[key]
    return frame.assign(**{f"{key}_href": [href(root, v) for v in frame[key]]})


def _curves(data: SiteData, cov: pd.DataFrame, chart_id: str, title: str) -> ChartBlock | None:
    """pass@k against k, one line per final revision in `cov` (rows of the coverage table)."""
    pk = metric_table(data, "passk")
    if pk is None or cov.empty:
        return None
    keys = ["model", "revision", "setting", "task", "filter"]
    pts = pk.merge(cov[keys], on=keys)
    if pts.empty:
        return None
    frame = pd.DataFrame({"series_name": pts["model"] + " · " + pts["task"], "x": pts["k"],
                          "y": pts["pass_at_k"]})
    return series_chart(chart_id, title, frame.reset_index(drop=True), "samples k",
                        "coverage pass@k")


def _sections(data: SiteData, where: str, value: str, other: str, root: str
              ) -> tuple[list[Table], list[ChartBlock], list[ScienceSection]]:
    """The three sections for rows with `where == value`; `other` is the linked first column
    (task on a family page, family on a task page)."""
    label = {"task": "Task", "family": "Family"}[other]
    tables: list[Table] = []
    charts: list[ChartBlock] = []
    sections: list[ScienceSection] = []
    for name, spec, title, intro in (
            ("twostage", TWOSTAGE, "Two-stage prediction", TWOSTAGE_INTRO),
            ("diagnostics", DIAGNOSTICS, "Accuracy against continuous metrics",
             DIAGNOSTICS_INTRO)):
        t = metric_table(data, name)
        rows = t[t[where] == value] if t is not None else None
        if rows is not None and len(rows):
            shown = _link(rows, other, root)
            tables.append(make_table(name, shown, _columns(
                data, name, spec, _first(other, label, f"{other}_href")), data=rows))
            sections.append(ScienceSection(title, intro, [name]))
    found = _ladder_section(data, where, value, other, root)
    if found is not None:
        tables.extend(found[0])
        charts.extend(found[1])
        sections.append(found[2])
    cov = metric_table(data, "coverage")
    pu = metric_table(data, "passuntil")
    ids: list[str] = []
    chart_ids: list[str] = []
    if cov is not None:
        rows = cov[(cov[where] == value) & cov["final"].astype(bool)]
        if len(rows):
            shown = _link(rows, "model", root)
            tables.append(make_table("coverage", shown, _columns(
                data, "coverage", COVERAGE, _first("model", "Model", "model_href")
                + [Column(other, label)]), data=rows))
            ids.append("coverage")
            for sid, g in rows.groupby("setting", sort=True):
                c = _curves(data, g, f"coverage-{sid}", f"Coverage against samples ({sid})")
                if c is not None:
                    charts.append(c)
                    chart_ids.append(c.id)
    if pu is not None:
        rows = pu[pu[where] == value]
        if len(rows):
            shown = _link(rows, other, root)
            tables.append(make_table("passuntil", shown, _columns(
                data, "passuntil", PASSUNTIL, _first(other, label, f"{other}_href")),
                data=rows))
            ids.append("passuntil")
    if ids:
        sections.append(ScienceSection("Inference-time scaling", COVERAGE_INTRO + " "
                                       + PASSUNTIL_INTRO, ids, chart_ids))
    return tables, charts, sections


def _ladder_section(data: SiteData, where: str, value: str, other: str, root: str):
    """(tables, charts, section) of the ladder predictions that concern this family (as the
    ladder or as a target's family) or this task: per origin, then per target; None when
    there are none."""
    t = metric_table(data, "ladder")
    if t is None or t.empty:
        return None
    rows = (t[(t["reference"] == value) | (t["target_family"] == value)] if where == "family"
            else t[t["task"] == value])
    if rows.empty:
        return None
    shown = rows.assign(chained_shown=[
        fmt.MISSING if fmt.is_missing(lo) or fmt.is_missing(hi) else
        f"{fmt.pct(lo)} to {fmt.pct(hi)}"
        for lo, hi in zip(rows["chained_low"], rows["chained_high"], strict=True)])
    shown = shown.rename(columns={"target": "model"}).assign(family=rows["reference"])
    shown = _link(_link(shown, other, root), "model", root)
    table = make_table("ladder", shown, _columns(
        data, "ladder", LADDER, _first(other, {"task": "Task", "family": "Ladder"}[other],
                                       f"{other}_href")
        + [Column("model", "Target", link="model_href")]), data=rows)
    # every forecast that has a score to meet: the ladder's larger runs and other families'
    compared = rows[(rows["label"] == "prediction") & rows["pred_chained"].notna()]
    charts = []
    if len(compared):
        points = pd.DataFrame({
            "target": compared["target"], "role": compared["role"], "task": compared["task"],
            "origin": [fmt.count(x) for x in compared["origin_n"]],
            "origin_n": compared["origin_n"], "actual": compared["score_true"],
            "predicted": compared["pred_chained"], "low": compared["chained_low"],
            "high": compared["chained_high"]}).reset_index(drop=True)
        charts.append(predicted_chart("ladder-predicted", "Ladder predictions of the larger "
                                      "runs and target models against their actual scores",
                                      points))
    tables, ids = [table], ["ladder"]
    summary = metric_table(data, "ladder_summary")
    if summary is not None:  # a target family's page has no origin of its own
        summary = summary[summary["task" if where == "task" else "reference"] == value]
    if summary is not None and len(summary):
        shown = _link(summary.assign(family=summary["reference"]), other, root)
        tables.insert(0, make_table("ladder_summary", shown, _columns(
            data, "ladder_summary", LADDER_SUMMARY, _first(other, {"task": "Task", "family":
                                                                   "Ladder"}[other],
                                                           f"{other}_href")), data=summary))
        ids.insert(0, "ladder_summary")
    return tables, charts, ScienceSection("Ladder predictions", LADDER_INTRO, ids,
                                          [c.id for c in charts])


def family_science(data: SiteData, family: str, root: str):
    """(tables, charts, sections) for a family page."""
    return _sections(data, "family", family, "task", root)


def task_science(data: SiteData, task: str, root: str):
    """(tables, charts, sections) for a task page."""
    return _sections(data, "task", task, "family", root)
