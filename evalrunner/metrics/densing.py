"""The densing law (Xiao et al. 2024, arXiv 2412.04315, section 3):
`ln(rho_max(t)) = A*t + B`, t in days since 2023-02-24 (Llama-1).

Models are ordered by release date (then id); a model sets a record when its density exceeds
every earlier model's, and the line is fitted by OLS to the record setters. Doubling time is
`ln(2)/A` days (ln(2)/0.0073 = 94.95). The 95% interval of A comes from 1,000 bootstrap
resamples of the models (fixed seed), each re-deriving its own records; draws with fewer than
two distinct record dates are dropped and counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from . import fit
from .config import MetricsConfig

COLUMNS = ["setting", "reference", "A", "B", "r2", "doubling_days", "ci_low", "ci_high",
           "n_models", "n_records", "doubling_ci_low", "doubling_ci_high", "n_boot",
           "n_before_epoch", "default_reference", "status", "reason"]


@dataclasses.dataclass(frozen=True)
class DensingFit:
    A: float
    B: float
    r2: float
    doubling_days: float
    ci_low: float
    ci_high: float
    n_models: int
    n_records: int
    n_boot: int
    status: str
    reason: str


def doubling_days(a: float) -> float:
    """`ln(2)/A`; NaN unless A > 0."""
    return float(np.log(2.0) / a) if a > 0 else float("nan")


def records(t: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Record setters along axis -1 of arrays already sorted by date: rho above every earlier."""
    prev = np.maximum.accumulate(rho, axis=-1)
    prev = np.concatenate([np.full(rho.shape[:-1] + (1,), -np.inf), prev[..., :-1]], axis=-1)
    return rho > prev


def _bootstrap_slopes(t: np.ndarray, rho: np.ndarray, present: np.ndarray) -> np.ndarray:
    """OLS slope of ln(rho) on t over each draw's records (rows of `present`, models sorted by
    date); draws with fewer than two distinct record dates are dropped.

    Walks the models in date order keeping every draw's running maximum and the OLS sums, so the
    cost is O(models x draws) with no (draws, models) temporaries.
    """
    draws = present.shape[0]
    best = np.full(draws, -np.inf)
    n = st = sy = stt = sty = np.zeros(draws)
    first = np.full(draws, np.inf)
    last = np.full(draws, -np.inf)
    cols = np.ascontiguousarray(present.T)
    for j, (tj, yj, rj) in enumerate(zip(t, np.log(rho), rho, strict=True)):
        rec = cols[j] & (rj > best)
        best = np.where(rec, rj, best)
        w = rec.astype(float)
        n, st, sy = n + w, st + w * tj, sy + w * yj
        stt, sty = stt + w * tj * tj, sty + w * tj * yj
        first, last = np.where(rec, np.minimum(first, tj), first), np.where(rec, tj, last)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (sty - st * sy / n) / (stt - st * st / n)
    return slope[(last > first) & np.isfinite(slope)]


def fit_densing(t: np.ndarray, rho: np.ndarray, config: MetricsConfig) -> DensingFit:
    """The densing-law fit of models at days t with densities rho (any order)."""
    t, rho = np.asarray(t, dtype=float), np.asarray(rho, dtype=float)
    keep = np.isfinite(t) & np.isfinite(rho) & (rho > 0)
    t, rho = t[keep], rho[keep]
    order = np.lexsort((-rho, t))  # by date; on one date the densest first, so ties never count
    t, rho = t[order], rho[order]
    m = len(t)
    rec = records(t, rho)
    nan = float("nan")
    need = config.densing_min_records
    if len(np.unique(t[rec])) < need:
        return DensingFit(nan, nan, nan, nan, nan, nan, m, int(rec.sum()), 0, "too_few_records",
                          f"{int(rec.sum())} record-setting models on distinct dates among {m} "
                          f"dated models with a density; the law needs {need}: a line through "
                          "fewer is not a trend")
    line = fit.ols_lines(t[rec], np.log(rho[rec]))
    a, b = float(line.params["a"][0]), float(line.params["b"][0])
    y = np.log(rho[rec])
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(np.nansum(line.residuals ** 2)) / ss_tot if ss_tot > 0 else nan
    # Bootstrap: resample models with replacement and recompute the records of each draw. A
    # copy of a model never beats itself, so a draw is fully described by which models it holds.
    rng = np.random.default_rng(config.seed)
    draws = config.bootstrap_draws
    picks = rng.integers(0, m, size=(draws, m)) + m * np.arange(draws)[:, None]
    present = np.bincount(picks.ravel(), minlength=draws * m).reshape(draws, m) > 0
    slopes = _bootstrap_slopes(t, rho, present)
    lo, hi = (np.percentile(slopes, [2.5, 97.5]) if len(slopes) else (nan, nan))
    reason = f"OLS on {int(rec.sum())} records of {m} models; {len(slopes)} valid bootstrap draws"
    status = "ok" if b > 0 else "no_growth"
    if b <= 0:
        reason += "; A <= 0: no doubling time"
    return DensingFit(b, a, r2, doubling_days(b), float(lo), float(hi), m, int(rec.sum()),
                      len(slopes), status, reason)


def densing_table(models: pd.DataFrame, config: MetricsConfig,
                  default_reference: str | None = None) -> pd.DataFrame:
    """One row per (setting, reference) from the per-model density table."""
    if models.empty:
        return pd.DataFrame(columns=COLUMNS)
    epoch = pd.Timestamp(config.epoch)
    records_out = []
    for (setting, ref), group in models.groupby(["setting", "reference"], sort=True):
        n_defined = int((group["status"] == "ok").sum())
        g = group.loc[(group["status"] == "ok") & group["release_date"].notna()]
        days = ((pd.to_datetime(g["release_date"]) - epoch).dt.days).to_numpy(dtype=float)
        # the law is stated from t = 0 on: earlier models are shown, not fitted
        early = days < 0 if not config.densing_fit_before_epoch else np.zeros(len(days), bool)
        res = fit_densing(days[~early], g["density"].to_numpy(dtype=float)[~early], config)
        row = {"setting": setting, "reference": ref, **dataclasses.asdict(res),
               "n_before_epoch": int(early.sum())}
        if early.any():
            row["reason"] += (f"; {int(early.sum())} models released before "
                              f"{config.epoch.isoformat()} (t = 0) shown, not fitted")
        row["doubling_ci_low"] = doubling_days(res.ci_high)
        row["doubling_ci_high"] = doubling_days(res.ci_low)
        # the setting's default reference as the model table chose it (else the configured)
        row["default_reference"] = (bool(group["default_reference"].any())
                                    if "default_reference" in group else
                                    ref == (default_reference or config.default_reference))
        if n_defined == 0:
            row["status"] = "no_density"
            row["reason"] = "no model has a density against this reference in this setting"
        elif res.n_models == 0 and early.any():
            row["status"] = "no_release_dates"
            row["reason"] = (f"all {int(early.sum())} dated models with a density were released "
                             f"before {config.epoch.isoformat()} (t = 0): nothing to fit")
        elif res.n_models == 0:
            row["status"] = "no_release_dates"
            row["reason"] = f"none of the {n_defined} models with a density has a release date"
        records_out.append(row)
    return pd.DataFrame(records_out, columns=COLUMNS)
