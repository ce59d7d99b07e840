"""Known-answer tests for evalrunner.metrics.fit: constants used to generate data come back."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import fit, laws

SIZES = np.geomspace(2e7, 1.2e10, 8)
STEPS = np.array([1000, 3000, 13000, 33000, 73000, 143000])
N, STEP = (a.ravel() for a in np.meshgrid(SIZES, STEPS))
D = STEP * 2_097_152.0
LOSS_LAW = (400.0, 0.34, 410.0, 0.28)
LINK = (0.7, -3.0, 1.5, 0.25)


def test_loss_law_recovers_constants():
    loss = laws.loss_law(N, D, *LOSS_LAW)
    res = fit.fit_loss_law(N, D, loss)
    assert res.status == "ok", res.reason
    got = [res[k] for k in fit.LOSS_LAW]
    np.testing.assert_allclose(got, LOSS_LAW, rtol=1e-6)
    assert max(abs(r) for r in res.residuals) < 1e-9


def test_link_recovers_constants():
    loss = laws.loss_law(N, D, *LOSS_LAW)
    score = laws.link(loss, *LINK)
    res = fit.fit_link(loss, score)
    assert res.ok, res.reason
    np.testing.assert_allclose([res[k] for k in fit.LINK], LINK, rtol=1e-6)
    assert res["gamma"] < 0  # score falls as loss rises


def test_composed_fit_recovers_identifiable_constants():
    # l = 0 and gamma = -1 (the gauge the accuracy-only fit fixes)
    a, alpha, b, beta, c, d = 40.0, 0.3, 60.0, 0.25, 0.7, 0.25  # c + d <= 1: an accuracy
    score = laws.link(laws.loss_law(N, D, a, alpha, b, beta), c, -1.0, 0.0, d)
    res = fit.fit_composed(N, D, score)
    assert res.ok, res.reason
    np.testing.assert_allclose([res[k] for k in ("a", "alpha", "b", "beta", "c", "d")],
                               [a, alpha, b, beta, c, d], rtol=1e-4)
    assert res["gamma"] == -1.0 and res["l"] == 0.0


def test_saturating_loss_recovers_constants():
    x = np.linspace(19, 23, 8)
    loss = laws.saturating_loss(1.7, 1e3, 0.15, x)
    res = fit.fit_saturating_loss(x, loss)
    assert res.ok, res.reason
    np.testing.assert_allclose([res["e"], res["a"], res["alpha"]], [1.7, 1e3, 0.15], rtol=1e-6)


def test_p_pow_vectorised_over_groups_recovers_each_group():
    rng = np.random.default_rng(0)
    g, n = 500, 7
    a, b = rng.uniform(2, 5, g), -rng.uniform(0.1, 0.3, g)
    x = np.sort(rng.uniform(18, 25, (g, n)), axis=1)
    chance = rng.choice([0.0, 0.25, 0.5], g)
    y = laws.p_pow(a[:, None], b[:, None], x, chance[:, None], 1.0)
    res = fit.fit_p_pow(x, y, chance, 1.0)
    assert np.all(res.ok)
    np.testing.assert_allclose(res.params["a"], a, rtol=1e-9)
    np.testing.assert_allclose(res.params["b"], b, rtol=1e-9)
    assert np.nanmax(np.abs(res.residuals)) < 1e-12


def test_p_pow_clips_errors_at_floor():
    # a score at the ceiling has e = 0: clipped to 1e-4 before the log, never -inf
    x = np.array([[1.0, 2.0, 3.0]])
    res = fit.fit_p_pow(x, np.array([[0.5, 0.9, 1.0]]), 0.0, 1.0)
    assert res.ok[0]
    np.testing.assert_allclose(res.params["a"] + res.params["b"] * 3.0,
                               np.log(1e-4), atol=1.5)


def test_ols_weights_select_points():
    x = np.array([[0.0, 1.0, 2.0, 3.0]])
    y = np.array([[1.0, 3.0, 5.0, 100.0]])
    res = fit.ols_lines(x, y, np.array([[1, 1, 1, 0]]))
    np.testing.assert_allclose([res.params["a"][0], res.params["b"][0]], [1.0, 2.0])
    assert np.isnan(res.residuals[0, 3])


def test_degenerate_x_fails_with_reason_never_none():
    res = fit.ols_lines(np.array([[2.0, 2.0, 2.0]]), np.array([[1.0, 2.0, 3.0]]))
    assert res.status[0] == fit.FAILED
    assert "distinct x" in res.reason[0]
    one = res.row(0)
    assert isinstance(one, fit.FitResult) and not one.ok
    assert np.isnan(one["a"])


def test_log_line_refuses_non_positive_loss():
    res = fit.fit_log_line(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 1.0, 0.0]]))
    assert res.status[0] == fit.FAILED and "non-positive" in res.reason[0]


@pytest.mark.parametrize("fitter,args", [
    (fit.fit_loss_law, (N[:3], D[:3], np.ones(3))),
    (fit.fit_link, (np.ones(3), np.ones(3))),
    (fit.fit_composed, (N[:4], D[:4], np.full(4, 0.5))),
])
def test_too_few_points_is_a_failed_result(fitter, args):
    res = fitter(*args)
    assert res.status == fit.FAILED and "points" in res.reason
    assert all(np.isnan(v) for v in res.params.values())


def test_non_finite_inputs_fail_loudly_in_the_result():
    loss = laws.loss_law(N, D, *LOSS_LAW)
    loss[3] = np.nan
    res = fit.fit_loss_law(N, D, loss)
    assert res.status == fit.FAILED and "non-finite" in res.reason


def test_fit_results_are_frozen():
    res = fit.fit_loss_law(N, D, laws.loss_law(N, D, *LOSS_LAW))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.status = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.params["a"] = 1.0  # type: ignore[index]


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0.5, 5.0), b=st.floats(-0.4, -0.05), n=st.integers(3, 9),
       chance=st.sampled_from([0.0, 0.25, 0.5]))
def test_noiseless_p_pow_is_recovered(a, b, n, chance):
    x = np.linspace(20.0, 24.0, n)[None, :]
    y = laws.p_pow(a, b, x, chance, 1.0)
    res = fit.fit_p_pow(x, y, chance, 1.0, floor=1e-12)
    np.testing.assert_allclose([res.params["a"][0], res.params["b"][0]], [a, b], rtol=1e-8,
                               atol=1e-10)


def test_batched_start_scores_equal_one_by_one(monkeypatch):
    """Each non-linear law scores its start grid in one batched call; the values must be
    exactly those of calling the objective start by start (they pick which starts refine)."""
    rng = np.random.default_rng(3)
    loss = laws.loss_law(N, D, *LOSS_LAW) * np.exp(rng.normal(0, 0.02, N.size))
    score = laws.link(loss, *LINK) + rng.normal(0, 0.01, N.size)
    original, seen = fit._multistart, []

    def checked(fun, starts, bounds, n_refine=4, names=None):
        lo, hi = np.array(bounds).T
        clipped = np.clip(np.atleast_2d(starts), lo, hi)
        assert fun.batched
        one_by_one = np.array([fun(s)[0] for s in clipped])
        assert np.array_equal(fun.values(clipped), one_by_one)
        seen.append(len(clipped))
        return original(fun, starts, bounds, n_refine, names)

    monkeypatch.setattr(fit, "_multistart", checked)
    fit.fit_loss_law(N, D, loss)
    fit.fit_link(loss, score)
    fit.fit_composed(N, D, score)
    fit.fit_saturating_loss(np.linspace(19, 23, 8), laws.saturating_loss(1.7, 1e3, 0.15,
                                                                         np.linspace(19, 23, 8)))
    assert len(seen) == 4 and min(seen) > 1


class _TwoBasins:
    """A 1-D objective with a wide, shallow basin at x = 2 (value 0.5) where the best grid
    starts lie, and a narrow, deep one at x = -3 (value 0.1) that only a far start reaches."""

    batched = True

    @staticmethod
    def _f(x):
        return (1.0 - 0.5 * np.exp(-(x - 2.0) ** 2) - 0.9 * np.exp(-((x + 3.0) / 0.3) ** 2))

    def values(self, starts):
        return self._f(np.asarray(starts)[:, 0])

    def __call__(self, theta):
        x = float(theta[0])
        grad = (np.exp(-(x - 2.0) ** 2) * (x - 2.0)
                + 0.9 * np.exp(-((x + 3.0) / 0.3) ** 2) * 2 * (x + 3.0) / 0.09)
        return float(self._f(x)), np.array([grad])


def test_multistart_finds_the_global_optimum_of_a_multimodal_objective():
    starts = np.array([[v] for v in np.arange(-4.0, 5.0, 0.5) if abs(v + 3.0) > 0.4])
    fun = _TwoBasins()
    assert np.argsort(fun.values(starts))[0] != 1  # the best starts are not in the deep basin
    theta, value, _ = fit._multistart(fun, starts, [(-5.0, 5.0)])
    assert theta[0] == pytest.approx(-3.0, abs=1e-3) and value == pytest.approx(0.1, abs=1e-3)


def test_a_refit_started_at_the_optimum_stays_there_and_moves_with_its_data():
    """The bootstrap's refits start only at the full fit's optimum: on the same data they
    return it; on a resample they move to that resample's own optimum (the full multistart's)."""
    rng = np.random.default_rng(3)
    loss = laws.loss_law(N, D, *LOSS_LAW)
    score = laws.link(loss, *LINK) + rng.normal(0, 0.01, N.size)
    fits = [(fit.fit_loss_law, (N, D, loss * np.exp(rng.normal(0, 0.003, N.size))), 1e-3),
            (fit.fit_link, (loss, score), 1e-2)]
    for fitter, args, delta in fits:
        full = fitter(*args, delta)
        again = fitter(*args, delta, start=full)
        np.testing.assert_allclose(list(again.params.values()), list(full.params.values()),
                                   rtol=1e-4)
        pick = rng.choice(N.size, N.size)  # a resample of the points
        sub = tuple(a[pick] for a in args)
        cold = fitter(*sub, delta)
        warm = fitter(*sub, delta, start=full)
        assert warm.objective <= cold.objective * (1 + 1e-6) + 1e-12
