"""Task names -> what lm-eval loads: inline configs (packaged suite, plan task files) or harness
names (lm-eval's own tasks, the plan's task folders). Unknown names fail before any model loads,
with "did you mean". The lm-eval task index is built once per process (`task_manager`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from .suite import packaged_tasks


class UnknownTaskError(Exception):
    """A plan names tasks that no source defines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class TaskSpec:
    """One task of a setting as lm-eval will load it."""

    name: str
    source: str  # "suite", "file" or "harness"
    config: dict[str, Any] | None = None  # inline config (suite, file); None: by name

    def spec(self) -> str | dict[str, Any]:
        import copy

        return copy.deepcopy(self.config) if self.config is not None else self.name


@cache
def task_manager(include_paths: tuple[str, ...] = (), include_defaults: bool = False):
    """lm-eval's TaskManager, built once per process for each (paths, defaults)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=list(include_paths) or None,
                       include_defaults=include_defaults)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


@dataclass(frozen=True)
class Resolution:
    specs: dict[str, TaskSpec]
    needs_defaults: bool  # some task is one of lm-eval's built-in ones


def resolve_tasks(names: Iterable[str], file_tasks: dict[str, dict[str, Any]],
                  include_paths: tuple[str, ...] = ()) -> Resolution:
    """Resolve every name; raise UnknownTaskError listing all unknown ones.

    Order of precedence: the plan's task files, the packaged suite, the plan's task folders,
    then lm-eval's built-in tasks. The built-in index (~4 s) is built only when a name is
    in none of the others.
    """
    suite = packaged_tasks()
    out: dict[str, TaskSpec] = {}
    rest = []
    for name in dict.fromkeys(names):
        if name in file_tasks:
            out[name] = TaskSpec(name, "file", file_tasks[name])
        elif name in suite:
            out[name] = TaskSpec(name, "suite", suite[name])
        else:
            rest.append(name)
    if include_paths and rest:
        index = task_manager(include_paths, False).task_index
        found = [n for n in rest if n in index]
        rest = [n for n in rest if n not in index]
        out.update(_harness(found, index, [*file_tasks, *suite]))
    if not rest:
        return Resolution(out, needs_defaults=False)
    index = task_manager(include_paths, True).task_index
    out.update(_harness(rest, index, [*file_tasks, *suite]))
    return Resolution(out, needs_defaults=True)


def _harness(names: list[str], index: dict[str, Any], other: list[str]) -> dict[str, TaskSpec]:
    from lm_eval.tasks._index import Kind

    out, problems = {}, []
    for name in names:
        entry = index.get(name)
        if entry is None:
            problems.append(f"unknown task {name!r}{did_you_mean(name, [*other, *index])}")
        elif entry.kind == Kind.TAG:
            members = sorted(n for n, e in index.items() if name in e.tags)
            problems.append(f"{name!r} is an lm-eval tag, not a task: list its tasks instead "
                            f"({', '.join(members[:10])}{', ...' if len(members) > 10 else ''})")
        else:
            out[name] = TaskSpec(name, "harness")
    if problems:
        raise UnknownTaskError(problems)
    return out
