"""Two-stage prediction of a downstream score through a continuous proxy.

Gadre et al. 2024 ("Language models scale reliably with over-training and on downstream tasks",
arXiv 2403.08540) and AI2's model ladders (Bhagia et al. 2024, "Establishing Task Scaling Laws via
Compute-Efficient Model Ladders", arXiv 2412.04403) predict a task score in two steps:

    step 1  proxy vs scale   L(x) = E + A*X^(-alpha),  X = 10**x      (Huber in log space,
                             multi-start L-BFGS-B; below 5 points the log-log line
                             ln L = a + b*x, i.e. E = 0, A = e^a, alpha = -b/ln 10)
    step 2  score vs proxy   y(L) = a/(1 + exp(-k*(L - L0))) + b     (k < 0: score falls as
                             the loss rises; Huber in score units)

The proxy is the runner's conditional answer loss (`answer_nll_token`, else `answer_nll_byte`),
else a published loss reported beside the score (`ln(perplexity)`: lm-eval's loglikelihood
perplexity is exp of the mean per-document NLL, so its log is that mean NLL).

Leave-largest-out, per (family, kind, setting, source, task, metric): the target is the final
revision of the largest model (largest x); step 1 is fitted on the other models' final revisions
(Gadre et al. fit final checkpoints), step 2 on every revision of the other models (the ladders
fit step 2 on intermediate checkpoints too, which ties the link to many more points). Reported:
the chained prediction y(L^(x_n)), the prediction from the true proxy y(L_n) (step 2's error
alone), and the direct P_pow prediction from the same final revisions.
"""

from __future__ import annotations

import dataclasses
import math
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalrunner.memo import frame_digest

from . import fit, laws
from .config import MetricsConfig
from .predictability import AXIS_COMPUTE, AXIS_PARAMS, GROUP

if TYPE_CHECKING:
    from evalrunner.memo import Memo

PROXIES = ("answer_nll_token", "answer_nll_byte", "ln_perplexity")
PUBLISHED_LOSSES = {"perplexity": "ln_perplexity"}  # extra metric -> proxy (value: its ln)
MIN_STEP1 = 2  # training points of step 1 (a line through 2 points is flagged low_dof)
LOW_DOF_STEP1 = 3
COLUMNS = [
    "family", "kind", "setting", "source", "task", "metric", "proxy", "x_axis", "n_step1",
    "n_step2", "target_model", "x_target", "step1_law", "loss_e", "loss_a", "loss_alpha",
    "link_a", "link_k", "link_l0", "link_b", "link_r2", "loss_actual", "loss_pred", "loss_ae",
    "score_actual", "score_stderr", "pred_chained", "ae_chained", "pred_true_proxy",
    "ae_true_proxy", "pred_direct", "ae_direct", "target_status", "low_dof", "status", "reason",
]


