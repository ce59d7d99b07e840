"""Per task, across families: T1-T6.

One row per (setting, task, metric). Families whose points are all at chance are left out of
every aggregate. T4-T6 place families on compute bins of 0.5 decade of `x = log10(6ND)`;
families without token counts (x = log10 N) cannot share that axis and are left out of T4-T6
(counted in `n_families_no_compute`). A family's score in a bin is the mean of its points there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
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
    if len(cols) == 1:
        s = np.sort(cols[0])
        counts = np.diff(np.flatnonzero(np.r_[True, s[1:] != s[:-1], True]))
        return int((counts * (counts - 1) // 2).sum())
    order = np.lexsort(cols[::-1])
    rows = np.stack([c[order] for c in cols], axis=1)
    new_run = np.r_[True, np.any(rows[1:] != rows[:-1], axis=1)]
    counts = np.diff(np.r_[np.flatnonzero(new_run), len(rows)])
    return int((counts * (counts - 1) // 2).sum())


_DIRECT_MAX = 150  # up to this many families the all-pairs sign matrix is the faster count


def agreeing_pairs(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(pairs ordered the same way in a and b, all pairs); a pair tied in both agrees, a pair
    tied in one only does not. Direct for small m, else O(m log m) via Kendall's tau-b."""
    m = len(a)
    n0 = m * (m - 1) // 2
    if m < 2:
        return 0, 0
    if m <= _DIRECT_MAX:
        same = np.sign(a[:, None] - a[None, :]) == np.sign(b[:, None] - b[None, :])
        return (int(same.sum()) - m) // 2, n0  # the diagonal always agrees
    n1, n2 = _tie_pairs(a), _tie_pairs(b)
    n3 = _tie_pairs(a, b) if n1 and n2 else 0
    untied = n0 - n1 - n2 + n3  # concordant + discordant
    if n1 == n0 or n2 == n0:
        return n3, n0  # one side all tied: only pairs tied in both agree
    tau = _kendall(a, b)
    diff = tau * np.sqrt(float(n0 - n1) * float(n0 - n2))  # concordant - discordant
    concordant = int(round((untied + diff) / 2))
    return concordant + n3, n0


def _bin_matrix(group: pd.DataFrame) -> np.ndarray:
    """Families x bins matrix of mean scores from rows (family key, bin, value); NaN = absent."""
    fam_codes, _ = pd.factorize(group["fkey"], sort=True)
    bin_codes, bins = pd.factorize(group["bin"], sort=True)
    mat = np.full((fam_codes.max() + 1, len(bins)), np.nan)
    mat[fam_codes, bin_codes] = group["value"].to_numpy(float)
    return mat


def _decisions(scores: pd.DataFrame | np.ndarray) -> tuple[float, int, float, int]:
    """T4 (agreement over every small/large bin pair) and T5 (mean tau-b, consecutive bins)."""
    mat = np.asarray(scores, dtype=float)
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
            tau = _kendall(mat[both, i], mat[both, j])
            if np.isfinite(tau):
                taus.append(tau)
    t4 = agree / total if total else np.nan
    return t4, total, float(np.mean(taus)) if taus else np.nan, len(taus)


def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) <= _DIRECT_MAX:
        return float(stats.kendall_rows(a, b)[0])
    from scipy.stats import kendalltau

    return float(kendalltau(a, b, variant="b").statistic)


def _peer_snr(scores: pd.DataFrame | np.ndarray, rel_noise: float) -> tuple[float, int]:
    """T6: per bin, max pairwise |difference| / mean over families, over the median rel_noise;
    the median over bins with at least two families."""
    mat = np.asarray(scores, dtype=float)
    values = []
    for k in range(mat.shape[1]):
        v = mat[np.isfinite(mat[:, k]), k]
        if len(v) >= 2 and v.mean() != 0:
            values.append(np.ptp(v) / v.mean() / rel_noise)
    if not values or not np.isfinite(rel_noise) or rel_noise <= 0:
        return np.nan, len(values)
    return float(np.median(values)), len(values)


