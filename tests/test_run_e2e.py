"""End to end: train the tiny family (once per session), run the example plan through lm-eval,
validate the results, and check they behave like a scaling family: accuracy and answer loss
improve with size and with training steps. About a minute and a half on 2 free cores."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SIZES = ["tiny-xs", "tiny-s", "tiny-m"]  # increasing N
LOSS_TASKS = ["tiny_facts_mc", "tiny_colors_ll"]
ZERO_SHOT = "densitometer-tiny-0shot"


@pytest.fixture(scope="module")
def results(tiny_results: Path) -> Path:
    """The session's tiny-family results (tests/tiny_family.py)."""
    return tiny_results


@pytest.fixture(scope="module")
def frames(results: Path):
    from evalrunner.results.load import load_frames

    return load_frames(results)


def test_results_validate(results):
    from evalrunner.results.validate import validate_tree

    report = validate_tree(results)
    assert report.ok, [str(p) for p in report.errors]
    assert report.tree.families["densitometer-tiny"].reference is True
    assert set(report.tree.settings) == {ZERO_SHOT, "densitometer-tiny-3shot"}


def _table(frames, task: str, column: str, setting: str = ZERO_SHOT):
    """model -> [value at step 0, 100, 200, 300]."""
    s = frames.scores
    rows = s[(s.task == task) & (s.setting == setting) & s.primary].sort_values("step")
    return {m: list(g[column]) for m, g in rows.groupby("model")}


@pytest.mark.parametrize("task", LOSS_TASKS)
def test_answer_loss_falls_with_steps_and_with_size(frames, task):
    loss = _table(frames, task, "answer_nll_token")
    for model in SIZES:
        curve = loss[model]
        assert len(curve) == 4 and curve[0] > 5  # step 0: about ln(512) per token
        assert all(b <= a + 0.02 for a, b in zip(curve, curve[1:], strict=False)), (model, curve)
        assert curve[-1] < curve[0] - 3, (model, curve)
    finals = [loss[m][-1] for m in SIZES]
    assert finals[0] > finals[1] > finals[2], finals


def test_accuracy_rises_with_steps_and_with_size(frames):
    acc = _table(frames, "tiny_facts_mc", "value")
    for model in SIZES:
        assert acc[model][-1] > acc[model][0], (model, acc[model])
    finals = [acc[m][-1] for m in SIZES]
    assert finals[0] <= finals[1] <= finals[2] and finals[2] > finals[0] + 0.3, finals
    sums = _table(frames, "tiny_arith_gen", "value")
    assert [sums[m][0] for m in SIZES] == [0, 0, 0]  # untrained models cannot add
    assert sums["tiny-m"][-1] > sums["tiny-xs"][-1] + 0.2


def test_frames_carry_sizes_and_tokens(frames):
    models = frames.models.set_index("model")
    n = [models.loc[m, "n_non_embedding"] for m in SIZES]
    assert n[0] < n[1] < n[2] and models.loc["tiny-m", "n_non_embedding_source"] == "config"
    s = frames.scores
    final = s[(s.model == "tiny-s") & s.final & (s.setting == ZERO_SHOT)]
    assert set(final.tokens) == {300 * 2048} and set(final.step) == {300}


def test_metrics_on_a_family_whose_history_we_control(frames):
    from evalrunner.metrics.compute import compute_all

    tables = compute_all(frames)
    assert "densitometer-tiny" in tables.references
    ckpt = tables.checkpoints
    series = ckpt[(ckpt.model == "tiny-m") & (ckpt.task == "tiny_facts_mc")
                  & (ckpt.setting == ZERO_SHOT)]
    assert len(series) == 1 and series.iloc[0]["c1_spearman"] > 0.9