def with_proxies(rows: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """`rows` plus an `ln_perplexity` column: ln of a perplexity reported in the same result
    file for the same task (a non-primary score), NaN where there is none."""
    extra = scores.loc[~scores["primary"].astype(bool)
                       & scores["metric"].isin(list(PUBLISHED_LOSSES)), ["path", "task", "value"]]
    extra = extra[extra["value"] > 0].drop_duplicates(["path", "task"])
    out = rows.merge(extra.rename(columns={"value": "_ppl"}), on=["path", "task"], how="left")
    out["ln_perplexity"] = np.log(out["_ppl"].to_numpy(dtype=float))
    return out.drop(columns="_ppl")


def choose_proxy(finals: pd.DataFrame) -> str | None:
    """The first proxy with a positive finite value on at least 3 final revisions."""
    for p in PROXIES:
        v = finals[p].to_numpy(dtype=float)
        if np.sum(np.isfinite(v) & (v > 0)) >= 3:
            return p
    return None


def _x(finals: pd.DataFrame) -> tuple[np.ndarray, str]:
    n = finals["n_fit"].to_numpy(dtype=float)
    tokens = finals["tokens"].to_numpy(dtype=float)
    if np.all(tokens > 0):
        return np.log10(6.0 * n * tokens), AXIS_COMPUTE
    return np.log10(n), AXIS_PARAMS


def fit_step1(x: np.ndarray, loss: np.ndarray, config: MetricsConfig) -> fit.FitResult:
    """Proxy vs scale as `L = E + A*X^(-alpha)` (the log-log line, E = 0, below 5 points)."""
    if len(x) >= config.loss_law_min_points:
        return fit.fit_saturating_loss(x, loss, config.huber_delta_loss)
    line = fit.fit_log_line(x, loss).row(0)
    if not line.ok:
        nan = MappingProxyType(dict.fromkeys(("e", "a", "alpha"), math.nan))
        return fit.FitResult("log_line", nan, line.residuals, line.status, line.reason)
    params = {"e": 0.0, "a": math.exp(line["a"]), "alpha": -line["b"] / math.log(10.0)}
    return fit.FitResult("log_line", MappingProxyType(params), line.residuals, fit.OK, line.reason)


LINK = ("top", "k", "l0", "bottom")


def link_values(loss, top: float, k: float, l0: float, bottom: float):
    """`y = bottom + (top - bottom)/(1 + exp(-k*(L - l0)))`: the step-2 sigmoid with
    a = top - bottom, b = bottom."""
    with np.errstate(over="ignore"):
        return bottom + (top - bottom) / (1.0 + np.exp(-k * (np.asarray(loss, float) - l0)))


def fit_step2(loss: np.ndarray, score: np.ndarray, chance: float, ceiling: float,
              delta: float) -> fit.FitResult:
    """Score vs proxy: the sigmoid `a/(1 + exp(-k*(L - L0))) + b` with k < 0, fitted as
    (top = a + b, k, L0, bottom = b) so that both asymptotes stay inside the score range:
    min(0, r) <= bottom, top <= u. Huber (delta, score units) with fit.py's multi-start
    L-BFGS-B; starts from a grid on (k, L0) with (top, bottom) by least squares."""
    loss, score = np.asarray(loss, dtype=float), np.asarray(score, dtype=float)
    names = LINK
    if len(loss) < 5 or not (np.all(np.isfinite(loss)) and np.all(np.isfinite(score))):
        reason = f"{len(loss)} points; the fit needs at least 5" if len(loss) < 5 \
            else "non-finite inputs"
        return fit.FitResult("sigmoid_link", MappingProxyType(dict.fromkeys(names, math.nan)),
                             (), fit.FAILED, reason)
    span = float(np.ptp(loss)) or 1.0
    lo = min(0.0, chance)

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top, k, l0, bottom = theta
        sig = 1.0 / (1.0 + np.exp(-k * (loss - l0)))
        ds = sig * (1.0 - sig) * (top - bottom)
        jac = np.stack([sig, ds * (loss - l0), -ds * k, 1.0 - sig], axis=1)
        return bottom + (top - bottom) * sig, jac

    starts = []
    for g in (0.5, 1, 2, 4, 8, 16, 32):
        for l0 in np.quantile(loss, [0.0, 0.25, 0.5, 0.75, 1.0]):
            sig = 1.0 / (1.0 + np.exp(g / span * (loss - l0)))
            design = np.stack([sig, 1.0 - sig], axis=1)
            (top, bottom), *_ = np.linalg.lstsq(design, score, rcond=None)
            starts.append([np.clip(top, chance, ceiling), -g / span, l0,
                           np.clip(bottom, lo, ceiling)])
    bounds = [(chance, ceiling), (-1e3 / span, -1e-6),
              (float(loss.min()) - 10 * span, float(loss.max()) + 10 * span), (lo, ceiling)]
    objective = fit._huber_objective(model, score, delta)  # the shared Huber machinery
    theta, value, note = fit._multistart(objective, np.array(starts), bounds)
    residuals = score - link_values(loss, *theta)
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(residuals))):
        return fit.FitResult("sigmoid_link", MappingProxyType(dict.fromkeys(names, math.nan)),
                             (), fit.FAILED, "non-finite parameters or residuals")
    return fit.FitResult("sigmoid_link", MappingProxyType(dict(zip(names, map(float, theta),
                                                                   strict=True))),
                         tuple(float(r) for r in residuals), fit.OK, note, float(value))


def _r2(y: np.ndarray, residuals: tuple[float, ...]) -> float:
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum(np.square(residuals))) / ss_tot if ss_tot > 0 else math.nan


