"""Point facts: standard errors, normalised scores and point status.

`y~ = (y - r)/(u - r)`, `s~ = s/(u - r)`, `s` the reported stderr, else the binomial
`sqrt(y(1 - y)/n_items)`; z = 2. Status: `below_chance` if `y~ < -z*s~`; `at_chance` if
`y~ < z*s~`; `saturated` if `y~ > 1 - z*s~` or `y~ >= 0.98`; else `ok`. Without stderr and
n_items, 0.01 stands in for `z*s~`. Lower-is-better metrics (losses) have no chance level: `ok`.
"""

from __future__ import annotations

import numpy as np

from .config import MetricsConfig

OK = "ok"
AT_CHANCE = "at_chance"
BELOW_CHANCE = "below_chance"
SATURATED = "saturated"


def stderr(value: np.ndarray, reported: np.ndarray, n_items: np.ndarray) -> np.ndarray:
    """Reported stderr, else binomial `sqrt(y(1 - y)/n_items)` for y in [0, 1], else NaN."""
    value, reported, n_items = (np.asarray(v, dtype=float) for v in (value, reported, n_items))
    with np.errstate(invalid="ignore", divide="ignore"):
        binomial = np.sqrt(value * (1.0 - value) / n_items)
    binomial = np.where((value >= 0) & (value <= 1) & (n_items > 0), binomial, np.nan)
    return np.where(np.isfinite(reported), reported, binomial)


def z_band(s: np.ndarray, chance: np.ndarray, ceiling: np.ndarray, config: MetricsConfig):
    """`z*s` in raw score units; `0.01*(u - r)` where s is unknown."""
    s = np.asarray(s, dtype=float)
    width = np.asarray(ceiling, dtype=float) - np.asarray(chance, dtype=float)
    return np.where(np.isfinite(s), config.z * s, config.unknown_zs * width)


def normalised(value: np.ndarray, chance: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """`y~ = (y - r)/(u - r)`."""
    return (np.asarray(value, dtype=float) - chance) / (np.asarray(ceiling, dtype=float) - chance)


def status(
    value: np.ndarray,
    zs: np.ndarray,
    chance: np.ndarray,
    ceiling: np.ndarray,
    higher: np.ndarray,
    config: MetricsConfig,
) -> np.ndarray:
    """Point status (zs = z*s in raw units, from `z_band`)."""
    yt = normalised(value, chance, ceiling)
    zst = np.asarray(zs, dtype=float) / (np.asarray(ceiling, dtype=float) - chance)
    out = np.full(yt.shape, OK, dtype=object)
    out[(yt > 1.0 - zst) | (yt >= config.saturation)] = SATURATED
    out[yt < zst] = AT_CHANCE
    out[yt < -zst] = BELOW_CHANCE
    out[~np.asarray(higher, dtype=bool)] = OK
    return out
