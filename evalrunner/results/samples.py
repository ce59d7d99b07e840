"""The per-sample log format: lm-eval's `samples`, one JSON line per (task, item, filter),
gzip-compressed deterministically (no timestamp in the header). Each runner result file names
its log by the sha256 of the compressed bytes (provenance.samples_sha256); the log itself is
kept outside results/.

Layout: `<samples_dir>/<family>/<model>/<setting>/<revision>.jsonl.gz`.

A record is lm-eval's sample with its task added (`{"task": ..., "doc_id": ..., "target": ...,
"arguments": ..., "resps": ..., "filtered_resps": ..., <per-item metrics>}`), keys sorted.

Defined here, with the results, because both ends use it: the runner writes the logs
(run/samples.py, atomically) and the metrics stage reads them (metrics/itemdata.py). Nothing
here writes a file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any


def sample_path(samples_dir: Path, family: str, model: str, setting: str, revision: str) -> Path:
    return Path(samples_dir) / family / model / setting / f"{revision}.jsonl.gz"


def _plain(obj: Any) -> Any:
    """JSON for what lm-eval keeps in samples: numpy scalars, tuples, sets, the odd object."""
    if hasattr(obj, "item") and callable(obj.item):
        try:
            return obj.item()
        except (TypeError, ValueError):
            pass
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    return str(obj)


def render(samples: dict[str, list[dict[str, Any]]]) -> bytes:
    """Tasks in name order, items in lm-eval's order, keys sorted: the same run, the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        for task in sorted(samples):
            for sample in samples[task]:
                line = json.dumps({"task": task, **sample}, sort_keys=True, default=_plain,
                                  ensure_ascii=False, allow_nan=True)
                gz.write(line.encode("utf-8") + b"\n")
    return buf.getvalue()


def log_sha256(blob: bytes) -> str:
    """The sha256 (hex) of a log's compressed bytes, as provenance.samples_sha256 records it."""
    return hashlib.sha256(blob).hexdigest()


def read_samples(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def gold_index(sample: dict[str, Any], output_type: str) -> int | None:
    """The index of a record's gold answer among its candidates (`arguments`), or None where
    it has several gold answers or none that can be found."""
    if output_type == "loglikelihood":
        return 0
    target = sample.get("target")
    if isinstance(target, bool):
        return None
    if isinstance(target, int):
        return target
    if isinstance(target, str):
        choices = [cont.strip() for _, cont in sample.get("arguments", [])]
        if target.strip() in choices:
            return choices.index(target.strip())
        if target.isdigit():
            return int(target)
    return None  # several gold answers: no single conditional loss