def _census(family: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """T1-T3 per key with grouped sums, medians and means."""
    live = family["status"] != "at_chance"
    t1 = live & family["llo_ae"].notna() & (family["target_status"] == "ok")
    shaped = live & family["shape"].notna()
    emergent_known = live & family["emergent"].notna()
    cols = {
        "live": live, "t1": t1, "ae": family["llo_ae"].where(t1),
        "re": family["llo_re"].where(t1), "skill": family["skill"].where(t1),
        "shaped": shaped, "mono": shaped & (family["spearman"] >= config.monotone_rho),
        "em_known": emergent_known,
        "em": emergent_known & family["emergent"].fillna(False).astype(bool),
        **{f"is_{s}": shaped & (family["shape"] == s) for s in SHAPES},
    }
    frame = pd.DataFrame({**{k: family[k] for k in KEY}, **cols})
    out = frame.groupby(KEY, sort=True).agg(
        n_families=("live", "size"), n_eligible=("live", "sum"), t1_coverage=("t1", "sum"),
        t2_ae_median=("ae", "median"), t2_ae_mean=("ae", "mean"),
        t2_re_median=("re", "median"), t2_re_mean=("re", "mean"),
        t2_skill_median=("skill", "median"), t3_n=("shaped", "sum"), mono=("mono", "sum"),
        em_known=("em_known", "sum"), em=("em", "sum"),
        **{f"is_{s}": (f"is_{s}", "sum") for s in SHAPES})
    out["t1_fraction"] = out["t1_coverage"] / out["n_eligible"].where(out["n_eligible"] > 0)
    n3 = out["t3_n"].where(out["t3_n"] > 0)
    out["t3_monotone"] = out["mono"] / n3
    for s in SHAPES:
        out[f"t3_{s}"] = out[f"is_{s}"] / n3
    out["t3_emergent"] = out["em"] / out["em_known"].where(out["em_known"] > 0)
    return out


def task_table(family: pd.DataFrame, points: pd.DataFrame, checkpoints: pd.DataFrame,
               config: MetricsConfig) -> pd.DataFrame:
    """T1-T6 per (setting, task, metric) from the family table, its points and checkpoints."""
    if family.empty:
        return pd.DataFrame(columns=COLUMNS)
    noise = (checkpoints.groupby(KEY)["c2_rel_noise"].median() if not checkpoints.empty
             else pd.Series(dtype=float))
    table = _census(family, config)
    live_keys = family.loc[family["status"] != "at_chance", FAMILY + KEY]
    pts = points.merge(live_keys, on=FAMILY + KEY)
    on_compute = pts["x_axis"] == AXIS_COMPUTE
    no_compute = pts.loc[~on_compute].drop_duplicates(KEY + FAMILY).groupby(KEY).size()
    table["n_families_no_compute"] = no_compute.reindex(table.index).fillna(0).astype(int)
    binned = pts.loc[on_compute, KEY + FAMILY + ["x", "value"]].copy()
    binned["bin"] = np.floor(binned["x"] / config.bin_decades).astype(int)
    binned["fkey"] = binned["family"] + "\x00" + binned["kind"] + "\x00" + binned["source"]
    binned = binned.groupby(KEY + ["fkey", "bin"], sort=True)["value"].mean().reset_index()
    decided = {}
    for key, group in binned.groupby(KEY, sort=True):
        mat = _bin_matrix(group)
        decided[key] = _decisions(mat) + _peer_snr(mat, float(noise.get(key, np.nan)))
    names = ["t4_decision_accuracy", "t4_n_pairs", "t5_rank_tau", "t5_n_bin_pairs",
             "t6_peer_snr", "t6_n_bins"]
    empty = (np.nan, 0, np.nan, 0, np.nan, 0)
    for k, name in enumerate(names):
        table[name] = [decided.get(key, empty)[k] for key in table.index]
    table = table.reset_index()
    done = [_status(rec, noise.get(tuple(rec[k] for k in KEY), np.nan))
            for rec in table.to_dict(orient="records")]
    table["status"] = [s for s, _ in done]
    table["reason"] = [r for _, r in done]
    for col in ("n_families", "n_eligible", "t1_coverage", "t3_n", "t4_n_pairs",
                "t5_n_bin_pairs", "t6_n_bins"):
        table[col] = table[col].astype(int)
    return table.sort_values(KEY, kind="stable").reset_index(drop=True)[COLUMNS]


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
