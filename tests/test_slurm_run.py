"""`densitometer run PLAN --executor slurm` end to end on a localhost Slurm
(tests/slurm_cluster.py): the tiny family's plan through a submitit job array gives the results
of a local run.

These tests compare executors, not training or tasks, so two things are cut down to keep them
near two minutes on two cores: the family is a short stand-in for `densitometer train-tiny` (the
three sizes trained 6 steps instead of 300, checkpoints saved under the plan's step names), and
the plan's run options get `limit: 16` items per task. Everything else is the packaged plan:
3 models x 4 revisions = 12 shards (one array task each), 2 settings x 3 tasks each.
Run alone: pytest -m slurm -s (prints the command's output and the sacct view of the array).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("slurm")]

SHORT_STEPS = (0, 2, 4, 6)  # trained; saved as the plan's step0, step100, step200, step300
LIMIT = 16  # items per task (of 80)
# Added to the plan; the command line overrides partition and time.
SLURM_SECTION = {"partition": "nosuchpartition", "time": "30", "cpus_per_task": 1,
                 "array_parallelism": 2, "poll_s": 2, "results_timeout_s": 2}
# Provenance that differs between two runs by design; everything else must be equal.
RUN_SPECIFIC = {"command", "wall_time_s", "date"}


def _write_plan(work: Path) -> Path:
    """The packaged tiny plan with `limit` and a slurm: section, beside work/models."""
    from evalrunner.run import demo

    data = yaml.safe_load(demo.example_plan().read_text(encoding="utf-8"))
    data["run"]["limit"] = LIMIT
    data["slurm"] = SLURM_SECTION
    plan = work / demo.PLAN_NAME
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan


@pytest.fixture(scope="module")
def empty_work(tmp_path_factory) -> Path:
    """The plan with empty checkpoint folders: enough for everything before a shard runs."""
    from evalrunner.run import tiny

    work = tmp_path_factory.mktemp("tiny-empty")
    for size in tiny.SIZES:
        for step in tiny.STEPS:
            (work / "models" / size.name / f"step{step}").mkdir(parents=True)
    _write_plan(work)
    return work


@pytest.fixture(scope="module")
def tiny_work(tmp_path_factory) -> Path:
    """The tiny family (short training) and the packaged tiny plan with a slurm: section."""
    from evalrunner.run import tiny
    from evalrunner.run.tinydata import corpus_lines

    work = tmp_path_factory.mktemp("tiny-slurm")
    lines = corpus_lines()
    tok = tiny.train_tokenizer(lines)
    stream = tiny.token_stream(tok, lines, epochs=1)
    for size in tiny.SIZES:
        tiny.train_size(size, tok, stream, work / "models", steps=SHORT_STEPS)
        for short, planned in zip(SHORT_STEPS, tiny.STEPS, strict=True):
            if short != planned:
                (work / "models" / size.name / f"step{short}").rename(
                    work / "models" / size.name / f"step{planned}")
    _write_plan(work)
    return work


def _run_locally(plan: Path, results: Path) -> Path:
    """The plan through the local executor, in this process."""
    from evalrunner.run.runner import RunArgs, run_plan

    report = run_plan(RunArgs(plan=plan, results=results))
    assert report.ok, report.failed
    return results


def _densitometer(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in a child process with this environment (SLURM_CONF, PATH, HF_*_OFFLINE)."""
    return subprocess.run([sys.executable, "-m", "evalrunner", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, COLUMNS="120"))


def _array_id(output: str) -> str:
    line = next(ln for ln in output.splitlines() if "submitted Slurm job array" in ln)
    return line.split("array ")[1].split()[0]


def _files(root: Path) -> dict[str, dict]:
    return {str(p.relative_to(root)): yaml.safe_load(p.read_text())
            for p in sorted(root.rglob("*.yaml"))}


def _comparable(data: dict) -> dict:
    """A result file without the provenance fields that differ between runs by design."""
    prov = data.get("provenance")
    if not isinstance(prov, dict):
        return data
    return {**data, "provenance": {k: v for k, v in prov.items() if k not in RUN_SPECIFIC}}


