"""The results format, declared once.

Every file under ``results/`` is one of these pydantic v2 models. The JSON Schema that editors and
pull-request checks use is exported from them (``densitometer schema``), so the two cannot drift.

Layout (paths are derived from ids, and the validator checks that they agree):

    results/tasks.yaml                                  TaskRegistry
    results/settings.yaml                               SettingRegistry
    results/<family>/family.yaml                        Family
    results/<family>/<model>/model.yaml                 Model
    results/<family>/<model>/<setting>/<revision>.yaml  Result
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from .errors import strict_number

SCHEMA_VERSION = 1

# Ids become path segments: lowercase ASCII, no separators, no leading dot (so never `..`).
ID_PATTERN = r"^[a-z0-9][a-z0-9._+-]{0,99}$"
# Task ids may carry a harness subtask name (`mmlu_abstract_algebra`, `hendrycksTest-anatomy`).
TASK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,119}$"
HF_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

Id = Annotated[str, Field(pattern=ID_PATTERN, description="A lowercase id, also a path segment.")]
TaskId = Annotated[str, Field(pattern=TASK_ID_PATTERN, description="A task id from tasks.yaml.")]
Url = Annotated[
    str, Field(pattern=r"^https?://[^\s<>\"']+$", max_length=2000, description="An http(s) URL.")
]
Text = Annotated[str, Field(max_length=4000)]

# Numbers and flags read from submitted files take no lax coercion: `true` is not 1.0 and "0.5"
# is not 0.5 (pydantic's default would accept both). An int where a float is expected is fine,
# since YAML writes 1.0 as 1; a float where an int is expected is an error.
Float = StrictFloat
Int = StrictInt
Bool = StrictBool


def _iso_date(value: object) -> object:
    """A date as YAML gives it (a date, or a 'YYYY-MM-DD' string); never a number (pydantic
    would read 2023 as a Unix timestamp) nor a datetime."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date as YYYY-MM-DD, found {value!r:.40}")


def _iso_datetime(value: object) -> object:
    """A timestamp: a datetime, or an ISO 8601 string; never a number."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected an ISO 8601 timestamp, found {value!r:.40}")


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
DateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    """Base for every file model: unknown keys are errors, floats must be finite."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, frozen=True, use_enum_values=True
    )


# --------------------------------------------------------------------------------------------
# Shared pieces


class CountSource(StrEnum):
    config = "config"
    safetensors = "safetensors"
    declared = "declared"
    published = "published"


class Count(Strict):
    """A parameter or token count with where it comes from."""

    value: Annotated[int | float, BeforeValidator(strict_number)] = Field(
        gt=0, description="The count (parameters or tokens), not in millions or billions."
    )
    source: CountSource = Field(
        description="config: counted from the model config; safetensors: summed from the weight "
        "files; declared: stated by the submitter; published: a rounded figure from a paper or "
        "table."
    )
    precision: Float | None = Field(
        default=None,
        gt=0,
        description="For rounded figures: the resolution of the published number in the same "
        "unit (7.0 B published with one decimal -> 1e8). Absent for exact counts.",
    )

    @model_validator(mode="after")
    def _exact_counts_are_integers(self) -> Count:
        if self.source in ("config", "safetensors") and self.value != int(self.value):
            raise ValueError(f"a count from {self.source} must be a whole number, got {self.value}")
        if self.source in ("config", "safetensors") and self.precision is not None:
            raise ValueError(f"a count from {self.source} is exact: remove precision")
        return self


class Link(Strict):
    title: Name = Field(description="What the link points to, shown as the link text.")
    url: Url


# --------------------------------------------------------------------------------------------
# Registries


class Direction(StrEnum):
    higher = "higher"
    lower = "lower"


class OutputType(StrEnum):
    multiple_choice = "multiple_choice"
    loglikelihood = "loglikelihood"
    generate_until = "generate_until"
    loglikelihood_rolling = "loglikelihood_rolling"
    mixed = "mixed"


