"""Per task, across families: T1-T6 of METRICS.md 2.4.

One row per (setting, task, metric). Families whose points are all at chance are left out of
every aggregate (2.5). T4-T6 place families on compute bins of 0.5 decade of `x = log10(6ND)`;
families without token counts (x = log10 N) cannot share that axis and are left out of T4-T6
(counted in `n_families_no_compute`). A family's score in a bin is the mean of its points there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import MetricsConfig
from .predictability import AXIS_COMPUTE

KEY = ["setting", "task", "metric"]
FAMILY = ["family", "kind", "source"]
COLUMNS = [
    "setting", "task", "metric", "n_families", "n_eligible", "t1_coverage", "t1_fraction",
    "t2_ae_median", "t2_ae_mean", "t2_re_median", "t2_re_mean", "t2_skill_median",
    "t3_n", "t3_monotone", "t3_inverse", "t3_u_shaped", "t3_inverted_u", "t3_flat",
    "t3_emergent", "t4_decision_accuracy", "t4_n_pairs", "t5_rank_tau", "t5_n_bin_pairs",
    "t6_peer_snr", "t6_n_bins", "n_families_no_compute", "status", "reason",
]
SHAPES = ["inverse", "u_shaped", "inverted_u", "flat"]


def _tie_pairs(*cols: np.ndarray) -> int:
    """Pairs equal in every given column (runs of equal rows after a lexicographic sort)."""
    order = np.lexsort(cols[::-1])
    rows = np.stack([c[order] for c in cols], axis=1)
    new_run = np.r_[True, np.any(rows[1:] != rows[:-1], axis=1)]
    counts = np.diff(np.r_[np.flatnonzero(new_run), len(rows)])
    return int((counts * (counts - 1) // 2).sum())


_DIRECT_MAX = 150  # up to this many families the all-pairs sign matrix is the faster count


def agreeing_pairs(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(pairs ordered the same way in a and b, all pairs); a pair tied in both agrees, a pair
    tied in one only does not. Direct for small m, else O(m log m) via Kendall's tau-b."""
    from scipy.stats import kendalltau

    m = len(a)
    n0 = m * (m - 1) // 2
    if m < 2:
        return 0, 0
    if m <= _DIRECT_MAX:
        same = np.sign(a[:, None] - a[None, :]) == np.sign(b[:, None] - b[None, :])
        return (int(same.sum()) - m) // 2, n0  # the diagonal always agrees
    n1, n2, n3 = _tie_pairs(a), _tie_pairs(b), _tie_pairs(a, b)
    untied = n0 - n1 - n2 + n3  # concordant + discordant
    if n1 == n0 or n2 == n0:
        return n3, n0  # one side all tied: only pairs tied in both agree
    tau = kendalltau(a, b, variant="b").statistic
    diff = tau * np.sqrt(float(n0 - n1) * float(n0 - n2))  # concordant - discordant
    concordant = int(round((untied + diff) / 2))
    return concordant + n3, n0


def _bin_scores(points: pd.DataFrame, width: float) -> pd.DataFrame:
    """Families x bins matrix of mean scores (NaN where a family has no model in the bin)."""
    binned = points.assign(bin=np.floor(points["x"] / width).astype(int))
    return binned.pivot_table(index=FAMILY, columns="bin", values="value", aggfunc="mean")


def _decisions(scores: pd.DataFrame) -> tuple[float, int, float, int]:
    """T4 (agreement over every small/large bin pair) and T5 (mean tau-b, consecutive bins)."""
    from scipy.stats import kendalltau

    mat = scores.to_numpy(dtype=float)
    agree = total = 0
    for i in range(mat.shape[1]):
        for j in range(i + 1, mat.shape[1]):
            both = np.isfinite(mat[:, i]) & np.isfinite(mat[:, j])
            if both.sum() >= 2:
                a, n = agreeing_pairs(mat[both, i], mat[both, j])
                agree, total = agree + a, total + n
    occupied = [k for k in range(mat.shape[1]) if np.isfinite(mat[:, k]).sum() >= 2]
    taus = []
    for i, j in zip(occupied[:-1], occupied[1:], strict=True):
        both = np.isfinite(mat[:, i]) & np.isfinite(mat[:, j])
        if both.sum() >= 3:
            tau = kendalltau(mat[both, i], mat[both, j], variant="b").statistic
            if np.isfinite(tau):
                taus.append(tau)
    t4 = agree / total if total else np.nan
    return t4, total, float(np.mean(taus)) if taus else np.nan, len(taus)


