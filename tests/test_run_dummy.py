"""Orchestration with lm-eval's dummy model (no weights): conversion against lm-eval's own
numbers, resume (also after SIGKILL), registries, unknown tasks, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.results.read import read_yaml
from evalrunner.results.samples import read_samples
from evalrunner.results.schema import Result
from evalrunner.results.validate import validate_tree
from evalrunner.run.runner import RunArgs, prepare, run_plan

TASKS = ["tiny_facts_mc", "tiny_colors_ll", "tiny_arith_gen"]


def make_plan(tmp: Path, revisions: int = 2, limit: int | None = 4, tasks=TASKS,
              extra_setting: bool = False) -> Path:
    for i in range(revisions):
        (tmp / "models" / "dm" / f"step{i}").mkdir(parents=True, exist_ok=True)
    settings = [{"id": "dummy-0shot", "name": "Dummy 0-shot", "tasks": list(tasks)}]
    if extra_setting:
        settings.append({"id": "dummy-2shot", "name": "Dummy 2-shot", "n_shot": 2,
                         "tasks": list(tasks)})
    plan = {
        "run": {"backend": "dummy", "limit": limit, "bootstrap_iters": 100},
        "settings": settings,
        "families": [{"id": "dummies", "name": "Dummies", "organisation": "Tests", "models": [{
            "id": "dm", "path": "models/dm",
            "revisions": [{"steps": {"start": 0, "stop": revisions - 1, "every": 1}}],
            "params": {"total": {"value": 1000, "source": "declared"}},
        }]}],
    }
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def results_in(root: Path) -> list[Path]:
    return sorted(root.glob("*/*/*/*.yaml"))


def test_run_writes_valid_results_equal_to_lm_evals_own(tmp_path):
    plan = make_plan(tmp_path, extra_setting=True)
    report = run_plan(RunArgs(plan=plan, results=tmp_path / "results"))
    assert report.ok and len(report.written) == 4
    check = validate_tree(tmp_path / "results")
    assert check.ok, [str(p) for p in check.errors]

    import lm_eval

    from evalrunner.run.resolve import task_manager
    from evalrunner.run.suite import fresh, packaged_tasks

    suite = packaged_tasks()
    direct = lm_eval.simple_evaluate(
        model="dummy", tasks=[fresh(suite[t]) for t in TASKS], task_manager=task_manager(),
        num_fewshot=0, limit=4, bootstrap_iters=100, random_seed=0, numpy_random_seed=1234,
        torch_random_seed=1234, fewshot_random_seed=1234)
    r = Result.model_validate(read_yaml(tmp_path / "results/dummies/dm/dummy-0shot/step1.yaml"))
    assert r.scores["tiny_facts_mc"].value == direct["results"]["tiny_facts_mc"]["acc,none"]
    assert r.scores["tiny_facts_mc"].extra["acc_norm"].value == \
        direct["results"]["tiny_facts_mc"]["acc_norm,none"]
    assert r.scores["tiny_arith_gen"].value == \
        direct["results"]["tiny_arith_gen"]["exact_match,first_number"]
    assert r.scores["tiny_colors_ll"].answer_loss is None  # the dummy has no tokenizer
    assert r.revision.final and r.revision.step == 1
    p = r.provenance
    assert (p.backend, p.limit, p.n_samples["tiny_facts_mc"]) == ("dummy", 4.0, 4)
    assert p.seeds == {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}
    assert set(p.task_hashes) == set(TASKS) and p.task_versions["tiny_facts_mc"] == "1.0"
    assert p.command.endswith("--only dm@step1 --setting dummy-0shot --force")
    log = tmp_path / "samples/dummies/dm/dummy-0shot/step1.jsonl.gz"
    import hashlib

    assert hashlib.sha256(log.read_bytes()).hexdigest() == p.samples_sha256
    assert {row["task"] for row in read_samples(log)} == set(TASKS)
    two = Result.model_validate(read_yaml(tmp_path / "results/dummies/dm/dummy-2shot/step0.yaml"))
    assert {s.n_shot for s in two.scores.values()} == {2}
    assert "dummy-2shot" in (tmp_path / "results/settings.yaml").read_text()


def test_existing_registry_entries_win_and_are_kept(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    mine = {"id": "tiny_facts_mc", "name": "Someone else's name", "metric": "acc_norm",
            "chance": 0.25, "output_type": "multiple_choice"}
    other = {"id": "zzz_other", "name": "Other", "metric": "acc", "chance": 0.5,
             "output_type": "multiple_choice"}
    (results / "tasks.yaml").write_text(yaml.safe_dump({"schema_version": 1,
                                                        "tasks": [other, mine]}))
    plan = make_plan(tmp_path, revisions=1)
    assert run_plan(RunArgs(plan=plan, results=results)).ok
    reg = read_yaml(results / "tasks.yaml")["tasks"]
    assert reg[:2] == [other, mine]  # untouched, in their order
    assert [t["id"] for t in reg[2:]] == ["tiny_arith_gen", "tiny_colors_ll"]
    r = read_yaml(results / "dummies/dm/dummy-0shot/step0.yaml")
    assert r["scores"]["tiny_facts_mc"]["metric"] == "acc_norm"  # the registry's headline
    assert validate_tree(results).ok


def test_rerun_of_a_finished_plan_loads_nothing(tmp_path):
    plan = make_plan(tmp_path)
    assert run_plan(RunArgs(plan=plan, results=tmp_path / "results")).ok
    code = ("import sys, time; t = time.perf_counter(); from evalrunner.cli import app\n"
            f"app(['run', {str(plan)!r}, '--results', {str(tmp_path / 'results')!r}], "
            "standalone_mode=False)\n"
            "print('lm_eval' in sys.modules, 'torch' in sys.modules, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    imported_lm_eval, imported_torch, seconds = out.stdout.split()[-3:]
    assert (imported_lm_eval, imported_torch) == ("False", "False")
    assert "2 done, 0 to run" in out.stderr
    assert float(seconds) < 3.0


def test_unknown_task_did_you_mean(tmp_path):
    plan = make_plan(tmp_path, tasks=["tiny_facts_mc", "tiny_fact_mc"])
    result = CliRunner().invoke(app, ["run", str(plan), "--results", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "unknown task 'tiny_fact_mc'; did you mean 'tiny_facts_mc'" in result.output
    assert not (tmp_path / "r").exists()


def test_lm_eval_tags_are_refused_with_their_tasks(tmp_path):
    plan = make_plan(tmp_path, tasks=["ai2_arc"])
    result = CliRunner().invoke(app, ["run", str(plan), "--results", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "'ai2_arc' is an lm-eval tag, not a task: list its tasks instead (arc_challenge, " \
           "arc_easy" in result.output


def test_dry_run_lists_the_matrix(tmp_path):
    plan = make_plan(tmp_path, revisions=3)
    done = tmp_path / "results/dummies/dm/dummy-0shot/step1.yaml"
    done.parent.mkdir(parents=True)
    done.write_text(yaml.safe_dump({"scores": dict.fromkeys(TASKS, {})}))
    result = CliRunner().invoke(app, ["run", str(plan), "--results", str(tmp_path / "results"),
                                      "--dry-run"])
    assert result.exit_code == 0
    assert "3 result files in the plan: 1 done, 2 to run in 2 shard(s)" in result.output
    assert result.output.count("pending") == 2 and result.output.count("done") >= 1


def test_help_has_examples():
    runner = CliRunner()
    for command in ("run", "train-tiny", "demo"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example: densitometer" in result.output


def test_sigkill_mid_run_leaves_only_whole_files_and_the_rerun_finishes(tmp_path):
    n = 6
    plan = make_plan(tmp_path, revisions=n, limit=20)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "evalrunner", "run", str(plan), "--results", str(results)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not results_in(results) and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before writing anything"
            time.sleep(0.02)
        assert results_in(results), "no result file within 120 s"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and any helper it forked
        proc.wait()
    first = results_in(results)
    assert 1 <= len(first) < n, "the run finished before the kill: make it longer"
    for path in first:  # every file there is whole
        Result.model_validate(read_yaml(path))
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{n} result files in the plan: {len(first)} done" in again.stderr
    assert len(results_in(results)) == n
    assert validate_tree(results).ok
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert not leftovers, leftovers


def test_prepare_alone_imports_no_harness(tmp_path):
    plan = make_plan(tmp_path)
    code = ("import sys; from pathlib import Path; from evalrunner.run.runner import RunArgs, "
            f"prepare; m = prepare(RunArgs(plan=Path({str(plan)!r})))[1]; "
            "print(len(m.shards), 'lm_eval' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.split() == ["2", "False"]


@pytest.mark.parametrize("bad", ["nowhere/dm"])
def test_mistyped_model_path_fails_fast_before_any_load(tmp_path, bad):
    plan = make_plan(tmp_path)
    data = yaml.safe_load(plan.read_text())
    data["families"][0]["models"][0]["path"] = bad
    plan.write_text(yaml.safe_dump(data))
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["run", str(plan), "--results", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"no model folder {tmp_path}/nowhere/dm/step0" in result.output
    assert time.perf_counter() - t0 < 5
    assert prepare  # the check is in prepare(): no model, no hub, nothing written
    assert not (tmp_path / "r").exists()


def test_a_shard_forks_no_pool_and_keeps_bootstrap_stderrs(tmp_path, monkeypatch):
    """lm-eval's bootstrap stderr (tiny_colors_ll's perplexity) runs in this process: a Pool
    forked inside a Slurm job inherits submitit's ignored SIGTERM and its shutdown hangs."""
    import multiprocessing
    import multiprocessing.pool

    def no_pool(*args, **kwargs):
        raise AssertionError("a shard started a multiprocessing pool")

    monkeypatch.setattr(multiprocessing, "Pool", no_pool)
    monkeypatch.setattr(multiprocessing.pool, "Pool", no_pool)
    monkeypatch.delenv("DISABLE_MULTIPROC", raising=False)
    plan = make_plan(tmp_path, revisions=1, tasks=["tiny_colors_ll"])
    report = run_plan(RunArgs(plan=plan, results=tmp_path / "results"))
    assert report.ok, report.failed
    r = Result.model_validate(read_yaml(tmp_path / "results/dummies/dm/dummy-0shot/step0.yaml"))
    ppl = r.scores["tiny_colors_ll"].extra["perplexity"]
    assert ppl.stderr is not None and ppl.stderr > 0  # drawn, not dropped
    assert "DISABLE_MULTIPROC" not in os.environ  # put back after the shard

    # the same draws as lm-eval's pool: random.Random(i) per chunk in both paths
    from lm_eval.api import metrics

    xs = [float(i % 7) + 1.0 for i in range(40)]
    serial = metrics.sample_stddev(metrics._bootstrap_internal_no_mp(metrics.mean, xs, 100))
    pooled = metrics.sample_stddev(metrics._bootstrap_internal(metrics.mean, 100)((0, xs)))
    assert serial == pooled
