"""Two-stage prediction through a continuous proxy: known constants recovered, the
chained and true-proxy predictions exact on exact data, the published-loss proxy, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalrunner.metrics import twostage
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import prepare
from evalrunner.metrics.synthetic import build_frames

E, A, ALPHA = 1.0, 100.0, 0.1  # step 1: L(x) = E + A*10^(-alpha*x)
TOP, K, L0, BOTTOM = 0.9, -3.0, 2.5, 0.25  # step 2: y = b + (top - b)/(1 + exp(-k(L - L0)))
SIZES = np.logspace(7, 9, 7)
CONFIG = MetricsConfig()


def proxy(x, e=E):
    return e + A * 10.0 ** (-ALPHA * np.asarray(x))


def family(sizes=SIZES, e=E, published=False, fractions=(0.25, 0.5, 1.0)):
    """Every size at D/4, D/2 and D (D = 20N); proxy and score follow the two laws exactly."""
    scores, models = [], []
    for n in sizes:
        model = f"m{int(n)}"
        models.append({"model": model, "family": "fam", "n_fit": n, "n_non_embedding": n,
                       "training_tokens": 20 * n})
        for f in fractions:
            tokens = 20 * n * f
            loss = float(proxy(math.log10(6 * n * tokens), e))
            path = f"fam/{model}/zero-shot/d{f}.yaml"
            row = {"path": path, "family": "fam", "model": model, "revision": f"d{f}",
                   "tokens": tokens, "final": f == 1.0, "task": "t",
                   "value": float(twostage.link_values(loss, TOP, K, L0, BOTTOM)),
                   "stderr": 0.01, "answer_nll_token": np.nan if published else loss}
            scores.append(row)
            if published:
                scores.append({**row, "metric": "perplexity", "value": math.exp(loss),
                               "primary": False, "answer_nll_token": np.nan})
    tasks = [{"task": "t", "chance": 0.25}]
    if published:
        tasks[0]["metric"] = "acc"
    return build_frames(scores, models, [{"family": "fam"}], tasks)


def table(frames):
    prep = prepare(frames, CONFIG)
    return twostage.twostage_table(prep.rows, prep.finals, frames.scores, CONFIG)


def test_saturating_step1_and_sigmoid_step2_recover_their_constants():
    t = table(family())
    assert len(t) == 1
    r = t.iloc[0]
    assert r["proxy"] == "answer_nll_token" and r["x_axis"] == "log10_compute"
    assert r["n_step1"] == 6 and r["n_step2"] == 18 and r["target_model"] == "m1000000000"
    assert r["step1_law"] == "saturating_loss" and r["status"] == "ok" and not r["low_dof"]
    assert r["loss_e"] == pytest.approx(E, rel=1e-4)
    assert r["loss_a"] == pytest.approx(A, rel=1e-3)
    assert r["loss_alpha"] == pytest.approx(ALPHA, rel=1e-4)
    assert r["link_a"] == pytest.approx(TOP - BOTTOM, rel=1e-4)
    assert r["link_b"] == pytest.approx(BOTTOM, abs=1e-4)
    assert r["link_k"] == pytest.approx(K, rel=1e-4)
    assert r["link_l0"] == pytest.approx(L0, rel=1e-4)
    assert r["link_r2"] == pytest.approx(1.0, abs=1e-9)
    assert r["loss_ae"] < 1e-5 and r["ae_chained"] < 1e-5 and r["ae_true_proxy"] < 1e-5
    assert r["ae_direct"] > 0.01  # the direct P_pow law is not the generating one


def test_log_line_below_five_points_is_exact_with_no_floor():
    t = table(family(sizes=SIZES[:4], e=0.0))
    r = t.iloc[0]
    assert r["step1_law"] == "log_line" and r["n_step1"] == 3 and r["n_step2"] == 9
    assert r["loss_e"] == 0.0
    assert r["loss_a"] == pytest.approx(A, rel=1e-9)
    assert r["loss_alpha"] == pytest.approx(ALPHA, rel=1e-9)
    assert r["ae_chained"] < 1e-4 and r["status"] == "ok"


def test_published_perplexity_is_a_proxy():
    exact = table(family()).iloc[0]
    r = table(family(published=True)).iloc[0]
    assert r["proxy"] == "ln_perplexity"
    assert r["loss_actual"] == pytest.approx(exact["loss_actual"], rel=1e-12)
    assert r["ae_chained"] < 1e-5


def test_two_models_are_too_few_and_two_step1_points_are_low_dof():
    t = table(family(sizes=SIZES[:2]))
    assert t.empty  # fewer than 3 final revisions with a proxy: no row at all
    r = table(family(sizes=SIZES[:3], e=0.0)).iloc[0]
    assert r["low_dof"] and r["status"] == "low_dof" and "low_dof" in r["reason"]
    assert r["n_step1"] == 2


def test_step2_fails_loudly_with_four_points():
    # two smaller models x two revisions: four (L, y) pairs, the sigmoid needs five
    r = table(family(sizes=SIZES[:3], fractions=(0.5, 1.0))).iloc[0]
    assert r["status"] == "fit_failed" and "step 2: 4 points" in r["reason"]
    assert np.isnan(r["pred_chained"]) and np.isfinite(r["pred_direct"])


def test_step2_asymptotes_stay_in_the_score_range():
    loss = np.linspace(0.5, 4.0, 12)
    score = np.clip(1.3 - 0.3 * loss, 0, 1)  # a line a free sigmoid would overshoot with
    fitted = twostage.fit_step2(loss, score, chance=0.25, ceiling=1.0, delta=1e-2)
    assert fitted.ok and fitted["top"] <= 1.0 and fitted["bottom"] >= 0.0


def test_rows_kept_in_the_store_equal_fresh_ones_and_bad_entries_are_refitted(tmp_path):
    """A group's row comes back from the store exactly as fitted; an entry that is not a row
    of the table's columns is refitted, and a changed score is a new entry."""
    from pandas.testing import assert_frame_equal

    from evalrunner.memo import Memo

    frames = family()
    prep = prepare(frames, CONFIG)
    fresh = table(frames)

    def stored(memo: Memo):
        return twostage.twostage_table(prep.rows, prep.finals, frames.scores, CONFIG, memo)

    memo = Memo(tmp_path / "store")
    assert_frame_equal(stored(memo), fresh, check_exact=True)
    again = Memo(tmp_path / "store")
    assert_frame_equal(stored(again), fresh, check_exact=True)
    assert (again.hits, again.misses) == (1, 0)
    entries = list((tmp_path / "store" / "memo" / twostage.KIND).rglob("*.json"))
    assert len(entries) == 1
    for bad in ('{"status": "ok"}', "[1, 2]", "{not json"):
        entries[0].write_text(bad)
        redo = Memo(tmp_path / "store")
        assert_frame_equal(stored(redo), fresh, check_exact=True)
        assert redo.misses == 1
    other = family(e=1.1)
    prep = prepare(other, CONFIG)
    frames = other
    stored(Memo(tmp_path / "store"))
    assert len(list((tmp_path / "store" / "memo" / twostage.KIND).rglob("*.json"))) == 2
