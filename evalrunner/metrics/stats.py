"""Rank correlations computed row-wise on (G, n) arrays, so thousands of groups cost one call.

Spearman rho is the Pearson correlation of average ranks (ties share their mean rank); Kendall
tau-b is `(n_c - n_d)/sqrt((n_0 - n_1)(n_0 - n_2))` with n_1, n_2 the tied pairs in x and y
(Kendall 1945, "The treatment of ties in ranking problems"). Both are NaN where x or y is
constant, as the edge-case rules of scaling predictability require (constant y: rho null).
"""

from __future__ import annotations

import numpy as np


def tie_ranks(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Ranks with tie groups: 1 + the number of intervals wholly above each one (overlapping
    intervals share a rank); NaN where the interval is NaN."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    ok = ~np.isnan(lo) & ~np.isnan(hi)
    ranks = np.full(len(lo), np.nan)
    above = ok.sum() - np.searchsorted(np.sort(lo[ok]), hi[ok], side="right")  # lo > hi
    ranks[ok] = 1 + above
    return ranks


def rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) along axis 1: `(#less + #less-or-equal + 1)/2` per value.

    All-pairs comparisons: O(G*n^2), meant for the short rows (n <= a few dozen) metrics use.
    """
    a = np.atleast_2d(np.asarray(a, dtype=float))
    other, this = a[:, None, :], a[:, :, None]
    less = (other < this).sum(axis=2)
    less_equal = (other <= this).sum(axis=2)
    return (less + less_equal + 1) / 2.0


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    sxx, syy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (dx * dy).sum(axis=1) / np.sqrt(sxx * syy)
    return np.where((sxx > 0) & (syy > 0), np.clip(r, -1.0, 1.0), np.nan)


def _constant(a: np.ndarray) -> np.ndarray:
    """Rows whose values are all equal (up to rounding of the largest value)."""
    a = np.atleast_2d(a)
    scale = np.maximum(np.abs(a).max(axis=1), 1e-300)
    return np.ptp(a, axis=1) <= 1e-12 * scale


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho per row; NaN for rows with fewer than 2 points or constant x or y."""
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    if x.shape[1] < 2:
        return np.full(x.shape[0], np.nan)
    rho = pearson_rows(rank_rows(x), rank_rows(y))
    return np.where(_constant(x) | _constant(y), np.nan, rho)


def kendall_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b per row; NaN where x or y is constant."""
    x, y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    n = x.shape[1]
    if n < 2:
        return np.full(x.shape[0], np.nan)
    iu = np.triu_indices(n, k=1)
    sx = np.sign(x[:, :, None] - x[:, None, :])[:, iu[0], iu[1]]
    sy = np.sign(y[:, :, None] - y[:, None, :])[:, iu[0], iu[1]]
    n0 = len(iu[0])
    n1, n2 = (sx == 0).sum(axis=1), (sy == 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = (sx * sy).sum(axis=1) / np.sqrt((n0 - n1) * (n0 - n2))
    return np.where((n0 - n1 > 0) & (n0 - n2 > 0) & ~_constant(y), tau, np.nan)
