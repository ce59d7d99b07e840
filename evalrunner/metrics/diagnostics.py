"""Continuous-metric diagnostics: how much predictability accuracy destroys.

Schaeffer et al. 2024 ("Why has predicting downstream capabilities of frontier AI models with
scale remained elusive?", arXiv 2406.04391, sections 3-4) follow each item through a chain of
metrics that discards information step by step:

    log p(correct)        ll_gold, lm-eval's log-likelihood of the gold answer (summed tokens)
    p(correct | choices)  exp(ll_gold - ln sum_j exp(ll_j)): the mass on the gold choice,
                          renormalised over the choices (multiple choice only)
    mass on choices       sum_j exp(ll_j): how much probability the model puts on any choice
    accuracy              1 if the gold choice has the largest likelihood, else 0

and measure, per item, the correlation of each metric with scale across models. Here: per
(family, kind, setting, task), the points are every revision with a known compute
x = log10(6*N*D) (checkpoints included, as the paper does for Pythia), else the final revisions at
x = log10(N). For each item, Spearman rho(x, metric) over the points; an item whose metric never
changes carries no information about scale and counts as rho = 0 (so accuracy's many
always-wrong or always-right items lower its mean instead of vanishing from it). Reported: the
mean per-item rho of each metric, the share of items whose accuracy is constant, the Spearman rho
of each metric's item mean (the usual aggregate curve), and `lost = rho(log p) - rho(acc)`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .predictability import AXIS_COMPUTE, AXIS_PARAMS
from .stats import spearman_rows

GROUP = ["family", "kind", "setting", "task"]
METRICS = ("logp", "pchoice", "mass", "acc")
COLUMNS = [
    "family", "kind", "setting", "task", "output_type", "x_axis", "n_points", "n_items",
    "rho_logp", "rho_pchoice", "rho_mass", "rho_acc", "acc_constant_share", "agg_rho_logp",
    "agg_rho_pchoice", "agg_rho_mass", "agg_rho_acc", "lost", "lost_pchoice",
    "logp_largest", "pchoice_largest", "mass_largest", "acc_largest", "status", "reason",
]
MIN_POINTS = 3


def item_metrics(items: pd.DataFrame) -> pd.DataFrame:
    """Add logp, pchoice, mass, acc to summary rows of log-likelihood tasks (others dropped)."""
    ll = items[items["output_type"].isin(["multiple_choice", "loglikelihood"])].copy()
    gold, lse = ll["ll_gold"].to_numpy(float), ll["lse_choices"].to_numpy(float)
    mc = (ll["output_type"] == "multiple_choice").to_numpy()
    ll["logp"] = gold
    ll["pchoice"] = np.where(mc, np.exp(gold - lse), np.nan)
    ll["mass"] = np.where(mc, np.exp(lse), np.nan)
    ll["acc"] = ll["correct"].to_numpy(float)
    return ll


def per_item_spearman(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Spearman rho of each column of `values` (points x items) with x; NaN where a column is
    constant (average ranks for ties)."""
    if values.shape[0] < 2:
        return np.full(values.shape[1], np.nan)
    from scipy.stats import rankdata  # here: importing scipy.stats costs every build ~1 s

    rx = rankdata(x)
    rv = rankdata(values, axis=0)
    dx = rx - rx.mean()
    dv = rv - rv.mean(axis=0)
    sxx, svv = float(dx @ dx), (dv * dv).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (dx @ dv) / np.sqrt(sxx * svv)
    spread = np.ptp(values, axis=0) > 1e-12 * np.maximum(np.abs(values).max(axis=0), 1e-300)
    return np.where(spread & (sxx > 0), np.clip(rho, -1.0, 1.0), np.nan)


