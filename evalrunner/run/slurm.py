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
The options and their merging live in slurm_options.py; submitit is imported only when a run
starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .slurm_options import SlurmOptions, merge_options

if TYPE_CHECKING:
    from .matrix import ShardSpec
    from .shard import ShardOutcome


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
