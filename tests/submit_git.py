"""Throw-away git repositories for the submission tests: fixed names and dates, so commits are
reproducible, and a results tree from treebuilder as the first commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from treebuilder import build_tree

ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
       "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
       "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str, when: int = 0) -> str:
    stamp = f"{1_700_000_000 + when * 86400} +0000"
    env = {**os.environ, **ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def commit(repo: Path, message: str, when: int = 0) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(path: Path, models: dict[str, float] | None = None) -> Path:
    """A repository whose first commit on `main` holds results/ from treebuilder."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    build_tree(path / "results", models)
    (path / "README.md").write_text("test repository\n")
    commit(path, "results: the first models")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
