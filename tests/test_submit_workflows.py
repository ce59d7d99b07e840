"""The GitHub workflows keep pull requests away from write tokens and secrets.

- No workflow uses `pull_request_target` (it runs with a write token in the base's context,
  and checking out the PR there hands that token to the PR's code).
- The pull-request workflow has a read-only token, no secrets, and checkouts that do not keep
  credentials; its `preview` job installs only the base branch's code.
- The comment workflow never checks out or runs anything: it downloads the artifact, and posts
  only to the PR whose head is the commit the PR run checked.
- No `${{ ... }}` expression is pasted into a shell script of the PR path (script injection);
  values reach scripts through `env:`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_no_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in path.read_text()
    assert "pull_request_target" not in triggers(yaml.safe_load(path.read_text()))


def test_pull_request_path_has_no_secrets_and_no_write_token() -> None:
    text = (WORKFLOWS / "pr.yml").read_text()
    pr = load("pr.yml")
    assert set(triggers(pr)) == {"pull_request"}
    assert pr["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in pr["jobs"].values())
    assert "secrets." not in text and "GITHUB_TOKEN" not in text and "github.token" not in text
    checkouts = [s for s in steps(pr) if s.get("uses", "").startswith("actions/checkout")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_no_expressions_inside_scripts_of_the_pr_path() -> None:
    for name in ("pr.yml", "comment.yml"):
        for step in steps(load(name)):
            assert "${{" not in step.get("run", ""), (name, step.get("name"))


def test_preview_job_runs_only_the_base_code() -> None:
    job = load("pr.yml")["jobs"]["preview"]
    runs = [s.get("run", "") for s in job["steps"]]
    installs = [line for r in runs for line in r.splitlines() if "pip install" in line]
    assert installs == ["pip install ./base"]
    base = next(s for s in job["steps"] if s.get("with", {}).get("path") == "base")
    assert base["with"]["ref"] == "${{ github.base_ref }}"
    assert any("densitometer diff" in r and "--repo pr" in r for r in runs)


def test_comment_job_runs_nothing_from_the_pull_request() -> None:
    wf = load("comment.yml")
    assert set(triggers(wf)) == {"workflow_run"}
    uses = [s.get("uses", "") for s in steps(wf)]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert any(u.startswith("actions/download-artifact") for u in uses)
    script = "\n".join(s.get("run", "") for s in steps(wf))
    assert "pip " not in script and "densitometer" not in script and "python" not in script
    assert "headRefOid" in script and '"$HEAD_SHA"' in script
