"""The metadata a run needs in its results tree: tasks.yaml, settings.yaml, family.yaml,
model.yaml. Entries and files that exist are never rewritten (someone else may own them): only
missing ones are added. Several shards may run at once (a Slurm array), so every
read-merge-write holds an exclusive file lock, kept outside results/.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from evalrunner.results import layout
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Family, Model, Setting, SettingRegistry, Task, TaskRegistry
from evalrunner.results.write import write_file

LOCK_NAME = ".registry.lock"


class RegistryError(Exception):
    """A registry file in the target tree that cannot be merged into (it is not clobbered)."""


@contextmanager
def registry_lock(lock_dir: Path) -> Iterator[None]:
    """Exclusive lock across processes (flock; works on local disks and NFSv4)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / LOCK_NAME, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _read(root: Path, name: str, model: type):
    path = root / name
    if not path.is_file():
        return None
    try:
        return model.model_validate(read_yaml(path))
    except (ReadError, ValidationError) as err:
        raise RegistryError(f"{path}: cannot merge into an invalid file (fix it first, "
                            f"`densitometer validate {root}`): {err}") from None


def remove_stale_temps(root: Path, family: str, model: str) -> None:
    """Temp files of the registries a killed run left (call holding the lock)."""
    from .samples import remove_stale_temps as remove

    for path in (root / layout.TASKS_FILE, root / layout.SETTINGS_FILE,
                 layout.family_path(root, family), layout.model_path(root, family, model)):
        remove(path)


def existing_tasks(root: Path) -> dict[str, Task]:
    reg = _read(root, layout.TASKS_FILE, TaskRegistry)
    return {t.id: t for t in reg.tasks} if reg else {}


def existing_settings(root: Path) -> dict[str, Setting]:
    reg = _read(root, layout.SETTINGS_FILE, SettingRegistry)
    return {s.id: s for s in reg.settings} if reg else {}


def merge_tasks(root: Path, entries: dict[str, Task]) -> list[str]:
    """Append the entries whose id is not in tasks.yaml yet; returns the ids added."""
    reg = _read(root, layout.TASKS_FILE, TaskRegistry)
    have = [] if reg is None else list(reg.tasks)
    known = {t.id for t in have}
    new = [entries[i] for i in sorted(entries) if i not in known]
    if new:
        write_file(root, PurePosixPath(layout.TASKS_FILE), "tasks",
                   TaskRegistry(tasks=have + new))
    return [t.id for t in new]


def merge_settings(root: Path, entries: dict[str, Setting]) -> list[str]:
    reg = _read(root, layout.SETTINGS_FILE, SettingRegistry)
    have = [] if reg is None else list(reg.settings)
    known = {s.id for s in have}
    new = [entries[i] for i in sorted(entries) if i not in known]
    if new:
        write_file(root, PurePosixPath(layout.SETTINGS_FILE), "settings",
                   SettingRegistry(settings=have + new))
    return [s.id for s in new]


def ensure_family(root: Path, family: Family) -> bool:
    """Write family.yaml unless it exists; True if written."""
    path = layout.family_path(root, family.id)
    if path.exists():
        return False
    return write_file(root, PurePosixPath(path.relative_to(root).as_posix()), "family", family)


def ensure_model(root: Path, model: Model) -> bool:
    """Write model.yaml unless it exists; True if written."""
    path = layout.model_path(root, model.family, model.id)
    if path.exists():
        return False
    return write_file(root, PurePosixPath(path.relative_to(root).as_posix()), "model", model)
