"""Validation of a results tree: every problem with its location, collected, then reported once.

A problem reads `results/pythia/pythia-70m/zero-shot/step143000.yaml:12: scores.arc_easy.stderr:
expected greater than or equal to 0, found -0.02`. Checks, in order: the file's place in the
tree, safe reading (read.py), the schema (schema.py), the path against the content, then facts
that span files (unknown model, task or setting; duplicates; aggregates).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from evalrunner.memo import Memo

from . import cache as parse_cache
from . import errors, layout
from .cache import digest
from .read import (
    ReadError,
    bad_name_char,
    decode,
    locate,
    normalise_id,
    parse_text,
    read_bytes,
    shown_name,
)
from .schema import (
    FILE_MODELS,
    ID_PATTERN,
    Family,
    Model,
    Result,
    Setting,
    SettingRegistry,
    Task,
    TaskRegistry,
)

# Metrics reported as fractions in [0, 1]; anything else (perplexity, bias scores) is unbounded.
FRACTION_METRICS = frozenset(
    {"acc", "acc_norm", "acc_bytes", "acc_mutual_info", "exact_match", "em", "f1", "mc1", "mc2",
     "pass@1", "pass_at_1", "pct_stereotype", "brier_score", "bleu_acc", "rouge1_acc"}
)
# Parallel parsing pays off only past this many files (process start-up costs ~0.1 s).
PARALLEL_THRESHOLD = 2000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file. `loc` is the dotted field path inside the file."""

    path: str
    line: int | None
    loc: str
    message: str
    severity: str = "error"  # error | warning

    def sort_key(self) -> tuple:
        return (self.path, self.line or 0, self.loc, self.message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.loc + ': ' if self.loc else ''}{self.message}"

    def github(self) -> str:
        """A GitHub Actions workflow annotation."""
        line = f",line={self.line}" if self.line else ""
        text = (f"{self.loc}: " if self.loc else "") + self.message
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{self.severity} file={self.path}{line}::{text}"


@dataclass
class Tree:
    """The parsed, schema-valid documents of a results tree (invalid files are left out)."""

    root: Path
    tasks: dict[str, Task] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    model_paths: dict[str, str] = field(default_factory=dict)
    results: list[tuple[str, Result]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # files that exist but failed to validate


@dataclass
class Report:
    tree: Tree
    problems: list[Problem]
    files: int
    # rel -> blake2b digest (cache.digest) of the bytes that were validated, for every file read
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


class ValidationFailed(Exception):
    """Raised by loaders when a tree has errors; carries the report."""

    def __init__(self, report: Report):
        self.report = report
        shown = "\n".join(str(p) for p in report.errors[:20])
        more = len(report.errors) - 20
        super().__init__(shown + (f"\n... and {more} more" if more > 0 else ""))


# ---------------------------------------------------------------------------------------------
# One file


def _pydantic_problems(err: ValidationError, shown: str, text: str, model: type) -> list[Problem]:
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        # Tagged unions add the tag as a path segment (provenance.import.commit): drop it.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p in ("runner", "import",
                                                                        "submission")))
        dotted = ".".join(str(p) for p in loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            message = "unknown field" + (f"; did you mean {hint[0]!r}?" if hint else "")
            if allowed:
                message += f" (allowed: {', '.join(allowed)})"
        elif kind == "union_tag_invalid":
            ctx = e.get("ctx", {})
            message = (f"expected {ctx.get('discriminator', 'kind')} to be one of "
                       f"{ctx.get('expected_tags')}, found {errors.found(ctx.get('tag'))}")
        elif kind == "union_tag_not_found":
            message = f"required field {e.get('ctx', {}).get('discriminator', 'kind')} is missing"
        else:
            message = errors.message(e)
        problems.append(Problem(shown, locate(text, loc), dotted, message))
    return problems


def _allowed_fields(model: type, loc: tuple) -> list[str]:
    """Field names of the nested model at loc (best effort, for 'did you mean')."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return []
        if part not in fields:
            continue  # a dict key (a task id): `current` is already the value's model
        current = _inner_model(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside Optional[...], list[...], dict[..., ...] or a union."""
    from typing import get_args

    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in reversed(get_args(annotation)):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


_NOT_A_PLACE = ("not a results file location; expected tasks.yaml, settings.yaml, "
                "<family>/family.yaml, <family>/<model>/model.yaml or "
                "<family>/<model>/<setting>/<revision>.yaml")


def parse_file(root: Path, rel: PurePosixPath, shown: str,
               raw: bytes | None = None) -> tuple[Any, list[Problem]]:
    """Read and parse one file under every reading rule: (plain data or None, problems)."""
    if layout.kind_of(rel) is None:
        return None, [Problem(shown, None, "", _NOT_A_PLACE)]
    try:
        raw = raw if raw is not None else read_bytes(root / rel, shown)
        data = parse_text(decode(raw, shown), shown)
    except ReadError as err:
        return None, [Problem(shown, err.line, "", err.message)]
    except OSError as err:
        return None, [Problem(shown, None, "", f"cannot read: {err.strerror}")]
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, "", f"expected a mapping at the top, found "
                              f"{type(data).__name__}")]
    return data, []


