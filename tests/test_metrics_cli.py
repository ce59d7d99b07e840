"""`densitometer metrics`: writes every table as CSV and JSON with stable columns, reproducibly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from treebuilder import build_tree
from typer.testing import CliRunner

from evalrunner.cli import app

TABLES = ["predictability_family_task", "checkpoints", "tasks", "density", "density_models",
          "densing_law", "density_fits"]


def _header(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return next(csv.reader(fh))


def test_metrics_command_writes_tables(tmp_path):
    tree = build_tree(tmp_path / "results", {"fam-a": 1e8, "fam-b": 3e8, "fam-c": 1e9,
                                             "fam-d": 3e9})
    out = tmp_path / "metrics"
    runner = CliRunner()
    result = runner.invoke(app, ["metrics", "--out", str(out), "--results", str(tree),
                                 "--d0", "2e12"])
    assert result.exit_code == 0, result.output
    for name in TABLES:
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.json").is_file()
    assert (out / "metric_registry.json").is_file()
    assert _header(out / "density.csv")[:9] == ["model", "setting", "reference", "task",
                                                "score", "n_hat", "density", "status", "reason"]
    assert _header(out / "densing_law.csv")[:9] == ["setting", "reference", "A", "B", "r2",
                                                    "doubling_days", "ci_low", "ci_high",
                                                    "n_models"]
    fam = json.loads((out / "predictability_family_task.json").read_text())
    assert {r["task"] for r in fam["rows"]} == {"arc_easy", "piqa"}
    assert all(r["n"] == 4 for r in fam["rows"])
    # the reference family has 4 (N, D) points: too few for a fit, and it says so; with one
    # token count (every model at step 143000) N^ would be read off at that D, not at --d0
    fits = json.loads((out / "density_fits.json").read_text())["rows"]
    assert {r["status"] for r in fits} == {"fit_failed"}
    assert fits[0]["d0"] == 143000 * 2_097_152 and "one token count" in fits[0]["reason"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = runner.invoke(app, ["metrics", "--out", str(out), "--results", str(tree),
                                "--d0", "2e12"])
    assert again.exit_code == 0 and "wrote" not in again.stdout  # nothing changed
    assert before == {p.name: p.read_bytes() for p in out.iterdir()}


def test_unknown_reference_is_a_clean_error(tmp_path):
    tree = build_tree(tmp_path / "results")
    result = CliRunner().invoke(app, ["metrics", "--out", str(tmp_path / "m"), "--results",
                                      str(tree), "--reference", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output and "reference: true" in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(app, ["metrics", "--help"])
    assert result.exit_code == 0 and "Example: densitometer metrics" in result.output
