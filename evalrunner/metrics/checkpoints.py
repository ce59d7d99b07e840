"""Per checkpoint series (one training run): C1-C5 of METRICS.md 2.3.

A series is every revision with a known token count of one model in one setting and source, for
one task and metric, ordered by tokens; models with a single revision have no series. The final
tokens are those of the final revision (else the most trained one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fit, laws, stats
from .config import MetricsConfig

SERIES = ["model", "setting", "source", "task", "metric"]


def _forecast_column(fraction: float) -> str:
    return f"c5_ae_{round(fraction * 100)}"


def columns(config: MetricsConfig) -> list[str]:
    """Stable column order; one C5 column per forecast fraction (c5_ae_10, c5_ae_30)."""
    return (["model", "setting", "task", "metric", "n_checkpoints", "final_tokens",
             "c1_spearman", "c1_n", "c2_std", "c2_rel_noise", "c2_stderr", "c2_n", "c3_slope",
             "c4_mean", "c4_final"]
            + [_forecast_column(f) for f in config.forecast_fractions]
            + ["status", "reason", "family", "kind", "source"])


def series_metrics(tokens: np.ndarray, y: np.ndarray, s: np.ndarray, n_items: np.ndarray,
                   final_index: int, chance: float, ceiling: float,
                   config: MetricsConfig) -> dict[str, float | str | int]:
    """C1-C5 for one series sorted by tokens; `final_index` is the final revision's position."""
    out: dict[str, float | str | int] = {"n_checkpoints": len(y)}
    final_tokens = float(tokens[final_index])
    out["final_tokens"] = final_tokens
    reasons: list[str] = []
    positive = tokens > 0
    # C1 on checkpoints with tokens >= max(1% of final, the first non-zero count)
    first_nonzero = float(tokens[positive].min()) if positive.any() else np.inf
    window = tokens >= max(config.window_fraction * final_tokens, first_nonzero)
    out["c1_n"] = int(window.sum())
    if window.sum() >= 3:
        out["c1_spearman"] = float(stats.spearman_rows(tokens[window], y[window])[0])
    else:
        out["c1_spearman"] = np.nan
        reasons.append("C1 needs 3 checkpoints past 1% of final tokens")
    # C2-C4 on the last k checkpoints, never step 0
    last = np.flatnonzero(positive)[-config.checkpoint_k:]
    out["c2_n"] = len(last)
    if len(last) >= config.checkpoint_min:
        yl = y[last]
        std, mean = float(yl.std(ddof=0)), float(yl.mean())
        out["c2_std"] = std
        out["c2_rel_noise"] = std / mean if mean != 0 else np.nan
        n = float(np.nanmedian(n_items[last])) if np.isfinite(n_items[last]).any() else np.nan
        binom = np.sqrt(mean * (1 - mean) / n) if (n > 0 and 0 <= mean <= 1) else np.nan
        out["c2_stderr"] = binom if np.isfinite(binom) else float(np.nanmean(s[last])) \
            if np.isfinite(s[last]).any() else np.nan
        line = fit.ols_lines(np.log10(tokens[last]), yl)
        out["c3_slope"] = float(line.params["b"][0])
        out["c4_mean"] = mean
        out["c4_final"] = float(y[final_index])
    else:
        for col in ("c2_std", "c2_rel_noise", "c2_stderr", "c3_slope", "c4_mean", "c4_final"):
            out[col] = np.nan
        reasons.append(f"C2-C4 need {config.checkpoint_min} checkpoints after step 0")
    # C5 early forecast with P_pow on y vs log10(tokens)
    for fraction in config.forecast_fractions:
        col = _forecast_column(fraction)
        early = positive & (tokens <= fraction * final_tokens)
        if early.sum() >= 3:
            xe = np.log10(tokens[early])
            pp = fit.fit_p_pow(xe, y[early], chance, ceiling, floor=config.error_floor)
            pred = laws.p_pow(pp.params["a"][0], pp.params["b"][0], np.log10(final_tokens),
                              chance, ceiling)
            if pp.status[0] == fit.OK and np.isfinite(pred):
                out[col] = float(abs(pred - y[final_index]))
            else:
                out[col] = np.nan
                reasons.append(f"C5 at {fraction:g}: fit failed ({pp.reason[0] or 'non-finite'})")
        else:
            out[col] = np.nan
            reasons.append(f"C5 at {fraction:g} needs 3 checkpoints up to that fraction")
    out["status"] = "ok" if not reasons else "partial"
    out["reason"] = "; ".join(reasons) or "all defined"
    return out


def checkpoint_table(rows: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """C1-C5 per series of higher-is-better tasks with at least two revisions."""
    have = rows.loc[rows["tokens"].notna() & rows["higher"]]
    counts = have.groupby(SERIES, sort=False)["revision"].transform("size")
    have = have.loc[counts.to_numpy() >= 2].sort_values(SERIES + ["tokens", "revision"],
                                                        kind="stable")
    if have.empty:
        return pd.DataFrame(columns=columns(config))
    records = []
    cols = {c: have[c].to_numpy() for c in ("tokens", "value", "s", "n_items", "final")}
    keys = have[SERIES + ["family", "kind", "chance", "ceiling"]].to_numpy(dtype=object)
    ids = have.groupby(SERIES, sort=False).ngroup().to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        sl = slice(start, stop)
        tokens = cols["tokens"][sl].astype(float)
        finals = np.flatnonzero(cols["final"][sl].astype(bool))
        final_index = int(finals[-1]) if len(finals) else int(np.argmax(tokens))
        key = keys[start]
        rec = dict(zip(SERIES + ["family", "kind"], key[:7], strict=True))
        rec.update(series_metrics(tokens, cols["value"][sl].astype(float),
                                  cols["s"][sl].astype(float), cols["n_items"][sl].astype(float),
                                  final_index, float(key[7]), float(key[8]), config))
        records.append(rec)
    table = pd.DataFrame(records, columns=columns(config))
    table["n_checkpoints"] = table["n_checkpoints"].astype(int)
    return table.sort_values(SERIES, kind="stable").reset_index(drop=True)
