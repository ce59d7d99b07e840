"""Every curve fit, in one place.

Closed-form least squares where the law allows it (P_pow, the log-log line), vectorised over
groups: arrays of shape (G, n) hold G independent fits of n points, with weights 0/1 marking the
points each fit uses. Non-linear laws (loss law, sigmoid link, the composed accuracy-only curve,
the saturating loss law) use multi-start, bounded L-BFGS-B fits of a Huber objective with
analytic gradients; starting points come from a grid on the non-linear parameters with the linear
ones solved in closed form (variable projection).

Every fit returns a frozen result with parameters, residuals, a status ("ok" or "fit_failed") and
a reason; never None, never a quiet switch to another law.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from . import laws

OK = "ok"
FAILED = "fit_failed"


@dataclasses.dataclass(frozen=True)
class FitResult:
    """One fitted law: parameters by name, residuals (observed - fitted), status and reason."""

    law: str
    params: Mapping[str, float]
    residuals: tuple[float, ...]
    status: str
    reason: str = ""
    objective: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.status == OK

    def __getitem__(self, name: str) -> float:
        return self.params[name]


@dataclasses.dataclass(frozen=True)
class BatchFit:
    """G fits of one law at once: params[name] has shape (G,), residuals (G, n)."""

    law: str
    params: Mapping[str, np.ndarray]
    residuals: np.ndarray
    status: np.ndarray
    reason: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.status == OK

    def row(self, i: int) -> FitResult:
        res = self.residuals[i]
        return FitResult(
            law=self.law,
            params=MappingProxyType({k: float(v[i]) for k, v in self.params.items()}),
            residuals=tuple(float(r) for r in res[np.isfinite(res)]),
            status=str(self.status[i]),
            reason=str(self.reason[i]),
        )


def _failed(law: str, names: tuple[str, ...], reason: str, n: int = 0) -> FitResult:
    return FitResult(
        law=law,
        params=MappingProxyType(dict.fromkeys(names, float("nan"))),
        residuals=(float("nan"),) * n,
        status=FAILED,
        reason=reason,
    )


# ---------------------------------------------------------------------------------------------
# Closed form, vectorised over groups


def ols_lines(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> BatchFit:
    """Ordinary least squares `y = a + b*x` per row of (G, n) arrays; weights 0/1 pick points.

    Status `fit_failed` where fewer than two distinct x carry weight or a value is not finite.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    w = np.ones_like(y) if w is None else np.atleast_2d(np.asarray(w, dtype=float))
    w = np.where(np.isfinite(x) & np.isfinite(y), w, 0.0)
    xs, ys = np.where(w > 0, x, 0.0), np.where(w > 0, y, 0.0)
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (w * xs).sum(axis=1) / sw
        my = (w * ys).sum(axis=1) / sw
        dx = np.where(w > 0, xs - mx[:, None], 0.0)
        sxx = (w * dx * dx).sum(axis=1)
        sxy = (w * dx * (ys - my[:, None])).sum(axis=1)
        # relative test: x spread that is pure rounding noise counts as a single x
        degenerate = ~(sxx > 1e-24 * np.maximum(1.0, (w * xs * xs).sum(axis=1)))
        b = np.where(degenerate, np.nan, sxy / np.where(degenerate, 1.0, sxx))
        a = my - b * mx
    fitted = a[:, None] + b[:, None] * x
    residuals = np.where(w > 0, y - fitted, np.nan)
    bad = degenerate | ~np.isfinite(a) | ~np.isfinite(b)
    status = np.where(bad, FAILED, OK).astype(object)
    reason = np.where(
        degenerate, "fewer than two distinct x", np.where(bad, "non-finite parameters", "")
    ).astype(object)
    a, b = np.where(bad, np.nan, a), np.where(bad, np.nan, b)
    return BatchFit("line", MappingProxyType({"a": a, "b": b}), residuals, status, reason)


