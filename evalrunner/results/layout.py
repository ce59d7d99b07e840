"""Where each file lives. Paths are derived from ids, never taken from file contents."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

TASKS_FILE = "tasks.yaml"
SETTINGS_FILE = "settings.yaml"
FAMILY_FILE = "family.yaml"
MODEL_FILE = "model.yaml"
SCHEMA_DIR = "schema"  # at the repository root, beside results/


def family_path(root: Path, family: str) -> Path:
    return root / family / FAMILY_FILE


def model_path(root: Path, family: str, model: str) -> Path:
    return root / family / model / MODEL_FILE


def result_path(root: Path, family: str, model: str, setting: str, revision: str) -> Path:
    return root / family / model / setting / f"{revision}.yaml"


def kind_of(rel: PurePosixPath) -> str | None:
    """The file kind of a path relative to the results root, or None if it is no results file."""
    parts = rel.parts
    if rel.suffix != ".yaml":
        return None
    if len(parts) == 1 and parts[0] == TASKS_FILE:
        return "tasks"
    if len(parts) == 1 and parts[0] == SETTINGS_FILE:
        return "settings"
    if len(parts) == 2 and parts[1] == FAMILY_FILE:
        return "family"
    if len(parts) == 3 and parts[2] == MODEL_FILE:
        return "model"
    if len(parts) == 4:
        return "result"
    return None


def expected_ids(rel: PurePosixPath) -> dict[str, str]:
    """The ids a file must carry, read off its path (family/model/setting/revision)."""
    parts = rel.parts
    kind = kind_of(rel)
    if kind == "family":
        return {"id": parts[0]}
    if kind == "model":
        return {"family": parts[0], "id": parts[1]}
    if kind == "result":
        return {"family": parts[0], "model": parts[1], "setting": parts[2], "revision.id": rel.stem}
    return {}


def schema_comment(kind: str, rel: PurePosixPath) -> str:
    """The yaml-language-server line that lets editors validate the file against our schema."""
    up = "../" * (len(rel.parts) - 1)  # from the file's folder up to the repository root
    return f"# yaml-language-server: $schema={up}{SCHEMA_DIR}/{kind}.schema.json\n"
