"""From loaded frames to the one tidy table every metric reads (METRICS.md 0).

Keeps primary-metric rows of non-bias tasks, joins task facts (chance r, ceiling u, direction),
model facts (N = n_fit, kind, release date) and family facts (reference), fills the training
tokens of final revisions from the model where the revision does not state them, and adds the
effective stderr, `z*s` band and point status. Inputs are checked loudly: unknown tasks or
models, non-finite values and scores outside [chance floor, ceiling] raise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from . import points
from .config import MetricsConfig

ORDER = ["setting", "source", "family", "kind", "model", "task", "metric", "tokens", "revision"]


class MetricsInputError(ValueError):
    """Frames handed to the metrics break the frame contract; the message names the rows."""


@dataclasses.dataclass(frozen=True)
class Prepared:
    """rows: every usable score; finals: one final revision per (model, setting, source, task)."""

    rows: pd.DataFrame
    finals: pd.DataFrame


def _check(cond: np.ndarray, rows: pd.DataFrame, what: str, expected: str) -> None:
    if np.any(cond):
        bad = rows.loc[cond, ["model", "setting", "revision", "task", "value"]].head(5)
        listing = "; ".join(
            f"{r.model}/{r.setting}/{r.revision} {r.task}={r.value!r}" for r in bad.itertuples()
        )
        raise MetricsInputError(f"{int(np.sum(cond))} score(s) {what} (expected {expected}): "
                                f"{listing}")


def _lookup(keys: pd.Series, table: pd.Series) -> np.ndarray:
    """table[key] for every key, through the distinct keys (fast on arrow-backed strings)."""
    codes, uniques = pd.factorize(keys)
    return table.reindex(uniques).to_numpy()[codes]


def prepare(frames: Any, config: MetricsConfig) -> Prepared:
    """The tidy score table (see module docstring); `frames` follows the Frames contract."""
    scores = frames.scores
    tasks = frames.tasks.set_index("task")
    unknown = sorted(set(scores["task"].unique()) - set(tasks.index))
    if unknown:
        raise MetricsInputError(f"scores name tasks missing from tasks.yaml: {unknown[:10]}")
    models = frames.models.set_index("model")
    missing = sorted(set(scores["model"].unique()) - set(models.index))
    if missing:
        raise MetricsInputError(f"scores name models without model.yaml: {missing[:10]}")

    rows = scores.loc[scores["primary"].astype(bool)].copy()
    rows["chance"] = _lookup(rows["task"], tasks["chance"]).astype(float)
    rows["ceiling"] = _lookup(rows["task"], tasks["ceiling"]).astype(float)
    rows["higher"] = _lookup(rows["task"], tasks["direction"].astype(str)) != "lower"
    rows["category"] = _lookup(rows["task"], tasks["category"].astype(str))
    rows["parent"] = _lookup(rows["task"], tasks["parent"])
    rows = rows.loc[rows["category"] != "bias"]  # bias tasks never enter any metric
    for col in ("kind", "n_fit", "release_date", "training_tokens"):
        rows[col] = _lookup(rows["model"], models[col])
    refs = frames.families.set_index("family")["reference"]
    rows["family_reference"] = pd.Series(_lookup(rows["family"], refs), index=rows.index
                                         ).fillna(False).astype(bool)

    value = rows["value"].to_numpy(dtype=float)
    _check(~np.isfinite(value), rows, "are not finite", "a finite number")
    higher = rows["higher"].to_numpy()
    lo = np.minimum(0.0, rows["chance"].to_numpy())
    hi = rows["ceiling"].to_numpy()
    _check(higher & ((value < lo - 1e-9) | (value > hi + 1e-9)), rows, "lie outside [0, ceiling]",
           "a fraction, e.g. 0.53 rather than 53")

    # Final revisions without a token count inherit the model's training tokens.
    fill = rows["final"].astype(bool) & rows["tokens"].isna()
    rows.loc[fill, "tokens"] = rows.loc[fill, "training_tokens"]
    rows["tokens"] = rows["tokens"].astype(float)
    rows = annotate(rows, config)
    rows = rows.sort_values(ORDER, kind="stable").reset_index(drop=True)

    finals = rows.loc[rows["final"].astype(bool)]
    # Several final revisions of one model in one setting and source: the most trained counts.
    finals = finals.sort_values(ORDER[:-2] + ["tokens", "revision"], kind="stable",
                                ascending=[True] * 7 + [False, False], na_position="last")
    finals = finals.drop_duplicates(["model", "setting", "source", "task", "metric"])
    finals = finals.sort_values(ORDER, kind="stable").reset_index(drop=True)
    return Prepared(rows=rows, finals=finals)


def annotate(rows: pd.DataFrame, config: MetricsConfig) -> pd.DataFrame:
    """Add s (effective stderr), zs (`z*s` in raw units), y_norm and point_status columns."""
    rows = rows.copy()
    value = rows["value"].to_numpy(dtype=float)
    chance, ceiling = rows["chance"].to_numpy(dtype=float), rows["ceiling"].to_numpy(dtype=float)
    s = points.stderr(value, rows["stderr"].to_numpy(dtype=float),
                      rows["n_items"].to_numpy(dtype=float))
    rows["s"] = s
    rows["zs"] = points.z_band(s, chance, ceiling, config)
    rows["y_norm"] = points.normalised(value, chance, ceiling)
    rows["point_status"] = points.status(value, rows["zs"].to_numpy(), chance, ceiling,
                                         rows["higher"].to_numpy(), config)
    return rows
