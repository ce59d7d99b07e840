"""Where shards run. An executor takes the shard function and the shards, and yields one
ShardOutcome per shard as each finishes (in any order). The local executor runs them one after
the other in this process, so the lm-eval task index and imports are paid once.

To add one (a Slurm executor with submitit): write a class with `run(fn, shards)` that submits
`fn` (a module-level function: `evalrunner.run.shard.run_shard`, picklable) for each shard, e.g.
`executor.map_array(fn, shards)`, yields `job.result()` as jobs finish, and turns a job that died
without a result into a failed ShardOutcome; then register it in EXECUTORS (name -> factory, or
"module:Class" to import it lazily; it gets the keyword options the CLI passes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from .matrix import ShardSpec
from .shard import ShardOutcome

ShardFn = Callable[[ShardSpec], ShardOutcome]


class ExecutorError(Exception):
    """The executor cannot run the shards at all: unknown name, bad options, or a scheduler
    refusing the submission (e.g. sbatch: invalid partition). Nothing was run."""


class Executor(Protocol):
    """Runs shards somewhere; yields their outcomes as they finish."""

    name: str

    def run(self, fn: ShardFn, shards: Sequence[ShardSpec]) -> Iterator[ShardOutcome]: ...


class LocalExecutor:
    """In this process, one shard after another."""

    name = "local"

    def __init__(self, **options: Any):
        if options:
            raise TypeError(f"the local executor takes no options, got {sorted(options)}")

    def run(self, fn: ShardFn, shards: Sequence[ShardSpec]) -> Iterator[ShardOutcome]:
        for shard in shards:
            yield fn(shard)


# name -> factory, or "module:attribute" imported only when that executor is chosen.
EXECUTORS: dict[str, Callable[..., Executor] | str] = {
    "local": LocalExecutor,
    "slurm": "evalrunner.run.slurm:SlurmExecutor",
}


def make_executor(name: str, **options: Any) -> Executor:
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}; have {', '.join(sorted(EXECUTORS))}")
    factory = EXECUTORS[name]
    if isinstance(factory, str):
        import importlib

        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    try:
        return factory(**options)
    except (TypeError, ValueError) as err:  # options the executor does not take or accept
        raise ExecutorError(f"executor {name}: {err}") from None