def _peer_snr(scores: pd.DataFrame, rel_noise: float) -> tuple[float, int]:
    """T6: per bin, max pairwise |difference| / mean over families, over the median rel_noise;
    the median over bins with at least two families."""
    values = []
    for col in scores.columns:
        v = scores[col].dropna().to_numpy(dtype=float)
        if len(v) >= 2 and v.mean() != 0:
            values.append(np.ptp(v) / v.mean() / rel_noise)
    if not values or not np.isfinite(rel_noise) or rel_noise <= 0:
        return np.nan, len(values)
    return float(np.median(values)), len(values)


def task_table(family: pd.DataFrame, points: pd.DataFrame, checkpoints: pd.DataFrame,
               config: MetricsConfig) -> pd.DataFrame:
    """T1-T6 per (setting, task, metric) from the family table, its points and checkpoints."""
    if family.empty:
        return pd.DataFrame(columns=COLUMNS)
    noise = (checkpoints.groupby(KEY)["c2_rel_noise"].median() if not checkpoints.empty
             else pd.Series(dtype=float))
    eligible_pts = points.merge(family[FAMILY + KEY + ["status"]], on=FAMILY + KEY)
    eligible_pts = eligible_pts.loc[eligible_pts["status"] != "at_chance"]
    pts_by_key = dict(tuple(eligible_pts.groupby(KEY, sort=True)))
    records = []
    for key, rows in family.groupby(KEY, sort=True):
        rec: dict = dict(zip(KEY, key, strict=True))
        rec["n_families"] = len(rows)
        live = rows.loc[rows["status"] != "at_chance"]
        rec["n_eligible"] = len(live)
        # T1/T2: F3 defined and the target ok
        t1 = live.loc[live["llo_ae"].notna() & (live["target_status"] == "ok")]
        rec["t1_coverage"] = len(t1)
        rec["t1_fraction"] = len(t1) / len(live) if len(live) else np.nan
        for col, name in (("llo_ae", "ae"), ("llo_re", "re")):
            v = t1[col].dropna()
            rec[f"t2_{name}_median"] = float(v.median()) if len(v) else np.nan
            rec[f"t2_{name}_mean"] = float(v.mean()) if len(v) else np.nan
        skill = t1["skill"].dropna()
        rec["t2_skill_median"] = float(skill.median()) if len(skill) else np.nan
        # T3 shape census over families with a shape (n >= 3)
        shaped = live.loc[live["shape"].notna()]
        rec["t3_n"] = len(shaped)
        rho = shaped["spearman"]
        rec["t3_monotone"] = float((rho >= config.monotone_rho).mean()) if len(shaped) else np.nan
        for shape in SHAPES:
            rec[f"t3_{shape}"] = float((shaped["shape"] == shape).mean()) if len(shaped) \
                else np.nan
        em = live["emergent"].dropna()
        rec["t3_emergent"] = float(em.astype(bool).mean()) if len(em) else np.nan
        # T4-T6 on the compute axis
        pts = pts_by_key.get(key, points.iloc[:0])
        compute = pts.loc[pts["x_axis"] == AXIS_COMPUTE]
        rec["n_families_no_compute"] = int(
            pts.loc[pts["x_axis"] != AXIS_COMPUTE][FAMILY].drop_duplicates().shape[0])
        if not compute.empty:
            bins = _bin_scores(compute, config.bin_decades)
            (rec["t4_decision_accuracy"], rec["t4_n_pairs"], rec["t5_rank_tau"],
             rec["t5_n_bin_pairs"]) = _decisions(bins)
            rec["t6_peer_snr"], rec["t6_n_bins"] = _peer_snr(bins, float(noise.get(key, np.nan)))
        else:
            rec.update(t4_decision_accuracy=np.nan, t4_n_pairs=0, t5_rank_tau=np.nan,
                       t5_n_bin_pairs=0, t6_peer_snr=np.nan, t6_n_bins=0)
        rec["status"], rec["reason"] = _status(rec, noise.get(key, np.nan))
        records.append(rec)
    table = pd.DataFrame(records, columns=COLUMNS)
    return table.sort_values(KEY, kind="stable").reset_index(drop=True)


def _status(rec: dict, rel_noise: float) -> tuple[str, str]:
    notes = []
    if rec["n_eligible"] == 0:
        return "at_chance", "every family at chance: no aggregates"
    if rec["t1_coverage"] == 0:
        notes.append("no family with F3 defined and its target ok: T2 null")
    if rec["t4_n_pairs"] == 0:
        notes.append("no two families share two compute bins: T4 null")
    if rec["t5_n_bin_pairs"] == 0:
        notes.append("no consecutive bins with 3 common families: T5 null")
    if not np.isfinite(rel_noise):
        notes.append("no checkpoint noise (C2): T6 null")
    if rec["n_families_no_compute"]:
        notes.append(f"{rec['n_families_no_compute']} families without token counts left out "
                     "of T4-T6")
    return ("ok" if not notes else "partial"), "; ".join(notes) or "all defined"
