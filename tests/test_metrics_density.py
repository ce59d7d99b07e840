"""Capacity density: round trip, reference = 1 at D0, monotonicity, ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import density, laws
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import prepare
from evalrunner.metrics.synthetic import build_frames, reference_family

LOSS_LAW = (400.0, 0.34, 410.0, 0.28)
LINK = (0.7, -3.0, 1.5, 0.25)
SIZES = np.geomspace(2e7, 1.2e10, 6)
STEPS = [1000, 3000, 13000, 43000, 143000]
D0 = 1e12
PARAMS = dict(zip(("a", "alpha", "b", "beta", "c", "gamma", "l", "d"), LOSS_LAW + LINK,
                  strict=True))


def _score_at(n: float, d: float = D0) -> float:
    return float(laws.link(laws.loss_law(n, d, *LOSS_LAW), *LINK))


def _frames(targets: dict[str, float], with_loss: bool = True, tasks=("task0",), extra_rows=(),
            extra_tasks=()):
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, LINK, tasks=tasks,
                                      with_loss=with_loss)
    for name, score in targets.items():
        models.append({"model": name, "family": "other", "n_fit": 1e9, "n_non_embedding": 1e9})
        for task in tasks:
            scores.append({"family": "other", "model": name, "task": task, "value": score})
    scores.extend(extra_rows)
    families = [{"family": "ref", "reference": True}, {"family": "other"}]
    task_rows = [{"task": t} for t in tasks] + list(extra_tasks)
    return build_frames(scores, models, families, task_rows)


@given(s=st.floats(0.2501, 0.9499))
@settings(max_examples=200, deadline=None)
def test_round_trip_score_to_size_and_back(s):
    p = {k: np.array([v]) for k, v in PARAMS.items()}
    loss_hat, n_hat, status = density.invert(np.array([s]), p, D0)
    if status[0] != "ok":
        assert status[0] == "above_ceiling"  # L^ below the data term at D0
        return
    back = laws.link(laws.loss_law(n_hat[0], D0, *LOSS_LAW), *LINK)
    assert abs(back - s) <= 1e-9 * s


def test_reference_model_trained_on_d0_has_density_one():
    n = 3.3e9
    p = {k: np.array([v]) for k, v in PARAMS.items()}
    _, n_hat, status = density.invert(np.array([_score_at(n)]), p, D0)
    assert status[0] == "ok"
    assert n_hat[0] / n == pytest.approx(1.0, rel=1e-9)


def test_density_one_through_the_whole_pipeline():
    # A target that is a reference-recipe model of 1e9 non-embedding parameters at D0.
    tables = compute_all(_frames({"twin": _score_at(1e9)}), MetricsConfig(d0=D0))
    fit_row = tables.density_fits.iloc[0]
    assert fit_row["method"] == "two-step" and fit_row["status"] == "ok"
    row = tables.density.set_index("model").loc["twin"]
    assert row["status"] == "ok"
    assert row["density"] == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(fit_row[list(PARAMS)].to_numpy(float), LOSS_LAW + LINK, rtol=1e-5)


@given(scores=st.lists(st.floats(0.26, 0.94), min_size=2, max_size=8, unique=True))
@settings(max_examples=100, deadline=None)
def test_density_rises_with_score_at_fixed_n(scores):
    s = np.sort(np.array(scores))
    p = {k: np.full(len(s), v) for k, v in PARAMS.items()}
    _, n_hat, status = density.invert(s, p, D0)
    ok = status == "ok"
    rho = n_hat[ok] / 1e9
    assert np.all(np.diff(rho) > 0)
    # any score past the first out-of-range one on the high side is out of range too
    if (~ok).any():
        assert np.all(status[np.argmax(~ok):] == "above_ceiling")


def test_out_of_range_scores_are_reported_not_clipped():
    c, d = LINK[0], LINK[3]
    frames = _frames({"floor": d - 0.01, "ceiling": c + d + 0.01, "past-data-term": 0.9499,
                      "fine": _score_at(5e8)})
    dens = compute_all(frames, MetricsConfig(d0=D0)).density.set_index("model")
    assert dens.loc["floor", "status"] == "below_floor"
    assert dens.loc["ceiling", "status"] == "above_ceiling"
    assert dens.loc["past-data-term", "status"] == "above_ceiling"
    for model in ("floor", "ceiling", "past-data-term"):
        assert np.isnan(dens.loc[model, "density"]) and np.isnan(dens.loc[model, "n_hat"])
        assert dens.loc[model, "reason"]
    assert dens.loc["fine", "density"] == pytest.approx(0.5, rel=1e-5)


def test_range_edges_are_out_of_range():
    c, d = LINK[0], LINK[3]
    p = {k: np.full(2, v) for k, v in PARAMS.items()}
    _, n_hat, status = density.invert(np.array([d, c + d]), p, D0)
    assert list(status) == ["below_floor", "above_ceiling"] and np.isnan(n_hat).all()


def test_accuracy_only_fit_when_the_reference_has_no_losses():
    link = (0.7, -2.0, 0.0, 0.25)  # l = 0: the composed curve holds exactly
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, link, with_loss=False)
    half = float(laws.link(laws.loss_law(5e8, D0, *LOSS_LAW), *link))
    models.append({"model": "half", "family": "other", "n_fit": 1e9})
    scores.append({"family": "other", "model": "half", "task": "task0", "value": half})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0))
    fit_row = tables.density_fits.iloc[0]
    assert fit_row["method"] == "accuracy-only fit"
    assert fit_row["l"] == 0.0 and fit_row["gamma"] == -1.0
    assert "accuracy-only" in fit_row["reason"]
    row = tables.density.set_index("model").loc["half"]
    assert row["method"] == "accuracy-only fit"
    assert row["density"] == pytest.approx(0.5, rel=1e-4)
    # identifiable combinations come back: gamma*a, gamma*b, the exponents, c and d
    fitted = fit_row[["a", "alpha", "b", "beta", "c", "d"]].to_numpy(float)
    np.testing.assert_allclose(fitted, [2 * LOSS_LAW[0], LOSS_LAW[1], 2 * LOSS_LAW[2],
                                        LOSS_LAW[3], 0.7, 0.25], rtol=1e-4)


def test_aggregate_is_geometric_mean_with_task_list():
    tasks = ("task0", "task1", "task2")
    scores = {"task0": _score_at(2e9), "task1": _score_at(5e8), "task2": LINK[3] - 0.05}
    frames = _frames({}, tasks=tasks)
    rows = [{"family": "other", "model": "m", "task": t, "value": v} for t, v in scores.items()]
    frames = _frames({}, tasks=tasks, extra_rows=rows)
    frames.models.loc[len(frames.models)] = frames.models.iloc[0]
    frames.models.loc[len(frames.models) - 1, ["model", "family", "n_fit"]] = ["m", "other", 1e9]
    tables = compute_all(frames, MetricsConfig(d0=D0))
    agg = tables.density_models.set_index("model").loc["m"]
    assert agg["n_tasks"] == 2 and agg["tasks"] == "task0;task1"
    assert agg["n_below_floor"] == 1
    # task2 is below the reference's floor: its density is only known to be below its bound,
    # so the mean over all three tasks is an upper bound, not a number
    per_task = tables.density.set_index(["model", "task"]).loc["m"]
    bound2 = per_task.loc["task2", "density_bound"]
    assert per_task.loc["task2", "bound"] == "<" and bound2 == pytest.approx(SIZES[0] / 3 / 1e9)
    assert np.isnan(agg["tasks_density"]) and agg["tasks_bound"] == "<"
    assert agg["tasks_density_bound"] == pytest.approx((2 * 0.5 * bound2) ** (1 / 3), rel=1e-5)
    assert agg["tasks_status"] == "upper_bound"
    # the two tasks in range alone give the exact number: sqrt(2 * 0.5)
    frames = _frames({}, tasks=tasks, extra_rows=[r for r in rows if r["task"] != "task2"])
    frames.models.loc[len(frames.models)] = frames.models.iloc[0]
    frames.models.loc[len(frames.models) - 1, ["model", "family", "n_fit"]] = ["m", "other", 1e9]
    agg = compute_all(frames, MetricsConfig(d0=D0)).density_models.set_index("model").loc["m"]
    assert agg["tasks_status"] == "ok" and agg["tasks_density"] == pytest.approx(1.0, rel=1e-5)
    # but without task2 it has no headline density: the setting's task set has all three
    assert agg["status"] == "not_measured" and np.isnan(agg["density"])
    assert "no score on 1 of the setting's 3 tasks (task2)" in agg["reason"]


def test_headline_density_is_one_fit_on_the_mean_over_the_task_set():
    """Three tasks on one law: their mean follows it too, so a target with a score worth 2e9
    parameters on each has headline density 2 (n_fit 1e9); one task higher moves the mean, not
    a geometric mean over whichever tasks are in range."""
    tasks = ("task0", "task1", "task2")
    frames = _frames({"even": _score_at(2e9)}, tasks=tasks)
    tables = compute_all(frames, MetricsConfig(d0=D0))
    mean_fit = tables.density_fits.set_index("task").loc["task set mean"]
    assert mean_fit["status"] == "ok" and mean_fit["metric"] == "mean"
    row = tables.density_models.set_index("model").loc["even"]
    assert row["status"] == "ok" and row["task_set"] == "task0;task1;task2"
    assert row["density"] == pytest.approx(2.0, rel=1e-4)
    assert row["n_hat"] == pytest.approx(2e9, rel=1e-4)
    assert row["tasks_density"] == pytest.approx(2.0, rel=1e-4)
    # the task set's mean is published as a fit, never as a task of a model
    assert "task set mean" not in set(tables.density["task"])

    lifted = [{"family": "other", "model": "lift", "task": t, "value": v} for t, v in
              (("task0", _score_at(2e9)), ("task1", _score_at(2e9)), ("task2", _score_at(8e9)))]
    frames = _frames({}, tasks=tasks, extra_rows=lifted)
    frames.models.loc[len(frames.models)] = frames.models.iloc[0]
    frames.models.loc[len(frames.models) - 1, ["model", "family", "n_fit"]] = ["lift", "other",
                                                                               1e9]
    row = compute_all(frames, MetricsConfig(d0=D0)).density_models.set_index("model").loc["lift"]
    mean = np.mean([_score_at(2e9), _score_at(2e9), _score_at(8e9)])
    p = {k: np.array([v]) for k, v in PARAMS.items()}
    _, n_hat, _ = density.invert(np.array([mean]), p, D0)
    assert row["density"] == pytest.approx(n_hat[0] / 1e9, rel=1e-4)
    assert row["tasks_density"] == pytest.approx((2 * 2 * 8) ** (1 / 3), rel=1e-4)


def test_only_capability_final_primary_rows_enter():
    bias = {"task": "crows", "category": "bias", "chance": 0.0}
    sub = {"task": "mmlu_x", "parent": "task0"}
    extra = [
        {"family": "other", "model": "t", "task": "crows", "value": 0.6},
        {"family": "other", "model": "t", "task": "mmlu_x", "value": 0.6},
        {"family": "other", "model": "t", "task": "task0", "value": 0.6, "metric": "acc_norm",
         "primary": False},
        {"family": "other", "model": "t", "task": "task0", "value": 0.1, "revision": "early",
         "final": False, "tokens": 1e9},
    ]
    frames = _frames({"t": _score_at(1e9)}, extra_rows=extra, extra_tasks=[bias, sub])
    dens = compute_all(frames, MetricsConfig(d0=D0)).density
    mine = dens.loc[dens["model"] == "t"]
    assert list(mine["task"]) == ["task0"]  # no bias task, no subtask of a scored parent
    assert mine["score"].iloc[0] == pytest.approx(_score_at(1e9))


def test_density_against_two_reference_families_with_a_default():
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, LINK)
    s2, m2 = reference_family("ref2", SIZES, STEPS, (300.0, 0.3, 500.0, 0.3), LINK)
    models += m2 + [{"model": "t", "family": "other", "n_fit": 1e9}]
    scores += s2 + [{"family": "other", "model": "t", "task": "task0", "value": 0.6}]
    families = [{"family": "ref", "reference": True}, {"family": "ref2", "reference": True},
                {"family": "other"}]
    frames = build_frames(scores, models, families, [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0, default_reference="ref2"))
    assert tables.references == ("ref", "ref2") and tables.default_reference == "ref2"
    agg = tables.density_models.loc[tables.density_models["model"] == "t"]
    assert list(agg["reference"]) == ["ref", "ref2"]
    assert list(agg["default_reference"]) == [False, True]
    assert agg["density"].notna().all() and agg["density"].iloc[0] != agg["density"].iloc[1]
    only = compute_all(frames, MetricsConfig(d0=D0, references=("ref",)))
    assert set(only.density["reference"]) == {"ref"} and only.default_reference == "ref"


def test_reference_needs_the_same_setting():
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, LINK, setting="five-shot")
    models.append({"model": "t", "family": "other", "n_fit": 1e9})
    scores.append({"family": "other", "model": "t", "task": "task0", "value": 0.6})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}],
                          settings=("zero-shot", "five-shot"))
    dens = compute_all(frames, MetricsConfig(d0=D0)).density
    assert "t" not in set(dens["model"])


def test_too_few_reference_points_is_reported():
    scores, models = reference_family("ref", SIZES[:2], [143000, 13000], LOSS_LAW, LINK)
    models.append({"model": "t", "family": "other", "n_fit": 1e9})
    scores.append({"family": "other", "model": "t", "task": "task0", "value": 0.6})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0))
    assert tables.density_fits["status"].iloc[0] == "fit_failed"
    row = tables.density.set_index("model").loc["t"]
    assert row["status"] == "reference_fit_failed" and "at least" in row["reason"]
    assert tables.density_models.set_index("model").loc["t", "status"] == "not_measured"


def test_reference_task_at_chance_is_rejected_with_its_reason():
    # scores at chance with noise: a flat fit would map scores to arbitrary sizes
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, (1e-6, -1.0, 0.0, 0.25),
                                      with_loss=False, noise=0.01, seed=2)
    models.append({"model": "t", "family": "other", "n_fit": 1e9})
    scores.append({"family": "other", "model": "t", "task": "task0", "value": 0.27})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0))
    fit_row = tables.density_fits.iloc[0]
    assert fit_row["status"] == "uninformative" and np.isnan(fit_row["a"])
    assert fit_row["n_informative"] < 4
    assert "clearly above chance (0.25)" in fit_row["reason"]
    assert "does not measure this task" in fit_row["reason"]
    row = tables.density.set_index("model").loc["t"]
    assert row["status"] == "reference_not_measured" and np.isnan(row["density"])
    assert "does not measure this task" in row["reason"] and row["bound"] == ""


def test_reference_with_one_token_count_is_read_off_at_its_own_data_size():
    """Final checkpoints only (one D for every size): b*D^(-beta) is one constant, so N^ is
    defined at that D and nowhere else. Density is read off there and the row says so."""
    d_ref = 143000 * 2_097_152
    scores, models = reference_family("ref", SIZES, [143000], LOSS_LAW, LINK)
    n_t = 7e8
    models.append({"model": "t", "family": "other", "n_fit": n_t})
    scores.append({"family": "other", "model": "t", "task": "task0",
                   "value": _score_at(n_t, d_ref)})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0))
    fit_row = tables.density_fits.iloc[0]
    assert fit_row["status"] == "ok" and fit_row["d0"] == d_ref
    assert "one token count in the reference" in fit_row["reason"]
    row = tables.density.set_index("model").loc["t"]
    assert row["status"] == "ok" and row["d0"] == d_ref
    assert row["density"] == pytest.approx(1.0, rel=1e-3)  # trained on D_ref, like the reference


def test_reference_with_tokens_proportional_to_size_is_not_identifiable():
    # 20 tokens per parameter at every size, final models only (the Cerebras-GPT recipe)
    scores, models = [], []
    for n in SIZES:
        models.append({"model": f"c{n:.0f}", "family": "ref", "n_fit": n})
        scores.append({"family": "ref", "model": f"c{n:.0f}", "task": "task0",
                       "tokens": 20 * n, "value": float(laws.link(
                           laws.loss_law(n, 20 * n, *LOSS_LAW), *LINK))})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True}],
                          [{"task": "task0"}])
    fit_row = compute_all(frames, MetricsConfig(d0=D0)).density_fits.iloc[0]
    assert fit_row["status"] == "fit_failed" and "cannot be separated" in fit_row["reason"]


def test_beyond_the_reference_range_is_a_bound_not_a_number():
    """A reference that covers only small sizes (2e7-2e8, 5 checkpoints each): targets whose true
    N^ is far beyond it get a lower bound at the largest size times the extrapolation factor;
    a target inside the range gets its true N^ back."""
    small = np.geomspace(2e7, 2e8, 4)
    scores, models = reference_family("ref", small, STEPS, LOSS_LAW, LINK)
    d_final = STEPS[-1] * 2_097_152
    truth = {"inside": 1e8, "far": 3e10, "tiny": 1e6}
    for name, n_true in truth.items():
        models.append({"model": name, "family": "other", "n_fit": 1e9})
        scores.append({"family": "other", "model": name, "task": "task0",
                       "value": float(laws.link(laws.loss_law(n_true, D0, *LOSS_LAW), *LINK))})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    config = MetricsConfig(d0=D0, extrapolation_factor=3.0)
    tables = compute_all(frames, config)
    fit_row = tables.density_fits.iloc[0]
    assert fit_row["status"] == "ok", fit_row["reason"]
    assert fit_row["n_hi"] == pytest.approx(3 * small[-1]) and d_final < D0
    rows = tables.density.set_index("model")
    assert rows.loc["inside", "status"] == "ok" and rows.loc["inside", "bound"] == ""
    assert rows.loc["inside", "n_hat"] == pytest.approx(1e8, rel=1e-3)
    far = rows.loc["far"]
    assert far["status"] == "above_range" and far["bound"] == ">"
    assert np.isnan(far["density"]) and np.isnan(far["n_hat"])
    assert far["n_hat_bound"] == pytest.approx(3 * small[-1])
    assert far["density_bound"] == pytest.approx(3 * small[-1] / 1e9)
    assert "lower bound" in far["reason"]
    tiny = rows.loc["tiny"]
    assert tiny["status"] == "below_range" and tiny["bound"] == "<"
    assert tiny["n_hat_bound"] == pytest.approx(small[0] / 3)
    # a wider factor takes the far target in (and gives its true size back)
    wide = compute_all(frames, MetricsConfig(d0=D0, extrapolation_factor=1000.0))
    assert wide.density.set_index("model").loc["far", "n_hat"] == pytest.approx(3e10, rel=1e-3)


def test_a_plateau_above_one_is_not_fitted():
    """Accuracies that have not reached their plateau: the ceiling stays possible (c + d <= 1)
    instead of drifting above 1."""
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, (0.7, -1.0, 0.0, 0.25),
                                      with_loss=False)
    frames = build_frames(scores, models, [{"family": "ref", "reference": True}],
                          [{"task": "task0"}])
    fit_row = compute_all(frames, MetricsConfig(d0=D0)).density_fits.iloc[0]
    assert fit_row["c"] + fit_row["d"] <= 1.0 + 1e-12


MID_LINK = (0.7, -3.0, 0.8, 0.25)  # scores mid-way between chance and ceiling at these sizes


def _covered(seed: int) -> bool:
    """One seeded draw: a noisy reference family and a target of known size inside its range,
    its score drawn around the law's with the stderr it reports."""
    rng = np.random.default_rng(1000 + seed)
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, MID_LINK, noise=0.01,
                                      seed=seed)
    n_true = float(10 ** rng.uniform(8.0, 9.5))
    score = float(laws.link(laws.loss_law(n_true, D0, *LOSS_LAW), *MID_LINK))
    models.append({"model": "t", "family": "other", "n_fit": 1e9, "n_non_embedding": 1e9})
    scores.append({"family": "other", "model": "t", "task": "task0", "stderr": 0.01,
                   "value": score + 0.01 * rng.standard_normal()})
    frames = build_frames(scores, models, [{"family": "ref", "reference": True},
                                           {"family": "other"}], [{"task": "task0"}])
    config = MetricsConfig(d0=D0)
    prep = prepare(frames, config)
    fits = density.reference_fits(density.density_rows(prep.rows, ["ref"]), ["ref"], config)
    row = density.density_table(prep.finals, fits, config).set_index("model").loc["t"]
    return row["status"] == "ok" and row["density_low"] <= n_true / 1e9 <= row["density_high"]


