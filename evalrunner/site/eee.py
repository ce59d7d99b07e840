"""Every Eval Ever export: each evaluated revision in each setting as one aggregate record of the
community's shared schema (evaleval/every_eval_ever, schema 0.3.0), so results travel.

One archive, `api/v1/eee.zip`, holds `data/<setting>/<developer>/<model>/<uuid>.json`, the
datastore layout the schema's validator checks, and `index.csv` (record -> model, setting,
revision, tier, result file): thousands of small records, about 120 MB of JSON, that compress
many times over; the archive is written byte for byte the same for the same results and
stamp. The uuid is fixed by the result file's path (a version-4-shaped digest), so a record
keeps its name across builds. Our tier goes into the evaluator relationship (reproduced:
third party; published and submitted: other) and, verbatim, into the source's additional
details; the checkpoint step, tokens seen and parameter counts go into the model's.
Built from the loaded frames alone: every value here is one the results tree validated.
With the build's store (evalrunner.memo) each record is kept under the digest of what it is
made of (its file's score rows, its model's row, the registries, the day), so a rebuild after
one new result makes one record; the zip of an unchanged tree is kept whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import uuid
import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalrunner.memo import frame_digest

from . import fmt
from .data import SiteData
from .pagecache import grouped_digests
from .tables import frame_csv

if TYPE_CHECKING:
    from evalrunner.memo import Memo

SCHEMA_VERSION = "0.3.0"
ARCHIVE = "api/v1/eee.zip"
KIND = "eee"  # the archive in the build's store (evalrunner.memo), by the digest of its inputs
RECORD_KIND = "eee-record"  # one record, by the digest of what it is made of
RELATIONSHIP = {"reproduced": "third_party", "published": "other", "submitted": "other"}
SOURCE_TYPE = {"reproduced": "evaluation_run"}  # else documentation: aggregates only
LIBRARIES = {"lm-evaluation-harness": "lm_eval", "lighteval (Hugging Face)": "lighteval"}
# deflate level: at 10,000 records (180 MB of JSON) level 3 takes 0.43 s of CPU for 20.4 MB
# of members, level 6 (zlib's default) 1.1 s for 18.8 MB; the whole zip is deflated again
# on every change, so the faster one
LEVEL = 3
NOT_FRACTIONS = {"perplexity", "likelihood_difference"}  # extra metrics with no upper bound


def _text(x: Any) -> str | None:
    """A value as the schema's string-only details want it; None when missing."""
    if fmt.is_missing(x):
        return None
    if isinstance(x, float | np.floating) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _details(**kw: Any) -> dict[str, str]:
    return {k: t for k, v in kw.items() if (t := _text(v)) is not None}


def record_uuid(path: str) -> str:
    """A uuid of version-4 form fixed by the result file's path."""
    return str(uuid.UUID(bytes=hashlib.blake2b(path.encode(), digest_size=16).digest(),
                         version=4))


def model_identity(model: dict[str, Any]) -> str:
    """The Hugging Face id where there is one, else `<family>/<model>` (a research run)."""
    return model["hf_id"] if not fmt.is_missing(model["hf_id"]) else \
        f"{model['family']}/{model['model']}"


def epoch_of(stamp: str) -> str:
    """The day of the build stamp ('2026-12-07 12:15 UTC') as Unix seconds, the schema's
    timestamp form: records are dated by the day they were made, so the builds of one day
    share an archive. A stamp that is not a time (a test's fixed label) gives 0."""
    from .build import STAMP_FORMAT

    try:
        when = dt.datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return "0"
    return str(int(when.replace(hour=0, minute=0).timestamp()))


def inputs_key(data: SiteData, stamp: str) -> str:
    """Digest of what the archive is made of besides the code: every results file, the day."""
    h = hashlib.blake2b(digest_size=16)
    for rel, digest in sorted(data.digests.items()):
        h.update(f"{rel}\0{digest}\0".encode())
    h.update(epoch_of(stamp).encode())
    return h.hexdigest()


