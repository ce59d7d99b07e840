"""Inference-time scaling: pass@k, coverage laws and the PassUntil task law.

With n samples per item of which c are correct, the unbiased estimator of pass@k is
(Chen et al. 2021, "Evaluating Large Language Models Trained on Code", arXiv 2107.03374, eq. 1)

    pass@k = 1 - C(n - c, k)/C(n, k) = 1 - prod_{i = n-c+1}^{n} (1 - k/i)     (k <= n)

computed in the product form, as a difference of cumulative sums of log1p(-k/i), so no binomial
coefficient is ever formed (C(1000, 500) overflows a float). Coverage is its mean over items.

Coverage law (Brown et al. 2024, "Large Language Monkeys: Scaling Inference Compute with Repeated
Sampling", arXiv 2407.21787, section 3): `c(k) ~= exp(a*k^b)`, a < 0, b < 0, fitted by OLS of
`ln(-ln c)` on `ln k` (slope b, intercept ln(-a)) over the k with 0 < c < 1.

PassUntil task law (Hu et al. 2024, "Predicting Emergent Abilities with Infinite Resolution
Evaluation", ICLR 2024, arXiv 2310.03262, eq. 3): `PU(N) = exp(-c*N^(-alpha))`, i.e. `ln(-ln PU)`
linear in ln N; here PU is the pass@1 estimated from many samples, x the family's scale axis.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import fit

COVERAGE = ("a", "b")
PASSUNTIL = ("c", "alpha")


def pass_at_k(n: int, c: np.ndarray | int, k: int) -> np.ndarray:
    """Unbiased pass@k for items with `c` correct out of `n` samples (module docstring).

    `c` may be an array (one value per item); raises ValueError unless 0 <= c <= n, 1 <= k <= n.
    """
    c = np.asarray(c)
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n; got k={k}, n={n}")
    if np.any((c < 0) | (c > n)):
        raise ValueError(f"correct counts must lie in [0, n={n}]; got {c[(c < 0) | (c > n)][:5]}")
    return pass_at_k_curve(n, np.atleast_1d(c))[:, k - 1].reshape(c.shape)


def pass_at_k_curve(n: int, c: np.ndarray) -> np.ndarray:
    """pass@k for k = 1..n, shape (items, n): the product form, vectorised over items and k.

    For each k, `S_k(m) = sum_{i=k+1}^{m} log1p(-k/i)`; then `C(n-c,k)/C(n,k) =
    exp(S_k(n) - S_k(n-c))` when `n - c >= k`, and 0 (pass@k = 1) otherwise.
    """
    c = np.asarray(c, dtype=np.int64)
    if n < 1:
        raise ValueError(f"pass@k needs n >= 1 samples per item; got n={n}")
    i = np.arange(1, n + 1, dtype=float)
    ks = np.arange(1, n + 1, dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(i[None, :] > ks, np.log1p(-ks / i[None, :]), 0.0)  # (k, i)
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(terms, axis=1)], axis=1)  # S_k(m), m=0..n
    fail = n - c  # items' failure counts
    log_ratio = cum[:, n][None, :] - cum[:, fail].T  # (items, k)
    out = 1.0 - np.exp(log_ratio)
    return np.where(fail[:, None] < ks.T, 1.0, out)


def coverage_curve(n: int, correct: np.ndarray) -> np.ndarray:
    """Mean pass@k over items for k = 1..n (coverage, Brown et al. 2024)."""
    return pass_at_k_curve(n, np.asarray(correct)).mean(axis=0)


def exp_power(a: float, b: float, k: np.ndarray | float) -> np.ndarray:
    """The coverage law `c(k) = exp(a*k^b)` (Brown et al. 2024); also PassUntil's form."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(a * np.power(np.asarray(k, dtype=float), b))