def test_interval_covers_the_true_density_in_95_percent_of_seeded_draws():
    """Reference refits on resampled models crossed with the target's own score error: the
    95% interval holds the true N^/N in at least 95% of draws (and the density is a number in
    every one of them: the targets are inside the range)."""
    hits = sum(_covered(seed) for seed in range(100))
    assert hits >= 95, f"{hits} of 100"


def test_headline_has_an_interval_inside_the_range_and_tie_ranks():
    # each model has 1e9 parameters; scores near this link's ceiling move little with N, so
    # the stderr is small enough to tell 1e9 from 8e9 and not 1e9 from 1.02e9
    sizes = {"a": 1e9, "b": 1.02e9, "c": 8e9}
    rows = [{"family": "other", "model": m, "task": t, "value": _score_at(n), "stderr": 0.001}
            for m, n in sizes.items() for t in ("task0", "task1")]
    frames = _frames({}, tasks=("task0", "task1"), extra_rows=rows)
    for m in sizes:
        frames.models.loc[len(frames.models)] = frames.models.iloc[0]
        frames.models.loc[len(frames.models) - 1, ["model", "family", "n_fit"]] = [m, "other",
                                                                                   1e9]
    table = compute_all(frames, MetricsConfig(d0=D0)).density_models.set_index("model")
    for m in "abc":
        row = table.loc[m]
        assert row["density_low"] <= row["density"] <= row["density_high"]
        assert row["density_low"] >= SIZES[0] / 3 / 1e9
        assert row["density_high"] <= SIZES[-1] * 3 / 1e9
    # a and b are within each other's interval: one tie group, below c
    assert table.loc["a", "density_rank"] == table.loc["b", "density_rank"]
    assert table.loc["c", "density_rank"] == 1 and table.loc["a", "density_rank"] == 2


