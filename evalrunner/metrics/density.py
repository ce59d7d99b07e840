"""Capacity density relative to a reference family (Xiao et al. 2024, "Densing
Law of LLMs", arXiv 2412.04315, section 2).

Per (reference family, setting, task) the reference's revisions give (N, D, L, S) points:
two-step (loss law on the conditional answer loss, then the sigmoid link) when the reference
has answer losses, else the accuracy-only composed fit. A target's final score S_M inverts to
`L^ = l - (1/gamma)*ln(c/(S_M - d) - 1)`, `N^ = ((L^ - b*D0^(-beta))/a)^(-1/alpha)` and
`rho = N^/N_M`; scores outside the invertible range are reported as below floor or above
ceiling, never clipped. Only capability tasks with higher-is-better metrics enter; a subtask
enters through its parent when the parent is scored in the same setting (MMLU counts once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri

from evalrunner.memo import digest

from . import fit, fitcache, laws, tabular
from .config import MetricsConfig

if TYPE_CHECKING:
    from evalrunner.memo import Memo

TWO_STEP = "two-step"
ACCURACY_ONLY = "accuracy-only fit"
PARAMS = ("a", "alpha", "b", "beta", "c", "gamma", "l", "d")
FIT_COLUMNS = ["reference", "setting", "task", "metric", "source", "method", "n_points",
               "n_informative", *PARAMS, "r2", "rmse", "loss_rmse_log", "d0", "n_min", "n_max",
               "status", "reason"]
POOR_FIT = "poor_fit"
# a reference task the reference does not measure: too few points above chance / below
# saturation, or a parameter the data leave at its bound
UNINFORMATIVE = "uninformative"
UNIDENTIFIED = "unidentified"
REJECTED = (POOR_FIT, UNINFORMATIVE, UNIDENTIFIED)
# a fit_reference record: value types by name (the fit cache checks stored records against it)
RECORD_SCHEMA = {**dict.fromkeys((*PARAMS, "r2", "rmse", "loss_rmse_log", "d0", "n_min",
                                   "n_max"), (float,)),
                 "n_points": (int,), "n_informative": (int,), "method": (str, type(None)),
                 "status": (str,),
                 "reason": (str,), "boot": (str,)}
COLUMNS = ["model", "setting", "reference", "task", "score", "n_hat", "density", "status",
           "reason", "family", "kind", "source", "metric", "n_fit", "loss_hat", "loss_true",
           "method", "d0", "bound", "n_hat_bound", "density_bound", "density_low", "density_high"]
INTERVAL_KIND = "density-interval"  # a model's intervals in the build's store (_interval)
BOOT = "boot"  # a fits table's column of bootstrap parameters (internal, never published)
# the target score's error at these standard-normal quantiles, crossed with every bootstrap
# draw of the reference fit: 20 quantiles at equal probability steps cost no refit and keep
# the interval's ends from resting on a handful of draws
SCORE_QUANTILES = ndtri((np.arange(20) + 0.5) / 20)


def density_mask(rows: pd.DataFrame) -> np.ndarray:
    """Rows that may enter density: capability, higher is better, subtasks via their parent
    (a subtask row is left out when its parent is scored in the same setting)."""
    use = (rows["category"] == "capability").to_numpy(bool) & rows["higher"].to_numpy(bool)
    sub = use & rows["parent"].notna().to_numpy()
    if not sub.any():
        return use
    present = pd.MultiIndex.from_arrays([rows["setting"].to_numpy()[use],
                                         rows["task"].to_numpy()[use]]).unique()
    via_parent = pd.MultiIndex.from_arrays([rows["setting"].to_numpy()[sub],
                                            rows["parent"].to_numpy()[sub]]).isin(present)
    use[np.flatnonzero(sub)[via_parent]] = False
    return use


def density_rows(rows: pd.DataFrame, families: list[str] | None = None) -> pd.DataFrame:
    """The rows of `density_mask` (of `families` only, if given)."""
    mask = density_mask(rows)
    if families is not None:
        mask &= rows["family"].isin(families).to_numpy()
    return rows.loc[mask]


def _design_problem(n: np.ndarray, d: np.ndarray, config: MetricsConfig) -> str:
    """Why the reference's (N, D) points cannot separate the N and D terms, or "".

    The loss law reads N^ off at a fixed D0, so D must vary independently of N: with one size,
    one token count, or tokens proportional to size (a fixed tokens-per-parameter recipe), the
    two power laws cannot be told apart and N^ at D0 would be arbitrary.
    """
    if len(np.unique(n)) < 2:
        return "every reference point has the same parameter count: the N term is not identifiable"
    if len(np.unique(d)) < 2:
        return ""  # one data size: read off at that D (fit_reference says so), not at D0
    log_n, log_d = np.log10(n), np.log10(d)
    slope = np.polyfit(log_n, log_d, 1)
    spread = float(np.std(log_d - np.polyval(slope, log_n)))
    if spread < config.min_token_spread:
        return (f"token counts follow the sizes (log10 D varies {spread:.3f} decades around a "
                f"line in log10 N; {config.min_token_spread:g} needed): the N and D terms of the "
                "loss law cannot be separated, so N^ at D0 is not identifiable")
    return ""


def reference_inputs(points: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """All fit_reference reads of its points (N, D, score, answer loss, whether the point is
    clearly above chance and below saturation, chance, ceiling, whether it is a model's final
    checkpoint): the fit cache's key."""
    ok = (points["point_status"] == "ok").to_numpy(float)
    return (*(points[c].to_numpy(float) for c in ("n_fit", "tokens", "value", "answer_loss")),
            ok, points["chance"].to_numpy(float), points["ceiling"].to_numpy(float),
            points["final"].to_numpy(float))


