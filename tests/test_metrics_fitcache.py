"""Reference fits through the build's store (evalrunner.metrics.fitcache over evalrunner.memo):
exact hits, targeted misses, tolerant reading and a store that keeps only the last run's fits."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from evalrunner.memo import Memo
from evalrunner.metrics import density, fitcache
from evalrunner.metrics.compute import MetricTables, compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.synthetic import build_frames, reference_family

LOSS_LAW = (400.0, 0.34, 410.0, 0.28)
LINK = (0.7, -3.0, 1.5, 0.25)
SIZES = np.geomspace(2e7, 1.2e10, 6)
STEPS = [1000, 3000, 13000, 43000, 143000]
TASKS = ("task0", "task1", "task2")
CONFIG = MetricsConfig(d0=1e12)


def _frames(tasks=TASKS, with_loss: bool = False, nudge: str | None = None):
    """A noisy reference family on `tasks` (a subset of TASKS, same scores) and one target;
    `nudge`: task whose first reference score moves by 1e-3 (one fit's input changes)."""
    # l = 0 without losses: the accuracy-only curve fixes it
    link = LINK if with_loss else (LINK[0], -1.0, 0.0, LINK[3])
    scores, models = reference_family("ref", SIZES, STEPS, LOSS_LAW, link, tasks=TASKS,
                                      with_loss=with_loss, noise=0.005, seed=3)
    scores = [r for r in scores if r["task"] in tasks]
    if nudge is not None:
        first = next(r for r in scores if r["task"] == nudge)
        first["value"] += 1e-3
    models.append({"model": "target", "family": "other", "n_fit": 1e9})
    scores += [{"family": "other", "model": "target", "task": t, "value": 0.5} for t in tasks]
    families = [{"family": "ref", "reference": True}, {"family": "other"}]
    return build_frames(scores, models, families, [{"task": t} for t in tasks])


FITS = len(TASKS) + 1  # one per task and one on the mean over the task set


@pytest.fixture
def fits(monkeypatch) -> list[int]:
    """Counts calls of density.fit_reference (the fits the cache should spare)."""
    calls: list[int] = []
    real = density.fit_reference

    def counted(points, config):
        calls.append(1)
        return real(points, config)

    monkeypatch.setattr(density, "fit_reference", counted)
    return calls


def _assert_same(got: MetricTables, want: MetricTables) -> None:
    assert got.references == want.references
    assert got.default_reference == want.default_reference
    for name, table in want.tables().items():
        pd.testing.assert_frame_equal(got.tables()[name], table, check_exact=True, obj=name)


@pytest.mark.parametrize("with_loss", [False, True], ids=["accuracy-only", "two-step"])
def test_cold_and_warm_cache_equal_fresh_fits(tmp_path, fits, with_loss):
    frames, memo = _frames(with_loss=with_loss), Memo(tmp_path / "store")
    fresh = compute_all(frames, CONFIG)
    assert len(fits) == FITS
    cold = compute_all(frames, CONFIG, memo=memo)
    assert len(fits) == 2 * FITS and len(_entries(memo)) == FITS
    warm = compute_all(frames, CONFIG, memo=memo)
    assert len(fits) == 2 * FITS  # the warm run fits nothing
    assert (fresh.density_fits["status"] == "ok").all()
    _assert_same(cold, fresh)
    _assert_same(warm, fresh)


def _entries(memo: Memo) -> list:
    return sorted((memo.root / "memo" / fitcache.KIND).rglob("*.json"))


def test_changed_input_refits_only_that_fit(tmp_path, fits):
    path = Memo(tmp_path / "store")
    compute_all(_frames(), CONFIG, memo=path)
    fits.clear()
    nudged = _frames(nudge="task1")
    got = compute_all(nudged, CONFIG, memo=path)
    assert len(fits) == 2  # task1 and the task set's mean
    _assert_same(got, compute_all(nudged, CONFIG))
    changed = MetricsConfig(d0=1e12, min_reference_r2=0.7)  # a config value is part of the key
    fits.clear()
    compute_all(nudged, changed, memo=path)
    assert len(fits) == FITS


@pytest.mark.parametrize("spoil", [
    lambda rec: "{not json",
    lambda rec: "\x00\xff garbage",
    lambda rec: "[1, 2, 3]",
    lambda rec: json.dumps({**rec, "r2": "0.9"}),
    lambda rec: json.dumps({**rec, "n_points": 30.0}),
    lambda rec: json.dumps({k: v for k, v in rec.items() if k != "reason"}),
    lambda rec: json.dumps({**rec, "extra": 1}),
    lambda rec: json.dumps({**rec, "status": None}),
], ids=["corrupt", "binary", "list", "str-for-float", "float-for-int", "missing", "extra",
        "none-for-str"])
def test_bad_entries_are_refitted(tmp_path, fits, spoil):
    frames, memo = _frames(), Memo(tmp_path / "store")
    fresh = compute_all(frames, CONFIG, memo=memo)
    entries = _entries(memo)
    good = {e: e.read_text(encoding="utf-8") for e in entries}
    for e in entries:
        e.write_text(spoil(json.loads(good[e])), encoding="utf-8")
    fits.clear()
    got = compute_all(frames, CONFIG, memo=Memo(tmp_path / "store"))
    assert len(fits) == FITS  # nothing trusted: every fit redone
    _assert_same(got, fresh)
    assert {e: e.read_text(encoding="utf-8") for e in entries} == good  # and repaired


def test_sweep_keeps_only_the_fits_of_the_last_run(tmp_path):
    memo = Memo(tmp_path / "store")
    compute_all(_frames(), CONFIG, memo=memo)
    before = set(_entries(memo))
    assert len(before) == FITS
    memo = Memo(tmp_path / "store")
    compute_all(_frames(tasks=TASKS[:2]), CONFIG, memo=memo)
    memo.sweep()
    after = set(_entries(memo))
    # two tasks' fits kept, the three-task mean's dropped, the two-task mean's added
    assert len(after) == 3 and len(after & before) == 2


def test_special_floats_round_trip_exactly(tmp_path):
    record = {"a": math.nan, "b": math.inf, "c": -math.inf, "d": -0.0, "e": 5e-324,
              "f": 0.1 + 0.2, "g": np.float64(1 / 3), "n": 7, "s": "x", "m": None}
    schema = {k: (type(v.item() if isinstance(v, np.generic) else v),)
              for k, v in record.items()}
    fitcache.FitCache(Memo(tmp_path / "store")).put("key", record)
    got = fitcache.FitCache(Memo(tmp_path / "store")).get("key", schema)
    assert got is not None and got.keys() == record.keys()
    for k, v in record.items():
        assert repr(got[k]) == repr(v if not isinstance(v, np.generic) else v.item())
    assert math.copysign(1.0, got["d"]) == -1.0
