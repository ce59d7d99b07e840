"""One model, one model.yaml: facts from every source in the data folder, merged.

A model that appears in several sources (pythia-12b-deduped is in Pythia's files, ObsScaling and
Sloth) gets one model.yaml whose facts are merged by a fixed rule, so the file does not depend
on which import ran first:

- a count: an exact count (from a config) beats a published one; between published ones the
  higher-priority source wins (Pythia > the MoE table > ObsScaling > Sloth, whose leaderboard
  copy floors sizes to whole billions); then the finer precision;
- any other fact: the highest-priority source that states it;
- notes: every source's, highest priority first.

Release dates come from Epoch's model_versions.csv and a reviewed table (epoch_dates.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import FAMILY_FILE, MODEL_FILE
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Family, Link, Model, Params, ReleaseDate

from .base import ModelFacts, SourceDataError, Writer, count_rank

COUNT_KINDS = ("total", "non_embedding", "embedding", "active", "active_non_embedding")

# Hugging Face organisation -> who made the models.
ORGS: dict[str, str] = {
    "01-ai": "01.AI", "ai21labs": "AI21 Labs", "allenai": "Allen Institute for AI",
    "bigcode": "BigCode", "bigscience": "BigScience", "cerebras": "Cerebras",
    "codellama": "Meta", "Deci": "Deci", "deepseek-ai": "DeepSeek", "EleutherAI": "EleutherAI",
    "facebook": "Meta", "google": "Google", "h2oai": "H2O.ai", "HuggingFaceTB": "Hugging Face",
    "huggyllama": "Meta", "internlm": "Shanghai AI Laboratory", "LLM360": "LLM360",
    "meta-llama": "Meta", "microsoft": "Microsoft", "mistralai": "Mistral AI",
    "mosaicml": "MosaicML", "openai-community": "OpenAI", "openlm-research": "OpenLM Research",
    "Qwen": "Alibaba Cloud (Qwen)", "RWKV": "RWKV", "Salesforce": "Salesforce",
    "stabilityai": "Stability AI", "tiiuae": "Technology Innovation Institute",
    "TinyLlama": "TinyLlama", "togethercomputer": "Together AI",
}

_PYTHIA = dict(
    organisation="EleutherAI",
    tokenizer="GPT-NeoX-20B BPE, 50,277 tokens (embedding rows padded to 50,304-50,688)",
    license="Apache-2.0", reference=True,
    links=[Link(title="Pythia paper (arXiv 2304.01373)", url="https://arxiv.org/abs/2304.01373"),
           Link(title="EleutherAI/pythia", url="https://github.com/EleutherAI/pythia")],
)
# Curated family facts; other families get their source's name and the organisation above.
FAMILY_INFO: dict[str, dict] = {
    "pythia": dict(name="Pythia", training_data="The Pile (300B tokens, one epoch)",
                   description="Eight sizes (70M-12B), one recipe: the same data in the same "
                   "order, 2,097,152 tokens per step for 143,000 steps, 154 checkpoints each. "
                   "A density reference family.", **_PYTHIA),
    "pythia-deduped": dict(name="Pythia (deduplicated Pile)",
                           training_data="The Pile, globally deduplicated (207B tokens, about "
                           "1.5 epochs: 300B tokens seen)",
                           description="The Pythia recipe on the deduplicated Pile: different "
                           "data, so a family of its own. A density reference family.",
                           **_PYTHIA),
    "cerebras-gpt": dict(name="Cerebras-GPT", organisation="Cerebras",
                         training_data="The Pile", tokenizer="GPT-2 BPE, 50,257 tokens",
                         license="Apache-2.0", reference=True,
                         description="Trained compute-optimally at 20 tokens per parameter "
                         "(Dey et al. 2023, arXiv 2304.03208): one recipe at several sizes, a "
                         "density reference family.",
                         links=[Link(title="Cerebras-GPT paper (arXiv 2304.03208)",
                                     url="https://arxiv.org/abs/2304.03208")]),
    "olmo-ladder": dict(name="OLMo ladder", organisation="Allen Institute for AI",
                        training_data="OLMo 2 pretraining mix (the recipe of OLMo-2 7B/13B)",
                        license="Apache-2.0", reference=True,
                        description="AI2's model ladder: one recipe at five sizes (190M-3.2B "
                        "non-embedding) x five token budgets (0.5-10x Chinchilla), trained to "
                        "predict OLMo-2 7B and 13B. N and D vary independently, and every score "
                        "comes with the loss of its correct answer: the two-step density "
                        "method applies as written. A density reference family.",
                        links=[Link(title="Model ladder paper (arXiv 2412.04403)",
                                    url="https://arxiv.org/abs/2412.04403"),
                               Link(title="allenai/OLMo-ladder",
                                    url="https://github.com/allenai/OLMo-ladder")]),
    **{f"openlm-{short}": dict(
        name=f"OpenLM grid ({corpus})", organisation="mlfoundations (Gadre et al. 2024)",
        training_data=data, reference=True,
        tokenizer="50,432 embedding rows (total minus non-embedding parameters, over the width)",
        description=f"Gadre et al.'s grid on {corpus}: one OpenLM recipe at four small sizes "
        "(0.011B-0.411B total parameters) x 0.25-32x Chinchilla tokens, and the 1.4B and 6.9B "
        "runs the paper forecasts from them. N and D vary independently; the runs recorded "
        "held-out C4 loss, not answer losses. A density reference family.",
        links=[Link(title="Gadre et al. 2024 (arXiv 2403.08540)",
                    url="https://arxiv.org/abs/2403.08540"),
               Link(title="mlfoundations/scaling",
                    url="https://github.com/mlfoundations/scaling")])
      for short, corpus, data in (("c4", "C4", "C4 (the original English Colossal Clean "
                                   "Crawled Corpus)"),
                                  ("rpj", "RedPajama", "RedPajama"),
                                  ("rw", "RefinedWeb", "RefinedWeb (Falcon's web corpus)"))},
    "gemstones": dict(name="Gemstones", organisation="University of Maryland (McLeish et al.)",
                      training_data="Dolma (350B tokens per run; validation data from a "
                      "subset that does not overlap it)", license="Apache-2.0",
                      tokenizer="50,304 embedding rows (untied input and output embeddings)",
                      reference=True,
                      description="22 width x depth shapes of one Gemma-style recipe (48M-2.0B "
                      "parameters), each trained to 350B tokens at a constant learning rate "
                      "and evaluated every 10B tokens: sizes and token counts vary together "
                      "along 35 checkpoints per run. A density reference family.",
                      links=[Link(title="Gemstones paper (arXiv 2502.06857)",
                                  url="https://arxiv.org/abs/2502.06857"),
                             Link(title="mcleish7/gemstone-scaling-laws",
                                  url="https://github.com/mcleish7/gemstone-scaling-laws")]),
    "olmo-2": dict(name="OLMo 2", organisation="Allen Institute for AI",
                   training_data="OLMo 2 pretraining mix, then a mid-training anneal",
                   license="Apache-2.0",
                   links=[Link(title="OLMo 2 paper (arXiv 2501.00656)",
                               url="https://arxiv.org/abs/2501.00656")]),
    "opt": dict(name="OPT", organisation="Meta",
                training_data="180B tokens: the RoBERTa corpora, a subset of the Pile and "
                "PushShift.io Reddit", tokenizer="GPT-2 BPE (50,272 embedding rows)",
                links=[Link(title="OPT paper (arXiv 2205.01068)",
                            url="https://arxiv.org/abs/2205.01068")]),
    "recurrentgemma": dict(name="RecurrentGemma", organisation="Google",
                           description="Griffin architecture: gated linear recurrences mixed "
                           "with local attention (arXiv 2404.07839)."),
    "bloom": dict(name="BLOOM", organisation="BigScience",
                  training_data="ROOTS: 46 natural and 13 programming languages",
                  tokenizer="BLOOM BPE, 250,680 tokens (250,880 embedding rows)",
                  license="bigscience-bloom-rail-1.0",
                  links=[Link(title="BLOOM paper (arXiv 2211.05100)",
                              url="https://arxiv.org/abs/2211.05100")]),
}


@dataclass
class Catalog:
    """Merged models and their families, plus what each model's facts came from."""

    models: dict[str, Model] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    by_hf_id: dict[str, str] = field(default_factory=dict)  # hf id (lowercase) -> model id


