"""Per-item data for the diagnostics and pass@k tables: the runner's per-sample logs, read
through their compact summaries (formats: evalrunner/results/samples.py and items.py).

Only results the runner wrote have logs. The log of a result is found from its ids
(`<samples>/<family>/<model>/<setting>/<revision>.jsonl.gz`, never from a path inside a result
file) and used only when its sha256 is the one the result's provenance records: a summary
carrying that sha256 is read when present, else the log itself (hashed, then summarised).
Nothing is written. `samples_dir` defaults to `<results>/../samples`, the runner's default.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from evalrunner.results.items import FIELDS, items_path, read_items, summarise_all
from evalrunner.results.samples import log_sha256, sample_path

KEYS = ("family", "model", "setting", "revision")
COLUMNS = [*KEYS, *FIELDS]


@dataclasses.dataclass(frozen=True)
class RunnerResult:
    """One runner result file: its ids and the sha256 of its per-sample log."""

    family: str
    model: str
    setting: str
    revision: str
    samples_sha256: str | None


@dataclasses.dataclass(frozen=True)
class ItemData:
    """`items`: one row per (result, task, item, filter); `missing`: results without a usable
    log, each with the reason."""

    items: pd.DataFrame
    missing: tuple[tuple[str, str], ...] = ()


def default_samples_dir(results_root: Path) -> Path:
    return Path(results_root).resolve().parent / "samples"


def runner_results(results_root: Path, scores: pd.DataFrame) -> list[RunnerResult]:
    """The runner's result files among `scores` (frames contract), with their log sha256,
    read from the files (safe YAML reader)."""
    from evalrunner.results import layout
    from evalrunner.results.read import read_yaml

    rows = scores.loc[scores["source"] == "runner", list(KEYS)].drop_duplicates()
    out = []
    for r in rows.sort_values(list(KEYS)).itertuples(index=False):
        data = read_yaml(layout.result_path(Path(results_root), *r))
        prov = data.get("provenance") if isinstance(data, dict) else None
        sha = prov.get("samples_sha256") if isinstance(prov, dict) else None
        out.append(RunnerResult(*r, samples_sha256=sha if isinstance(sha, str) else None))
    return out


def _rows_for(samples_dir: Path, r: RunnerResult) -> tuple[list[dict], str]:
    """(summary rows, "" ) or ([], why not)."""
    if not r.samples_sha256:
        return [], "no samples_sha256 in provenance"
    log = sample_path(samples_dir, r.family, r.model, r.setting, r.revision)
    summary = items_path(log)
    if summary.is_file():
        try:
            sha, rows = read_items(summary)
        except (OSError, ValueError, json.JSONDecodeError, EOFError, gzip.BadGzipFile) as err:
            sha, rows = "", []
            why = f"unreadable summary {summary.name}: {err}"
        else:
            why = f"summary {summary.name} is of another log"
        if sha == r.samples_sha256:
            return rows, ""
    else:
        why = ""
    if not log.is_file():
        return [], why or f"no per-sample log at {log}"
    blob = log.read_bytes()
    if log_sha256(blob) != r.samples_sha256:
        return [], f"{log.name}: sha256 differs from the result's provenance"
    try:
        lines = [json.loads(line) for line in gzip.decompress(blob).splitlines() if line]
    except (ValueError, EOFError, gzip.BadGzipFile) as err:
        return [], f"{log.name}: unreadable ({err})"
    return summarise_all(lines), ""


def load_items(samples_dir: Path, results: Iterable[RunnerResult]) -> ItemData:
    """Every result's per-item rows (see module docstring)."""
    frames, missing = [], []
    for r in results:
        rows, why = _rows_for(Path(samples_dir), r)
        if why:
            missing.append((f"{r.family}/{r.model}/{r.setting}/{r.revision}", why))
        if rows:
            f = pd.DataFrame(rows, columns=list(FIELDS))
            for k in KEYS:
                f.insert(KEYS.index(k), k, getattr(r, k))
            frames.append(f)
    if not frames:
        return ItemData(pd.DataFrame(columns=COLUMNS), tuple(missing))
    items = pd.concat(frames, ignore_index=True)
    for col in ("ll_gold", "lse_choices", "correct"):
        items[col] = items[col].astype(float)
    for col in ("n_choices", "gold", "n_samples", "n_correct", "doc_id"):
        items[col] = items[col].astype("Int64")
    return ItemData(items, tuple(missing))


def items_for_root(results_root: Path, scores: pd.DataFrame,
                   samples_dir: Path | None = None) -> ItemData:
    """`load_items` for the runner results of a results tree."""
    samples = Path(samples_dir) if samples_dir is not None else default_samples_dir(results_root)
    if not samples.is_dir():
        return ItemData(pd.DataFrame(columns=COLUMNS))
    return load_items(samples, runner_results(results_root, scores))
