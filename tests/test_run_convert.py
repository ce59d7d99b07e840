"""Conversion of lm-eval output: answer loss (known answers), chance, registry entries, sample
logs, and the packaged suite's data files. Pure functions: no model, no lm_eval."""

from __future__ import annotations

import math

import pytest

from evalrunner.results.samples import read_samples, render
from evalrunner.results.schema import Score
from evalrunner.run import tinydata
from evalrunner.run.convert import (
    ConversionError,
    answer_loss,
    chance,
    derive_task,
    scored_continuation,
    to_scores,
)
from evalrunner.run.samples import write_samples
from evalrunner.run.suite import TaskFileError, load_task_file, packaged_registry, packaged_tasks


def mc_sample(doc_id: int, logliks: list[float], gold: int, ctx: str = "q") -> dict:
    conts = [f" c{i}" for i in range(len(logliks))]
    return {"doc_id": doc_id, "target": gold, "arguments": [(ctx, c) for c in conts],
            "resps": [[(ll, False)] for ll in logliks], "filter": "none"}


def by_chars(context: str, continuation: str) -> int:
    return len(continuation)  # a stand-in tokenizer: one token per character


def test_answer_loss_pools_tokens_and_bytes():
    samples = [mc_sample(0, [-1.0, -2.0, -3.0], gold=1),  # nll 2.0 over " c1": 3 tok, 3 bytes
               mc_sample(1, [-0.5, -4.0], gold=0)]         # nll 0.5 over " c0": 3 tok
    loss = answer_loss(samples, "multiple_choice", by_chars)
    assert loss.per_token == pytest.approx(2.5 / 6)
    assert loss.per_byte == pytest.approx(2.5 / 6)
    assert loss.n_items == 2


def test_answer_loss_counts_each_item_once_and_skips_multi_gold():
    a = mc_sample(0, [-1.0, -2.0], gold=0)
    dup = dict(a, filter="other")  # lm-eval logs an item once per filter
    multi = dict(mc_sample(1, [-1.0, -2.0], gold=0), target=[0, 1])
    loss = answer_loss([a, dup, multi], "multiple_choice", by_chars)
    assert loss.per_token == pytest.approx(1.0 / 3)


def test_answer_loss_loglikelihood_and_bytes_of_non_ascii():
    s = {"doc_id": 0, "target": " é", "arguments": [("ctx", " é")], "resps": [[(-3.0, True)]]}
    loss = answer_loss([s], "loglikelihood", lambda c, x: 1)
    assert loss.per_token == 3.0 and loss.per_byte == pytest.approx(1.0)  # " é" is 3 bytes


def test_answer_loss_needs_loglikelihoods_and_a_tokenizer():
    s = mc_sample(0, [-1.0], gold=0)
    assert answer_loss([s], "generate_until", by_chars) is None
    assert answer_loss([s], "multiple_choice", None) is None
    with pytest.raises(ConversionError, match="non-finite"):
        answer_loss([mc_sample(0, [math.nan], gold=0)], "multiple_choice", by_chars)


def test_string_gold_and_trailing_space_move():
    s = dict(mc_sample(0, [-1.0, -2.0], gold=0), target="c1")
    assert answer_loss([s], "multiple_choice", by_chars).per_token == pytest.approx(2 / 3)
    assert scored_continuation("Answer: ", "yes") == " yes"
    assert scored_continuation("Answer:", " yes") == " yes"


def test_chance_is_mean_inverse_choices():
    samples = [mc_sample(0, [0, 0], 0), mc_sample(1, [0, 0, 0, 0], 0)]
    assert chance(samples, "multiple_choice") == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert chance(samples, "generate_until") == 0.0


RES = {
    "results": {
        "t_mc": {"alias": "t_mc", "acc,none": 0.5, "acc_stderr,none": 0.1,
                 "acc_norm,none": 0.75, "acc_norm_stderr,none": "N/A"},
        "grp": {"alias": "grp", "acc,none": 0.5, "acc_stderr,none": 0.1},
    },
    "group_subtasks": {"grp": ["t_mc"]},
    "configs": {"t_mc": {"output_type": "multiple_choice"}},
    "versions": {"t_mc": 1.0, "grp": "1"},
    "n-shot": {"t_mc": 0, "grp": 0},
    "higher_is_better": {"t_mc": {"acc": True, "acc_norm": True}},
    "n-samples": {"t_mc": {"original": 40, "effective": 2}},
}