def finals_vary_n_and_d(n: np.ndarray, d: np.ndarray, config: MetricsConfig) -> bool:
    """Whether final checkpoints at (n, d) alone separate the loss law's N and D terms: enough
    of them, several token budgets, and D not tied to N (a ladder or a grid, not Pythia's one
    D nor Cerebras-GPT's fixed tokens per parameter)."""
    return (len(n) >= config.min_reference_points and len(np.unique(d)) >= 2
            and not _design_problem(n, d, config))


def _law_points(n: np.ndarray, d: np.ndarray, final: np.ndarray,
                config: MetricsConfig) -> tuple[np.ndarray, str]:
    """The points the loss law is fitted on, and what the reason says about it.

    An intermediate checkpoint of a run whose learning rate is still to decay lies above the
    loss a run trained to that D reaches, so where the final checkpoints alone identify the
    N and D terms (several sizes and token budgets: a ladder or a grid) the law is fitted on
    them, as the ladder's own step 1 is; the link from loss to score uses every checkpoint.
    Otherwise (the finals share one D, as in Pythia) every checkpoint enters the law."""
    fin = final > 0
    if finals_vary_n_and_d(n[fin], d[fin], config):
        return fin, (f"loss law on the {int(fin.sum())} final checkpoints, the link on all "
                     f"{len(n)}")
    return np.ones(len(n), dtype=bool), ""


def _measured(n: np.ndarray, ok: np.ndarray, s: np.ndarray, chance: float,
              config: MetricsConfig) -> str:
    """Why the reference does not measure this task (too few informative points), or ""."""
    k, sizes = int(ok.sum()), len(np.unique(n[ok > 0]))
    if k >= config.min_informative_points and sizes >= config.min_informative_sizes:
        return ""
    return (f"only {k} of {len(n)} reference points ({sizes} sizes) are clearly above chance "
            f"({chance:g}) and below saturation; {config.min_informative_points} points from "
            f"{config.min_informative_sizes} sizes needed (best reference score {s.max():.3f}): "
            "the reference does not measure this task")


def _identified(reason: str, params: dict, chance: float, single_d: bool) -> str:
    """Why the reference's points do not determine the fit (a parameter left at the bound of
    its search range), or "". A floor d = 0 on a task whose chance is 0 is the physical floor,
    and with one token count b*D^(-beta) is one constant by design (read off at that D)."""
    if fit.AT_BOUND not in reason:
        return ""
    names = [x for part in reason.split(fit.AT_BOUND + ": ")[1:]
             for x in part.split(";")[0].split(",")]
    names = [x for x in names if not (x == "d" and chance == 0 and params["d"] <= 1e-6)
             and not (single_d and x in ("ln b", "beta"))]
    if not names:
        return ""
    return (f"{', '.join(names)} at the bound of its search range: the reference's points do "
            "not determine it")


