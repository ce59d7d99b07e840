"""Session fixtures for end-to-end tests on the tiny model family (re-exported by conftest.py):
the family trained once per session, and the example plan run once on it.

DENSITOMETER_TINY_DIR names a folder to train into once and reuse across sessions (the training
is skipped when that folder holds the same recipe). Tests that add results must copy
`tiny_results` first: the tree is shared by every test of the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_plan(tmp_path_factory) -> Path:
    """The tiny family, trained once per test session, and the example plan beside it."""
    from evalrunner.run.demo import train_tiny

    cached = os.environ.get("DENSITOMETER_TINY_DIR")
    workdir = Path(cached) if cached else tmp_path_factory.mktemp("tiny-family")
    return train_tiny(workdir, log=lambda _: None)


@pytest.fixture(scope="session")
def tiny_results(tiny_plan: Path, tmp_path_factory) -> Path:
    """The example plan's results (3 sizes x 4 checkpoints x 2 settings); the per-sample logs
    are beside them in ../samples."""
    from evalrunner.run.runner import RunArgs, run_plan

    root = tmp_path_factory.mktemp("tiny-results") / "results"
    report = run_plan(RunArgs(plan=tiny_plan, results=root))
    assert report.ok, [o.failed for o in report.failed]
    assert len(report.written) == 24  # 3 sizes x 4 checkpoints x 2 settings
    return root