def test_default_reference_per_setting_is_the_one_measuring_most_models():
    """ref2 measures only its small models' range (its sizes stop at 3e8), so targets of 1e9
    to 3e9 parameters are above its widened range: ref, which measures them, leads, whatever
    the configured default."""
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, LINK)
    s2, m2 = reference_family("ref2", SIZES[:3], STEPS, LOSS_LAW, LINK)
    models += m2
    scores += s2
    for name, n in (("t1", 1e9), ("t2", 3e9)):
        models.append({"model": name, "family": "other", "n_fit": 1e9})
        scores.append({"family": "other", "model": name, "task": "task0",
                       "value": _score_at(n), "stderr": 0.005})
    families = [{"family": "ref", "reference": True}, {"family": "ref2", "reference": True},
                {"family": "other"}]
    frames = build_frames(scores, models, families, [{"task": "task0"}])
    tables = compute_all(frames, MetricsConfig(d0=D0, default_reference="ref2"))
    dm = tables.density_models
    share = dm.groupby("reference")["reference_share"].first()
    assert share["ref"] > share["ref2"]
    assert set(dm.loc[dm["default_reference"], "reference"]) == {"ref"}
    targets = dm[dm["model"].isin(["t1", "t2"]) & (dm["reference"] == "ref2")]
    assert targets["density"].isna().all() and (targets["bound"] == ">").all()
    law = tables.densing_law
    assert list(law.loc[law["default_reference"], "reference"]) == ["ref"]


