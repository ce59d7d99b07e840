"""The density page: capacity density against release date with the densing-law line, the
doubling time with its interval, every model's density, and the reference family's fits.
One section per setting; density is always against the default
reference family, which the page names.

Context: `DensityPage` with one `DensitySetting` per setting. The line is
`rho_max(t) = exp(A*t + B)`, t in days since the metrics' epoch (2023-02-24).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import fmt
from ..charts import density_time_chart
from ..data import SiteData
from ..render import Page
from ..tables import Column, make_table
from .common import family_href, metric_table, model_href, settings_by_size
from .predictability import registry_help, registry_labels


@dataclass(frozen=True)
class DensitySetting:
    setting: str
    name: str
    law: list[tuple[str, str]]  # facts of the densing-law fit
    chart: str | None
    models: str  # table id
    task_set: list[str] = field(default_factory=list)  # the tasks the headline averages
    reference: str = ""  # the setting's default reference family
    choice: str = ""  # why it is the default: the shares of models each reference measures
    losses: str | None = None  # table id: per-task implied against true loss, where measured


@dataclass(frozen=True)
class DensityPage:
    reference: str | None
    d0: str
    settings: list[DensitySetting] = field(default_factory=list)
    without: list[tuple[str, str]] = field(default_factory=list)  # (setting name, why)
    fits: str | None = None
    note: str = ""
    factor: str = ""  # the extrapolation factor, as shown


def law_line(law: dict[str, Any], dates: pd.Series, epoch: dt.date) -> pd.DataFrame | None:
    """Points of the fitted densing law over the span of the given release dates from t = 0 on
    (the law is fitted there only)."""
    a, b = law.get("A"), law.get("B")
    if fmt.is_missing(a) or fmt.is_missing(b) or dates.empty:
        return None
    t0 = pd.Timestamp(epoch)
    days = np.linspace(max((dates.min() - t0).days, 0), (dates.max() - t0).days, 30)
    return pd.DataFrame({"release_date": [t0 + pd.Timedelta(days=float(d)) for d in days],
                         "density": np.exp(float(a) * days + float(b))})


def law_facts(law: dict[str, Any]) -> list[tuple[str, str]]:
    doubling = fmt.days(law["doubling_days"])
    if not fmt.is_missing(law["doubling_ci_low"]):
        doubling += (f" (95% interval {fmt.fixed(law['doubling_ci_low'], 1)} to "
                     f"{fmt.fixed(law['doubling_ci_high'], 1)})")
    return [("Status", f"{law['status']}: {law['reason']}"),
            ("Doubling time", doubling), ("A (per day)", fmt.sig(law["A"], 4)),
            ("B", fmt.sig(law["B"], 4)), ("R²", fmt.fixed(law["r2"], 3)),
            ("Record-setting models", f"{law['n_records']} of {law['n_models']}"),
            ("Released before t = 0 (shown, not fitted)", str(law.get("n_before_epoch", 0))),
            ("Bootstrap draws", str(law["n_boot"]))]


def density_page(data: SiteData) -> Page:
    from evalrunner.metrics.config import MetricsConfig

    models = metric_table(data, "density_models")
    per_task = metric_table(data, "density")
    laws = metric_table(data, "densing_law")
    fits = metric_table(data, "density_fits")
    ctx = DensityPage(data.reference, fmt.count(data.d0) if data.d0 else fmt.MISSING,
                      note=data.metrics_note,
                      factor=f"{MetricsConfig().extrapolation_factor:g}")
    page = Page("density/index.md", "density.md.j2", ctx, "Capacity density")
    root = "../"
    if models is None:
        return page
    helps = registry_help(data, "density_models")
    names = data.frames.models.set_index("model")["name"]
    setting_names = data.frames.settings.set_index("setting")["name"]
    default = models[models["default_reference"].astype(bool)]
    for sid in [s for s in settings_by_size(data) if s in set(default["setting"])]:
        m = default[default["setting"] == sid].copy()
        if m["density"].isna().all() and (m["bound"] == "").all():
            counts = m["reason"].value_counts()
            ctx.without.append((str(setting_names.get(sid, sid)),
                                f"no reference family measures a model here ({len(m)} models; "
                                f"most common reason against {m['reference'].iloc[0]}: "
                                f"{counts.index[0]})"))
            continue
        m["name"] = m["model"].map(names)
        m["bound_shown"] = fmt.bound_column(m)
        m["interval_shown"] = fmt.interval_column(m)
        m["href"] = [model_href(root, x) for x in m["model"]]
        m["family_href"] = [family_href(root, x) for x in m["family"]]
        m = m.sort_values(["density", "model"], ascending=[False, True], kind="stable",
                          na_position="last")
        table_id = f"models-{sid}"
        page.tables.append(make_table(table_id, m, [
            Column("density_rank", "Rank", "int", helps.get("density_rank", "")),
            Column("name", "Model", link="href"), Column("family", "Family", link="family_href"),
            Column("density", "Density", "ratio", helps.get("density", "")),
            Column("interval_shown", "95% interval", help=helps.get("density_low", "")),
            Column("bound_shown", "Bound", help=helps.get("density_bound", "")),
            Column("tasks_density", "Per-task mean", "ratio", helps.get("tasks_density", "")),
            Column("n_tasks", "Tasks in range", "int", helps.get("n_tasks", "")),
            Column("n_fit", "N used by fits", "count"),
            Column("n_fit_basis", "N basis",
                   help="non_embedding: the model's non-embedding count, as the reference's; "
                   "active_non_embedding: the same for the parameters a mixture of experts "
                   "uses per token; total or active: only a published (often rounded) count "
                   "is known, so the density is against more parameters than the reference "
                   "counts (a conservative figure)"),
            Column("release_date", "Released", "date"),
            Column("status", "Status", title="reason")],
            data=m.drop(columns=["name", "href", "family_href", "bound_shown",
                                 "interval_shown"])))
        law_rows = [] if laws is None else laws[
            (laws["setting"] == sid) & laws["default_reference"].astype(bool)].to_dict("records")
        law = law_rows[0] if law_rows else None
        ok = m[m["density"].notna() & (m["density"] > 0) & m["release_date"].notna()]
        chart_id = None
        if len(ok):
            points = pd.DataFrame({"name": ok["name"], "family": ok["family"],
                                   "release_date": pd.to_datetime(ok["release_date"]),
                                   "density": ok["density"]}).sort_values(
                ["release_date", "name"], kind="stable")
            line = law_line(law, points["release_date"], MetricsConfig().epoch) if law else None
            chart = density_time_chart(f"density-time-{sid}", "Capacity density against "
                                       "release date (log scale)", points, line)
            page.charts.append(chart)
            chart_id = chart.id
        task_set = str(m["task_set"].iloc[0]) if "task_set" in m and len(m) else ""
        reference = str(m["reference"].iloc[0])
        losses = _loss_table(page, per_task, sid, reference, names, root, data)
        ctx.settings.append(DensitySetting(sid, str(setting_names.get(sid, sid)),
                                           law_facts(law) if law else [], chart_id, table_id,
                                           [t for t in task_set.split(";") if t], reference,
                                           _choice(models[models["setting"] == sid]), losses))
    for sid in settings_by_size(data):
        if sid not in set(default["setting"]):
            ctx.without.append((str(setting_names.get(sid, sid)),
                                f"the reference family {data.reference} has no fit in it"))
    if fits is not None:
        f = fits
        fit_help = registry_help(data, "density_fits")
        labels = registry_labels(data, "density_fits")
        page.tables.append(make_table("fits", f, [
            Column(c, labels.get(c, c), _kind(f[c]), fit_help.get(c, ""),
                   title="reason" if c == "status" else None)
            for c in f.columns if c != "reason"], data=f))
        page.context = dataclasses.replace(ctx, fits="fits")
    return page


def _loss_table(page: Page, per_task: pd.DataFrame | None, sid: str, reference: str,
                names: pd.Series, root: str, data: SiteData) -> str | None:
    """Per task, the loss the link implies from a model's score beside the model's own
    measured loss, for the models outside the reference whose results give one; None when
    none does (most settings: their sources publish no answer losses)."""
    if per_task is None or "loss_true" not in per_task:
        return None
    t = per_task[(per_task["setting"] == sid) & (per_task["reference"] == reference)
                 & (per_task["family"] != reference) & per_task["loss_true"].notna()].copy()
    if t.empty:
        return None
    helps = registry_help(data, "density")
    t["name"] = t["model"].map(names)
    t["href"] = [model_href(root, x) for x in t["model"]]
    t["bound_shown"] = fmt.bound_column(t)
    t = t.sort_values(["model", "task"], kind="stable")
    table_id = f"losses-{sid}"
    page.tables.append(make_table(table_id, t, [
        Column("name", "Model", link="href"), Column("task", "Task"),
        Column("score", "Score", "score", helps.get("score", "")),
        Column("loss_hat", "Implied loss", "ratio", helps.get("loss_hat", "")),
        Column("loss_true", "True loss", "ratio", helps.get("loss_true", "")),
        Column("density", "Density (task)", "ratio", helps.get("density", "")),
        Column("bound_shown", "Bound", help=helps.get("density_bound", "")),
        Column("status", "Status", title="reason")],
        data=t.drop(columns=["name", "href", "bound_shown"])))
    return table_id


def _choice(rows: pd.DataFrame) -> str:
    """'pythia-deduped 47%, cerebras-gpt 0%': each reference's share of the setting's models
    with a headline density, largest first."""
    if "reference_share" not in rows:
        return ""
    share = rows.groupby("reference")["reference_share"].first().sort_values(
        ascending=False, kind="stable")
    return ", ".join(f"{ref} {fmt.fixed(100 * v, 0)}%" for ref, v in share.items())


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "ratio"
    return "text"
