"""Scaling predictability per (family, task): F0-F8 and every edge-case rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import laws, predictability
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import prepare
from evalrunner.metrics.synthetic import build_frames

CONFIG = MetricsConfig()


def frames_for(values, chance=0.25, stderr=0.01, tokens=True, direction="higher",
               sizes=None, family="f", extra=(), setting="zero-shot", source=None):
    sizes = sizes if sizes is not None else [1e8 * 10 ** (i / 2) for i in range(len(values))]
    scores, models = [], []
    for i, (n, y) in enumerate(zip(sizes, values, strict=True)):
        model = f"{family}-{i}"
        models.append({"model": model, "family": family, "n_fit": n,
                       "training_tokens": 20 * n if tokens else np.nan})
        row = {"family": family, "model": model, "task": "t", "value": y, "stderr": stderr,
               "setting": setting}
        if source:
            row["source"] = source
        scores.append(row)
    scores.extend(extra)
    return build_frames(scores, models, [{"family": family}],
                        [{"task": "t", "chance": chance, "direction": direction}],
                        settings=("zero-shot", "five-shot"))


def family_only(frames):
    """F0-F7 without the rest of the pass (fast enough for property tests)."""
    prep = prepare(frames, CONFIG)
    table = predictability.family_table(predictability.family_points(prep.finals, CONFIG), CONFIG)
    assert len(table) == 1
    return table.iloc[0]


def row_of(frames, **kw):
    table = compute_all(frames, MetricsConfig(**kw)).predictability_family_task
    assert len(table) == 1
    return table.iloc[0]


# ---- 2.5 edge cases ----------------------------------------------------------------------


def test_one_point_is_score_only():
    r = row_of(frames_for([0.5]))
    assert r["status"] == "score_only" and r["n"] == 1 and "score only" in r["reason"]
    assert np.isnan(r["spearman"]) and np.isnan(r["r2"]) and np.isnan(r["delta"])


def test_two_points_give_delta_and_sign_only():
    r = row_of(frames_for([0.5, 0.6]))
    assert r["status"] == "delta_only" and r["delta"] == pytest.approx(0.1)
    assert np.isnan(r["spearman"]) and np.isnan(r["r2"]) and r["shape"] is None


def test_three_points_low_dof_no_f3_to_f6():
    r = row_of(frames_for([0.4, 0.5, 0.6]))
    assert r["status"] == "low_dof" and bool(r["low_dof"])
    assert r["spearman"] == pytest.approx(1.0) and np.isfinite(r["r2"])
    assert r["shape"] == "positive"
    for col in ("llo_ae", "llo_re", "skill", "rolling_ae", "emergence_b"):
        assert np.isnan(r[col]), col
    assert "F3-F6 need n >= 4" in r["reason"]


def test_all_points_at_chance_no_fit_and_no_aggregates():
    frames = frames_for([0.25, 0.252, 0.249, 0.251, 0.25])
    tables = compute_all(frames)
    r = tables.predictability_family_task.iloc[0]
    assert r["status"] == "at_chance" and "no fit" in r["reason"]
    for col in ("r2", "rmse", "llo_ae", "skill", "rolling_ae"):
        assert np.isnan(r[col]), col
    t = tables.tasks.iloc[0]
    assert t["n_families"] == 1 and t["n_eligible"] == 0 and t["status"] == "at_chance"


def test_saturated_target_keeps_ae_drops_re_and_skill():
    r = row_of(frames_for([0.5, 0.7, 0.85, 0.93, 0.995], stderr=0.002))
    assert r["status"] == "target_saturated" and r["target_status"] == "saturated"
    assert np.isfinite(r["llo_ae"])
    assert np.isnan(r["llo_re"]) and np.isnan(r["skill"])
    assert "RE and skill suppressed" in r["reason"]


def test_below_chance_target_flagged_and_out_of_t2():
    frames = frames_for([0.3, 0.4, 0.5, 0.6, 0.1])
    tables = compute_all(frames)
    r = tables.predictability_family_task.iloc[0]
    assert r["status"] == "target_below_chance" and "below chance" in r["reason"]
    t = tables.tasks.iloc[0]
    assert t["t1_coverage"] == 0 and np.isnan(t["t2_ae_median"])


def test_constant_y_has_null_rho_and_r2():
    r = row_of(frames_for([0.6, 0.6, 0.6, 0.6, 0.6]))
    assert np.isnan(r["spearman"]) and np.isnan(r["kendall"]) and np.isnan(r["r2"])
    assert "constant y" in r["reason"] and r["shape"] == "flat"


def test_failed_fit_is_reported_with_nulls():
    # a loss of exactly 0 has no log: the log-log law cannot be fitted
    r = row_of(frames_for([3.0, 0.0, 1.5, 1.0], direction="lower", stderr=np.nan, chance=0.0))
    assert r["status"] == "fit_failed" and "non-positive loss" in r["reason"]
    assert np.isnan(r["r2"]) and np.isnan(r["llo_ae"]) and r["law"] == "log_line"


def test_non_finite_prediction_is_a_failed_fit():
    # errors growing as exp(2x): the leave-largest-out prediction at x = 400 overflows
    x = np.array([[0.0, 1.0, 2.0, 400.0]])
    y = np.array([[0.0, 1.0 - np.e ** 2, 1.0 - np.e ** 4, 0.5]])
    bucket = {"x": x, "y": y, "s": np.full_like(x, 0.01), "zs": np.full_like(x, 0.02),
              "y_norm": y, "ps": np.array([["ok"] * 4], dtype=object),
              "chance": np.array([0.0]), "ceiling": np.array([1.0]),
              "higher": np.array([True])}
    out = predictability.bucket_metrics(bucket, CONFIG)
    assert out["status"][0] == "fit_failed" and "non-finite" in out["reason"][0]
    assert np.isnan(out["llo_ae"][0]) and np.isnan(out["skill"][0])


def test_mixed_settings_and_sources_are_never_fitted_together():
    extra = [{"family": "f", "model": f"f-{i}", "task": "t", "value": v, "setting": "five-shot"}
             for i, v in enumerate([0.3, 0.4, 0.5, 0.6])]
    extra += [{"family": "f", "model": f"f-{i}", "task": "t", "value": v, "source": "runner"}
              for i, v in enumerate([0.35, 0.45])]
    table = compute_all(frames_for([0.4, 0.5, 0.6, 0.7], extra=extra)).predictability_family_task
    got = sorted(zip(table["setting"], table["source"], table["n"], strict=True))
    synthetic = "import:example/synthetic"
    assert got == [("five-shot", synthetic, 4), ("zero-shot", synthetic, 4),
                   ("zero-shot", "runner", 2)]


def test_base_and_instruct_are_separate_families():
    frames = frames_for([0.3, 0.4, 0.5, 0.6])
    frames.models.loc[frames.models["model"].isin(["f-2", "f-3"]), "kind"] = "instruct"
    table = compute_all(frames).predictability_family_task
    assert sorted(zip(table["kind"], table["n"], strict=True)) == [("base", 2), ("instruct", 2)]


# ---- known answers -----------------------------------------------------------------------


def test_axis_is_compute_when_tokens_known_else_params():
    r = row_of(frames_for([0.4, 0.5, 0.6, 0.7]))
    assert r["x_axis"] == "log10_compute"
    assert r["x_min"] == pytest.approx(np.log10(6 * 1e8 * 20 * 1e8))
    r = row_of(frames_for([0.4, 0.5, 0.6, 0.7], tokens=False))
    assert r["x_axis"] == "log10_params" and r["x_min"] == pytest.approx(8.0)
    assert r["span_decades"] == pytest.approx(1.5)


def test_monotonicity_and_drops():
    r = row_of(frames_for([0.40, 0.50, 0.45, 0.70, 0.65], stderr=0.01))
    assert r["spearman"] == pytest.approx(0.8)
    assert r["kendall"] == pytest.approx(0.6)
    assert r["n_sig_drops"] == 2  # 0.50 -> 0.45 and 0.70 -> 0.65 exceed 2*sqrt(2)*0.01


@pytest.mark.parametrize("values,shape", [
    ([0.8, 0.7, 0.6, 0.5], "inverse"),
    ([0.7, 0.4, 0.45, 0.7], "u_shaped"),
    ([0.4, 0.7, 0.72, 0.4], "inverted_u"),
    ([0.5, 0.51, 0.5, 0.505], "flat"),
    ([0.4, 0.5, 0.6, 0.7], "positive"),
])
def test_shapes(values, shape):
    assert row_of(frames_for(values))["shape"] == shape


def test_emergence():
    r = row_of(frames_for([0.25, 0.251, 0.25, 0.252, 0.25, 0.70], stderr=0.005))
    assert r["emergence_b"] == pytest.approx(
        (0.70 - 0.25) / np.sqrt(np.median(np.diff([0.25, 0.251, 0.25, 0.252, 0.25, 0.7]) ** 2))
        / 5)
    assert bool(r["emergent"])
    smooth = row_of(frames_for([0.3, 0.4, 0.5, 0.6, 0.7]))
    assert not bool(smooth["emergent"])


def test_leave_largest_out_and_skill_known_values():
    chance, a, b = 0.25, 3.0, -0.2
    sizes = [1e8 * 10 ** (i / 2) for i in range(5)]
    x = np.log10([6 * n * 20 * n for n in sizes])
    y = laws.p_pow(a, b, x, chance, 1.0)
    y_obs = y.copy()
    y_obs[-1] += 0.02  # the largest model beats the law by 2 points
    r = row_of(frames_for(list(y_obs), sizes=sizes))
    assert r["llo_pred"] == pytest.approx(y[-1], abs=1e-12)
    assert r["llo_ae"] == pytest.approx(0.02, abs=1e-12)
    assert r["llo_re"] == pytest.approx(0.02 / y_obs[-1])
    assert r["llo_ae_z"] == pytest.approx(2.0)
    assert r["naive_ae"] == pytest.approx(y_obs[-1] - y[-2])
    assert r["skill"] == pytest.approx(1 - 0.02 / (y_obs[-1] - y[-2]))
    assert r["llo_gap_decades"] == pytest.approx(x[-1] - x[-2])


def test_duplicated_x_points_are_averaged():
    frames = frames_for([0.4, 0.5, 0.6, 0.7], sizes=[1e8, 1e9, 1e9, 1e10])
    r = row_of(frames)
    assert r["n"] == 3 and r["n_models"] == 4


def test_snr_uses_largest_model_checkpoints():
    extra = [{"family": "f", "model": "f-3", "task": "t", "value": v, "revision": f"s{k}",
              "final": False, "tokens": 1e9 * (k + 1), "stderr": 0.01}
             for k, v in enumerate([0.60, 0.62, 0.58, 0.61, 0.59])]
    values = [0.4, 0.5, 0.6, 0.7]
    tables = compute_all(frames_for(values, extra=extra))
    r = tables.predictability_family_task.iloc[0]
    ck = tables.checkpoints.set_index("model").loc["f-3"]
    signal = (0.7 - 0.4) / np.mean(values)
    assert r["snr"] == pytest.approx(signal / ck["c2_rel_noise"])


@settings(max_examples=20, deadline=None)
@given(e_first=st.floats(0.3, 0.95), shrink=st.floats(0.02, 0.9), n=st.integers(5, 9),
       chance=st.sampled_from([0.0, 0.25, 0.5]))
def test_noiseless_power_laws_are_predicted_exactly(e_first, shrink, n, chance):
    # P_pow through normalised errors e_first (smallest model) and e_first*shrink (largest)
    sizes = [1e8 * 10 ** (i / 3) for i in range(n)]
    x = np.log10([6 * s * 20 * s for s in sizes])
    b = np.log(shrink) / (x[-1] - x[0])
    a = np.log(e_first) - b * x[0]
    y = laws.p_pow(a, b, x, chance, 1.0)
    r = family_only(frames_for(list(y), chance=chance, sizes=sizes, stderr=1e-4))
    assert r["llo_ae"] < 1e-9 and r["rolling_ae"] < 1e-9
    if np.ptp(y) > 1e-9:
        assert r["r2"] == pytest.approx(1.0, abs=1e-9)
