"""Metric settings: every constant the methodology page names, in one frozen, overridable object.

The defaults are the normative values. A YAML file with the same keys may override them
(`densitometer metrics --config metrics.yaml`); unknown keys are errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The reference family the site headlines when several are available.
DEFAULT_REFERENCE = "pythia-deduped"


class ConfigError(ValueError):
    """A metrics configuration value is unknown or invalid."""


@dataclasses.dataclass(frozen=True)
class MetricsConfig:
    """Constants of the methodology page; comments name the section they belong to."""

    # Capacity density
    d0: float = 1e12  # data size D0 at which effective parameters are read off (tokens)
    default_reference: str = DEFAULT_REFERENCE
    # Reference families to compute density against; empty = every `reference: true` family.
    references: tuple[str, ...] = ()
    huber_delta_loss: float = 1e-3  # Huber delta of the loss-law fit (log space)
    huber_delta_score: float = 1e-2  # Huber delta of fits in score units (link, composed curve)
    min_reference_points: int = 6  # fewer (N, D) points than this: the reference fit is refused
    min_reference_r2: float = 0.8  # a reference fit explaining less of the scores is not used
    # A reference task is used only where the reference measures it: at least this many points
    # clearly above chance and below saturation (point status ok), from this many sizes.
    min_informative_points: int = 4
    min_informative_sizes: int = 3
    # N^ is a number only inside [smallest / f, largest * f] of the reference models' sizes;
    # outside, it is a bound (> or <) with its status.
    extrapolation_factor: float = 3.0
    # refits of each reference fit on resamples of the reference's models: the intervals of
    # N^ and density (with the target's own score error); 0 turns intervals off
    reference_bootstrap: int = 100
    # Ladder predictions: both steps fitted on the runs up to each size that has this many
    # sizes at or below it; step 2 skips each run's checkpoints before this share of its
    # tokens (the ladder paper's 10%); refits on resampled runs for the intervals
    ladder_min_sizes: int = 3
    ladder_skip_fraction: float = 0.1
    ladder_bootstrap: int = 50
    # log10 D must vary this much (sd, decades) around its line in log10 N (else D ~ N^k)
    min_token_spread: float = 0.05
    epoch: dt.date = dt.date(2023, 2, 24)  # t = 0 of the densing law (Llama-1 release)
    densing_fit_before_epoch: bool = False  # fit models released before t = 0 too (not shown)
    # record-setting models (on distinct dates) the densing law needs before it is a figure
    densing_min_records: int = 5
    bootstrap_draws: int = 1000
    seed: int = 20230224
    # Point status and scaling predictability
    z: float = 2.0
    saturation: float = 0.98  # normalised score at or above which a point is saturated
    unknown_zs: float = 0.01  # stands in for z*s~ when neither stderr nor n_items is known
    error_floor: float = 1e-4  # clip of e = 1 - y~ before the log in P_pow
    loss_law_min_points: int = 5  # losses: E + A*X^(-alpha) from this many points on
    monotone_rho: float = 0.8  # T3: a family counts as monotone at Spearman rho >= this
    inverse_rho: float = -0.5  # F7: inverse needs Spearman rho <= this
    emergence_b: float = 3.0  # F6: emergent when B~ >= this
    emergence_min_last: float = 0.1  # F6: last point's normalised score at least this
    bin_decades: float = 0.5  # T4-T6: width of compute bins (decades)
    # Checkpoint series
    checkpoint_k: int = 5
    checkpoint_min: int = 3
    window_fraction: float = 0.01  # C1: checkpoints with tokens >= 1% of final
    forecast_fractions: tuple[float, ...] = (0.1, 0.3)  # C5

    def with_overrides(self, values: Mapping[str, Any]) -> MetricsConfig:
        """A copy with fields replaced; names and types are checked."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(
                    f"unknown metrics setting {key!r}; expected one of {', '.join(sorted(fields))}"
                )
            default = getattr(self, key)
            clean[key] = _coerce(key, value, default)
        return dataclasses.replace(self, **clean)


def _coerce(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, found {value!r}")
        kind = type(default[0]) if default else str
        return tuple(kind(v) for v in value)
    if isinstance(default, dt.date):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"{key}: expected a date YYYY-MM-DD, found {value!r}") from exc
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, found {value!r}")
        return value
    if not isinstance(default, int | float | str):
        raise ConfigError(f"{key}: cannot be set from configuration")
    try:
        out = type(default)(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: expected {type(default).__name__}, found {value!r}") from exc
    if isinstance(out, float) and not out == out:  # NaN
        raise ConfigError(f"{key}: must be a number, found NaN")
    return out


def load_config(path: Path | None = None, **overrides: Any) -> MetricsConfig:
    """Defaults, then the YAML file at `path` (if given), then keyword overrides."""
    import yaml

    config = MetricsConfig()
    if path is not None:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            found = type(data).__name__
            raise ConfigError(f"{path}: expected a mapping of settings, found {found}")
        config = config.with_overrides(data)
    return config.with_overrides({k: v for k, v in overrides.items() if v is not None})
