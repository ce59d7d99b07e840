"""Scaling predictability per (family, task): F0-F7 with their edge-case rules.

A family is split by recipe (family id and kind: base vs instruct) and never mixes settings or
sources. Its points are the models' final revisions ordered by `x = log10(6*N*D)` when every
model's tokens are known, else `x = log10(N)` (column `x_axis` says which). Models at the same x
are averaged into one point (n counts distinct x). Groups with the same n are stacked into
(G, n) arrays and computed at once; F8 (SNR) is added after the checkpoint table exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fit, laws, stats
from .config import MetricsConfig
from .points import AT_CHANCE, BELOW_CHANCE, OK, SATURATED, z_band
from .points import status as point_status

GROUP = ["family", "kind", "setting", "source", "task", "metric"]
AXIS_COMPUTE = "log10_compute"
AXIS_PARAMS = "log10_params"
COLUMNS = [
    "family", "setting", "task", "metric", "n", "span_decades", "spearman", "kendall",
    "n_sig_drops", "r2", "rmse", "llo_pred", "llo_actual", "llo_ae", "llo_re", "llo_ae_z",
    "naive_ae", "skill", "rolling_ae", "emergence_b", "emergent", "shape", "snr", "status",
    "reason",
    # beyond the stable set: context the site and the task aggregates need
    "kind", "source", "x_axis", "x_min", "x_max", "law", "fit_a", "fit_b", "low_dof", "delta",
    "llo_gap_decades", "target_status", "shape_x_turn", "signal", "n_models", "n_without_size",
]


def family_points(finals: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """One row per (group, distinct x): the points each family fit sees, sorted by x."""
    have_n = finals["n_fit"].to_numpy(dtype=float) > 0
    pts = finals.loc[have_n].copy()
    pts["tok_ok"] = (pts["tokens"] > 0).astype(int)
    all_tokens = pts.groupby(GROUP, sort=False)["tok_ok"].transform("min").to_numpy() == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        compute = np.log10(6.0 * pts["n_fit"].to_numpy(float) * pts["tokens"].to_numpy(float))
    pts["x"] = np.where(all_tokens, compute, np.log10(pts["n_fit"].to_numpy(float)))
    pts["x_axis"] = np.where(all_tokens, AXIS_COMPUTE, AXIS_PARAMS)
    pts["s2"] = pts["s"] ** 2
    keys = GROUP + ["x"]
    agg = pts.groupby(keys, sort=True, dropna=False).agg(
        value=("value", "mean"), s2=("s2", "mean"), n_models=("model", "size"),
        model=("model", "min"), n_fit=("n_fit", "max"), x_axis=("x_axis", "first"),
        chance=("chance", "first"), ceiling=("ceiling", "first"), higher=("higher", "first"),
    ).reset_index()
    agg["s"] = np.sqrt(agg["s2"] / agg["n_models"])  # stderr of a mean of k points
    agg["zs"] = z_band(agg["s"].to_numpy(), agg["chance"].to_numpy(), agg["ceiling"].to_numpy(),
                       config)
    agg["y_norm"] = (agg["value"] - agg["chance"]) / (agg["ceiling"] - agg["chance"])
    agg["point_status"] = point_status(agg["value"].to_numpy(), agg["zs"].to_numpy(),
                                       agg["chance"].to_numpy(), agg["ceiling"].to_numpy(),
                                       agg["higher"].to_numpy(), config)
    missing = finals.loc[~have_n].groupby(GROUP, sort=False).size().rename("n_without_size")
    agg = agg.merge(missing.reset_index(), on=GROUP, how="left")
    agg["n_without_size"] = agg["n_without_size"].fillna(0).astype(int)
    return agg.drop(columns=["s2"]).sort_values(keys, kind="stable").reset_index(drop=True)


def _note(reason: np.ndarray, mask: np.ndarray, text: str) -> np.ndarray:
    joined = np.where(reason == "", text, reason + "; " + text)
    return np.where(mask, joined, reason).astype(object)


def _fit_predict(x, y, x_new, chance, ceiling, higher, config: MetricsConfig):
    """Headline law on (G, m) points: P_pow for scores, log-log line (or E + A*X^-alpha from
    5 points) for losses. Returns (prediction at x_new, fitted values, status, reason, law, a, b).
    """
    m = x.shape[1]
    pp = fit.fit_p_pow(x, y, chance, ceiling, floor=config.error_floor)
    pred = laws.p_pow(pp.params["a"], pp.params["b"], x_new, chance, ceiling)
    fitted = y - pp.residuals
    status, reason = pp.status.copy(), pp.reason.copy()
    a, b = pp.params["a"].copy(), pp.params["b"].copy()
    law = np.full(len(y), "p_pow", dtype=object)
    lower = ~higher
    if lower.any():
        ll = fit.fit_log_line(x[lower], y[lower])
        pred[lower] = laws.log_line(ll.params["a"], ll.params["b"], x_new[lower])
        fitted[lower] = y[lower] - ll.residuals
        status[lower], reason[lower] = ll.status, ll.reason
        a[lower], b[lower], law[lower] = ll.params["a"], ll.params["b"], "log_line"
        if m >= config.loss_law_min_points:
            for i in np.flatnonzero(lower):
                sat = fit.fit_saturating_loss(x[i], y[i], config.huber_delta_loss)
                law[i], status[i], reason[i] = "saturating_loss", sat.status, sat.reason
                a[i], b[i] = sat.params["a"], sat.params["alpha"]
                pred[i] = laws.saturating_loss(sat["e"], sat["a"], sat["alpha"], x_new[i])
                fitted[i] = y[i] - np.asarray(sat.residuals) if sat.ok else np.nan
    bad = ~np.isfinite(pred) | ~np.all(np.isfinite(fitted), axis=1)
    newly = bad & (status == fit.OK)
    status = np.where(bad, fit.FAILED, status).astype(object)
    reason = _note(reason, newly, "non-finite prediction")
    return np.where(bad, np.nan, pred), fitted, status, reason, law, a, b


def bucket_metrics(b: dict[str, np.ndarray], config: MetricsConfig) -> dict[str, np.ndarray]:
    """F0-F7 for G groups of n points each: arrays x, y, s, zs (G, n), status codes (G, n),
    chance, ceiling, higher (G,)."""
    x, y, s, zs, ps = b["x"], b["y"], b["s"], b["zs"], b["ps"]
    r, u, higher = b["chance"], b["ceiling"], b["higher"]
    g, n = y.shape
    z = config.z
    nan = np.full(g, np.nan)
    q = np.where(higher[:, None], y, -y)  # oriented: larger is better
    thr = lambda i, j: np.sqrt(zs[:, i] ** 2 + zs[:, j] ** 2)  # noqa: E731  z*pooled SE
    out: dict[str, np.ndarray] = {"n": np.full(g, n), "span_decades": x[:, -1] - x[:, 0],
                                  "x_min": x[:, 0], "x_max": x[:, -1]}
    reason = np.full(g, "", dtype=object)
    status = np.full(g, OK, dtype=object)
    for col in ("spearman", "kendall", "n_sig_drops", "r2", "rmse", "llo_pred", "llo_actual",
                "llo_ae", "llo_re", "llo_ae_z", "naive_ae", "skill", "rolling_ae",
                "emergence_b", "fit_a", "fit_b", "llo_gap_decades", "shape_x_turn", "delta"):
        out[col] = nan.copy()
    out["emergent"] = np.full(g, None, dtype=object)
    out["shape"] = np.full(g, None, dtype=object)
    out["law"] = np.full(g, None, dtype=object)
    out["low_dof"] = np.full(g, n == 3)
    out["target_status"] = ps[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_y = y.mean(axis=1)
        out["signal"] = np.where(mean_y != 0, (y.max(axis=1) - y.min(axis=1)) / mean_y, np.nan)
    if n == 1:
        out["status"] = np.full(g, "score_only", dtype=object)
        out["reason"] = np.full(g, "one point: score only (F1-F7 need n >= 3)", dtype=object)
        return out
    out["delta"] = y[:, -1] - y[:, 0]
    if n == 2:
        out["status"] = np.full(g, "delta_only", dtype=object)
        out["reason"] = np.full(g, "two points: delta and sign only (F1-F7 need n >= 3)",
                                dtype=object)
        return out

    chance_all = np.all((ps == AT_CHANCE) | (ps == BELOW_CHANCE), axis=1) & higher
    constant = np.ptp(y, axis=1) <= 1e-12 * np.maximum(np.abs(y).max(axis=1), 1e-300)
    reason = _note(reason, constant, "constant y: rho and R^2 null")

    # F1 monotonicity
    rho = stats.spearman_rows(x, q)
    out["spearman"], out["kendall"] = rho, stats.kendall_rows(x, q)
    drops = q[:, 1:] < q[:, :-1] - np.sqrt(zs[:, 1:] ** 2 + zs[:, :-1] ** 2)
    out["n_sig_drops"] = drops.sum(axis=1).astype(float)

    # F7 shape, on the oriented score
    first_last = thr(0, n - 1)
    inverse = (rho <= config.inverse_rho) & (q[:, 0] - q[:, -1] > first_last)
    k_min = 1 + np.argmin(q[:, 1:-1], axis=1)
    k_max = 1 + np.argmax(q[:, 1:-1], axis=1)
    rows = np.arange(g)
    qmin, qmax = q[rows, k_min], q[rows, k_max]
    pooled = lambda k, end: np.sqrt(zs[rows, k] ** 2 + zs[:, end] ** 2)  # noqa: E731
    u_shaped = (q[:, 0] - qmin > pooled(k_min, 0)) & (q[:, -1] - qmin > pooled(k_min, -1))
    inv_u = (qmax - q[:, 0] > pooled(k_max, 0)) & (qmax - q[:, -1] > pooled(k_max, -1))
    flat = np.abs(q[:, -1] - q[:, 0]) <= first_last
    out["shape"] = np.select([inverse, u_shaped, inv_u, flat],
                             ["inverse", "u_shaped", "inverted_u", "flat"], "positive"
                             ).astype(object)
    out["shape_x_turn"] = np.select([u_shaped & ~inverse, inv_u & ~inverse & ~u_shaped],
                                    [x[rows, k_min], x[rows, k_max]], np.nan)

    # F2 fit quality, P_pow on all points (skipped when every point is at chance)
    _, fitted, fstat, freason, law, a, b_ = _fit_predict(x, y, x[:, -1], r, u, higher, config)
    ok_fit = (fstat == fit.OK) & ~chance_all
    resid = y - fitted
    ss_res, ss_tot = (resid ** 2).sum(axis=1), ((y - mean_y[:, None]) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["r2"] = np.where(ok_fit & ~constant, 1.0 - ss_res / ss_tot, np.nan)
    out["rmse"] = np.where(ok_fit, np.sqrt((resid ** 2).mean(axis=1)), np.nan)
    out["fit_a"], out["fit_b"] = np.where(ok_fit, a, np.nan), np.where(ok_fit, b_, np.nan)
    out["law"] = np.where(chance_all, None, law).astype(object)
    failed = (fstat != fit.OK) & ~chance_all
    reason = _note(reason, failed, np.array(freason, dtype=object) + " (all-point fit)")

    # Single-point edge cases of the target
    target = ps[:, -1]
    sat_t, below_t = target == SATURATED, target == BELOW_CHANCE
    if n >= 4:
        xf, yf = x[:, :-1], y[:, :-1]
        pred, _, lstat, lreason, *_ = _fit_predict(xf, yf, x[:, -1], r, u, higher, config)
        ok_llo = (lstat == fit.OK) & ~chance_all
        failed |= (lstat != fit.OK) & ~chance_all
        reason = _note(reason, (lstat != fit.OK) & ~chance_all,
                       np.array(lreason, dtype=object) + " (leave-largest-out fit)")
        y_n, s_n = y[:, -1], s[:, -1]
        ae = np.abs(pred - y_n)
        out["llo_pred"] = np.where(ok_llo, pred, np.nan)
        out["llo_actual"] = np.where(~chance_all, y_n, np.nan)
        out["llo_ae"] = np.where(ok_llo, ae, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["llo_re"] = np.where(ok_llo & ~sat_t & (y_n != 0), ae / np.abs(y_n), np.nan)
            out["llo_ae_z"] = np.where(ok_llo & (s_n > 0), ae / s_n, np.nan)
        out["llo_gap_decades"] = x[:, -1] - x[:, -2]
        # F4 skill vs the naive forecast y_n = y_(n-1); s_n where unknown: the 0.01 band / z
        ae0 = np.abs(y_n - y[:, -2])
        s_eff = np.where(np.isfinite(s_n), s_n, zs[:, -1] / z)
        out["naive_ae"] = np.where(~chance_all, ae0, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            skill = 1.0 - ae / ae0
        small = ae0 < s_eff
        out["skill"] = np.where(ok_llo & ~sat_t & ~small, skill, np.nan)
        reason = _note(reason, ok_llo & ~sat_t & small, "naive error below s_n: skill null")
        reason = _note(reason, sat_t & ~chance_all, "target saturated: RE and skill suppressed")
        reason = _note(reason, below_t & ~chance_all, "target below chance (format or label bias?)")

        # F6 emergence
        dq2 = np.diff(q, axis=1) ** 2
        scale = np.sqrt(np.median(dq2, axis=1))
        spread = np.sign(np.argmax(q, axis=1) - np.argmin(q, axis=1)) * np.ptp(q, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            btilde = np.where(scale > 0, spread / scale, np.nan) / (n - 1)
        reason = _note(reason, ~(scale > 0) & ~chance_all, "median squared step 0: B null")
        out["emergence_b"] = btilde
        emergent = ((btilde >= config.emergence_b) & (ps[:, 0] == AT_CHANCE)
                    & (ps[:, 1] == AT_CHANCE) & (target == OK)
                    & (b["y_norm"][:, -1] >= config.emergence_min_last) & (rho > 0) & higher)
        out["emergent"] = np.where(np.isfinite(btilde), emergent, None).astype(object)
    else:
        reason = _note(reason, np.ones(g, bool), "n = 3: F3-F6 need n >= 4")
    if n >= 5:
        errs = []
        for j in range(3, n):  # predict point j+1 (1-based j = 4..n) from the points before it
            pj, _, st, *_ = _fit_predict(x[:, :j], y[:, :j], x[:, j], r, u, higher, config)
            errs.append(np.where(st == fit.OK, np.abs(pj - y[:, j]), np.nan))
        errs = np.array(errs).T
        rolling_ok = np.all(np.isfinite(errs), axis=1) & ~chance_all
        out["rolling_ae"] = np.where(rolling_ok, errs.mean(axis=1), np.nan)
        rolling_failed = ~np.all(np.isfinite(errs), axis=1) & ~chance_all
        failed |= rolling_failed
        reason = _note(reason, rolling_failed, "a rolling-origin fit failed: rolling_ae null")
    elif n == 4:
        reason = _note(reason, np.ones(g, bool), "n = 4: F5 needs n >= 5")

    reason = _note(reason, chance_all,
                   "all points at chance: no fit, excluded from task aggregates")
    status = np.where(below_t, "target_below_chance", status)
    status = np.where(sat_t, "target_saturated", status)
    status = np.where(n == 3, "low_dof", status)
    status = np.where(failed, fit.FAILED, status)
    status = np.where(chance_all, AT_CHANCE, status)
    out["status"] = status.astype(object)
    out["reason"] = np.where(reason == "", "all defined", reason).astype(object)
    return out


def family_table(points: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """F0-F7 per group (one row each); `snr` stays null until `add_snr`."""
    if points.empty:
        return pd.DataFrame(columns=COLUMNS)
    gid = points.groupby(GROUP, sort=True).ngroup().to_numpy()
    order = np.argsort(gid, kind="stable")  # points arrive sorted by group then x
    points = points.iloc[order].reset_index(drop=True)
    gid = gid[order]
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    sizes = np.diff(np.r_[starts, len(gid)])
    frames = []
    arrays = {k: points[c].to_numpy(dtype=float) for k, c in
              (("x", "x"), ("y", "value"), ("s", "s"), ("zs", "zs"), ("y_norm", "y_norm"))}
    arrays["ps"] = points["point_status"].to_numpy(dtype=object)
    for n in np.unique(sizes):
        first = starts[sizes == n]
        idx = first[:, None] + np.arange(n)[None, :]
        bucket = {k: v[idx] for k, v in arrays.items()}
        for col in ("chance", "ceiling"):
            bucket[col] = points[col].to_numpy(dtype=float)[first]
        bucket["higher"] = points["higher"].to_numpy(dtype=bool)[first]
        res = bucket_metrics(bucket, config)
        keys = points.iloc[first][GROUP + ["x_axis"]].reset_index(drop=True)
        keys["n_models"] = points["n_models"].to_numpy()[idx].sum(axis=1)
        keys["n_without_size"] = points["n_without_size"].to_numpy()[first]
        frames.append(pd.concat([keys, pd.DataFrame(res)], axis=1))
    table = pd.concat(frames, ignore_index=True)
    table["snr"] = np.nan
    table["emergent"] = table["emergent"].astype("boolean")
    table["low_dof"] = table["low_dof"].astype(bool)
    table["n"] = table["n"].astype(int)
    return table.sort_values(GROUP, kind="stable").reset_index(drop=True)[COLUMNS]


def add_snr(table: pd.DataFrame, finals: pd.DataFrame, checkpoints: pd.DataFrame) -> pd.DataFrame:
    """F8: `SNR = signal/noise`, noise = C2 rel_noise of the family's largest model with
    checkpoints in the same setting, source, task and metric."""
    table = table.copy()
    keys = ["model", "setting", "source", "task", "metric"]
    if checkpoints.empty or table.empty:
        table["reason"] = _note(table["reason"].to_numpy(object),
                                table["n"].to_numpy() >= 2, "no checkpoint series: SNR null")
        return table
    noise = checkpoints.loc[checkpoints["c2_rel_noise"].notna(), keys + ["c2_rel_noise"]]
    cand = finals[keys + ["family", "kind", "n_fit"]].merge(noise, on=keys)
    cand = cand.sort_values(GROUP + ["n_fit", "model"], kind="stable")
    largest = cand.groupby(GROUP, sort=False).tail(1)[GROUP + ["c2_rel_noise"]]
    table = table.merge(largest, on=GROUP, how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = table["signal"] / table["c2_rel_noise"]
    table["snr"] = snr.where(np.isfinite(snr))
    missing = table["c2_rel_noise"].isna().to_numpy() & (table["n"].to_numpy() >= 2)
    table["reason"] = _note(table["reason"].to_numpy(object), missing,
                            "no checkpoint series: SNR null")
    return table.drop(columns="c2_rel_noise")[COLUMNS]
