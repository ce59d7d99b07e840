"""Repeated sampling in the runner: the plan option, the rewritten task config, the
errors, and lm-eval's metric over n kept answers being the per-item pass rate."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from evalrunner.run.plan import PlanError, load_plan, parse_plan
from evalrunner.run.resolve import TaskSpec
from evalrunner.run.sampling import SamplingError, apply_sampling, sampled_config
from evalrunner.run.suite import TaskFileError, packaged_tasks

GEN = packaged_tasks()["tiny_arith_gen"]
MC = packaged_tasks()["tiny_facts_mc"]


def _plan(sampling) -> dict:
    return {"settings": [{"id": "s", "name": "S", "tasks": ["tiny_arith_gen", "tiny_facts_mc"],
                          "sampling": sampling}],
            "families": [{"id": "f", "name": "F", "organisation": "O",
                          "models": [{"id": "m", "path": "models/m"}]}]}


def test_sampled_config_keeps_every_answer():
    out = sampled_config(GEN, repeats=16, temperature=0.7, top_p=0.9)
    assert out["repeats"] == 16
    assert out["generation_kwargs"] == {**GEN["generation_kwargs"], "do_sample": True,
                                        "temperature": 0.7, "top_p": 0.9}
    assert out["filter_list"] == [{"name": "first_number-all", "filter": [
        {"function": "regex", "regex_pattern": "(\\d+)"}]}]
    assert GEN["filter_list"][0]["filter"][-1] == {"function": "take_first"}  # input untouched
    bare = sampled_config({**GEN, "filter_list": None}, repeats=4, temperature=1.0)
    assert bare["filter_list"] == [{"name": "none-all", "filter": [
        {"function": "take_first_k", "k": 4}]}]


def test_sampling_applies_to_generation_tasks_only():
    plan = parse_plan(_plan({"repeats": 8}))
    sampling = plan.settings[0].sampling
    assert sampling.repeats == 8 and sampling.temperature == 1.0 and sampling.tasks is None
    gen = apply_sampling(TaskSpec("tiny_arith_gen", "suite", GEN), sampling)
    mc = apply_sampling(TaskSpec("tiny_facts_mc", "suite", MC), sampling)
    harness = apply_sampling(TaskSpec("gsm8k", "harness"), sampling)
    assert gen.config["repeats"] == 8 and mc.config == MC and harness.config is None
    assert apply_sampling(TaskSpec("tiny_arith_gen", "suite", GEN), None).config == GEN


def test_sampling_errors_name_the_task_and_the_fix():
    named = parse_plan(_plan({"repeats": 8, "tasks": ["tiny_facts_mc", "gsm8k"]}))
    sampling = named.settings[0].sampling
    with pytest.raises(SamplingError, match="generate_until tasks, this one is 'multiple_choice'"):
        apply_sampling(TaskSpec("tiny_facts_mc", "suite", MC), sampling)
    with pytest.raises(TaskFileError, match="copy it into a task file"):
        apply_sampling(TaskSpec("gsm8k", "harness"), sampling)
    with pytest.raises(PlanError, match="repeats"):
        parse_plan(_plan({"repeats": 1}))
    with pytest.raises(PlanError, match="temperature"):
        parse_plan(_plan({"repeats": 4, "temperature": 0}))


def test_packaged_sampling_plan_is_valid():
    path = Path(str(resources.files("evalrunner.run") / "plans" / "tiny-sampling.yaml"))
    plan = load_plan(path)
    (setting,) = plan.settings
    assert setting.sampling.repeats == 16 and setting.tasks == ["tiny_arith_gen"]
    assert all(m.revision_entries()[-1].id == "step300" for m in plan.families[0].models)


def test_lm_eval_exact_match_over_kept_answers_is_the_pass_rate():
    """The rewrite relies on lm-eval broadcasting exact_match of n answers against one gold."""
    from lm_eval.api.metrics import exact_match_hf_evaluate

    got = exact_match_hf_evaluate(predictions=[["7", "7", "1", "8"]], references=["7"])
    assert got["exact_match"] == 0.5
