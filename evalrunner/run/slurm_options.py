"""Slurm options: the `slurm:` section of a plan (SlurmOptions), its validators, and how the
command line's overrides merge onto it.

Kept apart from the executor (slurm.py) so that plan.py can declare its `slurm:` field without
importing the executor module. Only pydantic and the results schema are imported here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator

from evalrunner.results import errors
from evalrunner.results.schema import Float, Int, Strict

# Slurm's --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
_TIME = re.compile(r"^(?:(?P<d>\d+)-(?P<dh>\d+)(?::(?P<dm>\d+)(?::(?P<ds>\d+))?)?"
                   r"|(?P<a>\d+)(?::(?P<b>\d+)(?::(?P<c>\d+))?)?)$")
_NAME = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.,:=+@%/-]+$")]
SbatchValue = str | int | float | bool


def time_minutes(value: str) -> int:
    """Minutes in a Slurm time limit (rounded up): '90' -> 90, '2:00:00' -> 120,
    '1-12' -> 2160, '30:30' (minutes:seconds) -> 31. Raises ValueError on any other form."""
    m = _TIME.match(value.strip())
    if not m:
        raise ValueError(f"time {value!r} is not a Slurm time limit (minutes, M:S, H:M:S, "
                         "D-H, D-H:M or D-H:M:S, e.g. 2:00:00)")
    g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
    if m.group("d") is not None:
        seconds = ((g["d"] * 24 + g["dh"]) * 60 + g["dm"]) * 60 + g["ds"]
    elif m.group("c") is not None:
        seconds = (g["a"] * 60 + g["b"]) * 60 + g["c"]
    else:
        seconds = g["a"] * 60 + g["b"]
    minutes = -(-seconds // 60)
    if minutes < 1:
        raise ValueError(f"time {value!r} must be at least one minute")
    return minutes


class SlurmOptions(Strict):
    """Where and with what each shard's Slurm array task runs (`slurm:` in a plan).

    Every field is optional; the command line overrides the plan. One array holds the whole run,
    so the limits are per shard and must fit the largest model of the plan.
    """

    partition: _NAME | None = Field(default=None, description="Partition (sbatch -p); "
                                    "default: the cluster's default partition.")
    account: _NAME | None = Field(default=None, description="Account to charge (sbatch -A).")
    qos: _NAME | None = Field(default=None, description="Quality of service (sbatch --qos).")
    gpus: Int | None = Field(default=None, ge=0, le=64, description="GPUs per shard "
                             "(--gpus-per-node, one shard per node); set run.device: cuda too.")
    cpus_per_task: Int | None = Field(default=None, ge=1, le=1024, description="CPUs per shard.")
    mem: Annotated[str, Field(pattern=r"^\d+[KMGT]?$")] | None = Field(
        default=None, description="Memory per shard, sbatch --mem form: 32G, 4000M.")
    time: Annotated[str, Field(max_length=20)] = Field(
        default="1:00:00", description="Time limit per shard: minutes, H:M:S or D-H:M:S. A shard "
        "killed at the limit is reported TIMEOUT; rerun to retry it.")
    constraint: _NAME | None = Field(default=None, description="Node features (sbatch -C).")
    array_parallelism: Int | None = Field(
        default=None, ge=1, description="At most this many shards at once per array "
        "(--array=0-N%P); default: submitit's (256).")
    max_array_size: Int = Field(
        default=1000, ge=1, description="Shards per job array: more are split into several "
        "arrays (Slurm's MaxArraySize, 1001 by default, caps an array's indices).")
    job_name: _NAME = Field(default="densitometer", description="Job name in squeue.")
    setup: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=50, description="Shell lines run before the shard "
        "(module load cuda, export HF_HOME=...). The job runs the submitter's Python anyway.")
    additional: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=60)],
                     SbatchValue] = Field(
        default_factory=dict, description="Other sbatch options, e.g. {exclude: node07, "
        "reservation: evals}.")
    folder: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="Where submitit's scripts, pickles and job logs go "
        "(default: <samples>/slurm). Must be on a filesystem the nodes share.")
    poll_s: Float = Field(default=15.0, gt=0, le=600, description="Longest wait between "
                          "queue checks (one sacct call for the whole array); checks start "
                          "1 s apart and slow down to this.")
    results_timeout_s: Float = Field(
        default=15.0, ge=0, le=600, description="How long a task that ended without a result "
        "file is given for it to appear (slow shared filesystems) before it counts as failed.")

    @field_validator("time")
    @classmethod
    def _slurm_time(cls, value: str) -> str:
        time_minutes(value)
        return value

    def submitit_parameters(self) -> dict[str, Any]:
        """Parameters for `submitit.SlurmExecutor.update_parameters`."""
        params: dict[str, Any] = {"time": time_minutes(self.time), "job_name": self.job_name,
                                  "nodes": 1, "ntasks_per_node": 1}
        for ours, theirs in (("partition", "partition"), ("account", "account"),
                             ("qos", "qos"), ("gpus", "gpus_per_node"),
                             ("cpus_per_task", "cpus_per_task"), ("mem", "mem"),
                             ("constraint", "constraint"),
                             ("array_parallelism", "array_parallelism")):
            value = getattr(self, ours)
            if value is not None:
                params[theirs] = value
        if self.setup:
            params["setup"] = list(self.setup)
        if self.additional:
            params["additional_parameters"] = dict(self.additional)
        return params


class SlurmOptionsError(ValueError):
    """Slurm options (plan section plus command line) that do not validate; every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("slurm options: " + "; ".join(problems))


def merge_options(plan: SlurmOptions | None, overrides: dict[str, Any]) -> SlurmOptions:
    """The plan's `slurm:` section with the command line's non-None values on top."""
    from pydantic import ValidationError

    base = plan.model_dump(exclude_unset=True) if plan else {}
    try:
        return SlurmOptions.model_validate(base | {k: v for k, v in overrides.items()
                                                   if v is not None})
    except ValidationError as err:
        raise SlurmOptionsError([f"{'.'.join(map(str, e['loc']))}: {errors.message(e)}"
                                 for e in err.errors()]) from None
