"""The per-item summary format: compact summaries of a per-sample log (results/samples.py),
what the continuous-metric diagnostics and pass@k need, without re-reading prompts and
documents.

One row per (task, item, filter), from lm-eval's own numbers (nothing re-scored):

    loglikelihood / multiple_choice   n_choices, gold, ll_gold = log p(gold | prompt) (summed
                                      over its tokens), lse_choices = ln sum_j p(choice_j),
                                      correct = the task's per-item acc (argmax / greedy)
    generate_until                    n_samples = responses kept by the filter (lm-eval
                                      `repeats`), n_correct = round(per-item metric x n_samples)
                                      where the metric is a per-item pass rate in [0, 1]

The runner writes the summary beside the log as `<revision>.items.json.gz` with the log's
sha256 (run/items.py), so a summary is only ever used with the log (and result file) it came
from; the metrics stage reads it, or summarises the log itself (metrics/itemdata.py). Nothing
here writes a file.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

from .samples import gold_index

FIELDS = ("task", "doc_id", "filter", "output_type", "n_choices", "gold", "ll_gold", "lse_choices",
          "correct", "n_samples", "n_correct")
PASS_METRICS = ("exact_match", "acc", "pass@1")  # per-item pass rates, first found wins


def items_path(log_path: Path) -> Path:
    """`.../<revision>.jsonl.gz` -> `.../<revision>.items.json.gz`."""
    name = Path(log_path).name.removesuffix(".jsonl.gz")
    return Path(log_path).with_name(f"{name}.items.json.gz")


def _float(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _logliks(resps: Any) -> list[float] | None:
    """[[ll, is_greedy]] per candidate -> the lls; None when resps are not log-likelihoods.
    (In memory the pairs are tuples, in the JSON log lists.)"""
    if not isinstance(resps, list | tuple) or not resps:
        return None
    out = []
    for r in resps:
        first = r[0] if isinstance(r, list | tuple) and r else None
        if not (isinstance(first, list | tuple) and len(first) == 2):
            return None
        ll = _float(first[0])
        if ll is None:
            return None
        out.append(ll)
    return out


def _logsumexp(values: list[float]) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def summarise(sample: dict[str, Any]) -> dict[str, Any] | None:
    """One log line (a task's item under one filter) -> its summary row, or None if the line
    carries neither log-likelihoods nor a per-item pass rate."""
    row = dict.fromkeys(FIELDS)
    row.update(task=sample.get("task"), doc_id=sample.get("doc_id"), filter=sample.get("filter"))
    lls = _logliks(sample.get("resps"))
    if lls is not None:
        kind = "loglikelihood" if len(lls) == 1 else "multiple_choice"
        gold = gold_index(sample, kind)
        if gold is None or not 0 <= gold < len(lls):
            return None
        correct = _float(sample.get("acc"))
        if correct is None:  # no acc logged: argmax (MC) or lm-eval's is_greedy flag (LL)
            greedy = sample["resps"][0][0][1]
            correct = float(lls.index(max(lls)) == gold) if len(lls) > 1 else float(
                greedy in (True, "True"))
        row.update(output_type=kind, n_choices=len(lls), gold=gold, ll_gold=lls[gold],
                   lse_choices=_logsumexp(lls), correct=correct)
        return row
    # one request per item; its filtered answer is a string, or a list of n under repeats
    kept = sample.get("filtered_resps")
    first = kept[0] if isinstance(kept, list | tuple) and len(kept) == 1 else None
    n = len(first) if isinstance(first, list | tuple) else 1
    for name in PASS_METRICS:
        rate = _float(sample.get(name))
        if rate is not None and 0.0 <= rate <= 1.0:
            c = round(rate * n)
            if abs(rate * n - c) > 1e-6:
                return None  # not a pass rate over the kept responses
            row.update(output_type="generate_until", n_samples=n, n_correct=c, correct=rate)
            return row
    return None


def summarise_all(samples: dict[str, list[dict[str, Any]]] | list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """Every summarisable line, tasks in name order (a dict: lm-eval's samples by task; a list:
    the lines of a log, which carry their task)."""
    lines = ([{"task": t, **s} for t in sorted(samples) for s in samples[t]]
             if isinstance(samples, dict) else samples)
    return [r for r in map(summarise, lines) if r is not None]


def render(rows: list[dict[str, Any]], samples_sha256: str) -> bytes:
    """Deterministic gzip JSON: the log's sha256, the field names and one list per row."""
    doc = {"samples_sha256": samples_sha256, "fields": list(FIELDS),
           "rows": [[r[f] for f in FIELDS] for r in rows]}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8"))
    return buf.getvalue()


def read_items(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(the log's sha256, rows) of a summary file; ValueError if it is not one."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or doc.get("fields") != list(FIELDS):
        raise ValueError(f"{path}: not a per-item summary (fields {doc.get('fields')!r})")
    return str(doc.get("samples_sha256")), [dict(zip(FIELDS, r, strict=True))
                                            for r in doc["rows"]]
