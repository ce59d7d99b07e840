"""End to end on the tiny family: the session's tiny-family results plus 8 samples per
item of the generation task at the final checkpoints, then `densitometer metrics` and the site.
Two-stage prediction, the continuous-metric diagnostics and the coverage curves all come from
runner output. About 30 s beyond the shared tiny-family fixtures on 2 free cores."""

from __future__ import annotations

import csv
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalrunner.cli import app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
ZERO_SHOT = "densitometer-tiny-0shot"
SAMPLED = "densitometer-tiny-sampled16"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def work(tiny_plan: Path, tiny_results: Path, tmp_path_factory) -> Path:
    """A copy of the shared results and logs, plus the packaged sampling plan (20 items, 8
    samples each) run on the final checkpoints."""
    from evalrunner.run.runner import RunArgs, run_plan

    dst = tmp_path_factory.mktemp("science")
    shutil.copytree(tiny_results.parent, dst, dirs_exist_ok=True)  # results/ and samples/
    packaged = resources.files("evalrunner.run") / "plans" / "tiny-sampling.yaml"
    plan = yaml.safe_load(packaged.read_text(encoding="utf-8"))
    plan["run"]["limit"] = 20
    plan["settings"][0]["sampling"]["repeats"] = 8
    for model in plan["families"][0]["models"]:
        model["path"] = str(tiny_plan.parent / model["path"])
    (dst / "sampling.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    report = run_plan(RunArgs(plan=dst / "sampling.yaml", results=dst / "results"))
    assert report.ok and len(report.written) == 3, [o.failed for o in report.failed]
    return dst


@pytest.fixture(scope="module")
def tables(work: Path) -> Path:
    out = work / "metrics"
    result = CliRunner().invoke(app, ["metrics", "--out", str(out), "--results",
                                      str(work / "results")])
    assert result.exit_code == 0, result.output
    return out


def test_runner_writes_item_summaries_beside_the_logs(work):
    logs = sorted((work / "samples").rglob("*.jsonl.gz"))
    summaries = sorted((work / "samples").rglob("*.items.json.gz"))
    assert len(logs) == 27 and len(summaries) == 27  # 24 + 3 sampled results


def test_two_stage_prediction_from_the_answer_loss(tables):
    rows = {(r["setting"], r["task"]): r for r in _rows(tables / "twostage.csv")}
    r = rows[(ZERO_SHOT, "tiny_facts_mc")]
    assert r["proxy"] == "answer_nll_token" and r["target_model"] == "tiny-m"
    assert r["n_step1"] == "2" and r["n_step2"] == "8" and r["status"] == "low_dof"
    for col in ("ae_chained", "ae_true_proxy", "ae_direct", "loss_ae"):
        assert 0 <= float(r[col]) < 1, col
    assert float(r["loss_pred"]) > float(r["loss_actual"])  # the largest model beats the line
    assert (ZERO_SHOT, "tiny_arith_gen") not in rows  # no log-likelihood, no proxy


def test_diagnostics_show_what_accuracy_loses(tables):
    rows = {(r["setting"], r["task"]): r for r in _rows(tables / "diagnostics.csv")}
    r = rows[(ZERO_SHOT, "tiny_facts_mc")]
    assert r["n_points"] == "9" and r["n_items"] == "80" and r["status"] == "ok"
    assert float(r["rho_logp"]) > float(r["rho_acc"]) > 0 and float(r["lost"]) > 0
    assert r["rho_pchoice"] and r["rho_mass"]
    ll = rows[(ZERO_SHOT, "tiny_colors_ll")]
    assert ll["rho_pchoice"] == "" and "one continuation per item" in ll["reason"]


def test_coverage_curves_and_laws(tables):
    cov = {r["model"]: r for r in _rows(tables / "coverage.csv") if r["setting"] == SAMPLED}
    assert set(cov) == {"tiny-xs", "tiny-s", "tiny-m"}
    for r in cov.values():
        assert r["n_samples"] == "8" and r["n_items"] == "20" and r["k_pred"] == "80"
        assert float(r["pass_at_1"]) <= float(r["pass_at_n"])
    assert float(cov["tiny-m"]["pass_at_1"]) > float(cov["tiny-xs"]["pass_at_1"])
    curve = [float(r["pass_at_k"]) for r in _rows(tables / "passk.csv")
             if r["model"] == "tiny-xs" and r["setting"] == SAMPLED]
    assert len(curve) == 8 and all(b >= a for a, b in zip(curve, curve[1:], strict=False))
    (pu,) = [r for r in _rows(tables / "passuntil.csv") if r["setting"] == SAMPLED]
    assert pu["n"] == "3" and pu["target_model"] == "tiny-m" and pu["llo_pred"] != ""


def test_the_site_shows_them(work, tables):
    from evalrunner.site.build import BuildOptions, build_site

    site = work / "site"
    build_site(BuildOptions(results=work / "results", out=site, docs=work / "docs",
                            src=REPO / "site_src", config=REPO / "mkdocs.yml",
                            node_modules=REPO / "node_modules", stamp="TEST"))
    family = (site / "families" / "densitometer-tiny" / "index.html").read_text()
    for marker in ("Two-stage prediction", 'id="table-twostage"', 'id="table-diagnostics"',
                   'id="table-coverage"', 'id="table-passuntil"',
                   f'id="chart-coverage-{SAMPLED}"'):
        assert marker in family, marker
    task = (site / "tasks" / "tiny_facts_mc" / "index.html").read_text()
    assert 'id="table-twostage"' in task and 'id="table-diagnostics"' in task
    gen = (site / "tasks" / "tiny_arith_gen" / "index.html").read_text()
    assert f'id="chart-coverage-{SAMPLED}"' in gen
    methodology = (site / "methodology" / "index.html").read_text()
    assert "Large Language Monkeys" in methodology and "arXiv 2406.04391" in methodology
    index = json.loads((site / "api" / "v1" / "index.json").read_text())
    assert {"twostage.csv", "diagnostics.csv", "passk.csv", "coverage.csv",
            "passuntil.csv"} <= set(index["files"])
    api = _rows(site / "api" / "v1" / "coverage.csv")
    assert len([r for r in api if r["setting"] == SAMPLED]) == 3
