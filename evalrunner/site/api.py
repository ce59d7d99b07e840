"""The static API under api/v1/: stable paths, CSV and JSON, documented on the API page.

    api/v1/leaderboard.json   every setting's leaderboard, one object per model, full precision
    api/v1/models.csv         one row per model (the loader's models frame)
    api/v1/results.csv        one row per score: model, revision, setting, task, metric, value,
                              stderr, n_items, tier, source (+ family, step, tokens, final, ...)
    api/v1/families.csv, settings.csv, task_registry.csv   the registries
    api/v1/<metric table>.csv for each table of metrics.registry.METRIC_TABLES, in its order
                              (a lone newline when not computed)
    api/v1/schema.json        the JSON Schemas of every results file kind, by file name
    api/v1/index.json         the list of files above
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from evalrunner.metrics.registry import METRIC_TABLES
from evalrunner.results.jsonschema import json_schemas

from .csvruns import csv_text
from .data import SiteData
from .leaderboard import Leaderboard
from .tables import frame_csv, plain_values

if TYPE_CHECKING:
    from evalrunner.memo import Memo

RESULT_COLUMNS = ["model", "revision", "setting", "task", "metric", "value", "stderr", "n_items",
                  "tier", "source", "family", "step", "tokens", "final", "n_shot", "primary",
                  "aggregate", "answer_nll_token", "answer_nll_byte", "heldout_nll_token", "path"]


def _json(doc: Any) -> str:
    """Compact: json's C encoder writes it (indented output is written in pure Python, a
    generator step per value: most of the API's cost at 1,000 models)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, sort_keys=True,
                      separators=(",", ":")) + "\n"


ROW_KEYS = ("model", "name", "family", "revision", "tier", "rank", "avg", "avg_se", "avg_lo",
            "avg_hi", "n_non_embedding", "n_total", "n_fit", "tokens", "release_date", "kind",
            "open_weights", "density")


def leaderboard_doc(boards: dict[str, Leaderboard]) -> dict[str, Any]:
    out: dict[str, Any] = {"version": 1, "settings": {}}
    for sid, b in boards.items():
        frame = b.rows
        keys = [k for k in ROW_KEYS if k in frame.columns]
        scores = [(t, plain_values(frame[t].tolist()),
                   plain_values(frame[f"{t}__se"].tolist()), frame[t].isna().tolist())
                  for t in b.tasks]
        columns = [plain_values(frame[k].tolist()) for k in keys]
        rows = []
        for i, values in enumerate(zip(*columns, strict=True)):
            row = dict(zip(keys, values, strict=True))
            row["scores"] = {t: {"value": v[i], "stderr": e[i]}
                             for t, v, e, missing in scores if not missing[i]}
            rows.append(row)
        out["settings"][sid] = {"core_tasks": b.core, "tasks": b.tasks,
                                "density_reference": b.density_reference, "rows": rows}
    return out


def api_files(data: SiteData, boards: dict[str, Leaderboard],
              memo: Memo | None = None) -> dict[str, str]:
    """Every api/v1 file as text, keyed by path relative to docs_dir. `memo`: the build's
    store, where the runs of the big per-model CSVs are kept (csvruns.py)."""
    f = data.frames
    files = {
        "api/v1/leaderboard.json": _json(leaderboard_doc(boards)),
        "api/v1/models.csv": frame_csv(f.models),
        "api/v1/families.csv": frame_csv(f.families),
        "api/v1/settings.csv": frame_csv(f.settings),
        "api/v1/task_registry.csv": frame_csv(f.tasks),
        "api/v1/schema.json": _json(json_schemas()),
    }
    tables = {"results": f.scores[RESULT_COLUMNS]}
    tables.update({name: data.metrics.get(name) for name in METRIC_TABLES})
    for name, table in tables.items():
        rel = f"api/v1/{name}.csv"
        if table is None:
            files[rel] = "\n"
        elif "model" in table.columns:
            files[rel] = csv_text(table, "model", memo)
        else:
            files[rel] = frame_csv(table)
    files["api/v1/index.json"] = _json({"version": 1, "files": sorted(
        [p.removeprefix("api/v1/") for p in files] + ["eee.zip"])})  # eee.py writes it
    return files