def _result(row: Any, task: dict[str, Any] | None) -> dict[str, Any]:
    fraction = row.primary or str(row.metric).startswith("acc")
    unbounded = not fraction or row.metric in NOT_FRACTIONS
    score: dict[str, Any] = {"score": float(row.value)}
    uncertainty: dict[str, Any] = {}
    if not fmt.is_missing(row.stderr):
        uncertainty["standard_error"] = {"value": float(row.stderr), "method": "as reported"}
    if not fmt.is_missing(row.n_items):
        uncertainty["num_samples"] = int(row.n_items)
    if uncertainty:
        score["uncertainty"] = uncertainty
    score["details"] = _details(n_shot=row.n_shot, headline_metric=str(bool(row.primary)).lower(),
                                aggregate_of_subtasks="true" if row.aggregate else None)
    name = task["name"] if task else row.task
    description = task["description"] if task and not fmt.is_missing(task["description"]) \
        else name
    return {
        "evaluation_result_id": f"{row.task}/{row.metric}",
        "evaluation_name": str(row.task),
        "source_data": {"dataset_name": str(name), "source_type": "other",
                        "additional_details": _details(task=row.task, n_shot=row.n_shot)},
        "metric_config": {
            "evaluation_description": str(description),
            "metric_id": str(row.metric), "metric_name": str(row.metric),
            "metric_unit": "raw" if unbounded else "proportion",
            "lower_is_better": bool(task and task["direction"] == "lower"
                                    or row.metric in NOT_FRACTIONS),
            "score_type": "continuous",
            "min_score": "-Infinity" if unbounded else 0.0,
            "max_score": "Infinity" if unbounded else 1.0},
        "score_details": score,
    }


def _organisation(source: str) -> str:
    """Who provides the numbers: a source repository's owner, a submitter, or us."""
    if source.startswith("import:"):
        return source.removeprefix("import:").split("/")[0]
    for kind in ("submission:", "report:"):
        if source.startswith(kind):
            return source.removeprefix(kind)
    return "Densitometer"


def _model_info(model: dict[str, Any], identity: str, head: Any,
                organisation: Any) -> dict[str, Any]:
    return {
        "name": str(model["name"] if not fmt.is_missing(model["name"]) else model["model"]),
        "id": identity,
        **({"developer": str(organisation)} if not fmt.is_missing(organisation) else {}),
        "additional_details": {
            "deployment_type": "self_deployed" if head.tier == "reproduced" else "unknown",
            "model_availability": "open_weights" if bool(model["open_weights"])
            and not fmt.is_missing(model["hf_id"]) else "unknown",
            **_details(densitometer_model=head.model, family=model["family"],
                       revision=head.revision, step=head.step, tokens_seen=head.tokens,
                       final_revision=str(bool(head.final)).lower(),
                       params_total=model["n_total"],
                       params_non_embedding=model["n_non_embedding"],
                       params_active=model["n_active"], params_used_by_fits=model["n_fit"],
                       params_basis=model["n_fit_basis"],
                       training_tokens=model["training_tokens"])}}


def record(rows: list[Any], model: dict[str, Any], setting: dict[str, Any],
           tasks: dict[str, dict[str, Any]], organisation: Any, when: str) -> dict[str, Any]:
    """The record of one result file (its score rows, all of one path)."""
    head = rows[0]
    identity = model_identity(model)
    return {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": f"{head.setting}/{identity}@{head.revision}/{when}",
        "retrieved_timestamp": when,
        "source_metadata": {
            "source_name": f"Densitometer: {setting['name']}",
            "source_type": SOURCE_TYPE.get(head.tier, "documentation"),
            "source_organization_name": _organisation(str(head.source)),
            "evaluator_relationship": RELATIONSHIP.get(head.tier, "other"),
            "additional_details": _details(
                densitometer_tier=head.tier, densitometer_source=head.source,
                densitometer_setting=head.setting, densitometer_result=head.path,
                setting_source=setting["source"] or None)},
        "eval_library": {
            "name": LIBRARIES.get(setting["harness"], str(setting["harness"])),
            "version": str(setting["harness_version"]) or "unknown",
            "additional_details": _details(harness=setting["harness"])},
        "model_info": _model_info(model, identity, head, organisation),
        "evaluation_results": [_result(r, tasks.get(r.task)) for r in rows],
    }


