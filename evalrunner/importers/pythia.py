"""EleutherAI/pythia `evals/`: Pythia (8 sizes, standard and deduplicated Pile) at every published
checkpoint, zero-shot (27 checkpoints) and five-shot (15), and OPT (8 sizes) and BLOOM (5 sizes)
final checkpoints, all run with the same legacy lm-evaluation-harness (Biderman et al. 2023,
arXiv 2304.01373).

Tokens seen at step s = s x 2,097,152 (1,024 sequences of 2,048 tokens per step), so the final
step 143,000 is 299,892,736,000 tokens. Parameter counts are exact, from the GPT-NeoX / OPT /
BLOOM configs below (evalrunner.params).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalrunner.params import count_params
from evalrunner.results.layout import result_path
from evalrunner.results.schema import Count, Result, Revision

from .base import ImportReport, ModelFacts, SourceDataError, Writer
from .lmeval import parse_lmeval, with_macro_mean
from .manifest import Manifest
from .registry import setting, upsert_registries
from .taskdefs import MMLU_TASKS, all_tasks

IMPORTER = "densitometer.importers.pythia"
FOLDER = "pythia/evals"
TOKENS_PER_STEP = 2_097_152  # 1,024 x 2,048 (Biderman et al. 2023, section 2.3 / Table 1)
FINAL_STEP = 143_000

# size -> (d_model, n_layer, n_head, vocab rows) of the GPT-NeoX configs (Biderman et al. 2023,
# Table 1); intermediate size 4 d, untied unembedding.
PYTHIA_SIZES: dict[str, tuple[int, int, int, int]] = {
    "70m": (512, 6, 8, 50304), "160m": (768, 12, 12, 50304), "410m": (1024, 24, 16, 50304),
    "1b": (2048, 16, 8, 50304), "1.4b": (2048, 24, 16, 50304), "2.8b": (2560, 32, 32, 50304),
    "6.9b": (4096, 32, 32, 50432), "12b": (5120, 36, 40, 50688),
}
# OPT (Zhang et al. 2022, Table 1): size -> (d_model, n_layer, n_head, ffn, embedding width).
OPT_SIZES: dict[str, tuple[int, int, int, int, int]] = {
    "125m": (768, 12, 12, 3072, 768), "350m": (1024, 24, 16, 4096, 512),
    "1.3b": (2048, 24, 32, 8192, 2048), "2.7b": (2560, 32, 32, 10240, 2560),
    "6.7b": (4096, 32, 32, 16384, 4096), "13b": (5120, 40, 40, 20480, 5120),
    "30b": (7168, 48, 56, 28672, 7168), "66b": (9216, 64, 72, 36864, 9216),
}
# BLOOM (BigScience 2022, Table 3): size -> (d_model, n_layer, n_head).
BLOOM_SIZES: dict[str, tuple[int, int, int]] = {
    "560m": (1024, 24, 16), "1b1": (1536, 24, 16), "1b7": (2048, 24, 16), "3b": (2560, 30, 32),
    "7b1": (4096, 30, 32),
}

# Folders of evals/ that are not imported, and why.
LEFT_OUT: dict[str, str] = {
    r"pythia-v1/[^/]+/baseline/": "re-evaluations of the released deduplicated models for a "
    "gender-bias study (mostly CrowS-Pairs and LAMBADA, steps 114000-143000); they repeat "
    "step 143000 with slightly different numbers, and their task list differs from the "
    "comparable zero-shot series",
    r"pythia-v1/[^/]+/intervention/": "the bias-intervention models "
    "(EleutherAI/intervention-pythia-v1.1-*): other weights, trained on gender-swapped text "
    "at the end of training, not part of the released suite",
    r"pythia-v1/pythia-[^/]+-[0-9.]+MtokBS/": "batch-size ablations (0.25M-1M tokens per "
    "step, so other step-to-token maps); their data and public weights are not documented in "
    "this source",
}


@dataclass(frozen=True)
class Series:
    """One model's evaluation files in one setting."""

    model_id: str
    folder: str  # under evals/
    pattern: str  # file glob inside the folder
    setting: str
    expected: int  # files the source has for it
    pretrained: str  # model_args pretrained= the files must name


def pythia_config(size: str) -> dict:
    d, n_layer, n_head, vocab = PYTHIA_SIZES[size]
    return {"model_type": "gpt_neox", "hidden_size": d, "num_hidden_layers": n_layer,
            "num_attention_heads": n_head, "intermediate_size": 4 * d, "vocab_size": vocab,
            "tie_word_embeddings": False}


def opt_config(size: str) -> dict:
    d, n_layer, n_head, ffn, proj = OPT_SIZES[size]
    return {"model_type": "opt", "hidden_size": d, "num_hidden_layers": n_layer,
            "num_attention_heads": n_head, "ffn_dim": ffn, "word_embed_proj_dim": proj,
            "vocab_size": 50272, "max_position_embeddings": 2048,
            "do_layer_norm_before": size != "350m"}  # opt-350m is post-LN


def bloom_config(size: str) -> dict:
    d, n_layer, n_head = BLOOM_SIZES[size]
    return {"model_type": "bloom", "hidden_size": d, "n_layer": n_layer, "n_head": n_head,
            "vocab_size": 250880}


