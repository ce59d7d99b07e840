"""The frames loader's column contract, and the committed JSON Schema being current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from treebuilder import build_tree

from evalrunner.results.jsonschema import json_schemas, stale_schemas
from evalrunner.results.load import MODEL_COLUMNS, SCORE_COLUMNS, load_frames
from evalrunner.results.validate import ValidationFailed

REPO = Path(__file__).resolve().parents[1]


def test_scores_frame_has_one_row_per_score(tmp_path: Path) -> None:
    frames = load_frames(build_tree(tmp_path / "r"))
    assert list(frames.scores.columns) == SCORE_COLUMNS
    assert len(frames.scores) == 4
    row = frames.scores.set_index(["model", "task"]).loc[("fam-small", "piqa")]
    assert row["value"] == 0.65 and row["stderr"] == 0.011
    assert row["tokens"] == 299892736000.0 and row["step"] == 143000
    assert row["source"] == "import:example/evals" and row["tier"] == "published"
    assert bool(row["primary"]) and not bool(row["aggregate"])
    assert str(frames.scores["step"].dtype) == "Int64"


def test_models_frame_picks_the_fit_count(tmp_path: Path) -> None:
    frames = load_frames(build_tree(tmp_path / "r"))
    assert list(frames.models.columns) == MODEL_COLUMNS
    small = frames.models.set_index("model").loc["fam-small"]
    assert small["n_fit"] == 1e8 and small["n_fit_basis"] == "non_embedding"
    assert small["n_non_embedding_source"] == "config"
    assert list(frames.families["family"]) == ["fam"]
    assert set(frames.tasks["task"]) == {"arc_easy", "piqa"}
    assert frames.tasks.set_index("task").loc["piqa", "chance"] == 0.5


def test_loader_refuses_an_invalid_tree(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "r")
    path = root / "fam/fam-small/zero-shot/main.yaml"
    path.write_text(path.read_text().replace("value: 0.5", "value: -3"))
    with pytest.raises(ValidationFailed, match="expected a fraction in"):
        load_frames(root)


def test_committed_json_schema_is_current() -> None:
    assert stale_schemas(REPO / "schema") == [], "run `densitometer schema --out schema`"


def test_json_schema_accepts_what_pydantic_accepts(tmp_path: Path) -> None:
    """Editors and PR checks see the same rules: a valid file passes, a bad one fails."""
    root = build_tree(tmp_path / "r")
    schema = json_schemas()["result.schema.json"]
    doc = yaml.safe_load((root / "fam/fam-small/zero-shot/main.yaml").read_text())
    jsonschema.validate(json.loads(json.dumps(doc)), schema)
    doc["scores"]["piqa"]["stderr"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_every_committed_result_file_is_valid() -> None:
    from evalrunner.results.validate import validate_tree

    report = validate_tree(REPO / "results")
    assert report.errors == [], "\n".join(str(p) for p in report.errors[:20])