def test_to_scores_uses_the_table_driven_converter_and_adds_losses():
    samples = [mc_sample(0, [-1.0, -2.0], 0), mc_sample(1, [-1.0, -2.0], 1)]
    loss = answer_loss(samples, "multiple_choice", by_chars)
    scores = to_scores(RES, {}, {"t_mc": loss})
    assert (scores["t_mc"].metric, scores["t_mc"].value, scores["t_mc"].stderr) == ("acc", 0.5, 0.1)
    assert scores["t_mc"].extra["acc_norm"].value == 0.75
    assert scores["t_mc"].extra["acc_norm"].stderr is None  # "N/A" when bootstrap_iters=0
    assert scores["t_mc"].answer_loss == loss and scores["t_mc"].n_items == 2
    assert scores["grp"].aggregate.of == ["t_mc"] and scores["grp"].answer_loss is None
    chosen = to_scores(RES, {"t_mc": "acc_norm"}, {})
    assert chosen["t_mc"].metric == "acc_norm" and chosen["t_mc"].value == 0.75
    with pytest.raises(ConversionError, match="headline"):
        to_scores(RES, {"t_mc": "f1"}, {})


def test_derive_task_from_what_lm_eval_reported():
    samples = [mc_sample(0, [0, 0, 0, 0], 0)]
    task = derive_task("t_mc", RES, samples, Score(metric="acc", value=0.5))
    assert (task.id, task.metric, task.chance, task.n_items, task.output_type, task.parent) == (
        "t_mc", "acc", 0.25, 40, "multiple_choice", "grp")


def test_sample_logs_are_deterministic_and_round_trip(tmp_path):
    import numpy as np

    samples = {"b": [{"doc_id": 0, "resps": [[(np.float64(-1.5), False)]]}],
               "a": [{"doc_id": 1, "doc": {"x": "é"}, "arguments": [("c", " d")]}]}
    assert render(samples) == render(dict(reversed(list(samples.items()))))
    sha = write_samples(tmp_path / "x.jsonl.gz", samples)
    assert sha == write_samples(tmp_path / "y.jsonl.gz", samples)
    rows = read_samples(tmp_path / "x.jsonl.gz")
    assert [r["task"] for r in rows] == ["a", "b"]
    assert rows[1]["resps"] == [[[-1.5, False]]]
    assert not list(tmp_path.glob(".*.tmp"))


def test_packaged_suite_data_is_current_and_absolute(tmp_path):
    rows = tinydata.suite_rows()
    for key, items in rows.items():
        path = tinydata.data_dir() / f"{key}.jsonl"
        assert path.read_text() == tinydata.render_jsonl(items), f"regenerate {path}"
    tasks = packaged_tasks()
    assert sorted(tasks) == ["tiny_arith_gen", "tiny_colors_ll", "tiny_facts_mc"]
    for cfg in tasks.values():
        files = cfg["dataset_kwargs"]["data_files"]
        assert set(files) == {"test", "fewshot"} and cfg["fewshot_split"] == "fewshot"
        assert all(p.startswith("/") for p in files.values())
    assert set(packaged_registry()) == set(tasks)
    # the training corpus holds every fact the suite asks about
    corpus = set(tinydata.corpus_lines())
    assert all(f"{r['question']} {r['choices'][r['label']]}." in corpus
               for r in rows["facts_mc_test"])


def test_task_files_include_and_errors(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.jsonl").write_text('{"q": "x"}\n')
    (tmp_path / "base.yaml").write_text(
        "task: base\ndataset_path: json\ndataset_kwargs: {data_files: {test: data/t.jsonl}}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "v.yaml").write_text("include: ../base.yaml\ntask: variant\n")
    cfg = load_task_file(tmp_path / "sub" / "v.yaml")
    assert cfg["task"] == "variant"
    assert cfg["dataset_kwargs"]["data_files"]["test"] == str(tmp_path / "data" / "t.jsonl")
    (tmp_path / "fn.yaml").write_text("task: f\ncustom_dataset: !function utils.load\n")
    with pytest.raises(TaskFileError, match="task_dirs"):
        load_task_file(tmp_path / "fn.yaml")
    (tmp_path / "gone.yaml").write_text(
        "task: g\ndataset_kwargs: {data_files: {test: nope.jsonl}}\n")
    with pytest.raises(TaskFileError, match="data_files.test: no file"):
        load_task_file(tmp_path / "gone.yaml")


def test_tiny_training_is_deterministic(tmp_path):
    import torch

    from evalrunner.run import tiny

    lines = tinydata.corpus_lines()
    tok = tiny.train_tokenizer(lines)
    stream = tiny.token_stream(tok, lines, epochs=2)
    size = tiny.Size("t", hidden=16, layers=1, heads=2, ffn=32)
    a = tiny.train_size(size, tok, stream, tmp_path / "a", steps=(0, 3))
    b = tiny.train_size(size, tok, stream, tmp_path / "b", steps=(0, 3))
    from safetensors.torch import load_file

    wa, wb = load_file(a[-1] / "model.safetensors"), load_file(b[-1] / "model.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    w0 = load_file(a[0] / "model.safetensors")
    assert not all(torch.equal(wa[k], w0[k]) for k in wa)  # it did train
    assert (a[0] / "tokenizer.json").is_file()  # every checkpoint carries its tokenizer
