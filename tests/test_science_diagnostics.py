"""Continuous-metric diagnostics: per-item summaries of sample logs, the sha256
discipline of the item loader, per-item Spearman, and the diagnostics table's known answers."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from evalrunner.metrics import diagnostics, itemdata
from evalrunner.results import items
from evalrunner.results.samples import render, sample_path

MC = {"task": "mc", "doc_id": 0, "filter": "none", "target": 1, "acc": 1.0,
      "arguments": [["q", " a"], ["q", " b"], ["q", " c"]],
      "resps": [[[-2.0, False]], [[-0.5, True]], [[-3.0, False]]]}
LL = {"task": "ll", "doc_id": 3, "filter": "none", "target": " red", "acc": 1,
      "arguments": [["ctx", " red"]], "resps": [[[-0.25, True]]]}
GEN = {"task": "gen", "doc_id": 2, "filter": "first_number-all", "target": "7",
       "metrics": ["exact_match"], "exact_match": 0.375,
       "resps": [[" 7", " 7", " 1", " 7", " 3", " 2", " 9", " 5"]],
       "filtered_resps": [["7", "7", "1", "7", "3", "2", "9", "5"]]}


def test_summaries_of_each_output_type():
    mc = items.summarise(MC)
    lse = math.log(math.exp(-2.0) + math.exp(-0.5) + math.exp(-3.0))
    assert mc["output_type"] == "multiple_choice" and mc["gold"] == 1 and mc["n_choices"] == 3
    assert mc["ll_gold"] == -0.5 and mc["lse_choices"] == pytest.approx(lse, abs=1e-15)
    assert mc["correct"] == 1.0
    # in memory lm-eval keeps (ll, is_greedy) tuples and no acc field: argmax decides
    tup = items.summarise({**MC, "resps": [[(-2.0, False)], [(-0.5, True)], [(-3.0, False)]],
                           "acc": None})
    assert tup["ll_gold"] == -0.5 and tup["correct"] == 1.0
    ll = items.summarise(LL)
    assert ll["output_type"] == "loglikelihood" and ll["lse_choices"] == ll["ll_gold"] == -0.25
    gen = items.summarise(GEN)
    assert (gen["n_samples"], gen["n_correct"]) == (8, 3)
    greedy = items.summarise({**GEN, "filtered_resps": ["7"], "exact_match": 1.0})
    assert (greedy["n_samples"], greedy["n_correct"]) == (1, 1)
    assert items.summarise({**GEN, "exact_match": 0.3}) is None  # not a rate over 8 answers


def _write_log(samples_dir):
    """A two-line log (one MC item, one sampled generation item); returns (path, sha256)."""
    log = sample_path(samples_dir, "fam", "m", "s", "r")
    log.parent.mkdir(parents=True, exist_ok=True)
    blob = render({"mc": [MC], "gen": [GEN]})
    log.write_bytes(blob)
    return log, hashlib.sha256(blob).hexdigest()


def test_loader_uses_a_summary_only_for_its_own_log(tmp_path):
    log, sha = _write_log(tmp_path)
    result = itemdata.RunnerResult("fam", "m", "s", "r", sha)
    from_log = itemdata.load_items(tmp_path, [result])
    assert not from_log.missing and len(from_log.items) == 2
    # a summary of another log is ignored; the log itself is read
    items.items_path(log).write_bytes(items.render([items.summarise(LL)], "0" * 64))
    again = itemdata.load_items(tmp_path, [result])
    assert sorted(again.items["task"]) == ["gen", "mc"]
    # the summary of this log is used as is
    items.items_path(log).write_bytes(items.render([items.summarise(LL)], sha))
    assert list(itemdata.load_items(tmp_path, [result]).items["task"]) == ["ll"]


def test_loader_refuses_a_log_whose_hash_differs(tmp_path):
    _write_log(tmp_path)
    stale = itemdata.RunnerResult("fam", "m", "s", "r", "f" * 64)
    data = itemdata.load_items(tmp_path, [stale, itemdata.RunnerResult("fam", "m", "s", "x",
                                                                       "f" * 64)])
    assert data.items.empty
    assert "sha256 differs" in data.missing[0][1] and "no per-sample log" in data.missing[1][1]


def test_per_item_spearman_matches_scipy_and_marks_constant_items():
    rng = np.random.default_rng(0)
    x = np.array([1.0, 2.0, 2.0, 3.5, 5.0, 7.0])
    values = rng.normal(size=(6, 20))
    values[:, 3] = 4.2  # constant
    values[:, 5] = np.round(values[:, 5])  # ties
    rho = diagnostics.per_item_spearman(x, values)
    for j in range(20):
        if j == 3:
            assert np.isnan(rho[j])
        else:
            assert rho[j] == pytest.approx(spearmanr(x, values[:, j]).statistic, abs=1e-12)


def _family_items():
    """4 revisions of one model line (x = log10 6ND rising); 2 MC items with 2 choices.
    Item 0: p(gold) rises steadily, accuracy flips at the third point (0, 0, 1, 1).
    Item 1: p(gold) rises but never wins: accuracy constant 0."""
    rows, scores = [], []
    for i, tokens in enumerate([1e6, 2e6, 4e6, 8e6]):
        rev = f"r{i}"
        scores.append({"family": "fam", "kind": "base", "model": "m", "revision": rev,
                       "setting": "s", "task": "mc", "n_fit": 1e6, "tokens": tokens,
                       "final": i == 3})
        for doc, (gold, other) in enumerate([(-2.0 + 0.8 * i, -1.0), (-5.0 + 0.5 * i, -0.1)]):
            lse = math.log(math.exp(gold) + math.exp(other))
            rows.append({"family": "fam", "model": "m", "revision": rev, "setting": "s",
                         "task": "mc", "doc_id": doc, "filter": "none",
                         "output_type": "multiple_choice", "n_choices": 2, "gold": 0,
                         "ll_gold": gold, "lse_choices": lse,
                         "correct": float(gold > other), "n_samples": pd.NA,
                         "n_correct": pd.NA})
    return pd.DataFrame(rows), pd.DataFrame(scores)


def test_diagnostics_known_answer():
    item_rows, scores = _family_items()
    t = diagnostics.diagnostics_table(item_rows, scores)
    r = t.iloc[0]
    assert r["n_points"] == 4 and r["n_items"] == 2 and r["x_axis"] == "log10_compute"
    assert r["rho_logp"] == pytest.approx(1.0) and r["rho_pchoice"] == pytest.approx(1.0)
    flip = 2 / math.sqrt(5)  # Spearman of (1, 2, 3, 4) with (0, 0, 1, 1)
    assert r["rho_acc"] == pytest.approx(flip / 2)  # the constant item counts as 0
    assert r["acc_constant_share"] == 0.5
    assert r["lost"] == pytest.approx(1 - flip / 2)
    assert r["agg_rho_acc"] == pytest.approx(flip) and r["agg_rho_logp"] == pytest.approx(1.0)
    assert r["acc_largest"] == 0.5 and r["status"] == "ok"


def test_diagnostics_need_three_points():
    item_rows, scores = _family_items()
    keep = ["r2", "r3"]
    t = diagnostics.diagnostics_table(item_rows[item_rows["revision"].isin(keep)],
                                      scores[scores["revision"].isin(keep)])
    assert t.iloc[0]["status"] == "too_few_points"
