"""pass@k, the coverage law and the PassUntil task law: known answers, brute force,
Hypothesis properties, and the tables built from per-item summaries."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import passk


def brute_force(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (c of them correct) holding a correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_estimator_matches_enumeration_of_all_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert passk.pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


def test_estimator_matches_binomial_form_and_edges():
    n = 20
    c = np.arange(n + 1)
    curve = passk.pass_at_k_curve(n, c)
    for k in range(1, n + 1):
        exact = [1 - math.comb(n - ci, k) / math.comb(n, k) for ci in c]
        np.testing.assert_allclose(curve[:, k - 1], exact, rtol=0, atol=1e-12)
    assert np.all(curve[0] == 0.0) and np.all(curve[-1] == 1.0)  # c = 0 / c = n
    np.testing.assert_allclose(curve[:, 0], c / n, atol=1e-15)  # pass@1 = c/n


def test_estimator_is_stable_where_binomials_overflow():
    # C(1000, 500) ~ 2.7e299 and C(2000, 1000) overflows a float; the product form does not care
    assert passk.pass_at_k(2000, 1, 1000) == pytest.approx(0.5, abs=1e-12)
    assert passk.pass_at_k(2000, 2, 1000) == pytest.approx(1 - (1000 * 999) / (2000 * 1999),
                                                           abs=1e-12)
    assert passk.pass_at_k(1000, 1, 1) == pytest.approx(1e-3, rel=1e-12)


def test_estimator_rejects_impossible_inputs():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        passk.pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match=r"\[0, n=4\]"):
        passk.pass_at_k(4, np.array([5]), 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.integers(0, n), min_size=1, max_size=30))))
def test_coverage_is_monotone_in_k_and_bounded(case):
    n, correct = case
    cov = passk.coverage_curve(n, np.array(correct))
    assert np.all(np.diff(cov) >= -1e-12)
    assert np.all((cov >= -1e-12) & (cov <= 1 + 1e-12))
    assert cov[0] == pytest.approx(np.mean(correct) / n, abs=1e-12)
    assert cov[-1] == pytest.approx(np.mean(np.array(correct) > 0), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1),
                                                      st.integers(1, n))))
def test_more_correct_samples_never_lower_pass_at_k(case):
    n, c, k = case
    assert passk.pass_at_k(n, c + 1, k) >= passk.pass_at_k(n, c, k) - 1e-12


def test_coverage_law_recovers_known_constants():
    k = np.arange(1, 101)
    fitted = passk.fit_coverage(k, passk.exp_power(-2.0, -0.4, k))
    assert fitted.ok and fitted.reason == ""
    assert fitted["a"] == pytest.approx(-2.0, rel=1e-9)
    assert fitted["b"] == pytest.approx(-0.4, rel=1e-9)


def test_coverage_law_leaves_out_zero_and_one_and_needs_two_points():
    k = np.arange(1, 7)
    cov = passk.exp_power(-1.5, -0.7, k)
    cov[-1] = 1.0  # a saturated point has no finite ln(-ln c)
    fitted = passk.fit_coverage(k, cov)
    assert fitted.ok and "1 point(s) at 0 or 1 left out" in fitted.reason
    assert fitted["b"] == pytest.approx(-0.7, rel=1e-9)
    failed = passk.fit_coverage(np.array([1, 2, 3]), np.array([0.0, 0.5, 1.0]))
    assert failed.status == "fit_failed" and "the fit needs 2" in failed.reason


def test_passuntil_law_recovers_known_constants_and_predicts_the_largest():
    x = np.array([8.0, 8.5, 9.0, 9.5, 10.0])
    pu = passk.passuntil(40.0, 0.25, x)
    fitted = passk.fit_passuntil(x, pu)
    assert fitted["c"] == pytest.approx(40.0, rel=1e-9)
    assert fitted["alpha"] == pytest.approx(0.25, rel=1e-9)
    small = passk.fit_passuntil(x[:-1], pu[:-1])
    assert passk.passuntil(small["c"], small["alpha"], x[-1]) == pytest.approx(pu[-1],
                                                                               rel=1e-9)


def _items(model: str, correct: list[int], n: int) -> pd.DataFrame:
    return pd.DataFrame({"family": "fam", "model": model, "revision": "final", "setting": "s",
                         "task": "gen", "doc_id": range(len(correct)), "filter": "f-all",
                         "output_type": "generate_until", "n_samples": n,
                         "n_correct": correct})


def test_tables_from_items_known_answers():
    # 100 items per model whose correct counts spread round(PU(x)*n*100) over the items, so
    # the mean pass@1 is the PassUntil law up to rounding to whole samples
    n, models = 10, {"m1": 1e6, "m2": 1e7, "m3": 1e8, "m4": 1e9}
    law = passk.passuntil(3.0, 0.1, np.log10(list(models.values())))
    frames = []
    for (m, _), p in zip(models.items(), law, strict=True):
        total = round(p * n * 100)
        correct = [total // 100 + (1 if i < total % 100 else 0) for i in range(100)]
        frames.append(_items(m, correct, n))
    items = pd.concat(frames, ignore_index=True)
    pk = passk.passk_table(items)
    assert len(pk) == 4 * n and set(pk["k"]) == set(range(1, n + 1))
    rows = pd.DataFrame({"model": list(models), "revision": "final", "setting": "s",
                         "tokens": np.nan, "final": True, "kind": "base",
                         "n_fit": list(models.values()), "training_tokens": np.nan})
    cov = passk.coverage_table(pk, rows)
    assert cov["pass_at_1"].tolist() == pytest.approx([round(p * 1000) / 1000 for p in law])
    assert (cov["k_pred"] == 100).all() and cov["status"].eq("ok").all()
    pu = passk.passuntil_table(cov, rows)
    assert len(pu) == 1 and pu.iloc[0]["x_axis"] == "log10_params" and pu.iloc[0]["n"] == 4
    assert pu.iloc[0]["llo_ae"] < 2e-3  # rounding of c to whole samples only
    assert pu.iloc[0]["pu_alpha"] == pytest.approx(0.1, rel=0.02)