def merge_facts(facts: list[ModelFacts], release_date: ReleaseDate | None = None) -> Model:
    """One Model from what several sources state about it (rules in the module docstring)."""
    ranked = sorted(facts, key=lambda f: -f.priority)
    ids = {f.id for f in facts}
    if len(ids) != 1:
        raise SourceDataError("catalog", "id", "facts about one model", sorted(ids))

    def first(attr: str):
        return next((getattr(f, attr) for f in ranked if getattr(f, attr) is not None), None)

    counts = {}
    for kind in COUNT_KINDS:
        stated = [(count_rank(f.params.get(kind))[0], f.priority,
                   count_rank(f.params.get(kind))[1], i) for i, f in enumerate(ranked)
                  if f.params.get(kind) is not None]
        if stated:
            counts[kind] = ranked[max(stated)[3]].params[kind]
    tokens = [(count_rank(f.training_tokens)[0], f.priority, i) for i, f in enumerate(ranked)
              if f.training_tokens is not None]
    notes = list(dict.fromkeys(n for f in ranked for n in f.notes))
    notes += _drop_impossible_totals(counts)
    top = ranked[0]
    hf_id = first("hf_id")
    return Model(
        id=top.id, family=top.family, name=top.name, hf_id=hf_id, params=Params(**counts),
        training_tokens=ranked[max(tokens)[2]].training_tokens if tokens else None,
        release_date=release_date, kind=top.kind, moe=any(f.moe for f in facts),
        architecture=first("architecture"),
        links=[Link(title="Hugging Face", url=f"https://huggingface.co/{hf_id}")] if hf_id else [],
        notes=" ".join(notes),
    )