def series() -> list[Series]:
    out = []
    for size in PYTHIA_SIZES:
        for variant in ("", "-deduped"):
            model = f"pythia-{size}{variant}"
            # The standard 1B model's files sit in pythia-1b-bf16/ and name it so.
            folder = "pythia-1b-bf16" if model == "pythia-1b" else model
            pretrained = f"EleutherAI/pythia-v1.1-{folder.removeprefix('pythia-')}"
            for sub, setting_id, n in (("zero-shot", "pythia-lmeval-0shot", 27),
                                       ("five-shot", "pythia-lmeval-5shot", 15)):
                out.append(Series(model, f"pythia-v1/{folder}/{sub}", "*.json", setting_id, n,
                                  pretrained))
    for family, sizes, org in (("opt", OPT_SIZES, "facebook"), ("bloom", BLOOM_SIZES,
                                                               "bigscience")):
        for size in sizes:
            model = f"{family}-{size}"
            out.append(Series(model, family, f"{model}.json", "pythia-lmeval-0shot", 1,
                              f"{org}/{model}"))
    return out


def model_facts() -> list[ModelFacts]:
    """Exact counts and tokens for every model this source covers."""
    facts = []
    for size in PYTHIA_SIZES:
        counts = count_params(pythia_config(size))
        for variant, family, family_name in (("", "pythia", "Pythia"),
                                             ("-deduped", "pythia-deduped", "Pythia (deduped)")):
            model = f"pythia-{size}{variant}"
            facts.append(ModelFacts(
                id=model, family=family, family_name=family_name, name=model, source="pythia",
                hf_id=f"EleutherAI/{model}", params=_exact(counts), architecture="gpt_neox",
                training_tokens=Count(value=FINAL_STEP * TOKENS_PER_STEP, source="config")))
    for family, sizes, org, config in (("opt", OPT_SIZES, "facebook", opt_config),
                                       ("bloom", BLOOM_SIZES, "bigscience", bloom_config)):
        for size in sizes:
            model = f"{family}-{size}"
            counts = count_params(config(size))
            facts.append(ModelFacts(id=model, family=family, family_name=family.upper(),
                                    name=model, source="pythia", hf_id=f"{org}/{model}",
                                    params=_exact(counts), architecture=counts.architecture))
    return facts


def _exact(counts) -> dict[str, Count]:
    return {"total": Count(value=counts.total, source="config"),
            "non_embedding": Count(value=counts.non_embedding, source="config"),
            "embedding": Count(value=counts.embedding, source="config")}


def headline_for(setting_id: str) -> dict[str, str]:
    s = setting(setting_id)
    return {t.id: s.metric_per_task.get(t.id, t.metric) for t in all_tasks()}


def import_file(path: Path, manifest: Manifest, item: Series) -> Result:
    """One lm-eval JSON -> one Result (with the MMLU macro mean added)."""
    source = manifest.source(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    want_shots = setting(item.setting).n_shot
    config = data.get("config") or {}
    if config.get("num_fewshot") != want_shots:
        raise SourceDataError(path, "config.num_fewshot", f"{want_shots} (setting "
                              f"{item.setting})", config.get("num_fewshot"))
    run = parse_lmeval(data, headline_for(item.setting), where=source.path)
    if run.meta.pretrained != item.pretrained:
        raise SourceDataError(path, "config.model_args pretrained", item.pretrained,
                              run.meta.pretrained)
    scores = with_macro_mean(run.scores, "mmlu", MMLU_TASKS, headline_for(item.setting)["mmlu"])
    revision = _revision(run.meta.revision, path)
    notes = f"model_args: {config.get('model_args')}"
    if want_shots == 0 and "5shot" in path.name:
        notes += "; the file name says 5shot, but config.num_fewshot is 0 and it sits in " \
                 "zero-shot/, so it is imported as zero-shot"
    return Result(model=item.model_id, setting=item.setting, revision=revision,
                  tier="published", scores=scores,
                  provenance=source.provenance(IMPORTER, notes=notes))


def _revision(revision: str | None, path: Path) -> Revision:
    if revision is None:  # OPT and BLOOM: the released weights
        return Revision(id="main", final=True)
    m = re.fullmatch(r"step(\d+)", revision)
    if not m or not path.stem.endswith(f"_step{m.group(1)}"):
        raise SourceDataError(path, "config.model_args revision", "stepN matching the file name",
                              revision)
    step = int(m.group(1))
    return Revision(id=revision, step=step, tokens=step * TOKENS_PER_STEP,
                    final=step == FINAL_STEP)


def left_out(rel: str) -> str | None:
    for pattern, reason in LEFT_OUT.items():
        if re.match(pattern, rel):
            return reason
    return None


def run(data_root: Path, writer: Writer, report: ImportReport, families: dict[str, str]) -> None:
    """Import every series; `families` maps model id -> family id (from the catalogue)."""
    manifest = Manifest(data_root)
    base = data_root / FOLDER
    if not base.is_dir():
        raise SourceDataError(base, "folder", "the Pythia evals folder", "nothing")
    task_ids: set[str] = set()
    covered: set[str] = set()
    for item in series():
        files = sorted((base / item.folder).glob(item.pattern))
        if len(files) != item.expected:
            raise SourceDataError(base / item.folder, item.pattern, f"{item.expected} files",
                                  len(files))
        family = families[item.model_id]
        for path in files:
            result = import_file(path, manifest, item)
            rel = result_path(Path(), family, result.model, result.setting, result.revision.id)
            writer.write(PurePosixPath(rel.as_posix()), "result", result)
            covered.add(path.relative_to(base).as_posix())
            task_ids.update(result.scores)
            report.results += 1
            report.scores += len(result.scores)
            report.models.add(result.model)
            report.settings.add(result.setting)
    for path in sorted(base.rglob("*.json")):
        rel = path.relative_to(base).as_posix()
        if rel not in covered:
            reason = left_out(rel)
            if reason is None:
                raise SourceDataError(path, "file", "a file the importer imports or leaves out "
                                      "with a reason (LEFT_OUT)", "an unknown file")
            report.skipped.append(rel)
    upsert_registries(writer, task_ids, report.settings)