def _gompertz_line(law: str, names: tuple[str, str], t: np.ndarray, y: np.ndarray,
                   map_params) -> fit.FitResult:
    """OLS of `ln(-ln y)` on t over the points with 0 < y < 1 (others carry no information in
    this space: -ln 1 = 0 and -ln 0 = inf). Residuals in y units."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    use = np.isfinite(t) & np.isfinite(y) & (y > 0) & (y < 1)
    if use.sum() < 2:
        return _failed(law, names, f"{int(use.sum())} point(s) strictly between 0 and 1; "
                       "the fit needs 2")
    line = fit.ols_lines(t[use], np.log(-np.log(y[use]))).row(0)
    if not line.ok:
        return _failed(law, names, line.reason)
    p1, p2 = map_params(line["a"], line["b"])
    fitted = np.exp(-np.exp(line["a"] + line["b"] * t[use]))
    return fit.FitResult(law, MappingProxyType({names[0]: p1, names[1]: p2}),
                         tuple(float(r) for r in y[use] - fitted), fit.OK,
                         "" if use.all() else f"{int((~use).sum())} point(s) at 0 or 1 left out")


def _failed(law: str, names: tuple[str, ...], reason: str) -> fit.FitResult:
    return fit.FitResult(law, MappingProxyType(dict.fromkeys(names, math.nan)), (), fit.FAILED,
                         reason)


def fit_coverage(k: np.ndarray, coverage: np.ndarray) -> fit.FitResult:
    """Fit `c(k) = exp(a*k^b)`: OLS of `ln(-ln c)` on `ln k`; a = -exp(intercept), b = slope."""
    return _gompertz_line("coverage", COVERAGE, np.log(np.asarray(k, dtype=float)), coverage,
                          lambda icpt, slope: (-math.exp(icpt), slope))


def fit_passuntil(x: np.ndarray, pass1: np.ndarray) -> fit.FitResult:
    """Fit `PU = exp(-c*10^(-alpha*x))` (x = log10 of scale): OLS of `ln(-ln PU)` on
    `ln(10)*x`; c = exp(intercept), alpha = -slope."""
    return _gompertz_line("passuntil", PASSUNTIL, math.log(10.0) * np.asarray(x, dtype=float),
                          pass1, lambda icpt, slope: (math.exp(icpt), -slope))


def passuntil(c: float, alpha: float, x: np.ndarray | float) -> np.ndarray:
    """PassUntil task law at x = log10(scale): `exp(-c*X^(-alpha))`, X = 10**x."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(-c * np.power(10.0, -alpha * np.asarray(x, dtype=float)))


# ---------------------------------------------------------------------------------------------
# Tables from per-item summaries (evalrunner/metrics/itemdata.py)

PASSK_COLUMNS = ["family", "model", "revision", "setting", "task", "filter", "n_samples",
                 "n_items", "k", "pass_at_k"]
COVERAGE_COLUMNS = [
    "family", "model", "revision", "setting", "task", "filter", "n_samples", "n_items", "tokens",
    "final", "pass_at_1", "pass_at_n", "cov_a", "cov_b", "cov_rmse", "k_pred", "coverage_pred",
    "holdout_k", "holdout_pred", "holdout_ae", "status", "reason",
]
PASSUNTIL_COLUMNS = [
    "family", "kind", "setting", "task", "filter", "x_axis", "n", "pu_c", "pu_alpha",
    "target_model", "x_target", "llo_pred", "llo_actual", "llo_ae", "low_dof", "status",
    "reason",
]
KEYS = ["family", "model", "revision", "setting", "task", "filter"]
PREDICT_FACTOR = 10  # coverage is predicted at 10x the largest k sampled


def sampled_items(items: pd.DataFrame) -> pd.DataFrame:
    """Generation items with several samples each (lm-eval `repeats`)."""
    g = items[(items["output_type"] == "generate_until") & (items["n_samples"] >= 2)]
    return g.astype({"n_samples": int, "n_correct": int})


def passk_table(items: pd.DataFrame) -> pd.DataFrame:
    """pass@k (mean over items) for k = 1..n, per result, task and filter. Items of a group
    with another n than the group's most common n are left out (and n_items says so)."""
    if items.empty:
        return pd.DataFrame(columns=PASSK_COLUMNS)
    g = sampled_items(items)
    out = []
    for key, grp in g.groupby(KEYS, sort=True):
        n = int(grp["n_samples"].mode().iloc[0])
        grp = grp[grp["n_samples"] == n]
        curve = coverage_curve(n, grp["n_correct"].to_numpy())
        out.append(pd.DataFrame({**dict(zip(KEYS, key, strict=True)), "n_samples": n,
                                 "n_items": len(grp), "k": np.arange(1, n + 1),
                                 "pass_at_k": curve}))
    if not out:
        return pd.DataFrame(columns=PASSK_COLUMNS)
    return pd.concat(out, ignore_index=True)[PASSK_COLUMNS]


