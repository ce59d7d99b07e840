"""The lm-eval JSON parser: legacy (Pythia-era) and 0.4.x formats, with and without samples."""

from __future__ import annotations

import copy
import math

import pytest

from evalrunner.importers.lmeval import (
    LmEvalFormatError,
    macro_mean,
    parse_lmeval,
    task_id,
)

# The shape lm-eval 0.4.13 writes (trimmed from a real `simple_evaluate` run with the dummy model
# on two local tasks and a group), plus a gsm8k-style task with two filters.
CURRENT = {
    "results": {
        "toy_mc": {"name": "toy_mc", "alias": "toy_mc", "sample_len": 5, "acc,none": 0.2,
                   "acc_stderr,none": 0.20000000000000004, "acc_norm,none": 0.4,
                   "acc_norm_stderr,none": 0.24494897427831783},
        "toy_gen": {"name": "toy_gen", "alias": "toy_gen", "sample_len": 3,
                    "exact_match,first_number": 0.0, "exact_match_stderr,first_number": 0.0},
        "toy_suite": {"alias": "toy_suite", "name": "toy_suite", "sample_len": 8, "acc,none": 0.2,
                      "acc_stderr,none": 0.20000000000000004, "sample_count": {"acc,none": 5}},
        "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.1,
                  "exact_match_stderr,strict-match": 0.03,
                  "exact_match,flexible-extract": 0.15,
                  "exact_match_stderr,flexible-extract": "N/A"},
    },
    "groups": {"toy_suite": {"alias": "toy_suite", "acc,none": 0.2,
                             "acc_stderr,none": 0.20000000000000004}},
    "group_subtasks": {"toy_suite": ["toy_mc", "toy_gen"], "toy_mc": [], "toy_gen": []},
    "configs": {"toy_mc": {"task": "toy_mc"}, "toy_gen": {"task": "toy_gen"}},
    "versions": {"toy_gen": 2.0, "toy_mc": 1.0, "toy_suite": "1.0", "gsm8k": 3.0},
    "n-shot": {"toy_gen": 0, "toy_mc": 0, "toy_suite": 0, "gsm8k": 5},
    "higher_is_better": {"toy_mc": {"acc": True, "acc_norm": True}},
    "n-samples": {"toy_mc": {"original": 5, "effective": 5},
                  "toy_gen": {"original": 3, "effective": 3},
                  "gsm8k": {"original": 1319, "effective": 1319}},
    "config": {"model": "hf", "model_args": {"pretrained": "EleutherAI/pythia-70m",
                                             "revision": "step3000"},
               "model_num_parameters": 70426624, "batch_size": "8", "limit": None,
               "model_sha": "abc123"},
    "lm_eval_version": "0.4.13",
    "task_hashes": {"toy_mc": "f00d"},
}

SAMPLE = {"doc_id": 0, "doc": {"question": "alice lives in", "label": 3}, "target": 3,
          "arguments": [["alice lives in", " tokyo"], ["alice lives in", " delhi"]],
          "resps": [[[-0.5876170641754364, False]], [[-0.38490114597266045, False]]],
          "filtered_resps": [[-0.5876170641754364, False], [-0.38490114597266045, False]],
          "filter": "none", "metrics": ["acc", "acc_norm"], "acc": 1.0, "acc_norm": 1.0}

# The legacy format of the Pythia evals (values from pythia-12b-deduped five-shot step143000).
LEGACY = {
    "results": {
        "arc_challenge": {"acc": 0.3677474402730375, "acc_stderr": 0.014090995618168472,
                          "acc_norm": 0.4061433447098976, "acc_norm_stderr": 0.014351656690097862},
        "lambada_openai": {"ppl": 4.353704238788023, "ppl_stderr": 0.09613958488002758,
                           "acc": 0.6908596933824956, "acc_stderr": 0.006438501737803971},
        "hendrycksTest-anatomy": {"acc": 0.37037037037037035, "acc_stderr": 0.04171654161354544,
                                  "acc_norm": 0.3037037037037037,
                                  "acc_norm_stderr": 0.03972552884785138},
        "crows_pairs_english": {"likelihood_difference": 3.67, "likelihood_difference_stderr":
                                0.089, "pct_stereotype": 0.63, "pct_stereotype_stderr": 0.0118},
    },
    "versions": {"arc_challenge": 0, "lambada_openai": 0, "hendrycksTest-anatomy": 0},
    "config": {"model": "hf-causal", "num_fewshot": 5, "batch_size": 2,
               "model_args": "pretrained=EleutherAI/pythia-v1.1-12b-deduped,revision=step143000"},
}


def test_current_format_scores_and_metadata():
    run = parse_lmeval(CURRENT)
    mc = run.scores["toy_mc"]
    assert (mc.metric, mc.value, mc.stderr, mc.n_items, mc.n_shot) == (
        "acc", 0.2, 0.20000000000000004, 5, 0)
    assert mc.extra["acc_norm"].value == 0.4
    assert mc.extra["acc_norm"].stderr == 0.24494897427831783
    gen = run.scores["toy_gen"]
    assert (gen.metric, gen.value) == ("exact_match", 0.0)  # its only filter: plain name
    meta = run.meta
    assert meta.format == "0.4"
    assert (meta.harness_version, meta.model, meta.pretrained, meta.revision) == (
        "0.4.13", "hf", "EleutherAI/pythia-70m", "step3000")
    assert meta.model_num_parameters == 70426624 and meta.model_sha == "abc123"
    assert meta.task_versions["toy_gen"] == "2.0" and meta.task_hashes == {"toy_mc": "f00d"}
    assert meta.n_samples == {"toy_mc": 5, "toy_gen": 3, "gsm8k": 1319}
    assert not meta.has_samples


