"""Run plans: which models, revisions, tasks and settings to evaluate, declared as YAML.

A plan is read with `yaml.safe_load` and validated like result files (pydantic v2, unknown keys
are errors). Relative paths in a plan (model paths, task files, task folders) are resolved
against the plan's folder, or `--base-dir`. Example: `evalrunner/run/plans/tiny.yaml`.

    settings:            # one result file per (model, revision, setting)
      - {id: densitometer-tiny-0shot, name: ..., n_shot: 0, tasks: [tiny_facts_mc, ...]}
    families:
      - id: tiny
        name: ...
        organisation: ...
        models:
          - id: tiny-xs
            path: models/tiny-xs                 # or hf_id: EleutherAI/pythia-70m
            revisions: [{steps: {start: 0, stop: 300, every: 100}}]   # -> step0 ... step300

The JSON Schema of plans is exported with the results schemas (`PLAN_MODELS`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from evalrunner.results import errors
from evalrunner.results.schema import (
    HF_ID_PATTERN,
    ID_PATTERN,
    Bool,
    Count,
    Family,
    Float,
    Id,
    Int,
    Link,
    Name,
    Params,
    ReleaseDate,
    Strict,
    Task,
    TaskId,
    Text,
)

from .slurm_options import SlurmOptions

# Backend arguments are any YAML scalar by design: the union keeps the type YAML gave (smart mode
# picks the exact match), so nothing is coerced here either.
ScalarArg = str | int | float | bool


class PlanError(Exception):
    """A plan that cannot be read or run: every problem, each with its location."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class RunOptions(Strict):
    """How each revision is run. Set once for the plan; a model may override any of them."""

    backend: Annotated[str, Field(max_length=40)] = Field(
        default="hf", description="lm-eval model backend: hf (default), vllm, dummy, ... "
        "Passed through to lm-eval.")
    device: Annotated[str, Field(max_length=40)] = Field(default="cpu", description="cpu, cuda:0")
    dtype: Annotated[str, Field(max_length=40)] | None = Field(
        default="float32", description="Weights dtype (float32, bfloat16, auto); None: backend's.")
    batch_size: Int | Annotated[str, Field(pattern=r"^auto(:\d+)?$")] = Field(
        default=8, description="Batch size, or auto / auto:N (8 suits CPU runs).")
    limit: Float | None = Field(
        default=None, gt=0, description="Items per task (>= 1) or a fraction (< 1): smoke tests "
        "only; recorded in provenance.")
    seed: Int | None = Field(
        default=None, ge=0, description="Sets all four lm-eval seeds (python, numpy, torch, "
        "few-shot); None keeps lm-eval's defaults (0, 1234, 1234, 1234).")
    bootstrap_iters: Int = Field(
        default=1000, ge=0, description="Bootstrap draws for stderrs without a closed form "
        "(perplexity); means use the closed form whenever this is > 0.")
    model_args: dict[Annotated[str, Field(max_length=60)], ScalarArg] = Field(
        default_factory=dict, description="Extra backend arguments (trust_remote_code, "
        "max_length, ...). Never device or pretrained: those come from the plan.")
    gen_kwargs: dict[Annotated[str, Field(max_length=60)], ScalarArg] | None = Field(
        default=None, description="Overrides of the tasks' generation arguments.")
    apply_chat_template: Bool = False

    @model_validator(mode="after")
    def _no_reserved_args(self) -> RunOptions:
        reserved = {"pretrained", "device", "revision", "dtype", "batch_size"}
        reserved &= set(self.model_args)
        if reserved:
            raise ValueError(f"model_args must not set {sorted(reserved)}: use the plan's own "
                             "fields (path/hf_id, revisions, device, dtype, batch_size)")
        return self

    def merged(self, override: dict[str, Any]) -> RunOptions:
        return RunOptions.model_validate(self.model_dump() | override)


class StepSpan(Strict):
    start: Int = Field(ge=0)
    stop: Int = Field(ge=0, description="Inclusive.")
    every: Int = Field(gt=0)


