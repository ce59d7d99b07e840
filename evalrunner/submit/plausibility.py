"""Plausibility warnings: numbers that are valid but unlikely (severity warning, never error).

- **Below chance**: `y < r - z*s` with `z = 2` (the `below_chance` point status),
  where `s` is the reported stderr, else the binomial `sqrt(y(1-y)/n)`. Usually a
  prompt-format or label problem.
- **Stderr vs n_items**: for per-item 0/1 metrics the stderr of a mean is about the binomial
  `sqrt(p(1-p)/n)` (lm-eval reports the sample standard error, `sqrt(p(1-p)/(n-1))`). A reported
  stderr more than `STDERR_FACTOR` times larger or smaller points at a wrong n_items, a stderr
  in percent, or a bootstrap over something else.
- **Far above the family's curve**: P_pow fitted on the family's other final
  models in the same setting and task, `x = log10 N`; the model's score exceeds the prediction
  by more than `FAR_MIN` and by more than `FAR_Z` standard deviations
  `sqrt(s^2 + rmse^2)`. A candidate for contamination or an error (the "null model" that tops a
  board).
- **Parameter counts**: total vs non_embedding + embedding, and declared counts vs the counts
  from a model's config, differing by more than `PARAMS_TOLERANCE` (1%).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from evalrunner.results.load import FIT_PREFERENCE
from evalrunner.results.schema import Model, Result, Task
from evalrunner.results.validate import Problem, Tree

Z = 2.0
STDERR_FACTOR = 2.0
FAR_MIN = 0.05
FAR_Z = 3.0
MIN_PEERS = 3
PARAMS_TOLERANCE = 0.01
# Means of per-item 0/1 outcomes: the binomial stderr applies.
BINARY_METRICS = frozenset({"acc", "acc_norm", "acc_bytes", "acc_mutual_info", "exact_match",
                            "em", "mc1", "pass@1", "pass_at_1"})


def binomial_stderr(value: float, n: int | float | None) -> float | None:
    """`sqrt(y(1-y)/n)`, or None without n."""
    if n is None or n <= 0 or not 0 <= value <= 1:
        return None
    return math.sqrt(value * (1 - value) / n)


def _score_checks(shown: str, task_id: str, task: Task, score) -> list[Problem]:
    problems = []
    loc = f"scores.{task_id}"
    n = score.n_items or task.n_items
    binary = score.metric in BINARY_METRICS and score.aggregate is None
    s = score.stderr if score.stderr is not None else (
        binomial_stderr(score.value, n) if binary else None)
    if (binary and task.direction == "higher" and task.chance > 0 and s is not None
            and score.value < task.chance - Z * s):
        k = (task.chance - score.value) / s if s > 0 else math.inf
        problems.append(Problem(shown, None, f"{loc}.value",
                                f"below chance: {score.value:.4g} is {k:.1f} stderr under the "
                                f"chance level {task.chance:g}; a prompt-format or label "
                                "problem?", "warning"))
    if binary and score.stderr is not None and n and 0 < score.value < 1:
        expected = binomial_stderr(score.value, n)
        ratio = score.stderr / expected if expected else math.inf
        if not 1 / STDERR_FACTOR <= ratio <= STDERR_FACTOR:
            problems.append(Problem(shown, None, f"{loc}.stderr",
                                    f"stderr {score.stderr:.4g} is {ratio:.3g}x the binomial "
                                    f"sqrt(p(1-p)/n) = {expected:.4g} for n_items {n}; expected "
                                    f"within a factor of {STDERR_FACTOR:g} (check n_items, or "
                                    "a stderr in percent)", "warning"))
    return problems


def count_disagreement(declared: float, counted: float) -> float | None:
    """Relative difference `|declared - counted| / counted` when above PARAMS_TOLERANCE."""
    if counted <= 0:
        return None
    rel = abs(declared - counted) / counted
    return rel if rel > PARAMS_TOLERANCE else None


def _model_checks(shown: str, model: Model) -> list[Problem]:
    p = model.params
    if not (p.total and p.non_embedding and p.embedding):
        return []
    parts = p.non_embedding.value + p.embedding.value
    rel = count_disagreement(p.total.value, parts)
    if rel is None:
        return []
    return [Problem(shown, None, "params.total",
                    f"total {p.total.value:,.0f} differs from non_embedding + embedding "
                    f"{parts:,.0f} by {rel:.1%} (more than {PARAMS_TOLERANCE:.0%})", "warning")]


def plausibility_problems(tree: Tree, prefix: str, results: Iterable[str] | None = None,
                          models: Iterable[str] | None = None) -> list[Problem]:
    """Warnings for the given result and model files (relative paths; None = all)."""
    wanted = None if results is None else set(results)
    chosen = [(rel, r) for rel, r in tree.results if wanted is None or rel in wanted]
    problems: list[Problem] = []
    for rel, result in chosen:
        for task_id, score in result.scores.items():
            task = tree.tasks.get(task_id)
            if task is not None:
                problems.extend(_score_checks(prefix + rel, task_id, task, score))
    model_rels = {v: k for k, v in tree.model_paths.items()}
    for rel in sorted(model_rels if models is None else set(models) & set(model_rels)):
        problems.extend(_model_checks(prefix + rel, tree.models[model_rels[rel]]))
    problems.extend(family_curve_problems(tree, prefix, chosen))
    return problems


def family_curve_problems(tree: Tree, prefix: str,
                          chosen: list[tuple[str, Result]]) -> list[Problem]:
    """Scores far above the P_pow curve of the model's family (leave the model out)."""
    from evalrunner.metrics.fit import fit_p_pow
    from evalrunner.metrics.laws import p_pow

    problems = []
    finals = _final_results(tree)
    for rel, result in chosen:
        model = tree.models.get(result.model)
        n = _n_fit(model)
        if model is None or n is None or not result.revision.final:
            continue
        peers = [(m, r) for (fam, setting, m), r in finals.items()
                 if fam == model.family and setting == result.setting and m != model.id]
        for task_id, score in result.scores.items():
            task = tree.tasks.get(task_id)
            if (task is None or task.direction != "higher" or task.category != "capability"
                    or score.metric not in BINARY_METRICS):
                continue
            xs, ys = [], []
            for m, r in peers:
                peer = r.scores.get(task_id)
                pn = _n_fit(tree.models.get(m))
                if peer is not None and pn is not None and peer.metric == score.metric:
                    xs.append(math.log10(pn))
                    ys.append(peer.value)
            if len(set(xs)) < MIN_PEERS:
                continue
            fit = fit_p_pow(np.array(xs), np.array(ys), task.chance, task.ceiling).row(0)
            if not fit.ok:
                continue
            # Below the family's range P_pow can fall under chance; no score is "far above"
            # a prediction that no model can miss, so the curve is floored at chance.
            predicted = max(task.chance, float(p_pow(fit["a"], fit["b"], math.log10(n),
                                                     task.chance, task.ceiling)))
            rmse = math.sqrt(sum(r * r for r in fit.residuals) / len(fit.residuals))
            s = score.stderr or binomial_stderr(score.value, score.n_items or task.n_items) or 0
            excess = score.value - predicted
            if excess > FAR_MIN and excess > FAR_Z * math.hypot(s, rmse):
                problems.append(Problem(
                    prefix + rel, None, f"scores.{task_id}.value",
                    f"far above its family's fitted curve: {score.value:.3f} vs {predicted:.3f} "
                    f"predicted (P_pow on log10 N from {len(xs)} other {model.family} models); "
                    "contamination or an error?", "warning"))
    return problems


def _n_fit(model: Model | None) -> float | None:
    """The count fits use, as the loader picks it."""
    if model is None:
        return None
    for kind in FIT_PREFERENCE:
        count = getattr(model.params, kind)
        if count is not None:
            return float(count.value)
    return None


def _final_results(tree: Tree) -> dict[tuple[str, str, str], Result]:
    """(family, setting, model) -> the model's final result with the latest step."""
    out: dict[tuple[str, str, str], Result] = {}
    for _, r in sorted(tree.results, key=lambda item: item[0]):
        model = tree.models.get(r.model)
        if model is None or not r.revision.final:
            continue
        key = (model.family, r.setting, r.model)
        best = out.get(key)
        if best is None or (r.revision.step or -1) > (best.revision.step or -1):
            out[key] = r
    return out
