"""Task files: the packaged tiny suite and the project's own task YAMLs, as inline lm-eval tasks.

A task file is lm-eval task syntax read with `yaml.safe_load` (so no `!function`; use the plan's
`task_dirs` for such files) with at most one level of `include:`. Local data paths in
`dataset_kwargs.data_files` are relative to the file and made absolute here, and the config is
handed to lm-eval as an inline dict: the same run works from any working directory
(a relative data path would be read from the current one). No lm_eval import in this module.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from evalrunner.results.schema import Task, TaskRegistry

REGISTRY_FILE = "registry.yaml"


class TaskFileError(Exception):
    """A task file that cannot be read: path, what was expected, what was found."""

    def __init__(self, path: Path | str, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


def suite_dir() -> Path:
    """The packaged task folder (evalrunner/run/tasks)."""
    return Path(str(resources.files("evalrunner.run") / "tasks"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TaskFileError(path, f"cannot read: {err.strerror}") from None
    except yaml.YAMLError as err:
        hint = (" (`!function` needs lm-eval's own loader: put the file in a folder listed "
                "under the plan's task_dirs instead)" if "!function" in str(err) else "")
        raise TaskFileError(path, f"not safe YAML: {err}{hint}") from None
    if not isinstance(data, dict):
        raise TaskFileError(path, f"expected a mapping, found {type(data).__name__}")
    return data


def _absolute_data_files(config: dict[str, Any], base: Path, path: Path) -> None:
    files = config.get("dataset_kwargs", {}).get("data_files")
    if files is None:
        return
    if isinstance(files, str):
        files = {"test": files}
    if not isinstance(files, dict):
        raise TaskFileError(path, "dataset_kwargs.data_files: expected a mapping split -> file")
    absolute = {}
    for split, rel in files.items():
        if not isinstance(rel, str):
            raise TaskFileError(path, f"dataset_kwargs.data_files.{split}: expected a path")
        full = (base / rel).resolve()
        if not full.is_file():
            raise TaskFileError(path, f"dataset_kwargs.data_files.{split}: no file {full}")
        absolute[split] = str(full)
    config["dataset_kwargs"]["data_files"] = absolute


def load_task_file(path: Path) -> dict[str, Any]:
    """One task file as an inline lm-eval config with absolute data paths."""
    path = Path(path).resolve()
    config = _read_yaml(path)
    if "include" in config:
        parent_path = (path.parent / str(config.pop("include"))).resolve()
        parent = _read_yaml(parent_path)
        if "include" in parent:
            raise TaskFileError(parent_path, "only one level of include is allowed")
        _absolute_data_files(parent, parent_path.parent, parent_path)
        config = {**parent, **config}
    _absolute_data_files(config, path.parent, path)
    if not isinstance(config.get("task"), str):
        raise TaskFileError(path, "expected a `task:` name (groups: use task_dirs)")
    return config


def load_task_files(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Task name -> inline config, for every file; a name defined twice is an error."""
    out: dict[str, dict[str, Any]] = {}
    where: dict[str, Path] = {}
    for p in paths:
        cfg = load_task_file(p)
        name = cfg["task"]
        if name in out:
            raise TaskFileError(p, f"task {name!r} is already defined in {where[name]}")
        out[name], where[name] = cfg, Path(p)
    return out


def packaged_tasks() -> dict[str, dict[str, Any]]:
    """The tiny suite: task name -> inline config."""
    return load_task_files(sorted(suite_dir().glob("tiny_*.yaml")))


def packaged_registry() -> dict[str, Task]:
    data = _read_yaml(suite_dir() / REGISTRY_FILE)
    return {t.id: t for t in TaskRegistry.model_validate(data).tasks}


def fresh(config: dict[str, Any]) -> dict[str, Any]:
    """A copy to hand to lm-eval, which may mutate the configs it is given."""
    return copy.deepcopy(config)