class StepRevisions(Strict):
    """Training checkpoints named from their step, e.g. Pythia's step{N} branches."""

    steps: list[Annotated[Int, Field(ge=0)]] | StepSpan = Field(
        description="A list of steps, or {start, stop, every} (stop inclusive).")
    format: Annotated[str, Field(max_length=100)] = Field(
        default="step{step}", description="Revision id (branch or sub-folder) of a step.")

    @model_validator(mode="after")
    def _format_gives_ids(self) -> StepRevisions:
        try:
            sample = self.format.format(step=0)
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"format {self.format!r} must use only {{step}}") from None
        if "{step}" not in self.format or not re.match(ID_PATTERN, sample):
            raise ValueError(f"format {self.format!r} must contain {{step}} and give ids like "
                             "step100 (lowercase letters, digits, . _ + -)")
        return self

    def expand(self, tokens_per_step: int | None) -> list[RevisionEntry]:
        steps = self.steps
        if isinstance(steps, StepSpan):
            steps = list(range(steps.start, steps.stop + 1, steps.every))
        return [RevisionEntry(id=self.format.format(step=s), step=s,
                              tokens=None if tokens_per_step is None else s * tokens_per_step)
                for s in steps]


class RevisionEntry(Strict):
    id: Id = Field(description="Revision id: the result file name and, by default, the branch "
                   "(hub) or sub-folder (local path).")
    step: Int | None = Field(default=None, ge=0)
    tokens: Int | None = Field(default=None, ge=0, description="Training tokens seen.")
    ref: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="Branch, tag or commit (hub) or sub-folder (local), where it "
        "differs from id.")


_STEP_ID = re.compile(r"^(?:step|global_step|checkpoint-)(\d+)$")


class PlanModel(Strict):
    """One model: where its weights are, which revisions to run, and its facts."""

    id: Id
    name: Name | None = Field(default=None, description="Display name (default: the id).")
    hf_id: Annotated[str, Field(pattern=HF_ID_PATTERN)] | None = Field(
        default=None, description="Hugging Face repo id to load from (or only to record, "
        "when path is given too).")
    path: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="Local folder (relative to the plan). With revisions, each "
        "revision is its sub-folder.")
    revisions: list[Id | RevisionEntry | StepRevisions] = Field(
        default_factory=list, description="Revision ids, entries or step ranges; empty: the "
        "single revision `main`.")
    final: Id | None = Field(
        default=None, description="The released revision (default: the last one listed).")
    tokens_per_step: Int | None = Field(
        default=None, gt=0, description="Tokens per training step: revision tokens = step x this.")
    params: Literal["config"] | Params = Field(
        default="config", description="`config`: count from the loaded model; or the counts.")
    training_tokens: Count | None = None
    release_date: ReleaseDate | None = None
    kind: Literal["base", "instruct"] = "base"
    moe: Bool = False
    open_weights: Bool = True
    open_data: Bool = False
    links: list[Link] = Field(default_factory=list, max_length=20)
    notes: Text = ""
    run: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the plan's run options for this model.")

    @model_validator(mode="after")
    def _one_source(self) -> PlanModel:
        if not self.hf_id and not self.path:
            raise ValueError("give hf_id (a Hugging Face repo) or path (a local folder)")
        RunOptions.model_validate(self.run)  # fail early on a bad override
        return self

    def revision_entries(self) -> list[RevisionEntry]:
        out: list[RevisionEntry] = []
        for item in self.revisions or ["main"]:
            if isinstance(item, StepRevisions):
                out += item.expand(self.tokens_per_step)
            elif isinstance(item, RevisionEntry):
                out.append(item)
            else:
                m = _STEP_ID.match(item)
                step = int(m.group(1)) if m else None
                tokens = step * self.tokens_per_step if step is not None and \
                    self.tokens_per_step else None
                out.append(RevisionEntry(id=item, step=step, tokens=tokens))
        return out


class PlanFamily(Strict):
    """A family (its family.yaml facts) and the models of it to run."""

    id: Id
    name: Name
    organisation: Name
    training_data: Text = ""
    tokenizer: Text = ""
    license: Annotated[str, Field(max_length=200)] = "unknown"
    links: list[Link] = Field(default_factory=list, max_length=20)
    reference: Bool = False
    description: Text = ""
    models: list[PlanModel] = Field(min_length=1)

    def family(self) -> Family:
        return Family.model_validate(self.model_dump(exclude={"models"}))


class Sampling(Strict):
    """Repeated sampling of a setting's generation tasks, for pass@k (run/sampling.py)."""

    repeats: Int = Field(ge=2, le=10000, description="Samples per item (lm-eval repeats).")
    temperature: Float = Field(default=1.0, gt=0, le=10, description="Sampling temperature.")
    top_p: Float | None = Field(default=None, gt=0, le=1, description="Nucleus sampling.")
    tasks: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, description="Tasks to sample (default: every generate_until task of the "
        "packaged suite or the plan's task files in this setting).")