def fit_reference(points: pd.DataFrame, config: MetricsConfig) -> dict:
    """Fit one (reference, setting, task) from its revisions; returns a FIT_COLUMNS record."""
    n, d, s, loss, ok, chance, ceiling, final = reference_inputs(points)
    size = len(n)
    rec: dict = dict.fromkeys(PARAMS, np.nan)
    rec.update(n_points=size, n_informative=int(ok.sum()), r2=np.nan, rmse=np.nan,
               loss_rmse_log=np.nan, d0=config.d0, n_min=float(n.min()) if size else np.nan,
               n_max=float(n.max()) if size else np.nan, boot="")
    problem = _design_problem(n, d, config)
    if problem:
        return {**rec, "method": None, "status": fit.FAILED, "reason": problem}
    # A reference trained on one data size (a final-checkpoint-only family) fixes the D term to
    # one constant b*D_ref^(-beta): N^ is well defined at D_ref and nowhere else, so density is
    # read off there. Such rows carry d0 = D_ref and say so in the reason.
    single_d = len(np.unique(d)) == 1
    if single_d:
        rec["d0"] = float(d[0])
    prefix = (f"one token count in the reference: N^ read off at its D = {d[0]:.4g} tokens, "
              "not the configured D0; " if single_d else "")
    if size < config.min_reference_points:
        return {**rec, "method": None, "status": fit.FAILED, "reason": f"{prefix}{size} (N, D) "
                f"points; the fit needs at least {config.min_reference_points}"}
    chance_0, ceiling_0 = float(chance[0]), float(ceiling[0])
    unmeasured = _measured(n, ok, s, chance_0, config)
    if unmeasured:
        return {**rec, "method": None, "status": UNINFORMATIVE, "reason": prefix + unmeasured}
    has_loss = np.isfinite(loss) & (loss > 0)
    if has_loss.sum() >= config.min_reference_points:
        rec["method"] = TWO_STEP
        n, d, s, loss = n[has_loss], d[has_loss], s[has_loss], loss[has_loss]
        rec["n_points"] = int(has_loss.sum())
        on, where = _law_points(n, d, final[has_loss], config)
        law = fit.fit_loss_law(n[on], d[on], loss[on], config.huber_delta_loss)
        if not law.ok:
            return {**rec, "status": fit.FAILED, "reason": f"{prefix}loss law: {law.reason}"}
        link = fit.fit_link(loss, s, config.huber_delta_score, ceiling_0)
        if not link.ok:
            return {**rec, "status": fit.FAILED, "reason": f"{prefix}link: {link.reason}"}
        rec.update({k: law[k] for k in fit.LOSS_LAW}, **{k: link[k] for k in fit.LINK})
        starts: tuple = (law, link)
        data: tuple = (n, d, s, loss, on)
        rec["loss_rmse_log"] = float(np.sqrt(np.mean(
            (np.log(loss[on]) - np.log(loss[on] - np.asarray(law.residuals))) ** 2)))
        residuals = np.asarray(link.residuals)
        note = "; ".join([where] * bool(where) + [
            f"{name}: {r.reason}" for name, r in (("loss law", law), ("link", link)) if r.reason])
    else:
        rec["method"] = ACCURACY_ONLY
        if size < config.min_reference_points:
            return {**rec, "status": fit.FAILED, "reason": f"{prefix}{size} (N, D) "
                    f"points; the fit needs at least {config.min_reference_points}"}
        comp = fit.fit_composed(n, d, s, config.huber_delta_score, ceiling_0)
        if not comp.ok:
            return {**rec, "status": fit.FAILED, "reason": f"{prefix}composed fit: {comp.reason}"}
        rec.update({k: comp[k] for k in PARAMS})
        starts, data = (comp,), (n, d, s)
        residuals = np.asarray(comp.residuals)
        note = "no conditional answer loss: accuracy-only fit (l = 0, gamma = -1 fixed)"
        note += f"; {comp.reason}" if comp.reason else ""
    # Scores the law cannot follow (a task at chance for the whole family, a noisy one) give
    # flat fits whose inversion is arbitrary: such a reference task is not used.
    rec["rmse"] = float(np.sqrt(np.mean(residuals ** 2)))
    ss_tot = float(np.sum((s - s.mean()) ** 2))
    rec["r2"] = 1.0 - float(np.sum(residuals ** 2)) / ss_tot if ss_tot > 0 else np.nan
    if not rec["r2"] >= config.min_reference_r2:
        return {**rec, "status": POOR_FIT, "reason": f"{prefix}R^2 {rec['r2']:.3f} of the score "
                f"fit is below {config.min_reference_r2:g}: the reference does not follow the "
                f"law on this task; {note}"}
    why = _identified(note, rec, chance_0, single_d)
    if why:
        return {**rec, "status": UNIDENTIFIED, "reason": prefix + why}
    rec["boot"] = _bootstrap(data, starts, ceiling_0, config)
    return {**rec, "status": fit.OK, "reason": prefix + (note or "fitted")}


def _refit(data: tuple, starts: tuple, ceiling: float, config: MetricsConfig) -> list[float]:
    """PARAMS of one refit started at the full fit's optimum (NaN where it fails)."""
    if len(starts) == 2:
        n, d, s, loss, on = data
        law = fit.fit_loss_law(n[on], d[on], loss[on], config.huber_delta_loss,
                               start=starts[0])
        link = fit.fit_link(loss, s, config.huber_delta_score, ceiling, start=starts[1])
        if not (law.ok and link.ok):
            return [np.nan] * len(PARAMS)
        return [law[k] for k in fit.LOSS_LAW] + [link[k] for k in fit.LINK]
    comp = fit.fit_composed(*data, config.huber_delta_score, ceiling, start=starts[0])
    return [comp[k] for k in PARAMS] if comp.ok else [np.nan] * len(PARAMS)


