"""Loading a validated results tree into tidy pandas DataFrames.

The column contract (documented here, relied on by metrics and the site):

scores      one row per score: path, family, model, setting, revision, step (Int64), tokens,
            final, task, metric, value, stderr, n_items, n_shot, answer_nll_token,
            answer_nll_byte, heldout_nll_token (the result's held-out loss, on every row of
            it), tier, source, primary (False for rows from `extra`), aggregate
models      one row per model: model, family, name, hf_id, kind, moe, open_weights, open_data,
            architecture, n_total, n_non_embedding, n_embedding, n_active,
            n_active_non_embedding (each with <col>_source), n_fit, n_fit_basis,
            training_tokens, release_date (datetime64), release_date_source
families    family, name, organisation, reference, license, training_data, tokenizer, description
tasks       task, name, harness_task, metric, direction, chance, ceiling, n_items, output_type,
            category, parent, description, citation, url
settings    setting, name, harness, harness_version, n_shot, prompt_variant, source, description
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .schema import Model, Result
from .validate import Tree, ValidationFailed, validate_tree

if TYPE_CHECKING:
    from evalrunner.memo import Memo

SCORE_COLUMNS = [
    "path", "family", "model", "setting", "revision", "step", "tokens", "final", "task", "metric",
    "value", "stderr", "n_items", "n_shot", "answer_nll_token", "answer_nll_byte",
    "heldout_nll_token", "tier", "source", "primary", "aggregate",
]
COUNT_KINDS = ["total", "non_embedding", "embedding", "active", "active_non_embedding"]
# The parameter count that scaling fits and density use, best first.
FIT_PREFERENCE = ["active_non_embedding", "non_embedding", "active", "total"]
MODEL_COLUMNS = (
    ["model", "family", "name", "hf_id", "kind", "moe", "open_weights", "open_data",
     "architecture"]
    + [c for k in COUNT_KINDS for c in (f"n_{k}", f"n_{k}_source")]
    + ["n_fit", "n_fit_basis", "training_tokens", "release_date", "release_date_source"]
)
FAMILY_COLUMNS = ["family", "name", "organisation", "reference", "license", "training_data",
                  "tokenizer", "description"]
TASK_COLUMNS = ["task", "name", "harness_task", "metric", "direction", "chance", "ceiling",
                "n_items", "output_type", "category", "parent", "description", "citation", "url"]
SETTING_COLUMNS = ["setting", "name", "harness", "harness_version", "n_shot", "prompt_variant",
                   "source", "description"]


@dataclass(frozen=True)
class Frames:
    scores: pd.DataFrame
    models: pd.DataFrame
    families: pd.DataFrame
    tasks: pd.DataFrame
    settings: pd.DataFrame


def load_frames(root: Path, jobs: int | None = None, memo: Memo | None = None) -> Frames:
    """Validate the tree at root and load it; raises ValidationFailed listing every error.

    `memo`: the build's store (evalrunner.memo) so unchanged files are not parsed again;
    None parses everything."""
    report = validate_tree(Path(root), jobs=jobs, memo=memo)
    if not report.ok:
        raise ValidationFailed(report)
    return frames_from_tree(report.tree)


def _source(result: Result) -> str:
    p = result.provenance
    if p.kind == "import":
        return f"import:{p.repository}"
    if p.kind == "submission":
        return f"submission:{p.submitter}"
    if p.kind == "report":
        return f"report:{p.reporter or p.file}"
    return "runner"


def _score_rows(rel: str, family: str, r: Result) -> list[tuple]:
    rev = r.revision
    common = (rel, family, r.model, r.setting, rev.id, rev.step,
              np.nan if rev.tokens is None else float(rev.tokens), rev.final)
    held = _nan(r.heldout_loss.per_token if r.heldout_loss else None)
    tail = (held, r.tier, _source(r))
    rows = []
    for task, s in r.scores.items():
        loss = s.answer_loss
        rows.append(common + (
            task, s.metric, s.value, _nan(s.stderr), _nan(s.n_items), _nan(s.n_shot),
            _nan(loss.per_token if loss else None), _nan(loss.per_byte if loss else None),
        ) + tail + (True, s.aggregate is not None))
        for metric, extra in s.extra.items():
            rows.append(common + (
                task, metric, extra.value, _nan(extra.stderr), _nan(s.n_items), _nan(s.n_shot),
                np.nan, np.nan,
            ) + tail + (False, s.aggregate is not None))
    return rows


def _nan(value: float | int | None) -> float:
    return np.nan if value is None else float(value)


def _model_row(m: Model) -> dict:
    row: dict = {
        "model": m.id, "family": m.family, "name": m.name, "hf_id": m.hf_id, "kind": m.kind,
        "moe": m.moe, "open_weights": m.open_weights, "open_data": m.open_data,
        "architecture": m.architecture,
    }
    for kind in COUNT_KINDS:
        count = getattr(m.params, kind)
        row[f"n_{kind}"] = _nan(count.value if count else None)
        row[f"n_{kind}_source"] = count.source if count else None
    basis = next((k for k in FIT_PREFERENCE if getattr(m.params, k) is not None), None)
    row["n_fit"] = row[f"n_{basis}"] if basis else np.nan
    row["n_fit_basis"] = basis
    row["training_tokens"] = _nan(m.training_tokens.value if m.training_tokens else None)
    row["release_date"] = pd.Timestamp(m.release_date.date) if m.release_date else pd.NaT
    row["release_date_source"] = m.release_date.source if m.release_date else None
    return row


def frames_from_tree(tree: Tree) -> Frames:
    """Tidy frames from parsed documents, rows sorted so output is deterministic."""
    return registry_frames(tree, scores_frame(tree.results))


def scores_frame(results: Iterable[tuple[str, Result]]) -> pd.DataFrame:
    """The scores frame of (rel, result) pairs, sorted (sort_scores)."""
    rows = [row for rel, r in results for row in _score_rows(rel, rel.split("/")[0], r)]
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    scores["step"] = scores["step"].astype("Int64")
    for col in ("tokens", "value", "stderr", "n_items", "n_shot", "answer_nll_token",
                "answer_nll_byte", "heldout_nll_token"):
        scores[col] = scores[col].astype("float64")
    for col in ("final", "primary", "aggregate"):
        scores[col] = scores[col].astype(bool)
    return sort_scores(scores)


def sort_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Score rows in their published order. In a valid tree the keys are unique (a file is one
    model, setting and revision; a file's rows differ in task, primary or metric), so the
    order does not depend on the order rows came in: stored groups' rows plus new ones sort
    exactly as the whole tree does."""
    return scores.sort_values(["family", "model", "setting", "step", "revision", "task",
                               "primary", "metric"], ascending=[True] * 6 + [False, True],
                              kind="stable").reset_index(drop=True)