class PlanSetting(Strict):
    """One evaluation setting: its tasks and shots. One result file per revision and setting."""

    id: Id = Field(description="Setting id in settings.yaml and the folder under each model.")
    name: Name
    tasks: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, description="Task names: the packaged suite (tiny_*), the plan's "
        "task_files or task_dirs, or lm-eval's own tasks and groups (not tags).")
    n_shot: Int = Field(default=0, ge=0)
    n_shot_per_task: dict[TaskId, Annotated[Int, Field(ge=0)]] = Field(default_factory=dict)
    metric_per_task: dict[TaskId, Annotated[str, Field(max_length=60)]] = Field(
        default_factory=dict, description="Headline metric per task where it differs from the "
        "task's default.")
    prompt_variant: Annotated[str, Field(max_length=200)] = "default"
    description: Text = ""
    sampling: Sampling | None = Field(
        default=None, description="Draw n samples per item of the generation tasks (pass@k, "
        "coverage); the score becomes the mean per-item pass rate.")

    @model_validator(mode="after")
    def _unique_tasks(self) -> PlanSetting:
        dupes = sorted({t for t in self.tasks if self.tasks.count(t) > 1})
        if dupes:
            raise ValueError(f"tasks listed twice: {dupes}")
        return self


class Plan(Strict):
    """A run plan: families -> models -> revisions, evaluated in each setting."""

    schema_version: Literal[1] = 1
    description: Text = ""
    run: RunOptions = Field(default_factory=RunOptions)
    offline: bool | None = Field(
        default=None, description="Set HF_HUB_OFFLINE/HF_DATASETS_OFFLINE. Default: on when "
        "every model is a local path.")
    task_files: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, description="The project's own task YAMLs (lm-eval task syntax, "
        "safe YAML only; data_files relative to the YAML).")
    task_dirs: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, description="Folders of lm-eval task YAMLs (lm-eval's include_path).")
    task_info: list[Task] = Field(
        default_factory=list, description="Registry entries (tasks.yaml) for the plan's tasks; "
        "entries missing here are derived from the run.")
    settings: list[PlanSetting] = Field(min_length=1)
    families: list[PlanFamily] = Field(min_length=1)
    slurm: SlurmOptions | None = Field(
        default=None, description="Slurm resources for `--executor slurm` (partition, gpus, "
        "time, mem, account, ...); the command line overrides them. Ignored by local runs.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Plan:
        problems = []
        for what, ids in (
            ("setting", [s.id for s in self.settings]),
            ("family", [f.id for f in self.families]),
            ("model", [m.id for f in self.families for m in f.models]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"{what} ids must be unique, found twice: {dupes}")
        for fam in self.families:
            for m in fam.models:
                revs = [r.id for r in m.revision_entries()]
                dupes = sorted({r for r in revs if revs.count(r) > 1})
                if dupes:
                    problems.append(f"model {m.id}: revisions listed twice: {dupes}")
                if m.final is not None and m.final not in revs:
                    problems.append(f"model {m.id}: final {m.final!r} is not among its revisions")
                for r in revs:
                    if not re.match(ID_PATTERN, r):
                        problems.append(f"model {m.id}: revision id {r!r} is not a valid id")
        if problems:
            raise ValueError("; ".join(problems))
        return self


PLAN_MODELS: dict[str, type[Strict]] = {"plan": Plan}


def _loc(loc: tuple) -> str:
    """A dotted location, without pydantic's union-member tags (`StepRevisions`, `str`...)."""
    parts = [str(p) for p in loc if isinstance(p, int) or not (
        "[" in str(p) or str(p)[:1].isupper() or str(p) in ("str", "int", "constrained-str"))]
    return ".".join(parts) or "(top level)"


def parse_plan(data: Any, path: str = "<plan>") -> Plan:
    """Validate plan data; raise PlanError listing every problem with its location."""
    if not isinstance(data, dict):
        raise PlanError(path, [f"expected a mapping at the top level, found {type(data).__name__}"])
    try:
        return Plan.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            problems.append(f"{_loc(e['loc'])}: {errors.message(e)}")
        raise PlanError(path, problems) from None


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file (yaml.safe_load only)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanError(str(path), [f"cannot read the plan: {err.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PlanError(str(path), [f"not valid YAML: {err}"]) from None
    return parse_plan(data, str(path))
