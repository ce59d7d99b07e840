"""The submit page (how to run, import, validate and open a pull request) and the published
JSON Schemas of the results format (the same documents `densitometer schema` writes)."""

from __future__ import annotations

from dataclasses import dataclass

from evalrunner.results.jsonschema import json_schemas, render

from ..render import Page


@dataclass(frozen=True)
class SubmitPage:
    schemas: list[str]  # file names under schema/ of the site


def schema_files() -> dict[str, str]:
    """schema/<kind>.schema.json, paths relative to docs_dir."""
    return {f"schema/{name}": render(doc) for name, doc in json_schemas().items()}


def submit_page() -> Page:
    return Page("submit/index.md", "submit.md.j2", SubmitPage(sorted(json_schemas())),
                "Submit results")