def registry_frames(tree: Tree, scores: pd.DataFrame) -> Frames:
    """Frames: `scores` as given, the others from the tree's registries."""
    models = pd.DataFrame([_model_row(m) for m in tree.models.values()], columns=MODEL_COLUMNS)
    models["release_date"] = pd.to_datetime(models["release_date"])
    models = models.sort_values("model", kind="stable").reset_index(drop=True)

    families = pd.DataFrame(
        [{"family": f.id, **{c: getattr(f, c) for c in FAMILY_COLUMNS[1:]}}
         for f in tree.families.values()], columns=FAMILY_COLUMNS,
    ).sort_values("family", kind="stable").reset_index(drop=True)
    tasks = pd.DataFrame(
        [{"task": t.id, **{c: getattr(t, c) for c in TASK_COLUMNS[1:]}}
         for t in tree.tasks.values()], columns=TASK_COLUMNS,
    ).sort_values("task", kind="stable").reset_index(drop=True)
    settings = pd.DataFrame(
        [{"setting": s.id, **{c: getattr(s, c) for c in SETTING_COLUMNS[1:]}}
         for s in tree.settings.values()], columns=SETTING_COLUMNS,
    ).sort_values("setting", kind="stable").reset_index(drop=True)
    return Frames(scores, models, families, tasks, settings)


__all__ = ["Frames", "ValidationFailed", "frames_from_tree", "load_frames", "SCORE_COLUMNS",
           "MODEL_COLUMNS", "scores_frame", "sort_scores", "registry_frames"]