class Task(Strict):
    """One benchmark task as scored by the harness."""

    id: TaskId = Field(description="Task id used in result files.")
    name: Name = Field(description="Display name.")
    harness_task: str | None = Field(
        default=None, max_length=200, description="lm-eval task name, where it differs from id."
    )
    metric: Annotated[str, Field(max_length=60)] = Field(
        description="The default headline metric (acc, acc_norm, exact_match, ...)."
    )
    direction: Direction = Field(default=Direction.higher, description="Whether higher is better.")
    chance: Float = Field(
        ge=0, le=1, description="Score of random guessing: 0.25 for 4-way choice, 0 for generative."
    )
    ceiling: Float = Field(default=1.0, gt=0, le=1, description="Best possible score.")
    n_items: Int | None = Field(default=None, gt=0, description="Items in the evaluated split.")
    output_type: OutputType = Field(description="How the harness scores it.")
    category: Literal["capability", "bias", "toy"] = Field(
        default="capability",
        description="bias tasks (crows_pairs_*) never enter capability aggregates or density.",
    )
    parent: TaskId | None = Field(
        default=None, description="Aggregate task this one is a subtask of (mmlu for its 57)."
    )
    description: Text = Field(default="", description="What the task measures.")
    citation: Text = Field(default="", description="Paper that introduced the task.")
    url: Url | None = Field(default=None, description="Paper or dataset page.")

    @model_validator(mode="after")
    def _chance_below_ceiling(self) -> Task:
        if self.chance >= self.ceiling:
            raise ValueError(f"chance ({self.chance}) must be below ceiling ({self.ceiling})")
        return self


class TaskRegistry(Strict):
    """results/tasks.yaml: every task any result may report."""

    schema_version: Literal[1] = SCHEMA_VERSION
    tasks: list[Task] = Field(description="The tasks, each with a unique id.")


class Setting(Strict):
    """Everything that changes a number: two results are comparable only within one setting."""

    id: Id = Field(description="Setting id, also the folder under each model.")
    name: Name = Field(description="Display name.")
    harness: Name = Field(description="Evaluation harness (lm-evaluation-harness, helm, ...).")
    harness_version: Annotated[str, Field(max_length=80)] = Field(
        description="Harness version or commit, as precisely as known."
    )
    n_shot: Int | None = Field(default=None, ge=0, description="Shots, where one count holds.")
    n_shot_per_task: dict[TaskId, Annotated[Int, Field(ge=0)]] = Field(
        default_factory=dict, description="Shots per task where they differ from n_shot."
    )
    metric_per_task: dict[TaskId, Annotated[str, Field(max_length=60)]] = Field(
        default_factory=dict,
        description="Headline metric per task where it differs from the task's default "
        "(acc_norm for HellaSwag on the Open LLM Leaderboard).",
    )
    prompt_variant: Annotated[str, Field(max_length=200)] = Field(
        default="default", description="Prompt template / normalisation variant."
    )
    source: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Who produced numbers in this setting (a paper, a leaderboard)."
    )
    description: Text = Field(default="", description="What is particular about this setting.")

    def shots_for(self, task: str) -> int | None:
        return self.n_shot_per_task.get(task, self.n_shot)


class SettingRegistry(Strict):
    """results/settings.yaml."""

    schema_version: Literal[1] = SCHEMA_VERSION
    settings: list[Setting]


# --------------------------------------------------------------------------------------------
# Families and models


class Family(Strict):
    """results/<family>/family.yaml: one training recipe or one organisation's series."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Id = Field(description="Family id, also its folder name.")
    name: Name
    organisation: Name
    training_data: Text = Field(default="", description="Pretraining corpus, as described.")
    tokenizer: Text = Field(default="", description="Tokenizer and vocabulary size.")
    license: Annotated[str, Field(max_length=200)] = Field(default="unknown")
    links: list[Link] = Field(default_factory=list, max_length=20)
    reference: Bool = Field(
        default=False,
        description="One recipe at several sizes and token counts: usable as a capacity-density "
        "reference family.",
    )
    description: Text = ""


class Params(Strict):
    """Parameter counts. Density and scaling fits use non-embedding (active for MoE)."""

    total: Count | None = None
    non_embedding: Count | None = Field(
        default=None, description="All weights except embedding, unembedding and position tables."
    )
    embedding: Count | None = Field(
        default=None, description="Embedding + unembedding (+ learned position) weights."
    )
    active: Count | None = Field(
        default=None, description="Mixture-of-experts: parameters used per token."
    )
    active_non_embedding: Count | None = Field(
        default=None, description="Mixture-of-experts: active parameters less the embeddings."
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> Params:
        if not any((self.total, self.non_embedding, self.active, self.active_non_embedding)):
            raise ValueError("give at least one of total, non_embedding, active")
        return self


class ReleaseDate(Strict):
    date: Date
    source: Annotated[str, Field(max_length=300)] = Field(
        description="Where the date comes from (a dataset with its row, a paper, a model card)."
    )
    precision: Literal["day", "month"] = Field(
        default="day",
        description="How precisely the source states the date: `day`, or `month` (only the "
        "month is stated; the date is then the first of that month).",
    )

    @model_validator(mode="after")
    def _month_is_first_day(self) -> ReleaseDate:
        if self.precision == "month" and self.date.day != 1:
            raise ValueError("a month-precision date is the first of its month")
        return self


class Model(Strict):
    """results/<family>/<model>/model.yaml."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Id = Field(description="Model id, also its folder name.")
    family: Id = Field(description="Family id; the model lives in that family's folder.")
    name: Name = Field(description="Display name.")
    hf_id: Annotated[str, Field(pattern=HF_ID_PATTERN)] | None = Field(
        default=None, description="Hugging Face repo id, where one exists."
    )
    params: Params
    training_tokens: Count | None = Field(default=None, description="Tokens of the final model.")
    release_date: ReleaseDate | None = None
    kind: Literal["base", "instruct"] = "base"
    moe: Bool = Field(default=False, description="A mixture-of-experts model.")
    open_weights: Bool = True
    open_data: Bool = False
    architecture: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="Model type as in the config (gpt_neox, llama, ...)."
    )
    links: list[Link] = Field(default_factory=list, max_length=20)
    notes: Text = ""

    @model_validator(mode="after")
    def _moe_has_active(self) -> Model:
        if self.moe and not (self.params.active or self.params.active_non_embedding):
            raise ValueError("a mixture-of-experts model needs params.active")
        return self