def fit_p_pow(
    x: np.ndarray,
    y: np.ndarray,
    chance: np.ndarray | float,
    ceiling: np.ndarray | float,
    w: np.ndarray | None = None,
    floor: float = 1e-4,
) -> BatchFit:
    """P_pow, closed form per group.

    `e = clip(1 - y~, floor, inf)` with `y~ = (y - r)/(u - r)`; OLS of `ln(e)` on `x` gives
    `(a, b)`; `y^(x) = r + (u - r)*(1 - exp(a + b*x))`. The clip is the one named, intended
    transformation (a score at the ceiling has no finite log error). Residuals in raw units.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    r = np.broadcast_to(np.asarray(chance, dtype=float), (y.shape[0],))[:, None]
    u = np.broadcast_to(np.asarray(ceiling, dtype=float), (y.shape[0],))[:, None]
    e = np.clip(1.0 - (y - r) / (u - r), floor, np.inf)
    line = ols_lines(x, np.log(e), w)
    a, b = line.params["a"], line.params["b"]
    fitted = laws.p_pow(a[:, None], b[:, None], x, r, u)
    residuals = np.where(np.isfinite(line.residuals), y - fitted, np.nan)
    nonfinite = line.ok & ~np.all(np.isfinite(fitted) | ~np.isfinite(line.residuals), axis=1)
    status = np.where(nonfinite, FAILED, line.status).astype(object)
    reason = np.where(nonfinite, "non-finite fitted values", line.reason).astype(object)
    return BatchFit("p_pow", line.params, residuals, status, reason)


def fit_log_line(x: np.ndarray, loss: np.ndarray, w: np.ndarray | None = None) -> BatchFit:
    """Losses: OLS of `ln(L)` on `x`; non-positive losses fail the fit."""
    loss = np.atleast_2d(np.asarray(loss, dtype=float))
    wt = np.ones_like(loss) if w is None else np.atleast_2d(np.asarray(w, dtype=float))
    nonpos = np.any((wt > 0) & ~(loss > 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        line = ols_lines(x, np.log(loss), wt)
    fitted = laws.log_line(line.params["a"][:, None], line.params["b"][:, None], x)
    residuals = np.where(np.isfinite(line.residuals), loss - fitted, np.nan)
    status = np.where(nonpos, FAILED, line.status).astype(object)
    reason = np.where(nonpos, "non-positive loss", line.reason).astype(object)
    params = {k: np.where(nonpos, np.nan, v) for k, v in line.params.items()}
    return BatchFit("log_line", MappingProxyType(params), residuals, status, reason)


# ---------------------------------------------------------------------------------------------
# Multi-start bounded Huber fits


def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss and its derivative: `r^2/2` inside `|r| <= delta`, `delta*(|r| - delta/2)` out."""
    ar = np.abs(r)
    value = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta))
    return value, np.minimum(np.maximum(r, -delta), delta)  # np.clip, without its wrapper


Model = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
_BLAS: list = []  # one threadpoolctl controller, created on first use (scanning libs is slow)


def _single_threaded_blas():
    """L-BFGS-B makes many tiny BLAS calls; a multi-threaded BLAS makes each ~100x slower."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


class Objective:
    """mean Huber(model - target)/delta and its gradient; `model(theta)` returns (values,
    jacobian) with the parameters on the last axis of the jacobian.

    `batched=True` declares that the model also takes theta of shape (P, S, 1) (S parameter
    vectors; values (S, n), jacobian (S, n, P)), so the multi-start grid is scored in one call.
    Reductions are `add.reduce / n`, which is what `ndarray.mean` computes, without its
    per-call Python overhead (the optimizer calls this tens of thousands of times).
    """

    def __init__(self, model: Model, target: np.ndarray, delta: float, batched: bool = False):
        self.model, self.target, self.delta, self.batched = model, target, delta, batched
        self.n = len(target)

    def _terms(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sum of Huber values, sum of psi * jacobian) over the points (last value axis)."""
        pred, jac = self.model(theta)
        value, psi = huber(pred - self.target, self.delta)
        return np.add.reduce(value, axis=-1), np.add.reduce(psi[..., None] * jac, axis=-2)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            total, grad = self._terms(theta)
            f = float(total / self.n / self.delta)
            g = grad / self.n / self.delta
        if not (np.isfinite(f) and np.isfinite(g).all()):
            return 1e300, np.zeros_like(theta)
        return f, g

    def values(self, starts: np.ndarray) -> np.ndarray:
        """The objective at each row of `starts` (S, P), as `self(start)[0]` gives it."""
        if not self.batched:
            return np.array([self(s)[0] for s in starts])
        with np.errstate(all="ignore"):
            total, grad = self._terms(np.ascontiguousarray(starts.T)[..., None])
            f = total / self.n / self.delta
            g = grad / self.n / self.delta
        return np.where(np.isfinite(f) & np.isfinite(g).all(axis=1), f, 1e300)


