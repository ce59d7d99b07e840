"""lm-evaluation-harness result JSON -> our scores: a pure, table-driven function.

Reads both formats the harness has written:

- legacy (v0.3, the `hf-causal` era, as in EleutherAI/pythia `evals/`): `results[task]` holds
  `acc`, `acc_stderr`, ...; `config.num_fewshot` is one shot count for all tasks;
- current (0.4.x): `results[task]` holds `"acc,none"`, `"acc_stderr,none"`, ... (metric, filter);
  `n-shot`, `n-samples`, `versions`, `configs`, `group_subtasks` and `config` describe the run,
  and `samples` (per-sample logs) may be present.

Values and stderrs are kept exactly as given. Used by the importers, the runner and
`densitometer submit`; nothing here touches the disk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from evalrunner.results.schema import TASK_ID_PATTERN, Aggregate, MetricValue, Score

# Harness task names that are ours under another id (old name -> id). Prefix rules first.
TASK_PREFIX_RENAMES: tuple[tuple[str, str], ...] = (
    ("hendrycksTest-", "mmlu_"),  # the old harness's MMLU subtasks
)
TASK_RENAMES: dict[str, str] = {}

# Metric names that changed between harness versions (old -> current).
METRIC_RENAMES: dict[str, str] = {"ppl": "perplexity"}

# When one metric comes under several filters, the first of these keeps the plain name and the
# others get `<metric>_<filter>` (gsm8k: exact_match = strict-match, exact_match_flexible-extract).
FILTER_PREFERENCE: tuple[str, ...] = ("none", "strict-match", "get-answer", "remove_whitespace")

# Headline metric when the caller gives none for a task: the first present.
METRIC_PREFERENCE: tuple[str, ...] = (
    "acc", "exact_match", "acc_norm", "pass@1", "f1", "em", "mc2", "pct_stereotype",
    "word_perplexity", "perplexity",
)

# Keys in a task's results that are not metrics.
NON_METRIC_KEYS = frozenset({"alias", "name", "sample_len", "sample_count", "samples"})

MAX_EXTRA = 20  # Score.extra holds at most this many metrics
_TASK_ID = re.compile(TASK_ID_PATTERN)


class LmEvalFormatError(ValueError):
    """An lm-eval JSON that cannot be read as results: where, what was expected, what was found."""

    def __init__(self, where: str, expected: str, found: Any):
        self.where, self.expected, self.found = where, expected, found
        shown = repr(found)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        super().__init__(f"{where}: expected {expected}, found {shown}")


@dataclass(frozen=True)
class LmEvalMeta:
    """What the file says about the run, beside the scores."""

    format: Literal["legacy", "0.4"]
    harness_version: str | None
    model: str | None  # the harness's model type: hf, hf-causal, gpt2, dummy
    model_args: dict[str, str]
    pretrained: str | None
    revision: str | None
    n_shot: dict[str, int]
    task_versions: dict[str, str]
    task_hashes: dict[str, str]
    n_samples: dict[str, int]
    limit: float | None
    batch_size: str | None
    model_sha: str | None
    model_num_parameters: int | None
    has_samples: bool
    renamed: dict[str, str]  # harness task name -> our task id, where they differ
    groups: dict[str, list[str]]  # group id -> subtask ids (0.4)
    dropped_metrics: dict[str, list[str]] = field(default_factory=dict)  # beyond MAX_EXTRA


@dataclass(frozen=True)
class LmEvalRun:
    scores: dict[str, Score]
    meta: LmEvalMeta


def task_id(harness_name: str) -> str:
    """Our task id for a harness task name (table-driven; unknown names pass through)."""
    if harness_name in TASK_RENAMES:
        return TASK_RENAMES[harness_name]
    for old, new in TASK_PREFIX_RENAMES:
        if harness_name.startswith(old):
            return new + harness_name[len(old):]
    return harness_name


def parse_lmeval(data: Mapping[str, Any], headline: Mapping[str, str] | None = None,
                 where: str = "lm-eval json") -> LmEvalRun:
    """Scores (our task id -> Score) and run metadata from one lm-eval results dict.

    `headline` maps our task ids to the metric to report as Score.metric (the setting's choice);
    other metrics go to Score.extra. A task missing from it gets the first of
    METRIC_PREFERENCE it has. Groups (0.4) become scores with `aggregate` set when their value is
    the macro or micro mean of their subtasks.
    """
    headline = headline or {}
    results = data.get("results")
    if not isinstance(results, Mapping) or not results:
        raise LmEvalFormatError(f"{where}: results", "a mapping of task -> metrics", results)
    fmt: Literal["legacy", "0.4"] = "0.4" if _is_current(data) else "legacy"
    config = data.get("config") if isinstance(data.get("config"), Mapping) else {}
    model_args = _model_args(config.get("model_args"))
    n_shot = _n_shot(data, config, results, fmt, where)
    n_samples = {task_id(t): int(v.get("effective", v.get("original")))
                 for t, v in (data.get("n-samples") or {}).items() if isinstance(v, Mapping)}
    scores: dict[str, Score] = {}
    renamed: dict[str, str] = {}
    dropped: dict[str, list[str]] = {}
    for name in sorted(results):
        tid = task_id(name)
        if tid != name:
            renamed[name] = tid
        if not _TASK_ID.match(tid):
            raise LmEvalFormatError(f"{where}: results", f"task names matching {TASK_ID_PATTERN}",
                                    name)
        metrics = _metrics(results[name], f"{where}: results.{name}")
        if not metrics:
            continue  # a group without metrics of its own
        choice = _headline(metrics, headline.get(tid), f"{where}: results.{name}")
        value, stderr = metrics.pop(choice)
        extra = {m: MetricValue(value=v, stderr=s) for m, (v, s) in sorted(metrics.items())}
        if len(extra) > MAX_EXTRA:
            dropped[tid] = sorted(extra)[MAX_EXTRA:]
            extra = dict(sorted(extra.items())[:MAX_EXTRA])
        scores[tid] = Score(metric=choice, value=value, stderr=stderr, n_items=n_samples.get(tid),
                            n_shot=n_shot.get(tid), extra=extra)
    groups = {task_id(g): [task_id(t) for t in subs]
              for g, subs in (data.get("group_subtasks") or {}).items() if subs}
    for group in groups:
        if group in scores:
            scores[group] = _with_aggregate(scores[group], _leaves(group, groups), scores,
                                            n_samples)
    meta = LmEvalMeta(
        format=fmt,
        harness_version=_str(data.get("lm_eval_version")),
        model=_str(config.get("model")),
        model_args=model_args,
        pretrained=model_args.get("pretrained"),
        revision=model_args.get("revision") or _str(config.get("model_revision")),
        n_shot=n_shot,
        task_versions={task_id(t): str(v) for t, v in (data.get("versions") or {}).items()},
        task_hashes={task_id(t): str(v) for t, v in (data.get("task_hashes") or {}).items()},
        n_samples=n_samples,
        limit=config.get("limit") if isinstance(config.get("limit"), int | float) else None,
        batch_size=_str(config.get("batch_size")),
        model_sha=_str(config.get("model_sha")),
        model_num_parameters=config.get("model_num_parameters")
        if isinstance(config.get("model_num_parameters"), int) else None,
        has_samples=bool(data.get("samples")),
        renamed=renamed,
        groups=groups,
        dropped_metrics=dropped,
    )
    return LmEvalRun(scores=scores, meta=meta)


def macro_mean(scores: Mapping[str, Score], parent_of: Sequence[str], metric: str) -> Score:
    """The unweighted mean of subtask scores (MMLU's 57 subjects -> `mmlu`), said so in
    Score.aggregate. All subtasks must be present and report `metric` as their headline."""
    missing = [t for t in parent_of if t not in scores]
    if missing:
        raise LmEvalFormatError("aggregate", f"all {len(parent_of)} subtasks", f"missing {missing}")
    wrong = [t for t in parent_of if scores[t].metric != metric]
    if wrong:
        raise LmEvalFormatError("aggregate", f"headline metric {metric!r} in every subtask", wrong)
    values = [scores[t].value for t in parent_of]
    shots = {scores[t].n_shot for t in parent_of}
    return Score(metric=metric, value=sum(values) / len(values),
                 n_shot=shots.pop() if len(shots) == 1 else None,
                 aggregate=Aggregate(method="macro_mean", of=list(parent_of)))


def with_macro_mean(scores: Mapping[str, Score], parent: str, children: Sequence[str],
                    metric: str) -> dict[str, Score]:
    """scores plus `parent` as the macro mean of `children`, when all of them are there and the
    source gave no parent score of its own (the old harness's MMLU)."""
    out = dict(scores)
    if parent not in out and all(t in out for t in children):
        out[parent] = macro_mean(out, children, metric)
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------


def _is_current(data: Mapping[str, Any]) -> bool:
    if any(k in data for k in ("n-shot", "n-samples", "configs", "lm_eval_version")):
        return True
    return any("," in key for task in data["results"].values() if isinstance(task, Mapping)
               for key in task)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _model_args(args: Any) -> dict[str, str]:
    """`pretrained=x,revision=y` (or a dict) -> {"pretrained": "x", "revision": "y"}."""
    if isinstance(args, Mapping):
        return {str(k): str(v) for k, v in args.items()}
    if not isinstance(args, str) or not args.strip():
        return {}
    pairs = (part.split("=", 1) for part in args.split(",") if "=" in part)
    return {k.strip(): v.strip() for k, v in pairs}


def _n_shot(data: Mapping[str, Any], config: Mapping[str, Any], results: Mapping[str, Any],
            fmt: str, where: str) -> dict[str, int]:
    if fmt == "0.4" and isinstance(data.get("n-shot"), Mapping):
        return {task_id(t): int(v) for t, v in data["n-shot"].items()
                if isinstance(v, int) and not isinstance(v, bool)}
    shots = config.get("num_fewshot")
    if shots is None:
        return {}
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 0:
        raise LmEvalFormatError(f"{where}: config.num_fewshot", "a whole number >= 0", shots)
    return {task_id(t): shots for t in results}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LmEvalFormatError(where, "a number", value)
    if not math.isfinite(value):
        raise LmEvalFormatError(where, "a finite number", value)
    return float(value)


def _metrics(task: Any, where: str) -> dict[str, tuple[float, float | None]]:
    """metric name -> (value, stderr) from one task's results (both formats)."""
    if not isinstance(task, Mapping):
        raise LmEvalFormatError(where, "a mapping of metric -> value", task)
    values: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], float | None] = {}
    for key, raw in task.items():
        if key in NON_METRIC_KEYS:
            continue
        name, _, filt = str(key).partition(",")
        if name.endswith("_stderr"):
            base = name[: -len("_stderr")]
            if raw in ("N/A", None):
                errors[(base, filt)] = None
                continue
            se = _number(raw, f"{where}.{key}")
            if se < 0:
                raise LmEvalFormatError(f"{where}.{key}", "a standard error >= 0", raw)
            errors[(base, filt)] = se
        else:
            values[(name, filt)] = _number(raw, f"{where}.{key}")
    by_metric: dict[str, list[str]] = {}
    for name, filt in values:
        by_metric.setdefault(name, []).append(filt)
    out: dict[str, tuple[float, float | None]] = {}
    for name, filters in by_metric.items():
        ranked = sorted(filters, key=lambda f: (FILTER_PREFERENCE.index(f)
                                                if f in FILTER_PREFERENCE else len(
                                                    FILTER_PREFERENCE), f))
        for i, filt in enumerate(ranked):
            ours = METRIC_RENAMES.get(name, name)
            if i > 0:
                ours = f"{ours}_{filt}"
            out[ours] = (values[(name, filt)], errors.get((name, filt)))
    return out


def _headline(metrics: Mapping[str, Any], wanted: str | None, where: str) -> str:
    if wanted is not None:
        if wanted not in metrics:
            raise LmEvalFormatError(where, f"metric {wanted!r} (the headline for this task)",
                                    sorted(metrics))
        return wanted
    for name in METRIC_PREFERENCE:
        if name in metrics:
            return name
    return sorted(metrics)[0]


def _leaves(group: str, groups: Mapping[str, Sequence[str]], depth: int = 0) -> list[str]:
    """The tasks under a group, through nested groups (mmlu -> mmlu_stem -> mmlu_anatomy)."""
    if depth > 10:
        raise LmEvalFormatError("group_subtasks", "groups nested at most 10 deep", group)
    out: list[str] = []
    for t in groups[group]:
        out.extend(_leaves(t, groups, depth + 1) if t in groups else [t])
    return out


def _with_aggregate(group: Score, subs: Sequence[str], scores: Mapping[str, Score],
                    n_samples: Mapping[str, int]) -> Score:
    """Mark a harness group score as an aggregate when its value is the macro or micro mean of
    its subtasks' values of the same metric (lm-eval's weight_by_size makes it micro)."""
    parts = [(t, scores[t]) for t in subs if t in scores and scores[t].metric == group.metric]
    if not parts:
        return group
    values = [s.value for _, s in parts]
    tol = 1e-9 * max(1.0, abs(group.value))
    weights = [n_samples.get(t) for t, _ in parts]
    if all(w for w in weights):
        micro = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
        if abs(micro - group.value) <= tol:
            return group.model_copy(update={"aggregate": Aggregate(method="micro_mean",
                                                                   of=[t for t, _ in parts])})
    if abs(sum(values) / len(values) - group.value) <= tol:
        return group.model_copy(update={"aggregate": Aggregate(method="macro_mean",
                                                               of=[t for t, _ in parts])})
    return group
