"""Every published number, declared once: name, table, column, direction, unit, description,
formula and citation. The site's methodology page and column tooltips read this registry, and
`DECISIONS` records each choice METRICS.md leaves open, so page and code cannot drift.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Literal

DENSING = "Xiao et al. 2024, Densing Law of LLMs, arXiv 2412.04315"
PREDICT = "Densitometer METRICS.md section 2"
SPEARMAN = "Spearman 1904, The proof and measurement of association between two things"
KENDALL = "Kendall 1945, The treatment of ties in ranking problems, Biometrika 33(3)"
EMERGENCE = "Srivastava et al. 2022, BIG-bench (breakthroughness), arXiv 2206.04615"
DECIDE = "Magnusson et al. 2025, DataDecide, arXiv 2504.11393"

Direction = Literal["higher", "lower", "neither"]


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    name: str
    table: str
    column: str
    direction: Direction
    unit: str
    description: str
    formula: str
    citation: str


@dataclasses.dataclass(frozen=True)
class Decision:
    topic: str
    text: str


def _m(table: str, column: str, name: str, direction: Direction, unit: str, description: str,
       formula: str, citation: str = PREDICT) -> MetricSpec:
    return MetricSpec(name, table, column, direction, unit, description, formula, citation)


F, C, T = "predictability_family_task", "checkpoints", "tasks"
D, DM, DL = "density", "density_models", "densing_law"

METRICS: tuple[MetricSpec, ...] = (
    # capacity density
    _m(D, "score", "Score", "higher", "fraction", "The target's final score on the task.",
       "S_M", DENSING),
    _m(D, "n_hat", "Effective parameters", "higher", "parameters",
       "Non-embedding parameters a reference model would need, trained on D0 tokens, to reach "
       "the score.", "L^ = l - ln(c/(S_M - d) - 1)/gamma; N^ = ((L^ - b*D0^-beta)/a)^(-1/alpha)",
       DENSING),
    _m(D, "density", "Capacity density (task)", "higher", "ratio",
       "Effective over actual non-embedding parameters on one task.", "rho = N^/N_M", DENSING),
    _m("density_fits", "r2", "Reference fit R^2", "higher", "fraction",
       "Share of the reference scores' variance the fitted curve explains; below 0.8 the task "
       "is not used for density.", "1 - SS_res/SS_tot on S", DENSING),
    _m(D, "loss_hat", "Implied loss", "lower", "nats/token",
       "Conditional answer loss the link maps the score to.", "L^", DENSING),
    _m(DM, "density", "Capacity density", "higher", "ratio",
       "Geometric mean of the per-task densities where defined (tasks listed, count shown).",
       "exp(mean_t ln rho_t)", DENSING),
    _m(DM, "n_tasks", "Tasks in range", "higher", "count",
       "Tasks on which the density is defined.", "#{t: d < S_t < c + d, L^ > b*D0^-beta}",
       DENSING),
    _m(DM, "log_density_sd", "Spread of ln density", "lower", "nats",
       "Standard deviation of ln rho across the model's tasks.", "sd_t(ln rho_t)", DENSING),
    _m(DL, "A", "Densing slope", "higher", "1/day",
       "Growth rate of the record density over time.",
       "OLS of ln rho_max(t) = A*t + B on record-setting models", DENSING),
    _m(DL, "B", "Densing intercept", "neither", "ln ratio",
       "ln of the record density at 2023-02-24.", "ln rho_max(0)", DENSING),
    _m(DL, "r2", "Densing R^2", "higher", "fraction", "Fit quality of the densing line.",
       "1 - SS_res/SS_tot", DENSING),
    _m(DL, "doubling_days", "Density doubling time", "lower", "days",
       "Days for the record density to double.", "ln(2)/A", DENSING),
    _m(DL, "ci_low", "A, 2.5% bound", "neither", "1/day",
       "Lower end of the 95% bootstrap interval of A (1,000 model resamples, fixed seed).",
       "percentile_2.5(A*)", DENSING),
    _m(DL, "ci_high", "A, 97.5% bound", "neither", "1/day",
       "Upper end of the 95% bootstrap interval of A.", "percentile_97.5(A*)", DENSING),
    _m(DL, "doubling_ci_low", "Doubling time, lower bound", "neither", "days",
       "Doubling time at the upper end of A's interval.", "ln(2)/ci_high", DENSING),
    _m(DL, "doubling_ci_high", "Doubling time, upper bound", "neither", "days",
       "Doubling time at the lower end of A's interval (null if that end is <= 0).",
       "ln(2)/ci_low", DENSING),
    # per family and task
    _m(F, "n", "Points", "higher", "count", "Distinct x values (F0).", "|{x}|"),
    _m(F, "span_decades", "Span", "higher", "decades", "Scale range covered (F0).",
       "x_max - x_min"),
    _m(F, "spearman", "Spearman rho", "higher", "correlation",
       "Monotonicity of score in scale (F1); on -y for lower-is-better metrics.", "rho(x, y)",
       SPEARMAN),
    _m(F, "kendall", "Kendall tau-b", "higher", "correlation", "Rank agreement (F1).",
       "(n_c - n_d)/sqrt((n_0 - n_1)(n_0 - n_2))", KENDALL),
    _m(F, "n_sig_drops", "Significant drops", "lower", "count",
       "Steps where the score falls by more than z pooled standard errors (F1).",
       "#{i: y[i+1] < y[i] - z*sqrt(s_i^2 + s_(i+1)^2)}"),
    _m(F, "r2", "R^2 (P_pow)", "higher", "fraction",
       "Fit quality of P_pow on all points, raw units (F2).", "1 - SS_res/SS_tot"),
    _m(F, "rmse", "RMSE (P_pow)", "lower", "score", "Root mean squared residual (F2).",
       "sqrt(mean(y - y^)^2)"),
    _m(F, "llo_pred", "Leave-largest-out prediction", "neither", "score",
       "P_pow fitted on points 1..n-1, evaluated at x_n (F3).", "y^(x_n)"),
    _m(F, "llo_actual", "Largest model's score", "neither", "score", "y_n (F3).", "y_n"),
    _m(F, "llo_ae", "Extrapolation error", "lower", "score",
       "Absolute error of the leave-largest-out prediction (F3).", "|y^(x_n) - y_n|"),
    _m(F, "llo_re", "Relative extrapolation error", "lower", "fraction",
       "AE over the actual score; suppressed for saturated targets (F3).", "AE/|y_n|"),
    _m(F, "llo_ae_z", "Extrapolation error in SEs", "lower", "stderr",
       "AE over the target's standard error (F3).", "AE/s_n"),
    _m(F, "naive_ae", "Naive error", "lower", "score",
       "Error of predicting the largest model by the second largest (F4).", "|y_n - y_(n-1)|"),
    _m(F, "skill", "Skill vs naive", "higher", "fraction",
       "Improvement over the naive forecast; null if AE0 < s_n (F4).", "1 - AE/AE0"),
    _m(F, "rolling_ae", "Rolling-origin error", "lower", "score",
       "Mean AE predicting point j from points 1..j-1, j = 4..n (F5).", "mean_j |y^_j - y_j|"),
    _m(F, "emergence_b", "Breakthroughness B~", "neither", "ratio",
       "Jump size over typical step, per interval (F6).",
       "B~ = I(y)/sqrt(median((y[i+1]-y[i])^2))/(n-1)", EMERGENCE),
    _m(F, "emergent", "Emergent", "neither", "flag",
       "B~ >= 3, first two points at chance, last ok with y~ >= 0.1, rho > 0 (F6).", "-",
       EMERGENCE),
    _m(F, "shape", "Shape", "neither", "label",
       "inverse, u_shaped, inverted_u, flat or positive (F7).", "see METRICS.md 2.2"),
    _m(F, "snr", "Within-family SNR", "higher", "ratio",
       "Spread across the family over checkpoint noise of its largest model (F8).",
       "(max|y_j - y_k|/mean y)/rel_noise"),
    # checkpoint series
    _m(C, "c1_spearman", "Checkpoint monotonicity", "higher", "correlation",
       "Spearman rho(tokens, y) past max(1% of final tokens, first non-zero) (C1).",
       "rho(D, y)", SPEARMAN),
    _m(C, "c2_std", "Checkpoint noise", "lower", "score",
       "Std (ddof 0) of y over the last 5 checkpoints, never step 0 (C2).", "std(y_last5)"),
    _m(C, "c2_rel_noise", "Relative checkpoint noise", "lower", "fraction", "C2 over the mean.",
       "std/mean"),
    _m(C, "c2_stderr", "Binomial stderr", "lower", "score",
       "Binomial standard error at the window mean, beside C2.", "sqrt(m(1-m)/n_items)"),
    _m(C, "c3_slope", "Final-window drift", "neither", "score/decade",
       "OLS slope of y on log10(tokens) over the last 5 checkpoints (C3).", "dy/dlog10(D)"),
    _m(C, "c4_mean", "Averaged score", "higher", "score",
       "Mean of the last 5 checkpoints (C4); never used in place of the final score.",
       "mean(y_last5)"),
    _m(C, "c5_ae_10", "Early forecast error (10%)", "lower", "score",
       "P_pow on checkpoints up to 10% of final tokens predicts the final score (C5).",
       "|y^(D_final) - y_final|"),
    _m(C, "c5_ae_30", "Early forecast error (30%)", "lower", "score",
       "As C5 with checkpoints up to 30% of final tokens.", "|y^(D_final) - y_final|"),
    # per task across families
    _m(T, "t1_coverage", "Coverage", "higher", "families",
       "Families with F3 defined and target ok (T1).", "count"),
    _m(T, "t1_fraction", "Coverage share", "higher", "fraction",
       "T1 over the families not at chance.", "t1_coverage/n_eligible"),
    _m(T, "t2_ae_median", "Median extrapolation error", "lower", "score",
       "Median F3 AE over eligible families (T2).", "median AE"),
    _m(T, "t2_ae_mean", "Mean extrapolation error", "lower", "score",
       "Mean F3 AE over eligible families (T2).", "mean AE"),
    _m(T, "t2_re_median", "Median relative error", "lower", "fraction",
       "Median F3 RE over eligible families (T2).", "median RE"),
    _m(T, "t2_re_mean", "Mean relative error", "lower", "fraction",
       "Mean F3 RE over eligible families (T2).", "mean RE"),
    _m(T, "t2_skill_median", "Median skill", "higher", "fraction", "Median F4 skill (T2).",
       "median skill"),
    _m(T, "t3_monotone", "Monotone share", "higher", "fraction",
       "Share of families (n >= 3, not at chance) with rho >= 0.8 (T3).", "share"),
    *(_m(T, f"t3_{shape}", f"Share {shape.replace('_', '-')}", "neither", "fraction",
         f"Share of families (n >= 3, not at chance) whose F7 shape is {shape} (T3).", "share")
      for shape in ("inverse", "u_shaped", "inverted_u", "flat")),
    _m(T, "t3_emergent", "Share emergent", "neither", "fraction",
       "Share of families (n >= 4, not at chance) flagged emergent by F6 (T3).", "share",
       EMERGENCE),
    _m(T, "t4_decision_accuracy", "Decision accuracy", "higher", "fraction",
       "Family pairs ordered alike in a small and a large compute bin, over all bin pairs (T4).",
       "agreeing pairs / pairs", DECIDE),
    _m(T, "t5_rank_tau", "Rank stability", "higher", "correlation",
       "Mean Kendall tau-b of family rankings in consecutive compute bins (T5).", "mean tau-b",
       KENDALL),
    _m(T, "t6_peer_snr", "Peer SNR", "higher", "ratio",
       "Per compute bin, spread across families over the median checkpoint noise; median over "
       "bins (T6).", "median_bin((max - min)/mean / median rel_noise)"),
)

DECISIONS: tuple[Decision, ...] = (
    Decision("Accuracy-only gauge", "With l = 0 the composed curve depends on gamma*a and "
             "gamma*b only, so gamma is fixed at -1; N^ and density do not depend on this."),
    Decision("Reference points", "Every revision of every reference model with known N and "
             "D > 0 in the setting, from the reference's most frequent source."),
    Decision("Reference fit quality", "A reference task whose score fit has R^2 < 0.8 (scores "
             "at chance or too noisy for the law) is not used: its flat curve would turn scores "
             "into arbitrary sizes. The fit is published with status poor_fit."),
    Decision("Identifiability", "Density reads N^ off at a fixed D0, so a reference's token "
             "counts must vary independently of its sizes: with one size, one token count or "
             "tokens proportional to size (a fixed tokens-per-parameter recipe such as "
             "Cerebras-GPT's 20), log10 D varies less than 0.05 decades around a line in "
             "log10 N, the N and D terms cannot be separated, and no density is computed."),
    Decision("Subtasks", "A subtask enters density through its parent aggregate when the "
             "parent is scored in the same setting (MMLU counts once)."),
    Decision("Bias tasks", "Tasks of category bias enter no metric at all."),
    Decision("Duplicated x", "Models at the same x in one family are averaged into one point; "
             "their stderr is that of the mean."),
    Decision("Losses", "Lower-is-better metrics have no chance level (points are ok); "
             "F1, F6 and F7 use -y so positive means improving; the headline law is the "
             "log-log line below 5 points and E + A*X^(-alpha) (Huber) from 5 points."),
    Decision("Unknown stderr", "Thresholds use 0.01*(u - r) for z*s; AE_z stays null."),
    Decision("Emergence", "B~ = B/(n-1) is published as emergence_b."),
    Decision("Densing records", "Models sorted by release date (densest first on one date); "
             "OLS on record setters only; bootstrap draws need two distinct record dates."),
    Decision("Densing interval", "ci_low/ci_high bound A; doubling_ci_low/high follow from them."),
    Decision("T4-T6 axis", "Only families with token counts (x = log10 6ND) enter compute bins."),
    Decision("Several final revisions", "The most trained final revision of a model counts."),
)


def registry_json() -> str:
    """The registry as JSON (metrics and decisions), stable key order."""
    data = {"metrics": [dataclasses.asdict(m) for m in METRICS],
            "decisions": [dataclasses.asdict(d) for d in DECISIONS]}
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def lookup(table: str, column: str) -> MetricSpec:
    """The spec of a published column; KeyError names the known columns of that table."""
    for m in METRICS:
        if m.table == table and m.column == column:
            return m
    known = sorted(m.column for m in METRICS if m.table == table)
    raise KeyError(f"no metric {column!r} in table {table!r}; known: {', '.join(known)}")
