"""The Cerebras-GPT card's tables: the committed results equal the card (values checked against
the card itself, not only the transcription), the 13B joins the catalogue, bad cells are named."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS, edit_csv_cell

from evalrunner.importers import cerebras_card
from evalrunner.importers.base import SourceDataError
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Model, Result

pytestmark = NEEDS_DATA


def result(model: str, shots: int) -> Result:
    return Result.model_validate(read_yaml(
        RESULTS / "cerebras-gpt" / model / f"cerebras-gpt-card-{shots}shot" / "main.yaml"))


# Read off the card's own tables (its 0-shot and 5-shot evaluation sections).
CARD = {("cerebras-gpt-13b", 0): {"hellaswag": 0.513, "arc_challenge": 0.367,
                                  "openbookqa": 0.286},
        ("cerebras-gpt-111m", 0): {"piqa": 0.594, "winogrande": 0.488, "arc_easy": 0.380},
        ("cerebras-gpt-6.7b", 5): {"openbookqa": 0.270, "arc_challenge": 0.314},
        ("cerebras-gpt-111m", 5): {"piqa": 0.588, "hellaswag": 0.267}}


def test_committed_scores_are_the_cards():
    for (model, shots), values in CARD.items():
        res = result(model, shots)
        assert res.setting == f"cerebras-gpt-card-{shots}shot"
        for task, value in values.items():
            assert res.scores[task].value == value and res.scores[task].metric == "acc"
            assert res.scores[task].n_shot == shots
    with open(DATA / cerebras_card.FILE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 14
    for row in rows:  # every committed value is the transcription's
        model = row["model"].split("/")[-1].lower()
        res = result(model, int(row["shots"]))
        assert {t: res.scores[t].value for t in cerebras_card.TASKS} == {
            t: float(row[c]) for t, c in cerebras_card.TASKS.items()}
        assert "lambada" not in res.scores  # the card does not say which variant


def test_the_13b_joins_the_catalogue_with_the_cards_rounded_counts():
    m = Model.model_validate(read_yaml(RESULTS / "cerebras-gpt/cerebras-gpt-13b/model.yaml"))
    assert m.hf_id == "cerebras/Cerebras-GPT-13B"
    assert (m.params.total.value, m.params.total.source) == (13_000_000_000, "published")
    assert m.training_tokens.value == 257_000_000_000
    res = result("cerebras-gpt-13b", 0)
    assert res.revision.final and res.revision.tokens == 257_000_000_000
    assert res.provenance.repository == "Azure/azureml-assets"
    assert res.provenance.row == "cerebras/Cerebras-GPT-13B 0-shot (data row 7)"


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("piqa", "7.66", "a fraction in [0, 1]"), ("arc_c", "n/a", "a number"),
    ("shots", "3", "0 or 5")])
def test_a_bad_cell_is_named(tmp_path: Path, column, value, expected):
    src = DATA / cerebras_card.FILE
    dst = tmp_path / cerebras_card.FILE
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)
    edit_csv_cell(dst, 1, column, value)
    with pytest.raises(SourceDataError) as err:
        cerebras_card.result_of(dst, 2, cerebras_card.read_rows(tmp_path)[1], "m", None)
    assert f"row 2 {column}" in str(err.value) and expected in str(err.value)
