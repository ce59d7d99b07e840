"""The Cerebras-GPT model card's evaluation tables (Dey et al. 2023, arXiv 2304.03208), as the
data folder's hand transcription of them (`cerebras-gpt/model_card_evals.csv`, from the card
copied into Azure/azureml-assets).

Seven sizes, 111M to 13B, every one trained to 20 tokens per parameter: 0-shot and 5-shot
accuracy on six lm-evaluation-harness tasks, one final checkpoint per size. The card says
"accuracy" without naming lm-eval's variant; the values are its plain `acc` (for example
ARC-Challenge 0.282 and OpenBookQA 0.238 at 6.7B, where acc_norm of Pile-trained models of that
size is about 0.35 and 0.37). LAMBADA is left out: the card does not say which of lm-eval's
LAMBADA variants it ran. The Pile test cross-entropy and the downstream average are the
card's own summaries, not scores of a task, and are not imported.
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Result, Revision, Score

from .base import (
    ImportReport,
    ModelFacts,
    SourceDataError,
    Writer,
    cell_fraction,
    cell_number,
    published_count,
    slug,
)
from .manifest import Manifest
from .registry import upsert_registries

IMPORTER = "densitometer.importers.cerebras_card"
FILE = "cerebras-gpt/model_card_evals.csv"
SETTINGS = {0: "cerebras-gpt-card-0shot", 5: "cerebras-gpt-card-5shot"}
# our task id -> the file's column
TASKS = {"hellaswag": "hellaswag", "piqa": "piqa", "winogrande": "winogrande",
         "arc_easy": "arc_e", "arc_challenge": "arc_c", "openbookqa": "openbookqa"}


def read_rows(data_root: Path) -> list[dict[str, str]]:
    path = data_root / FILE
    if not path.is_file():
        raise SourceDataError(path, "file", "the Cerebras-GPT card's evaluation table", "nothing")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    missing = [c for c in ("model", "tokens", "shots", *TASKS.values()) if c not in
               (rows[0] if rows else {})]
    if missing:
        raise SourceDataError(path, "columns", "model, tokens, shots and the task columns",
                              missing)
    return rows


def model_facts(data_root: Path) -> list[ModelFacts]:
    """Sizes and token counts as the card prints them (rounded: 13B, 2.57E+11), for the sizes
    no other source names (other sources state the rest at the same or better precision)."""
    out = []
    for index, row in enumerate(read_rows(data_root), start=1):
        if row["shots"] != "0":
            continue
        hf = row["model"]
        label = row["params_label"]
        unit = 10 ** 9 if label.endswith("B") else 10 ** 6
        where = f"{data_root / FILE} data row {index}"
        mantissa, exp = row["tokens"].upper().split("E")
        tokens = published_count(mantissa, 10 ** int(exp), where, "tokens")
        out.append(ModelFacts(
            id=slug(hf.split("/")[-1]), family="cerebras-gpt", family_name="Cerebras-GPT",
            name=hf.split("/")[-1], source="cerebras-card", hf_id=hf,
            params={"total": published_count(label[:-1], unit, where, "params_label")},
            training_tokens=tokens))
    return out


def result_of(path: Path, index: int, row: dict[str, str], model: str, source) -> Result:
    shots = int(cell_number(path, f"row {index} shots", row["shots"]))
    if shots not in SETTINGS:
        raise SourceDataError(path, f"row {index} shots", "0 or 5", row["shots"])
    scores = {}
    for task, column in TASKS.items():
        value = cell_fraction(path, f"row {index} {column}", row[column])
        scores[task] = Score(metric="acc", value=value, n_shot=shots)
    tokens = int(cell_number(path, f"row {index} tokens", row["tokens"]))
    return Result(model=model, setting=SETTINGS[shots],
                  revision=Revision(id="main", tokens=tokens, final=True), tier="published",
                  scores=scores, provenance=source.provenance(
                      IMPORTER, row=f"{row['model']} {shots}-shot (data row {index})",
                      notes="the card's tables as transcribed in the data folder; tokens "
                            "as the card rounds them (3 significant digits)"))


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    path = data_root / FILE
    source = Manifest(data_root).source(FILE)
    tasks: set[str] = set()
    for index, row in enumerate(read_rows(data_root), start=1):
        model = slug(row["model"].split("/")[-1])
        if model not in families:
            report.skipped.append(f"{FILE} data row {index}: {row['model']} is not in the "
                                  "model catalogue")
            continue
        result = result_of(path, index, row, model, source)
        rel = result_path(Path(), families[model], model, result.setting, result.revision.id)
        writer.write(PurePosixPath(rel.as_posix()), "result", result)
        tasks.update(result.scores)
        report.results += 1
        report.scores += len(result.scores)
        report.models.add(model)
        report.settings.add(result.setting)
    upsert_registries(writer, tasks, report.settings)
