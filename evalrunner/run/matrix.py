"""A plan expanded into its matrix: one cell per (model, revision, setting) result file, grouped
into shards, one per (model, revision), the unit an executor runs. Deciding what is already
done reads result files only (no lm_eval, no torch), so rerunning a finished plan is instant.
"""

from __future__ import annotations

import difflib
import fnmatch
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from evalrunner.results import layout
from evalrunner.results.schema import Family, Revision, Task

from .plan import Plan, PlanError, PlanModel, PlanSetting, RunOptions
from .resolve import TaskSpec
from .sampling import apply_sampling

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Cell:
    """One result file of the matrix and whether it is done."""

    family: str
    model: str
    revision: str
    setting: str
    path: Path
    status: str  # done | pending | incomplete (tasks missing) | forced


@dataclass(frozen=True)
class SettingJob:
    setting: PlanSetting
    command: str  # reproduces this one result file
    tasks: tuple[TaskSpec, ...] = ()  # filled in by `with_tasks` once names are resolved


@dataclass(frozen=True)
class ShardSpec:
    """Everything a worker needs to run one revision: plain, picklable data."""

    key: str  # family/model@revision
    family: Family
    model: PlanModel
    revision: Revision
    source: str  # absolute local folder, or a Hugging Face id
    local: bool
    hub_revision: str | None
    run: RunOptions
    settings: tuple[SettingJob, ...]
    results_root: str
    samples_dir: str
    offline: bool
    include_paths: tuple[str, ...] = ()
    include_defaults: bool = False
    task_info: dict[str, Task] = field(default_factory=dict)


@dataclass(frozen=True)
class Matrix:
    cells: list[Cell]
    shards: list[ShardSpec]  # only the shards with something to do

    @property
    def pending(self) -> list[Cell]:
        return [c for c in self.cells if c.status != "done"]


def result_covers(path: Path, tasks: list[str]) -> bool | None:
    """None: no readable result file; else whether it scores every task of the setting."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    scores = data.get("scores") if isinstance(data, dict) else None
    if not isinstance(scores, dict):
        return None
    return all(t in scores for t in tasks)


def _selected(patterns: tuple[str, ...], family: str, model: str, revision: str) -> bool:
    if not patterns:
        return True
    names = (model, f"{model}@{revision}", family, f"{family}/{model}",
             f"{family}/{model}@{revision}")
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def _command(plan_arg: str, results_arg: str, extra: list[str], only: str, setting: str) -> str:
    args = ["densitometer", "run", plan_arg, "--results", results_arg, *extra,
            "--only", only, "--setting", setting, "--force"]
    return shlex.join(args)


def _where(model: PlanModel, ref: str, base_dir: Path) -> tuple[str, bool, str | None]:
    """(source, local, hub revision) of one revision."""
    if model.path:
        root = (base_dir / model.path).resolve()
        return str(root if not model.revisions else root / ref), True, None
    return str(model.hf_id), False, ref


def _missing_folder(folder: Path) -> str:
    """Which part of the path is missing, with the nearest names that do exist."""
    missing = folder
    while not missing.parent.is_dir() and missing.parent != missing:
        missing = missing.parent
    near = ""
    if missing.parent.is_dir():
        names = [p.name for p in missing.parent.iterdir() if p.is_dir()]
        close = difflib.get_close_matches(missing.name, names, n=3)
        near = f"; did you mean {' or '.join(str(missing.parent / c) for c in close)}?" \
            if close else ""
    where = "" if missing == folder else f" ({missing} does not exist)"
    return f"no model folder {folder}{where}{near}"


def expand(plan: Plan, *, plan_arg: str, base_dir: Path, results_root: Path,
           samples_dir: Path, results_arg: str, extra_args: tuple[str, ...] = (),
           force: bool = False, only: tuple[str, ...] = (),
           settings: tuple[str, ...] = ()) -> Matrix:
    """The matrix of a plan, with done cells marked; raises PlanError for missing folders."""
    unknown = sorted(set(settings) - {s.id for s in plan.settings})
    if unknown:
        raise PlanError(plan_arg, [f"--setting {u}: no such setting in the plan (have "
                                   f"{', '.join(s.id for s in plan.settings)})" for u in unknown])
    offline = plan.offline if plan.offline is not None else all(
        m.path for f in plan.families for m in f.models)
    chosen = [s for s in plan.settings if not settings or s.id in settings]
    cells: list[Cell] = []
    shards: list[ShardSpec] = []
    problems: list[str] = []
    for fam in plan.families:
        family = fam.family()
        for model in fam.models:
            entries = model.revision_entries()
            final = model.final or entries[-1].id
            run = plan.run.merged(model.run)
            for entry in entries:
                if not _selected(only, fam.id, model.id, entry.id):
                    continue
                jobs = []
                for s in chosen:
                    path = layout.result_path(results_root, fam.id, model.id, s.id, entry.id)
                    covered = None if force else result_covers(path, s.tasks)
                    status = ("forced" if force else "done" if covered
                              else "incomplete" if covered is False else "pending")
                    cells.append(Cell(fam.id, model.id, entry.id, s.id, path, status))
                    if status != "done":
                        jobs.append(SettingJob(s, _command(
                            plan_arg, results_arg, list(extra_args), f"{model.id}@{entry.id}",
                            s.id)))
                if not jobs:
                    continue
                source, local, hub_rev = _where(model, entry.ref or entry.id, base_dir)
                if local and not Path(source).is_dir():
                    problems.append(f"model {model.id} revision {entry.id}: "
                                    + _missing_folder(Path(source)))
                    continue
                revision = Revision(id=entry.id, step=entry.step, tokens=entry.tokens,
                                    final=entry.id == final)
                shards.append(ShardSpec(
                    key=f"{fam.id}/{model.id}@{entry.id}", family=family, model=model,
                    revision=revision, source=source, local=local, hub_revision=hub_rev,
                    run=run, settings=tuple(jobs), results_root=str(results_root.resolve()),
                    samples_dir=str(samples_dir.resolve()), offline=offline,
                    include_paths=tuple(str((base_dir / d).resolve()) for d in plan.task_dirs),
                ))
    if problems:
        raise PlanError(plan_arg, problems)
    return Matrix(cells, shards)


def with_tasks(shard: ShardSpec, specs: dict[str, TaskSpec], include_defaults: bool,
               task_info: dict[str, Task]) -> ShardSpec:
    """The shard with its settings' task names resolved to what lm-eval loads."""
    jobs = tuple(replace(j, tasks=tuple(apply_sampling(specs[t], j.setting.sampling)
                                        for t in j.setting.tasks))
                 for j in shard.settings)
    names = {t for j in shard.settings for t in j.setting.tasks}
    return replace(shard, settings=jobs, include_defaults=include_defaults,
                   task_info={k: v for k, v in task_info.items() if k in names})
