"""Gadre et al. 2024's grid ("Language models scale reliably with over-training and on
downstream tasks", arXiv 2403.08540; mlfoundations/scaling exp_data/): OpenLM runs of one
recipe on three corpora (C4, RedPajama, RefinedWeb), four small sizes (0.011B-0.411B) at
0.25-32x Chinchilla tokens, and the larger runs the paper forecasts from them (1.4B at 1x and
one over-trained budget, 6.9B at 1x).

Each run has one evaluated checkpoint, its final one. Its scores are the in-context accuracies
of LLM Foundry's evaluation (`evals/evaluation_<run>_heavy.json`) on the paper's 17-task split,
the tasks its downstream fits average; the other 29 tasks of the files are not imported. The
runs recorded no answer loss: their loss is next-token loss on held-out C4 (`models/<run>.json`,
the `c4_val` entry, the loss the paper's laws use), stored as the result's held-out loss, which
the two-step fits read for every task of the setting. Parameter counts are the files' own, total
and non-embedding; shots and item counts come from `eval_metadata.csv`.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Count, HeldoutLoss, Result, Revision, Score

from .base import (
    ImportReport,
    ModelFacts,
    SourceDataError,
    Writer,
    cell_fraction,
    cell_number,
    whole_count,
)
from .manifest import Manifest, SourceFile
from .registry import upsert_registries
from .taskdefs import FOUNDRY_TASKS

IMPORTER = "densitometer.importers.openlm_grid"
ROOT = "mlfoundations-scaling/exp_data"
METADATA = f"{ROOT}/eval_metadata.csv"
SETTING = "openlm-grid-icl"
HELDOUT = "c4_val"  # the folder of the held-out shards the paper's laws are fitted on
CORPORA = {"c4_original": ("c4", "C4"), "rpj": ("rpj", "RedPajama"),
           "rw_original": ("rw", "RefinedWeb")}
# the source's model config -> size label (the paper's, from total parameters)
SIZES = {"d=96_l=8_h=4": "11m", "d=512_l=8_h=4": "79m", "d=576_l=24_h=8": "154m",
         "d=1024_l=24_h=8": "411m", "open_lm_1b": "1.4b", "open_lm_7b": "6.9b"}
# The paper's 17-task split (scaling/constants.py SUBSET): our task id -> the source's key.
TASKS: dict[str, str] = {
    "arc_easy": "arc_easy", "boolq": "boolq", "commonsense_qa": "commonsense_qa",
    "hellaswag": "hellaswag", "lambada_openai": "lambada_openai", "piqa": "piqa",
    **{t: t for t in FOUNDRY_TASKS},
}


def family_of(corpus: str) -> str:
    return f"openlm-{CORPORA[corpus][0]}"


def _multiple(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Run:
    model: str
    family: str
    name: str
    corpus: str
    stem: str  # the source's run name: models/<stem>.json, evals/evaluation_<stem>_heavy.json
    doc: dict


def _load_json(path: Path) -> dict:
    if not path.is_file():
        raise SourceDataError(path, "file", "a file of Gadre et al.'s grid", "nothing")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceDataError(path, "json", "valid JSON", str(exc)) from None
    if not isinstance(doc, dict):
        raise SourceDataError(path, "top level", "an object", type(doc).__name__)
    return doc


def _field(path: Path, doc: dict, *keys: str):
    value = doc
    for k in keys:
        if not isinstance(value, dict) or k not in value:
            raise SourceDataError(path, ".".join(keys), "a value", "nothing")
        value = value[k]
    return value


def _count(path: Path, doc: dict, *keys: str) -> int:
    return whole_count(path, ".".join(keys), _field(path, doc, *keys))


def runs(data_root: Path) -> list[Run]:
    folder = data_root / ROOT / "models"
    if not folder.is_dir():
        raise SourceDataError(folder, "folder", "the grid's exp_data/models/", "nothing")
    out = []
    for path in sorted(folder.glob("*.json")):
        doc = _load_json(path)
        corpus = _field(path, doc, "dataset_name")
        if corpus not in CORPORA:
            raise SourceDataError(path, "dataset_name", f"one of {', '.join(CORPORA)}", corpus)
        config = PurePosixPath(str(_field(path, doc, "hyperparameters", "model"))).stem
        if config not in SIZES:
            raise SourceDataError(path, "hyperparameters.model", f"one of {', '.join(SIZES)}",
                                  config)
        mult = cell_number(path, "hyperparameters.chinchilla_multiplier",
                           str(_field(path, doc, "hyperparameters", "chinchilla_multiplier")))
        short, corpus_name = CORPORA[corpus]
        size = SIZES[config]
        out.append(Run(model=f"openlm-{short}-{size}-{_multiple(mult)}xc",
                       family=family_of(corpus), corpus=corpus, stem=path.stem, doc=doc,
                       name=f"OpenLM {size.upper()} x {_multiple(mult)}xC ({corpus_name})"))
    if len({r.model for r in out}) != len(out):
        raise SourceDataError(folder, "runs", "one file per corpus, size and token multiple",
                              "duplicates")
    return out


def heldout_loss(path: Path, doc: dict) -> HeldoutLoss:
    """The run's loss on the held-out C4 shards (the `c4_val` entry of `results`)."""
    results = _field(path, doc, "results")
    hits = [r for r in results if isinstance(r, dict)
            and any(f"/{HELDOUT}/" in str(v) for v in r.get("val_data") or [])]
    if len(hits) != 1:
        raise SourceDataError(path, "results", f"one entry whose val_data is the {HELDOUT} "
                              "shards", f"{len(hits)} such entries")
    loss = cell_number(path, f"results[{HELDOUT}].loss", str(hits[0].get("loss")))
    if not loss > 0:
        raise SourceDataError(path, f"results[{HELDOUT}].loss", "a loss > 0 (nats)", loss)
    tokens = hits[0].get("tokens")
    return HeldoutLoss(corpus="C4 validation (the grid's c4_val shards)", per_token=loss,
                       n_tokens=int(tokens) if isinstance(tokens, int) and tokens > 0 else None)


