"""One page per family: its models, scaling curves per task (the P_pow fit and the
leave-largest-out prediction against the actual value), checkpoint trajectories, density over
training and the family's predictability rows.

Context: `FamilyPage` with one `FamilySetting` per setting the family was evaluated in; charts
and tables are referred to by id (the page's `charts` / `tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from .. import fmt, live
from ..charts import ChartBlock, scaling_chart, series_chart, trajectory_chart
from ..data import SiteData, leaderboard_revisions
from ..escape import link
from ..render import Page
from ..tables import Column, Table, frame_csv, make_table
from .common import metric_table, model_href, task_href
from .predictability import predictability_columns
from .science import ScienceSection, family_science

X_TITLES = {"log10_compute": "training compute 6ND (FLOPs)",
            "log10_params": "parameters N (tokens unknown)"}


@dataclass(frozen=True)
class FamilySetting:
    setting: str
    name: str
    charts: list[str]  # scaling chart ids, one per x axis (each with a task picker)
    trajectory: str | None
    density: Markup | None  # where its density over training goes (live.py)
    predictability: str | None


@dataclass(frozen=True)
class FamilyPage:
    id: str
    name: str
    facts: list[tuple[str, Any]]
    links: list[Markup]
    description: str
    models: str  # table id
    settings: list[FamilySetting] = field(default_factory=list)
    note: str = ""
    science: list[ScienceSection] = field(default_factory=list)  # two-stage, diagnostics, pass@k


def _curve(row: dict[str, Any], chance: float,
           ceiling: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, value) of the fitted law over the family's x range (the fit's x is log10 of compute
    or parameters; the returned x is not)."""
    from evalrunner.metrics import laws

    a, b = row.get("fit_a"), row.get("fit_b")
    if fmt.is_missing(a) or fmt.is_missing(b):
        return None
    lo, hi = float(row["x_min"]), float(row["x_max"])
    xs = np.linspace(lo - 0.1, hi + 0.1, 40)
    if row.get("law") == "log_line":
        ys = laws.log_line(a, b, xs)
    else:
        ys = laws.p_pow(a, b, xs, chance, ceiling)
    return 10.0 ** xs, np.asarray(ys, dtype=float)


def _axis(fit: dict[str, Any] | None, has_tokens: bool) -> str:
    """The axis the metrics fitted on; without a fit, compute when every token count is known."""
    axis = None if fit is None else fit.get("x_axis")
    if axis in X_TITLES:
        return str(axis)
    return "log10_compute" if has_tokens else "log10_params"


def _scaling(sid: str, finals: pd.DataFrame, tasks: list[str], tinfo: dict[str, Any],
             pred: pd.DataFrame | None) -> list[ChartBlock]:
    """Score against compute (or parameters) of the family's final models with each task's fit
    and leave-largest-out prediction: one chart per x axis, with a task picker (one chart per
    task made hundreds of charts per family at scale)."""
    pts = finals[finals["task"].isin(tasks)]
    fits = {} if pred is None else {
        r["task"]: r for r in pred[pred["task"].isin(tasks)].drop_duplicates("task")
        .to_dict("records")}
    has_tokens = (pts["tokens"] > 0).groupby(pts["task"]).all().to_dict()
    axes = {t: _axis(fits.get(t), bool(has_tokens.get(t, False))) for t in tasks}
    out = []
    for axis in X_TITLES:
        p = pts[pts["task"].map(axes) == axis]
        x = 6 * p["n_fit"] * p["tokens"] if axis == "log10_compute" else p["n_fit"]
        se = p["stderr"].fillna(0.0)
        points = pd.DataFrame({"task": p["task"], "name": p["name"], "x": x,
                               "value": p["value"], "lo": p["value"] - fmt.Z95 * se,
                               "hi": p["value"] + fmt.Z95 * se})
        points = points[points["x"] > 0]
        present = set(points["task"])
        shown = [t for t in tasks if t in present]
        if not shown:
            continue
        rank = {t: i for i, t in enumerate(shown)}
        points = points.assign(_r=points["task"].map(rank)).sort_values(
            ["_r", "x", "name"], kind="stable").drop(columns="_r")
        curves: dict[str, list] = {"task": [], "x": [], "value": []}
        predicted = []
        for t in shown:
            row = fits.get(t)
            if row is None:
                continue
            curve = _curve(row, float(tinfo[t]["chance"]), float(tinfo[t]["ceiling"]))
            if curve is not None:
                curves["task"] += [t] * len(curve[0])
                curves["x"].append(curve[0])
                curves["value"].append(curve[1])
            if not fmt.is_missing(row.get("llo_pred")):
                predicted.append({"task": t, "x": 10.0 ** float(row["x_max"]),
                                  "value": row["llo_pred"], "actual": row["llo_actual"]})
        suffix = "" if axis == "log10_compute" else "-params"
        out.append(scaling_chart(
            f"scaling-{sid}{suffix}", f"Scaling against {X_TITLES[axis]} (pick a task)",
            points.reset_index(drop=True), X_TITLES[axis], shown,
            [f"{tinfo[t]['name']} ({t})" for t in shown],
            pd.DataFrame({"task": curves["task"], "x": np.concatenate(curves["x"]),
                          "value": np.concatenate(curves["value"])}) if curves["x"] else None,
            pd.DataFrame(predicted) if predicted else None))
    return out


