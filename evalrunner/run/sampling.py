"""Repeated sampling for generation tasks: n samples per item, for pass@k and coverage laws
(Brown et al. 2024, "Large Language Monkeys", arXiv 2407.21787).

A setting's `sampling` block turns each of its generation tasks into lm-eval's repeated-sampling
form, on the task's inline config (packaged suite or plan task file):

    repeats: n                                  lm-eval sends each request n times
    generation_kwargs: do_sample, temperature   (and top_p when given), over the task's own
    filter_list: every pipeline without take_first, renamed `<name>-all`, so all n answers
                 reach the metric: exact_match of n answers against one gold is then the item's
                 pass rate c/n (and the task's score the unbiased pass@1)

The per-sample log keeps the n filtered answers; evalrunner/results/items.py counts c per item.
"""

from __future__ import annotations

import copy
from typing import Any

from .resolve import TaskSpec
from .suite import TaskFileError

KEEP_ALL_SUFFIX = "-all"


class SamplingError(TaskFileError):
    """A sampling block that cannot be applied to a task: which task and why (reported by the
    run command like any task file problem)."""

    def __init__(self, task: str, message: str):
        super().__init__(f"sampling of task {task!r}", message)


def sampled_config(config: dict[str, Any], repeats: int, temperature: float,
                   top_p: float | None = None) -> dict[str, Any]:
    """The task config with repeated sampling (module docstring); the input is not modified."""
    name = str(config.get("task", "?"))
    if config.get("output_type") != "generate_until":
        raise SamplingError(name, "sampling applies to generate_until tasks, this one is "
                            f"{config.get('output_type')!r}")
    out = copy.deepcopy(config)
    out["repeats"] = repeats
    gen = dict(out.get("generation_kwargs") or {})
    gen.update(do_sample=True, temperature=temperature)
    if top_p is not None:
        gen["top_p"] = top_p
    out["generation_kwargs"] = gen
    pipelines = out.get("filter_list") or [{"name": "none", "filter": [{"function":
                                                                         "take_first"}]}]
    kept = []
    for p in pipelines:
        steps = [s for s in p.get("filter", []) if s.get("function") != "take_first"]
        if not steps:  # lm-eval needs one step: keep the first n, i.e. all
            steps = [{"function": "take_first_k", "k": repeats}]
        kept.append({"name": f"{p.get('name', 'none')}{KEEP_ALL_SUFFIX}", "filter": steps})
    out["filter_list"] = kept
    return out


def apply_sampling(spec: TaskSpec, sampling: Any) -> TaskSpec:
    """`spec` with the setting's sampling applied when it names the task (or names none and the
    task generates); harness tasks by name cannot be rewritten and fail with the fix."""
    if sampling is None:
        return spec
    wanted = sampling.tasks
    if wanted is not None and spec.name not in wanted:
        return spec
    if spec.config is None:
        if wanted is None:
            return spec  # a harness task: only an explicit listing is an error
        raise SamplingError(spec.name, "it is one of lm-eval's own tasks, and sampling "
                            "rewrites inline configs only: copy it into a task file listed "
                            "under the plan's task_files")
    if wanted is None and spec.config.get("output_type") != "generate_until":
        return spec
    return TaskSpec(spec.name, spec.source, sampled_config(
        spec.config, sampling.repeats, sampling.temperature, sampling.top_p))
