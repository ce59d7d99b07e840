"""The compare view: 2-4 models or revisions side by side, rendered in the browser.

The page itself is static; site_src/javascripts/compare.js reads `data/compare.json` (the model
list, task names, settings) and `data/models/<id>.json` for each model picked, and keeps the
selection in the URL (`?s=<setting>&m=<model>[@<revision>]&m=...`).

Per-model file (version 1): {"id", "name", "family", "settings": {setting: {"revisions":
[[id, step, tokens_text, final]], "scores": {revision: {task: [value_pct, stderr_pct]}}}}}
Values are percent with the site's display precision (fmt.SCORE_DIGITS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import fmt
from ..data import SiteData
from ..render import Page


@dataclass(frozen=True)
class ComparePage:
    index_src: str
    max_models: int = 4


def _dump(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      sort_keys=False) + "\n"


def model_files(data: SiteData, ids: list[str] | None = None) -> dict[str, str]:
    """data/models/<id>.json of every model with scores, or of those in `ids` (paths relative
    to docs_dir)."""
    f = data.frames
    fam = f.families.set_index("family")["name"]
    s = f.scores[f.scores["primary"]]
    if ids is not None:
        s = s[s["model"].isin(ids)]
    out: dict[str, str] = {}
    models = f.models.set_index("model")
    # one pass over every score (per model and setting groups were seconds at scale)
    scores: dict[str, dict[str, dict[str, dict[str, list]]]] = {}
    values, errors = fmt.pct_values(s["value"]), fmt.pct_values(s["stderr"])
    for mid, sid, rev, task, v, e in zip(s["model"], s["setting"], s["revision"], s["task"],
                                         values, errors, strict=True):
        scores.setdefault(mid, {}).setdefault(sid, {}).setdefault(rev, {})[task] = [v, e]
    revs = s.drop_duplicates(["model", "setting", "revision"])
    revs = revs.assign(_s=pd.to_numeric(revs["step"].astype("Float64"))).sort_values(
        ["model", "setting", "_s", "revision"], kind="stable")
    revisions: dict[tuple[str, str], list] = {}
    for mid, sid, r, st, t, fi in zip(revs["model"], revs["setting"], revs["revision"],
                                      revs["step"], revs["tokens"], revs["final"], strict=True):
        revisions.setdefault((mid, sid), []).append(
            [r, None if fmt.is_missing(st) else int(st), fmt.count(t), bool(fi)])
    for mid in sorted(scores):
        m = models.loc[mid]
        settings = {sid: {"revisions": revisions[(mid, sid)], "scores": scores[mid][sid]}
                    for sid in sorted(scores[mid])}
        out[f"data/models/{mid}.json"] = _dump({
            "id": mid, "name": m["name"], "family": m["family"],
            "family_name": fam.get(m["family"], m["family"]), "settings": settings})
    return out


def index_file(data: SiteData) -> dict[str, str]:
    """data/compare.json: the models to pick from, task names, settings."""
    f = data.frames
    fam = f.families.set_index("family")["name"]
    s = f.scores[f.scores["primary"]]
    tasks = {r["task"]: [r["name"], None if fmt.is_missing(r["parent"]) else r["parent"],
                         r["direction"]] for r in f.tasks.to_dict("records")}
    scored = set(s["model"])
    models = [[m["model"], m["name"], fam.get(m["family"], m["family"])]
              for m in f.models.to_dict("records") if m["model"] in scored]
    settings = {r["setting"]: r["name"] for r in f.settings.to_dict("records")}
    return {"data/compare.json": _dump({"v": 1, "models": models, "tasks": tasks,
                                        "settings": settings, "z": fmt.Z95})}


def compare_page() -> Page:
    return Page("compare/index.md", "compare.md.j2", ComparePage("../data/compare.json"),
                "Compare")