def coverage_row(k: np.ndarray, cov: np.ndarray) -> dict:
    """Coverage fit on all k, its prediction at 10x the largest k, and a hold-out check: the
    law fitted on k <= n/2 predicting c(n)."""
    n = int(k[-1])
    out = {"pass_at_1": cov[0], "pass_at_n": cov[-1], "k_pred": PREDICT_FACTOR * n,
           "holdout_k": n}
    res = fit_coverage(k, cov)
    out.update(cov_a=res["a"], cov_b=res["b"], status=res.status, reason=res.reason)
    if res.ok:
        out["cov_rmse"] = float(np.sqrt(np.mean(np.square(res.residuals))))
        out["coverage_pred"] = float(exp_power(res["a"], res["b"], PREDICT_FACTOR * n))
    half = fit_coverage(k[k <= n // 2], cov[k <= n // 2])
    if half.ok:
        out["holdout_pred"] = float(exp_power(half["a"], half["b"], n))
        out["holdout_ae"] = abs(out["holdout_pred"] - cov[-1])
    else:
        out["reason"] = "; ".join(filter(None, [out["reason"], f"hold-out: {half.reason}"]))
    out["reason"] = out["reason"] or "all defined"
    return out


def coverage_table(passk: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (result, task, filter) of `passk_table`; `rows` (prepared scores) give the
    revision's tokens and whether it is final."""
    if passk.empty:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    facts = rows[["model", "revision", "setting", "tokens", "final"]].drop_duplicates(
        ["model", "revision", "setting"])
    out = []
    for key, grp in passk.groupby(KEYS, sort=True):
        row = dict(zip(KEYS, key, strict=True))
        row.update(n_samples=grp["n_samples"].iloc[0], n_items=grp["n_items"].iloc[0])
        row.update(coverage_row(grp["k"].to_numpy(), grp["pass_at_k"].to_numpy(float)))
        out.append(row)
    table = pd.DataFrame(out).merge(facts, on=["model", "revision", "setting"], how="left")
    return table.reindex(columns=COVERAGE_COLUMNS)


def passuntil_table(coverage: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Per (family, kind, setting, task, filter): the PassUntil law on the final revisions'
    pass@1 (x = log10(6ND), else log10 N), fitted on all but the largest model, which it
    predicts (leave-largest-out), and on all points for the reported (c, alpha)."""
    if coverage.empty:
        return pd.DataFrame(columns=PASSUNTIL_COLUMNS)
    facts = rows[["model", "kind", "n_fit", "training_tokens"]].drop_duplicates("model")
    fin = coverage[coverage["final"].astype(bool)].merge(facts, on="model")
    fin = fin[fin["n_fit"] > 0]
    out = []
    for key, g in fin.groupby(["family", "kind", "setting", "task", "filter"], sort=True):
        tokens = g["tokens"].fillna(g["training_tokens"]).to_numpy(float)
        compute = bool(np.all(tokens > 0))
        x = np.log10(g["n_fit"].to_numpy(float) * (6.0 * tokens if compute else 1.0))
        order = np.argsort(x, kind="stable")
        x, y, models = x[order], g["pass_at_1"].to_numpy(float)[order], g["model"].to_numpy()[
            order]
        row = dict(zip(["family", "kind", "setting", "task", "filter"], key, strict=True))
        row.update(x_axis="log10_compute" if compute else "log10_params", n=len(x),
                   low_dof=len(x) < 4)
        everything = fit_passuntil(x, y)
        row.update(pu_c=everything["c"], pu_alpha=everything["alpha"])
        reasons = [] if everything.ok else [f"all points: {everything.reason}"]
        if len(x) >= 3 and x[-1] > x[-2]:
            llo = fit_passuntil(x[:-1], y[:-1])
            row.update(target_model=models[-1], x_target=x[-1], llo_actual=y[-1])
            if llo.ok:
                row["llo_pred"] = float(passuntil(llo["c"], llo["alpha"], x[-1]))
                row["llo_ae"] = abs(row["llo_pred"] - y[-1])
            else:
                reasons.append(f"leave-largest-out: {llo.reason}")
        else:
            reasons.append("leave-largest-out needs 3 distinct x")
        row["status"] = (fit.OK if "llo_ae" in row and not row["low_dof"] else
                         "low_dof" if "llo_ae" in row else fit.FAILED)
        row["reason"] = "; ".join(reasons) or "all defined"
        out.append(row)
    table = pd.DataFrame(out).reindex(columns=PASSUNTIL_COLUMNS)
    return table.astype({"target_model": object})  # text even where no row has a target
