"""History is append-only: a published number never changes or disappears without a reason.

Comparing a base tree with a head tree, a result file that is removed or whose content changes
is an error unless a head result lists it under `supersedes` with a reason, in an entry that is
new in this change (a changed file lists itself). Entries, once written, are permanent. Changes
to metadata (model, family, task and setting files) are warnings: every result that uses them
may move.

`history_events(repo)` reads the same facts back from git history for the changelog page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from evalrunner.results import layout
from evalrunner.results.read import ReadError, decode, parse_text, read_bytes
from evalrunner.results.validate import Problem, Tree, discover, supersedes_path_ok

from .gitrev import blob_reader, git

RESULTS = "results/"


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two trees. status: added, removed, changed (the content
    differs) or reformatted (bytes differ, content does not: comments, layout, supersedes)."""

    rel: str
    kind: str | None
    status: str


def _load(root: Path, rel: str) -> Any:
    """Parsed content of a file, or None if it cannot be read (the validator says why)."""
    try:
        return parse_text(decode(read_bytes(root / rel, rel), rel), rel)
    except (ReadError, OSError):
        return None


def _content(data: Any) -> Any:
    """What a reader of the leaderboard sees: everything except the supersedes notes."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k != "supersedes"}
    return data


def compare_trees(base_root: Path, head_root: Path) -> list[FileChange]:
    """Files added, removed or changed from base_root to head_root, sorted by path."""
    base = {r.as_posix() for r in discover(base_root)[0]}
    head = {r.as_posix() for r in discover(head_root)[0]}
    changes = []
    for rel in sorted(base | head):
        kind = layout.kind_of(PurePosixPath(rel))
        if rel not in head:
            changes.append(FileChange(rel, kind, "removed"))
        elif rel not in base:
            changes.append(FileChange(rel, kind, "added"))
        elif _bytes(base_root / rel) != _bytes(head_root / rel):
            old, new = _load(base_root, rel), _load(head_root, rel)
            same = old is not None and new is not None and _content(old) == _content(new)
            changes.append(FileChange(rel, kind, "reformatted" if same else "changed"))
    return changes


def _bytes(path: Path) -> bytes | tuple[str, int]:
    try:
        if path.is_symlink() or path.stat().st_size > (1 << 20):
            return ("unread", path.stat().st_size if path.exists() else -1)
        return path.read_bytes()
    except OSError:
        return ("unreadable", -1)


def _entries(data: Any) -> list[tuple[str, str]]:
    """(path, reason) of each supersedes entry in raw parsed data, skipping malformed ones."""
    raw = data.get("supersedes") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    return [(e["path"], e["reason"]) for e in raw if isinstance(e, dict)
            and isinstance(e.get("path"), str) and isinstance(e.get("reason"), str)]


def append_only_problems(changes: Iterable[FileChange], base_root: Path, head_tree: Tree,
                         prefix: str) -> list[Problem]:
    """Errors for results removed or changed without a new supersedes entry; warnings for
    changed metadata. `prefix` is put before each path (e.g. 'results/')."""
    changes = list(changes)
    base_results = {r.as_posix() for r in discover(base_root)[0]
                    if layout.kind_of(r) == "result"}
    head_results = dict(head_tree.results)
    status = {c.rel: c.status for c in changes}
    problems: list[Problem] = []
    claims: dict[str, set[str]] = {}  # superseded path -> files whose new entries name it
    for rel, result in sorted(head_results.items()):
        if rel not in status:
            continue  # unchanged: its entries were all there at base
        old = _entries(_load(base_root, rel)) if rel in base_results else []
        head_entries = [(e.path, e.reason) for e in result.supersedes]
        for path, _ in old:
            if path not in {p for p, _ in head_entries}:
                problems.append(Problem(prefix + rel, None, "supersedes",
                                        f"removes the entry for {path!r}; supersedes entries "
                                        "are permanent (history is append-only)"))
        for i, (path, reason) in enumerate(head_entries):
            if (path, reason) in old or not supersedes_path_ok(path):
                continue
            target = path[len(RESULTS):]
            if target not in base_results:
                problems.append(Problem(prefix + rel, None, f"supersedes.{i}.path",
                                        f"{path!r} is not a result file at the base revision; "
                                        "list only files this change replaces or changes"))
                continue
            claims.setdefault(target, set()).add(rel)
    for c in changes:
        if c.kind == "result" and c.status == "removed" and c.rel not in claims:
            problems.append(Problem(
                prefix + c.rel, None, "",
                "result removed; history is append-only: the file that replaces it must list "
                f"it under supersedes with a reason (supersedes: [{{path: {RESULTS}{c.rel}, "
                "reason: ...}])"))
        elif (c.kind == "result" and c.status == "changed" and c.rel in head_results
              and c.rel not in claims.get(c.rel, set())):
            problems.append(Problem(
                prefix + c.rel, None, "supersedes",
                "changes an existing result; history is append-only: add supersedes: "
                f"[{{path: {RESULTS}{c.rel}, reason: <why the numbers changed>}}]"))
        elif c.kind not in (None, "result") and c.status in ("changed", "removed"):
            what = "removes" if c.status == "removed" else "changes"
            problems.append(Problem(prefix + c.rel, None, "",
                                    f"{what} existing {c.kind} data: every result that uses it "
                                    "may move on the leaderboard", severity="warning"))
    return problems


# ---------------------------------------------------------------------------------------------
# The changelog, from git history


@dataclass(frozen=True)
class HistoryEvent:
    """One result file touched by one commit. kind: added, changed, removed or superseded (named
    by a supersedes entry while it stays in the tree). `by` and `reason` come from the entry."""

    commit: str
    date: dt.datetime
    author: str
    subject: str
    kind: str
    path: str
    family: str | None
    model: str | None
    setting: str | None
    revision: str | None
    by: str = ""
    reason: str = ""


EVENT_COLUMNS = ["commit", "date", "author", "subject", "kind", "path", "family", "model",
                 "setting", "revision", "by", "reason"]


def history_events(results: Path, rev: str = "HEAD") -> list[HistoryEvent]:
    """Every change to result files under the folder `results` (inside a git repository) along
    the first-parent history of rev, oldest first. Raises GitError outside a repository."""
    results = Path(results).resolve()
    repo = Path(git(results, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    subdir = results.relative_to(repo).as_posix()
    log = git(repo, "log", "--first-parent", "--reverse", "-z",
              "--format=%H%x1f%P%x1f%at%x1f%an%x1f%s", rev, "--", f"{subdir}/")
    events: list[HistoryEvent] = []
    with blob_reader(repo) as blobs:
        for record in log.decode("utf-8", "replace").split("\0"):
            if not record.strip():
                continue
            sha, parents, stamp, author, subject = record.strip("\n").split("\x1f", 4)
            parent = parents.split()[0] if parents.split() else None
            date = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
            meta = (sha, date, author, subject)
            events.extend(_commit_events(repo, blobs, parent, meta, subdir))
    return events


def _commit_events(repo: Path, blobs: Any, parent: str | None, meta: tuple,
                   subdir: str) -> list[HistoryEvent]:
    sha = meta[0]
    args = ["diff-tree", "-r", "-z", "--no-renames", "--raw"]
    args += [parent, sha] if parent else ["--root", sha]
    fields = git(repo, *args, "--", f"{subdir}/").split(b"\0")
    touched: dict[str, tuple[str, str, str]] = {}  # path -> (status, old oid, new oid)
    it = iter(fields)
    for header in it:
        if not header.startswith(b":"):
            continue
        _, _, old_oid, new_oid, status = header[1:].decode().split()
        path = next(it).decode("utf-8", "replace")
        if layout.kind_of(PurePosixPath(path[len(subdir) + 1:])) == "result":
            touched[path] = (status[:1], old_oid, new_oid)
    notes: dict[str, tuple[str, str]] = {}  # superseded path -> (by, reason)
    for path, (status, old_oid, new_oid) in touched.items():
        if status == "D":
            continue
        new = _parse_blob(blobs, new_oid, path)
        old = _parse_blob(blobs, old_oid, path) if status == "M" else None
        for target, reason in _entries(new):
            if (target, reason) not in _entries(old):
                notes.setdefault(target, (path, reason))
    kinds = {"A": "added", "M": "changed", "D": "removed"}
    events = [_event(meta, kinds.get(status, "changed"), path, path[len(subdir) + 1:],
                     *notes.get(path, ("", "")))
              for path, (status, _, _) in sorted(touched.items())]
    events += [_event(meta, "superseded", target, target[len(RESULTS):], by, reason)
               for target, (by, reason) in sorted(notes.items()) if target not in touched]
    return events


def _parse_blob(blobs: Any, oid: str, path: str) -> Any:
    if set(oid) == {"0"}:
        return None
    raw = blobs.read(oid)
    if b"supersedes" not in raw:  # the only field read here: skip parsing most files
        return None
    try:
        return parse_text(decode(raw, path), path)
    except ReadError:
        return None


def _event(meta: tuple, kind: str, path: str, rel: str, by: str, reason: str) -> HistoryEvent:
    ids = layout.expected_ids(PurePosixPath(rel))
    return HistoryEvent(*meta, kind=kind, path=path, family=ids.get("family"),
                        model=ids.get("model"), setting=ids.get("setting"),
                        revision=ids.get("revision.id"), by=by, reason=reason)


def history_frame(results: Path, rev: str = "HEAD"):
    """history_events as a pandas DataFrame with EVENT_COLUMNS (date as UTC datetime64)."""
    import pandas as pd

    events = history_events(results, rev)
    frame = pd.DataFrame([[getattr(e, c) for c in EVENT_COLUMNS] for e in events],
                         columns=EVENT_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame


def against_base(root: Path, base: str, tree: Tree) -> list[Problem]:
    """`densitometer validate --base REV`: the append-only rule and plausibility warnings for
    the working tree at root (already validated into `tree`) against root's folder at REV."""
    import tempfile

    from .gitrev import materialise, resolve
    from .plausibility import plausibility_problems

    root = Path(root).resolve()
    top = Path(git(root, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    subdir = root.relative_to(top).as_posix()
    prefix = root.as_posix().rstrip("/") + "/"
    with tempfile.TemporaryDirectory(prefix="densitometer-base-") as tmp:
        base_root = Path(tmp) / "results"
        materialise(top, resolve(top, base), base_root, subdir=subdir)
        changes = compare_trees(base_root, root)
        problems = append_only_problems(changes, base_root, tree, prefix)
    touched = {c.rel for c in changes if c.status in ("added", "changed")}
    problems += plausibility_problems(tree, prefix, results={r for r in touched
                                                             if r.count("/") == 3},
                                      models={r for r in touched if r.endswith("model.yaml")})
    return problems
