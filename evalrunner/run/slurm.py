"""The Slurm executor: job arrays (one per run, split at max_array_size), one array task per
(model, revision) shard.

Shards go to Slurm through submitit (`SlurmExecutor.map_array`), never to a scheduler of our
own. Each array task runs the same picklable `run_shard` as a local run, with the submitter's
Python (`sys.executable`) and environment (sbatch exports it, so HF_HUB_OFFLINE and friends reach
the job), and writes its result files itself, atomically, into the shared results/ folder. The
submitter only waits, reports progress and turns each task's end into a ShardOutcome:

- the task returned: its ShardOutcome (the shard records its own failures and never raises);
- the task raised (e.g. the job's Python could not unpickle the shard): a failed outcome
  carrying the first line of the error and the task's log;
- the task died without a result (time limit, out of memory, scancel, node failure): Slurm's
  state (TIMEOUT, OUT_OF_MEMORY, CANCELLED, FAILED, ...) read through sacct, and the log.

Resources come from the plan's `slurm:` section (SlurmOptions), overridden by the command line:
`densitometer run PLAN --executor slurm --partition gpu --gpus 1 --time 2:00:00 --mem 32G`.
Only pydantic is imported here at module level: plan.py imports SlurmOptions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator

from evalrunner.results import errors
from evalrunner.results.schema import Float, Int, Strict

if TYPE_CHECKING:
    from .matrix import ShardSpec
    from .shard import ShardOutcome

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


def task_state(job: Any) -> str:
    """A task's Slurm state from sacct (forced), e.g. COMPLETED, TIMEOUT, 'CANCELLED by 0'."""
    try:
        return job.get_info(mode="force").get("State") or "UNKNOWN"
    except Exception:  # noqa: BLE001 - the state only decorates a failure message
        return "UNKNOWN"


class SlurmExecutor:
    """Submits the shards as job arrays (one, unless there are more than max_array_size) and
    yields their outcomes as tasks finish."""

    name = "slurm"

    def __init__(self, options: SlurmOptions | None = None,
                 on_status: Callable[[str], None] | None = None,
                 on_event: Callable[[str], None] | None = None, **overrides: Any):
        """`options`: the plan's section; `overrides`: the command line's (None: unset).
        `on_status` gets the queue's state (for a progress label), `on_event` one line per
        event worth keeping (each submission, with its array id, and a cancellation)."""
        self.options = merge_options(options, overrides)
        self.on_status = on_status
        self.on_event = on_event
        self.array_ids: list[str] = []  # in submission order

    def folder(self, shards: Sequence[ShardSpec]) -> Path:
        if self.options.folder:
            return Path(self.options.folder).resolve()
        return Path(shards[0].samples_dir) / "slurm"

    def run(self, fn: Callable[[ShardSpec], ShardOutcome],
            shards: Sequence[ShardSpec]) -> Iterator[ShardOutcome]:
        import submitit

        if not shards:
            return
        ex = submitit.SlurmExecutor(folder=self.folder(shards), max_num_timeout=0)
        ex.update_parameters(**self.options.submitit_parameters())
        finished = False
        try:
            jobs = self._submit(ex, fn, list(shards))
            pending = dict(enumerate(jobs))
            delay = 1.0
            while pending:
                submitit.SlurmJob.watcher.update()  # one sacct call for all the arrays
                for i, job in list(pending.items()):
                    if job.done():
                        del pending[i]
                        yield self._outcome(job, shards[i])
                if pending:
                    if self.on_status:
                        self.on_status(self._queue_summary(pending.values()))
                    time.sleep(delay)
                    delay = min(self.options.poll_s, delay * 1.5)
            finished = True
        finally:
            if not finished:  # Ctrl-C, the caller stopped iterating, a refused chunk: the run
                self._cancel()  # owns its jobs, so none is left behind to write later

    def _submit(self, ex, fn, shards: list[ShardSpec]) -> list:
        """One map_array per chunk of max_array_size shards (Slurm's MaxArraySize, default
        1001, rejects larger arrays). A refused chunk raises; run() then cancels the others."""
        from submitit.core.utils import FailedJobError

        from .executor import ExecutorError

        jobs = []
        size = self.options.max_array_size
        for start in range(0, len(shards), size):
            chunk = shards[start:start + size]
            try:
                submitted = ex.map_array(fn, chunk)
            except FailedJobError as err:  # sbatch refused: bad partition, account, limits
                raise ExecutorError("Slurm refused the job array: "
                                    + " ".join(str(err).split())) from None
            jobs += submitted
            self.array_ids.append(submitted[0].job_id.split("_")[0])
            if self.on_event:
                tasks = f"{len(chunk)} task" + ("s" if len(chunk) > 1 else "")
                self.on_event(f"submitted Slurm job array {self.array_ids[-1]} ({tasks}); "
                              f"its scripts and logs: {ex.folder}")
        return jobs

    def _cancel(self) -> None:
        import subprocess

        if not self.array_ids:
            return
        subprocess.run(["scancel", *self.array_ids], capture_output=True, check=False)
        if self.on_event:
            self.on_event(f"cancelled Slurm job array(s) {' '.join(self.array_ids)}")

    def _queue_summary(self, jobs) -> str:
        counts: dict[str, int] = {}
        for job in jobs:
            state = job.watcher.get_state(job.job_id, mode="cache").split()[0].lower()
            counts[state] = counts.get(state, 0) + 1
        return "slurm: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))

    def _outcome(self, job, shard: ShardSpec) -> ShardOutcome:
        """The task's own outcome, or a failed one saying how the task ended."""
        from submitit.core.utils import FailedJobError, UncompletedJobError

        from .shard import ShardOutcome

        job._results_timeout_s = self.options.results_timeout_s
        try:
            outcome = job.result()
        except FailedJobError as err:  # the function raised inside the job
            message = _exception_line(err)
        except UncompletedJobError:  # no result file: killed, timed out, out of memory
            message = f"ended {task_state(job)} without a result"
        else:
            if isinstance(outcome, ShardOutcome):
                return outcome
            message = f"returned {type(outcome).__name__}, not a ShardOutcome"
        return ShardOutcome(shard.key, len(shard.settings),
                            failed=(("slurm", f"task {job.job_id}: {message}"),),
                            log=str(job.paths.stderr))


def _exception_line(err: BaseException) -> str:
    """The exception line of the job's traceback (the last one), not submitit's preamble."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln)]
    return (errors[-1] if errors else lines[-1] if lines else type(err).__name__)[:300]