def _trajectory(sid: str, scores: pd.DataFrame, names: dict[str, str],
                tasks: list[str]) -> ChartBlock | None:
    """Checkpoint trajectories of every model with more than one revision with tokens."""
    s = scores[scores["tokens"].notna() & (scores["tokens"] > 0) & scores["task"].isin(tasks)]
    counts = s.groupby("model")["revision"].nunique()
    s = s[s["model"].isin(counts[counts > 1].index)]
    if s.empty:
        return None
    frame = pd.DataFrame({"name": s["model"].map(names), "task": s["task"],
                          "revision": s["revision"], "tokens": s["tokens"], "value": s["value"],
                          "n": s["n_fit"]}).sort_values(["n", "name", "task", "tokens"],
                                                        kind="stable")
    present = set(frame["task"])
    shown = [t for t in tasks if t in present]
    return trajectory_chart(f"trajectories-{sid}", "Checkpoint trajectories (pick a task)",
                            frame.reset_index(drop=True), shown)


DENSITY = "family_density"  # the live blocks of a family's density over training


def _density_training(sid: str, density: pd.DataFrame | None, models: pd.DataFrame,
                      names: dict[str, str]) -> ChartBlock | None:
    """The headline density of each checkpoint against tokens seen, with its 95% interval as
    a band (the metrics' checkpoint_density table)."""
    if density is None:
        return None
    size = models.set_index("model")["n_fit"]
    d = density[(density["setting"] == sid) & density["model"].isin(size.index)
                & density["density"].notna() & (density["density"] > 0)]
    if d.empty:
        return None
    frame = pd.DataFrame({"series_name": d["model"].map(names), "order": d["model"].map(size),
                          "revision": d["revision"], "x": d["tokens"], "y": d["density"],
                          "y_low": d["density_low"], "y_high": d["density_high"]})
    ref = str(d["reference"].iloc[0])
    return series_chart(f"density-{sid}", f"Capacity density over training (headline, "
                        f"against {ref}; band: 95% interval)", frame.reset_index(drop=True),
                        "training tokens", "capacity density", log_y=True)


_NO_DENSITY = ("No checkpoint of this family has a capacity density in this setting (against "
               "the default reference family).")


def family_density(data: SiteData, ids: list[str] | None = None) -> dict[str, str]:
    """The density-over-training chart of every family (or of those in `ids`) in each setting
    it has scores in, as the live blocks its page shows (live.py), with the charts' data: a
    new checkpoint of the headline reference family moves every family's densities, and then
    only these files. A family page shows the block of a setting with checkpoints."""
    f = data.frames
    ids = list(f.families["family"]) if ids is None else ids
    density = metric_table(data, "checkpoint_density")
    names = dict(zip(f.models["model"], f.models["name"], strict=True))
    models = dict(tuple(f.models.groupby("family", sort=False)))
    pairs = f.scores.loc[f.scores["family"].isin(ids), ["family", "setting"]].drop_duplicates()
    out: dict[str, str] = {}
    for fid, sid in zip(pairs["family"], pairs["setting"], strict=True):
        chart = _density_training(sid, density, models.get(fid, f.models.iloc[:0]), names)
        if chart is None:
            out[live.path(DENSITY, fid, sid)] = live.note(_NO_DENSITY)
            continue
        csv = live.path(DENSITY, fid, f"density-{sid}", suffix=".csv")
        out[csv] = frame_csv(chart.data)
        out[live.path(DENSITY, fid, sid)] = live.chart(chart.id, chart.title, chart.spec,
                                                       csv.rpartition("/")[2])
    return out


def _models_table(f_models: pd.DataFrame, root: str) -> Table:
    m = f_models.assign(href=[model_href(root, x) for x in f_models["model"]])
    m = m.sort_values(["n_fit", "model"], kind="stable")
    return make_table("models", m, [
        Column("name", "Model", link="href"), Column("n_non_embedding", "Params (non-emb.)",
                                                     "count"),
        Column("n_total", "Params (total)", "count"), Column("training_tokens", "Tokens", "count"),
        Column("release_date", "Released", "date"), Column("kind", "Kind"),
        Column("open_weights", "Open weights", "bool")],
        data=m.drop(columns="href"))


