"""Ladder predictions on synthetic ladders drawn from known constants: the floored loss law
and the link recovered, larger runs and targets predicted exactly on exact data and inside
their intervals on noisy data, projections never compared, poor step-2 fits flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalrunner.metrics import fit, ladder, laws, registry
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import prepare
from evalrunner.metrics.synthetic import build_frames

LAW = (60.0, 0.28, 900.0, 0.3, 0.35)  # a, alpha, b, beta, E
LINK = (0.6, -6.0, 0.9, 0.25)  # c, gamma, l, d: accuracy from 0.25 up to 0.85
SIZES = (2e8, 4e8, 8e8, 1.6e9)
BUDGETS = (10.0, 20.0, 50.0, 100.0)  # tokens per parameter
TARGETS = {"big-7b": (7e9, 4e12), "big-13b": (1.3e10, 5e12)}
CONFIG = MetricsConfig(ladder_bootstrap=30)


def loss_at(n, d):
    return laws.loss_law(n, d, *LAW[:4]) + LAW[4]


def frames(noise: float = 0.0, seed: int = 0, target_tasks=("t",), link=LINK):
    """Every (size, budget) run evaluated at 5 points of its budget (the last final); the
    targets of another family at their (N, D), scored on `target_tasks`."""
    rng = np.random.default_rng(seed)
    scores, models = [], []
    for n in SIZES:
        for k in BUDGETS:
            model = f"run-{int(n / 1e6)}m-{int(k)}"
            models.append({"model": model, "family": "lad", "n_fit": n, "n_non_embedding": n,
                           "training_tokens": k * n})
            for j, frac in enumerate((0.2, 0.4, 0.6, 0.8, 1.0)):
                loss = float(loss_at(n, frac * k * n)) * float(np.exp(noise *
                                                                       rng.standard_normal()))
                score = float(laws.link(loss, *link)) + noise * rng.standard_normal()
                scores.append({"family": "lad", "model": model, "revision": f"s{j}", "step": j,
                               "tokens": frac * k * n, "final": frac == 1.0, "task": "t",
                               "value": score, "stderr": 0.01, "answer_nll_token": loss})
    for model, (n, d) in TARGETS.items():
        models.append({"model": model, "family": "big", "n_fit": n, "n_non_embedding": n,
                       "training_tokens": d})
        for task in target_tasks:
            loss = float(loss_at(n, d))
            scores.append({"family": "big", "model": model, "tokens": d, "task": task,
                           "value": float(laws.link(loss, *link)), "stderr": 0.01,
                           "answer_nll_token": loss})
    return build_frames(scores, models, [{"family": "lad", "reference": True},
                                         {"family": "big"}], [{"task": "t"}, {"task": "u"}])


def table(fr, config=CONFIG):
    prep = prepare(fr, config)
    return ladder.ladder_table(prep.rows, prep.finals, ["lad"], config)


def test_the_floored_loss_law_recovers_its_constants():
    n = np.repeat(SIZES, len(BUDGETS))
    d = n * np.tile(BUDGETS, len(SIZES))
    got = fit.fit_loss_law_floor(n, d, loss_at(n, d))
    assert got.ok, got.reason
    for k, true in zip(fit.LOSS_LAW_E, LAW, strict=True):
        assert got[k] == pytest.approx(true, rel=1e-4), k


def test_exact_ladder_predicts_its_larger_runs_and_targets_exactly():
    out = table(frames())
    assert set(out["origin_n"]) == {8e8, 1.6e9}  # every size with 3 sizes at or below it
    first = out[out["origin_n"] == 8e8]
    # the 1.6B runs are held out at the first origin, the targets at both
    assert sorted(first["role"].unique()) == [ladder.LARGER, ladder.OTHER]
    assert (first["role"] == ladder.LARGER).sum() == len(BUDGETS)
    assert (out["label"] == ladder.PREDICTION).all() and (out["status"] == "ok").all()
    assert out["n_runs"].tolist() == [12] * len(first) + [16] * (len(out) - len(first))
    assert np.abs(out["err_chained"]).max() < 1e-3
    assert np.abs(out["err_true_loss"]).max() < 1e-6
    assert np.abs(out["loss_err"] / out["loss_true"]).max() < 1e-4
    last = out[out["origin_n"] == 1.6e9].iloc[0]
    for k, true in zip(("loss_a", "loss_alpha", "loss_b", "loss_beta", "loss_e"), LAW,
                       strict=True):
        assert last[k] == pytest.approx(true, rel=1e-3), k


def test_noisy_ladder_targets_fall_inside_their_intervals():
    out = table(frames(noise=0.01, seed=3))
    tgt = out[(out["role"] == ladder.OTHER) & (out["origin_n"] == 1.6e9)]
    assert len(tgt) == 2 and (tgt["chained_low"] < tgt["chained_high"]).all()
    truth = tgt["score_true"]
    assert ((tgt["chained_low"] <= truth) & (truth <= tgt["chained_high"])).all()
    assert ((tgt["loss_low"] <= tgt["loss_true"]) & (tgt["loss_true"] <= tgt["loss_high"])).all()


def test_a_target_without_the_score_is_a_projection_never_compared():
    out = table(frames(target_tasks=("u",)))  # the targets were never scored on t
    tgt = out[out["role"] == ladder.OTHER]
    assert len(tgt) == 4 and (tgt["label"] == ladder.PROJECTION).all()
    assert tgt["pred_chained"].notna().all()  # the forecast is made ...
    assert tgt[["err_chained", "err_true_loss", "score_true"]].isna().all().all()  # never scored
    assert "projection" in tgt["reason"].iloc[0]


def test_a_task_the_loss_does_not_drive_is_flagged():
    flat = (0.02, -6.0, 0.9, 0.49)  # scores within 2 points whatever the loss, plus noise
    out = table(frames(noise=0.02, seed=1, link=flat))
    assert (out["status"] == "poor_fit").all()
    assert "step 2 explains R^2" in out["reason"].iloc[0]


def test_a_family_with_one_budget_per_size_is_no_ladder():
    fr = frames()
    keep = ~fr.scores["model"].str.endswith(("-10", "-20", "-50"))  # one budget per size
    fr.scores.drop(fr.scores.index[~keep], inplace=True)
    assert table(fr).empty


def test_compute_all_publishes_the_ladder_table():
    tables = compute_all(frames(), CONFIG)
    assert len(tables.ladder) == len(table(frames()))
    assert set(ladder.COLUMNS) == set(tables.ladder.columns)
    for col in ladder.COLUMNS:  # every published number is declared, with its source
        if pd.api.types.is_numeric_dtype(tables.ladder[col]):
            spec = registry.lookup("ladder", col)
            assert spec.formula and spec.description, col


def test_a_target_without_a_token_count_says_so():
    fr = frames()
    big = fr.scores["model"] == "big-7b"
    fr.scores.loc[big, "tokens"] = np.nan
    fr.models.loc[fr.models["model"] == "big-7b", "training_tokens"] = np.nan
    out = table(fr)
    row = out[out["target"] == "big-7b"]
    assert len(row) and (row["status"] == "no_tokens").all()
    assert row["pred_chained"].isna().all() and "training tokens" in row["reason"].iloc[0]
    assert (out.loc[out["target"] == "big-13b", "status"] == "ok").all()


def test_a_grid_with_a_heldout_loss_only_predicts_every_task_from_one_step_1():
    """Gadre et al.'s grid recorded a held-out loss per run, no answer losses: every task is
    forecast from that one loss, so step 1 (and its interval) is the same for every task,
    while each task keeps its own link, recovered from exact data."""
    links = {"t": LINK, "u": (0.5, -4.0, 1.0, 0.5)}
    scores, models = [], []
    runs = [(f"run-{int(n / 1e6)}m-{int(k)}", "lad", n, k * n) for n in SIZES for k in BUDGETS]
    for model, family, n, d in runs + [(m, "big", n, d) for m, (n, d) in TARGETS.items()]:
        models.append({"model": model, "family": family, "n_fit": n, "n_non_embedding": n,
                       "training_tokens": d})
        loss = float(loss_at(n, d))
        for task, link in links.items():  # one final checkpoint per run, as the grid has
            scores.append({"family": family, "model": model, "tokens": d, "task": task,
                           "value": float(laws.link(loss, *link)), "stderr": 0.01,
                           "heldout_nll_token": loss})
    out = table(build_frames(scores, models, [{"family": "lad", "reference": True},
                                              {"family": "big"}],
                             [{"task": "t"}, {"task": "u"}]))
    assert set(out["task"]) == {"t", "u"} and (out["status"] == "ok").all()
    step1 = ["loss_a", "loss_alpha", "loss_b", "loss_beta", "loss_e", "loss_pred", "loss_low",
             "loss_high"]
    by_task = {t: g.set_index(["origin_n", "target"]).sort_index() for t, g in out.groupby("task")}
    pd.testing.assert_frame_equal(by_task["t"][step1], by_task["u"][step1])
    assert np.abs(out["err_true_loss"]).max() < 1e-3
    assert np.abs(out["loss_err"] / out["loss_true"]).max() < 1e-4
    last = out[(out["origin_n"] == 1.6e9) & (out["task"] == "u")].iloc[0]
    for k, true in zip(("link_c", "link_gamma", "link_l", "link_d"), links["u"], strict=True):
        assert last[k] == pytest.approx(true, rel=1e-2), k


def test_the_summary_scores_each_origin_on_its_compared_targets_only():
    n = np.nan
    rows = pd.DataFrame({
        "reference": ["lad"] * 4, "setting": ["s"] * 4, "task": ["t"] * 4,
        "origin_n": [1e9, 1e9, 1e9, 2e9], "n_runs": [12, 12, 12, 16],
        "target": ["a", "b", "c", "a"], "label": ["prediction", "prediction", "projection",
                                                   "prediction"],
        "score_true": [0.60, 0.50, n, 0.60], "chained_low": [0.55, 0.52, 0.1, 0.58],
        "chained_high": [0.65, 0.58, 0.2, 0.62], "err_chained": [0.02, 0.05, n, -0.01],
        "err_true_loss": [0.01, -0.03, n, 0.0], "loss_err": [0.1, -0.2, 0.3, 0.05],
        "loss_true": [2.0, 4.0, n, 2.0], "link_r2": [0.9, 0.9, 0.9, 0.95],
        "status": ["ok", "ok", "ok", "poor_fit"],
        "reason": ["fitted; compared", "fitted; compared", "fitted; projection",
                   "step 2 explains R^2 0.5; shown with its errors; compared"]})
    out = ladder.summary_table(rows).set_index("origin_n")
    first = out.loc[1e9]
    assert (first["n_predictions"], first["n_projections"]) == (2, 1)
    assert first["mae_chained"] == pytest.approx(0.035)
    assert first["mae_true_loss"] == pytest.approx(0.02)
    assert first["loss_mape"] == pytest.approx(0.05)  # the projection's loss has no truth
    assert first["coverage"] == 0.5  # b's 0.50 lies below its interval; c is never scored
    assert first["reason"] == "2 targets compared, 1 projected"
    assert out.loc[2e9, "status"] == "poor_fit"
    assert out.loc[2e9, "reason"] == "1 targets compared, 0 projected; step 2 explains R^2 0.5"
    assert list(ladder.summary_table(rows.iloc[:0]).columns) == ladder.SUMMARY_COLUMNS
