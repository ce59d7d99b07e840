"""The changelog: the history of results/ from git (who changed which result files, when).

Robust by design: without git, outside a repository or with no history for results/, the page
says so instead of failing the build.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..render import Page

MAX_COMMITS = 300
SEP = "\x1f"


@dataclass(frozen=True)
class Change:
    commit: str
    date: str
    author: str
    subject: str
    added: int
    modified: int
    deleted: int


@dataclass(frozen=True)
class ChangelogPage:
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def git_history(results: Path, limit: int = MAX_COMMITS) -> tuple[list[Change], str]:
    """(changes, note): the last `limit` commits touching `results`, newest first."""
    git = shutil.which("git")
    if git is None:
        return [], "git is not installed, so the history of results/ is not known."
    results = Path(results).resolve()
    cmd = [git, "-C", str(results), "log", f"-n{limit}", "--date=short", "--no-renames",
           f"--pretty=format:@@{SEP}%H{SEP}%ad{SEP}%an{SEP}%s", "--name-status", "--", "."]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"git could not be run ({exc})."
    if proc.returncode != 0:
        return [], "The results folder is not in a git repository, so it has no history here."
    changes: list[Change] = []
    for block in proc.stdout.split("@@" + SEP)[1:]:
        head, *files = block.strip("\n").split("\n")
        sha, date, author, subject = (head.split(SEP) + ["", "", "", ""])[:4]
        status = [line.split("\t", 1)[0][:1] for line in files if "\t" in line]
        changes.append(Change(sha[:10], date, author, subject, status.count("A"),
                              status.count("M"), status.count("D")))
    note = "" if changes else "No commit has touched the results folder yet."
    return changes, note


def changelog_page(results: Path) -> Page:
    changes, note = git_history(results)
    return Page("changelog/index.md", "changelog.md.j2", ChangelogPage(changes, note),
                "Changelog")
