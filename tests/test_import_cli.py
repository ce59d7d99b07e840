"""`densitometer import`: help with an example, and user errors as one line with exit codes."""

from __future__ import annotations

from typer.testing import CliRunner

from evalrunner.cli import app

runner = CliRunner()


def test_help_has_an_example():
    out = runner.invoke(app, ["import", "--help"])
    assert out.exit_code == 0
    assert "densitometer import all --from ../shared/data --into results/" in out.output


def test_unknown_source_is_a_usage_error():
    out = runner.invoke(app, ["import", "nope"])
    assert out.exit_code == 2 and "expected one of" in out.output


def test_missing_data_folder_is_one_line(tmp_path):
    out = runner.invoke(app, ["import", "pythia", "--from", str(tmp_path), "--into",
                              str(tmp_path / "results")])
    assert out.exit_code == 1
    assert "MANIFEST.csv" in out.output and "Traceback" not in out.output


def test_lmeval_json_needs_model_and_setting(tmp_path):
    out = runner.invoke(app, ["import", "lmeval-json", "--from", str(tmp_path / "x.json")])
    assert out.exit_code == 2 and "--model" in out.output
