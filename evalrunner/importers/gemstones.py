"""Gemstones (McLeish et al. 2025, arXiv 2502.06857; mcleish7/gemstone-scaling-laws): one
Gemma-style recipe at 22 width x depth shapes (48M-2.0B parameters), each trained to 350B tokens,
evaluated at every 10B-token checkpoint.

Scores are the nine zero-shot lighteval tasks of `benchmarks/light_eval_df.parquet` (rows
`Gemstone-<width>x<depth>-<revision>`, revision `step_<k>` or `main`), stderrs from
`light_eval_df_err.parquet` beside it, as length-normalised accuracy (acc_norm: lighteval
computed both and the parquet keeps one; the project's page plots them as length-normalised).
The evaluations capped every task at 1,000 items (the repo's `lighteval_tasks.py`:
`max_samples=1000`); the stderrs agree, `p(1-p)/stderr^2 + 1` is 1,000 (OpenBookQA: 500).
Tokens per checkpoint, and the parameter counts, come from
`wandb_dfs/wandb_df_for_fitting_hot_100b+.jsonl`; its one step per run without a benchmark
row (step 83,475, 350B tokens) is the final checkpoint, the `main` row. The checkpoints are
the constant-learning-rate ("hot") schedule: no cooldown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Count, Result, Revision, Score

from .base import (
    ImportReport,
    ModelFacts,
    SourceDataError,
    Writer,
    cell_fraction,
    cell_number,
    whole_count,
)
from .manifest import Manifest
from .registry import upsert_registries

IMPORTER = "densitometer.importers.gemstones"
SCORES = "gemstones/benchmarks/light_eval_df.parquet"
STDERRS = "gemstones/benchmarks/light_eval_df_err.parquet"
RUNS = "gemstones/wandb_dfs/wandb_df_for_fitting_hot_100b+.jsonl"
SETTING = "gemstones-lighteval-0shot"
FAMILY = "gemstones"
# Our task id -> the parquet's column.
TASKS: dict[str, str] = {
    "arc_challenge": "arc:challenge", "arc_easy": "arc:easy", "commonsense_qa": "commonsense_qa",
    "hellaswag": "hellaswag", "mmlu": "mmlu", "openbookqa": "openbookqa", "piqa": "piqa",
    "social_iqa": "siqa", "winogrande": "winogrande",
}
ITEM_CAP = {"openbookqa": 500}  # 1,000 otherwise; MMLU is a mean over its subjects
VOCAB_ROWS = 50_304  # untied input and output embeddings (see model_facts)
ROW = re.compile(r"^Gemstone-(?P<shape>\d+x\d+)-(?P<rev>main|step_(?P<step>\d+))$")
RUN = re.compile(r"^PyGemma-(?P<shape>\d+x\d+)_pretrain$")


@dataclass(frozen=True)
class Checkpoint:
    step: int
    tokens: int
    line: int  # of the runs file


@dataclass(frozen=True)
class Shape:
    shape: str
    width: int
    total: int
    checkpoints: dict[int, Checkpoint]  # step -> checkpoint

    @property
    def model(self) -> str:
        return f"gemstone-{self.shape}"

    @property
    def final(self) -> Checkpoint:
        return self.checkpoints[max(self.checkpoints)]


def _whole(path: Path, line: int, doc: dict, key: str) -> int:
    return whole_count(path, f"line {line} {key}", doc.get(key))


def shapes(data_root: Path) -> dict[str, Shape]:
    """Every run of the runs file: its parameter count and its checkpoints' tokens."""
    path = data_root / RUNS
    if not path.is_file():
        raise SourceDataError(path, "file", "Gemstones' wandb_df_for_fitting_hot_100b+.jsonl",
                              "nothing")
    found: dict[str, dict] = {}
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceDataError(path, f"line {line}", "a JSON object", str(exc)) from None
        m = RUN.match(str(doc.get("run_name"))) if isinstance(doc, dict) else None
        if m is None:
            raise SourceDataError(path, f"line {line} run_name", "PyGemma-<w>x<d>_pretrain",
                                  doc.get("run_name") if isinstance(doc, dict) else doc)
        run = found.setdefault(m["shape"], {"total": set(), "width": set(), "ckpt": {}})
        run["total"].add(_whole(path, line, doc, "params_active_precise"))
        run["width"].add(_whole(path, line, doc, "width"))
        step = _whole(path, line, doc, "step")
        run["ckpt"][step] = Checkpoint(step, _whole(path, line, doc, "tokens"), line)
    out = {}
    for shape, run in found.items():
        if len(run["total"]) != 1 or len(run["width"]) != 1:
            raise SourceDataError(path, f"PyGemma-{shape}_pretrain", "one parameter count and "
                                  "width per run", f"{sorted(run['total'])}")
        out[shape] = Shape(shape, run["width"].pop(), run["total"].pop(), run["ckpt"])
    return out