def _by_key(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in frame.to_dict("records")}


def _made(rows: list[Any], model: dict[str, Any], setting: dict[str, Any],
          tasks: dict[str, dict[str, Any]], organisation: Any, when: str) -> dict[str, Any]:
    """{"file": path in the archive, "text": the record's JSON, "index": its index row}."""
    head = rows[0]
    doc = record(rows, model, setting, tasks, organisation, when)
    developer, name = doc["model_info"]["id"].split("/", 1)
    rel = f"data/{head.setting}/{developer}/{name.replace('/', '_')}/{record_uuid(head.path)}.json"
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, sort_keys=True,
                      separators=(",", ":"))
    return {"file": rel, "text": text,
            "index": {"file": rel, "model": head.model, "setting": head.setting,
                      "revision": head.revision, "tier": head.tier, "result": head.path}}


def _is_made(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("file"), str)
            and isinstance(doc.get("text"), str) and isinstance(doc.get("index"), dict))


def records(data: SiteData, stamp: str, memo: Memo | None = None) -> dict[str, str]:
    """Every record, keyed by its path inside the archive, and the index."""
    f = data.frames
    models, settings = _by_key(f.models, "model"), _by_key(f.settings, "setting")
    tasks = _by_key(f.tasks, "task")
    organisation = f.families.set_index("family")["organisation"].to_dict()
    when = epoch_of(stamp)
    # a result file's rows are one run: the scores are sorted by model, setting, revision
    paths = f.scores["path"].to_numpy(object)
    starts = np.flatnonzero(np.r_[True, paths[1:] != paths[:-1]]) if len(paths) else \
        np.zeros(0, dtype=int)
    ends = np.r_[starts[1:], len(paths)].astype(int)
    if len(set(paths[starts])) != len(starts):
        raise ValueError("a result file's rows are not contiguous in the scores frame")

    def make(which: list[int]) -> list[dict[str, Any]]:
        # the score rows as tuples only for the records made (iterating them all is seconds),
        # consecutive records' from one slice of the frame (a view: a first build copies none)
        out = []
        for run in np.split(np.asarray(which), np.flatnonzero(np.diff(which) != 1) + 1):
            it = f.scores.iloc[starts[run[0]]:ends[run[-1]]].itertuples(index=False)
            for i in run:
                group = list(itertools.islice(it, ends[i] - starts[i]))
                model = models[group[0].model]
                out.append(_made(group, model, settings[group[0].setting], tasks,
                                 organisation.get(model["family"]), when))
        return out

    if memo is not None and memo.enabled:
        shared = b"".join(frame_digest(t) for t in (f.tasks, f.settings, f.families)) + \
            when.encode()
        by_path = grouped_digests(f.scores, f.scores["path"])
        by_model = grouped_digests(f.models, f.models["model"])
        keys = [memo.key(RECORD_KIND, shared, by_path[p], by_model[m])
                for p, m in zip(paths[starts], f.scores["model"].to_numpy(object)[starts],
                                strict=True)]
        made = memo.json_many(RECORD_KIND, keys, make, lambda _i, doc: _is_made(doc))
    else:
        made = make(list(range(len(starts)))) if len(starts) else []
    out = {m["file"]: m["text"] for m in made}
    out["index.csv"] = frame_csv(pd.DataFrame(
        [m["index"] for m in made],
        columns=["file", "model", "setting", "revision", "tier", "result"]))
    return out


def archive(data: SiteData, stamp: str, memo: Memo | None = None) -> bytes:
    """The records as one zip, entries sorted and dated 1980-01-01: the same bytes for the
    same results and stamp (`memo`: the build's store, for the records)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in sorted(records(data, stamp, memo).items()):
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            # a ZipInfo member takes its level here, not from ZipFile(compresslevel=...)
            zf.writestr(info, text.encode("utf-8"), compresslevel=LEVEL)
    return buf.getvalue()