def _drop_impossible_totals(counts: dict) -> list[str]:
    """A published 'total' below the exact count of a part of it is not the total (ObsScaling
    sizes Gemma-2-2B at 2.0B, its non-embedding size, for 2.6B in all): left out, and said."""
    notes = []
    for whole, part in (("total", "non_embedding"), ("active", "active_non_embedding")):
        w, p = counts.get(whole), counts.get(part)
        if (w is not None and p is not None and w.source == "published"
                and p.source in ("config", "safetensors") and w.value < p.value):
            del counts[whole]
            notes.append(f"The published {whole.replace('_', '-')} size ({w.value / 1e9:g}B) is "
                         f"below the exact {part.replace('_', '-')} count, so it is not a "
                         f"{whole} count and is left out.")
    return notes


def family_of(family_id: str, display_name: str, hf_id: str | None) -> Family:
    info = dict(FAMILY_INFO.get(family_id, {}))
    org = ORGS.get((hf_id or "").split("/")[0], "unknown")
    return Family(id=family_id, name=info.pop("name", display_name),
                  organisation=info.pop("organisation", org), **info)


def build_catalog(facts: list[ModelFacts],
                  dates: dict[str, ReleaseDate] | None = None) -> Catalog:
    """Merge all sources' facts; `dates` maps lowercase Hugging Face ids to release dates."""
    dates = dates or {}
    grouped: dict[str, list[ModelFacts]] = {}
    for f in facts:
        grouped.setdefault(f.id, []).append(f)
    cat = Catalog()
    for model_id in sorted(grouped):
        group = grouped[model_id]
        top = max(group, key=lambda f: f.priority)
        hf = next((f.hf_id for f in sorted(group, key=lambda f: -f.priority) if f.hf_id), None)
        model = merge_facts(group, dates.get(hf.lower()) if hf else None)
        cat.models[model_id] = model
        cat.sources[model_id] = sorted({f.source for f in group})
        if hf:
            cat.by_hf_id[hf.lower()] = model_id
        if model.family not in cat.families:
            cat.families[model.family] = family_of(model.family, top.family_name, hf)
    clash = sorted(set(cat.models) & set(cat.families))
    if clash:
        raise SourceDataError("catalog", "model id", "model ids distinct from family ids",
                              clash, fix="give the model another id in its importer's table")
    return cat


# ---------------------------------------------------------------------------------------------
# Writing model.yaml and family.yaml


def _merge_existing(existing: Model, ours: Model) -> Model:
    """Keep what someone else wrote that we do not know better: exact counts where ours are
    published, links we do not have, notes when we have none."""
    counts = {}
    for kind in COUNT_KINDS:
        theirs, mine = getattr(existing.params, kind), getattr(ours.params, kind)
        counts[kind] = theirs if count_rank(theirs)[0] > count_rank(mine)[0] else mine
    _drop_impossible_totals(counts)  # ours already says so in its notes
    links = list(ours.links) + [x for x in existing.links if x.url not in {y.url for y in
                                                                           ours.links}]
    return ours.model_copy(update={
        "params": Params(**counts), "links": links, "notes": ours.notes or existing.notes,
        "release_date": ours.release_date or existing.release_date,
        "architecture": ours.architecture or existing.architecture,
    })


def _read_existing(path: Path, model: type):
    if not path.is_file():
        return None
    try:
        return model.model_validate(read_yaml(path))
    except (ReadError, ValueError) as err:
        raise SourceDataError(path, "file", f"a valid {model.__name__} to merge into",
                              str(err)) from err


def write_models(writer: Writer, cat: Catalog, model_ids: set[str]) -> None:
    """Write model.yaml (and its family.yaml) for each model id, merged with what exists."""
    families = set()
    for model_id in sorted(model_ids):
        ours = cat.models[model_id]
        rel = PurePosixPath(ours.family, model_id, MODEL_FILE)
        existing = _read_existing(writer.root / rel, Model)
        writer.write(rel, "model", _merge_existing(existing, ours) if existing else ours)
        families.add(ours.family)
    for family_id in sorted(families):
        writer.write(PurePosixPath(family_id, FAMILY_FILE), "family", cat.families[family_id])