def test_filters_are_told_apart_by_a_table():
    gsm = parse_lmeval(CURRENT).scores["gsm8k"]
    assert (gsm.metric, gsm.value, gsm.stderr, gsm.n_shot) == ("exact_match", 0.1, 0.03, 5)
    flexible = gsm.extra["exact_match_flexible-extract"]
    assert (flexible.value, flexible.stderr) == (0.15, None)  # "N/A" -> no stderr


def test_group_marked_as_an_aggregate_of_its_subtasks():
    suite = parse_lmeval(CURRENT).scores["toy_suite"]
    assert suite.aggregate is not None
    assert suite.aggregate.method == "micro_mean" and suite.aggregate.of == ["toy_mc"]


def test_nested_groups_aggregate_over_their_leaves():
    data = copy.deepcopy(CURRENT)
    data["results"]["toy_mc2"] = {"acc,none": 0.6, "acc_stderr,none": 0.1}
    data["n-samples"]["toy_mc2"] = {"original": 15, "effective": 15}
    data["results"]["outer"] = {"acc,none": (0.2 * 5 + 0.6 * 15) / 20, "acc_stderr,none": 0.1}
    data["group_subtasks"] = {"outer": ["toy_suite", "toy_mc2"], "toy_suite": ["toy_mc"]}
    outer = parse_lmeval(data).scores["outer"]
    assert outer.aggregate.method == "micro_mean"
    assert outer.aggregate.of == ["toy_mc", "toy_mc2"]


def test_samples_are_accepted_and_do_not_change_scores():
    with_samples = copy.deepcopy(CURRENT)
    with_samples["samples"] = {"toy_mc": [SAMPLE]}
    run = parse_lmeval(with_samples)
    assert run.meta.has_samples
    assert run.scores == parse_lmeval(CURRENT).scores


def test_headline_choice_comes_from_the_caller():
    run = parse_lmeval(CURRENT, headline={"toy_mc": "acc_norm"})
    assert run.scores["toy_mc"].metric == "acc_norm"
    assert run.scores["toy_mc"].extra["acc"].value == 0.2
    with pytest.raises(LmEvalFormatError, match="mc2"):
        parse_lmeval(CURRENT, headline={"toy_mc": "mc2"})


def test_legacy_format():
    run = parse_lmeval(LEGACY)
    assert run.meta.format == "legacy"
    assert run.meta.pretrained == "EleutherAI/pythia-v1.1-12b-deduped"
    assert run.meta.revision == "step143000"
    assert run.meta.renamed == {"hendrycksTest-anatomy": "mmlu_anatomy"}
    arc = run.scores["arc_challenge"]
    assert (arc.value, arc.stderr, arc.n_shot, arc.n_items) == (
        0.3677474402730375, 0.014090995618168472, 5, None)
    lambada = run.scores["lambada_openai"]
    assert lambada.metric == "acc"
    assert lambada.extra["perplexity"].value == 4.353704238788023  # ppl, renamed by the table
    crows = run.scores["crows_pairs_english"]
    assert (crows.metric, crows.value) == ("pct_stereotype", 0.63)
    assert crows.extra["likelihood_difference"].value == 3.67


def test_task_renames():
    assert task_id("hendrycksTest-college_physics") == "mmlu_college_physics"
    assert task_id("arc_easy") == "arc_easy"


def test_macro_mean_says_it_is_one():
    run = parse_lmeval(CURRENT)
    scores = dict(run.scores)
    scores["toy_mc_b"] = scores["toy_mc"].model_copy(update={"value": 0.6})
    agg = macro_mean(scores, ["toy_mc", "toy_mc_b"], "acc")
    assert math.isclose(agg.value, 0.4)
    assert agg.aggregate.method == "macro_mean" and agg.n_shot == 0
    with pytest.raises(LmEvalFormatError, match="missing"):
        macro_mean(scores, ["toy_mc", "nope"], "acc")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("acc,none", float("nan"), "finite"),
    ("acc,none", "0.5", "a number"),
    ("acc_stderr,none", -0.1, ">= 0"),
])
def test_bad_values_raise_with_their_place(key, value, message):
    data = copy.deepcopy(CURRENT)
    data["results"]["toy_mc"][key] = value
    with pytest.raises(LmEvalFormatError, match=message) as err:
        parse_lmeval(data, where="run.json")
    assert "run.json: results.toy_mc" in str(err.value)


def test_files_without_results_raise():
    with pytest.raises(LmEvalFormatError, match="results"):
        parse_lmeval({"config": {}})
    with pytest.raises(LmEvalFormatError, match="num_fewshot"):
        parse_lmeval({**LEGACY, "config": {"num_fewshot": -1}})


def test_a_real_lm_eval_0_4_9_file_from_every_eval_ever():
    """The results JSON lm-eval 0.4.9.2 wrote, as the Every Eval Ever fixtures ship it."""
    import json

    from shared_data import DATA

    if DATA is None:
        pytest.skip("published data not found")
    path = DATA / "every-eval-ever/tests/data/lm_eval/results_2026-01-21T03-44-18.458309.json"
    run = parse_lmeval(json.loads(path.read_text(encoding="utf-8")), where=path.name)
    assert set(run.scores) == {"math_perturbed_full", "math_rephrased_full"}
    score = run.scores["math_rephrased_full"]
    assert (score.metric, score.value, score.n_items, score.n_shot) == ("exact_match", 0.0004,
                                                                         5000, 0)
    assert score.stderr == pytest.approx(0.0002828144211304471)
    assert run.meta.harness_version == "0.4.9.2"
    assert run.meta.task_hashes["math_perturbed_full"].startswith("41e40c71")