def group_row(finals: pd.DataFrame, rows: pd.DataFrame, config: MetricsConfig) -> dict[str, Any]:
    """One group's two-stage prediction (module docstring); finals and rows of that group."""
    out: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    proxy = choose_proxy(finals)
    out.update(proxy=proxy, low_dof=False, status=fit.FAILED)
    if proxy is None:
        out.update(status="no_proxy", reason="no continuous proxy on 3 final revisions")
        return out
    finals = finals[np.isfinite(finals[proxy].to_numpy(float)) & (finals[proxy] > 0)
                    & (finals["n_fit"] > 0)]
    x, axis = _x(finals)
    finals = finals.assign(_x=x).sort_values(["_x", "model"], kind="stable")
    pts = finals.groupby("_x", sort=True).agg(loss=(proxy, "mean"), score=("value", "mean"),
                                              s=("s", "mean"), status=("point_status", "last"))
    out.update(x_axis=axis)
    if len(pts) < MIN_STEP1 + 1:
        out.update(status="too_few_points", reason=f"{len(pts)} distinct x; two-stage needs "
                   f"{MIN_STEP1 + 1} (step 1 on all but the largest)")
        return out
    x_t = float(pts.index[-1])
    target = finals[finals["_x"] == x_t]
    train = pts.iloc[:-1]
    out.update(target_model=",".join(sorted(target["model"])), x_target=x_t,
               n_step1=len(train), loss_actual=pts["loss"].iloc[-1],
               score_actual=pts["score"].iloc[-1], score_stderr=pts["s"].iloc[-1],
               target_status=pts["status"].iloc[-1], low_dof=len(train) < LOW_DOF_STEP1)
    reasons = ["step 1 on 2 points (low_dof)"] if len(train) < LOW_DOF_STEP1 else []

    s1 = fit_step1(train.index.to_numpy(float), train["loss"].to_numpy(float), config)
    out.update(step1_law=s1.law, loss_e=s1["e"], loss_a=s1["a"], loss_alpha=s1["alpha"])
    if s1.ok:
        out["loss_pred"] = float(laws.saturating_loss(s1["e"], s1["a"], s1["alpha"], x_t))
        out["loss_ae"] = abs(out["loss_pred"] - out["loss_actual"])
    else:
        reasons.append(f"step 1: {s1.reason}")

    link_rows = rows[~rows["model"].isin(target["model"])
                     & np.isfinite(rows[proxy].to_numpy(float))]
    loss2, y2 = link_rows[proxy].to_numpy(float), link_rows["value"].to_numpy(float)
    out["n_step2"] = len(loss2)
    r, u = float(finals["chance"].iloc[0]), float(finals["ceiling"].iloc[0])
    s2 = fit_step2(loss2, y2, r, u, config.huber_delta_score)
    out.update(link_a=s2["top"] - s2["bottom"], link_k=s2["k"], link_l0=s2["l0"],
               link_b=s2["bottom"])
    if s2.ok:
        out["link_r2"] = _r2(y2, s2.residuals)
        link = tuple(s2[p] for p in LINK)
        out["pred_true_proxy"] = float(link_values(out["loss_actual"], *link))
        out["ae_true_proxy"] = abs(out["pred_true_proxy"] - out["score_actual"])
        if s1.ok:
            out["pred_chained"] = float(link_values(out["loss_pred"], *link))
            out["ae_chained"] = abs(out["pred_chained"] - out["score_actual"])
    else:
        reasons.append(f"step 2: {s2.reason}")

    direct = fit.fit_p_pow(train.index.to_numpy(float), train["score"].to_numpy(float), r, u,
                           floor=config.error_floor)
    if direct.ok[0]:
        out["pred_direct"] = float(laws.p_pow(direct.params["a"][0], direct.params["b"][0], x_t,
                                              r, u))
        out["ae_direct"] = abs(out["pred_direct"] - out["score_actual"])
    else:
        reasons.append(f"direct P_pow: {direct.reason[0]}")
    if s1.ok and s2.ok:
        out["status"] = "low_dof" if out["low_dof"] else fit.OK
    out["reason"] = "; ".join(reasons) or "all defined"
    return out


KIND = "twostage"  # a group's row in the build's store (_stored_row)
_SCALARS = (str, int, float, bool, type(None))


def _stored_row(finals: pd.DataFrame, rows: pd.DataFrame, config: MetricsConfig,
                memo: Memo | None) -> dict[str, Any]:
    """group_row, kept in `memo` under the digest of the group's rows and the configuration:
    its fits are most of a rebuild's metrics when nothing they read changed."""
    if memo is None or not memo.enabled:
        return group_row(finals, rows, config)
    key = memo.key(KIND, frame_digest(finals), frame_digest(rows),
                   repr(sorted(dataclasses.asdict(config).items())))

    def made() -> dict[str, Any]:
        return {k: v.item() if isinstance(v, np.generic) else v
                for k, v in group_row(finals, rows, config).items()}

    return memo.json(KIND, key, made, lambda v: isinstance(v, dict) and set(v) == set(COLUMNS)
                     and all(type(x) in _SCALARS for x in v.values()))


def twostage_table(rows: pd.DataFrame, finals: pd.DataFrame, scores: pd.DataFrame,
                   config: MetricsConfig, memo: Memo | None = None) -> pd.DataFrame:
    """One row per group with a continuous proxy on at least 3 final revisions; scores only
    (higher is better), never the proxy itself. `memo`: the build's store, where each group's
    row is kept (_stored_row)."""
    finals = with_proxies(finals[finals["higher"].astype(bool)], scores)
    has = np.zeros(len(finals), dtype=bool)
    for p in PROXIES:
        has |= np.isfinite(finals[p].to_numpy(float))
    candidates = finals.loc[has, GROUP].drop_duplicates()
    if candidates.empty:
        return pd.DataFrame(columns=COLUMNS)
    # only now: every row copied and merged, the largest step when there is nothing to do
    rows = with_proxies(rows[rows["higher"].astype(bool)], scores)
    row_groups = dict(tuple(rows.merge(candidates, on=GROUP).groupby(GROUP, sort=False)))
    out = []
    for key, fin in finals.merge(candidates, on=GROUP).groupby(GROUP, sort=True):
        res = _stored_row(fin, row_groups.get(key, rows.iloc[:0]), config, memo)
        if res["status"] == "no_proxy":
            continue
        res.update(dict(zip(GROUP, key, strict=True)))
        out.append(res)
    table = pd.DataFrame(out, columns=COLUMNS)
    table["low_dof"] = table["low_dof"].astype(bool)
    table = table.astype({c: object for c in ("proxy", "x_axis", "target_model", "step1_law",
                                              "target_status")})  # text even where all null
    for col in ("n_step1", "n_step2"):
        table[col] = table[col].astype("Int64")
    return table.sort_values(GROUP, kind="stable").reset_index(drop=True)
