"""AI2's OLMo model ladder (Bhagia et al. 2024, arXiv 2412.04403; allenai/OLMo-ladder
src/scripts/paper/data/ladder-runs/): one recipe at five sizes x five token budgets (0.5-10x
Chinchilla), every evaluated checkpoint, and the two large runs of the same recipe it was built
to predict (OLMo-2 7B and 13B).

Each checkpoint gives, per task, the ranked-classification 5-shot accuracy (length-normalised
as the harness's acc_norm; BoolQ plain acc) and the bits per byte of the correct answer, a
conditional answer loss: stored as `answer_loss.per_byte` in nats (bits x ln 2), which the
two-step density fit reads. Parameter counts are the ladder's own non-embedding counts
(`MODEL_PARAMS` in src/scaling/utils.py). MMLU is left out: the source gives only four category
scores, which are not the 57-subject mean. A `-rerun` file repeats a run with another seed and
is a model of its own (a noise floor).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import AnswerLoss, Count, MetricValue, Result, Revision, Score

from .base import (
    ImportReport,
    ModelFacts,
    SourceDataError,
    Writer,
    cell_fraction,
    cell_number,
)
from .manifest import Manifest, SourceFile
from .registry import upsert_registries

IMPORTER = "densitometer.importers.olmo_ladder"
DIR = "olmo-ladder/src/scripts/paper/data/ladder-runs"
PARAMS_FILE = "olmo-ladder/src/scaling/utils.py"
SETTING = "olmo-ladder-rc5shot"
LADDER, TARGETS = "olmo-ladder", "olmo-2"

# Our task id -> the source's task key (the split the paper uses: test where there is one).
TASKS: dict[str, str] = {
    "arc_easy": "arc_easy_test", "arc_challenge": "arc_challenge_test", "boolq": "boolq_val",
    "commonsense_qa": "csqa_val", "hellaswag": "hellaswag_val",
    "openbookqa": "openbookqa_test", "piqa": "piqa_val", "social_iqa": "socialiqa_val",
    "winogrande": "winogrande_val",
}
# size label in file names -> the key of MODEL_PARAMS in src/scaling/utils.py
SIZES = {"190M": "190M", "370M": "370M", "760M": "760M", "1B": "1.3B", "3B": "3.2B"}
RUN = re.compile(r"^(?P<size>190M|370M|760M|1B|3B)-(?P<budget>0\.5|1|2|5|10)xC(?P<rerun>-rerun)?"
                 r"\.csv$")
# target model -> (MODEL_PARAMS key, Hugging Face id, files: every checkpoint, then the final)
TARGET_RUNS: dict[str, tuple[str, str, str, str | None]] = {
    "olmo-2-7b": ("7B", "allenai/OLMo-2-1124-7B", "peteish7_eval_full.csv",
                  "peteish7_eval_anneal.csv"),
    "olmo-2-13b": ("13B", "allenai/OLMo-2-1124-13B", "peteish13_eval_full.csv", None),
}
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Run:
    model: str
    family: str
    name: str
    n: int  # non-embedding parameters
    files: tuple[str, ...]  # checkpoint files, the last one's last row is the final model
    hf_id: str | None = None


def model_params(data_root: Path) -> dict[str, int]:
    """MODEL_PARAMS of the ladder's utils.py, read as text (never executed)."""
    path = data_root / PARAMS_FILE
    if not path.is_file():
        raise SourceDataError(path, "file", "the OLMo ladder's src/scaling/utils.py", "nothing")
    block = re.search(r"^MODEL_PARAMS = \{(.*?)^\}", path.read_text(encoding="utf-8"),
                      re.S | re.M)
    if block is None:
        raise SourceDataError(path, "MODEL_PARAMS", "a dict of size -> parameters", "nothing")
    out = {k: int(v) for k, v in re.findall(r'"([\w.]+)":\s*(\d+)', block.group(1))}
    if missing := [k for k in (*SIZES.values(), "7B", "13B") if k not in out]:
        raise SourceDataError(path, "MODEL_PARAMS", "every ladder and target size", missing)
    return out


def runs(data_root: Path) -> list[Run]:
    folder = data_root / DIR
    if not folder.is_dir():
        raise SourceDataError(folder, "folder", "the OLMo ladder's ladder-runs/", "nothing")
    params = model_params(data_root)
    out = []
    for path in sorted(folder.glob("*.csv")):
        m = RUN.match(path.name)
        if m is None:
            continue
        size, budget, rerun = m["size"], m["budget"], bool(m["rerun"])
        label = f"{SIZES[size]} x {budget}xC"
        out.append(Run(model=f"olmo-ladder-{size.lower()}-{budget}xc" + ("-rerun" * rerun),
                       family=LADDER, name=f"OLMo ladder {label}" + (" (rerun)" * rerun),
                       n=params[SIZES[size]], files=(path.name,)))
    for model, (key, hf, full, final) in TARGET_RUNS.items():
        out.append(Run(model=model, family=TARGETS, name=hf.split("/")[1], n=params[key],
                       files=(full, final) if final else (full,), hf_id=hf))
    return out


