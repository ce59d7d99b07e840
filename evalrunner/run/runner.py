"""`densitometer run PLAN`: expand the plan, skip what is done, resolve tasks, run the shards
through an executor with a progress bar, and report every failure at the end.

Nothing heavy is imported unless there is work to do: rerunning a finished plan reads the plan
and the result files only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalrunner.results.schema import Task

from . import registry
from .matrix import Matrix, ShardSpec, expand, with_tasks
from .plan import Plan, PlanError, load_plan
from .shard import ShardOutcome


@dataclass
class RunReport:
    matrix: Matrix
    outcomes: list[ShardOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ShardOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def written(self) -> list[str]:
        return [w for o in self.outcomes for w in o.written]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class RunArgs:
    """What `densitometer run` was given; relative paths are kept for the reproduce command."""

    plan: Path
    results: Path = Path("results")
    samples_dir: Path | None = None
    base_dir: Path | None = None
    force: bool = False
    only: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()

    @property
    def samples(self) -> Path:
        return self.samples_dir or self.results.resolve().parent / "samples"

    @property
    def base(self) -> Path:
        return (self.base_dir or self.plan.resolve().parent).resolve()

    def extra_args(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.samples_dir is not None:
            out += ["--samples-dir", str(self.samples_dir)]
        if self.base_dir is not None:
            out += ["--base-dir", str(self.base_dir)]
        return tuple(out)


def prepare(args: RunArgs) -> tuple[Plan, Matrix]:
    """The plan and its matrix (done cells marked). No lm_eval, no torch."""
    plan = load_plan(args.plan)
    matrix = expand(plan, plan_arg=str(args.plan), base_dir=args.base,
                    results_root=args.results, samples_dir=args.samples,
                    results_arg=str(args.results), extra_args=args.extra_args(),
                    force=args.force, only=args.only, settings=args.settings)
    if matrix.shards:
        check_settings(plan, args.results, str(args.plan))
    return plan, matrix


def check_settings(plan: Plan, results: Path, where: str) -> None:
    """A setting id already in settings.yaml must mean the same thing as in the plan."""
    existing = registry.existing_settings(results)
    problems = []
    for s in plan.settings:
        have = existing.get(s.id)
        if have is None:
            continue
        for name in ("n_shot", "n_shot_per_task", "metric_per_task", "prompt_variant"):
            if getattr(have, name) != getattr(s, name):
                problems.append(f"setting {s.id}: {name} is {getattr(have, name)!r} in "
                                f"{results / 'settings.yaml'} but {getattr(s, name)!r} in the "
                                "plan; results in one setting must be comparable: use "
                                "another setting id")
    if problems:
        raise PlanError(where, problems)


def resolve_shards(plan: Plan, shards: Sequence[ShardSpec], base: Path) -> list[ShardSpec]:
    """Every shard with its task names resolved (unknown names raise, with did-you-mean)."""
    from .resolve import resolve_tasks
    from .suite import load_task_files, packaged_registry

    files = load_task_files([(base / f) for f in plan.task_files])
    names = [t for s in shards for j in s.settings for t in j.setting.tasks]
    res = resolve_tasks(names, files, tuple(str((base / d).resolve()) for d in plan.task_dirs))
    info: dict[str, Task] = {**packaged_registry(), **{t.id: t for t in plan.task_info}}
    return [with_tasks(s, res.specs, res.needs_defaults, info) for s in shards]


def resolve(args: RunArgs, plan: Plan, matrix: Matrix) -> list[ShardSpec]:
    """The pending shards, ready to run: hub access set, task names resolved."""
    from .loading import set_offline

    if not matrix.shards:
        return []
    set_offline(matrix.shards[0].offline)  # before anything imports huggingface_hub
    return resolve_shards(plan, matrix.shards, args.base)


def executor_options_for(plan: Plan, executor: str, given: dict[str, Any] | None
                         ) -> dict[str, Any]:
    """The executor's keyword options: the given ones (command line), plus the plan's own
    section for that executor (`slurm:`), which the executor merges under them."""
    options = dict(given or {})
    if executor == "slurm" and plan.slurm is not None:
        options.setdefault("options", plan.slurm)
    return options


def execute_shards(shards: Sequence[ShardSpec], executor: str = "local",
                   executor_options: dict[str, Any] | None = None,
                   on_outcome: Callable[[ShardOutcome], None] | None = None
                   ) -> list[ShardOutcome]:
    """Run the shards through an executor; never stops at a failing revision."""
    from .executor import make_executor
    from .shard import run_shard

    outcomes = []
    for outcome in make_executor(executor, **(executor_options or {})).run(run_shard, shards):
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def run_plan(args: RunArgs, executor: str = "local",
             executor_options: dict[str, Any] | None = None,
             on_outcome: Callable[[ShardOutcome], None] | None = None) -> RunReport:
    """prepare -> resolve -> execute: every pending result of the plan."""
    plan, matrix = prepare(args)
    shards = resolve(args, plan, matrix)
    options = executor_options_for(plan, executor, executor_options)
    return RunReport(matrix, execute_shards(shards, executor, options, on_outcome))
