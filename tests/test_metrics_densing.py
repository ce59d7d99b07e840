"""The densing law: slope, doubling time, records and bootstrap interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalrunner.metrics import densing
from evalrunner.metrics.config import MetricsConfig

CONFIG = MetricsConfig()


def test_known_doubling_times():
    assert densing.doubling_days(0.0073) == pytest.approx(94.95, abs=0.005)
    assert densing.doubling_days(0.007) == pytest.approx(99.02, abs=0.005)
    assert np.isnan(densing.doubling_days(0.0)) and np.isnan(densing.doubling_days(-0.01))


def test_records_are_running_maxima():
    rho = np.array([1.0, 0.5, 2.0, 2.0, 1.5, 3.0])
    assert list(densing.records(np.arange(6.0), rho)) == [True, False, True, False, False, True]


def test_slope_recovered_from_records_only():
    t = np.arange(0.0, 720.0, 30.0)
    rho = np.exp(0.0073 * t - 1.0)
    # models that set no record (below the running maximum) must not move the line
    t_all = np.r_[t, t[1:] + 5.0]
    rho_all = np.r_[rho, rho[:-1] * 0.3]
    res = densing.fit_densing(t_all, rho_all, CONFIG)
    assert res.A == pytest.approx(0.0073, rel=1e-9)
    assert res.B == pytest.approx(-1.0, rel=1e-9)
    assert res.r2 == pytest.approx(1.0)
    assert res.doubling_days == pytest.approx(94.95, abs=0.005)
    assert res.n_records == len(t) and res.n_models == len(t_all)
    # a draw that misses a record holder lets a lesser model set a record: the interval widens
    assert res.ci_low <= res.A <= res.ci_high
    clean = densing.fit_densing(t, rho, CONFIG)
    assert clean.ci_low == pytest.approx(0.0073, rel=1e-6)
    assert clean.ci_high == pytest.approx(0.0073, rel=1e-6)


def test_bootstrap_interval_covers_slope_and_is_reproducible():
    rng = np.random.default_rng(3)
    t = rng.uniform(-100, 700, 150)
    rho = np.exp(0.007 * t + rng.normal(0, 0.4, t.size))
    a = densing.fit_densing(t, rho, CONFIG)
    b = densing.fit_densing(t[::-1], rho[::-1], CONFIG)  # input order does not matter
    assert a == b
    assert a.ci_low < a.A < a.ci_high
    assert a.n_boot > 900
    assert a.status == "ok"


def test_too_few_records():
    res = densing.fit_densing(np.array([0.0, 10.0, 20.0]), np.array([3.0, 2.0, 4.0]), CONFIG)
    assert res.status == "too_few_records" and np.isnan(res.A)
    assert "2 record" in res.reason


def test_the_law_needs_its_configured_number_of_records():
    # a rising density on distinct dates: every model is a record
    t = np.arange(6.0) * 60.0
    rho = np.exp(0.007 * t)
    need = CONFIG.densing_min_records
    short = densing.fit_densing(t[:need - 1], rho[:need - 1], CONFIG)
    assert short.status == "too_few_records" and np.isnan(short.doubling_days)
    assert f"{need - 1} record-setting models" in short.reason and f"needs {need}" in short.reason
    enough = densing.fit_densing(t[:need], rho[:need], CONFIG)
    assert enough.status == "ok" and enough.A == pytest.approx(0.007, rel=1e-9)
    # records on one date count once
    tied = densing.fit_densing(np.r_[t[:need - 1], t[need - 2]], np.r_[rho[:need - 1], 9.0],
                               CONFIG)
    assert tied.status == "too_few_records"


def test_table_per_setting_and_reference():
    epoch = pd.Timestamp("2023-02-24")
    days = np.arange(0, 500, 50)
    models = pd.DataFrame({
        "model": [f"m{i}" for i in range(len(days))],
        "setting": "zero-shot", "reference": "ref", "status": "ok",
        "density": np.exp(0.0073 * days),
        "release_date": [epoch + pd.Timedelta(days=int(d)) for d in days],
    })
    undated = models.iloc[:1].assign(model="x", release_date=pd.NaT, density=1e6)
    table = densing.densing_table(pd.concat([models, undated]), CONFIG, "ref")
    row = table.iloc[0]
    assert list(table.columns) == densing.COLUMNS
    assert row["A"] == pytest.approx(0.0073) and row["n_models"] == len(days)
    assert row["doubling_days"] == pytest.approx(94.95, abs=0.005)
    assert bool(row["default_reference"])


def test_table_says_why_there_is_no_fit():
    base = {"setting": "s", "reference": "r", "density": np.nan, "release_date": pd.NaT}
    models = pd.DataFrame([{**base, "model": "a", "status": "out_of_range"},
                           {**base, "model": "b", "status": "out_of_range",
                            "reference": "r2"},
                           {**base, "model": "c", "status": "ok", "density": 1.0,
                            "reference": "r2"}])
    table = densing.densing_table(models, CONFIG).set_index("reference")
    assert table.loc["r", "status"] == "no_density"
    assert table.loc["r2", "status"] == "no_release_dates"
    assert "none of the 1 models" in table.loc["r2", "reason"]
