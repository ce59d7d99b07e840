"""results/ at a git revision, copied into a folder as plain data.

A pull request's tree is untrusted. Nothing here checks it out or runs anything from it: files
are listed with `git ls-tree` and read as raw blobs with `git cat-file --batch` (no filters,
no attributes, no hooks), and every path is checked before a file is written, always under a
folder the caller chose. Symbolic links and submodules are reported, never followed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from evalrunner.results.read import MAX_BYTES, bad_name_char, shown_name
from evalrunner.results.validate import Problem

# Commands must not prompt, page or read a global/system config that could change their output.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_LITERAL_PATHSPECS": "1"}
SYMLINK, GITLINK = "120000", "160000"


class GitError(Exception):
    """A git command failed (unknown revision, not a repository)."""

    def __init__(self, args: list[str], message: str):
        self.args_, self.message = args, message
        super().__init__(f"git {' '.join(args)}: {message}")


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in repo and return stdout; raises GitError with git's message."""
    env = {**os.environ, **_ENV}
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise GitError(list(args), proc.stderr.decode("utf-8", "replace").strip() or
                       f"exit status {proc.returncode}")
    return proc.stdout


def resolve(repo: Path, rev: str) -> str:
    """The commit sha a revision names. A revision starting with '-' would be an option."""
    if not rev or rev.startswith("-") or "\0" in rev:
        raise GitError(["rev-parse", rev], "not a revision")
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return out.decode().strip()


def merge_base(repo: Path, base: str, head: str) -> str:
    """Where head branched from base: what a pull request changes is merge-base..head."""
    return git(repo, "merge-base", resolve(repo, base), resolve(repo, head)).decode().strip()


@dataclass(frozen=True)
class Entry:
    """One file of a tree: path relative to the listed folder, git mode, blob id, size."""

    rel: str
    mode: str
    oid: str
    size: int


def list_tree(repo: Path, commit: str, subdir: str = "results") -> list[Entry]:
    """Every file under subdir/ at commit (recursively), sorted by path."""
    out = git(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", f"{subdir}/")
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        head, _, raw_path = record.partition(b"\t")
        mode, _kind, oid, size = head.decode().split(maxsplit=3)
        path = raw_path.decode("utf-8", "surrogateescape")
        rel = path[len(subdir) + 1:] if path.startswith(f"{subdir}/") else path
        entries.append(Entry(rel, mode, oid, int(size) if size.strip().isdigit() else 0))
    return sorted(entries, key=lambda e: e.rel)


class BlobReader:
    """A `git cat-file --batch` process: blob contents by id, without filters."""

    def __init__(self, proc: subprocess.Popen):
        self._proc = proc
        self._in: IO[bytes] = proc.stdin  # type: ignore[assignment]
        self._out: IO[bytes] = proc.stdout  # type: ignore[assignment]

    def read(self, oid: str) -> bytes:
        self._in.write(oid.encode() + b"\n")
        self._in.flush()
        header = self._out.readline().decode().split()
        if len(header) != 3:
            raise GitError(["cat-file", oid], " ".join(header) or "no answer")
        data = self._out.read(int(header[2]))
        self._out.read(1)  # the newline after each object
        return data


@contextmanager
def blob_reader(repo: Path) -> Iterator[BlobReader]:
    proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, **_ENV})
    try:
        yield BlobReader(proc)
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def path_problem(rel: str) -> str | None:
    """Why a path from a tree cannot be written under our folder, or None if it can."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return f"path '{shown_name(rel)}' has an empty, '.' or '..' part"
    for part in parts:
        bad = bad_name_char(part)
        if bad:
            return bad
    return None


def materialise(repo: Path, commit: str, dest: Path, subdir: str = "results",
                shown: str = "results/") -> list[Problem]:
    """Copy subdir/ at commit into dest as plain files; problems for what cannot be copied.

    A file over the size limit is written as a sparse file of its real size, so the validator
    reports it with its exact size without the content being read.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    top = dest.resolve()
    problems = []
    entries = list_tree(repo, commit, subdir)
    with blob_reader(repo) as blobs:
        for e in entries:
            why = path_problem(e.rel)
            display = shown + shown_name(e.rel)
            if why is None and e.mode == SYMLINK:
                why = "symbolic links are not allowed in results/"
            elif why is None and e.mode == GITLINK:
                why = "submodules are not allowed in results/"
            if why is not None:
                problems.append(Problem(display, None, "", why))
                continue
            target = top.joinpath(*e.rel.split("/"))
            if top not in target.parents:  # cannot happen after path_problem; checked anyway
                problems.append(Problem(display, None, "", "path leaves the results folder"))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if e.size > MAX_BYTES:
                with target.open("wb") as fh:
                    fh.truncate(e.size)
                continue
            target.write_bytes(blobs.read(e.oid))
    return problems


def changed_paths(repo: Path, base: str, head: str) -> list[tuple[str, str]]:
    """(status, path) for every file that differs between two commits: A, M, D or T."""
    out = git(repo, "diff", "--name-status", "-z", "--no-renames", base, head, "--")
    fields = out.split(b"\0")
    pairs = []
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if status:
            pairs.append((status.decode()[:1], path.decode("utf-8", "replace")))
    return pairs
