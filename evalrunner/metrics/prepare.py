"""From loaded frames to the one tidy table every metric reads.

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

from . import points, tabular
from .config import MetricsConfig

ORDER = ["setting", "source", "family", "kind", "model", "task", "metric", "tokens", "revision"]


class MetricsInputError(ValueError):
    """Frames handed to the metrics break the frame contract; the message names the rows."""


@dataclasses.dataclass(frozen=True)
class Prepared:
    """rows: every usable score; finals: one final revision per (model, setting, source, task)."""

    rows: pd.DataFrame
    finals: pd.DataFrame


def _check(cond: np.ndarray, scores: pd.DataFrame, keep: np.ndarray, what: str,
           expected: str) -> None:
    """Raise naming the first kept score rows (positions `keep`) where `cond` holds."""
    if np.any(cond):
        bad = scores.iloc[keep[cond][:5]][["model", "setting", "revision", "task", "value"]]
        listing = "; ".join(
            f"{r.model}/{r.setting}/{r.revision} {r.task}={r.value!r}" for r in bad.itertuples()
        )
        raise MetricsInputError(f"{int(np.sum(cond))} score(s) {what} (expected {expected}): "
                                f"{listing}")


class _Lookup:
    """table[key] for every row, through the distinct keys (factorised once per key column)."""

    def __init__(self, keys: pd.Series):
        self.codes, self.uniques = pd.factorize(keys)

    def __call__(self, table: pd.Series, at: np.ndarray | None = None) -> np.ndarray:
        """As a NumPy array (rows `at` only, if given)."""
        codes = self.codes if at is None else self.codes[at]
        return table.reindex(self.uniques).to_numpy()[codes]

    def column(self, table: pd.Series, at: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """Rows `at` in the table's own dtype (strings stay Arrow strings, no Python objects)."""
        return table.reindex(self.uniques).array.take(self.codes[at])

    def sort_key(self, table: pd.Series, at: np.ndarray) -> np.ndarray:
        """Codes of table[key] at rows `at` whose order is the values' sort order."""
        return tabular.codes(table.reindex(self.uniques))[self.codes[at]]


