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


def series_block(tokens: np.ndarray, y: np.ndarray, s: np.ndarray, n_items: np.ndarray,
                 final_index: int, chance: np.ndarray, ceiling: np.ndarray,
                 config: MetricsConfig) -> dict[str, np.ndarray]:
    """C1-C5 for G series that share one token grid (sorted) and final position: y, s and
    n_items have shape (G, n), chance and ceiling (G,). Returns one array per column."""
    g, n = y.shape
    out: dict[str, np.ndarray] = {"n_checkpoints": np.full(g, n)}
    final_tokens = float(tokens[final_index])
    out["final_tokens"] = np.full(g, final_tokens)
    reason = np.full(g, "", dtype=object)
    nan = np.full(g, np.nan)
    positive = tokens > 0
    # C1 on checkpoints with tokens >= max(1% of final, the first non-zero count)
    first_nonzero = float(tokens[positive].min()) if positive.any() else np.inf
    window = tokens >= max(config.window_fraction * final_tokens, first_nonzero)
    out["c1_n"] = np.full(g, int(window.sum()))
    if window.sum() >= 3:
        out["c1_spearman"] = stats.spearman_rows(np.broadcast_to(tokens[window], (g, window.sum())),
                                                 y[:, window])
    else:
        out["c1_spearman"] = nan.copy()
        reason = _note(reason, "C1 needs 3 checkpoints past 1% of final tokens")
    # C2-C4 on the last k checkpoints, never step 0
    last = np.flatnonzero(positive)[-config.checkpoint_k:]
    out["c2_n"] = np.full(g, len(last))
    if len(last) >= config.checkpoint_min:
        yl = y[:, last]
        std, mean = yl.std(axis=1, ddof=0), yl.mean(axis=1)
        out["c2_std"] = std
        with np.errstate(invalid="ignore", divide="ignore"):
            out["c2_rel_noise"] = np.where(mean != 0, std / mean, np.nan)
            items = np.nanmax(np.where(np.isfinite(n_items[:, last]), n_items[:, last], -1.0),
                              axis=1)
            binom = np.sqrt(mean * (1 - mean) / items)
        binom = np.where((items > 0) & (mean >= 0) & (mean <= 1), binom, np.nan)
        known = np.isfinite(s[:, last])
        mean_s = np.where(known.any(axis=1), np.where(known, s[:, last], 0.0).sum(axis=1)
                          / np.maximum(known.sum(axis=1), 1), np.nan)
        out["c2_stderr"] = np.where(np.isfinite(binom), binom, mean_s)
        line = fit.ols_lines(np.broadcast_to(np.log10(tokens[last]), yl.shape), yl)
        out["c3_slope"] = line.params["b"]
        out["c4_mean"] = mean
        out["c4_final"] = y[:, final_index].astype(float)
    else:
        for col in ("c2_std", "c2_rel_noise", "c2_stderr", "c3_slope", "c4_mean", "c4_final"):
            out[col] = nan.copy()
        reason = _note(reason, f"C2-C4 need {config.checkpoint_min} checkpoints after step 0")
    # C5 early forecast with P_pow on y vs log10(tokens)
    for fraction in config.forecast_fractions:
        col = _forecast_column(fraction)
        early = positive & (tokens <= fraction * final_tokens)
        if early.sum() >= 3:
            xe = np.broadcast_to(np.log10(tokens[early]), (g, early.sum()))
            pp = fit.fit_p_pow(xe, y[:, early], chance, ceiling, floor=config.error_floor)
            pred = laws.p_pow(pp.params["a"], pp.params["b"], np.log10(final_tokens), chance,
                              ceiling)
            good = (pp.status == fit.OK) & np.isfinite(pred)
            out[col] = np.where(good, np.abs(pred - y[:, final_index]), np.nan)
            reason = _note(reason, f"C5 at {fraction:g}: fit failed", ~good)
        else:
            out[col] = nan.copy()
            reason = _note(reason, f"C5 at {fraction:g} needs 3 checkpoints up to that fraction")
    out["status"] = np.where(reason == "", "ok", "partial").astype(object)
    out["reason"] = np.where(reason == "", "all defined", reason).astype(object)
    return out


def _note(reason: np.ndarray, text: str, mask: np.ndarray | None = None) -> np.ndarray:
    joined = np.where(reason == "", text, reason + "; " + text)
    return (joined if mask is None else np.where(mask, joined, reason)).astype(object)


def series_metrics(tokens: np.ndarray, y: np.ndarray, s: np.ndarray, n_items: np.ndarray,
                   final_index: int, chance: float, ceiling: float,
                   config: MetricsConfig) -> dict[str, float | str | int]:
    """C1-C5 for one series sorted by tokens; `final_index` is the final revision's position."""
    block = series_block(np.asarray(tokens, dtype=float), np.atleast_2d(y), np.atleast_2d(s),
                         np.atleast_2d(n_items), final_index, np.array([chance]),
                         np.array([ceiling]), config)
    return {k: v[0].item() if hasattr(v[0], "item") else v[0] for k, v in block.items()}


def checkpoint_table(rows: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """C1-C5 per series of higher-is-better tasks with at least two revisions; series sharing
    a token grid (a training run's checkpoints, every task) are computed together."""
    have = rows.loc[rows["tokens"].notna() & rows["higher"]]
    counts = have.groupby(SERIES, sort=False)["revision"].transform("size")
    have = have.loc[counts.to_numpy() >= 2].sort_values(SERIES + ["tokens", "revision"],
                                                        kind="stable")
    if have.empty:
        return pd.DataFrame(columns=columns(config))
    cols = {c: have[c].to_numpy(dtype=float) for c in ("tokens", "value", "s", "n_items")}
    final = have["final"].to_numpy(dtype=bool)
    ids = have.groupby(SERIES, sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    stops = np.r_[starts[1:], len(ids)]
    grids: dict[tuple, list[int]] = {}
    for k, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        tokens = cols["tokens"][start:stop]
        finals = np.flatnonzero(final[start:stop])
        final_index = int(finals[-1]) if len(finals) else int(np.argmax(tokens))
        grids.setdefault((final_index, *tokens.tolist()), []).append(k)
    keys = have.iloc[starts][SERIES + ["family", "kind"]].reset_index(drop=True)
    chance, ceiling = (have[c].to_numpy(float)[starts] for c in ("chance", "ceiling"))
    parts = []
    for (final_index, *grid), members in grids.items():
        members = np.array(members)
        idx = starts[members][:, None] + np.arange(len(grid))[None, :]
        block = series_block(np.array(grid), cols["value"][idx], cols["s"][idx],
                             cols["n_items"][idx], final_index, chance[members],
                             ceiling[members], config)
        parts.append(pd.concat([keys.iloc[members].reset_index(drop=True),
                                pd.DataFrame(block)], axis=1))
    table = pd.concat(parts, ignore_index=True)[columns(config)]
    for col in ("n_checkpoints", "c1_n", "c2_n"):
        table[col] = table[col].astype(int)
    return table.sort_values(SERIES, kind="stable").reset_index(drop=True)
