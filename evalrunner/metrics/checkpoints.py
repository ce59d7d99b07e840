"""Per checkpoint series (one training run): C1-C5.

A series is every revision with a known token count of one model in one setting and source, for
one task and metric, ordered by tokens; models with a single revision have no series. The final
tokens are those of the final revision (else the most trained one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fit, laws, stats, tabular
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


def windows(tokens: np.ndarray, final_index: np.ndarray,
            config: MetricsConfig) -> tuple[np.ndarray, ...]:
    """The checkpoints each metric reads, per row of sorted (G, n) token grids: (positive,
    C1 window, then one C5 early window per forecast fraction), each a (G, n) bool array.

    C1: tokens >= max(1% of final, the first non-zero count); C2-C4: the last k positive ones
    (never step 0); C5: positive tokens up to the fraction of final tokens.
    """
    final_tokens = tokens[np.arange(len(tokens)), final_index][:, None]
    positive = tokens > 0
    first_nonzero = np.where(positive, tokens, np.inf).min(axis=1, keepdims=True)
    window = tokens >= np.maximum(config.window_fraction * final_tokens, first_nonzero)
    early = [positive & (tokens <= fraction * final_tokens)
             for fraction in config.forecast_fractions]
    return (positive, window, *early)


def series_block(tokens: np.ndarray, y: np.ndarray, s: np.ndarray, n_items: np.ndarray,
                 final_index: int, chance: np.ndarray, ceiling: np.ndarray,
                 config: MetricsConfig) -> dict[str, np.ndarray]:
    """C1-C5 for G series of n checkpoints sorted by tokens that share the final position and
    the windows of `windows` (checkpoint_table groups series so; ValueError otherwise).

    tokens has shape (G, n), or (n,) for one grid shared by all; y, s and n_items (G, n);
    chance and ceiling (G,). Returns one array per column.
    """
    g, n = y.shape
    tokens = np.broadcast_to(np.asarray(tokens, dtype=float), (g, n))
    masks = windows(tokens, np.full(g, final_index), config)
    if any(not (m == m[:1]).all() for m in masks):
        raise ValueError("series_block: the series do not share their checkpoint windows")
    positive, window, *early_windows = (m[0] for m in masks)
    out: dict[str, np.ndarray] = {"n_checkpoints": np.full(g, n)}
    final_tokens = tokens[:, final_index].copy()
    out["final_tokens"] = final_tokens
    reason = np.full(g, "", dtype=object)
    nan = np.full(g, np.nan)
    out["c1_n"] = np.full(g, int(window.sum()))
    if window.sum() >= 3:
        out["c1_spearman"] = stats.spearman_rows(tokens[:, window], y[:, window])
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
        line = fit.ols_lines(np.log10(tokens[:, last]), yl)
        out["c3_slope"] = line.params["b"]
        out["c4_mean"] = mean
        out["c4_final"] = y[:, final_index].astype(float)
    else:
        for col in ("c2_std", "c2_rel_noise", "c2_stderr", "c3_slope", "c4_mean", "c4_final"):
            out[col] = nan.copy()
        reason = _note(reason, f"C2-C4 need {config.checkpoint_min} checkpoints after step 0")
    # C5 early forecast with P_pow on y vs log10(tokens)
    for fraction, early in zip(config.forecast_fractions, early_windows, strict=True):
        col = _forecast_column(fraction)
        if early.sum() >= 3:
            pp = fit.fit_p_pow(np.log10(tokens[:, early]), y[:, early], chance, ceiling,
                               floor=config.error_floor)
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
    """C1-C5 per series of higher-is-better tasks with at least two revisions. Series with the
    same length, final position and windows are computed together in one `series_block`."""
    # rows with a token count and every series key, ordered by series, tokens, revision
    usable = rows["tokens"].notna().to_numpy() & rows["higher"].to_numpy(bool)
    for col in SERIES:
        usable &= rows[col].notna().to_numpy()
    cand = np.flatnonzero(usable)
    series_codes = [tabular.codes(rows[c])[cand] for c in SERIES]
    by = np.lexsort((tabular.codes(rows["revision"])[cand],
                     rows["tokens"].to_numpy(dtype=float)[cand], *series_codes[::-1]))
    cand, series_codes = cand[by], [k[by] for k in series_codes]
    changes = np.zeros(max(len(cand) - 1, 0), dtype=bool)
    for k in series_codes:
        changes |= k[1:] != k[:-1]
    size = np.diff(np.r_[np.flatnonzero(np.r_[True, changes]), len(cand)]) if len(cand) \
        else np.zeros(0, dtype=int)
    pos = cand[np.repeat(size >= 2, size)]  # a series needs two revisions
    if len(pos) == 0:
        return pd.DataFrame(columns=columns(config))
    cols = {c: rows[c].to_numpy(dtype=float)[pos] for c in ("tokens", "value", "s", "n_items")}
    final = rows["final"].to_numpy(dtype=bool)[pos]
    starts, lengths = np.r_[0, np.cumsum(size[size >= 2])[:-1]], size[size >= 2]
    chance, ceiling = (rows[c].to_numpy(float)[pos[starts]] for c in ("chance", "ceiling"))
    order, blocks = [], []
    for n in np.unique(lengths):
        members = np.flatnonzero(lengths == n)
        idx = starts[members][:, None] + np.arange(n)[None, :]
        tokens, fin = cols["tokens"][idx], final[idx]
        # the final revision (the last one marked final), else the most trained
        final_index = np.where(fin.any(axis=1), n - 1 - np.argmax(fin[:, ::-1], axis=1),
                               np.argmax(tokens, axis=1))
        shape = np.column_stack([final_index, *(np.packbits(m, axis=1) for m in
                                                windows(tokens, final_index, config))])
        group = pd.DataFrame(shape).groupby(list(range(shape.shape[1]))).ngroup().to_numpy()
        for k in range(group.max() + 1):
            sel = np.flatnonzero(group == k)
            order.append(members[sel])
            blocks.append(series_block(tokens[sel], cols["value"][idx[sel]], cols["s"][idx[sel]],
                                       cols["n_items"][idx[sel]], int(final_index[sel[0]]),
                                       chance[members[sel]], ceiling[members[sel]], config))
    series = np.concatenate(order)
    keys = rows[SERIES + ["family", "kind"]].iloc[pos[starts[series]]].reset_index(drop=True)
    values = pd.DataFrame({c: np.concatenate([b[c] for b in blocks]) for c in blocks[0]})
    table = pd.concat([keys, values], axis=1)[columns(config)]
    for col in ("n_checkpoints", "c1_n", "c2_n"):
        table[col] = table[col].astype(int)
    # series were numbered in SERIES order (one row each): back to that order
    return table.iloc[np.argsort(series)].reset_index(drop=True)
