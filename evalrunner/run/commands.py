"""`densitometer run`, `densitometer train-tiny` and `densitometer demo`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer

EXIT_FAILED = 1  # some revision failed; the others were written
EXIT_USAGE = 2  # the plan, a task name or a path is wrong: nothing ran


def _quiet() -> None:
    """lm-eval, datasets and transformers chatter would break the progress bar."""
    import logging

    for k, v in {"TQDM_DISABLE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
                 "TRANSFORMERS_VERBOSITY": "error", "LMEVAL_LOG_LEVEL": "WARNING"}.items():
        os.environ.setdefault(k, v)
    for name in ("lm-eval", "lm_eval", "datasets", "transformers"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def _output_to_log(log: Path) -> Iterator[IO[str]]:
    """lm-eval's bars and logs (and its subprocesses') go to `log`, not the terminal: file
    descriptor 2 is pointed at the log; yields a stream to the real terminal for our output."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    try:
        with open(log, "a", encoding="utf-8") as fh:
            os.dup2(fh.fileno(), 2)
            try:
                yield terminal
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
        terminal.close()


def _print_matrix(matrix) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("family", "model", "revision", "setting", "status")
    for c in matrix.cells:
        style = "green" if c.status == "done" else "yellow"
        table.add_row(c.family, c.model, c.revision, c.setting, f"[{style}]{c.status}[/]")
    Console().print(table)


def _summary(matrix) -> str:
    done = sum(c.status == "done" for c in matrix.cells)
    return (f"{len(matrix.cells)} result files in the plan: {done} done, "
            f"{len(matrix.cells) - done} to run in {len(matrix.shards)} shard(s)")


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that mean the plan or its inputs are wrong (exit 2, one message, no traceback)."""
    from .plan import PlanError
    from .registry import RegistryError
    from .resolve import UnknownTaskError
    from .suite import TaskFileError

    return PlanError, UnknownTaskError, TaskFileError, RegistryError


def execute(args, executor: str = "local", dry_run: bool = False, verbose: bool = False,
            executor_options: dict | None = None):
    """Run (or list) a plan with a progress bar; user errors exit 2, failures exit 1."""
    from rich.console import Console

    from .executor import ExecutorError, make_executor
    from .runner import RunReport, executor_options_for, prepare, resolve

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        plan, matrix = prepare(args)
        if dry_run:
            _print_matrix(matrix)
            typer.echo(_summary(matrix))
            return RunReport(matrix)
        console.print(_summary(matrix))
        if not verbose and matrix.shards:
            _quiet()
        options = executor_options_for(plan, executor, executor_options)
        make_executor(executor, **options)  # unknown executor, bad options: before any work
        shards = resolve(args, plan, matrix)
    except (*_user_errors(), ExecutorError) as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(EXIT_USAGE) from None
    if not shards:
        return RunReport(matrix)
    log = args.samples / "run.log"
    if not verbose:
        console.print(f"lm-eval's own output goes to {log}")
    try:
        with (_terminal() if verbose else _output_to_log(log)) as terminal:
            outcomes = _with_progress(shards, executor, Console(
                file=terminal, highlight=False, soft_wrap=True), options)
    except ExecutorError as err:  # e.g. sbatch refused the array: nothing ran
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(EXIT_USAGE) from None
    report = RunReport(matrix, outcomes)
    _report(console, report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)
    return report


@contextmanager
def _terminal() -> Iterator[IO[str]]:
    yield sys.stderr


def _with_progress(shards, executor: str, console, options: dict | None = None):
    """Run the shards with a bar over the matrix (ETA from rich)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from .runner import execute_shards

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("evaluating", total=sum(len(s.settings) for s in shards))

        def advance(outcome) -> None:
            mark = "ok" if outcome.ok else "[red]FAILED[/]"
            bar.console.print(f"{outcome.key}: {mark} ({outcome.wall_time_s:.1f} s)")
            bar.update(task, advance=outcome.n_settings, description=outcome.key)

        options = dict(options or {})
        if executor == "slurm":  # the queue's state (pending, running) in the bar's label
            options["on_status"] = lambda text: bar.update(task, description=text)
            options["on_event"] = bar.console.print
        return execute_shards(shards, executor, options, on_outcome=advance)


def _report(console, report) -> None:
    console.print(f"wrote {len(report.written)} result file(s)")
    for o in report.failed:
        for what, message in o.failed:
            console.print(f"[red]failed[/] {o.key} \\[{what}]: {message}")
        if o.log:
            console.print(f"  traceback: {o.log}")
    if report.failed:
        console.print(f"[red]{len(report.failed)} revision(s) failed[/]; rerun the same "
                      "command to retry them (done results are skipped)")


