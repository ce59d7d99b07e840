"""Ladder predictions: a family of small runs over an N x D grid forecasts larger runs of the
same recipe, and the forecast is checked where those runs exist.

The method of AI2's model ladder (Bhagia et al. 2024, arXiv 2412.04403), per task:

    step 1  L(N, D) = a*N^(-alpha) + b*D^(-beta) + E    on the fitted runs' final checkpoints
    step 2  S(L) = c/(1 + exp(-gamma*(L - l))) + d        on every checkpoint of those runs past
                                                          the first `ladder_skip_fraction` of
                                                          its tokens (the earliest sit at chance)

A *ladder* is a reference family whose final checkpoints alone vary N and D (several sizes
and token budgets) and give the answer loss. Rolling origin over increasing N: for every
size with at least `ladder_min_sizes` sizes at or below it, both steps are fitted on the runs up
to that size and predict (a) the family's larger runs and (b) every model of another family in
the same setting (the large runs a ladder is built to forecast). Each target gets the chained
prediction S(L^(N, D)), the prediction from its true loss S(L_M) (step 2's error alone) and
the step-1 loss L^, each with a 95% interval from refitting both steps on the fitted runs
resampled with replacement. A target with a score is a *prediction* and carries its errors
(predicted minus actual); a target without one (a task it was not evaluated on) is a
*projection*, never compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import density, fit, fitcache, laws
from .config import MetricsConfig

COLUMNS = [
    "reference", "setting", "source", "task", "metric", "origin_n", "n_runs", "n_step2",
    "target", "target_family", "role", "label", "n", "tokens", "loss_a", "loss_alpha", "loss_b",
    "loss_beta", "loss_e", "link_c", "link_gamma", "link_l", "link_d", "link_r2", "loss_true",
    "loss_pred", "loss_low", "loss_high", "loss_err", "score_true", "pred_chained",
    "chained_low", "chained_high", "err_chained", "pred_true_loss", "true_loss_low",
    "true_loss_high", "err_true_loss", "status", "reason",
]
PREDICTION, PROJECTION = "prediction", "projection"
LARGER, OTHER = "larger ladder run", "target model"
KEYS = ["family", "setting", "source", "task", "metric"]


def _is_ladder(finals: pd.DataFrame, config: MetricsConfig) -> bool:
    """Finals that identify the loss law (as density's) from enough sizes for an origin."""
    n, d = finals["n_fit"].to_numpy(float), finals["tokens"].to_numpy(float)
    return (len(np.unique(n)) >= config.ladder_min_sizes
            and density.finals_vary_n_and_d(n, d, config))


STEP1 = ("a", "alpha", "b", "beta", "e")
STEP2 = ("c", "gamma", "l", "d")
PARAMS = STEP1 + STEP2
RECORD_SCHEMA = {"status": (str,), "reason": (str,), "params": (str,), "boot": (str,),
                 "link_r2": (float,)}


def _fit_law(fin: pd.DataFrame, config: MetricsConfig, start=None) -> fit.FitResult:
    return fit.fit_loss_law_floor(fin["n_fit"].to_numpy(float), fin["tokens"].to_numpy(float),
                                  fin["answer_loss"].to_numpy(float), config.huber_delta_loss,
                                  start=start)


def _fit_link(pts: pd.DataFrame, ceiling: float, config: MetricsConfig,
              start=None) -> fit.FitResult:
    return fit.fit_link(pts["answer_loss"].to_numpy(float), pts["value"].to_numpy(float),
                        config.huber_delta_score, ceiling, start=start)


def _hex(values) -> str:
    return " ".join(float(x).hex() for x in np.ravel(values))


def _unhex(text: str) -> np.ndarray:
    return np.array([float.fromhex(x) for x in text.split()]) if text else np.zeros(0)


class LawDraws:
    """Step 1 on the fitted runs' finals and on `config.ladder_bootstrap` resamples of the runs
    (with replacement; a draw with fewer than `ladder_min_sizes` sizes is None). It depends on
    the finals alone, so the tasks of a setting whose loss is one held-out loss share it."""

    def __init__(self, fin: pd.DataFrame, config: MetricsConfig):
        self.law = _fit_law(fin, config)
        runs = fin["model"].to_numpy(object)
        self.names = np.unique(runs)
        self.rows = {r: np.flatnonzero(runs == r) for r in self.names}
        size = dict(zip(fin["model"], fin["n_fit"], strict=True))
        rng = np.random.default_rng(config.seed)
        self.picks: list[np.ndarray | None] = []
        self.draws: list[fit.FitResult | None] = []
        for _ in range(config.ladder_bootstrap):
            pick = self.names[rng.integers(0, len(self.names), len(self.names))]
            ok = self.law.ok and len({size[r] for r in pick}) >= config.ladder_min_sizes
            self.picks.append(pick if ok else None)
            self.draws.append(_fit_law(fin.iloc[np.concatenate([self.rows[r] for r in pick])],
                                       config, start=self.law) if ok else None)

    @staticmethod
    def key(fin: pd.DataFrame) -> bytes:
        return (fin[["n_fit", "tokens", "answer_loss"]].to_numpy(float).tobytes()
                + "\0".join(fin["model"].astype(str)).encode())


def fit_origin(fin: pd.DataFrame, pts: pd.DataFrame, ceiling: float,
               config: MetricsConfig, laws: LawDraws | None = None) -> dict:
    """Both steps on the fitted runs (finals `fin`, checkpoints `pts`), and their refits on
    the runs resampled with replacement (every checkpoint of a drawn run with it; a draw with
    fewer than `ladder_min_sizes` sizes, or a failed refit, is NaN): a RECORD_SCHEMA record
    with the parameters as exact hex floats. `laws`: step 1's fits on these finals, if made."""
    laws = laws if laws is not None else LawDraws(fin, config)
    law, link = laws.law, _fit_link(pts, ceiling, config)
    if not (law.ok and link.ok):
        why = "; ".join(f"{name}: {r.reason}" for name, r in (("step 1", law), ("step 2", link))
                        if not r.ok)
        return {"status": fit.FAILED, "reason": why, "params": "", "boot": "",
                "link_r2": float("nan")}
    s = pts["value"].to_numpy(float)
    ss = float(np.sum((s - s.mean()) ** 2))
    r2 = 1.0 - float(np.sum(np.square(link.residuals))) / ss if ss > 0 else float("nan")
    pts_runs = pts["model"].to_numpy(object)
    pts_rows = {r: np.flatnonzero(pts_runs == r) for r in laws.names}
    boot = np.full((config.ladder_bootstrap, len(PARAMS)), np.nan)
    for i, (pick, b_law) in enumerate(zip(laws.picks, laws.draws, strict=True)):
        if pick is None or not b_law.ok:
            continue
        b_link = _fit_link(pts.iloc[np.concatenate([pts_rows[r] for r in pick])], ceiling,
                           config, start=link)
        if b_link.ok:
            boot[i] = [b_law[k] for k in STEP1] + [b_link[k] for k in STEP2]
    note = "; ".join(f"{name}: {r.reason}" for name, r in (("step 1", law), ("step 2", link))
                     if r.reason)
    status, reason = fit.OK, note or "fitted"
    if not r2 >= config.min_reference_r2:
        status = "poor_fit"
        reason = (f"step 2 explains R^2 {r2:.3f} of the ladder's scores (below "
                  f"{config.min_reference_r2:g}): the task does not follow its loss closely "
                  "enough for a forecast to be trusted; shown with its errors")
    return {"status": status, "reason": reason, "link_r2": r2, "boot": _hex(boot),
            "params": _hex([law[k] for k in STEP1] + [link[k] for k in STEP2])}


def _predict(p: np.ndarray, n: np.ndarray, d: np.ndarray, true_loss: np.ndarray):
    """(L^, S(L^), S(L_M)) for parameter rows p (..., PARAMS) at targets (n, d, true loss)."""
    a, alpha, b, beta, e, *link = (p[..., i, None] for i in range(len(PARAMS)))
    with np.errstate(all="ignore"):
        loss = a * n ** -alpha + b * d ** -beta + e
        return loss, laws.link(loss, *link), laws.link(true_loss, *link)


def _targets(group: pd.DataFrame, others: pd.DataFrame, origin: float,
             every_task: pd.DataFrame) -> pd.DataFrame:
    """The larger runs of the ladder, then the other families' models of the setting: their
    final score on this task where they have one (a prediction), else a row with N and D only
    (a projection)."""
    larger = group.loc[group["n_fit"] > origin].assign(role=LARGER)
    scored = others.assign(role=OTHER)
    missing = every_task.loc[~every_task["model"].isin(scored["model"])]
    missing = missing.assign(role=OTHER, value=np.nan, answer_loss=np.nan)
    return pd.concat([larger, scored, missing], ignore_index=True)


def _cached(fin: pd.DataFrame, pts: pd.DataFrame, ceiling: float, config: MetricsConfig,
            cache, laws: dict[bytes, LawDraws]) -> dict:
    def fitted() -> dict:
        key = LawDraws.key(fin)
        if key not in laws:
            laws[key] = LawDraws(fin, config)
        return fit_origin(fin, pts, ceiling, config, laws[key])

    if cache is None:
        return fitted()
    runs = pd.unique(pd.concat([fin["model"], pts["model"]]))
    code = {r: i for i, r in enumerate(runs)}
    key = fitcache.fit_key("ladder", (
        *(fin[c].to_numpy(float) for c in ("n_fit", "tokens", "answer_loss")),
        fin["model"].map(code).to_numpy(float), pts["model"].map(code).to_numpy(float),
        *(pts[c].to_numpy(float) for c in ("answer_loss", "value")), np.array([ceiling])),
        config)
    rec = cache.get(key, RECORD_SCHEMA)
    if rec is None:
        rec = fitted()
        cache.put(key, rec)
    return rec


def ladder_table(rows: pd.DataFrame, finals: pd.DataFrame, references: list[str],
                 config: MetricsConfig, cache=None) -> pd.DataFrame:
    """Per (ladder, setting, task, origin, target): step-1 loss, chained and true-loss
    predictions with intervals and errors (see the module docstring). `cache`: a
    fitcache.FitCache of earlier runs' fits."""
    loss = finals["answer_loss"].to_numpy(float)
    usable = finals.loc[finals["family"].isin(references) & (finals["tokens"] > 0)
                        & (finals["n_fit"] > 0) & np.isfinite(loss) & (loss > 0)]
    parts: list[pd.DataFrame] = []
    laws: dict[bytes, LawDraws] = {}  # step 1 by its finals: shared where the loss is
    for key, group in usable.groupby(KEYS, sort=True):
        if not _is_ladder(group, config):
            continue
        ref, setting, source, task, metric = key
        in_setting = finals.loc[(finals["setting"] == setting) & (finals["n_fit"] > 0)
                                & ~finals["family"].isin(references)]
        others = in_setting.loc[(in_setting["task"] == task) & (in_setting["metric"] == metric)]
        every_task = in_setting.drop_duplicates("model")[["model", "n_fit", "tokens",
                                                          "family"]]
        ckpt = rows.loc[(rows["family"] == ref) & (rows["setting"] == setting)
                        & (rows["source"] == source) & (rows["task"] == task)
                        & (rows["metric"] == metric) & (rows["answer_loss"] > 0)]
        final_tokens = ckpt.groupby("model")["tokens"].transform("max")
        ckpt = ckpt.loc[ckpt["tokens"] >= config.ladder_skip_fraction * final_tokens]
        ceiling = float(group["ceiling"].iloc[0])
        sizes = np.unique(group["n_fit"].to_numpy(float))
        for origin in sizes[config.ladder_min_sizes - 1:]:
            fin = group.loc[group["n_fit"] <= origin]
            pts = ckpt.loc[ckpt["model"].isin(fin["model"])]
            targets = _targets(group, others, origin, every_task)
            if targets.empty:
                continue
            base = {"reference": ref, "setting": setting, "source": source, "task": task,
                    "metric": metric, "origin_n": float(origin), "n_runs": len(fin),
                    "n_step2": len(pts)}
            rec = _cached(fin, pts, ceiling, config, cache, laws)
            parts.append(_origin_rows(base, rec, targets, config))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return out.sort_values(["reference", "setting", "task", "origin_n", "role", "n", "tokens",
                            "target"], kind="stable").reset_index(drop=True)


def _origin_rows(base: dict, rec: dict, targets: pd.DataFrame,
                 config: MetricsConfig) -> pd.DataFrame:
    n, d = targets["n_fit"].to_numpy(float), targets["tokens"].to_numpy(float)
    true_loss = targets["answer_loss"].to_numpy(float)
    has_loss = np.isfinite(true_loss) & (true_loss > 0)
    score = targets["value"].to_numpy(float)
    scored = np.isfinite(score)
    out = pd.DataFrame({"target": targets["model"].to_numpy(object),
                        "target_family": targets["family"].to_numpy(object),
                        "role": targets["role"].to_numpy(object), "n": n, "tokens": d,
                        "label": np.where(scored, PREDICTION, PROJECTION),
                        "loss_true": np.where(has_loss, true_loss, np.nan), "score_true": score})
    for k, v in base.items():
        out[k] = v
    out["status"], out["link_r2"] = rec["status"], rec["link_r2"]
    out["reason"] = rec["reason"] + np.where(
        scored, "; compared with the target's score",
        "; the target has no score on this task: a projection, not compared").astype(object)
    params = _unhex(rec["params"])
    if params.size == 0:
        return out.reindex(columns=COLUMNS)
    for name, value in zip([f"loss_{k}" for k in STEP1] + [f"link_{k}" for k in STEP2],
                           params, strict=True):
        out[name] = value
    loss_pred, chained, from_true = (x[0] for x in _predict(params[None], n, d, true_loss))
    boot = _unhex(rec["boot"]).reshape(-1, len(PARAMS))
    draws = np.stack(_predict(boot, n, d, true_loss)) if len(boot) else np.zeros((3, 0, len(n)))
    enough = np.isfinite(draws).sum(axis=1) >= max(10, config.ladder_bootstrap // 2)
    with warnings.catch_warnings():  # a target no draw reaches: NaN, said by `enough`
        warnings.simplefilter("ignore", RuntimeWarning)
        q = (np.nanpercentile(draws, [2.5, 97.5], axis=1) if draws.shape[1]
             else np.full((2, 3, len(n)), np.nan))
    q = np.where(enough[None], q, np.nan)
    out["loss_pred"], out["loss_low"], out["loss_high"] = loss_pred, q[0, 0], q[1, 0]
    out["loss_err"] = np.where(has_loss, loss_pred - true_loss, np.nan)
    out["pred_chained"], out["chained_low"], out["chained_high"] = chained, q[0, 1], q[1, 1]
    out["err_chained"] = np.where(scored, chained - score, np.nan)
    out["pred_true_loss"] = np.where(has_loss, from_true, np.nan)
    out["true_loss_low"] = np.where(has_loss, q[0, 2], np.nan)
    out["true_loss_high"] = np.where(has_loss, q[1, 2], np.nan)
    out["err_true_loss"] = np.where(scored & has_loss, from_true - score, np.nan)
    unknown = ~(d > 0)  # a target without a token count has no point on the law
    out.loc[unknown, "status"] = "no_tokens"
    out.loc[unknown, "reason"] = "the target's training tokens are not known: step 1 needs D"
    return out.reindex(columns=COLUMNS)


SUMMARY_COLUMNS = ["reference", "setting", "task", "origin_n", "n_runs", "n_predictions",
                   "n_projections", "mae_chained", "mae_true_loss", "loss_mape", "coverage",
                   "link_r2", "status", "reason"]


def _origin_status(status: pd.Series) -> str:
    """The fit's own status: a target without tokens (no_tokens) says nothing about it."""
    fitted = status[status != "no_tokens"]
    return str(fitted.iloc[0]) if len(fitted) else "no_tokens"


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per ladder, setting, task and rolling origin: how the forecasts met the targets that
    exist (mean absolute errors, the loss's mean relative error, the share of scores inside
    their chained 95% interval); projections are counted, never scored."""
    if table.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    pred = table["label"].eq(PREDICTION).to_numpy()
    bounded = pred & table["chained_low"].notna().to_numpy()
    score = table["score_true"].to_numpy(float)
    inside = np.where(bounded, (score >= table["chained_low"].to_numpy(float))
                      & (score <= table["chained_high"].to_numpy(float)), np.nan)
    t = table.assign(_pred=pred, _inside=inside, _abs_chained=table["err_chained"].abs(),
                     _abs_true=table["err_true_loss"].abs(),
                     _rel_loss=(table["loss_err"] / table["loss_true"]).abs())
    out = t.groupby(["reference", "setting", "task", "origin_n"], sort=True).agg(
        n_runs=("n_runs", "first"), n_predictions=("_pred", "sum"), n_targets=("target", "size"),
        mae_chained=("_abs_chained", "mean"), mae_true_loss=("_abs_true", "mean"),
        loss_mape=("_rel_loss", "mean"), coverage=("_inside", "mean"),
        link_r2=("link_r2", "first"), status=("status", _origin_status),
        reason=("reason", "first")).reset_index()
    out["n_predictions"] = out["n_predictions"].astype(int)
    out["n_projections"] = out["n_targets"] - out["n_predictions"]
    head = [f"{p} targets compared, {q} projected" for p, q in
            zip(out["n_predictions"], out["n_projections"], strict=True)]
    fit_note = out["reason"].astype(str).str.split("; ").str[0]
    out["reason"] = [h if s == fit.OK else f"{h}; {r}" for h, s, r in
                     zip(head, out["status"], fit_note, strict=True)]
    return out.reindex(columns=SUMMARY_COLUMNS)
