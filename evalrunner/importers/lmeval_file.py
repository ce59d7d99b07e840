"""`densitometer import lmeval-json`: one lm-eval results JSON -> one Result.

The file must be listed in its data folder's MANIFEST.csv (that is where the provenance comes
from), the model must already have a model.yaml, and the setting and tasks must be known: in the
results root's registries or in the importers' own.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import result_path
from evalrunner.results.schema import Result, Revision

from .base import ImportReport, SourceDataError, Writer, find_data_root
from .lmeval import parse_lmeval, with_macro_mean
from .manifest import Manifest
from .registry import all_settings, registered, upsert_registries
from .taskdefs import MMLU_TASKS, all_tasks

IMPORTER = "densitometer.importers.lmeval"


def import_lmeval_json(path: Path, into: Path, model: str, setting: str,
                       revision: str | None = None, data: Path | None = None) -> ImportReport:
    path, into = Path(path), Path(into)
    source = Manifest(find_data_root(data or path.parent)).source(path.resolve())
    tasks, settings = registered(into)
    if setting not in settings:
        raise SourceDataError(into / "settings.yaml", "setting", "a known setting id",
                              setting, fix=f"known: {', '.join(sorted(settings))}")
    s = settings[setting]
    headline = {t: s.metric_per_task.get(t, task.metric) for t, task in tasks.items()}
    run = parse_lmeval(json.loads(path.read_text(encoding="utf-8")), headline, where=source.path)
    unknown = sorted(set(run.scores) - set(tasks))
    if unknown:
        raise SourceDataError(into / "tasks.yaml", "tasks", "tasks declared in tasks.yaml",
                              unknown, fix="declare them (chance, direction, items) first")
    homes = sorted(into.glob(f"*/{model}/model.yaml"))
    if len(homes) != 1:
        raise SourceDataError(into, "model", f"one {model}/model.yaml under the results root",
                              [str(h) for h in homes], fix="import or add the model first")
    family = homes[0].parent.parent.name
    rev_id = revision or run.meta.revision or "main"
    scores = with_macro_mean(run.scores, "mmlu", MMLU_TASKS, headline["mmlu"])
    result = Result(model=model, setting=setting, revision=Revision(id=rev_id), tier="published",
                    scores=scores, provenance=source.provenance(
                        IMPORTER, notes=f"lm-eval {run.meta.format} format"))
    writer = Writer(into)
    rel = result_path(Path(), family, model, setting, rev_id)
    writer.write(PurePosixPath(rel.as_posix()), "result", result)
    ours = {t.id for t in all_tasks()}
    upsert_registries(writer, [t for t in scores if t in ours],
                      [setting] if setting in {x.id for x in all_settings()} else [])
    report = ImportReport("lmeval-json", results=1, scores=len(scores), models={model},
                          families={family}, settings={setting})
    report.files, report.changed = writer.files, sorted(writer.changed)
    return report
