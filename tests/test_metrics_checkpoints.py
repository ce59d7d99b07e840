"""Checkpoint series C1-C5 and task aggregates T1-T6, known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalrunner.metrics import laws, task_aggregates
from evalrunner.metrics.checkpoints import series_metrics
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.synthetic import build_frames

CONFIG = MetricsConfig()


def test_checkpoint_series_known_values():
    tokens = np.array([0, 1e8, 1e9, 2e9, 4e9, 6e9, 8e9, 1e10])
    y = np.array([0.25, 0.26, 0.30, 0.40, 0.50, 0.48, 0.52, 0.51])
    out = series_metrics(tokens, y, np.full(8, 0.01), np.full(8, 1000.0), 7, 0.25, 1.0, CONFIG)
    # C1 window: tokens >= max(1% of 1e10, first non-zero 1e8) = 1e8 -> 7 checkpoints
    assert out["c1_n"] == 7
    from scipy.stats import spearmanr

    assert out["c1_spearman"] == pytest.approx(spearmanr(tokens[1:], y[1:]).statistic)
    last = y[-5:]
    assert out["c2_n"] == 5
    assert out["c2_std"] == pytest.approx(last.std(ddof=0))
    assert out["c2_rel_noise"] == pytest.approx(last.std(ddof=0) / last.mean())
    m = last.mean()
    assert out["c2_stderr"] == pytest.approx(np.sqrt(m * (1 - m) / 1000))
    slope = np.polyfit(np.log10(tokens[-5:]), last, 1)[0]
    assert out["c3_slope"] == pytest.approx(slope)
    assert out["c4_mean"] == pytest.approx(m) and out["c4_final"] == 0.51
    assert np.isnan(out["c5_ae_10"])  # only 1e8 and 1e9 lie within 10% of final tokens
    assert "C5 at 0.1" in out["reason"] and out["status"] == "partial"


def test_early_forecast_exact_on_a_power_law():
    tokens = np.geomspace(1e8, 1e11, 16)
    y = laws.p_pow(2.0, -0.15, np.log10(tokens), 0.25, 1.0)
    out = series_metrics(tokens, y, np.full(16, np.nan), np.full(16, np.nan), 15, 0.25, 1.0,
                         CONFIG)
    assert out["c5_ae_10"] < 1e-12 and out["c5_ae_30"] < 1e-12
    assert np.isnan(out["c2_stderr"])  # no stderr, no n_items
    assert out["status"] == "ok" and out["reason"] == "all defined"


def test_checkpoint_noise_needs_three_and_never_step_zero():
    tokens = np.array([0.0, 1e9, 2e9])
    out = series_metrics(tokens, np.array([0.2, 0.3, 0.4]), np.full(3, 0.01),
                         np.full(3, np.nan), 2, 0.25, 1.0, CONFIG)
    assert out["c2_n"] == 2 and np.isnan(out["c2_std"]) and "C2-C4 need 3" in out["reason"]


def test_checkpoint_table_only_series_with_two_revisions():
    scores, models = [], []
    for i, n in enumerate([1e8, 1e9]):
        models.append({"model": f"m{i}", "family": "f", "n_fit": n, "training_tokens": 1e10})
        scores.append({"family": "f", "model": f"m{i}", "task": "t", "value": 0.5 + 0.1 * i})
    for k in range(4):
        scores.append({"family": "f", "model": "m1", "task": "t", "value": 0.4 + 0.05 * k,
                       "revision": f"step{k}", "final": False, "tokens": 1e9 * (k + 1)})
    frames = build_frames(scores, models, [{"family": "f"}], [{"task": "t"}])
    table = compute_all(frames).checkpoints
    assert list(table["model"]) == ["m1"]
    assert table["n_checkpoints"].iloc[0] == 5
    assert table["final_tokens"].iloc[0] == 1e10  # the final revision inherits model tokens


def test_agreeing_pairs_counts_ties_as_the_page_says():
    a = np.array([1.0, 2.0, 3.0, 3.0])
    b = np.array([1.0, 3.0, 2.0, 2.0])
    # pairs: (0,1) agree, (0,2) agree, (0,3) agree, (1,2) disagree, (1,3) disagree,
    # (2,3) tied in both: agrees
    assert task_aggregates.agreeing_pairs(a, b) == (4, 6)
    # (2,3) tied in a only: disagrees; (1,3) now agrees
    assert task_aggregates.agreeing_pairs(a, np.array([1.0, 3.0, 2.0, 5.0])) == (4, 6)
    rng = np.random.default_rng(1)
    big_a = rng.integers(0, 50, 400).astype(float)
    big_b = big_a + rng.integers(0, 20, 400)
    same = np.sign(big_a[:, None] - big_a) == np.sign(big_b[:, None] - big_b)
    assert task_aggregates.agreeing_pairs(big_a, big_b) == ((same.sum() - 400) // 2,
                                                            400 * 399 // 2)


def _families(scales: dict[str, list[float]], tokens_per_param=20.0):
    scores, models = [], []
    for fam, values in scales.items():
        for i, y in enumerate(values):
            n = 1e8 * 10 ** i
            models.append({"model": f"{fam}-{i}", "family": fam, "n_fit": n,
                           "training_tokens": tokens_per_param * n})
            scores.append({"family": fam, "model": f"{fam}-{i}", "task": "t", "value": y,
                           "stderr": 0.005})
    return build_frames(scores, models, [{"family": f} for f in scales], [{"task": "t"}])


def test_task_aggregates_known_values():
    scales = {
        "a": [0.30, 0.40, 0.50, 0.60, 0.70],
        "b": [0.32, 0.42, 0.52, 0.62, 0.72],
        "c": [0.35, 0.41, 0.47, 0.55, 0.80],
        "z": [0.25, 0.251, 0.249, 0.25, 0.252],  # at chance: out of every aggregate
    }
    tables = compute_all(_families(scales))
    fam = tables.predictability_family_task.set_index("family")
    t = tables.tasks.iloc[0]
    assert t["n_families"] == 4 and t["n_eligible"] == 3
    assert t["t1_coverage"] == 3 and t["t1_fraction"] == 1.0
    ae = fam.loc[["a", "b", "c"], "llo_ae"]
    assert t["t2_ae_median"] == pytest.approx(ae.median())
    assert t["t2_ae_mean"] == pytest.approx(ae.mean())
    assert t["t3_n"] == 3 and t["t3_monotone"] == 1.0 and t["t3_inverse"] == 0.0
    # One model of each family per 0.5-decade bin (x steps by 2 decades): 10 bin pairs x 3
    # family pairs, counted by brute force here.
    assert t["t4_n_pairs"] == 30
    agree = sum(
        (scales[p][i] > scales[q][i]) == (scales[p][j] > scales[q][j])
        for i in range(5) for j in range(i + 1, 5) for p, q in (("a", "b"), ("a", "c"), ("b", "c"))
    )
    assert agree == 18  # (a, b) always agree; (a, c) and (b, c) flip between bins
    assert t["t4_decision_accuracy"] == pytest.approx(agree / 30)
    assert np.isnan(t["t6_peer_snr"])  # no checkpoints, no noise
    assert "T6 null" in t["reason"]


def test_rank_stability_and_peer_snr_from_bins():
    rows = [("a", 40, 0.3), ("a", 42, 0.5), ("b", 40, 0.4), ("b", 42, 0.6), ("c", 40, 0.5),
            ("c", 42, 0.4)]
    bins = task_aggregates._bin_matrix(pd.DataFrame(rows, columns=["fkey", "bin", "value"]))
    assert bins.shape == (3, 2)
    t4, pairs, t5, n5 = task_aggregates._decisions(bins)
    assert pairs == 3 and t4 == pytest.approx(1 / 3)
    # bin 40: c > b > a; bin 42: b > a > c -> tau = -1/3 between consecutive bins
    assert n5 == 1 and t5 == pytest.approx(-1 / 3)
    snr, n = task_aggregates._peer_snr(bins, rel_noise=0.02)
    expected = np.median([(0.5 - 0.3) / 0.4 / 0.02, (0.6 - 0.4) / 0.5 / 0.02])
    assert n == 2 and snr == pytest.approx(expected)
