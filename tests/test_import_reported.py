"""Reported results: an Every Eval Ever record (our own export, read back) and a Hub
`.eval_results` YAML enter the `reported` tier, show on the model's page, and are absent from
every fit, density and ranking; hostile files are refused with the file and field named."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from site_tree import build_site_tree

from evalrunner.importers.base import SourceDataError
from evalrunner.importers.reported import import_report
from evalrunner.metrics.compute import compute_all
from evalrunner.results.load import load_frames
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Result
from evalrunner.site.data import load_site_data
from evalrunner.site.eee import archive
from evalrunner.site.pages.common import settings_by_size
from evalrunner.site.pages.models import model_pages

HUB = Path(__file__).parent / "data" / "eval_results" / "arc_easy.yaml"


@pytest.fixture()
def tree(tmp_path) -> Path:
    return build_site_tree(tmp_path / "results")


def _an_exported_record(root: Path, tmp_path: Path, model: str) -> Path:
    """One of our own Every Eval Ever records, as another site would publish it."""
    with zipfile.ZipFile(io.BytesIO(archive(load_site_data(root, with_metrics=False),
                                            "2026-12-07 12:15 UTC"))) as zf:
        index = zf.read("index.csv").decode().splitlines()
        row = next(r for r in index[1:] if f",{model}," in r)
        out = tmp_path / "record.json"
        out.write_bytes(zf.read(row.split(",")[0]))
    return out


def test_an_every_eval_ever_record_and_a_hub_file_enter_the_reported_tier(tree, tmp_path):
    record = _an_exported_record(tree, tmp_path, "ref-2")
    first = import_report(record, tree, "ref-3")  # another party's report of ref-3
    hub = import_report(HUB, tree, "ref-3", {"allenai/ai2_arc:ARC-Easy": "arc_easy"},
                        scale="percent")
    assert hub.skipped == ["cais/hle:hle: not a task of the registry (map it with --task)"]
    paths = sorted((tree / "ref" / "ref-3" / "reported").glob("*.yaml"))
    assert len(paths) == 2 and {p.stem[:4] for p in paths} == {"eee-", "hub-"}
    res = {p.stem[:3]: Result.model_validate(read_yaml(p)) for p in paths}
    assert {r.tier for r in res.values()} == {"reported"}
    assert res["hub"].scores["arc_easy"].value == pytest.approx(0.715)
    assert res["hub"].scores["arc_easy"].converted_from == "percent"
    assert res["hub"].provenance.url == "https://huggingface.co/example/ref-3"
    exported = json.loads(record.read_text())["evaluation_results"]
    ours = {r["evaluation_name"]: r["score_details"]["score"] for r in exported
            if r["score_details"]["details"]["headline_metric"] == "true"}
    assert {t: s.value for t, s in res["eee"].scores.items()} == ours
    assert first.results == 1 and res["eee"].provenance.format == "every-eval-ever"

    frames = load_frames(tree)
    tables = compute_all(frames)
    for name, table in tables.tables().items():  # absent from every fit
        if "setting" in table.columns:
            assert "reported" not in set(table["setting"]), name
    data = load_site_data(tree)
    assert "reported" not in settings_by_size(data)  # and from every ranking
    page = next(p for p in model_pages(data, ["ref-3"]) if p.path.endswith("index.md"))
    shown = next(s for s in page.context.settings if s.setting == "reported")
    assert {o.tier for o in shown.origins} == {"reported"}
    assert any(o.source == "reported by example (not measured here)" for o in shown.origins)
    table = next(t for t in page.tables if t.id == f"scores-{shown.setting}")
    assert "71.5" in table.body


@pytest.mark.parametrize(("text", "suffix", "field", "expected"), [
    ('{"evaluation_results": [{"evaluation_name": "arc_easy", "metric_config": '
     '{"max_score": 1}, "score_details": {"score": NaN}}]}', ".json", "file", "valid JSON"),
    ('{"evaluation_results": [{"evaluation_name": "arc_easy", "metric_config": '
     '{"max_score": 100}, "score_details": {"score": 7150}}]}', ".json",
     "evaluation_results[0].score_details.score", "a score in [0, 100]"),
    ('{"evaluation_results": [{"evaluation_name": "arc_easy", "metric_config": {}, '
     '"score_details": {"score": 0.7}}]}', ".json", "evaluation_results[0].metric_config",
     "max_score 1 or 100"),
    ('{"evaluation_results": [{"evaluation_name": "gpqa", "metric_config": '
     '{"max_score": 1}, "score_details": {"score": 0.3}}]}', ".json", "tasks",
     "at least one task the registry knows"),
    ("- !!python/object/apply:os.system ['true']", ".yaml", "file", "valid YAML"),
])
def test_a_hostile_report_is_refused_with_file_and_field(tree, tmp_path, text, suffix, field,
                                                          expected):
    path = tmp_path / f"report{suffix}"
    path.write_text(text)
    with pytest.raises(SourceDataError) as err:
        import_report(path, tree, "ref-3", scale="percent")
    msg = str(err.value)
    assert str(path) in msg and field in msg and expected in msg
    assert not (tree / "ref" / "ref-3" / "reported").exists()  # nothing half-written


def test_a_hub_file_needs_its_scale_and_a_real_model(tree):
    with pytest.raises(SourceDataError, match="fraction or percent"):
        import_report(HUB, tree, "ref-3", {"allenai/ai2_arc:ARC-Easy": "arc_easy"})
    with pytest.raises(SourceDataError, match="a Hub .yaml"):
        import_report(HUB.with_name("missing.yaml"), tree, "ref-3", scale="percent")
    with pytest.raises(SourceDataError, match="one nobody/model.yaml"):
        import_report(HUB, tree, "nobody", {"allenai/ai2_arc:ARC-Easy": "arc_easy"}, "percent")