def test_the_tiny_plan_on_slurm_equals_a_local_run(slurm_cluster, tiny_work):
    plan = tiny_work / "tiny-plan.yaml"
    results = tiny_work / "slurm" / "results"
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "evalrunner", "run", str(plan), "--results", str(results),
           "--executor", "slurm", "--partition", slurm_cluster.partition, "--time", "10",
           "--mem", "2G"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, COLUMNS="120"))
    try:
        # The reference run, while the array runs (the CPU has gaps: queueing, imports).
        local_results = _run_locally(plan, tiny_work / "local" / "results")
        print(f"\n[slurm] local run done at {time.monotonic() - t0:.1f} s")
        # 64 s alone; a shard forks no worker processes (shard.serial_bootstrap), so nothing
        # in a job waits on a signal and a full `make test` only makes it slower
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:  # Ctrl-C: the command cancels its array, then exits
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
    took = time.monotonic() - t0
    print(f"[slurm] densitometer run --executor slurm: {took:.1f} s, exit {proc.returncode}")
    print(out + err)
    assert proc.returncode == 0, out + err
    array = _array_id(err)
    table = slurm_cluster.wait_finished(array)
    print(f"sacct -j {array}\n{table}")
    states = [line.split("|")[3] for line in table.splitlines()[1:]]
    assert states == ["COMPLETED"] * 12  # 3 models x 4 revisions, one array task each

    local, remote = _files(local_results), _files(results)
    assert sorted(remote) == sorted(local)
    assert len([p for p in local if p.endswith(("step0.yaml", "step300.yaml"))]) == 12
    for rel in local:
        assert _comparable(remote[rel]) == _comparable(local[rel]), rel
        if "scores" in local[rel]:  # exact floats, not approximately
            assert remote[rel]["scores"] == local[rel]["scores"], rel

    # Resume: nothing left to do submits nothing; one missing file submits one task.
    again = _densitometer("run", str(plan), "--results", str(results), "--executor", "slurm")
    assert again.returncode == 0 and "submitted" not in again.stderr, again.stderr
    gone = "densitometer-tiny/tiny-s/densitometer-tiny-3shot/step200.yaml"
    (results / gone).unlink()
    redo = _densitometer("run", str(plan), "--results", str(results), "--executor", "slurm",
                         "--partition", slurm_cluster.partition)
    assert redo.returncode == 0, redo.stderr
    assert "(1 task)" in redo.stderr
    assert _comparable(yaml.safe_load((results / gone).read_text())) == \
        _comparable(local[gone])


def test_cli_rejects_bad_slurm_options_before_submitting(empty_work):
    plan = str(empty_work / "tiny-plan.yaml")
    bad = _densitometer("run", plan, "--results", str(empty_work / "bad"), "--executor", "slurm",
                        "--time", "2h")
    assert bad.returncode == 2
    assert "time '2h' is not a Slurm time limit" in bad.stderr
    local = _densitometer("run", plan, "--results", str(empty_work / "bad"), "--gpus", "1")
    assert local.returncode == 2
    assert "--gpus apply to --executor slurm only" in local.stderr


def test_a_refused_submission_is_one_error_and_nothing_runs(slurm_cluster, empty_work):
    out = empty_work / "refused" / "results"
    run = _densitometer("run", str(empty_work / "tiny-plan.yaml"), "--results", str(out),
                        "--executor", "slurm")  # the plan's partition does not exist
    assert run.returncode == 2, run.stderr
    assert "error: Slurm refused the job array: sbatch: error: invalid partition specified: " \
        "nosuchpartition" in " ".join(run.stderr.split())
    assert not list(out.rglob("step*.yaml"))


# --- failure semantics, with stand-in shards (no model) ------------------------------------------

def _shard(key: str, tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(key=key, settings=("s",), samples_dir=str(tmp_path))


def shard_fn(shard):
    from evalrunner.run.shard import ShardOutcome

    if shard.key == "dies":
        os._exit(9)  # killed without a result: only Slurm's state tells
    if shard.key == "raises":
        raise RuntimeError("cannot import the model code")
    return ShardOutcome(shard.key, 1, written=("r.yaml",))


def test_tasks_that_die_or_raise_become_failed_outcomes(slurm_cluster, tmp_path):
    import cloudpickle

    from evalrunner.run.executor import make_executor

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # jobs cannot import a test module
    try:
        ex = make_executor("slurm", partition=slurm_cluster.partition, time="5", poll_s=1,
                           results_timeout_s=0, max_array_size=2)
        shards = [_shard(k, tmp_path) for k in ("ok", "dies", "raises")]
        outcomes = {o.key: o for o in ex.run(shard_fn, shards)}
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    first, second = ex.array_ids  # 3 shards, at most 2 per array
    assert outcomes["ok"].ok and outcomes["ok"].written == ("r.yaml",)
    (what, message), = outcomes["dies"].failed
    assert what == "slurm"
    assert message == f"task {first}_1: ended FAILED without a result"
    (what, message), = outcomes["raises"].failed
    # a one-shard chunk is a plain job, not an array: submitit names it "2", not "2_0"
    assert message == f"task {second}: RuntimeError: cannot import the model code"
    assert "RuntimeError: cannot import the model code" in Path(outcomes["raises"].log
                                                                ).read_text()
    print(f"\nsacct -j {first} -j {second}\n{slurm_cluster.wait_finished(first)}"
          f"{slurm_cluster.wait_finished(second).split(chr(10), 1)[1]}")


def sleepy(shard):
    time.sleep(120)


def test_an_interrupted_run_cancels_its_arrays(slurm_cluster, tmp_path):
    import cloudpickle

    from evalrunner.run.executor import make_executor

    events: list[str] = []

    def interrupt(status: str) -> None:  # Ctrl-C while the tasks run
        if "running" in status:
            raise KeyboardInterrupt

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        ex = make_executor("slurm", partition=slurm_cluster.partition, time="5", poll_s=1,
                           max_array_size=2, on_status=interrupt, on_event=events.append)
        with pytest.raises(KeyboardInterrupt):
            list(ex.run(sleepy, [_shard(k, tmp_path) for k in "abc"]))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert events[-1] == f"cancelled Slurm job array(s) {' '.join(ex.array_ids)}"
    for array in ex.array_ids:
        table = slurm_cluster.wait_finished(array)
        assert {line.split("|")[3].split()[0] for line in table.splitlines()[1:]} == \
            {"CANCELLED"}, table
