"""The hf backend on tiny random checkpoints: a failing revision among good ones, answer loss
tokenized as lm-eval does, parameters counted from the config, shards that pickle."""

from __future__ import annotations

import multiprocessing as mp
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.results.read import read_yaml
from evalrunner.results.samples import read_samples
from evalrunner.results.schema import Result, Task
from evalrunner.results.validate import validate_tree
from evalrunner.run import tiny
from evalrunner.run.registry import merge_tasks, registry_lock
from evalrunner.run.runner import RunArgs, prepare, resolve
from evalrunner.run.shard import run_shard
from evalrunner.run.tinydata import corpus_lines

SIZE = tiny.Size("t", hidden=16, layers=1, heads=2, ffn=32)
TASKS = ["tiny_facts_mc", "tiny_colors_ll", "tiny_arith_gen"]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """Three random-init checkpoints; step1's weights are garbage."""
    root = tmp_path_factory.mktemp("hf")
    tok = tiny.train_tokenizer(corpus_lines())
    model = tiny.build_model(SIZE, len(tok), tok.eos_token_id)
    for rev in ("step0", "step1", "step2"):
        folder = root / "models" / "hm" / rev
        model.save_pretrained(folder)
        tiny.save_tokenizer(tok, folder)
    (root / "models/hm/step1/model.safetensors").write_bytes(b"not a safetensors file")
    plan = {
        "run": {"limit": 5, "bootstrap_iters": 100},
        "settings": [{"id": "hf-0shot", "name": "HF 0-shot", "tasks": TASKS}],
        "families": [{"id": "hfam", "name": "HF family", "organisation": "Tests", "models": [
            {"id": "hm", "path": "models/hm", "revisions": ["step0", "step1", "step2"]}]}],
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(plan))
    return root


@pytest.fixture(scope="module")
def ran(work: Path):
    return CliRunner().invoke(app, ["run", str(work / "plan.yaml"), "--results",
                                    str(work / "results")])


def test_one_failing_revision_is_reported_and_the_others_written(work, ran):
    assert ran.exit_code == 1, ran.output
    assert "failed hfam/hm@step1 [load]" in ran.output
    assert "1 revision(s) failed" in ran.output
    assert "wrote 2 result file(s)" in ran.output
    written = sorted(p.name for p in (work / "results/hfam/hm/hf-0shot").glob("*.yaml"))
    assert written == ["step0.yaml", "step2.yaml"]
    assert (work / "samples/hfam/hm/step1.error.log").is_file()
    assert validate_tree(work / "results").ok


def test_answer_loss_is_tokenized_as_lm_eval_does(work, ran):
    from transformers import AutoTokenizer

    r = Result.model_validate(read_yaml(work / "results/hfam/hm/hf-0shot/step0.yaml"))
    loss = r.scores["tiny_facts_mc"].answer_loss
    assert r.scores["tiny_arith_gen"].answer_loss is None  # generation: no answer loss
    tok = AutoTokenizer.from_pretrained(work / "models/hm/step0")
    nll = tokens = n_bytes = 0
    for s in read_samples(work / "samples/hfam/hm/hf-0shot/step0.jsonl.gz"):
        if s["task"] != "tiny_facts_mc":
            continue
        ctx, cont = s["arguments"][s["target"]]
        nll -= s["resps"][s["target"]][0][0]
        tokens += len(tok(ctx + cont).input_ids) - len(tok(ctx).input_ids)
        n_bytes += len(cont.encode())
    assert loss.n_items == 5
    assert loss.per_token == pytest.approx(nll / tokens, rel=1e-12)
    assert loss.per_byte == pytest.approx(nll / n_bytes, rel=1e-12)
    assert 3 < loss.per_token < 9  # random init over 512 tokens: about ln(512) = 6.2


def test_model_yaml_counts_parameters_from_the_config(work, ran):
    from transformers import AutoModelForCausalLM

    from evalrunner.params import decoder_non_embedding

    m = read_yaml(work / "results/hfam/hm/model.yaml")
    model = AutoModelForCausalLM.from_pretrained(work / "models/hm/step0")
    assert m["params"]["total"] == {"value": sum(p.numel() for p in model.parameters()),
                                    "source": "config"}
    assert m["params"]["non_embedding"]["value"] == decoder_non_embedding(
        SIZE.layers, SIZE.hidden, SIZE.ffn, SIZE.hidden // SIZE.heads, SIZE.heads, SIZE.heads)
    assert m["architecture"] == "llama"
    r = read_yaml(work / "results/hfam/hm/hf-0shot/step2.yaml")
    assert r["provenance"]["model_sha"].startswith("sha256:")
    assert r["provenance"]["model_source"] == "models/hm"


def test_shards_pickle_and_a_missing_folder_fails_in_the_worker(work, tmp_path):
    args = RunArgs(plan=work / "plan.yaml", results=tmp_path / "results", force=True)
    plan, matrix = prepare(args)
    shards = resolve(args, plan, matrix)
    shard = pickle.loads(pickle.dumps(shards[0]))
    assert pickle.loads(pickle.dumps(run_shard)) is run_shard  # by reference: module level
    gone = replace(shard, source=str(tmp_path / "gone"))
    outcome = run_shard(gone)
    assert not outcome.ok and outcome.failed[0][0] == "load"
    assert "no model folder" in outcome.failed[0][1]


def _merge(args: tuple[str, int]) -> None:
    root, i = args
    for j in range(5):
        with registry_lock(Path(root) / "lock"):
            merge_tasks(Path(root), {f"t{i}_{j}": Task(id=f"t{i}_{j}", name="T", metric="acc",
                                                       chance=0.0, output_type="mixed")})


def test_concurrent_registry_merges_lose_nothing(tmp_path):
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_merge, [(str(tmp_path), i) for i in range(4)])
    ids = [t["id"] for t in read_yaml(tmp_path / "tasks.yaml")["tasks"]]
    assert sorted(ids) == sorted(f"t{i}_{j}" for i in range(4) for j in range(5))