# --------------------------------------------------------------------------------------------
# Results


class Revision(Strict):
    id: Id = Field(description="Revision id, also the file name: step143000, main, a commit.")
    step: Int | None = Field(default=None, ge=0, description="Training step.")
    tokens: Int | None = Field(default=None, ge=0, description="Training tokens seen.")
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,40}$")] | None = Field(
        default=None, description="Hugging Face commit sha of the weights."
    )
    final: Bool = Field(default=True, description="The released, fully trained revision.")


class AnswerLoss(Strict):
    """Conditional loss of the correct answer given the prompt (Densing Law, section 2)."""

    per_token: Float | None = Field(default=None, ge=0,
                                    description="Mean NLL per answer token (nats).")
    per_byte: Float | None = Field(default=None, ge=0,
                                   description="Mean NLL per UTF-8 byte (nats).")
    n_items: Int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_unit(self) -> AnswerLoss:
        if self.per_token is None and self.per_byte is None:
            raise ValueError("expected per_token or per_byte (nats), found neither")
        return self


class HeldoutLoss(Strict):
    """Next-token loss on held-out text. Where the scores carry no answer loss of their own
    (a grid that recorded validation losses only), two-step fits read this one for every task."""

    corpus: Annotated[str, Field(max_length=120)] = Field(
        description="The held-out text, as the source names it (C4 validation, ...).")
    per_token: Float = Field(ge=0, description="Mean NLL per token (nats).")
    n_tokens: Int | None = Field(default=None, gt=0, description="Tokens it was measured on.")


class MetricValue(Strict):
    value: Float
    stderr: Float | None = Field(default=None, ge=0)


class Aggregate(Strict):
    method: Literal["macro_mean", "micro_mean"] = Field(
        description="macro_mean: unweighted mean over subtasks; micro_mean: weighted by items."
    )
    of: list[TaskId] = Field(min_length=1, description="The subtasks averaged.")


class Score(Strict):
    metric: Annotated[str, Field(max_length=60)] = Field(description="Headline metric reported.")
    value: Float = Field(description="As reported, as a fraction (0.53, not 53).")
    stderr: Float | None = Field(default=None, ge=0, description="Standard error, as reported.")
    n_items: Int | None = Field(default=None, gt=0, description="Items scored.")
    n_shot: Int | None = Field(default=None, ge=0)
    answer_loss: AnswerLoss | None = None
    extra: dict[Annotated[str, Field(max_length=60)], MetricValue] = Field(
        default_factory=dict, max_length=20, description="Other metrics of the same run."
    )
    aggregate: Aggregate | None = Field(
        default=None, description="Set when this score is computed from subtask scores."
    )
    scale: Literal["fraction"] = Field(
        default="fraction", description="Values are fractions; a converted source says so here."
    )
    converted_from: Literal["percent"] | None = Field(
        default=None, description="The source gave percent; value = source / 100."
    )


