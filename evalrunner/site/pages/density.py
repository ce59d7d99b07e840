"""The density page: capacity density against release date with the densing-law line, the
doubling time with its interval, and the reference family's fits (METRICS.md section 1).

Context: `DensityPage`. The chart's points are the metrics' density_models rows for the headline
reference family; the line is `rho_max(t) = exp(A*t + B)`, t in days since the epoch.
"""

from __future__ import annotations

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
from .common import metric_table, model_href
from .predictability import registry_help


@dataclass(frozen=True)
class DensityPage:
    reference: str | None
    d0: str
    law: list[tuple[str, Any]] = field(default_factory=list)  # facts of the densing-law fit
    chart: str | None = None
    models: str | None = None  # table id
    fits: str | None = None  # table id of the reference fits
    note: str = ""


def _pick(frame: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def _law_line(law: dict[str, Any], points: pd.DataFrame, epoch: dt.date) -> pd.DataFrame | None:
    a, b = law.get("A", law.get("a")), law.get("B", law.get("b"))
    if fmt.is_missing(a) or fmt.is_missing(b) or points.empty:
        return None
    dates = pd.to_datetime(points["release_date"])
    t0 = pd.Timestamp(epoch)
    days = np.linspace((dates.min() - t0).days, (dates.max() - t0).days, 30)
    return pd.DataFrame({"release_date": [t0 + pd.Timedelta(days=float(d)) for d in days],
                         "density": np.exp(float(a) * days + float(b))})


def density_page(data: SiteData) -> Page:
    from evalrunner.metrics.config import MetricsConfig

    models = metric_table(data, "density_models")
    law = metric_table(data, "densing_law")
    fits = metric_table(data, "density")
    helps = registry_help(data)
    ctx = DensityPage(data.reference, fmt.count(data.d0) if data.d0 else fmt.MISSING,
                      note=data.metrics_note)
    page = Page("density/index.md", "density.md.j2", ctx, "Capacity density")
    root = "../"
    points = pd.DataFrame(columns=["name", "family", "release_date", "density"])
    if models is not None and "model" in models.columns:
        value = _pick(models, "density", "rho")
        m = models.merge(data.frames.models[["model", "name", "release_date"]], on="model",
                         how="left", suffixes=("_m", ""))
        if "family" not in m.columns:
            m = m.merge(data.frames.models[["model", "family"]], on="model")
        m = m.assign(href=[model_href(root, x) for x in m["model"]])
        cols = [Column("name", "Model", link="href"), Column("family", "Family")]
        cols += [Column(c, c.replace("_", " "), "ratio" if pd.api.types.is_float_dtype(
            m[c]) else "text", helps.get(c, "")) for c in models.columns
                 if c not in ("model", "family", "name")]
        page.tables.append(make_table("models", m, cols, data=models))
        ctx = _replace(ctx, models="models")
        if value is not None:
            ok = m[m[value].notna() & (m[value] > 0) & m["release_date"].notna()]
            points = pd.DataFrame({"name": ok["name"], "family": ok["family"],
                                   "release_date": ok["release_date"], "density": ok[value]})
            points = points.sort_values(["release_date", "name"], kind="stable")
    if law is not None and len(law):
        row = law.iloc[0].to_dict()
        facts = [(k.replace("_", " "), _show(v)) for k, v in row.items()]
        ctx = _replace(ctx, law=facts)
        line = _law_line(row, points, MetricsConfig().epoch)
    else:
        line = None
    if len(points):
        chart = density_time_chart("density-time", "Capacity density against release date",
                                   points, line)
        page.charts.append(chart)
        ctx = _replace(ctx, chart=chart.id)
    if fits is not None:
        page.tables.append(make_table("fits", fits, [
            Column(c, c.replace("_", " "), "ratio" if pd.api.types.is_float_dtype(fits[c])
                   else "text", helps.get(c, "")) for c in fits.columns]))
        ctx = _replace(ctx, fits="fits")
    page.context = ctx
    return page


def _show(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return fmt.sig(v, 4)
    return fmt.MISSING if fmt.is_missing(v) else str(v)


def _replace(ctx: DensityPage, **kw: Any) -> DensityPage:
    from dataclasses import replace

    return replace(ctx, **kw)
