"""The curves of the methodology page as plain, vectorised formulas (forward and inverse).

Fitting lives in `fit.py`; this module only evaluates laws, so density, predictability and the
tests share one definition of each.
"""

from __future__ import annotations

import numpy as np

ArrayLike = np.ndarray | float


def p_pow(a: ArrayLike, b: ArrayLike, x: ArrayLike, chance: ArrayLike, ceiling: ArrayLike):
    """P_pow prediction: `y^(x) = r + (u - r)*(1 - exp(a + b*x))`.

    `a`, `b` come from the OLS of `ln(clip(1 - y~, 1e-4, inf))` on `x`.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return chance + (ceiling - chance) * (1.0 - np.exp(a + b * x))


def log_line(a: ArrayLike, b: ArrayLike, x: ArrayLike):
    """Loss prediction from the log-log line `ln(L) = a + b*x`."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(a + b * x)


def saturating_loss(e: ArrayLike, a: ArrayLike, alpha: ArrayLike, x: ArrayLike):
    """Loss prediction `L = E + A*X^(-alpha)` with `X = 10**x`."""
    with np.errstate(over="ignore", invalid="ignore"):
        return e + a * np.power(10.0, -alpha * np.asarray(x, dtype=float))


def loss_law(n: ArrayLike, d: ArrayLike, a: float, alpha: float, b: float, beta: float):
    """Conditional answer loss `L(N, D) = a*N^(-alpha) + b*D^(-beta)`.

    Densing Law of LLMs (Xiao et al. 2024, arXiv 2412.04315, eq. 2); no constant term.
    """
    return a * np.power(n, -alpha) + b * np.power(d, -beta)


def link(loss: ArrayLike, c: float, gamma: float, l: float, d: float):  # noqa: E741
    """Loss-to-score link `S = c/(1 + exp(-gamma*(L - l))) + d` (arXiv 2412.04315, eq. 3)."""
    with np.errstate(over="ignore"):
        return c / (1.0 + np.exp(-gamma * (np.asarray(loss, dtype=float) - l))) + d


def link_inverse(score: ArrayLike, c: float, gamma: float, l: float, d: float):  # noqa: E741
    """`L^ = l - (1/gamma)*ln(c/(S - d) - 1)`; NaN outside `d < S < c + d`."""
    s = np.asarray(score, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (s > d) & (s < c + d)
        out = l - np.log(c / (s - d) - 1.0) / gamma
    return np.where(inside, out, np.nan)


def effective_params(loss_hat: ArrayLike, a: float, alpha: float, b: float, beta: float, d0: float):
    """`N^ = ((L^ - b*D0^(-beta))/a)^(-1/alpha)`; NaN unless `L^ > b*D0^(-beta)`."""
    lh = np.asarray(loss_hat, dtype=float)
    data_term = b * np.power(d0, -np.asarray(beta, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inside = lh > data_term
        out = np.power((lh - data_term) / a, -1.0 / np.asarray(alpha, dtype=float))
    return np.where(inside & np.isfinite(out) & (out > 0), out, np.nan)
