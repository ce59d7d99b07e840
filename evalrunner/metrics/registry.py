"""Every published number, declared once: name, table, column, direction, unit, description,
formula and citation. The site's methodology page and column tooltips read this registry, and
`DECISIONS` records each choice the definitions leave open, so page and code cannot drift.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Literal

DENSING = "Xiao et al. 2024, Densing Law of LLMs, arXiv 2412.04315"
PREDICT = "Densitometer methodology"
SPEARMAN = "Spearman 1904, The proof and measurement of association between two things"
KENDALL = "Kendall 1945, The treatment of ties in ranking problems, Biometrika 33(3)"
EMERGENCE = "Srivastava et al. 2022, BIG-bench (breakthroughness), arXiv 2206.04615"
DECIDE = "Magnusson et al. 2025, DataDecide, arXiv 2504.11393"
GADRE = ("Gadre et al. 2024, Language models scale reliably with over-training and on "
         "downstream tasks, arXiv 2403.08540")
LADDER = ("Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model "
          "Ladders, arXiv 2412.04403")
SCHAEFFER = ("Schaeffer et al. 2024, Why has predicting downstream capabilities of frontier AI "
             "models with scale remained elusive?, arXiv 2406.04391")
CODEX = "Chen et al. 2021, Evaluating Large Language Models Trained on Code, arXiv 2107.03374"
MONKEYS = ("Brown et al. 2024, Large Language Monkeys: Scaling Inference Compute with Repeated "
           "Sampling, arXiv 2407.21787")
PASSUNTIL = ("Hu et al. 2024, Predicting Emergent Abilities with Infinite Resolution Evaluation "
             "(PassUntil), ICLR 2024, arXiv 2310.03262")

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
TS, DG, PK, CV, PU = "twostage", "diagnostics", "passk", "coverage", "passuntil"
LD, LS, CD = "ladder", "ladder_summary", "checkpoint_density"
D, DM, DL, DF = "density", "density_models", "densing_law", "density_fits"

# The metric tables the stage publishes (compute.MetricTables), in the order the site's API
# lists them; every table of METRICS is one of them.
METRIC_TABLES: tuple[str, ...] = (F, C, T, D, DM, DL, DF, TS, DG, PK, CV, PU, LD, LS, CD)

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
    _m(DF, "r2", "Reference fit R^2", "higher", "fraction",
       "Share of the reference scores' variance the fitted curve explains; below 0.8 the task "
       "is not used for density.", "1 - SS_res/SS_tot on S", DENSING),
    _m(D, "n_hat_bound", "Effective parameters, bound", "neither", "parameters",
       "Where N^ falls outside the reference's range widened by the extrapolation factor (or the "
       "score cannot be inverted), the edge of that range: N^ is above it (bound '>') or below "
       "it ('<'). Never an extrapolated number.",
       "n_hi = n_max*f if N^ > n_hi or S_M >= c + d; n_lo = n_min/f if N^ < n_lo or S_M <= d",
       DENSING),
    _m(D, "density_bound", "Capacity density, bound", "neither", "ratio",
       "The bound on N^ over the model's own size: the density is above it ('>') or below it "
       "('<').", "n_bound/N_M", DENSING),
    _m(DF, "n_informative", "Informative reference points", "higher", "count",
       "Reference points clearly above chance and below saturation (point status ok); a task "
       "with fewer than 4, or from fewer than 3 sizes, is not used: the reference does not "
       "measure it.", "#{points: ok}", DENSING),
    _m(DF, "n_min", "Smallest reference model", "neither", "parameters",
       "Non-embedding parameters of the smallest reference model fitted.", "min N", DENSING),
    _m(DF, "n_max", "Largest reference model", "neither", "parameters",
       "Non-embedding parameters of the largest reference model fitted.", "max N", DENSING),
    _m(DF, "n_lo", "Range floor", "neither", "parameters",
       "Below this N^ is an upper bound, not a number: the smallest reference model over the "
       "extrapolation factor f (3).", "n_min/f", DENSING),
    _m(DF, "n_hi", "Range ceiling", "neither", "parameters",
       "Above this N^ is a lower bound, not a number: the largest reference model times the "
       "extrapolation factor f (3).", "n_max*f", DENSING),
    _m(D, "loss_hat", "Implied loss", "lower", "nats",
       "Conditional answer loss the link maps the score to, in the setting's unit: nats per "
       "answer token, or per byte where the source gives only bytes (the OLMo ladder), or "
       "the held-out loss where the results give only that (Gadre et al.'s grid).", "L^",
       DENSING),
    _m(D, "loss_true", "True loss", "lower", "nats",
       "The model's own conditional answer loss on the task (or its held-out loss, in a "
       "setting that has only that), where its results give one and "
       "the fit is two-step: beside the implied loss, it shows how far the score's path "
       "through the link departs from the model's measured loss.", "L_M", DENSING),
    _m(DM, "density", "Capacity density", "higher", "ratio",
       "The headline: N^ from one reference fit on the mean score over the setting's task set "
       "(every task the default reference measures there), over the model's own size; a "
       "number only inside the reference's widened range, and none for a model without a "
       "score on every task of the set.", "rho = N^(mean_t S_t)/N_M", DENSING),
    _m(DM, "n_hat", "Effective parameters (task set)", "higher", "parameters",
       "N^ of the model's mean over the task set, where it is a number.",
       "N^(mean_t S_t)", DENSING),
    _m(DM, "density_bound", "Capacity density, bound", "neither", "ratio",
       "Where the mean over the task set is out of the reference's range, the range's edge "
       "over the model's size: the density is above it (bound '>') or below it ('<'); no "
       "number is shown then.", "n_bound/N_M", DENSING),
    _m(DM, "density_low", "Density, 2.5% bound", "neither", "ratio",
       "Lower end of the headline density's 95% interval: 100 refits of the reference on its "
       "models resampled with replacement, crossed with the model's own score error; a draw "
       "outside the widened range counts at its edge.", "percentile_2.5(N^*/N_M)", DENSING),
    _m(DM, "density_high", "Density, 97.5% bound", "neither", "ratio",
       "Upper end of the headline density's 95% interval.", "percentile_97.5(N^*/N_M)",
       DENSING),
    _m(DM, "reference_share", "Share of models measured", "higher", "fraction",
       "Share of the setting's models whose headline density against this reference is a "
       "number (inside its widened range); each setting's default reference is the one with "
       "the largest share.", "#{m: rho_m a number}/#{m}", DENSING),
    _m(DM, "density_rank", "Density rank", "lower", "rank",
       "1 + the number of models of the setting whose density interval lies wholly above this "
       "one's: models whose intervals overlap share a rank.", "1 + #{m: low_m > high}",
       DENSING),
    _m(D, "density_low", "Task density, 2.5% bound", "neither", "ratio",
       "Lower end of the task density's 95% interval (as the headline's).",
       "percentile_2.5(N^*/N_M)", DENSING),
    _m(D, "density_high", "Task density, 97.5% bound", "neither", "ratio",
       "Upper end of the task density's 95% interval.", "percentile_97.5(N^*/N_M)", DENSING),
    _m(DM, "tasks_density", "Per-task density, geometric mean", "higher", "ratio",
       "Geometric mean of the per-task densities over every task the reference measures, a "
       "number only when all of them are in range (shown beside the headline, not ranked).",
       "exp(mean_t ln rho_t)", DENSING),
    _m(DM, "tasks_density_bound", "Per-task geometric mean, bound", "neither", "ratio",
       "Where some of the model's tasks are out of the reference's range, the geometric mean "
       "with those tasks at their bounds: above it ('>') or below it ('<').",
       "exp(mean_t ln(rho_t or bound_t))", DENSING),
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
    _m(DL, "n_before_epoch", "Models before t = 0", "neither", "count",
       "Dated models with a density released before 2023-02-24: shown on the chart, not "
       "fitted (the law is stated from Llama-1 on).", "#{t < 0}", DENSING),
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
       "inverse, u_shaped, inverted_u, flat or positive (F7), the first that holds: inverse if "
       "rho <= -0.5 and the score falls by more than z pooled standard errors from first to "
       "last point; u_shaped (inverted_u) if an interior minimum (maximum) lies more than z "
       "pooled standard errors beyond both ends; flat if first and last differ by at most z "
       "pooled standard errors.", "first of inverse, u_shaped, inverted_u, flat, positive"),
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
    # two-stage prediction through a continuous proxy
    _m(TS, "n_step1", "Step-1 points", "higher", "count",
       "Final revisions (distinct x) of the models below the largest that step 1 is fitted on.",
       "|{x_i < x_n}|", GADRE),
    _m(TS, "n_step2", "Step-2 points", "higher", "count",
       "Revisions (checkpoints included) of the models below the largest that step 2 is "
       "fitted on.", "|{(L, y)}|", LADDER),
    _m(TS, "x_target", "Target x", "neither", "log10",
       "Scale of the largest model, the one predicted.", "x_n"),
    _m(TS, "loss_e", "Proxy floor E", "neither", "nats",
       "Irreducible proxy loss of step 1 (0 for the log-log line used below 5 points).",
       "L(x) = E + A*10^(-alpha*x)", GADRE),
    _m(TS, "loss_a", "Proxy coefficient A", "neither", "nats",
       "Step-1 coefficient.", "L(x) = E + A*10^(-alpha*x)", GADRE),
    _m(TS, "loss_alpha", "Proxy exponent alpha", "neither", "1/decade",
       "Step-1 exponent.", "L(x) = E + A*10^(-alpha*x)", GADRE),
    _m(TS, "link_a", "Link height a", "neither", "score",
       "Step-2 sigmoid height (top - bottom).", "y = a/(1 + exp(-k*(L - L0))) + b", LADDER),
    _m(TS, "link_k", "Link slope k", "neither", "1/nats",
       "Step-2 slope (negative: the score falls as the loss rises).",
       "y = a/(1 + exp(-k*(L - L0))) + b", LADDER),
    _m(TS, "link_l0", "Link midpoint L0", "neither", "nats", "Step-2 midpoint.",
       "y = a/(1 + exp(-k*(L - L0))) + b", LADDER),
    _m(TS, "link_b", "Link floor b", "neither", "score", "Step-2 lower asymptote.",
       "y = a/(1 + exp(-k*(L - L0))) + b", LADDER),
    _m(TS, "link_r2", "Link R^2", "higher", "fraction",
       "Fit quality of step 2 on its points.", "1 - SS_res/SS_tot", LADDER),
    _m(TS, "loss_actual", "Target proxy", "neither", "nats",
       "The largest model's actual proxy loss.", "L_n"),
    _m(TS, "loss_pred", "Predicted proxy", "neither", "nats",
       "Step 1 extrapolated to the largest model.", "L^(x_n)", GADRE),
    _m(TS, "loss_ae", "Proxy error", "lower", "nats", "Step 1's extrapolation error.",
       "|L^(x_n) - L_n|", GADRE),
    _m(TS, "score_actual", "Target score", "neither", "score",
       "The largest model's actual score.", "y_n"),
    _m(TS, "score_stderr", "Target stderr", "lower", "score",
       "Standard error of the target score (reported, else binomial).", "s_n"),
    _m(TS, "pred_chained", "Two-stage prediction", "neither", "score",
       "Step 2 applied to step 1's predicted proxy.", "y(L^(x_n))", GADRE),
    _m(TS, "ae_chained", "Two-stage error", "lower", "score",
       "Absolute error of the chained prediction.", "|y(L^(x_n)) - y_n|", GADRE),
    _m(TS, "pred_true_proxy", "Prediction from the true proxy", "neither", "score",
       "Step 2 applied to the largest model's actual proxy.", "y(L_n)", LADDER),
    _m(TS, "ae_true_proxy", "Step-2 error", "lower", "score",
       "Error of step 2 alone (the proxy known).", "|y(L_n) - y_n|", LADDER),
    _m(TS, "pred_direct", "Direct P_pow prediction", "neither", "score",
       "P_pow fitted on the same final revisions, at x_n.", "y^(x_n)"),
    _m(TS, "ae_direct", "Direct P_pow error", "lower", "score",
       "Error of the direct prediction, to set beside the two-stage error.", "|y^(x_n) - y_n|"),
    # ladder predictions
    _m(LD, "origin_n", "Fitted up to", "neither", "parameters",
       "The largest size of the ladder runs both steps are fitted on (the rolling origin).",
       "max N of the fitted runs", LADDER),
    _m(LD, "n_runs", "Fitted runs", "higher", "count",
       "Ladder runs (sizes x token budgets, reruns included) whose final checkpoints step 1 "
       "is fitted on.", "|runs with N <= origin|", LADDER),
    _m(LD, "n_step2", "Step-2 checkpoints", "higher", "count",
       "Checkpoints of the fitted runs past the first 10% of each run's tokens that step 2 "
       "is fitted on.", "|{(L, S)}|", LADDER),
    _m(LD, "n", "Target N", "neither", "parameters", "Non-embedding parameters of the "
       "target.", "N_M"),
    _m(LD, "tokens", "Target D", "neither", "tokens", "Training tokens of the target's "
       "revision.", "D_M"),
    *(_m(LD, f"loss_{k}", f"Step 1 {k}", "neither", unit, "Step-1 parameter.",
         "L(N, D) = a*N^(-alpha) + b*D^(-beta) + E", LADDER)
      for k, unit in (("a", "nats"), ("alpha", "exponent"), ("b", "nats"), ("beta", "exponent"),
                      ("e", "nats"))),
    *(_m(LD, f"link_{k}", f"Step 2 {k}", "neither", unit, "Step-2 parameter.",
         "S(L) = c/(1 + exp(-gamma*(L - l))) + d", LADDER)
      for k, unit in (("c", "score"), ("gamma", "1/nats"), ("l", "nats"), ("d", "score"))),
    _m(LD, "link_r2", "Step-2 R^2", "higher", "fraction", "Share of the fitted checkpoints' "
       "score variance step 2 explains; below 0.8 the rows are poor_fit.", "1 - SS_res/SS_tot",
       LADDER),
    _m(LD, "loss_true", "True loss", "neither", "nats", "The target's own answer loss.",
       "L_M"),
    _m(LD, "loss_pred", "Predicted loss", "neither", "nats", "Step 1 at the target's (N, D).",
       "L^(N_M, D_M)", LADDER),
    _m(LD, "loss_low", "Predicted loss, 2.5%", "neither", "nats", "Lower end of the step-1 "
       "prediction's 95% interval: both steps refitted on the fitted runs resampled with "
       "replacement (50 draws).", "percentile_2.5 L^*", LADDER),
    _m(LD, "loss_high", "Predicted loss, 97.5%", "neither", "nats", "Upper end of the step-1 "
       "prediction's 95% interval.", "percentile_97.5 L^*", LADDER),
    _m(LD, "loss_err", "Loss error", "neither", "nats", "Predicted minus true loss (signed).",
       "L^ - L_M", LADDER),
    _m(LD, "score_true", "Actual score", "neither", "score", "The target's score; missing "
       "for a projection.", "S_M"),
    _m(LD, "pred_chained", "Chained prediction", "neither", "score", "Step 2 at step 1's "
       "predicted loss: the forecast from N and D alone.", "S(L^(N_M, D_M))", LADDER),
    _m(LD, "chained_low", "Chained, 2.5%", "neither", "score", "Lower end of the chained "
       "prediction's 95% interval (the refits on resampled runs).", "percentile_2.5 S^*",
       LADDER),
    _m(LD, "chained_high", "Chained, 97.5%", "neither", "score", "Upper end of the chained "
       "prediction's 95% interval.", "percentile_97.5 S^*", LADDER),
    _m(LD, "err_chained", "Chained error", "neither", "score", "Chained prediction minus the "
       "actual score (signed; absent for a projection).", "S(L^) - S_M", LADDER),
    _m(LD, "pred_true_loss", "From the true loss", "neither", "score", "Step 2 at the "
       "target's true loss: step 2's own error, with step 1 taken out.", "S(L_M)", LADDER),
    _m(LD, "true_loss_low", "From the true loss, 2.5%", "neither", "score", "Lower end of "
       "its 95% interval.", "percentile_2.5 S(L_M)^*", LADDER),
    _m(LD, "true_loss_high", "From the true loss, 97.5%", "neither", "score", "Upper end of "
       "its 95% interval.", "percentile_97.5 S(L_M)^*", LADDER),
    _m(LD, "err_true_loss", "Step-2 error", "neither", "score", "Prediction from the true "
       "loss minus the actual score (signed).", "S(L_M) - S_M", LADDER),
    # ladder predictions per rolling origin
    # (origin_n, n_runs and link_r2 are the ladder table's own: appended below)
    _m(LS, "n_predictions", "Targets compared", "higher", "count", "Larger ladder runs and "
       "other families' models with a score on the task.", "|predictions|", LADDER),
    _m(LS, "n_projections", "Targets projected", "neither", "count", "Targets without a score "
       "on the task: forecast, never compared.", "|projections|", LADDER),
    _m(LS, "mae_chained", "Chained error (mean abs.)", "lower", "score", "Mean absolute error "
       "of the chained predictions over the targets compared.",
       "mean |S(L^(N_M, D_M)) - S_M|", LADDER),
    _m(LS, "mae_true_loss", "Step-2 error (mean abs.)", "lower", "score", "Mean absolute error "
       "of the predictions from the targets' true losses.", "mean |S(L_M) - S_M|", LADDER),
    _m(LS, "loss_mape", "Loss error (mean rel.)", "lower", "fraction", "Mean relative error of "
       "step 1's loss over the targets with a true loss.", "mean |L^ - L_M| / L_M", LADDER),
    _m(LS, "coverage", "Inside the interval", "higher", "fraction", "Share of the compared "
       "targets whose score lies inside the chained 95% interval (about 0.95 if the interval "
       "were calibrated; it holds the fitted runs' resampling only).",
       "mean [low <= S_M <= high]", LADDER),
    # headline density per checkpoint
    _m(CD, "tokens", "Tokens", "neither", "tokens", "Training tokens of the revision.", "D"),
    _m(CD, "density", "Capacity density (checkpoint)", "higher", "ratio",
       "The headline density of one revision: its mean over the setting's task set read off "
       "the setting's default reference's set fit; the final revision's is the model's "
       "headline.", "rho = N^(mean_t S_t)/N_M", DENSING),
    _m(CD, "density_bound", "Capacity density, bound", "neither", "ratio",
       "Where the revision's mean is out of the reference's widened range, the range's edge "
       "over the model's size.", "n_bound/N_M", DENSING),
    _m(CD, "density_low", "Density, 2.5% bound", "neither", "ratio",
       "Lower end of the revision's 95% interval (as the headline's).",
       "percentile_2.5(N^*/N_M)", DENSING),
    _m(CD, "density_high", "Density, 97.5% bound", "neither", "ratio",
       "Upper end of the revision's 95% interval.", "percentile_97.5(N^*/N_M)", DENSING),
    # continuous-metric diagnostics
    _m(DG, "n_items", "Items", "higher", "count",
       "Items logged at every point of the group.", "|items|", SCHAEFFER),
    *(_m(DG, f"rho_{m}", f"Per-item rho, {label}", "higher", "correlation",
         f"Mean over items of Spearman rho(x, {label}) across the family's revisions; items "
         "whose value never changes count as 0.", f"mean_i rho(x, {sym}_i)", SCHAEFFER)
      for m, label, sym in (("logp", "log p(correct)", "log p"),
                            ("pchoice", "p(correct | choices)", "p_choices"),
                            ("mass", "mass on the choices", "sum_j p_j"),
                            ("acc", "accuracy", "acc"))),
    _m(DG, "acc_constant_share", "Items with constant accuracy", "lower", "fraction",
       "Share of items whose accuracy is the same at every point (no information on scale).",
       "mean_i [acc_i constant]", SCHAEFFER),
    *(_m(DG, f"agg_rho_{m}", f"Aggregate rho, {label}", "higher", "correlation",
         f"Spearman rho(x, mean over items of {label}): the usual task-level curve.",
         f"rho(x, mean_i {sym}_i)", SCHAEFFER)
      for m, label, sym in (("logp", "log p(correct)", "log p"),
                            ("pchoice", "p(correct | choices)", "p_choices"),
                            ("mass", "mass on the choices", "sum_j p_j"),
                            ("acc", "accuracy", "acc"))),
    _m(DG, "lost", "Predictability lost to accuracy", "lower", "correlation",
       "How much per-item correlation with scale accuracy destroys compared with log p(correct).",
       "rho_logp - rho_acc", SCHAEFFER),
    _m(DG, "lost_pchoice", "Lost vs p(correct | choices)", "lower", "correlation",
       "The same against the probability renormalised over the choices.",
       "rho_pchoice - rho_acc", SCHAEFFER),
    *(_m(DG, f"{m}_largest", f"{label} at the largest point", "neither", unit,
         f"Mean over items of {label} at the group's largest x.", f"mean_i {sym}_i(x_max)",
         SCHAEFFER)
      for m, label, sym, unit in (("logp", "log p(correct)", "log p", "nats"),
                                  ("pchoice", "p(correct | choices)", "p_choices", "probability"),
                                  ("mass", "mass on the choices", "sum_j p_j", "probability"),
                                  ("acc", "accuracy", "acc", "fraction"))),
    # inference-time scaling
    _m(PK, "n_samples", "Samples per item", "higher", "count",
       "Samples drawn per item (lm-eval repeats).", "n", MONKEYS),
    _m(PK, "n_items", "Items", "higher", "count", "Items with n samples.", "|items|", MONKEYS),
    _m(PK, "k", "k", "neither", "count", "Attempts allowed.", "1..n", CODEX),
    _m(PK, "pass_at_k", "pass@k (coverage)", "higher", "fraction",
       "Unbiased pass@k averaged over items: the chance that one of k samples is correct.",
       "mean_i [1 - C(n - c_i, k)/C(n, k)] = mean_i [1 - prod_{j=n-c_i+1}^{n} (1 - k/j)]", CODEX),
    _m(CV, "n_samples", "Samples per item", "higher", "count", "n.", "n", MONKEYS),
    _m(CV, "n_items", "Items", "higher", "count", "Items with n samples.", "|items|", MONKEYS),
    _m(CV, "tokens", "Training tokens", "neither", "tokens", "Tokens seen at the revision.", "D"),
    _m(CV, "pass_at_1", "pass@1", "higher", "fraction",
       "Mean per-item pass rate (c/n): the unbiased pass@1.", "mean_i c_i/n", CODEX),
    _m(CV, "pass_at_n", "pass@n", "higher", "fraction", "Coverage with every sample.",
       "mean_i [c_i > 0]", MONKEYS),
    _m(CV, "cov_a", "Coverage law a", "neither", "-",
       "Coverage law coefficient (negative).", "c(k) = exp(a*k^b); ln(-ln c) = ln(-a) + b ln k",
       MONKEYS),
    _m(CV, "cov_b", "Coverage law b", "neither", "-", "Coverage law exponent (negative).",
       "c(k) = exp(a*k^b)", MONKEYS),
    _m(CV, "cov_rmse", "Coverage law RMSE", "lower", "fraction",
       "Root mean squared residual of the law over the k it was fitted on.",
       "sqrt(mean(c - c^)^2)", MONKEYS),
    _m(CV, "k_pred", "Predicted k", "neither", "count", "Ten times the largest k sampled.",
       "10*n", MONKEYS),
    _m(CV, "coverage_pred", "Predicted coverage", "higher", "fraction",
       "The coverage law extrapolated to 10n samples.", "exp(a*(10n)^b)", MONKEYS),
    _m(CV, "holdout_k", "Hold-out k", "neither", "count",
       "The k of the hold-out check (the largest sampled).", "n", MONKEYS),
    _m(CV, "holdout_pred", "Hold-out prediction", "neither", "fraction",
       "The law fitted on k <= n/2, at k = n.", "exp(a'*n^b')", MONKEYS),
    _m(CV, "holdout_ae", "Hold-out error", "lower", "fraction",
       "Error of the hold-out prediction against the observed coverage at n.",
       "|exp(a'*n^b') - c(n)|", MONKEYS),
    _m(PU, "n", "Points", "higher", "count", "Final revisions (models) with pass@1.", "|{x}|",
       PASSUNTIL),
    _m(PU, "pu_c", "PassUntil c", "neither", "-", "Task-law coefficient, fitted on all points.",
       "PU(x) = exp(-c*10^(-alpha*x)); ln(-ln PU) = ln c - alpha*ln 10*x", PASSUNTIL),
    _m(PU, "pu_alpha", "PassUntil alpha", "neither", "1/decade",
       "Task-law exponent, fitted on all points.", "PU(x) = exp(-c*10^(-alpha*x))", PASSUNTIL),
    _m(PU, "x_target", "Target x", "neither", "log10", "Scale of the largest model.", "x_n"),
    _m(PU, "llo_pred", "Leave-largest-out pass@1", "neither", "fraction",
       "The law fitted on the smaller models, at the largest.", "PU^(x_n)", PASSUNTIL),
    _m(PU, "llo_actual", "Largest model's pass@1", "neither", "fraction", "Observed.", "PU_n",
       PASSUNTIL),
    _m(PU, "llo_ae", "PassUntil extrapolation error", "lower", "fraction",
       "Absolute error of the leave-largest-out prediction.", "|PU^(x_n) - PU_n|", PASSUNTIL),
)
# The summary's per-origin columns that are the ladder table's own, declared once there.
METRICS += tuple(dataclasses.replace(m, table=LS) for m in METRICS
                 if m.table == LD and m.column in ("origin_n", "n_runs", "link_r2"))

DECISIONS: tuple[Decision, ...] = (
    Decision("Accuracy-only gauge", "With l = 0 the composed curve depends on gamma*a and "
             "gamma*b only, so gamma is fixed at -1; N^ and density do not depend on this."),
    Decision("Reference points", "Every revision of every reference model with known N and "
             "D > 0 in the setting, from the reference's most frequent source. Where the final "
             "checkpoints alone vary N and D (a ladder or grid: several sizes and token "
             "budgets), the loss law is fitted on them and the link on every checkpoint: an "
             "intermediate checkpoint whose learning rate has not decayed lies above the loss "
             "a run trained to that D reaches. Where the finals share one D (Pythia), every "
             "checkpoint enters both steps."),
    Decision("Answer-loss unit", "The conditional answer loss is nats per answer token; a "
             "setting whose source gives only bits per byte (the OLMo ladder) is fitted in "
             "nats per byte (bits x ln 2); a setting whose scores give no answer loss but "
             "whose results give a held-out loss (Gadre et al.'s grid: next-token loss on "
             "held-out C4) is fitted on that loss, the same for every task. One kind per "
             "setting, never mixed in a fit."),
    Decision("Reference fit quality", "A reference task whose score fit has R^2 < 0.8 (scores "
             "at chance or too noisy for the law) is not used: its flat curve would turn scores "
             "into arbitrary sizes. The fit is published with status poor_fit."),
    Decision("Identifiability", "Density reads N^ off at a fixed D0, so a reference's token "
             "counts must vary independently of its sizes: with one size, one token count or "
             "tokens proportional to size (a fixed tokens-per-parameter recipe such as "
             "Cerebras-GPT's 20), log10 D varies less than 0.05 decades around a line in "
             "log10 N, the N and D terms cannot be separated, and no density is computed."),
    Decision("Model size N", "Fits and densities use the non-embedding count (active "
             "non-embedding for a mixture of experts): counted from the model's config or "
             "weights, or from the reviewed architecture table (layer shapes transcribed from "
             "litgpt's config.py, counted the same way). A model with neither keeps the "
             "rounded total its source publishes; the N basis column says which."),
    Decision("Default reference", "Every reference family is computed in every setting; the "
             "pages lead, per setting, with the one whose headline is a number for the largest "
             "share of the setting's models (ties: the configured default, then by id)."),
    Decision("Headline task set", "Per setting, the headline density averages the tasks the "
             "reference measures there (its fits with status ok); the reference's mean "
             "over them is fitted once and each model's mean read off it. Models without every "
             "task get no headline (the missing tasks are named); the per-task geometric mean "
             "is published beside it and is not ranked."),
    Decision("Density intervals", "100 refits of each reference fit on the reference's models "
             "resampled with replacement (each started at the full fit's optimum; a draw with "
             "fewer than 3 distinct sizes is left out), crossed with the target score's error at "
             "20 normal quantiles; the 2.5% and 97.5% points, with draws outside the widened "
             "range at its edge. Ranks are tie groups: 1 + the models wholly above."),
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
    Decision("Two-stage points", "Step 1 (proxy vs x) uses the final revisions of every model "
             "below the largest; step 2 (score vs proxy) every revision of those models, "
             "checkpoints and step 0 included. The proxy is answer_nll_token, else "
             "answer_nll_byte, else ln(perplexity) reported beside the score. The sigmoid's "
             "asymptotes are bounded to [min(0, r), u]. Step 1 on 2 points is flagged low_dof."),
    Decision("Ladder predictions", "A ladder is a reference family whose final checkpoints "
             "alone vary N and D with answer losses (or one held-out loss, which every task "
             "then shares, step 1 with it). For every size with 3 sizes at or below "
             "it, step 1 (with its floor E) is fitted on those runs' final checkpoints, step 2 "
             "on their checkpoints past 10% of each run's tokens; both predict the larger "
             "runs and every other family's model in the setting. Intervals: 50 refits on the "
             "fitted runs resampled with replacement (the targets' own noise is not in them). "
             "A target with a score is a prediction, one without a projection."),
    Decision("Diagnostics points", "Every revision with a known compute 6ND (checkpoints "
             "included); without token counts, the final revisions at x = log10 N. An item "
             "whose metric never changes has no rank correlation and counts as rho = 0."),
    Decision("Repeated sampling", "A setting's sampling block sets lm-eval repeats, do_sample "
             "and temperature on its generation tasks and drops take_first from their filters, "
             "so the score is the mean per-item pass rate c/n (the unbiased pass@1)."),
    Decision("Coverage fit", "OLS of ln(-ln c) on ln k over the k with 0 < c < 1 (c = 0 or 1 "
             "has no finite transform); the hold-out check fits k <= n/2 and predicts k = n. "
             "The PassUntil law is fitted the same way on the final revisions' pass@1."),
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