def _ladder(bump: float):
    """A synthetic ladder: 4 sizes x 3 token budgets, each run evaluated at 5 points of its
    budget; final checkpoints lie on the loss law, earlier ones `bump` above it (their learning
    rate has not decayed yet), and every score follows the link from its own loss."""
    scores, models = [], []
    for n in SIZES[:4]:
        for k, budget in enumerate((20.0, 60.0, 200.0)):
            model = f"run-{int(n)}-{k}"
            d_final = budget * n
            models.append({"model": model, "family": "ladder", "n_fit": float(n),
                           "n_non_embedding": float(n), "training_tokens": d_final})
            for j, frac in enumerate((0.1, 0.25, 0.5, 0.75, 1.0)):
                loss = float(laws.loss_law(n, frac * d_final, *LOSS_LAW)) * (
                    1 + bump * (1 - frac))
                scores.append({"family": "ladder", "model": model, "revision": f"step{j}",
                               "step": j, "tokens": frac * d_final, "final": frac == 1.0,
                               "task": "task0", "value": float(laws.link(loss, *LINK)),
                               "stderr": 0.01, "answer_nll_token": loss})
    return build_frames(scores, models, [{"family": "ladder", "reference": True}],
                        [{"task": "task0"}])


def test_a_ladder_fits_its_loss_law_on_the_final_checkpoints():
    """Where the finals alone vary N and D, the law comes from them: checkpoints above the law
    mid-schedule do not bias it (all checkpoints would)."""
    frames = _ladder(bump=0.15)
    fits = compute_all(frames, MetricsConfig(d0=D0)).density_fits
    assert len(fits) == 2  # the task and the headline's mean over the task set
    for reason in fits["reason"]:  # the mean's rows keep which revision is final
        assert "loss law on the 12 final checkpoints, the link on all 60" in reason
    fit_row = fits.set_index("task").loc["task0"]
    assert fit_row["status"] == "ok", fit_row["reason"]
    for k, true in zip(("a", "alpha", "b", "beta"), LOSS_LAW, strict=True):
        assert fit_row[k] == pytest.approx(true, rel=1e-3), k
    rows = prepare(frames, MetricsConfig()).rows
    every = density.fit.fit_loss_law(rows["n_fit"].to_numpy(float), rows["tokens"].to_numpy(float),
                                     rows["answer_nll_token"].to_numpy(float))
    assert abs(every["b"] / LOSS_LAW[2] - 1) > 0.2  # what the finals-only fit avoids