def _points(rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The (model, revision, x) points of one group: revisions with compute, else finals."""
    have = rows[rows["n_fit"] > 0]
    comp = have[have["tokens"] > 0]
    if comp["model"].nunique() == have["model"].nunique() and len(comp) >= MIN_POINTS:
        x = np.log10(6.0 * comp["n_fit"].to_numpy(float) * comp["tokens"].to_numpy(float))
        return comp.assign(x=x), AXIS_COMPUTE
    fin = have[have["final"].astype(bool)]
    return fin.assign(x=np.log10(fin["n_fit"].to_numpy(float))), AXIS_PARAMS


def group_row(items: pd.DataFrame, rows: pd.DataFrame) -> dict[str, Any]:
    """One group's diagnostics; `items` with item_metrics columns, `rows` its scores."""
    out: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    out["output_type"] = items["output_type"].iloc[0]
    pts, axis = _points(rows.drop_duplicates(["model", "revision"]))
    out["x_axis"] = axis
    pts = pts.sort_values(["x", "model", "revision"], kind="stable")
    key = items["model"] + "\x1f" + items["revision"]
    items = items[key.isin(set(pts["model"] + "\x1f" + pts["revision"]))]
    items = items.assign(_pt=items["model"] + "\x1f" + items["revision"],
                         _item=items["doc_id"].astype(str) + "\x1f" + items["filter"].astype(str))
    order = list(pts["model"] + "\x1f" + pts["revision"])
    order = [o for o in order if o in set(items["_pt"])]
    out["n_points"] = len(order)
    if len(order) < MIN_POINTS:
        out.update(status="too_few_points", reason=f"{len(order)} revisions with per-item logs; "
                   f"the diagnostics need {MIN_POINTS}")
        return out
    x = pts.drop_duplicates(["model", "revision"]).set_index(
        pts["model"] + "\x1f" + pts["revision"])["x"].reindex(order).to_numpy(float)
    items = items.drop_duplicates(["_pt", "_item"])
    mats = {m: items.pivot(index="_pt", columns="_item", values=m).reindex(order)
            for m in METRICS}
    common = mats["logp"].columns[mats["logp"].notna().all(axis=0).to_numpy()]
    out["n_items"] = len(common)
    if len(common) == 0:
        out.update(status="no_items", reason="no item is logged at every point")
        return out
    reasons = []
    for m in METRICS:
        v = mats[m][common].to_numpy(float)
        if not np.all(np.isfinite(v)):
            continue  # pchoice and mass exist for multiple choice only
        rho = per_item_spearman(x, v)
        out[f"rho_{m}"] = float(np.nan_to_num(rho, nan=0.0).mean())
        out[f"agg_rho_{m}"] = float(spearman_rows(x[None, :], v.mean(axis=1)[None, :])[0])
        out[f"{m}_largest"] = float(v[-1].mean())
        if m == "acc":
            out["acc_constant_share"] = float(np.isnan(rho).mean())
    out["lost"] = out["rho_logp"] - out["rho_acc"]
    out["lost_pchoice"] = out["rho_pchoice"] - out["rho_acc"]
    if out["output_type"] == "loglikelihood":
        reasons.append("one continuation per item: p(correct | choices) and mass not defined")
    out.update(status="ok", reason="; ".join(reasons) or "all defined")
    return out


def diagnostics_table(items: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, kind, setting, task) with per-item logs of a log-likelihood task.

    `items`: itemdata rows; `rows`: the prepared primary scores (all revisions), which give
    each revision's N, tokens and the family's kind.
    """
    if items.empty:
        return pd.DataFrame(columns=COLUMNS)
    ll = item_metrics(items)
    facts = rows[["family", "kind", "model", "revision", "setting", "task", "n_fit", "tokens",
                  "final"]].drop_duplicates(["model", "revision", "setting", "task"])
    ll = ll.merge(facts[["model", "revision", "setting", "task", "kind"]],
                  on=["model", "revision", "setting", "task"])
    out = []
    row_groups = dict(tuple(facts.groupby(GROUP, sort=False)))
    for key, g in ll.groupby(GROUP, sort=True):
        res = group_row(g, row_groups[key])
        res.update(dict(zip(GROUP, key, strict=True)))
        out.append(res)
    table = pd.DataFrame(out, columns=COLUMNS)
    for col in ("n_points", "n_items"):
        table[col] = table[col].astype("Int64")
    return table.sort_values(GROUP, kind="stable").reset_index(drop=True)