def check_data(root: Path, rel: PurePosixPath, shown: str, data: dict) -> tuple[Any, list[Problem]]:
    """Schema-check parsed data; the file is re-read only to put line numbers on errors."""
    model = FILE_MODELS[layout.kind_of(rel)]  # type: ignore[index]
    try:
        obj = model.model_validate(data)
    except ValidationError as err:
        return None, _pydantic_problems(err, shown, _text_of(root / rel), model)
    problems = _path_problems(obj, rel, shown, "")
    if problems:  # put line numbers on them
        problems = _path_problems(obj, rel, shown, _text_of(root / rel))
    return obj, problems


def _text_of(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def check_file(root: Path, rel: PurePosixPath, shown: str) -> tuple[Any, list[Problem]]:
    """Read and schema-check one file. Returns (model object or None, problems)."""
    data, problems = parse_file(root, rel, shown)
    if data is None:
        return None, problems
    return check_data(root, rel, shown, data)


def _path_problems(obj: Any, rel: PurePosixPath, shown: str, text: str) -> list[Problem]:
    """The ids a file carries must be the ids its path says (paths derive from ids)."""
    problems = []
    for dotted, want in layout.expected_ids(rel).items():
        if dotted == "family" and isinstance(obj, Result):
            continue  # a result names its model; the model names its family
        got: Any = obj
        for part in dotted.split("."):
            got = getattr(got, part)
        if got != want:
            loc = tuple(dotted.split("."))
            problems.append(Problem(shown, locate(text, loc) if text else None, dotted,
                                    f"expected {want!r} (from the file's path), found {got!r}; "
                                    f"move the file or fix the id"))
    return problems


# (rel, digest of the bytes parsed or None, plain data or None, problems)
Parsed = tuple[str, "str | None", Any, list[Problem]]


def _parse_chunk(args: tuple[str, list[str], str]) -> list[Parsed]:
    """Parse files in a worker process; plain data travels back cheaply (no model objects)."""
    root, rels, prefix = args
    return [_parse_one(Path(root), rel, prefix) for rel in rels]


def _parse_one(root: Path, rel: str, prefix: str, raw: bytes | None = None,
               key: str | None = None) -> Parsed:
    """Parse one file; the digest is of the very bytes parsed, so it names what was checked."""
    path = PurePosixPath(rel)
    if raw is None and layout.kind_of(path) is not None:
        raw = _read(root, rel, prefix)
    data, problems = parse_file(root, path, prefix + rel, raw)
    if raw is not None and key is None:
        key = digest(raw)
    return rel, key, data, problems


def _read(root: Path, rel: str, prefix: str) -> bytes | None:
    try:
        return read_bytes(root / rel, prefix + rel)
    except (ReadError, OSError):
        return None  # parse_file reads it again and reports why it cannot


# ---------------------------------------------------------------------------------------------
# The tree


def discover(root: Path) -> tuple[list[PurePosixPath], list[Problem]]:
    """Every file under root, sorted, with problems for things that are not plain files.

    The order is os.walk's, top-down with sorted names: a folder's files, then its folders."""
    files: list[PurePosixPath] = []
    problems: list[Problem] = []
    _discover_in(Path(root), os.fspath(root), "", files, problems)
    return files, problems


def _discover_in(root: Path, folder: str, rel: str, files: list[PurePosixPath],
                 problems: list[Problem]) -> None:
    """One folder of discover(), with os.scandir and plain strings: pathlib per file cost more
    than the rest of discovery."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return  # as os.walk: an unreadable folder is skipped
    dirs = []
    for entry in entries:
        name, sub = entry.name, rel + entry.name
        try:
            is_dir = entry.is_dir()  # follows symbolic links, as os.walk sorts them
        except OSError:
            is_dir = False
        if is_dir:
            why = bad_name_char(name) or ("symbolic links are not allowed in results/"
                                          if entry.is_symlink() else None)
            if why:
                problems.append(Problem(_shown(root, shown_name(sub)), None, "", why))
            else:
                dirs.append(entry)
        elif name.startswith(".") and name.endswith(".tmp"):
            continue  # an atomic write in progress
        elif why := bad_name_char(name):
            problems.append(Problem(_shown(root, shown_name(sub)), None, "", why))
        else:
            files.append(PurePosixPath(sub))
    for entry in dirs:
        _discover_in(root, entry.path, rel + entry.name + "/", files, problems)


def _shown(root: Path, rel: str | PurePosixPath) -> str:
    return (Path(root) / rel).as_posix()


def validate_tree(
    root: Path, only: Iterable[Path] | None = None, jobs: int | None = None,
    memo: Memo | None = None,
) -> Report:
    """Validate the results tree at root. `only` limits per-file messages to those paths, but
    cross-file facts are always checked against the whole tree. With `memo` (the build's
    store, evalrunner.memo), files whose bytes were parsed before are not parsed again."""
    root = Path(root)
    if not root.is_dir():
        problem = Problem(str(root), None, "", "not a directory; expected a results tree")
        return Report(Tree(root), [problem], 0)
    rels, problems = discover(root)
    prefix = root.as_posix().rstrip("/") + "/"
    parsed = parse_files(root, rels, prefix, jobs, memo if memo and memo.enabled else None)
    tree = Tree(root)
    for rel, _, data, file_problems in parsed:
        obj = None
        if data is not None:
            obj, file_problems = check_data(root, PurePosixPath(rel), prefix + rel, data)
        problems.extend(file_problems)
        if obj is None:
            tree.broken.add(rel)
            continue
        problems.extend(add_document(tree, rel, obj, prefix + rel))
    problems.extend(cross_check(tree, prefix))
    if only is not None:
        wanted = {Path(p).resolve() for p in only}
        problems = [p for p in problems if _within(Path(p.path).resolve(), wanted)]
    digests = {rel: key for rel, key, _, _ in parsed if key is not None}
    return Report(tree, sorted(set(problems), key=Problem.sort_key), len(rels), digests)


def add_document(tree: Tree, rel: str, obj: Any, shown: str) -> list[Problem]:
    """Put one schema-valid document into the tree; problems of ids repeated in a registry."""
    if isinstance(obj, TaskRegistry):
        return _registry(obj.tasks, tree.tasks, shown, "tasks")
    if isinstance(obj, SettingRegistry):
        return _registry(obj.settings, tree.settings, shown, "settings")
    if isinstance(obj, Family):
        tree.families[obj.id] = obj
    elif isinstance(obj, Model):
        tree.models[obj.id] = obj
        tree.model_paths[obj.id] = rel
    elif isinstance(obj, Result):
        tree.results.append((rel, obj))
    return []


def _within(path: Path, wanted: set[Path]) -> bool:
    return any(path == w or w in path.parents for w in wanted)


def parse_files(root: Path, rels: Sequence[PurePosixPath], prefix: str, jobs: int | None,
                memo: Memo | None, raws: Mapping[str, bytes] | None = None) -> list[Parsed]:
    """(rel, digest, data or None, problems) for every file, in order: from the cache when a
    file's bytes are unchanged, else parsed, over several processes when there are many.
    `raws`: the bytes of files already read (by rel), so they are not read again."""
    out: dict[str, Parsed] = {}
    misses: list[tuple[str, str | None, bytes | None]] = []
    for rel in rels:
        name = rel.as_posix()
        raw, key = (raws or {}).get(name), None
        if memo is not None and layout.kind_of(rel) is not None:
            raw = raw if raw is not None else _read(root, name, prefix)
            if raw is not None:
                key = digest(raw)
                data = parse_cache.cached(memo, key)
                if data is not None:
                    out[name] = (name, key, data, [])
                    continue
        misses.append((name, key, raw))
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(misses) < PARALLEL_THRESHOLD:
        parsed = [_parse_one(root, n, prefix, raw, key) for n, key, raw in misses]
    else:
        names = [n for n, _, _ in misses]
        size = max(200, len(names) // (jobs * 4))
        chunks = [(str(root), names[i:i + size], prefix) for i in range(0, len(names), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parsed = [row for part in pool.map(_parse_chunk, chunks) for row in part]
    for name, key, data, problems in parsed:
        out[name] = (name, key, data, problems)
        if data is not None and key is not None and memo is not None:
            parse_cache.store(memo, key, data)
    return [out[r.as_posix()] for r in rels]


def _registry(items: list, into: dict, shown: str, what: str) -> list[Problem]:
    problems = []
    seen_norm: dict[str, str] = {}
    for i, item in enumerate(items):
        norm = normalise_id(item.id)
        if item.id in into or norm in seen_norm:
            problems.append(Problem(shown, None, f"{what}.{i}.id",
                                    f"duplicate id {item.id!r} (ids must differ after case "
                                    f"folding and Unicode normalisation)"))
            continue
        seen_norm[norm] = item.id
        into[item.id] = item
    return problems


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def cross_check(tree: Tree, prefix: str) -> list[Problem]:
    """Facts that span files."""
    problems: list[Problem] = []
    for model_id, model in tree.models.items():
        family_file = f"{model.family}/family.yaml"
        if model.family not in tree.families and family_file not in tree.broken:
            problems.append(Problem(prefix + tree.model_paths[model_id], None, "family",
                                    f"unknown family {model.family!r}: add "
                                    f"{model.family}/family.yaml"))
    norm_ids: dict[str, str] = {}
    for kind, ids in (("family", tree.families), ("model", tree.models)):
        for i in ids:
            other = norm_ids.setdefault(normalise_id(i), i)
            if other != i:
                problems.append(Problem(prefix + (tree.model_paths.get(i) or f"{i}/family.yaml"),
                                        None, "id", f"{kind} id {i!r} collides with {other!r} "
                                        "after case folding"))
    seen: dict[tuple, str] = {}
    for rel, result in tree.results:
        problems.extend(check_result(tree, prefix + rel, rel, result))
        for full in revision_keys(result):
            if full in seen and seen[full] != rel:
                problems.append(Problem(prefix + rel, None, "revision",
                                        f"duplicate result: {prefix + seen[full]} already holds "
                                        f"model {result.model!r}, setting {result.setting!r}, "
                                        f"revision {full[2]} {full[3]!r}"))
            seen.setdefault(full, rel)
    return problems


def revision_keys(result: Result) -> list[tuple]:
    """(model, setting, kind, value) keys no two results may share: a revision is named by
    its id, its step and its commit (7 characters), and each names it alone."""
    rev = result.revision
    keys: list[tuple] = [("id", rev.id)]
    if rev.step is not None:
        keys.append(("step", rev.step))
    if rev.commit:
        keys.append(("commit", rev.commit[:7]))
    return [(result.model, result.setting, *key) for key in keys]


def check_result(tree: Tree, shown: str, rel: str, result: Result) -> list[Problem]:
    """Facts of one result against the registries (models, settings, tasks) of the tree."""
    problems: list[Problem] = []
    family = PurePosixPath(rel).parts[0]
    model = tree.models.get(result.model)
    if model is None and f"{family}/{result.model}/model.yaml" in tree.broken:
        pass  # reported on the model file itself
    elif model is None:
        problems.append(Problem(shown, None, "model", f"unknown model {result.model!r}: add "
                                f"{family}/{result.model}/model.yaml"
                                + _did_you_mean(result.model, tree.models)))
    elif model.family != family:
        problems.append(Problem(shown, None, "model", f"model {result.model!r} belongs to family "
                                f"{model.family!r}, but the file is under {family!r}"))
    setting = tree.settings.get(result.setting)
    if setting is None and "settings.yaml" in tree.broken:
        pass
    elif setting is None:
        problems.append(Problem(shown, None, "setting", f"unknown setting {result.setting!r}; "
                                "add it to settings.yaml"
                                + _did_you_mean(result.setting, tree.settings)))
    for i, entry in enumerate(result.supersedes):
        if not supersedes_path_ok(entry.path):
            problems.append(Problem(shown, None, f"supersedes.{i}.path",
                                    "expected the path of a result file, results/<family>/"
                                    "<model>/<setting>/<revision>.yaml, with no '.' or '..' "
                                    f"parts; found {errors.found(entry.path)}"))
    imported = result.provenance.kind == "import"
    for task_id, score in result.scores.items():
        loc = f"scores.{task_id}"
        task = tree.tasks.get(task_id)
        if task is None and "tasks.yaml" in tree.broken:
            continue
        if task is None:
            problems.append(Problem(shown, None, loc, f"unknown task {task_id!r}; add it to "
                                    "tasks.yaml" + _did_you_mean(task_id, tree.tasks)))
            continue
        # a report's metric is the one it names: its numbers are shown, never compared
        if setting is not None and result.tier != "reported":
            want_metric = setting.metric_per_task.get(task_id, task.metric)
            if score.metric != want_metric:
                problems.append(Problem(shown, None, f"{loc}.metric",
                                        f"expected {want_metric!r} (the headline metric of "
                                        f"{task_id!r} in setting {setting.id!r}), found "
                                        f"{score.metric!r}; report others under extra"))
            want_shots = setting.shots_for(task_id)
            if score.n_shot is not None and want_shots is not None and score.n_shot != want_shots:
                problems.append(Problem(shown, None, f"{loc}.n_shot",
                                        f"expected {want_shots} (setting {setting.id!r}), found "
                                        f"{score.n_shot}; a different shot count is another "
                                        "setting"))
        if score.metric in FRACTION_METRICS and not 0 <= score.value <= 1:
            hint = " (percent? divide by 100 and set converted_from: percent)" \
                if 1 < score.value <= 100 else ""
            problems.append(Problem(shown, None, f"{loc}.value",
                                    f"expected a fraction in [0, 1] for {score.metric}, found "
                                    f"{score.value!r}{hint}"))
        if (imported and score.metric in FRACTION_METRICS and score.stderr is None
                and score.n_items is None and task.n_items is None and score.aggregate is None):
            problems.append(Problem(shown, None, f"{loc}.stderr",
                                    "imported accuracy needs a stderr, or n_items here or in "
                                    "tasks.yaml for the binomial stderr"))
        if score.aggregate is not None:
            problems.extend(_check_aggregate(shown, loc, result, score))
    return problems


def supersedes_path_ok(path: str) -> bool:
    """A supersedes path names a result file: results/<family>/<model>/<setting>/<rev>.yaml."""
    parts = path.split("/")
    return (len(parts) > 1 and parts[0] == "results"
            and not any(p in ("", ".", "..") for p in parts[1:])
            and layout.kind_of(PurePosixPath(*parts[1:])) == "result")


def _check_aggregate(shown: str, loc: str, result: Result, score: Any) -> list[Problem]:
    parts = [result.scores.get(t) for t in score.aggregate.of]
    missing = [t for t, p in zip(score.aggregate.of, parts, strict=True) if p is None]
    if missing:
        return [Problem(shown, None, f"{loc}.aggregate.of",
                        f"subtasks missing from this file: {', '.join(missing[:5])}")]
    if score.aggregate.method != "macro_mean":
        return []
    mean = sum(p.value for p in parts) / len(parts)
    if abs(mean - score.value) > 1e-9 * max(1.0, abs(mean)):
        return [Problem(shown, None, f"{loc}.value",
                        f"expected the macro mean of its {len(parts)} subtasks, {mean!r}, found "
                        f"{score.value!r}")]
    return []


__all__ = ["ID_PATTERN", "Problem", "Report", "Tree", "ValidationFailed", "validate_tree",
           "check_file"]