def family_pages(data: SiteData, ids: list[str] | None = None) -> list[Page]:
    """The page of every family, or of the families in `ids` only (the build generates the
    families whose inputs changed, in slices over parallel processes)."""
    f = data.frames
    families = f.families if ids is None else f.families[f.families["family"].isin(ids)]
    scores = f.scores if ids is None else f.scores[f.scores["family"].isin(ids)]
    root = "../../"
    names = dict(zip(f.models["model"], f.models["name"], strict=True))
    tinfo = {r["task"]: r for r in f.tasks.to_dict("records")}
    top = [t for t in f.tasks["task"] if fmt.is_missing(tinfo[t]["parent"])
           and tinfo[t]["category"] != "bias"]
    top_all = {t for t in f.tasks["task"] if fmt.is_missing(tinfo[t]["parent"])}
    pred_all = metric_table(data, "predictability_family_task")
    # only the columns the charts read, grouped once: filtering the whole score frame per
    # family (pandas takes every column on every filter) was most of this stage at scale
    cols = ["family", "model", "setting", "revision", "step", "final", "task", "value",
            "stderr", "tokens"]
    primary = scores.loc[scores["primary"], cols].merge(
        f.models[["model", "name", "n_fit", "training_tokens"]], on="model")
    # a final revision without a token count has the model's (as the metrics stage does)
    fill = primary["final"] & primary["tokens"].isna()
    primary.loc[fill, "tokens"] = primary.loc[fill, "training_tokens"]
    chosen = leaderboard_revisions(primary).assign(_shown=True)
    primary = primary.merge(chosen, on=["model", "setting", "revision"], how="left")
    primary["_shown"] = primary["_shown"].fillna(False).astype(bool)
    by_family = dict(tuple(primary.groupby("family", sort=False)))
    models_by_family = dict(tuple(f.models.groupby("family", sort=False)))
    pred_by = ({} if pred_all is None else
               dict(tuple(pred_all.groupby(["family", "setting"], sort=False))))
    setting_names = dict(zip(f.settings["setting"], f.settings["name"], strict=True))
    out = []
    for fam in families.to_dict("records"):
        fid = fam["family"]
        doc = data.tree.families[fid]
        fm = models_by_family.get(fid, f.models.iloc[:0])
        tables = [_models_table(fm, root)]
        charts: list[ChartBlock] = []
        sections = []
        fs = by_family.get(fid, primary.iloc[:0])
        # the settings this family has most models in first (then most scores, then id)
        order = fs.groupby("setting").agg(m=("model", "nunique"), r=("value", "size"))
        by_setting = dict(tuple(fs.groupby("setting", sort=False)))
        for sid in sorted(order.index, key=lambda x: (-order.at[x, "m"], -order.at[x, "r"], x)):
            s = by_setting[sid]
            finals = s[s["_shown"] & s["n_fit"].notna()]
            pred = pred_by.get((fid, sid)) if pred_all is not None else None
            present = set(finals["task"])
            tasks = [t for t in top if t in present]
            ids = []
            if finals["model"].nunique() >= 2:
                scaling = _scaling(sid, finals, tasks, tinfo, pred)
                charts += scaling
                ids += [c.id for c in scaling]
            traj = _trajectory(sid, s, names, tasks)
            if traj is not None:
                charts.append(traj)
            pred_id = None
            if pred is not None:  # the page lists top-level tasks; the CSV has subtasks too
                pred = pred[pred["task"].isin(top_all)]
            if pred is not None and len(pred):
                pred_id = f"predictability-{sid}"
                shown = pred.assign(task_href=[task_href(root, t) for t in pred["task"]])
                tables.append(make_table(pred_id, shown, predictability_columns(
                    data, link_task=True), data=pred))
            sections.append(FamilySetting(
                sid, str(setting_names[sid]), ids,
                traj.id if traj else None,
                live.placeholder(f"{root}{live.path(DENSITY, fid, sid)}",
                                 "the density over training") if traj else None, pred_id))
        facts = [("Organisation", fam["organisation"]), ("License", fam["license"]),
                 ("Training data", fam["training_data"] or fmt.MISSING),
                 ("Tokenizer", fam["tokenizer"] or fmt.MISSING),
                 ("Reference family for density", fmt.boolean(fam["reference"])),
                 ("Models", str(len(fm)))]
        sci_tables, sci_charts, science = family_science(data, fid, root)
        tables += sci_tables
        charts += sci_charts
        ctx = FamilyPage(fid, fam["name"], facts, [link(x.url, x.title) for x in doc.links],
                         fam["description"] or "", "models", sections, data.metrics_note,
                         science)
        out.append(Page(f"families/{fid}/index.md", "family.md.j2", ctx, fam["name"], tables,
                        charts))
    return out