def _table(data_root: Path, rel: str) -> pd.DataFrame:
    path = data_root / rel
    if not path.is_file():
        raise SourceDataError(path, "file", "a Gemstones benchmark parquet", "nothing")
    table = pd.read_parquet(path)
    if missing := [c for c in TASKS.values() if c not in table.columns]:
        raise SourceDataError(path, "columns", "the nine lighteval tasks", missing)
    return table


def model_facts(data_root: Path) -> list[ModelFacts]:
    where = f"{RUNS.split('/', 1)[1]}"
    return [ModelFacts(
        id=s.model, family=FAMILY, name=f"Gemstone {s.shape}", source="gemstones",
        family_name="Gemstones",
        params={"total": Count(value=s.total, source="config"),
                "non_embedding": Count(value=s.total - 2 * VOCAB_ROWS * s.width,
                                       source="config")},
        hf_id=f"tomg-group-umd/Gemstone-{s.shape}",
        training_tokens=Count(value=s.final.tokens, source="config"), architecture="gemma",
        notes=(f"Total parameters: params_active_precise of {where}. Non-embedding: that minus "
               f"the untied input and output embeddings, 2 x {VOCAB_ROWS:,} x width; the "
               "counts of runs that differ only in depth leave exactly that and the final "
               "norm outside the layers.",)) for s in shapes(data_root).values()]


def _revision(path: Path, index: str, run: Shape) -> Revision:
    m = ROW.match(index)
    if m is None:
        raise SourceDataError(path, f"row {index!r}", "Gemstone-<w>x<d>-main or -step_<k>",
                              index)
    if m["rev"] == "main":  # the final checkpoint: the runs file's last step
        return Revision(id="main", step=run.final.step, tokens=run.final.tokens, final=True)
    step = int(m["step"])
    if step not in run.checkpoints:
        raise SourceDataError(path, f"row {index!r}", f"a step of {RUNS}", step)
    if step == run.final.step:
        raise SourceDataError(path, f"row {index!r}", "the final step only as the main row",
                              step)
    return Revision(id=f"step{step}", step=step, tokens=run.checkpoints[step].tokens,
                    final=False)


def scores_of(path: Path, index: str, values: pd.Series, errors: pd.Series) -> dict[str, Score]:
    out = {}
    err_path = path.with_name(Path(STDERRS).name)
    for task, column in TASKS.items():
        where = f"row {index!r} {column}"
        value = cell_fraction(path, where, str(values[column]))
        stderr = cell_number(err_path, where, str(errors[column]))
        if stderr < 0:
            raise SourceDataError(err_path, where, "a stderr >= 0", stderr)
        items = None if task == "mmlu" else ITEM_CAP.get(task, 1000)
        out[task] = Score(metric="acc_norm", value=value, stderr=stderr, n_items=items, n_shot=0)
    return out


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    manifest = Manifest(data_root)
    scores_src, err_src, runs_src = (manifest.source(x) for x in (SCORES, STDERRS, RUNS))
    runs = shapes(data_root)
    values, errors = _table(data_root, SCORES), _table(data_root, STDERRS)
    path = data_root / SCORES
    if not values.index.equals(errors.index):
        raise SourceDataError(data_root / STDERRS, "index", "the rows of light_eval_df.parquet",
                              "other rows")
    for index in values.index:
        m = ROW.match(str(index))
        if m is None or m["shape"] not in runs:
            raise SourceDataError(path, f"row {index!r}", "a Gemstone of the runs file", index)
        shape = runs[m["shape"]]
        rev = _revision(path, str(index), shape)
        line = shape.checkpoints[rev.step].line
        result = Result(
            model=shape.model, setting=SETTING, revision=rev, tier="published",
            scores=scores_of(path, str(index), values.loc[index], errors.loc[index]),
            provenance=scores_src.provenance(
                IMPORTER, row=str(index),
                notes=f"stderrs from {err_src.path} (sha256 {err_src.sha256}); tokens and "
                      f"parameters from {runs_src.path} line {line} (sha256 "
                      f"{runs_src.sha256})"))
        rel = result_path(Path(), families[shape.model], shape.model, SETTING, rev.id)
        writer.write(PurePosixPath(rel.as_posix()), "result", result)
        report.results += 1
        report.scores += len(result.scores)
        report.models.add(shape.model)
    report.settings.add(SETTING)
    upsert_registries(writer, TASKS, report.settings)
