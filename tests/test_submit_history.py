"""History is append-only (`densitometer validate --base REV`), the changelog events read back
from git, and reading a revision's results/ without trusting its tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from submit_git import commit, edit, git, make_repo
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.submit.gitrev import materialise, resolve
from evalrunner.submit.history import EVENT_COLUMNS, history_events, history_frame

SMALL = "results/fam/fam-small/zero-shot/main.yaml"
LARGE = "results/fam/fam-large/zero-shot/main.yaml"
REASON = "the scorer double-counted ties"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "pr")
    return repo


def validate(repo: Path, base: str = "main") -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["validate", str(repo / "results"), "--base", base])
    lines = [line.replace(repo.as_posix() + "/", "") for line in result.stdout.splitlines()]
    return result.exit_code, lines


def supersedes(path: str, reason: str = REASON) -> str:
    return f"supersedes:\n- path: {path}\n  reason: {reason}\n"


def test_unchanged_tree_passes(repo: Path) -> None:
    assert validate(repo) == (0, [])


def test_changed_result_needs_a_supersedes_entry(repo: Path) -> None:
    edit(repo / SMALL, "value: 0.5\n", "value: 0.55\n")
    assert validate(repo) == (1, [
        f"{SMALL}: supersedes: changes an existing result; history is append-only: add "
        f"supersedes: [{{path: {SMALL}, reason: <why the numbers changed>}}]"])
    (repo / SMALL).write_text((repo / SMALL).read_text() + supersedes(SMALL))
    assert validate(repo) == (0, [])


def test_removed_result_needs_a_file_that_supersedes_it(repo: Path) -> None:
    src = (repo / LARGE).read_text()
    (repo / LARGE).unlink()
    assert validate(repo) == (1, [
        f"{LARGE}: result removed; history is append-only: the file that replaces it must list "
        f"it under supersedes with a reason (supersedes: [{{path: {LARGE}, reason: ...}}])"])
    rerun = repo / "results/fam/fam-large/zero-shot/rerun.yaml"
    rerun.write_text(src.replace("id: main", "id: rerun") + supersedes(LARGE))
    assert validate(repo) == (0, [])


def test_supersedes_entries_are_permanent(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    edit(repo / SMALL, "value: 0.5\n", "value: 0.55\n")
    (repo / SMALL).write_text((repo / SMALL).read_text() + supersedes(SMALL))
    commit(repo, "fix fam-small")
    git(repo, "checkout", "-q", "-b", "pr2")
    text = (repo / SMALL).read_text()
    (repo / SMALL).write_text(text[:text.index("supersedes:")])
    assert validate(repo) == (1, [
        f"{SMALL}: supersedes: removes the entry for '{SMALL}'; supersedes entries are "
        "permanent (history is append-only)"])


def test_supersedes_must_name_a_result_at_base(repo: Path) -> None:
    ghost = "results/fam/fam-ghost/zero-shot/main.yaml"
    (repo / SMALL).write_text((repo / SMALL).read_text() + supersedes(ghost))
    assert validate(repo) == (1, [
        f"{SMALL}: supersedes.0.path: '{ghost}' is not a result file at the base revision; "
        "list only files this change replaces or changes"])


def test_reformatting_is_not_a_change(repo: Path) -> None:
    edit(repo / SMALL, "# yaml-language-server", "# reviewed\n# yaml-language-server")
    edit(repo / SMALL, "value: 0.5\n", "value: 0.50\n")
    assert validate(repo) == (0, [])


def test_changed_metadata_is_a_warning(repo: Path) -> None:
    edit(repo / "results/fam/fam-small/model.yaml", "value: 100000000", "value: 120000000")
    assert validate(repo) == (0, [
        "results/fam/fam-small/model.yaml: changes existing model data: every result that uses "
        "it may move on the leaderboard"])


def test_unknown_base_revision_is_a_usage_error(repo: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(repo / "results"), "--base", "nope"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["validate", str(repo / "results"), "--base", "--help"])
    assert result.exit_code == 2


# ---------------------------------------------------------------------------------------------
# The changelog


def test_history_events(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    edit(repo / SMALL, "value: 0.5\n", "value: 0.55\n")
    (repo / SMALL).write_text((repo / SMALL).read_text() + supersedes(SMALL))
    commit(repo, "fam-small: rescored", when=1)
    src = (repo / LARGE).read_text()
    (repo / LARGE).unlink()
    rerun = "results/fam/fam-large/zero-shot/rerun.yaml"
    (repo / rerun).write_text(src.replace("id: main", "id: rerun")
                              + supersedes(LARGE, "rerun with the fixed tokenizer"))
    commit(repo, "fam-large: rerun", when=2)
    (repo / "README.md").write_text("not results\n")
    commit(repo, "docs", when=3)
    events = history_events(repo / "results", "main")
    got = [(e.date.day, e.kind, e.path, e.model, e.revision, e.by, e.reason) for e in events]
    assert got == [
        (14, "added", LARGE, "fam-large", "main", "", ""),
        (14, "added", SMALL, "fam-small", "main", "", ""),
        (15, "changed", SMALL, "fam-small", "main", SMALL, REASON),
        (16, "removed", LARGE, "fam-large", "main", rerun, "rerun with the fixed tokenizer"),
        (16, "added", rerun, "fam-large", "rerun", "", ""),
    ]
    assert {e.subject for e in events} == {"results: the first models", "fam-small: rescored",
                                          "fam-large: rerun"}
    frame = history_frame(repo / "results", "main")
    assert list(frame.columns) == EVENT_COLUMNS and len(frame) == 5
    assert str(frame["date"].dt.tz) == "UTC"


# ---------------------------------------------------------------------------------------------
# Reading a revision without trusting it


def test_materialise_refuses_links_submodules_and_hidden_names(repo: Path, tmp_path: Path) -> None:
    (repo / "results/fam/link.yaml").symlink_to("/etc/passwd")
    (repo / "results/fam/ev\u202eil.yaml").write_text("a: 1\n")
    git(repo, "add", "-A")
    head = resolve(repo, "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},results/fam/sub")
    git(repo, "commit", "-q", "-m", "hostile tree")  # not commit(): `add -A` drops the gitlink
    dest = tmp_path / "out"
    problems = [str(p) for p in materialise(repo, resolve(repo, "HEAD"), dest)]
    assert problems == [
        "results/fam/ev\\u202eil.yaml: control or format character U+202E in the name "
        "'ev\\u202eil.yaml'",
        "results/fam/link.yaml: symbolic links are not allowed in results/",
        "results/fam/sub: submodules are not allowed in results/",
    ]
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == sorted(
        p.relative_to(repo / "results").as_posix() for p in (repo / "results").rglob("*.yaml")
        if p.is_file() and not p.is_symlink() and "\u202e" not in p.name)
    assert not any(p.is_symlink() for p in dest.rglob("*"))
