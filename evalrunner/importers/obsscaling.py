"""ObsScaling (Ruan et al. 2024, arXiv 2405.10938): 148 base models in 47 families with size,
pretraining tokens and eight benchmarks (eval_results/base_llm_benchmark_eval.csv).

Sizes and tokens are published rounded figures: `7.0` (billions) is stored as 7e9 with
precision 1e8. FLOPs (1E21) are 6*N*D of those two columns; the importer checks the identity
and does not store them again. Scores are fractions without stderrs, kept as printed.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Result, Revision, Score

from .base import (
    ImportReport,
    ModelFacts,
    SourceDataError,
    Writer,
    cell_fraction,
    published_count,
    slug,
)
from .manifest import Manifest, SourceFile
from .registry import setting, upsert_registries
from .taskdefs import all_tasks

IMPORTER = "densitometer.importers.obsscaling"
FILE = "ObsScaling/eval_results/base_llm_benchmark_eval.csv"
SETTING = "obsscaling"
BILLION, TRILLION = 10**9, 10**12

# Column -> task id.
TASK_COLUMNS: dict[str, str] = {
    "MMLU": "mmlu", "ARC-C": "arc_challenge", "HellaSwag": "hellaswag",
    "Winograd": "winogrande",  # the WinoGrande scores of the Open LLM Leaderboard
    "TruthfulQA": "truthfulqa_mc2", "GSM8K": "gsm8k", "XWinograd": "xwinograd",
    "HumanEval": "humaneval",
}
# Family names whose plain slug would mislead or read badly.
FAMILY_IDS: dict[str, str] = {
    "Pythia": "pythia-deduped",  # ObsScaling lists only the deduplicated-Pile models
    "GPT-Neo/J": "gpt-neo-j", "OpenLlama": "open-llama", "OpenLlamaV2": "open-llama-v2",
}
# Model ids that would equal a family id.
MODEL_IDS: dict[str, str] = {
    "bigscience/bloom": "bloom-176b", "LLM360/Amber": "amber-7b",
    "deepseek-ai/DeepSeek-V2": "deepseek-v2-236b",
}

# Mixture-of-experts models: published (total, active) in billions, and the citation. The
# ObsScaling size column gives total for some and active for others, so it is not used here.
MOE: dict[str, tuple[str, str, str]] = {
    "mistralai/Mixtral-8x7B-v0.1": ("46.7", "12.9", "Jiang et al. 2024, Mixtral of Experts "
                                    "(arXiv 2401.04088): 46.7B total, 12.9B active per token"),
    "mistralai/Mixtral-8x22B-v0.1": ("141", "39", "Mistral AI, Cheaper, Better, Faster, "
                                     "Stronger (2024-04-17): 141B total, 39B active"),
    "Qwen/Qwen2-57B-A14B": ("57", "14", "Yang et al. 2024, Qwen2 Technical Report "
                            "(arXiv 2407.10671): 57B total, 14B activated"),
    "deepseek-ai/DeepSeek-V2": ("236", "21", "DeepSeek-AI 2024, DeepSeek-V2 (arXiv "
                                "2405.04434): 236B total, 21B activated per token"),
    "deepseek-ai/DeepSeek-Coder-V2-Base": ("236", "21", "DeepSeek-AI 2024, DeepSeek-Coder-V2 "
                                           "(arXiv 2406.11931): 236B total, 21B active"),
    "deepseek-ai/deepseek-moe-16b-base": ("16.4", "2.8", "Dai et al. 2024, DeepSeekMoE (arXiv "
                                          "2401.06066): 16.4B total, 2.8B activated"),
    "ai21labs/Jamba-v0.1": ("52", "12", "Lieber et al. 2024, Jamba (arXiv 2403.19887): 52B "
                            "total, 12B active"),
}

# Reviewed corrections of source facts: hf id -> (field, value, reason). Scores are never
# corrected; these are model facts the source evidently mistyped.
FIXES: dict[str, tuple[str, str, str]] = {
    "openlm-research/open_llama_7b_v2": ("size", "7", "ObsScaling lists 13.0 B, the size of "
                                         "open_llama_13b; this is the 7B v2 model (its name and "
                                         "model card), stored as 7 B"),
    "cerebras/btlm-3b-8k-base": ("tokens", "0.627", "ObsScaling lists 627 T, a unit slip for "
                                 "the 627B SlimPajama tokens of the BTLM paper (arXiv "
                                 "2309.11568), stored as 0.627 T"),
    "RWKV/rwkv-raven-14b": ("kind", "instruct", "ObsScaling lists it among base models; the "
                            "Raven models are RWKV-4 fine-tuned on instruction data"),
}


@dataclass(frozen=True)
class Row:
    index: int  # 1-based data row
    hf_id: str
    family_name: str
    cells: dict[str, str]

    @property
    def model_id(self) -> str:
        return MODEL_IDS.get(self.hf_id) or slug(self.hf_id.split("/", 1)[1])

    @property
    def family_id(self) -> str:
        return FAMILY_IDS.get(self.family_name) or slug(self.family_name)

    def key(self) -> str:
        return f"row {self.index} ({self.hf_id})"


def read_rows(data_root: Path) -> list[Row]:
    path = data_root / FILE
    if not path.is_file():
        raise SourceDataError(path, "file", "ObsScaling's base_llm_benchmark_eval.csv", "nothing")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = ["Model", "Model Family", "Model Size (B)", "Pretraining Data Size (T)",
                "FLOPs (1E21)", *TASK_COLUMNS]
        if missing := [c for c in need if c not in (reader.fieldnames or [])]:
            raise SourceDataError(path, "header", f"columns {need}", reader.fieldnames,
                                  fix=f"missing {missing}")
        rows = [Row(i, r["Model"].strip(), r["Model Family"].strip(), r)
                for i, r in enumerate(reader, start=1)]
    _check_flops(path, rows)
    return rows


def _check_flops(path: Path, rows: list[Row]) -> None:
    """FLOPs (1E21) must be 6*N*D of the size (B) and tokens (T) columns."""
    for r in rows:
        n, d, f = (r.cells[c].strip() for c in ("Model Size (B)", "Pretraining Data Size (T)",
                                                 "FLOPs (1E21)"))
        if not (d and f):
            continue
        expected = 6 * float(n) * float(d)
        if not math.isclose(float(f), expected, rel_tol=1e-6):
            raise SourceDataError(path, f"{r.key()} FLOPs (1E21)", f"6*N*D = {expected}", f)


def model_facts(data_root: Path) -> list[ModelFacts]:
    facts = []
    where = str(data_root / FILE)
    for r in read_rows(data_root):
        fix = FIXES.get(r.hf_id)
        fixes = {fix[0]: (fix[1], fix[2])} if fix else {}
        size = fixes.get("size", (r.cells["Model Size (B)"], ""))[0]
        tokens = fixes.get("tokens", (r.cells["Pretraining Data Size (T)"], ""))[0].strip()
        notes = [why for _, why in fixes.values()]
        params, moe = {}, r.hf_id in MOE
        if moe:
            total, active, cite = MOE[r.hf_id]
            params = {"total": published_count(total, BILLION, "MOE table", r.hf_id),
                      "active": published_count(active, BILLION, "MOE table", r.hf_id)}
            notes.append(f"Mixture of experts; counts from {cite}. ObsScaling's size column "
                         f"says {r.cells['Model Size (B)']} B.")
        else:
            params = {"total": published_count(size, BILLION, where, f"{r.key()} size")}
        facts.append(ModelFacts(
            id=r.model_id, family=r.family_id, family_name=r.family_name,
            name=r.hf_id.split("/")[1], source="obsscaling", hf_id=r.hf_id, params=params, moe=moe,
            training_tokens=published_count(tokens, TRILLION, where, f"{r.key()} tokens")
            if tokens else None,
            kind=fixes.get("kind", ("base", ""))[0], notes=tuple(notes)))
        if moe:
            facts.append(ModelFacts(id=r.model_id, family=r.family_id, family_name=r.family_name,
                                    name=r.hf_id.split("/")[1], source="moe-table",
                                    hf_id=r.hf_id, params=params, moe=True))
    return facts


def scores_of(row: Row, where: str) -> dict[str, Score]:
    return fraction_scores(row, TASK_COLUMNS, SETTING, where)


def fraction_scores(row: Row, columns: dict[str, str], setting_id: str,
                    where: str) -> dict[str, Score]:
    """Scores from a table row whose cells are fractions, one column per task (shared with
    the Sloth importer, whose leaderboard tables have the same shape)."""
    s = setting(setting_id)
    metric = {t.id: s.metric_per_task.get(t.id, t.metric) for t in all_tasks()}
    out = {}
    for column, task in columns.items():
        text = row.cells[column].strip()
        if not text:
            continue
        value = cell_fraction(where, f"{row.key()} {column}", text)
        out[task] = Score(metric=metric[task], value=value, n_shot=s.shots_for(task))
    return dict(sorted(out.items()))


def result_of(row: Row, source: SourceFile) -> Result:
    return Result(model=row.model_id, setting=SETTING, revision=Revision(id="main"),
                  tier="published", scores=scores_of(row, source.path),
                  provenance=source.provenance(IMPORTER, row=f"Model={row.hf_id} "
                                               f"(data row {row.index})"))


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    source = Manifest(data_root).source(FILE)
    task_ids: set[str] = set()
    for row in read_rows(data_root):
        result = result_of(row, source)
        rel = result_path(Path(), families[row.model_id], row.model_id, SETTING, "main")
        writer.write(PurePosixPath(rel.as_posix()), "result", result)
        task_ids.update(result.scores)
        report.results += 1
        report.scores += len(result.scores)
        report.models.add(row.model_id)
    report.settings.add(SETTING)
    upsert_registries(writer, task_ids, report.settings)
