"""The pull-request preview (`densitometer diff`): golden Markdown, escaping, the code flag.

The golden file is tests/submit_golden/preview.md. After a reviewed change to the preview,
regenerate it with `UPDATE_GOLDEN=1 python -m pytest tests/test_submit_preview.py` and review
the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from submit_git import commit, edit, git, make_repo
from typer.testing import CliRunner

from evalrunner.cli import app
from evalrunner.submit.markdown import md
from evalrunner.submit.preview import build_preview
from evalrunner.submit.render import render

GOLDEN = Path(__file__).parent / "submit_golden" / "preview.md"
MODELS = {"fam-a": 1e8, "fam-b": 3e8, "fam-c": 1e9, "fam-d": 3e9}
FAM_B = "results/fam/fam-b/zero-shot/main.yaml"
FAM_C = "results/fam/fam-c/zero-shot/main.yaml"
HOSTILE_REASON = ("rescored after the fix: see [the fix](https://evil.example/x) "
                  "<img src=x onerror=alert(1)> | cc @org/team `code` *bold*")
NEW_MODEL = """schema_version: 1
id: fam-e
family: fam
name: fam-e
params:
  total: {value: 3000000000, source: declared}
  non_embedding: {value: 2000000000, source: declared}
  embedding: {value: 500000000, source: declared}
"""
NEW_RESULT = """schema_version: 1
model: fam-e
setting: zero-shot
revision: {id: main}
tier: submitted
scores:
  arc_easy: {metric: acc, value: 0.95, stderr: 0.0045}
  piqa: {metric: acc, value: 0.3, stderr: 0.05}
provenance:
  kind: submission
  submitter: "mallory <script>alert(1)</script>"
"""


def _checkpoint(repo: Path, step: int, arc: float) -> None:
    src = (repo / FAM_C).read_text()
    text = src.replace("id: main", f"id: step{step}").replace("step: 143000", f"step: {step}")
    text = text.replace("tokens: 299892736000", "tokens: 1000\n  final: false")
    text = re.sub(r"value: [0-9.]+\n", f"value: {arc}\n", text, count=1)  # arc_easy
    (repo / f"results/fam/fam-c/zero-shot/step{step}.yaml").write_text(text)


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("preview") / "repo", MODELS)
    _checkpoint(repo, 71000, 0.5)
    commit(repo, "fam-c: an early checkpoint", when=1)
    git(repo, "checkout", "-q", "-b", "pr")
    edit(repo / FAM_B, "value: 0.5\n", "value: 0.52\n")
    (repo / FAM_B).write_text((repo / FAM_B).read_text() + "supersedes:\n- path: " + FAM_B
                              + f"\n  reason: '{HOSTILE_REASON}'\n")
    (repo / "results/fam/fam-e/zero-shot").mkdir(parents=True)
    (repo / "results/fam/fam-e/model.yaml").write_text(NEW_MODEL)
    (repo / "results/fam/fam-e/zero-shot/main.yaml").write_text(NEW_RESULT)
    _checkpoint(repo, 100000, 0.55)
    (repo / "tools").mkdir()
    (repo / "tools/fetch.py").write_text("print('hello')\n")
    commit(repo, "submission: fam-e, fam-b rescored, a fam-c checkpoint", when=2)
    return repo


def _render(repo: Path, tmp_path: Path, base: str = "main", head: str = "pr") -> str:
    preview = build_preview(repo, base, head, tmp_path)
    text = render(preview)
    return text.replace(preview.base_sha[:7], "BASE000").replace(preview.head_sha[:7],
                                                                 "HEAD000")


def test_preview_matches_golden(pr_repo: Path, tmp_path: Path) -> None:
    text = _render(pr_repo, tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_preview_is_inert_markdown(pr_repo: Path, tmp_path: Path) -> None:
    text = _render(pr_repo, tmp_path)
    assert "<" not in text.replace("&lt;", "")
    assert "](" not in text and "https://" not in text
    assert "@org" not in text  # @\u200borg: no mention
    for table in re.findall(r"(?:^\|.*\n)+", text, flags=re.M):
        cells = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(cells) == 1, table  # an escaped | cannot add a column


def test_code_flag_only_when_code_and_results_change(pr_repo: Path, tmp_path: Path) -> None:
    assert "changes code as well as results" in _render(pr_repo, tmp_path)
    git(pr_repo, "checkout", "-q", "-b", "docs-only", "main")
    (pr_repo / "tools").mkdir(exist_ok=True)
    (pr_repo / "tools/other.py").write_text("x = 1\n")
    commit(pr_repo, "code only", when=3)
    text = _render(pr_repo, tmp_path / "2", head="docs-only")
    assert "changes code as well as results" not in text
    assert "This pull request changes no files under results/." in text
    git(pr_repo, "checkout", "-q", "pr")


def test_errors_are_listed_and_ranks_withheld(pr_repo: Path, tmp_path: Path) -> None:
    git(pr_repo, "checkout", "-q", "-b", "broken", "main")
    (pr_repo / FAM_C).unlink()
    edit(pr_repo / FAM_B, "value: 0.5\n", "value: .nan\n")
    commit(pr_repo, "break things", when=4)
    text = _render(pr_repo, tmp_path, head="broken")
    git(pr_repo, "checkout", "-q", "pr")
    assert "**2 error(s)** to fix, 0 warning(s)." in text
    assert ("- results/fam/fam\\-b/zero\\-shot/main\\.yaml\\:13\\: NaN and infinity are not "
            "allowed, found \\'\\.nan\\'") in text
    assert ("- results/fam/fam\\-c/zero\\-shot/main\\.yaml\\: result removed; history is "
            "append\\-only\\:") in text
    assert "Ranks and deltas are shown once the errors are fixed." in text
    assert "### Leaderboard" not in text


def test_diff_command_writes_the_comment(pr_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "preview" / "comment.md"
    result = CliRunner().invoke(app, ["diff", "main", "pr", "--out", str(out),
                                      "--repo", str(pr_repo)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("## Densitometer preview\n")
    bad = CliRunner().invoke(app, ["diff", "no-such-branch", "pr", "--repo", str(pr_repo)])
    assert bad.exit_code == 2


@pytest.mark.parametrize(("raw", "shown"), [
    ("a|b", "a\\|b"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
    ("[x](javascript:alert(1))", "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
    ("see https://evil.example", "see https\\:\u200b//evil\\.example"),
    ("www.evil.example", "www\u200b\\.evil\\.example"),
    ("@org/team", "\\@\u200borg/team"),
    ("line\nbreak", "line break"),
    ("r\u202eevil", "r\\\\u202eevil"),
    ("&amp;", "&amp;amp;"),
    ("x" * 400, "x" * 300 + "\\.\\.\\."),
])
def test_md_escaping(raw: str, shown: str) -> None:
    assert md(raw) == shown


def test_preview_survives_the_hostile_corpus(tmp_path: Path) -> None:
    """Every hostile file of tests/hostile/, committed as a result: errors, never a crash."""
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "hostile")
    cases = sorted((Path(__file__).parent / "hostile").glob("*.yaml"))
    for case in cases:
        if case.name != "expected.yaml":
            target = repo / "results/fam/fam-small/zero-shot" / case.name
            target.write_bytes(case.read_bytes())
    commit(repo, "hostile results")
    preview = build_preview(repo, "main", "hostile", tmp_path / "work")
    text = render(preview)
    assert len({p.path for p in preview.errors}) == len(cases) - 1
    assert "<" not in text.replace("&lt;", "")
