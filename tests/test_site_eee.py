"""The Every Eval Ever export: every record of the fixture tree (hostile strings included)
passes the every-eval-ever package's own validator, with its datastore-path and semantic
checks, and carries what the schema has no field for in its details."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from site_tree import build_site_tree

from evalrunner.site.data import load_site_data
from evalrunner.site.eee import archive, epoch_of, record_uuid, records

validation = pytest.importorskip("every_eval_ever.validator.validation_core",
                                 reason="the every-eval-ever validator is installed by "
                                 "`make setup-dev`")
STAMP = "2026-12-07 12:15 UTC"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The archive, unpacked as a datastore checkout (the validator's layout)."""
    root = build_site_tree(tmp_path_factory.mktemp("tree") / "results")
    data = load_site_data(root, with_metrics=False)
    blob = archive(data, STAMP)
    assert blob == archive(data, STAMP)  # the same bytes again
    out = tmp_path_factory.mktemp("eee")
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        zf.extractall(out)
        names = zf.namelist()
    files = records(data, STAMP)
    assert sorted(files) == names
    return out, files


def test_every_record_passes_the_packages_validator(exported):
    base, files = exported
    paths = sorted(base.glob("data/**/*.json"))
    assert len(paths) == len(files) - 1 > 10  # one per result file, and the index
    for path in paths:
        repo_path = path.relative_to(base).as_posix()
        report = validation.validate_file(path, repo_path=repo_path, run_semantic_checks=True)
        assert report.valid, (repo_path, report.errors)
        assert not report.warnings, (repo_path, report.warnings)


def test_records_keep_tier_checkpoint_and_counts(exported):
    base, files = exported
    index = list(csv.DictReader(io.StringIO(files["index.csv"])))
    row = next(r for r in index if r["revision"] != "main")
    doc = json.loads((base / row["file"]).read_text())
    details = doc["model_info"]["additional_details"]
    assert details["revision"] == row["revision"] and int(details["step"]) > 0
    assert int(details["tokens_seen"]) > 0 and int(details["params_non_embedding"]) > 0
    assert doc["source_metadata"]["additional_details"]["densitometer_tier"] == row["tier"]
    assert doc["source_metadata"]["evaluator_relationship"] == "other"  # published
    assert doc["retrieved_timestamp"] == epoch_of(STAMP) == "1796601600"  # its day, 00:00 UTC
    assert Path(row["file"]).stem == record_uuid(row["result"])
    scores = {r["evaluation_name"]: r["score_details"]["score"]
              for r in doc["evaluation_results"]}
    assert scores and all(0 <= v <= 1 for v in scores.values())


def test_the_validator_refuses_a_record_that_lost_a_required_field(exported, tmp_path):
    base, _ = exported
    path = sorted(base.glob("data/**/*.json"))[0]
    doc = json.loads(path.read_text())
    del doc["evaluation_results"][0]["metric_config"]["lower_is_better"]
    broken = tmp_path / path.relative_to(base)
    broken.parent.mkdir(parents=True)
    broken.write_text(json.dumps(doc))
    report = validation.validate_file(broken, repo_path=path.relative_to(base).as_posix(),
                                      run_semantic_checks=True)
    assert not report.valid
    assert any("lower_is_better" in str(e["loc"]) for e in report.errors)


def test_a_rebuild_with_the_same_inputs_reuses_the_archive_and_a_change_remakes_it(tmp_path):
    from evalrunner.memo import Memo
    from evalrunner.site.eee import ARCHIVE, KIND
    from evalrunner.site.pages import _eee

    root = build_site_tree(tmp_path / "results")
    data = load_site_data(root, with_metrics=False)
    memo = Memo(tmp_path / "store")
    files = _eee(data, STAMP, memo)()[1]
    assert files == _eee(data, STAMP, None)()[1]  # the store changes nothing
    (entry,) = (tmp_path / "store" / "memo" / KIND).rglob("*.zip")
    entry.write_bytes(b"planted")  # reused: the inputs are the same
    assert _eee(data, "2026-12-07 23:59 UTC", memo)()[1][ARCHIVE] == b"planted"
    # another day, or another results tree, makes it anew
    assert _eee(data, "2026-12-08 00:01 UTC", memo)()[1][ARCHIVE] not in (
        b"planted", files[ARCHIVE])
    moved = replace(data, digests={**data.digests, "x.yaml": "0"})
    assert _eee(moved, STAMP, memo)()[1][ARCHIVE] == files[ARCHIVE]  # made anew: not planted
    assert len(list((tmp_path / "store" / "memo" / KIND).rglob("*.zip"))) == 3


def test_a_rebuild_reusing_the_archive_keeps_its_records_from_the_sweep(tmp_path):
    """The records were not read, yet the next change needs them: a sweep after a build that
    reused the archive leaves them, so that change makes one record, not every one."""
    from evalrunner.memo import Memo
    from evalrunner.site.eee import RECORD_KIND
    from evalrunner.site.pages import _eee

    root = build_site_tree(tmp_path / "results")
    data = load_site_data(root, with_metrics=False)
    _eee(data, STAMP, Memo(tmp_path / "store"))()
    records_before = sorted((tmp_path / "store" / "memo" / RECORD_KIND).rglob("*.json"))
    again = Memo(tmp_path / "store")
    _eee(data, STAMP, again)()
    again.sweep()
    assert sorted((tmp_path / "store" / "memo" / RECORD_KIND).rglob("*.json")) == \
        records_before


def test_records_from_the_store_are_the_fresh_ones_and_a_change_makes_one(tmp_path,
                                                                          monkeypatch):
    from evalrunner.memo import Memo
    from evalrunner.site import eee

    root = build_site_tree(tmp_path / "results")
    data = load_site_data(root, with_metrics=False)
    memo = Memo(tmp_path / "store")
    fresh = archive(data, STAMP)
    assert archive(data, STAMP, memo) == fresh  # filling the store
    made: list[str] = []
    real = eee._made
    monkeypatch.setattr(eee, "_made", lambda rows, *a: made.append(rows[0].path) or
                        real(rows, *a))
    assert archive(data, STAMP, memo) == fresh and made == []
    scores = data.frames.scores
    first = scores["path"].iloc[0]
    moved = scores.assign(value=scores["value"].where(scores["path"] != first, 0.125))
    changed = replace(data, frames=replace(data.frames, scores=moved))
    from_store = archive(changed, STAMP, memo)
    assert made == [first]  # only the changed file's record is made again
    assert from_store == archive(changed, STAMP) != fresh
