"""What every page is generated from: the loaded results, the parsed documents and the metrics.

`load_site_data(root)` validates and loads the tree (the lead's loader), keeps the parsed
documents for what the frames leave out (provenance, links, notes), and computes the metric tables
when the metrics stage is importable. Nothing here formats or writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalrunner.results.groups import load_tree
from evalrunner.results.load import Frames
from evalrunner.results.schema import Result
from evalrunner.results.validate import Tree

if TYPE_CHECKING:
    from evalrunner.memo import Memo


@dataclass(frozen=True)
class SiteData:
    """Everything the pages stage reads. `metrics` maps table name -> DataFrame (may be empty)."""

    frames: Frames
    tree: Tree
    metrics: dict[str, pd.DataFrame] = field(default_factory=dict)
    registry: list[dict[str, Any]] = field(default_factory=list)
    metrics_note: str = ""  # why metrics are missing, shown on the pages that need them
    reference: str | None = None  # the headline reference family for density
    d0: float | None = None
    # rel path under the results root -> blake2b digest of its bytes, every file (registries
    # and results): what the pages' fingerprints are made of
    digests: Mapping[str, str] = field(default_factory=dict)
    # rel -> Result; load_site_data gives a lazy mapping (groups.LazyResults) on a rebuild
    results: Mapping[str, Result] | None = None

    def with_metrics(self, metrics: Mapping[str, pd.DataFrame]) -> SiteData:
        """This data with other metric tables; what it computed once stays computed."""
        view = replace(self, metrics=metrics)
        for memo in ("_shown", "_by_path"):
            if memo in self.__dict__:
                object.__setattr__(view, memo, self.__dict__[memo])
        return view

    @property
    def shown_revisions(self) -> pd.DataFrame:
        """leaderboard_revisions of every primary score, computed once (a forked page writer
        inherits it): the revision each model shows per setting."""
        cached = self.__dict__.get("_shown")
        if cached is None:
            scores = self.frames.scores
            cached = leaderboard_revisions(scores[scores["primary"]])
            object.__setattr__(self, "_shown", cached)
        return cached

    @property
    def result_by_path(self) -> Mapping[str, Result]:
        """The parsed result file at each path (relative to the results root)."""
        if self.results is not None:
            return self.results
        cached = self.__dict__.get("_by_path")
        if cached is None:
            cached = dict(self.tree.results)
            object.__setattr__(self, "_by_path", cached)
        return cached


def load_site_data(root: Path, with_metrics: bool = True,
                   samples: Path | None = None, memo: Memo | None = None) -> SiteData:
    """Validate and load results/ at root; compute metrics if the metrics stage is available.

    `samples`: the runner's per-sample logs (default `<root>/../samples` when it exists), read
    for the diagnostics and pass@k tables. `memo`: the build's store (evalrunner.memo), so
    a rebuild checks and loads only the models whose result files changed (results/groups.py)
    and refits only what moved; None checks and fits everything.
    Raises ValidationFailed with the full report when the tree has errors."""
    loaded = load_tree(Path(root), memo)
    frames = loaded.frames
    if not with_metrics:
        return SiteData(frames, loaded.tree, metrics_note="metrics were not computed",
                        digests=loaded.digests, results=loaded.results)
    from .metrics_bridge import compute_metrics

    tables, registry, note, reference, d0 = compute_metrics(
        frames, items=_items(frames, loaded.results, Path(root), samples),
        memo=memo)
    return SiteData(frames, loaded.tree, tables, registry, note, reference, d0,
                    loaded.digests, loaded.results)


def _items(frames: Frames, results: Mapping[str, Result], root: Path,
           samples: Path | None) -> pd.DataFrame | None:
    """Per-item rows of the tree's runner results (evalrunner.metrics.itemdata), or None.
    The scores' source is "runner" exactly for them: only they are turned into Results."""
    try:
        from evalrunner.metrics import itemdata
    except ImportError:
        return None
    folder = samples if samples is not None else itemdata.default_samples_dir(root)
    if not folder.is_dir():
        return None
    found = [itemdata.RunnerResult(rel.split("/")[0], r.model, r.setting, r.revision.id,
                                   r.provenance.samples_sha256)
             for rel, r in ((p, results[p]) for p in _runner_paths(frames))
             if r.provenance.kind == "runner"]
    return itemdata.load_items(folder, found).items if found else None


def _runner_paths(frames: Frames) -> list[str]:
    """Sorted paths of the runner's results (every result has scores, so every one is here)."""
    scores = frames.scores
    return sorted(set(scores.loc[scores["source"] == "runner", "path"]))


def leaderboard_revisions(scores: pd.DataFrame) -> pd.DataFrame:
    """The revision each model shows per setting: a final one (latest step), else the latest.

    Returns columns model, setting, revision (one row per model and setting).
    """
    revs = scores[["model", "setting", "revision", "step", "final"]].drop_duplicates(
        ["model", "setting", "revision"])
    revs = revs.assign(_step=revs["step"].astype("float64").fillna(-1.0))
    revs = revs.sort_values(["model", "setting", "final", "_step", "revision"], kind="stable")
    return revs.groupby(["model", "setting"], sort=True).tail(1)[
        ["model", "setting", "revision"]].reset_index(drop=True)


def top_tasks(frames: Frames) -> list[str]:
    """Task ids that are not subtasks, in registry order (sorted by id)."""
    t = frames.tasks
    return list(t.loc[t["parent"].isna(), "task"])


def task_info(frames: Frames) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in frames.tasks.to_dict("records")}