def test_intervals_from_the_store_equal_fresh_ones_and_a_bad_entry_is_drawn_again(tmp_path,
                                                                                monkeypatch):
    from evalrunner.memo import Memo

    targets = {"t1": _score_at(1e9), "t2": _score_at(2e9), "t3": _score_at(4e9)}
    frames = _frames(targets, tasks=("task0", "task1"))
    frames.scores["stderr"] = 0.002
    config = MetricsConfig(d0=D0)
    prep = prepare(frames, config)
    fits = density.reference_fits(density.density_rows(prep.rows, ["ref"]), ["ref"], config)
    fresh = density.density_table(prep.finals, fits, config)
    assert fresh["density_low"].notna().sum() >= 6
    memo = Memo(tmp_path)
    drawn: list[int] = []
    real = density._draws
    monkeypatch.setattr(density, "_draws", lambda t, *a: drawn.append(len(t)) or real(t, *a))

    def table():
        drawn.clear()
        return density.density_table(prep.finals, fits, config, memo)

    pd.testing.assert_frame_equal(table(), fresh)  # filling: every model's rows, one pass
    assert len(drawn) == 1
    pd.testing.assert_frame_equal(table(), fresh)
    assert drawn == []  # all from the store
    entries = sorted((tmp_path / "memo" / density.INTERVAL_KIND).rglob("*.json"))
    assert len(entries) == len(fresh["model"].unique())
    for bad in ("[[0.5], [2.0]]", '[[1, 2], "x"]', "{torn", "[[NaN, NaN, NaN, NaN]]"):
        entries[0].write_text(bad)
        pd.testing.assert_frame_equal(table(), fresh)
        assert len(drawn) == 1  # that model again, alone
    # one target's score moves: only its model is drawn again, the rest stay
    moved = prep.finals.assign(value=prep.finals["value"].where(
        prep.finals["model"] != "t2", prep.finals["value"] + 0.01))
    uncached = density.density_table(moved, fits, config)
    drawn.clear()
    again = density.density_table(moved, fits, config, memo)
    pd.testing.assert_frame_equal(again, uncached)
    assert drawn == [int(((again["model"] == "t2") & (again["status"] == "ok")).sum())] != [0]