def run(
    plan: Annotated[Path, typer.Argument(help="The plan (YAML).")],
    results: Annotated[Path, typer.Option(help="Results root to write into.")] = Path("results"),
    samples_dir: Annotated[Path | None, typer.Option(
        help="Where per-sample logs go (default: <results>/../samples).")] = None,
    base_dir: Annotated[Path | None, typer.Option(
        help="Folder the plan's relative paths start from (default: the plan's folder).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the matrix and what is already done; run nothing.")] = False,
    force: Annotated[bool, typer.Option(help="Redo results that exist.")] = False,
    only: Annotated[list[str] | None, typer.Option(
        help="Only these models: MODEL, MODEL@REVISION or FAMILY, shell patterns (repeatable)."
    )] = None,
    setting: Annotated[list[str] | None, typer.Option(
        help="Only these setting ids (repeatable).")] = None,
    executor: Annotated[str, typer.Option(
        help="Where shards run: local (this process) or slurm (a job array via submitit).")
    ] = "local",
    partition: Annotated[str | None, typer.Option(
        help="Slurm partition (--executor slurm; overrides the plan's slurm: section).")] = None,
    gpus: Annotated[int | None, typer.Option(help="Slurm: GPUs per shard.")] = None,
    time: Annotated[str | None, typer.Option(
        help="Slurm: time limit per shard: minutes, or e.g. 4:00:00, 1-12:00:00.")] = None,
    mem: Annotated[str | None, typer.Option(help="Slurm: memory per shard (32G).")] = None,
    account: Annotated[str | None, typer.Option(help="Slurm: account to charge.")] = None,
    verbose: Annotated[bool, typer.Option(help="Keep lm-eval's own logs and bars.")] = False,
) -> None:
    """Evaluate a plan: every (model, revision, setting) not done yet, one result file each.

    Each revision is loaded once and evaluated on all its tasks; a revision that fails is
    reported at the end (exit 1) without stopping the others. Rerunning skips what is done.

    Example: densitometer run work/tiny-plan.yaml --results work/results --dry-run

    On Slurm, one array task per revision (see docs "Running at scale"):
    densitometer run pythia.yaml --executor slurm --partition gpu --gpus 1 --time 4:00:00
    """
    from .runner import RunArgs

    slurm = {k: v for k, v in {"partition": partition, "gpus": gpus, "time": time, "mem": mem,
                               "account": account}.items() if v is not None}
    if slurm and executor != "slurm":
        typer.echo(f"error: --{', --'.join(slurm)} apply to --executor slurm only", err=True)
        raise typer.Exit(EXIT_USAGE)
    args = RunArgs(plan=plan, results=results, samples_dir=samples_dir, base_dir=base_dir,
                   force=force, only=tuple(only or ()), settings=tuple(setting or ()))
    execute(args, executor=executor, dry_run=dry_run, verbose=verbose, executor_options=slurm)


def train_tiny(
    workdir: Annotated[Path, typer.Argument(help="Folder to train into (models/ inside).")],
    force: Annotated[bool, typer.Option(help="Retrain even if the family is there.")] = False,
) -> None:
    """Train the tiny model family (3 sizes x 4 checkpoints, ~1 min on 2 CPU cores) and copy
    the example plan beside it.

    Example: densitometer train-tiny work/
    """
    from .demo import train_tiny as train

    plan = train(workdir, force=force, log=typer.echo)
    typer.echo(f"plan: {plan}")


def demo(
    workdir: Annotated[Path, typer.Option(help="Folder for models, results and samples.")
                       ] = Path("densitometer-demo"),
    verbose: Annotated[bool, typer.Option(help="Keep lm-eval's own logs and bars.")] = False,
) -> None:
    """The offline demo: train the tiny family, run the example plan, validate the results.

    Example: densitometer demo --workdir /tmp/dm-demo
    """
    from evalrunner.results.validate import validate_tree

    from .demo import train_tiny as train
    from .runner import RunArgs

    plan = train(workdir, log=typer.echo)
    results = workdir / "results"
    execute(RunArgs(plan=plan, results=results), verbose=verbose)
    report = validate_tree(results)
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(f"validated {report.files} files in {results}: {len(report.errors)} error(s)")
    if report.errors:
        raise typer.Exit(EXIT_FAILED)
    _print_finals(results)


def _print_finals(results: Path) -> None:
    """One table per setting: each model's final revision, score (and answer loss) per task."""
    from rich.console import Console
    from rich.table import Table

    from evalrunner.results.read import read_yaml
    from evalrunner.results.schema import Model, Result

    finals: dict[str, dict[str, Result]] = {}
    size: dict[str, float] = {}
    for path in sorted(results.glob("*/*/*/*.yaml")):
        r = Result.model_validate(read_yaml(path))
        if r.revision.final:
            finals.setdefault(r.setting, {})[r.model] = r
    for path in results.glob("*/*/model.yaml"):
        m = Model.model_validate(read_yaml(path))
        count = m.params.non_embedding or m.params.total
        size[m.id] = count.value if count else 0
    for setting, by_model in sorted(finals.items()):
        tasks = sorted({t for r in by_model.values() for t in r.scores})
        table = Table("model", *tasks, title=f"{setting}, final revisions (answer NLL/token)")
        for model in sorted(by_model, key=lambda m: (size.get(m, 0), m)):
            cells = []
            for t in tasks:
                s = by_model[model].scores.get(t)
                loss = f" ({s.answer_loss.per_token:.2f})" if s and s.answer_loss else ""
                cells.append(f"{s.metric} {s.value:.3f}{loss}" if s else "-")
            table.add_row(model, *cells)
        Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command("train-tiny")(train_tiny)
    app.command()(demo)