class RunnerProvenance(Strict):
    kind: Literal["runner"]
    command: Annotated[str, Field(max_length=4000)] = Field(description="Exact command to rerun.")
    densitometer_version: Annotated[str, Field(max_length=40)]
    lm_eval_version: Annotated[str, Field(max_length=40)]
    torch_version: Annotated[str, Field(max_length=40)] | None = None
    transformers_version: Annotated[str, Field(max_length=40)] | None = None
    backend: Annotated[str, Field(max_length=40)] = "hf"
    model_source: Annotated[str, Field(max_length=500)] = Field(
        description="Hugging Face id or a path as given in the plan."
    )
    model_sha: Annotated[str, Field(max_length=80)] | None = None
    dtype: Annotated[str, Field(max_length=40)] | None = None
    batch_size: Annotated[str, Field(max_length=40)] | None = None
    device: Annotated[str, Field(max_length=40)] | None = None
    limit: Float | None = None
    seeds: dict[Annotated[str, Field(max_length=40)], Int | None] = Field(default_factory=dict)
    task_versions: dict[TaskId, Annotated[str, Field(max_length=40)]] = Field(default_factory=dict)
    task_hashes: dict[TaskId, Annotated[str, Field(max_length=80)]] = Field(default_factory=dict)
    n_samples: dict[TaskId, Int] = Field(default_factory=dict)
    wall_time_s: Float | None = Field(default=None, ge=0)
    samples_sha256: Annotated[str, Field(pattern=SHA256_PATTERN)] | None = Field(
        default=None, description="sha256 of the compressed per-sample log (kept outside results/)."
    )
    date: DateTime | None = None


class ImportProvenance(Strict):
    kind: Literal["import"]
    repository: Annotated[str, Field(max_length=200)] = Field(
        description="owner/name of the source."
    )
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,40}$")]
    path: Annotated[str, Field(max_length=500)] = Field(description="Path inside the repository.")
    license: Annotated[str, Field(max_length=100)]
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)] = Field(
        description="sha256 of the source file."
    )
    importer: Annotated[str, Field(max_length=100)] = Field(description="Importer that wrote this.")
    row: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="Row key in a table source."
    )
    notes: Text = ""


class SubmissionProvenance(Strict):
    kind: Literal["submission"]
    submitter: Name
    url: Url | None = Field(default=None, description="Logs, paper or model card.")
    command: Annotated[str, Field(max_length=4000)] | None = None
    notes: Text = ""


class ReportProvenance(Strict):
    """A result another party reports, imported from its own file (an Every Eval Ever record
    or a Hugging Face `.eval_results` YAML): shown and downloadable, never measured here."""

    kind: Literal["report"]
    format: Literal["every-eval-ever", "hf-eval-results"]
    file: Annotated[str, Field(max_length=300)] = Field(description="The imported file's name.")
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)] = Field(
        description="sha256 of the imported file's bytes."
    )
    url: Url | None = Field(default=None, description="Where the report says it comes from.")
    reporter: Name | None = Field(default=None, description="Who reports it, as it says.")
    relationship: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="The reporter's relation to the model, as it says."
    )
    date: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="When the evaluation ran, as the report states it."
    )
    notes: Text = ""


Provenance = Annotated[
    RunnerProvenance | ImportProvenance | SubmissionProvenance | ReportProvenance,
    Field(discriminator="kind")
]


class Tier(StrEnum):
    reproduced = "reproduced"
    submitted = "submitted"
    published = "published"
    reported = "reported"


class Supersedes(Strict):
    path: Annotated[str, Field(pattern=r"^results/[A-Za-z0-9._/+-]+\.yaml$", max_length=400)]
    reason: Annotated[str, Field(min_length=10, max_length=2000)]


class Result(Strict):
    """results/<family>/<model>/<setting>/<revision>.yaml: one evaluated revision in one setting."""

    schema_version: Literal[1] = SCHEMA_VERSION
    model: Id = Field(description="Model id (the model.yaml in the parent of the setting folder).")
    setting: Id = Field(description="Setting id from settings.yaml, also the folder name.")
    revision: Revision
    tier: Tier = Field(
        description="reproduced: run by this project's runner; submitted: by a contributor; "
        "published: imported from a public source; reported: another party's report, shown "
        "but never in a fit or a ranking."
    )
    scores: dict[TaskId, Score] = Field(min_length=1, max_length=500)
    heldout_loss: HeldoutLoss | None = None
    provenance: Provenance
    supersedes: list[Supersedes] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _tier_matches_provenance(self) -> Result:
        expected = {"runner": "reproduced", "import": "published", "submission": "submitted",
                    "report": "reported"}
        want = expected[self.provenance.kind]
        if self.tier != want:
            raise ValueError(
                f"tier {self.tier!r} does not match provenance kind "
                f"{self.provenance.kind!r} (expected tier {want!r})"
            )
        return self


# The file kinds, by the name that decides them.
FILE_MODELS: dict[str, type[Strict]] = {
    "tasks": TaskRegistry,
    "settings": SettingRegistry,
    "family": Family,
    "model": Model,
    "result": Result,
}