def _bootstrap(data: tuple, starts: tuple, ceiling: float, config: MetricsConfig) -> str:
    """`reference_bootstrap` refits on resamples of the reference's models (its sizes drawn
    with replacement, every checkpoint of a drawn model with it; a draw with fewer than
    `min_informative_sizes` distinct sizes is left out, as the full fit would be): their
    PARAMS, row after row, as exact hex floats (NaN for a draw left out). The draws depend on
    the seed and the sizes only, so every task of a reference resamples the same models."""
    n = data[0]
    sizes = np.unique(n)
    rng = np.random.default_rng(config.seed)
    rows = []
    for _ in range(config.reference_bootstrap):
        pick = rng.integers(0, len(sizes), len(sizes))
        if len(np.unique(pick)) < config.min_informative_sizes:
            rows.append([np.nan] * len(PARAMS))
            continue
        idx = np.concatenate([np.flatnonzero(n == sizes[i]) for i in pick])
        rows.append(_refit(tuple(a[idx] for a in data), starts, ceiling, config))
    return " ".join(float(x).hex() for row in rows for x in row)


def boot_params(fits: pd.DataFrame) -> np.ndarray:
    """The fits' bootstrap parameters as an array (fits, draws, PARAMS); NaN where a fit has
    none (not ok, or intervals off)."""
    texts = fits[BOOT].to_numpy(object) if BOOT in fits else np.full(len(fits), "")
    draws = max((len(t.split()) // len(PARAMS) for t in texts if t), default=0)
    out = np.full((len(fits), draws, len(PARAMS)), np.nan)
    for i, t in enumerate(texts):
        if t:
            vals = np.array([float.fromhex(x) for x in t.split()])
            out[i] = vals.reshape(-1, len(PARAMS))
    return out


def _fit_cached(points: pd.DataFrame, config: MetricsConfig,
                cache: fitcache.FitCache | None) -> dict:
    """fit_reference, through the cache when given (a hit is what a fresh fit returns)."""
    if cache is None:
        return fit_reference(points, config)
    key = fitcache.fit_key("fit_reference", reference_inputs(points), config)
    rec = cache.get(key, RECORD_SCHEMA)
    if rec is None:
        rec = fit_reference(points, config)
        cache.put(key, rec)
    return rec


def reference_fits(rows: pd.DataFrame, references: list[str], config: MetricsConfig,
                   cache: fitcache.FitCache | None = None):
    """Fits per (reference, setting, task): every revision of the reference family's models
    with known N and D > 0, from the reference's most frequent source in that setting (sources
    are never mixed in one fit). `cache`: fit records of earlier runs (fitcache.FitCache)."""
    usable = rows.loc[rows["family"].isin(references) & (rows["tokens"] > 0)
                      & (rows["n_fit"] > 0)]
    records = []
    for (ref, setting), group in usable.groupby(["family", "setting"], sort=True):
        counts = group.groupby("source").size()
        source = sorted(counts.index[counts == counts.max()])[0]
        group = group.loc[group["source"] == source]
        for (task, metric), pts in group.groupby(["task", "metric"], sort=True):
            rec = _fit_cached(pts, config, cache)
            records.append({"reference": ref, "setting": setting, "task": task,
                            "metric": metric, "source": source, **rec})
    table = pd.DataFrame(records, columns=[*FIT_COLUMNS, BOOT]).astype(
        {"n_min": float, "n_max": float})
    # several metrics for one task in one setting: the most fitted points wins, then the name
    table = table.sort_values(["reference", "setting", "task", "n_points", "metric"],
                              ascending=[True, True, True, False, True], kind="stable")
    table = table.drop_duplicates(["reference", "setting", "task"])
    # the range inside which N^ is a number: the reference's sizes widened by the factor
    table["n_lo"] = table["n_min"] / config.extrapolation_factor
    table["n_hi"] = table["n_max"] * config.extrapolation_factor
    return table.sort_values(["reference", "setting", "task"], kind="stable").reset_index(
        drop=True)


def _invert(s: np.ndarray, p: dict[str, np.ndarray], d0: float | np.ndarray):
    loss_hat = laws.link_inverse(s, p["c"], p["gamma"], p["l"], p["d"])
    n_hat = laws.effective_params(loss_hat, p["a"], p["alpha"], p["b"], p["beta"], d0)
    below = s <= p["d"]
    above = ~below & ~np.isfinite(n_hat)  # s >= c + d, or L^ <= b*D0^(-beta)
    return loss_hat, n_hat, below, above


def invert(score: np.ndarray, p: dict[str, np.ndarray], d0: float):
    """Vectorised inversion; returns (L^, N^, status) with status ok / below_floor /
    above_ceiling. Parameters are arrays aligned with score (or scalars)."""
    loss_hat, n_hat, below, above = _invert(np.asarray(score, dtype=float), p, d0)
    status = np.select([below, above], ["below_floor", "above_ceiling"], "ok").astype(object)
    return loss_hat, n_hat, status


# status of a density row (its code is the index), and the fixed part of its reason ("" where
# the reason is built per pair: metric mismatch, reference fit not used)
STATUS = ["ok", "below_floor", "above_ceiling", "no_param_count", "metric_mismatch",
           "reference_poor_fit", "reference_fit_failed", "above_range", "below_range",
           "reference_not_measured"]
_REASON = ["in range", "score at or below the link's floor d: N^ is below the reference's "
           "range (an upper bound)",
           "score at or above what the fitted law reaches at D0 (ceiling c + d, or "
           "L^ <= b*D0^(-beta)): N^ is above the reference's range (a lower bound)",
           "model has no parameter count", "", "", "",
           "N^ beyond the largest reference model times the extrapolation factor: "
           "reported as a lower bound, not a number",
           "N^ below the smallest reference model divided by the extrapolation factor: "
           "reported as an upper bound, not a number", ""]
ABOVE, BELOW = (1, 2, 7, 8), (2, 7)  # codes with a bound; of them, the lower bounds (">")


class Judged(NamedTuple):
    """density_table's rows as arrays, aligned with its (finals, fits) position pairs."""

    score: np.ndarray
    loss_hat: np.ndarray  # NaN where the fit is not used or the metric differs
    n_hat: np.ndarray  # NaN unless ok
    density: np.ndarray  # NaN unless ok
    n_m: np.ndarray
    status: np.ndarray  # index into STATUS (0: ok)
    reason: np.ndarray  # index into labels
    labels: list[str]
    bound: np.ndarray  # "", ">" (N^ is at least n_bound) or "<" (at most)
    n_bound: np.ndarray  # the bound on N^ (NaN without one)
    low: np.ndarray  # 95% interval of the density where it is a number (NaN elsewhere)
    high: np.ndarray


def target_pairs(finals: pd.DataFrame, fits: pd.DataFrame,
                 targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions (in finals, in fits) of density_table's rows, in its order (model, setting,
    reference, task); None when no row may enter density or there are no fits. `targets`:
    codes that stand for the model in that order (default: the model's own)."""
    tpos = np.flatnonzero(density_mask(finals)) if len(finals) else np.zeros(0, dtype=int)
    if len(tpos) == 0 or fits.empty:
        return None
    li, ri = tabular.inner_join(finals[["setting", "task"]].iloc[tpos], fits, ["setting", "task"])
    li = tpos[li]  # positions in finals
    model = tabular.codes(finals["model"] if targets is None else targets)[li]
    t_codes = {c: tabular.codes(finals[c])[li] for c in ("setting", "task")}
    order = np.lexsort((t_codes["task"], tabular.codes(fits["reference"])[ri],
                        t_codes["setting"], model))
    return li[order], ri[order]


def judge(finals: pd.DataFrame, fits: pd.DataFrame, li: np.ndarray, ri: np.ndarray,
          memo: Memo | None = None) -> Judged:
    """Invert each target row's score with its fit (pairs of target_pairs); later conditions
    win: outside the reference's widened range (fits' n_lo, n_hi), not invertible, no parameter
    count, metric differs from the fit's, fit not usable. `memo`: the build's store, for the
    intervals (_interval)."""
    score = finals["value"].to_numpy(float)[li]
    p = {k: fits[k].to_numpy(float)[ri] for k in PARAMS}
    loss_hat, n_hat, below, above = _invert(score, p, fits["d0"].to_numpy(float)[ri])
    n_lo, n_hi = fits["n_lo"].to_numpy(float)[ri], fits["n_hi"].to_numpy(float)[ri]
    n_m = finals["n_fit"].to_numpy(float)[li]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = n_hat / n_m
    fit_status = fits["status"].to_numpy(object)
    no_fit = (fit_status != fit.OK)[ri]
    poor = (fit_status == POOR_FIT)[ri]
    rejected = np.isin(fit_status, REJECTED)[ri]
    # metric of the target vs the fit's, compared (and named in the reason) per distinct pair
    t_metric, t_names = pd.factorize(finals["metric"].astype(str), use_na_sentinel=False)
    f_metric, f_names = pd.factorize(fits["metric"].astype(str), use_na_sentinel=False)
    combos, pair = np.unique(t_metric[li] * len(f_names) + f_metric[ri], return_inverse=True)
    pairs = [(t_names[c // len(f_names)], f_names[c % len(f_names)]) for c in combos]
    mismatch = np.array([m != f for m, f in pairs], dtype=bool)[pair.ravel()]
    no_n = ~(n_m > 0)
    with np.errstate(invalid="ignore"):
        past_hi, past_lo = n_hat > n_hi, n_hat < n_lo
    status = np.select([no_fit & poor, no_fit & rejected, no_fit, mismatch, no_n, above, below,
                        past_hi, past_lo], [5, 9, 6, 4, 3, 2, 1, 7, 8], 0)
    labels = list(_REASON)
    labels += [f"target metric {m} differs from the reference's {f}" for m, f in pairs]
    labels += ["reference fit not used: " + str(r) for r in fits["reason"]]
    reason = np.select([no_fit, mismatch], [len(_REASON) + len(pairs) + ri, len(_REASON) + pair],
                       status)
    ok = status == 0
    lower = np.isin(status, BELOW)
    bounded = np.isin(status, ABOVE)
    bound = np.where(bounded, np.where(lower, ">", "<"), "").astype(object)
    n_bound = np.where(bounded, np.where(lower, n_hi, n_lo), np.nan)
    low, high = _interval(finals, fits, li, ri, ok, memo)
    return Judged(score, np.where(no_fit | mismatch, np.nan, loss_hat),
                  np.where(ok, n_hat, np.nan), np.where(ok, rho, np.nan), n_m, status, reason,
                  labels, bound, n_bound, low, high)


def _interval(finals: pd.DataFrame, fits: pd.DataFrame, li: np.ndarray, ri: np.ndarray,
              ok: np.ndarray, memo: Memo | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5% and 97.5% points of the density over the fit's bootstrap draws crossed with
    the target score's own normal error (its stderr, at SCORE_QUANTILES): N^ of a draw
    outside the widened range counts at the range's edge, so an interval never leaves it.
    The same error quantiles for every row: a row's interval depends on its own inputs only,
    so with `memo` (the build's store) each model's intervals are kept under the digest of
    those inputs and only the models whose inputs changed are drawn again."""
    low, high = np.full(len(li), np.nan), np.full(len(li), np.nan)
    boot = boot_params(fits)
    at = np.flatnonzero(ok)
    if boot.shape[1] == 0 or len(at) == 0:
        return low, high
    err = np.nan_to_num(finals["s"].to_numpy(float), nan=0.0) if "s" in finals else \
        np.zeros(len(finals))
    target = np.column_stack([finals["value"].to_numpy(float), err,
                              finals["n_fit"].to_numpy(float)])  # score, its error, N_M
    edges = fits[["n_lo", "n_hi", "d0"]].to_numpy(float)
    if memo is None or not memo.enabled:
        low[at], high[at] = _draws(target[li[at]], ri[at], boot, edges)
        return low, high
    # per model, in row order: its rows' target inputs and the digests of their fits' inputs
    codes = pd.factorize(finals["model"].to_numpy(object)[li[at]], use_na_sentinel=False)[0]
    order = np.argsort(codes, kind="stable")
    groups = np.split(at[order], np.cumsum(np.bincount(codes))[:-1])
    fit_digest = np.array([digest(boot[i].tobytes(), edges[i].tobytes())
                           for i in range(len(fits))])
    keys = [memo.key(INTERVAL_KIND, target[li[g]].tobytes(), *fit_digest[ri[g]])
            for g in groups]

    def compute(missing: list[int]) -> list[list[list[float]]]:
        rows = np.concatenate([groups[i] for i in missing])
        lo, hi = _draws(target[li[rows]], ri[rows], boot, edges)
        cuts = np.cumsum([len(groups[i]) for i in missing])[:-1]
        return [[a.tolist(), b.tolist()] for a, b in zip(np.split(lo, cuts), np.split(hi, cuts),
                                                         strict=True)]

    def check(i: int, v: Any) -> bool:  # [low, high], a float per row of the model
        return (isinstance(v, list) and len(v) == 2 and all(
            isinstance(x, list) and len(x) == len(groups[i]) and
            all(type(y) is float for y in x) for x in v))

    for g, (lo, hi) in zip(groups, memo.json_many(INTERVAL_KIND, keys, compute, check),
                           strict=True):
        low[g], high[g] = lo, hi
    return low, high


def _draws(target: np.ndarray, f: np.ndarray, boot: np.ndarray, edges: np.ndarray,
           chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """_interval's ends (density, NaN without ten draws per score quantile) of rows with
    target (score, error, N_M) and fit `f` (positions in the fits' bootstrap draws `boot`,
    (fits, draws, PARAMS), and edges (n_lo, n_hi, d0)); the draws are taken a chunk of rows
    at a time (all at once they are 6 kB a row)."""
    low, high = np.full(len(target), np.nan), np.full(len(target), np.nan)
    z = SCORE_QUANTILES[None, None, :]
    for part in np.array_split(np.arange(len(target)), -(-len(target) // chunk)):
        score, err, n_m = (target[part, j] for j in range(3))
        p = boot[f[part]][..., None]  # (k, draws, 1) per parameter
        drawn = np.isfinite(p[..., 0, :]) & np.ones_like(z, dtype=bool)
        params = {k: p[:, :, j] for j, k in enumerate(PARAMS)}
        sc = score[:, None, None] + z * err[:, None, None]
        lo, hi, d0 = (edges[f[part], j][:, None, None] for j in range(3))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            _, n_hat, below, above = _invert(sc, params, d0)
            n_hat = np.where(below, lo, np.where(above, hi, np.clip(n_hat, lo, hi)))
        n_hat = np.where(drawn, n_hat, np.nan).reshape(len(part), -1)
        enough = np.isfinite(n_hat).sum(axis=1) >= 10 * len(SCORE_QUANTILES)
        if enough.any():
            q = np.nanpercentile(n_hat[enough], [2.5, 97.5], axis=1)
            low[part[enough]] = q[0] / n_m[enough]
            high[part[enough]] = q[1] / n_m[enough]
    return low, high


def density_table(finals: pd.DataFrame, fits: pd.DataFrame, config: MetricsConfig,
                  memo: Memo | None = None):
    """Per (model, setting, reference, task): score, N^, rho = N^/N_M with status and reason.

    Every target row meets the reference fits of its (setting, task) (see judge; `memo`: the
    build's store, for the intervals).
    """
    found = target_pairs(finals, fits)
    if found is None:
        return pd.DataFrame(columns=COLUMNS)
    li, ri = found
    j = judge(finals, fits, li, ri, memo)

    def take(frame: pd.DataFrame, col: str, idx: np.ndarray) -> pd.Series:
        return frame[col].iloc[idx].reset_index(drop=True)

    out = pd.DataFrame({
        "model": take(finals, "model", li), "setting": take(finals, "setting", li),
        "reference": take(fits, "reference", ri), "task": take(finals, "task", li),
        "score": j.score, "n_hat": j.n_hat, "density": j.density, "bound": j.bound,
        "n_hat_bound": j.n_bound, "density_bound": j.n_bound / j.n_m,
        "density_low": j.low, "density_high": j.high,
        "status": tabular.strings(STATUS, j.status),
        "reason": tabular.strings(j.labels, j.reason), "family": take(finals, "family", li),
        "kind": take(finals, "kind", li), "source": take(finals, "source", li),
        "metric": take(finals, "metric", li), "n_fit": j.n_m, "loss_hat": j.loss_hat,
        "loss_true": _true_loss(finals, fits, li, ri, j.loss_hat),
        "method": take(fits, "method", ri), "d0": fits["d0"].to_numpy(float)[ri],
    })
    return out[COLUMNS]


def _true_loss(finals: pd.DataFrame, fits: pd.DataFrame, li: np.ndarray, ri: np.ndarray,
               loss_hat: np.ndarray) -> np.ndarray:
    """The target's own answer loss beside the implied one, where the fit is two-step (the
    same unit: both are the setting's loss) and an implied loss exists."""
    if "answer_loss" not in finals:
        return np.full(len(li), np.nan)
    true = finals["answer_loss"].to_numpy(float)[li]
    two_step = (fits["method"].to_numpy(object) == TWO_STEP)[ri]
    return np.where(two_step & np.isfinite(loss_hat) & (true > 0), true, np.nan)


class Aggregate(NamedTuple):
    """A model's density over its tasks, per group (see `aggregate`)."""

    density: np.ndarray  # a number only when every measured task is in range
    bound: np.ndarray  # "", ">" or "<"; "?" when tasks bound it from both sides
    density_bound: np.ndarray  # the geometric mean of values and bounds, where bound is > or <
    n_ok: np.ndarray
    n_lower: np.ndarray  # tasks whose density is only known to be above a value
    n_upper: np.ndarray

    def status(self) -> np.ndarray:
        """ok / lower_bound / upper_bound / undetermined / not_measured, per group."""
        b = self.bound
        none = (self.n_ok + self.n_lower + self.n_upper) == 0
        return np.select([b == ">", b == "<", b == "?", none],
                         ["lower_bound", "upper_bound", "undetermined", "not_measured"],
                         "ok").astype(object)


def aggregate(group: np.ndarray, n_groups: int, status: np.ndarray, rho: np.ndarray,
              rho_bound: np.ndarray) -> Aggregate:
    """The geometric mean over every task the reference measures for the model (status codes:
    ok, or a bound from outside the range), with tasks out of range entering at their bound.

    Dropping the out-of-range tasks would let a better score lower a model's density (a task
    that leaves the range at the top stops counting); with their bounds in, the mean is itself
    a bound: above it when some tasks are only known to be higher, below it when lower, and
    undetermined when both."""
    lower, upper = np.isin(status, BELOW), np.isin(status, (1, 8))
    ok = status == 0
    used = ok | lower | upper
    value = np.where(ok, rho, rho_bound)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(used, np.log(value), 0.0)
    count = np.bincount(group, weights=used, minlength=n_groups)
    with np.errstate(invalid="ignore"):
        mean = np.exp(np.bincount(group, weights=logs, minlength=n_groups) / count)
    n_ok = np.bincount(group, weights=ok, minlength=n_groups).astype(int)
    n_lower = np.bincount(group, weights=lower, minlength=n_groups).astype(int)
    n_upper = np.bincount(group, weights=upper, minlength=n_groups).astype(int)
    exact = (n_lower == 0) & (n_upper == 0) & (n_ok > 0)
    bound = np.select([(n_lower > 0) & (n_upper > 0), n_lower > 0, n_upper > 0],
                      ["?", ">", "<"], "").astype(object)
    one_sided = (bound == ">") | (bound == "<")
    return Aggregate(np.where(exact, mean, np.nan), bound, np.where(one_sided, mean, np.nan),
                     n_ok, n_lower, n_upper)


MODEL_COLUMNS = ["model", "setting", "reference", "density", "n_tasks", "tasks",
                 "log_density_mean", "log_density_sd", "n_below_floor", "n_above_ceiling",
                 "n_not_computed", "method", "d0", "default_reference", "status", "reason",
                 "family", "kind", "n_fit", "release_date", "bound", "density_bound",
                 "n_fit_basis"]
_CODE = {name: i for i, name in enumerate(STATUS)}


def model_table(density: pd.DataFrame, models: pd.DataFrame, default_reference: str,
                config: MetricsConfig) -> pd.DataFrame:
    """Per (model, setting, reference): the geometric mean over the tasks the reference
    measures (`aggregate`: a number when all are in range, else a bound), with the count and
    list of tasks in range."""
    if density.empty:
        return pd.DataFrame(columns=MODEL_COLUMNS)
    keys = ["model", "setting", "reference"]
    ok_mask = density["status"] == "ok"
    rho = density["density"].where(ok_mask).to_numpy(float)
    code = density["status"].map(_CODE).to_numpy(int)
    d = density.assign(
        log_rho=np.log(rho), is_ok=ok_mask.astype(int),
        below=np.isin(code, (1, 8)).astype(int), above=np.isin(code, BELOW).astype(int))
    table = d.groupby(keys, sort=True).agg(
        n_rows=("task", "size"), n_tasks=("is_ok", "sum"), n_below_floor=("below", "sum"),
        n_above_ceiling=("above", "sum"), family=("family", "first"), kind=("kind", "first"),
        n_fit=("n_fit", "first"), d0=("d0", "max"))
    groups = d.groupby(keys, sort=True)
    group_of = groups.ngroup().to_numpy()
    agg = aggregate(group_of, len(table), code, rho, density["density_bound"].to_numpy(float))
    table["log_density_sd"] = groups["log_rho"].std(ddof=0)
    # per group: the tasks in range (sorted), and the distinct methods they used
    group, ok = group_of[ok_mask], ok_mask.to_numpy()
    tasks = tabular.joined_per_group(group, d["task"].to_numpy(object)[ok], len(table), ";")
    method = tabular.joined_per_group(group, d["method"].to_numpy(object)[ok], len(table),
                                      " + ", distinct=True)
    table = table.reset_index()
    table["tasks"] = pd.Series(tasks, dtype="str").fillna("")
    table["method"] = pd.Series(method, dtype="str")
    table["density"] = agg.density
    table["log_density_mean"] = np.log(agg.density)
    table["bound"] = agg.bound
    table["density_bound"] = agg.density_bound
    table["n_not_computed"] = (table["n_rows"] - table["n_tasks"] - table["n_below_floor"]
                               - table["n_above_ceiling"])
    table["default_reference"] = table["reference"] == default_reference
    measured = table["n_tasks"] + table["n_below_floor"] + table["n_above_ceiling"]
    counts = (table["n_tasks"].astype(str) + " in range, " + table["n_above_ceiling"].astype(str)
              + " above the reference's range, " + table["n_below_floor"].astype(str)
              + " below it, " + table["n_not_computed"].astype(str) + " not measured by the "
              "reference, of " + table["n_rows"].astype(str) + " tasks")
    b = table["bound"].to_numpy(object)
    table["status"] = agg.status()
    lead = np.select(
        [b == ">", b == "<", b == "?", measured.to_numpy() == 0],
        ["a lower bound: geometric mean with the out-of-range tasks at their bounds (",
         "an upper bound: geometric mean with the out-of-range tasks at their bounds (",
         "undetermined: tasks bound it from both sides (", "no task the reference measures ("],
        "geometric mean over every task the reference measures (")
    table["reason"] = pd.Series(lead, dtype=object) + counts + ")"
    info = models.set_index("model")
    table["release_date"] = table["model"].map(info["release_date"])
    # which count N_M is: non-embedding where a config or a reviewed count gives it, else the
    # (often rounded) total, which the pages say
    table["n_fit_basis"] = (table["model"].map(info["n_fit_basis"]) if "n_fit_basis" in info
                            else pd.Series(np.nan, index=table.index)).fillna("").astype(str)
    return table[MODEL_COLUMNS]