def prepare(frames: Any, config: MetricsConfig) -> Prepared:
    """The tidy score table (see module docstring); `frames` follows the Frames contract.

    Filters, checks and sort keys are computed on arrays; every score column is then taken
    once, in the final order (a frame of millions of rows is never copied step by step).
    """
    scores = frames.scores
    tasks = frames.tasks.set_index("task")
    unknown = sorted(set(scores["task"].unique()) - set(tasks.index))
    if unknown:
        raise MetricsInputError(f"scores name tasks missing from tasks.yaml: {unknown[:10]}")
    models = frames.models.set_index("model")
    missing = sorted(set(scores["model"].unique()) - set(models.index))
    if missing:
        raise MetricsInputError(f"scores name models without model.yaml: {missing[:10]}")

    by_task, by_model = _Lookup(scores["task"]), _Lookup(scores["model"])
    # bias tasks never enter any metric, nor do results another party reports
    keep = np.flatnonzero(scores["primary"].to_numpy(bool)
                          & (by_task(tasks["category"].astype(str)) != "bias")
                          & (scores["tier"].to_numpy() != "reported"))
    chance, ceiling = by_task(tasks["chance"], keep), by_task(tasks["ceiling"], keep)
    facts = {"chance": chance.astype(float), "ceiling": ceiling.astype(float),
             "higher": by_task(tasks["direction"].astype(str), keep) != "lower"}
    value = scores["value"].to_numpy(dtype=float)[keep]
    _check(~np.isfinite(value), scores, keep, "are not finite", "a finite number")
    lo = np.minimum(0.0, facts["chance"])
    _check(facts["higher"] & ((value < lo - 1e-9) | (value > facts["ceiling"] + 1e-9)), scores,
           keep, "lie outside [0, ceiling]", "a fraction, e.g. 0.53 rather than 53")

    # Final revisions without a token count inherit the model's training tokens.
    training_tokens = by_model(models["training_tokens"], keep)
    tokens = scores["tokens"].to_numpy(dtype=float)[keep]
    fill = scores["final"].to_numpy(bool)[keep] & np.isnan(tokens)
    tokens[fill] = training_tokens[fill].astype(float)
    facts.update(point_annotations(value, scores["stderr"].to_numpy(dtype=float)[keep],
                                   scores["n_items"].to_numpy(dtype=float)[keep], facts, config))

    keys = {c: tabular.codes(scores[c])[keep] for c in ORDER if c not in ("kind", "tokens")}
    keys["kind"], keys["tokens"] = by_model.sort_key(models["kind"], keep), tokens
    order = np.lexsort([keys[c] for c in ORDER[::-1]])
    del keys  # large at scale: free before the copy of the table
    at = keep[order]
    rows = scores.iloc[at].reset_index(drop=True)
    rows["tokens"] = tokens[order]
    refs = frames.families.set_index("family")["reference"]
    extra = {"chance": facts["chance"][order], "ceiling": facts["ceiling"][order],
             "higher": facts["higher"][order],
             "category": by_task.column(tasks["category"].astype(str), at),
             "parent": by_task.column(tasks["parent"], at),
             "kind": by_model.column(models["kind"], at),
             "n_fit": by_model(models["n_fit"], at),
             "release_date": by_model(models["release_date"], at),
             "training_tokens": training_tokens[order],
             "family_reference": pd.Series(_Lookup(scores["family"])(refs, at)
                                           ).fillna(False).astype(bool).to_numpy()}
    extra.update({k: facts[k][order] for k in ("s", "zs", "y_norm", "point_status")})
    for name, column in extra.items():  # added in place: no second copy of the table
        rows[name] = column
    rows["answer_loss"] = answer_loss(rows)

    # Several final revisions of one model in one setting and source: the most trained counts.
    at = np.flatnonzero(rows["final"].to_numpy(bool))
    fin = rows[ORDER].iloc[at]  # the sort keys only: no copy of every column
    pick = tabular.sort_order([fin[c] for c in ORDER], [True] * 7 + [False, False])
    first = ~pd.DataFrame({c: tabular.codes(fin[c])[pick] for c in
                           ["model", "setting", "source", "task", "metric"]}).duplicated()
    # one row per (model, setting, source, task, metric), all ORDER keys: rows' order is theirs
    finals = rows.iloc[np.sort(at[pick[first.to_numpy()]])].reset_index(drop=True)
    return Prepared(rows=rows, finals=finals)


def answer_loss(rows: pd.DataFrame) -> np.ndarray:
    """The loss the two-step fits read: the conditional answer loss in nats per answer token;
    nats per byte in a setting whose source gives only that (the OLMo ladder's bits per byte);
    the result's held-out loss in a setting whose scores give no answer loss at all (a grid
    that recorded validation losses only). One kind per setting, so a fit never mixes them."""
    tok = rows["answer_nll_token"].to_numpy(float)
    byte = rows["answer_nll_byte"].to_numpy(float)
    held = rows["heldout_nll_token"].to_numpy(float)
    setting = rows["setting"].to_numpy()
    out = tok.copy()
    only_byte = np.isfinite(byte) & ~np.isfinite(tok)
    if only_byte.any():
        per_byte = np.isin(setting, pd.unique(setting[only_byte]))
        out = np.where(per_byte, byte, out)
    has_answer = np.isfinite(tok) | np.isfinite(byte)
    if np.isfinite(held).any():
        heldout = ~np.isin(setting, pd.unique(setting[has_answer]))
        out = np.where(heldout, held, out)
    return out


def point_annotations(value: np.ndarray, stderr: np.ndarray, n_items: np.ndarray,
                 facts: dict[str, np.ndarray], config: MetricsConfig) -> dict[str, np.ndarray]:
    """s (effective stderr), zs (`z*s` in raw units), y_norm and point_status."""
    chance, ceiling = facts["chance"], facts["ceiling"]
    s = points.stderr(value, stderr, n_items)
    zs = points.z_band(s, chance, ceiling, config)
    return {"s": s, "zs": zs, "y_norm": points.normalised(value, chance, ceiling),
            "point_status": points.status(value, zs, chance, ceiling, facts["higher"], config)}
