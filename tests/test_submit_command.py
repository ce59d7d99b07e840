"""`densitometer submit`: lm-eval JSON (0.4.x and the old format) and runner YAML -> files."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest
from treebuilder import build_tree
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Result, Revision, RunnerProvenance, Score
from evalrunner.results.validate import validate_tree
from evalrunner.results.write import write_file

# A Llama config: d=512, 8 layers, 8 heads, 4 kv heads, ffn 1536, vocab 32000, untied.
# Non-embedding: 8*(512*64*(8+2*4) + 8*64*512 + 3*512*1536 + 2*512) + 512 = 25,174,528;
# embedding: 2*32000*512 = 32,768,000; total 57,942,528.
CONFIG = {"model_type": "llama", "hidden_size": 512, "num_hidden_layers": 8,
          "num_attention_heads": 8, "num_key_value_heads": 4, "intermediate_size": 1536,
          "vocab_size": 32000, "tie_word_embeddings": False}
V04 = {
    "results": {
        "arc_easy": {"alias": "arc_easy", "acc,none": 0.55, "acc_stderr,none": 0.0102,
                     "acc_norm,none": 0.5, "acc_norm_stderr,none": 0.0103},
        "piqa": {"alias": "piqa", "acc,none": 0.66, "acc_stderr,none": 0.011},
        "lambada_openai": {"alias": "lambada_openai", "acc,none": 0.3,
                           "acc_stderr,none": 0.006},
    },
    "n-shot": {"arc_easy": 0, "piqa": 0, "lambada_openai": 0},
    "n-samples": {"arc_easy": {"original": 2376, "effective": 2376},
                  "piqa": {"original": 1838, "effective": 1838}},
    "versions": {"arc_easy": 1.0, "piqa": 1.0},
    "config": {"model": "hf", "model_args": "pretrained=org/model-x,dtype=float32",
               "model_num_parameters": 57942528, "batch_size": "8", "limit": None},
    "lm_eval_version": "0.4.13",
}
LEGACY = {
    "results": {"arc_easy": {"acc": 0.6, "acc_stderr": 0.01, "acc_norm": 0.55,
                             "acc_norm_stderr": 0.0101},
                "piqa": {"acc": 0.7, "acc_stderr": 0.0107}},
    "versions": {"arc_easy": 0, "piqa": 0},
    "config": {"model": "hf-causal",
               "model_args": "pretrained=EleutherAI/pythia-160m,revision=step143000",
               "num_fewshot": 0, "batch_size": 16, "limit": None},
}


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "results")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["submit", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def write_json(tmp_path: Path, data: dict, name: str = "results.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_lmeval_04_with_a_config(root: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model-x"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(CONFIG))
    code, out, err = run(write_json(tmp_path, V04), "--family", "fam", "--model", "fam-x",
                         "--setting", "zero-shot", "--submitter", "alice", "--url",
                         "https://example.org/logs", "--model-dir", model_dir, "--into", root)
    assert code == 0, out + err
    assert "note: left out 1 task(s) not in tasks.yaml: lambada_openai" in err
    assert f"wrote {root.as_posix()}/fam/fam-x/zero-shot/main.yaml" in err
    assert "| added | " in out and "fam-x" in out
    result = Result.model_validate(read_yaml(root / "fam/fam-x/zero-shot/main.yaml"))
    assert result.tier == "submitted" and result.revision.id == "main"
    assert result.scores["arc_easy"].model_dump(exclude_defaults=True) == {
        "metric": "acc", "value": 0.55, "stderr": 0.0102, "n_items": 2376, "n_shot": 0,
        "extra": {"acc_norm": {"value": 0.5, "stderr": 0.0103}}}
    assert result.provenance.submitter == "alice"
    assert result.provenance.url == "https://example.org/logs"
    assert result.provenance.notes == (
        "Converted by densitometer submit from lm-eval 0.4.13 (0.4 format), model type hf, "
        "pretrained org/model-x, batch size 8.")
    model = read_yaml(root / "fam/fam-x/model.yaml")
    assert model["params"] == {
        "total": {"value": 57942528, "source": "config"},
        "non_embedding": {"value": 25174528, "source": "config"},
        "embedding": {"value": 32768000, "source": "config"}}
    assert model["architecture"] == "llama"
    assert validate_tree(root).ok


def test_legacy_format_with_declared_params(root: Path, tmp_path: Path) -> None:
    code, out, err = run(write_json(tmp_path, LEGACY), "--family", "fam", "--model",
                         "pythia-160m", "--setting", "zero-shot", "--submitter", "bob",
                         "--params", "162322944", "--step", "143000", "--into", root)
    assert code == 0, out + err
    result = Result.model_validate(read_yaml(root / "fam/pythia-160m/zero-shot/step143000.yaml"))
    assert result.revision.step == 143000
    assert {t: (s.metric, s.value, s.stderr, s.n_shot) for t, s in result.scores.items()} == {
        "arc_easy": ("acc", 0.6, 0.01, 0), "piqa": ("acc", 0.7, 0.0107, 0)}
    assert read_yaml(root / "fam/pythia-160m/model.yaml")["params"] == {
        "total": {"value": 162322944, "source": "declared"}}
    assert validate_tree(root).ok


def test_declared_count_that_disagrees_with_the_config(root: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(CONFIG))
    data = {**V04, "config": {**V04["config"], "model_num_parameters": 60_000_000}}
    code, _, err = run(write_json(tmp_path, data), "--family", "fam", "--model", "fam-x",
                       "--setting", "zero-shot", "--submitter", "a", "--model-dir", model_dir,
                       "--into", root, "--dry-run")
    assert code == 0
    assert ("note: warning: declared 60,000,000 parameters differ from the 57,942,528 counted "
            "from the config by 3.6%") in err


def test_dry_run_writes_nothing(root: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    code, out, _ = run(write_json(tmp_path, V04), "--family", "fam", "--model", "fam-x",
                       "--setting", "zero-shot", "--submitter", "a", "--params", "5e7",
                       "--into", root, "--dry-run")
    assert code == 2  # --params is an integer option
    code, out, _ = run(write_json(tmp_path, V04), "--family", "fam", "--model", "fam-x",
                       "--setting", "zero-shot", "--submitter", "a", "--params", "50000000",
                       "--into", root, "--dry-run")
    assert code == 0 and "## Densitometer preview" in out
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_replacing_a_result_needs_a_reason(root: Path, tmp_path: Path) -> None:
    args = [write_json(tmp_path, V04), "--family", "fam", "--model", "fam-small", "--setting",
            "zero-shot", "--submitter", "a", "--into", root]
    code, _, err = run(*args)
    assert code == 2
    assert err.strip() == (
        "error: results/fam/fam-small/zero-shot/main.yaml: expected a new file (this revision "
        "already has a result), found 'an existing result'; pass --reason '<why the numbers "
        "change>' to supersede it (history is append-only)")
    code, _, err = run(*args, "--reason", "rerun with lm-eval 0.4.13")
    assert code == 0, err
    result = Result.model_validate(read_yaml(root / "fam/fam-small/zero-shot/main.yaml"))
    assert [(s.path, s.reason) for s in result.supersedes] == [
        ("results/fam/fam-small/zero-shot/main.yaml", "rerun with lm-eval 0.4.13")]


@pytest.mark.parametrize(("change", "args", "message"), [
    ({"config": {**V04["config"], "limit": 10}}, [],
     "config.limit: expected a full run (no --limit), found 10; a run on part of each task is a "
     "smoke test, not a result"),
    ({}, ["--model", "../evil"],
     "--model: expected an id matching ^[a-z0-9][a-z0-9._+-]{0,99}$ (lowercase letters, digits, "
     "'.', '_', '+', '-'), found '../evil'"),
    ({}, ["--setting", "zero-shots"],
     "expected a setting in {root}/settings.yaml, found 'zero-shots'; did you mean 'zero-shot'?"),
    ({}, ["--family", "other"],
     "--organisation: expected the organisation behind the new family 'other', found None"),
    ({"results": {"lambada_openai": {"acc,none": 0.3}}}, [],
     "scores: expected at least one task from tasks.yaml, found ['lambada_openai']; add the "
     "tasks to tasks.yaml first"),
])
def test_submission_errors(root: Path, tmp_path: Path, change: dict, args: list[str],
                           message: str) -> None:
    base = {"--family": "fam", "--model": "fam-x", "--setting": "zero-shot"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    code, _, err = run(write_json(tmp_path, {**V04, **change}), *flat, "--submitter", "a",
                       "--params", "50000000", "--into", root)
    assert code == 2
    assert message.replace("{root}", root.as_posix()) in err


def test_validation_errors_block_writing(root: Path, tmp_path: Path) -> None:
    data = {**V04, "n-shot": {"arc_easy": 5, "piqa": 0}}
    code, out, err = run(write_json(tmp_path, data), "--family", "fam", "--model", "fam-x",
                         "--setting", "zero-shot", "--submitter", "a", "--params", "50000000",
                         "--into", root)
    assert code == 1
    assert (f"{root.as_posix()}/fam/fam-x/zero-shot/main.yaml: scores.arc_easy.n_shot: "
            "expected 0 (setting 'zero-shot'), found 5; a different shot count is another "
            "setting") in out
    assert "1 error(s): nothing written" in err
    assert not (root / "fam/fam-x").exists()


def test_runner_output_becomes_a_submission(root: Path, tmp_path: Path) -> None:
    runner = Result(
        model="fam-small", setting="zero-shot", tier="reproduced",
        revision=Revision(id="step1000", step=1000, final=False),
        scores={"arc_easy": Score(metric="acc", value=0.3, stderr=0.0094, n_items=2376)},
        provenance=RunnerProvenance(kind="runner", command="densitometer run plan.yaml",
                                    densitometer_version="0.1.0", lm_eval_version="0.4.13",
                                    model_source="org/fam-small", model_sha="abc1234"))
    write_file(tmp_path, PurePosixPath("out.yaml"), "result", runner)
    code, out, err = run(tmp_path / "out.yaml", "--family", "fam", "--submitter", "carol",
                         "--into", root)
    assert code == 0, out + err
    result = Result.model_validate(read_yaml(root / "fam/fam-small/zero-shot/step1000.yaml"))
    assert result.tier == "submitted" and result.revision.step == 1000
    assert result.provenance.command == "densitometer run plan.yaml"
    assert result.provenance.notes == ("Runner output: densitometer 0.1.0, lm-eval 0.4.13, "
                                       "model org/fam-small at abc1234.")


def test_parent_task_as_the_macro_mean_of_its_subtasks(root: Path, tmp_path: Path) -> None:
    tasks = (root / "tasks.yaml").read_text()
    tasks = tasks.replace("  output_type: multiple_choice\n",
                          "  output_type: multiple_choice\n  parent: pair\n")
    tasks += ("- id: pair\n  name: Pair\n  metric: acc\n  chance: 0.375\n"
              "  output_type: multiple_choice\n")
    (root / "tasks.yaml").write_text(tasks)
    assert validate_tree(root).ok
    code, out, err = run(write_json(tmp_path, V04), "--family", "fam", "--model", "fam-x",
                         "--setting", "zero-shot", "--submitter", "a", "--params", "50000000",
                         "--into", root)
    assert code == 0, out + err
    assert "note: pair: added as the macro mean of its 2 subtasks" in err
    pair = Result.model_validate(read_yaml(root / "fam/fam-x/zero-shot/main.yaml")).scores["pair"]
    assert pair.value == pytest.approx((0.55 + 0.66) / 2)
    assert pair.aggregate.method == "macro_mean" and pair.aggregate.of == ["arc_easy", "piqa"]


def test_options_the_schema_refuses(root: Path, tmp_path: Path) -> None:
    code, _, err = run(write_json(tmp_path, V04), "--family", "fam", "--model", "fam-x",
                       "--setting", "zero-shot", "--submitter", "a", "--params", "50000000",
                       "--url", "javascript:alert(1)", "--into", root)
    assert code == 2
    assert err.strip() == (
        "error: SubmissionProvenance.url: expected a string matching pattern "
        "'^https?://[^\\s<>\\\"']+$', found 'javascript:alert(1)'")
