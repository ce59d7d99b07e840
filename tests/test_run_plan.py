"""Plans: schema, revision expansion, the matrix and what counts as done (no lm_eval needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalrunner.run.demo import example_plan
from evalrunner.run.matrix import expand
from evalrunner.run.plan import PLAN_MODELS, Plan, PlanError, load_plan, parse_plan
from evalrunner.run.runner import RunArgs, check_settings, prepare


def minimal(**over) -> dict:
    plan = {
        "settings": [{"id": "s0", "name": "S0", "tasks": ["tiny_facts_mc"]}],
        "families": [{"id": "fam", "name": "Fam", "organisation": "Org", "models": [
            {"id": "m1", "path": "models/m1", "revisions": ["step0", "step10"]}]}],
    }
    plan.update(over)
    return plan


def write_plan(tmp: Path, data: dict) -> Path:
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_example_plan_is_valid_and_expands_steps():
    plan = load_plan(example_plan())
    model = plan.families[0].models[0]
    entries = model.revision_entries()
    assert [e.id for e in entries] == ["step0", "step100", "step200", "step300"]
    assert [e.tokens for e in entries] == [0, 204800, 409600, 614400]
    assert plan.families[0].family().reference is True
    assert {s.id for s in plan.settings} == {"densitometer-tiny-0shot", "densitometer-tiny-3shot"}


def test_revision_forms():
    data = minimal()
    data["families"][0]["models"][0].update(
        revisions=["main", "step5", {"id": "v1", "ref": "Release-1"},
                   {"steps": [1, 2, 4], "format": "global_step{step}"}],
        tokens_per_step=10, final="main")
    model = parse_plan(data).families[0].models[0]
    got = [(e.id, e.step, e.tokens, e.ref) for e in model.revision_entries()]
    assert got == [("main", None, None, None), ("step5", 5, 50, None),
                   ("v1", None, None, "Release-1"), ("global_step1", 1, 10, None),
                   ("global_step2", 2, 20, None), ("global_step4", 4, 40, None)]


def test_no_revisions_means_main():
    data = minimal()
    data["families"][0]["models"][0].pop("revisions")
    assert [e.id for e in parse_plan(data).families[0].models[0].revision_entries()] == ["main"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(colour="red"), "colour: unknown field"),
    (lambda d: d["families"][0]["models"].append(d["families"][0]["models"][0]),
     "model ids must be unique, found twice: ['m1']"),
    (lambda d: d["families"][0]["models"][0].pop("path"), "give hf_id"),
    (lambda d: d["families"][0]["models"][0].update(final="step99"),
     "final 'step99' is not among its revisions"),
    (lambda d: d["families"][0]["models"][0].update(revisions=[{"steps": [1], "format": "S{n}"}]),
     "must use only {step}"),
    (lambda d: d["families"][0]["models"][0].update(revisions=["Step0"]),
     "families.0.models.0.revisions.0: expected a string matching pattern"),
    (lambda d: d.update(run={"model_args": {"device": "cuda"}}), "model_args must not set"),
    (lambda d: d["settings"][0].update(tasks=["a", "a"]), "tasks listed twice"),
    (lambda d: d["families"][0]["models"][0].update(run={"batch_size": "big"}), "batch_size"),
])
def test_plan_errors_name_the_field(change, message):
    data = minimal()
    change(data)
    with pytest.raises(PlanError) as err:
        parse_plan(data, "p.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("p.yaml: ")


def test_unreadable_and_non_mapping_plans(tmp_path):
    with pytest.raises(PlanError, match="cannot read the plan"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(PlanError, match="expected a mapping"):
        load_plan(tmp_path / "list.yaml")


def test_plan_json_schema_is_exported():
    schema = PLAN_MODELS["plan"].model_json_schema()
    assert PLAN_MODELS["plan"] is Plan
    assert "families" in schema["properties"] and schema["additionalProperties"] is False


def _models(tmp: Path, *revs: str) -> None:
    for r in revs:
        (tmp / "models" / "m1" / r).mkdir(parents=True)


def _matrix(tmp: Path, data: dict, **kw):
    args = RunArgs(plan=write_plan(tmp, data), results=tmp / "results", **kw)
    return prepare(args)[1]


def test_matrix_marks_done_incomplete_and_forced(tmp_path):
    _models(tmp_path, "step0", "step10")
    data = minimal()
    data["settings"][0]["tasks"] = ["tiny_facts_mc", "tiny_colors_ll"]
    m = _matrix(tmp_path, data)
    assert [(c.revision, c.status) for c in m.cells] == [("step0", "pending"),
                                                         ("step10", "pending")]
    assert [s.key for s in m.shards] == ["fam/m1@step0", "fam/m1@step10"]
    done = tmp_path / "results/fam/m1/s0/step0.yaml"
    done.parent.mkdir(parents=True)
    done.write_text("scores: {tiny_facts_mc: {}, tiny_colors_ll: {}}\n")
    part = tmp_path / "results/fam/m1/s0/step10.yaml"
    part.write_text("scores: {tiny_facts_mc: {}}\n")
    m = _matrix(tmp_path, data)
    assert [c.status for c in m.cells] == ["done", "incomplete"]
    assert [s.key for s in m.shards] == ["fam/m1@step10"]
    m = _matrix(tmp_path, data, force=True)
    assert [c.status for c in m.cells] == ["forced", "forced"]


def test_matrix_filters_and_reproduce_command(tmp_path):
    _models(tmp_path, "step0", "step10")
    m = _matrix(tmp_path, minimal(), only=("m1@step1*",))
    assert [c.revision for c in m.cells] == ["step10"]
    command = m.shards[0].settings[0].command
    assert command.endswith("--only m1@step10 --setting s0 --force")
    assert command.startswith("densitometer run ")
    with pytest.raises(PlanError, match="--setting nope: no such setting"):
        _matrix(tmp_path, minimal(), settings=("nope",))


def test_mistyped_model_path_is_a_plan_error_with_a_suggestion(tmp_path):
    _models(tmp_path, "step0", "step10")
    data = minimal()
    data["families"][0]["models"][0]["path"] = "models/m-1"
    with pytest.raises(PlanError) as err:
        _matrix(tmp_path, data)
    text = str(err.value)
    assert f"model m1 revision step0: no model folder {tmp_path}/models/m-1/step0 (" in text
    assert f"did you mean {tmp_path}/models/m1?" in text
    assert "revision step10" in text  # every problem, not just the first


def test_missing_folder_of_a_done_result_is_fine(tmp_path):
    data = minimal()
    for rev in ("step0", "step10"):
        done = tmp_path / f"results/fam/m1/s0/{rev}.yaml"
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text("scores: {tiny_facts_mc: {}}\n")
    m = _matrix(tmp_path, data)  # checkpoints deleted after evaluation: nothing to run
    assert not m.shards and all(c.status == "done" for c in m.cells)


def test_setting_ids_must_keep_their_meaning(tmp_path):
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump({"schema_version": 1, "settings": [
        {"id": "s0", "name": "S0", "harness": "lm-evaluation-harness",
         "harness_version": "0.4.13", "n_shot": 5}]}))
    with pytest.raises(PlanError, match="setting s0: n_shot is 5 in .* but 0 in the plan"):
        check_settings(parse_plan(minimal()), tmp_path, "plan.yaml")


def test_hub_models_keep_revision_names(tmp_path):
    data = minimal()
    data["families"][0]["models"][0] = {"id": "pythia-70m", "hf_id": "EleutherAI/pythia-70m",
                                        "revisions": ["step1000", "main"]}
    m = expand(parse_plan(data), plan_arg="p.yaml", base_dir=tmp_path,
               results_root=tmp_path / "r", samples_dir=tmp_path / "s", results_arg="r")
    assert [(s.source, s.hub_revision, s.local, s.revision.final) for s in m.shards] == [
        ("EleutherAI/pythia-70m", "step1000", False, False),
        ("EleutherAI/pythia-70m", "main", False, True)]
    assert m.shards[0].offline is False  # a hub model: the plan does not force offline