@dataclass(frozen=True)
class Checkpoint:
    file: str
    index: int  # 1-based data row
    revision: Revision
    cells: dict[str, str]


def _cell(path: Path, row: int, cells: dict[str, str], column: str) -> float:
    return cell_number(path, f"row {row} {column}", cells[column])


def checkpoints(data_root: Path, run: Run) -> list[Checkpoint]:
    """Every evaluated checkpoint of a run, in training order; the last is final."""
    out: list[Checkpoint] = []
    for name in run.files:
        path = data_root / DIR / name
        if not path.is_file():
            raise SourceDataError(path, "file", f"the ladder's {name}", "nothing")
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for i, cells in enumerate(rows, start=1):
            if "_step" in cells:
                step = int(_cell(path, i, cells, "_step"))
                tokens = (_cell(path, i, cells, "throughput/total_tokens")
                          if cells.get("throughput/total_tokens")
                          else step * _cell(path, i, cells, "batch_size_in_tokens"))
                rev = Revision(id=f"step{step}", step=step, tokens=int(tokens), final=False)
            else:  # the annealed final model: tokens only
                tokens = _cell(path, i, cells, "throughput/total_tokens")
                rev = Revision(id="anneal", tokens=int(tokens), final=False)
            out.append(Checkpoint(name, i, rev, cells))
    # a file may repeat a step at its end (the last eval); keep its last row
    unique = list({c.revision.id: c for c in out}.values())
    last = unique[-1]
    unique[-1] = Checkpoint(last.file, last.index, last.revision.model_copy(
        update={"final": True}), last.cells)
    return unique


def scores_of(path: Path, cp: Checkpoint) -> dict[str, Score]:
    out = {}
    for task, key in TASKS.items():
        metric = "acc" if task == "boolq" else "acc_norm"
        column = f"eval/downstream/{key}_rc_5shot_{'acc' if task == 'boolq' else 'len_norm'}"
        bpb_col = f"eval/downstream_bpb/{key}_rc_5shot_bpb"
        text, bpb_text = cp.cells.get(column, ""), cp.cells.get(bpb_col, "")
        if not text:
            continue
        value = cell_fraction(path, f"row {cp.index} {column}", text)
        loss = None
        if bpb_text:
            bpb = cell_number(path, f"row {cp.index} {bpb_col}", bpb_text)
            if bpb < 0:
                raise SourceDataError(path, f"row {cp.index} {bpb_col}", "bits per byte >= 0",
                                      bpb_text)
            loss = AnswerLoss(per_byte=bpb * LN2)
        extra = {}
        mc = cp.cells.get(f"eval/downstream/{key}_mc_5shot_acc", "")
        if mc:
            extra["acc_mc"] = MetricValue(value=cell_fraction(path, f"row {cp.index} mc", mc))
        out[task] = Score(metric=metric, value=value, n_shot=5, answer_loss=loss, extra=extra)
    return out


def model_facts(data_root: Path) -> list[ModelFacts]:
    where = str(data_root / PARAMS_FILE)
    facts = []
    for run in runs(data_root):
        final = checkpoints(data_root, run)[-1].revision
        facts.append(ModelFacts(
            id=run.model, family=run.family, name=run.name, source="olmo-ladder",
            family_name="OLMo ladder" if run.family == LADDER else "OLMo 2",
            hf_id=run.hf_id, params={"non_embedding": Count(value=run.n, source="config")},
            training_tokens=Count(value=final.tokens, source="config") if final.tokens else None,
            architecture="olmo2",
            notes=(f"Non-embedding parameters as the ladder counts them (MODEL_PARAMS in "
                   f"{where.rsplit('/', 3)[-3]}/scaling/utils.py).",)))
    return facts


def _provenance(source: SourceFile, cp: Checkpoint):
    key = f"_step={cp.revision.step}" if cp.revision.step is not None else "the single row"
    return source.provenance(IMPORTER, row=f"{key} (data row {cp.index})",
                             notes="answer_loss.per_byte = the file's bits per byte x ln 2 "
                                   "(nats per byte of the correct answer's continuation)")


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    manifest = Manifest(data_root)
    task_ids: set[str] = set()
    for r in runs(data_root):
        for cp in checkpoints(data_root, r):
            path = data_root / DIR / cp.file
            scores = scores_of(path, cp)
            if not scores:
                report.skipped.append(f"{cp.file} data row {cp.index}: no task scores")
                continue
            result = Result(model=r.model, setting=SETTING, revision=cp.revision,
                            tier="published", scores=scores,
                            provenance=_provenance(manifest.source(f"{DIR}/{cp.file}"), cp))
            rel = result_path(Path(), families[r.model], r.model, SETTING, cp.revision.id)
            writer.write(PurePosixPath(rel.as_posix()), "result", result)
            task_ids.update(scores)
            report.results += 1
            report.scores += len(scores)
            report.models.add(r.model)
    report.settings.add(SETTING)
    upsert_registries(writer, task_ids, report.settings)
