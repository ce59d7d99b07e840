"""Invariants of the whole metrics pass: row order does not matter; the registry covers every
published number; tables keep their stable columns."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalrunner.metrics import registry
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.synthetic import build_frames, reference_family

LINK = (0.7, -3.0, 1.5, 0.25)
LINK_L0 = (0.7, -1.0, 0.0, 0.25)


def rich_frames():
    """A reference family with checkpoints and losses, a second one without losses, and three
    target families with dates, checkpoints, an instruct model and a chance-level task."""
    sizes = np.geomspace(5e7, 5e9, 5)
    steps = [1000, 10000, 50000, 100000, 143000]
    scores, models = reference_family("ref", sizes, steps, (400.0, 0.34, 410.0, 0.28), LINK,
                                      tasks=("t1", "t2"), noise=0.003)
    # without losses the accuracy-only curve fixes l = 0: its data follow such a link
    s2, m2 = reference_family("ref2", sizes, steps, (300.0, 0.3, 500.0, 0.3), LINK_L0,
                              tasks=("t1", "t2"), with_loss=False, noise=0.003, seed=1)
    scores += s2
    models += m2
    rng = np.random.default_rng(5)
    for f in range(3):
        fam = f"fam{f}"
        for i in range(5):
            n = 1e8 * 3 ** i
            model = f"{fam}-{i}"
            models.append({"model": model, "family": fam, "n_fit": n,
                           "training_tokens": 100 * n,
                           "kind": "instruct" if (f == 2 and i == 4) else "base",
                           "release_date": pd.Timestamp(dt.date(2023, 1, 1)
                                                        + dt.timedelta(days=90 * f + 20 * i))})
            for task, base in (("t1", 0.45), ("t2", 0.3), ("tc", 0.25)):
                y = base + (0.06 * i + 0.02 * f if task != "tc" else 0.0) + rng.normal(0, .003)
                scores.append({"family": fam, "model": model, "task": task, "value": y,
                               "n_items": 1000.0})
                if i == 4:
                    for k, frac in enumerate((0.05, 0.2, 0.5, 0.7, 0.9)):
                        scores.append({"family": fam, "model": model, "task": task,
                                       "value": y - 0.1 * (1 - frac) + rng.normal(0, .003),
                                       "revision": f"ck{k}", "final": False,
                                       "tokens": frac * 100 * n, "n_items": 1000.0})
    families = [{"family": "ref", "reference": True}, {"family": "ref2", "reference": True}]
    families += [{"family": f"fam{f}"} for f in range(3)]
    tasks = [{"task": "t1"}, {"task": "t2"}, {"task": "tc", "chance": 0.25}]
    return build_frames(scores, models, families, tasks)


FRAMES = rich_frames()
EXPECTED = compute_all(FRAMES)


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_results_do_not_depend_on_row_order(seed):
    frames = type(FRAMES)(*(_shuffled(getattr(FRAMES, name), seed + k) for k, name in
                            enumerate(("scores", "models", "families", "tasks", "settings"))))
    got = compute_all(frames)
    for name, table in EXPECTED.tables().items():
        pd.testing.assert_frame_equal(got.tables()[name], table, check_exact=True, obj=name)


def test_the_rich_set_exercises_every_table():
    t = EXPECTED
    assert set(t.density_fits["method"]) == {"two-step", "accuracy-only fit"}
    assert (t.density_fits["status"] == "ok").all()
    assert set(t.density_models["reference"]) == {"ref", "ref2"}
    assert len(t.densing_law) == 2 and len(t.checkpoints) == 9 + 20
    assert "at_chance" in set(t.predictability_family_task["status"])
    assert t.predictability_family_task["snr"].notna().any()


STABLE = {
    "predictability_family_task": [
        "family", "setting", "task", "metric", "n", "span_decades", "spearman", "kendall",
        "n_sig_drops", "r2", "rmse", "llo_pred", "llo_actual", "llo_ae", "llo_re", "llo_ae_z",
        "naive_ae", "skill", "rolling_ae", "emergence_b", "emergent", "shape", "snr", "status",
        "reason"],
    "density": ["model", "setting", "reference", "task", "score", "n_hat", "density", "status",
                "reason"],
    "densing_law": ["setting", "reference", "A", "B", "r2", "doubling_days", "ci_low", "ci_high",
                    "n_models"],
    "checkpoints": ["model", "setting", "task", "metric"],
    "tasks": ["setting", "task", "metric"],
    "density_models": ["model", "setting", "reference", "density", "n_tasks", "tasks"],
}


def test_stable_columns_lead_every_table():
    for name, cols in STABLE.items():
        assert list(EXPECTED.tables()[name].columns[: len(cols)]) == cols, name


def test_every_status_and_reason_is_filled():
    for name, table in EXPECTED.tables().items():
        if "status" in table:
            assert table["status"].notna().all() and (table["status"] != "").all(), name
            assert table["reason"].notna().all() and (table["reason"] != "").all(), name


# Identifiers and inputs carried beside the derived numbers (not themselves published metrics)
CONTEXT = {"n_fit", "d0", "release_date", "final_tokens", "n_points", "n_models",
           "n_without_size", "x_min", "x_max", "fit_a", "fit_b", "delta", "llo_gap_decades",
           "shape_x_turn", "signal", "n_checkpoints", "c1_n", "c2_n", "c4_final", "n_families",
           "n_eligible", "t3_n", "t4_n_pairs", "t5_n_bin_pairs", "t6_n_bins",
           "n_families_no_compute", "n_records", "n_boot", "n_below_floor", "n_above_ceiling",
           "n_not_computed", "log_density_mean", "rmse", "loss_rmse_log", "low_dof",
           "default_reference", "a", "alpha", "b", "beta", "c", "gamma", "l", "d"}


def test_registry_covers_every_published_number():
    missing = []
    for name, table in EXPECTED.tables().items():
        for col in table.columns:
            numeric = pd.api.types.is_numeric_dtype(table[col]) and table[col].dtype != bool
            if numeric and col not in CONTEXT:
                try:
                    registry.lookup(name, col)
                except KeyError:
                    missing.append(f"{name}.{col}")
    assert not missing


def test_registry_dumps_as_json_with_all_fields():
    data = json.loads(registry.registry_json())
    assert data["metrics"] and data["decisions"]
    fields = {"name", "table", "column", "direction", "unit", "description", "formula",
              "citation"}
    for m in data["metrics"]:
        assert set(m) == fields and all(m[f] for f in fields), m
    assert len({(m["table"], m["column"]) for m in data["metrics"]}) == len(data["metrics"])