def task_metadata(data_root: Path) -> dict[str, tuple[int, int]]:
    """Source task key -> (shots, items) from eval_metadata.csv."""
    path = data_root / METADATA
    if not path.is_file():
        raise SourceDataError(path, "file", "the grid's eval_metadata.csv", "nothing")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for i, row in enumerate(rows, start=2):
        key = row.get("Eval Task", "")
        if key in TASKS.values():
            out[key] = (int(cell_number(path, f"line {i} #shots", row.get("#shots", ""))),
                        int(cell_number(path, f"line {i} #datapoints",
                                        row.get("#datapoints", ""))))
    if missing := sorted(set(TASKS.values()) - set(out)):
        raise SourceDataError(path, "Eval Task", "a row for every imported task", missing)
    return out


def scores_of(path: Path, doc: dict, meta: dict[str, tuple[int, int]]) -> dict[str, Score]:
    icl = _field(path, doc, "eval_metrics", "icl")
    out = {}
    for task, key in TASKS.items():
        if key not in icl:
            raise SourceDataError(path, f"eval_metrics.icl.{key}", "an accuracy", "nothing")
        value = cell_fraction(path, f"eval_metrics.icl.{key}", str(icl[key]))
        shots, items = meta[key]
        out[task] = Score(metric="acc", value=value, n_shot=shots, n_items=items)
    return out


_EPOCH = re.compile(r"epoch_(\d+)\.pt$")


def revision_of(path: Path, doc: dict) -> Revision:
    """The run's one evaluated checkpoint: its final one (`checkpoint_url` ends epoch_<k>.pt)."""
    url = str(_field(path, doc, "checkpoint_url"))
    m = _EPOCH.search(url)
    if m is None:
        raise SourceDataError(path, "checkpoint_url", "a path ending epoch_<k>.pt", url)
    return Revision(id=f"epoch{m[1]}", tokens=_count(path, doc, "hyperparameters", "tokens"),
                    final=True)


def model_facts(data_root: Path) -> list[ModelFacts]:
    facts = []
    for r in runs(data_root):
        path = data_root / ROOT / "models" / f"{r.stem}.json"
        facts.append(ModelFacts(
            id=r.model, family=r.family, name=r.name, source="openlm-grid",
            family_name=f"OpenLM grid ({CORPORA[r.corpus][1]})",
            params={"total": Count(value=_count(path, r.doc, "hyperparameters", "params"),
                                   source="config"),
                    "non_embedding": Count(value=_count(path, r.doc, "hyperparameters",
                                                        "params_no_embed"), source="config")},
            training_tokens=Count(value=_count(path, r.doc, "hyperparameters", "tokens"),
                                  source="config"),
            architecture="open_lm",
            notes=("Parameter counts as the grid's run file states them "
                   "(hyperparameters.params and params_no_embed).",)))
    return facts


def _provenance(evals: SourceFile, model: SourceFile):
    return evals.provenance(
        IMPORTER, row="eval_metrics.icl",
        notes=f"heldout_loss, parameter counts and tokens from {model.repository}@"
              f"{model.commit[:8]} {model.path} (sha256 {model.sha256}), the results entry "
              f"whose val_data is the {HELDOUT} shards; shots and items from "
              "exp_data/eval_metadata.csv")


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    manifest = Manifest(data_root)
    meta = task_metadata(data_root)
    manifest.source(METADATA)
    for r in runs(data_root):
        model_rel = f"{ROOT}/models/{r.stem}.json"
        evals_rel = f"{ROOT}/evals/evaluation_{r.stem}_heavy.json"
        evals_path = data_root / evals_rel
        model_src, evals_src = manifest.source(model_rel), manifest.source(evals_rel)
        scores = scores_of(evals_path, _load_json(evals_path), meta)
        rev = revision_of(data_root / model_rel, r.doc)
        result = Result(model=r.model, setting=SETTING, revision=rev, tier="published",
                        scores=scores, heldout_loss=heldout_loss(data_root / model_rel, r.doc),
                        provenance=_provenance(evals_src, model_src))
        rel = result_path(Path(), families[r.model], r.model, SETTING, rev.id)
        writer.write(PurePosixPath(rel.as_posix()), "result", result)
        report.results += 1
        report.scores += len(scores)
        report.models.add(r.model)
    report.settings.add(SETTING)
    upsert_registries(writer, TASKS, report.settings)
