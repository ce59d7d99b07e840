"""Importers: published evaluations -> results/ YAML, with `import` provenance, tier `published`.

    densitometer import all --from ../shared/data --into results/

Sources: pythia (EleutherAI/pythia evals), obsscaling, sloth (Open LLM Leaderboard v1/v2),
olmo-ladder (AI2's model ladder and OLMo-2 7B/13B), openlm-grid (Gadre et al.'s N x D grid
on three corpora), gemstones (22 shapes at every 10B-token checkpoint), cerebras-card (the
Cerebras-GPT card's tables), epoch-dates (release dates), and lmeval-json (one lm-eval JSON
listed in a data folder's MANIFEST.csv). Every import is idempotent: a second run changes no byte.

Model facts are merged from every source present in the data folder (catalog.py), so
model.yaml does not depend on which import ran first; non-embedding counts of the models in the
reviewed architecture table (architectures.py) join them.
"""

from __future__ import annotations

from pathlib import Path

from .base import ImportReport, SourceDataError, Writer, find_data_root
from .lmeval_file import import_lmeval_json

SOURCES = ("pythia", "obsscaling", "sloth", "olmo-ladder", "openlm-grid", "gemstones",
           "cerebras-card", "epoch-dates", "lmeval-json")
ALL = ("pythia", "obsscaling", "sloth", "olmo-ladder", "openlm-grid", "gemstones",
       "cerebras-card", "epoch-dates")


def _modules() -> dict:
    """Source -> its importer module, imported when first needed (the CLI starts fast)."""
    from . import (
        cerebras_card,
        epoch_dates,
        gemstones,
        obsscaling,
        olmo_ladder,
        openlm_grid,
        pythia,
        sloth,
    )

    return {"pythia": pythia, "obsscaling": obsscaling, "sloth": sloth,
            "olmo-ladder": olmo_ladder, "openlm-grid": openlm_grid, "gemstones": gemstones,
            "cerebras-card": cerebras_card, "epoch-dates": epoch_dates}


def load_catalog(data_root: Path):
    """The merged model catalogue of every source present under data_root."""
    m = _modules()
    cerebras_card, epoch_dates, gemstones = m["cerebras-card"], m["epoch-dates"], m["gemstones"]
    obsscaling, olmo_ladder, openlm_grid = m["obsscaling"], m["olmo-ladder"], m["openlm-grid"]
    pythia, sloth = m["pythia"], m["sloth"]
    from . import architectures
    from .catalog import build_catalog

    facts = pythia.model_facts()
    if (data_root / cerebras_card.FILE).is_file():
        facts += cerebras_card.model_facts(data_root)
    if (data_root / olmo_ladder.DIR).is_dir():
        facts += olmo_ladder.model_facts(data_root)
    if (data_root / openlm_grid.ROOT).is_dir():
        facts += openlm_grid.model_facts(data_root)
    if (data_root / gemstones.RUNS).is_file():
        facts += gemstones.model_facts(data_root)
    if (data_root / obsscaling.FILE).is_file():
        facts += obsscaling.model_facts(data_root)
    if (data_root / sloth.FILE).is_file() and (data_root / obsscaling.FILE).is_file():
        facts += sloth.model_facts(data_root)
    facts += architectures.model_facts(facts)
    dates = {}
    if (data_root / epoch_dates.FILE).is_file():
        dates = epoch_dates.release_dates(data_root, sorted({f.hf_id for f in facts
                                                             if f.hf_id}))
    return build_catalog(facts, dates)


def run_import(source: str, data: Path | None, into: Path, catalog=None) -> ImportReport:
    """Import one source (not lmeval-json) from the data folder into the results root."""
    from .catalog import write_models

    if source not in ALL:
        raise SourceDataError("<command>", "source", f"one of {', '.join(ALL)}", source)
    data_root = find_data_root(data)
    catalog = catalog or load_catalog(data_root)
    writer = Writer(Path(into))
    report = ImportReport(source)
    module = _modules()[source]
    if source == "epoch-dates":
        module.run(data_root, writer, report)
    else:
        families = {m: model.family for m, model in catalog.models.items()}
        module.run(data_root, writer, report, families)
        write_models(writer, catalog, report.models)
        report.families = {catalog.models[m].family for m in report.models}
    report.files, report.changed = writer.files, sorted(writer.changed)
    return report


__all__ = ["ALL", "SOURCES", "ImportReport", "SourceDataError", "import_lmeval_json",
           "load_catalog", "run_import"]
