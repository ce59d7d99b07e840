"""JSON Schema export of the results format (editors, pull-request checks, the site's api/v1)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from .schema import FILE_MODELS
from .write import atomic_write_text

SCHEMA_BASE = "https://densitometer.github.io/schema/"
# Other file kinds declared elsewhere, imported only if present (the runner's plan files).
EXTRA_MODELS = {"plan": ("evalrunner.run.plan", "Plan")}


def _models() -> dict[str, type]:
    models = dict(FILE_MODELS)
    for kind, (module, name) in EXTRA_MODELS.items():
        try:
            models[kind] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return models


def json_schemas() -> dict[str, dict]:
    """One JSON Schema per file kind, keyed by file name (`result.schema.json`, ...)."""
    out = {}
    for kind, model in sorted(_models().items()):
        schema = model.model_json_schema(mode="validation")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": f"{SCHEMA_BASE}{kind}.schema.json", **schema}
        out[f"{kind}.schema.json"] = schema
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema into out_dir; returns the files that changed."""
    changed = []
    for name, schema in json_schemas().items():
        path = Path(out_dir) / name
        if atomic_write_text(path, render(schema)):
            changed.append(path)
    return changed


def stale_schemas(out_dir: Path) -> list[str]:
    """Names of committed schema files that differ from what the code declares."""
    stale = []
    for name, schema in json_schemas().items():
        path = Path(out_dir) / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(schema):
            stale.append(name)
    return stale