def _huber_objective(model: Model, target: np.ndarray, delta: float,
                     batched: bool = False) -> Objective:
    return Objective(model, target, delta, batched)


def _multistart(
    fun: Objective, starts: np.ndarray, bounds: list[tuple[float, float]], n_refine: int = 4,
    names: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, float, str]:
    """Refine starts with L-BFGS-B; return the best (theta, value, note).

    The `n_refine` best starts by objective are refined, and as many more chosen far apart in
    the search box (farthest-point, on coordinates scaled to the bounds): the best starts of a
    grid often sit in one basin, and a fit that only refines them can stop in a local optimum
    (seen on a reference task: 4.27e-3 where 3.01e-3 exists). Every chosen start is refined;
    the note names any parameter left at a bound of the search box (`names`, else its index).
    A bootstrap refit (one start, at the full fit's optimum) is refined just as tightly: at
    1e-10 its intervals still moved with the tolerance, at 1e-13 they equal 1e-15's.
    """
    from scipy.optimize import minimize

    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    starts = np.clip(np.atleast_2d(starts), lo, hi)
    values = fun.values(starts)
    order = _spread_starts(starts, values, lo, hi, n_refine)
    best_theta, best_value, note = starts[order[0]], np.inf, "no start had a finite objective"
    with _single_threaded_blas():
        for i in order:
            res = minimize(fun, starts[i], jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": 3000, "ftol": 1e-13, "gtol": 1e-9})
            if not (np.isfinite(res.fun) and res.fun < 1e299):
                continue
            if res.fun < best_value:
                best_theta, best_value = res.x, float(res.fun)
                note = "" if res.success else f"optimizer: {res.message}"
    at_bound = [j for j in range(len(bounds)) if np.isclose(best_theta[j], lo[j]) or
                np.isclose(best_theta[j], hi[j])]
    if at_bound:
        label = [names[j] if names else str(j) for j in at_bound]
        note = (note + "; " if note else "") + AT_BOUND + ": " + ",".join(label)
    return best_theta, best_value, note


AT_BOUND = "parameter at bound"


def _spread_starts(starts: np.ndarray, values: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   n: int) -> np.ndarray:
    """Indices of the n best finite starts, then n more, each the farthest from those chosen."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) == 0:
        return np.zeros(1, dtype=int)
    ranked = finite[np.argsort(values[finite], kind="stable")]
    chosen = list(ranked[:n])
    scaled = (starts - lo) / np.where(hi > lo, hi - lo, 1.0)
    dist = np.min(np.linalg.norm(scaled[:, None, :] - scaled[None, chosen, :], axis=2), axis=1)
    dist[np.setdiff1d(np.arange(len(starts)), finite)] = -1.0
    for _ in range(min(n, len(finite) - len(chosen))):
        far = int(np.argmax(dist))
        if dist[far] <= 0:
            break
        chosen.append(far)
        dist = np.minimum(dist, np.linalg.norm(scaled - scaled[far], axis=1))
    return np.array(chosen)


def _result(law: str, names: tuple[str, ...], values: tuple[float, ...], residuals: np.ndarray,
            objective: float, note: str) -> FitResult:
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(residuals))
            and np.isfinite(objective) and objective < 1e299):
        return _failed(law, names, "non-finite parameters or residuals", len(residuals))
    return FitResult(
        law=law,
        params=MappingProxyType(dict(zip(names, (float(v) for v in values), strict=True))),
        residuals=tuple(float(r) for r in residuals),
        status=OK,
        reason=note,
        objective=float(objective),
    )


def _check_points(law: str, names: tuple[str, ...], arrays: list[np.ndarray], need: int,
                  positive: bool = True) -> FitResult | None:
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"{law}: input arrays differ in length")
    finite = all(np.all(np.isfinite(a)) for a in arrays)
    if not finite or (positive and any(np.any(a <= 0) for a in arrays)):
        return _failed(law, names, "non-finite or non-positive inputs", n)
    if n < need:
        return _failed(law, names, f"{n} points; the fit needs at least {need}", n)
    return None


LOSS_LAW = ("a", "alpha", "b", "beta")
LINK = ("c", "gamma", "l", "d")
COMPOSED = ("a", "alpha", "b", "beta", "c", "gamma", "l", "d")
SATURATING = ("e", "a", "alpha")
_ALPHAS = np.array([0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5])
_EXP_BOUNDS = (1e-3, 3.0)  # exponents alpha, beta
_LOG_COEF_BOUNDS = (-40.0, 160.0)  # ln a, ln b


def fit_loss_law(n: np.ndarray, d: np.ndarray, loss: np.ndarray, delta: float = 1e-3,
                 start: FitResult | None = None) -> FitResult:
    """Fit `L(N, D) = a*N^(-alpha) + b*D^(-beta)` (arXiv 2412.04315, eq. 2).

    Huber loss (delta) on `ln(L^) - ln(L)`, parameters `(ln a, alpha, ln b, beta)` so a, b stay
    positive; starts: a grid on (alpha, beta) with (a, b) from relative least squares, or only
    `start` (an earlier fit: a bootstrap refit starts from the full data's optimum).
    """
    n, d, loss = (np.asarray(v, dtype=float) for v in (n, d, loss))
    failed = _check_points("loss_law", LOSS_LAW, [n, d, loss], need=5)
    if failed:
        return failed
    ln_n, ln_d, ln_l = np.log(n), np.log(d), np.log(loss)

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        la, alpha, lb, beta = theta
        t1, t2 = la - alpha * ln_n, lb - beta * ln_d
        pred = np.logaddexp(t1, t2)
        w1 = np.exp(t1 - pred)
        w2 = 1.0 - w1
        return pred, np.stack([w1, -w1 * ln_n, w2, -w2 * ln_d], axis=-1)

    starts = []
    for alpha in _ALPHAS:
        for beta in _ALPHAS:
            u, v = np.exp(-alpha * ln_n) / loss, np.exp(-beta * ln_d) / loss
            coef = _nonneg_2(u, v, np.ones_like(u))
            la, lb = (np.log(max(c, 1e-300)) for c in coef)
            starts.append([la, alpha, lb, beta])
    if start is not None:
        starts = [[np.log(start["a"]), start["alpha"], np.log(start["b"]), start["beta"]]]
    bounds = [_LOG_COEF_BOUNDS, _EXP_BOUNDS, _LOG_COEF_BOUNDS, _EXP_BOUNDS]
    objective = _huber_objective(model, ln_l, delta, batched=True)
    theta, value, note = _multistart(objective, np.array(starts), bounds,
                                     names=("ln a", "alpha", "ln b", "beta"))
    la, alpha, lb, beta = theta
    fitted = laws.loss_law(n, d, np.exp(la), alpha, np.exp(lb), beta)
    return _result("loss_law", LOSS_LAW, (np.exp(la), alpha, np.exp(lb), beta), loss - fitted,
                   value, note)


LOSS_LAW_E = ("a", "alpha", "b", "beta", "e")


def fit_loss_law_floor(n: np.ndarray, d: np.ndarray, loss: np.ndarray, delta: float = 1e-3,
                       start: FitResult | None = None) -> FitResult:
    """Fit `L(N, D) = a*N^(-alpha) + b*D^(-beta) + E`, the ladder's step 1 (Bhagia et al. 2024,
    arXiv 2412.04403), whose floor E a prediction far beyond the fitted sizes needs.

    Huber on `ln(L^) - ln(L)`. The coefficients are fitted at the centre of the data
    (`a' = a*N_c^(-alpha)` with ln N_c the mean ln N, the same for b): uncentred, ln a and
    alpha move together and a refit crawls along that ridge. Parameters
    `(ln a', alpha, ln b', beta, ln E)`; starts: the (alpha, beta) grid at three floors (1%,
    50% and 90% of the smallest loss) with (a', b') from relative least squares on L - E, or
    only `start`.
    """
    n, d, loss = (np.asarray(v, dtype=float) for v in (n, d, loss))
    failed = _check_points("loss_law_floor", LOSS_LAW_E, [n, d, loss], need=6)
    if failed:
        return failed
    cn, cd = float(np.log(n).mean()), float(np.log(d).mean())
    ln_n, ln_d, ln_l = np.log(n) - cn, np.log(d) - cd, np.log(loss)

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        la, alpha, lb, beta, le = theta
        t1, t2 = la - alpha * ln_n, lb - beta * ln_d
        pred = np.logaddexp(np.logaddexp(t1, t2), le)
        w1, w2, w3 = np.exp(t1 - pred), np.exp(t2 - pred), np.exp(le - pred)
        return pred, np.stack([w1, -w1 * ln_n, w2, -w2 * ln_d, w3], axis=-1)

    lo = float(loss.min())
    starts = []
    for frac in (0.01, 0.5, 0.9):
        rest = loss - frac * lo
        for alpha in _ALPHAS:
            for beta in _ALPHAS:
                u, v = np.exp(-alpha * ln_n) / rest, np.exp(-beta * ln_d) / rest
                coef = _nonneg_2(u, v, np.ones_like(u))
                la, lb = (np.log(max(c, 1e-300)) for c in coef)
                starts.append([la, alpha, lb, beta, np.log(frac * lo)])
    if start is not None:
        starts = [[np.log(start["a"]) - start["alpha"] * cn, start["alpha"],
                   np.log(start["b"]) - start["beta"] * cd, start["beta"], np.log(start["e"])]]
    bounds = [(np.log(lo) - 40.0, np.log(lo) + 10.0), _EXP_BOUNDS,
              (np.log(lo) - 40.0, np.log(lo) + 10.0), _EXP_BOUNDS,
              (np.log(lo) - 30.0, np.log(lo))]
    objective = _huber_objective(model, ln_l, delta, batched=True)
    theta, value, note = _multistart(objective, np.array(starts), bounds,
                                     names=("ln a", "alpha", "ln b", "beta", "ln E"))
    la, alpha, lb, beta, le = theta
    a, b = np.exp(la + alpha * cn), np.exp(lb + beta * cd)
    fitted = laws.loss_law(n, d, a, alpha, b, beta) + np.exp(le)
    return _result("loss_law_floor", LOSS_LAW_E, (a, alpha, b, beta, np.exp(le)),
                   loss - fitted, value, note)


def _nonneg_2(u: np.ndarray, v: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least squares `y ~ p*u + q*v` with p, q >= 0 (2x2 normal equations, then the faces)."""
    uu, vv, uv, uy, vy = u @ u, v @ v, u @ v, u @ y, v @ y
    det = uu * vv - uv * uv
    if det > 1e-12 * uu * vv:
        p, q = (vv * uy - uv * vy) / det, (uu * vy - uv * uy) / det
        if p > 0 and q > 0:
            return p, q
    cands = [(max(uy / uu, 1e-12), 1e-12), (1e-12, max(vy / vv, 1e-12))]
    return min(cands, key=lambda pq: float(np.sum((pq[0] * u + pq[1] * v - y) ** 2)))


def _linear_cd(basis: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form (c, d) of `S ~ c*basis + d` for each row of basis (k, n)."""
    bm = basis.mean(axis=1, keepdims=True)
    sm = s.mean()
    cov = ((basis - bm) * (s - sm)).sum(axis=1)
    var = ((basis - bm) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(var > 0, cov / var, np.nan)
    return c, sm - c * bm[:, 0]


def fit_link(loss: np.ndarray, score: np.ndarray, delta: float = 1e-2,
             ceiling: float = 1.0, start: FitResult | None = None) -> FitResult:
    """Fit `S = c/(1 + exp(-gamma*(L - l))) + d` (arXiv 2412.04315, eq. 3), c > 0, gamma < 0,
    and a ceiling no score can exceed: `c + d <= ceiling` (1 for an accuracy).

    The constraint is kept by fitting `c = q*(ceiling - d)` with q in (0, 1]: an unconstrained
    fit of points that have not reached their plateau puts the asymptote anywhere above 1, and
    the inversion then reads real scores off an impossible curve. q = 1 is a plateau at the
    metric's maximum. Huber loss in score units; starts from a grid on (gamma, l) with (c, d)
    in closed form, or only `start` (see fit_loss_law).
    """
    loss, score = np.asarray(loss, dtype=float), np.asarray(score, dtype=float)
    failed = _check_points("link", LINK, [loss, score], need=5, positive=False)
    if failed:
        return failed
    span = float(np.ptp(loss)) or 1.0
    u = float(ceiling)

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q, gamma, l, d = theta  # noqa: E741
        c = q * (u - d)
        sig = 1.0 / (1.0 + np.exp(-gamma * (loss - l)))
        ds = sig * (1.0 - sig)
        jac = np.stack([(u - d) * sig, c * ds * (loss - l), -c * ds * gamma, 1.0 - q * sig],
                       axis=-1)
        return c * sig + d, jac

    grid = [(-g / span, l) for g in (0.5, 1, 2, 4, 8, 16, 32)
            for l in np.quantile(loss, [0.0, 0.25, 0.5, 0.75, 1.0])]  # noqa: E741
    gam, ell = np.array(grid).T
    basis = 1.0 / (1.0 + np.exp(-gam[:, None] * (loss[None, :] - ell[:, None])))
    c, d = _linear_cd(basis, score)
    d = np.clip(np.nan_to_num(d), -1.0, u - 1e-3)
    q = np.clip(np.abs(np.nan_to_num(c, nan=0.5)) / (u - d), 1e-6, 1.0)
    starts = np.stack([q, gam, ell, d], axis=1)
    if start is not None:
        starts = np.array([[start["c"] / (u - start["d"]), start["gamma"], start["l"],
                            start["d"]]])
    bounds = [(1e-6, 1.0), (-1e3 / span, -1e-6), (float(loss.min()) - 10 * span,
              float(loss.max()) + 10 * span), (-1.0, u - 1e-6)]
    objective = _huber_objective(model, score, delta, batched=True)
    theta, value, note = _multistart(objective, starts, bounds, names=LINK)
    q, gamma, l, d = theta  # noqa: E741
    values = (q * (u - d), gamma, l, d)
    fitted = laws.link(loss, *values)
    return _result("link", LINK, values, score - fitted, value, _plateau_ok(note, q))


def _plateau_ok(note: str, q: float) -> str:
    """q = 1 (a plateau at the metric's maximum) is a physical limit, not a search bound."""
    if q < 1.0 - 1e-9 or AT_BOUND not in note:
        return note
    head, _, rest = note.partition(AT_BOUND + ": ")
    names, sep, tail = rest.partition(";")
    left = [x for x in names.split(",") if x != "c"]
    kept = (AT_BOUND + ": " + ",".join(left)) if left else ""
    return "; ".join(x.strip("; ") for x in (head, kept, tail) if x.strip("; "))


def fit_composed(n: np.ndarray, d: np.ndarray, score: np.ndarray, delta: float = 1e-2,
                 ceiling: float = 1.0, start: FitResult | None = None) -> FitResult:
    """Accuracy-only fit.

    `S = c/(1 + exp(-gamma*(a*N^(-alpha) + b*D^(-beta) - l))) + d` fitted to (N, D, S) directly.

    `l` is fixed at 0 as the page prescribes. With l = 0 the scale of (a, b) and gamma trade off
    exactly (only gamma*a and gamma*b enter), so gamma is fixed at -1 to make the fit identifiable;
    the effective size N^ does not depend on that choice. Bounds: exponents in [1e-3, 3],
    0 <= d < ceiling, and c + d <= ceiling (as `c = q*(ceiling - d)`, q in (0, 1]; see fit_link).
    `start`: start only there (see fit_loss_law).
    """
    n, d, score = (np.asarray(v, dtype=float) for v in (n, d, score))
    failed = _check_points("composed", COMPOSED, [n, d], need=6)
    if failed or not np.all(np.isfinite(score)):
        return failed or _failed("composed", COMPOSED, "non-finite scores", len(score))
    ln_n, ln_d = np.log(n), np.log(d)
    u = float(ceiling)

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        la, alpha, lb, beta, q, dd = theta
        c = q * (u - dd)
        t1, t2 = np.exp(la - alpha * ln_n), np.exp(lb - beta * ln_d)
        sig = 1.0 / (1.0 + np.exp(t1 + t2))  # gamma = -1, l = 0
        ds = -c * sig * (1.0 - sig)
        jac = np.stack([ds * t1, -ds * t1 * ln_n, ds * t2, -ds * t2 * ln_d, (u - dd) * sig,
                        1.0 - q * sig], axis=-1)
        return c * sig + dd, jac

    mid_n, mid_d = float(np.median(ln_n)), float(np.median(ln_d))
    grid = np.array([(alpha, beta, s1, s2) for alpha in (0.1, 0.25, 0.5, 1.0)
                     for beta in (0.1, 0.25, 0.5, 1.0) for s1 in (0.25, 1.0, 4.0)
                     for s2 in (0.25, 1.0, 4.0)])
    la = np.log(grid[:, 2]) + grid[:, 0] * mid_n
    lb = np.log(grid[:, 3]) + grid[:, 1] * mid_d
    with np.errstate(over="ignore"):
        lsum = np.exp(la[:, None] - grid[:, :1] * ln_n) + np.exp(lb[:, None] - grid[:, 1:2] * ln_d)
        basis = 1.0 / (1.0 + np.exp(lsum))
    c, dd = _linear_cd(basis, score)
    dd = np.clip(np.nan_to_num(dd), 0.0, u - 1e-3)
    q = np.clip(np.abs(np.nan_to_num(c, nan=0.5)) / (u - dd), 1e-6, 1.0)
    starts = np.stack([la, grid[:, 0], lb, grid[:, 1], q, dd], axis=1)
    if start is not None:
        starts = np.array([[np.log(start["a"]), start["alpha"], np.log(start["b"]),
                            start["beta"], start["c"] / (u - start["d"]), start["d"]]])
    bounds = [_LOG_COEF_BOUNDS, _EXP_BOUNDS, _LOG_COEF_BOUNDS, _EXP_BOUNDS, (1e-6, 1.0),
              (0.0, u - 1e-6)]
    objective = _huber_objective(model, score, delta, batched=True)
    theta, value, note = _multistart(objective, starts, bounds,
                                     names=("ln a", "alpha", "ln b", "beta", "c", "d"))
    la, alpha, lb, beta, q, dd = theta
    c = q * (u - dd)
    note = _plateau_ok(note, q)
    values = (np.exp(la), alpha, np.exp(lb), beta, c, -1.0, 0.0, dd)
    loss = laws.loss_law(n, d, values[0], alpha, values[2], beta)
    fitted = laws.link(loss, c, -1.0, 0.0, dd)
    return _result("composed", COMPOSED, values, score - fitted, value, note)


def fit_saturating_loss(x: np.ndarray, loss: np.ndarray, delta: float = 1e-3) -> FitResult:
    """Losses with >= 5 points: `L = E + A*X^(-alpha)`, `X = 10**x`.

    Huber on `ln(L^) - ln(L)`; parameters `(ln E, ln A, alpha)`, all positive.
    """
    x, loss = np.asarray(x, dtype=float), np.asarray(loss, dtype=float)
    failed = _check_points("saturating_loss", SATURATING, [loss], need=5)
    if failed or not np.all(np.isfinite(x)):
        return failed or _failed("saturating_loss", SATURATING, "non-finite x", len(x))
    ln10x = np.log(10.0) * (x - x.mean())  # centred so ln A stays moderate

    def model(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        le, la, alpha = theta
        t2 = la - alpha * ln10x
        pred = np.logaddexp(le, t2)
        w1 = np.exp(le - pred)
        w2 = 1.0 - w1
        return pred, np.stack([w1, w2, -w2 * ln10x], axis=-1)

    lo = float(loss.min())
    starts = [[np.log(f * lo), np.log(max(float(np.median(loss)) - f * lo, 1e-6 * lo)), alpha]
              for f in (0.01, 0.5, 0.9) for alpha in (0.05, 0.2, 0.5, 1.0)]
    bounds = [(np.log(lo) - 30, np.log(lo) + 1), (-60.0, 60.0), _EXP_BOUNDS]
    objective = _huber_objective(model, np.log(loss), delta, batched=True)
    theta, value, note = _multistart(objective, np.array(starts), bounds)
    le, la, alpha = theta
    # report A for X = 10**x (undo the centring)
    a = np.exp(la + alpha * np.log(10.0) * x.mean())
    fitted = laws.saturating_loss(np.exp(le), a, alpha, x)
    return _result("saturating_loss", SATURATING, (np.exp(le), a, alpha), loss - fitted, value,
                   note)
