"""`densitometer import report`: another party's results, from an Every Eval Ever record (JSON)
or a Hugging Face `.eval_results/*.yaml` file, into the `reported` tier and the `reported`
setting: shown on model pages and downloadable, never in a fit, a density or a ranking.

The file is untrusted: JSON strictly parsed (no NaN), YAML with `safe_load`, every value
checked, every string length-bounded by the schema, and the result written only under the
model's own folder. A score is kept only for a task the registry knows (by its id, or mapped
with `--task SOURCE=OURS`): others are listed as left out, never given an invented chance
level. Scale: an Every Eval Ever record says it (its metric's maximum, 1 or 100, or its unit);
a Hub file does not, so `--scale fraction|percent` is required for it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from evalrunner.results.layout import result_path
from evalrunner.results.schema import (
    MetricValue,
    ReportProvenance,
    Result,
    Revision,
    Score,
    Url,
)

from .base import ImportReport, SourceDataError, Writer
from .registry import registered, upsert_registries

SETTING = "reported"
MAX_BYTES = 2_000_000


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _number(path: Path, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SourceDataError(path, field, "a finite number", value)
    return float(value)


def _text(value: Any, limit: int = 200) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int | float) and str(value) else None


_URL = TypeAdapter(Url)


def _url(value: Any) -> str | None:
    """The value if it is a URL the results schema accepts, else None."""
    try:
        return _URL.validate_python(value)
    except ValidationError:
        return None


def _scale(path: Path, field: str, metric: dict) -> float:
    """100 for a percent metric, 1 for a fraction; an error for anything else."""
    unit = str(metric.get("metric_unit", "")).lower()
    top = metric.get("max_score")
    if top == 100 or unit in ("percent", "%"):
        return 100.0
    if top == 1 or unit in ("proportion", "fraction"):
        return 1.0
    raise SourceDataError(path, field, "max_score 1 or 100, or metric_unit proportion or "
                          "percent (a score's scale)", top if top is not None else unit)


def _eee_scores(path: Path, doc: dict, tasks: dict[str, str]) -> tuple[dict, list[str], dict]:
    results = doc.get("evaluation_results")
    if not isinstance(results, list) or not results:
        raise SourceDataError(path, "evaluation_results", "a non-empty list", type(results))
    scores: dict[str, Score] = {}
    left: list[str] = []
    for i, r in enumerate(results):
        where = f"evaluation_results[{i}]"
        if not isinstance(r, dict):
            raise SourceDataError(path, where, "an object", type(r).__name__)
        name = str(r.get("evaluation_name", ""))[:200]
        task = tasks.get(name)
        if task is None:
            left.append(f"{name}: not a task of the registry (map it with --task)")
            continue
        metric = r.get("metric_config") if isinstance(r.get("metric_config"), dict) else {}
        details = r.get("score_details") if isinstance(r.get("score_details"), dict) else {}
        scale = _scale(path, f"{where}.metric_config", metric)
        value = _number(path, f"{where}.score_details.score", details.get("score")) / scale
        if not 0 <= value <= 1:
            raise SourceDataError(path, f"{where}.score_details.score",
                                  f"a score in [0, {scale:g}]", details.get("score"))
        unc = details.get("uncertainty") if isinstance(details.get("uncertainty"), dict) else {}
        se = unc.get("standard_error") if isinstance(unc.get("standard_error"), dict) else {}
        stderr = (_number(path, f"{where}...standard_error.value", se["value"]) / scale
                  if "value" in se else None)
        n = unc.get("num_samples")
        items = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None
        name_metric = _text(metric.get("metric_id")) or "score"
        if task in scores:  # a second metric of the same task: beside the first
            scores[task].extra[name_metric[:60]] = MetricValue(value=value, stderr=stderr)
            continue
        scores[task] = Score(metric=name_metric[:60], value=value, stderr=stderr,
                             n_items=items, converted_from="percent" if scale == 100 else None)
    source = doc.get("source_metadata") if isinstance(doc.get("source_metadata"), dict) else {}
    meta = {"reporter": _text(source.get("source_organization_name")),
            "relationship": _text(source.get("evaluator_relationship"), 40),
            "url": _url(source.get("source_organization_url")),
            "date": _text(doc.get("evaluation_timestamp"), 40)}
    return scores, left, meta


def _hub_scores(path: Path, doc: Any, tasks: dict[str, str],
                scale: str | None) -> tuple[dict, list[str], dict]:
    if scale not in ("fraction", "percent"):
        raise SourceDataError(path, "--scale", "fraction or percent (a Hub file does not say)",
                              scale)
    if not isinstance(doc, list) or not doc:
        raise SourceDataError(path, "top level", "a non-empty list of results", type(doc))
    div = 100.0 if scale == "percent" else 1.0
    scores: dict[str, Score] = {}
    left: list[str] = []
    meta: dict[str, str | None] = {}
    for i, entry in enumerate(doc):
        where = f"entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), dict):
            raise SourceDataError(path, f"{where}.dataset", "an object with id and task_id",
                                  entry if not isinstance(entry, dict) else entry.get("dataset"))
        ds = entry["dataset"]
        key = f"{ds.get('id')}:{ds.get('task_id')}"[:200]
        task = tasks.get(key) or tasks.get(str(ds.get("id"))[:200])
        if task is None:
            left.append(f"{key}: not a task of the registry (map it with --task)")
            continue
        value = _number(path, f"{where}.value", entry.get("value")) / div
        if not 0 <= value <= 1:
            raise SourceDataError(path, f"{where}.value", f"a {scale} score", entry.get("value"))
        if task in scores:
            raise SourceDataError(path, where, "one entry per task (a variant goes in its own "
                                  "file)", key)
        scores[task] = Score(metric="score", value=value,
                             converted_from="percent" if div == 100 else None)
        src = entry.get("source") if isinstance(entry.get("source"), dict) else {}
        meta = {"reporter": _text(src.get("org") or src.get("user") or src.get("name")),
                "url": _url(src.get("url")), "date": _text(entry.get("date"), 40),
                "relationship": None}
    return scores, left, meta


def import_report(path: Path, into: Path, model: str, task_map: dict[str, str] | None = None,
                  scale: str | None = None, revision: str | None = None) -> ImportReport:
    """One report file -> one result of `model` in the `reported` setting."""
    path, into = Path(path), Path(into)
    if not path.is_file():
        raise SourceDataError(path, "file", "an Every Eval Ever .json or a Hub .yaml", "nothing")
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise SourceDataError(path, "size", f"at most {MAX_BYTES:,} bytes", len(raw))
    known, _ = registered(into)
    tasks = {t: t for t in known} | {k: v for k, v in (task_map or {}).items() if v in known}
    if bad := sorted(v for v in (task_map or {}).values() if v not in known):
        raise SourceDataError("--task", "OURS", "a task id of the registry", bad)
    fmt = "every-eval-ever" if path.suffix == ".json" else "hf-eval-results"
    try:
        doc = (json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
               if fmt == "every-eval-ever" else yaml.safe_load(raw.decode("utf-8")))
    except (ValueError, yaml.YAMLError) as exc:
        raise SourceDataError(path, "file", "valid JSON" if fmt == "every-eval-ever" else
                              "valid YAML", str(exc)[:200]) from None
    if fmt == "every-eval-ever":
        if not isinstance(doc, dict):
            raise SourceDataError(path, "top level", "an object", type(doc).__name__)
        scores, left, meta = _eee_scores(path, doc, tasks)
    else:
        scores, left, meta = _hub_scores(path, doc, tasks, scale)
    if not scores:
        raise SourceDataError(path, "tasks", "at least one task the registry knows",
                              "; ".join(left)[:300], fix="map them with --task SOURCE=OURS")
    homes = sorted(into.glob(f"*/{model}/model.yaml"))
    if len(homes) != 1:
        raise SourceDataError(into, "model", f"one {model}/model.yaml under the results root",
                              [str(h) for h in homes], fix="import or add the model first")
    family = homes[0].parent.parent.name
    digest = hashlib.sha256(raw).hexdigest()
    rev = revision or f"{'eee' if fmt == 'every-eval-ever' else 'hub'}-{digest[:12]}"
    try:
        result = Result(model=model, setting=SETTING, revision=Revision(id=rev),
                        tier="reported", scores=scores, provenance=ReportProvenance(
                            kind="report", format=fmt, file=path.name[:300], sha256=digest,
                            **meta, notes="; ".join(f"left out {x}" for x in left)[:2000]))
    except ValidationError as exc:
        raise SourceDataError(path, "result", "values the results schema accepts",
                              str(exc).splitlines()[0]) from None
    writer = Writer(into)
    writer.write(PurePosixPath(result_path(Path(), family, model, SETTING, rev).as_posix()),
                 "result", result)
    upsert_registries(writer, [], [SETTING])
    report = ImportReport("report", results=1, scores=len(scores), models={model},
                          families={family}, settings={SETTING})
    report.skipped = left
    report.files, report.changed = writer.files, sorted(writer.changed)
    return report
