"""Open LLM Leaderboard v1 and v2 scores for base models from Sloth's data/data_v1.csv
(Polo et al. 2024, "Sloth: scaling laws for LLM skills", felipemaiapolo/sloth).

Only base models (Instruct False), and only where they add something to ObsScaling:

- v2 (IFEval, BBH, MATH Lvl 5, GPQA, MuSR, MMLU-Pro and subtasks): always new, setting
  `open-llm-leaderboard-v2`;
- v1 (ARC, HellaSwag, MMLU and its 57 subjects, TruthfulQA, WinoGrande, GSM8K): setting
  `open-llm-leaderboard-v1`, for a model not in ObsScaling or when the row holds any value
  ObsScaling lacks (the MMLU subjects, a later leaderboard snapshot). A row that only repeats
  ObsScaling's numbers is left out.

Not imported: XWinograd and HumanEval (Sloth copies ObsScaling's own runs, or paper figures for
CodeGen; they are not leaderboard tasks), Arena-Elo and MT-Bench (instruct models), `date` (an
upload date, not a release date). Sloth's sizes are floored to whole billions, so a size of at
least 1 B is stored with precision 1e9.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Count, Result, Revision, Score

from .base import ImportReport, ModelFacts, SourceDataError, Writer, published_count, slug
from .manifest import Manifest, SourceFile
from .obsscaling import MODEL_IDS, TASK_COLUMNS, fraction_scores, read_rows
from .registry import upsert_registries
from .taskdefs import BBH_SUBTASKS, GPQA_SUBTASKS, MATH_SUBTASKS, MMLU_SUBJECTS, MUSR_SUBTASKS

IMPORTER = "densitometer.importers.sloth"
FILE = "sloth/data/data_v1.csv"
V1, V2 = "open-llm-leaderboard-v1", "open-llm-leaderboard-v2"
BILLION, TRILLION = 10**9, 10**12

V1_COLUMNS: dict[str, str] = {
    "ARC": "arc_challenge", "HellaSwag": "hellaswag", "MMLU": "mmlu",
    "TruthfulQA": "truthfulqa_mc2", "Winogrande": "winogrande", "GSM8K": "gsm8k",
    **{f"hendrycksTest-{s}": f"mmlu_{s}" for s in MMLU_SUBJECTS},
}
V2_COLUMNS: dict[str, str] = {
    "IFEval": "leaderboard_ifeval", "BBH": "leaderboard_bbh",
    "MATH Lvl 5": "leaderboard_math_hard", "GPQA": "leaderboard_gpqa",
    "MUSR": "leaderboard_musr", "MMLU-PRO": "leaderboard_mmlu_pro",
    **{f"bbh_{s}": f"leaderboard_bbh_{s}" for s in BBH_SUBTASKS},
    **{f"gpqa_{s}": f"leaderboard_gpqa_{s}" for s in GPQA_SUBTASKS},
    **{f"math_{s}_hard": f"leaderboard_math_{s}_hard" for s in MATH_SUBTASKS},
    **{f"musr_{s}": f"leaderboard_musr_{s}" for s in MUSR_SUBTASKS},
}
# Sloth names whose Hugging Face id is not in ObsScaling (reviewed by hand). The others match
# ObsScaling's ids the way Sloth built its names: lowercase, without "-hf".
ALIASES: dict[str, str] = {
    "pythia-12b": "EleutherAI/pythia-12b", "pythia-160m": "EleutherAI/pythia-160m",
    "pythia-2.8b": "EleutherAI/pythia-2.8b", "pythia-410m": "EleutherAI/pythia-410m",
    "pythia-6.9b": "EleutherAI/pythia-6.9b", "yi-9b": "01-ai/Yi-9B",
    "recurrentgemma-2b": "google/recurrentgemma-2b",
    "recurrentgemma-9b": "google/recurrentgemma-9b",
}


@dataclass(frozen=True)
class Row:
    index: int
    name: str
    family_name: str
    hf_id: str
    in_obsscaling: bool
    cells: dict[str, str]

    @property
    def model_id(self) -> str:
        return MODEL_IDS.get(self.hf_id) or slug(self.hf_id.split("/", 1)[1])

    def key(self) -> str:
        return f"row {self.index} ({self.name})"


def read_rows_base(data_root: Path) -> list[Row]:
    """The base-model rows, each with its Hugging Face id."""
    path = data_root / FILE
    if not path.is_file():
        raise SourceDataError(path, "file", "Sloth's data_v1.csv", "nothing")
    obs = {r.hf_id.split("/")[1].lower().replace("-hf", ""): r.hf_id for r in read_rows(data_root)}
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = ["Model", "Family", "Instruct", "#Params (B)", "Pretraining Data Size (T)",
                *V1_COLUMNS, *V2_COLUMNS]
        if missing := [c for c in need if c not in (reader.fieldnames or [])]:
            raise SourceDataError(path, "header", "Sloth's columns", missing)
        for i, r in enumerate(reader, start=1):
            if r["Instruct"] not in ("True", "False"):
                raise SourceDataError(path, f"row {i} Instruct", "True or False", r["Instruct"])
            if r["Instruct"] == "True":
                continue
            name = r["Model"].strip()
            hf_id = obs.get(name) or ALIASES.get(name)
            if hf_id is None:
                raise SourceDataError(path, f"row {i} Model", "a name matching an ObsScaling "
                                      "model or an entry of sloth.ALIASES", name,
                                      fix="add its Hugging Face id to ALIASES")
            rows.append(Row(i, name, r["Family"].strip(), hf_id, name in obs, r))
    return rows


def _size(text: str, where: str, field: str) -> Count:
    count = published_count(text, BILLION, where, field)
    if Decimal(text) >= 1:  # floored to whole billions
        return Count(value=count.value, source="published", precision=BILLION)
    return count


def model_facts(data_root: Path) -> list[ModelFacts]:
    where = str(data_root / FILE)
    facts = []
    for r in read_rows_base(data_root):
        tokens = r.cells["Pretraining Data Size (T)"].strip()
        facts.append(ModelFacts(
            id=r.model_id, family=slug(r.family_name.replace("/", "-")),
            family_name=r.family_name, name=r.hf_id.split("/")[1], source="sloth",
            hf_id=r.hf_id, params={"total": _size(r.cells["#Params (B)"], where,
                                                  f"{r.key()} #Params (B)")},
            training_tokens=published_count(tokens, TRILLION, where, f"{r.key()} tokens")
            if tokens else None))
    return facts


def _adds_to_obsscaling(row: Row, v1: dict[str, Score], obs: dict[str, dict[str, float]]) -> bool:
    known = obs.get(row.hf_id)
    if known is None:
        return True
    return any(known.get(task) != score.value for task, score in v1.items())


def results_of(row: Row, source: SourceFile, obs: dict[str, dict[str, float]]) -> list[Result]:
    out = []
    for setting_id, columns in ((V1, V1_COLUMNS), (V2, V2_COLUMNS)):
        scores = fraction_scores(row, columns, setting_id, source.path)
        if not scores or (setting_id == V1 and not _adds_to_obsscaling(row, scores, obs)):
            continue
        out.append(Result(model=row.model_id, setting=setting_id, revision=Revision(id="main"),
                          tier="published", scores=scores,
                          provenance=source.provenance(IMPORTER, row=f"Model={row.name} "
                                                       f"(data row {row.index})")))
    return out


def obsscaling_values(data_root: Path) -> dict[str, dict[str, float]]:
    """hf id -> task -> value, to tell whether a Sloth row adds anything."""
    return {r.hf_id: {task: float(r.cells[col]) for col, task in TASK_COLUMNS.items()
                      if r.cells[col].strip()} for r in read_rows(data_root)}


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    source = Manifest(data_root).source(FILE)
    obs = obsscaling_values(data_root)
    task_ids: set[str] = set()
    for row in read_rows_base(data_root):
        results = results_of(row, source, obs)
        if not results:
            report.skipped.append(f"{row.name}: repeats ObsScaling, no v2 scores")
        for result in results:
            rel = result_path(Path(), families[row.model_id], row.model_id, result.setting,
                              "main")
            writer.write(PurePosixPath(rel.as_posix()), "result", result)
            task_ids.update(result.scores)
            report.results += 1
            report.scores += len(result.scores)
            report.models.add(row.model_id)
            report.settings.add(result.setting)
    upsert_registries(writer, task_ids, report.settings)
