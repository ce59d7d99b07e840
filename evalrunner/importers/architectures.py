"""Exact non-embedding counts from a reviewed table of architectures (architectures.yaml).

A results table publishes a model's size rounded and as a total ("7.0" billions for Llama-2-7B,
"2.0" for Gemma-2-2B, whose total is 2.6B); density needs the non-embedding count. For the
models the table lists, the config fields that decide the count are transcribed from litgpt's
config.py and counted by evalrunner/params.py. Only the non-embedding count (and the active one
of a mixture of experts) is stated: whether the head is tied changes the total, and the table's
source does not say. The published total stays beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalrunner.params import ParamCountError, count_params
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Count

from .base import ModelFacts, SourceDataError

TABLE = Path(__file__).with_name("architectures.yaml")
SOURCE = "architecture-table"


@dataclass(frozen=True)
class ArchitectureRow:
    models: tuple[str, ...]
    entry: str
    config: dict[str, Any]
    cite: str  # repository@commit path, entry


def load_table(path: Path = TABLE) -> list[ArchitectureRow]:
    """The reviewed rows, each counted once here so a bad row fails on load, naming itself."""
    try:
        doc = read_yaml(path)
    except ReadError as err:
        raise SourceDataError(path, "file", "a readable architectures table", str(err)) from err
    if not isinstance(doc, dict):
        raise SourceDataError(path, "file", "a mapping with source and rows", type(doc).__name__)
    src = doc.get("source") or {}
    if not all(isinstance(src.get(k), str) for k in ("repository", "commit", "path")):
        raise SourceDataError(path, "source", "repository, commit and path", src)
    rows, seen = [], set()
    for i, raw in enumerate(doc.get("rows") or []):
        where = f"rows[{i}]"
        models, entry, config = raw.get("models"), raw.get("entry"), raw.get("config")
        if (not isinstance(models, list) or not models
                or not all(isinstance(m, str) for m in models)):
            raise SourceDataError(path, f"{where}.models", "a list of Hugging Face ids", models)
        if not isinstance(entry, str) or not isinstance(config, dict):
            raise SourceDataError(path, where, "entry (text) and config (a mapping)", raw)
        try:
            count_params(config)
        except ParamCountError as err:
            raise SourceDataError(path, f"{where}.config.{err.field}", err.expected,
                                  err.found) from err
        for m in models:
            if m.lower() in seen:
                raise SourceDataError(path, f"{where}.models", "each model in one row", m)
            seen.add(m.lower())
        cite = f"{src['repository']}@{src['commit'][:8]} {src['path']}, entry {entry}"
        rows.append(ArchitectureRow(tuple(models), entry, dict(config), cite))
    return rows


def model_facts(facts: list[ModelFacts], path: Path = TABLE) -> list[ModelFacts]:
    """Config-exact counts for the models other sources name that the table lists; the
    identity (id, family, name, kind) is the other sources' own."""
    by_hf: dict[str, ModelFacts] = {}
    for f in sorted(facts, key=lambda f: -f.priority):
        if f.hf_id:
            by_hf.setdefault(f.hf_id.lower(), f)
    out = []
    for row in load_table(path):
        counts = count_params(row.config)
        params = {"non_embedding": Count(value=counts.non_embedding, source="config")}
        if counts.active_non_embedding is not None:
            params["active_non_embedding"] = Count(value=counts.active_non_embedding,
                                                   source="config")
        for hf in row.models:
            known = by_hf.get(hf.lower())
            if known is None:
                continue
            out.append(ModelFacts(
                id=known.id, family=known.family, family_name=known.family_name,
                name=known.name, source=SOURCE, hf_id=known.hf_id, params=params,
                kind=known.kind, moe=known.moe, architecture=counts.architecture,
                notes=(f"Non-embedding count from the architecture ({row.cite}).",)))
    return out
