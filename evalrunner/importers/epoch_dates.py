"""Release dates from Epoch AI's benchmark-stitching data/model_versions.csv, joined by Hugging
Face id (`Hugging Face developer id` + "/" + `id`, case-insensitive).

A date is taken only from a row that names the same weights; where the ids differ a reviewed
alias says so (ALIASES). No date is ever guessed: a model without a matching row has none, and
the import reports the match rate. Each date cites the file and its row.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evalrunner.results.layout import MODEL_FILE
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Model, ReleaseDate

from .base import ImportReport, SourceDataError, Writer
from .manifest import Manifest

FILE = "benchmark-stitching/data/model_versions.csv"

# Our Hugging Face id -> Epoch's (developer id / id) for the same weights under another name.
ALIASES: dict[str, tuple[str, str]] = {
    "meta-llama/Llama-2-7b-hf": ("meta-llama/Llama-2-7b", "the -hf repo holds the same release "
                                 "converted to transformers format"),
    "meta-llama/Llama-2-13b-hf": ("meta-llama/Llama-2-13b", "the -hf repo holds the same "
                                  "release converted to transformers format"),
    "meta-llama/Meta-Llama-3.1-405B-FP8": ("meta-llama/Llama-3.1-405B", "the FP8 repo is the "
                                           "same release quantised, published with it"),
}


@dataclass(frozen=True)
class DateRow:
    index: int  # 1-based data row
    epoch_id: str
    date: dt.date


def read_dates(data_root: Path) -> dict[str, DateRow]:
    """lowercase `developer/id` -> its dated row (rows without a date or developer id skipped)."""
    path = data_root / FILE
    if not path.is_file():
        raise SourceDataError(path, "file", "Epoch's model_versions.csv", "nothing")
    out: dict[str, DateRow] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        need = ("id", "Version release date", "Hugging Face developer id")
        if missing := [c for c in need if c not in (reader.fieldnames or [])]:
            raise SourceDataError(path, "header", f"columns {need}", missing)
        for i, r in enumerate(reader, start=1):
            dev, ident, date = (r[c].strip() for c in ("Hugging Face developer id", "id",
                                                       "Version release date"))
            if not (dev and ident and date):
                continue
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as err:
                raise SourceDataError(path, f"row {i} Version release date", "YYYY-MM-DD",
                                      date) from err
            key = f"{dev}/{ident}".lower()
            if key in out and out[key].date != day:
                raise SourceDataError(path, f"row {i}", "one date per model", key)
            out.setdefault(key, DateRow(i, ident, day))
    return out


def release_dates(data_root: Path, hf_ids: list[str]) -> dict[str, ReleaseDate]:
    """lowercase hf id -> ReleaseDate, for the ids that have a matching dated row."""
    source = Manifest(data_root).source(FILE)
    rows = read_dates(data_root)
    out = {}
    for hf in hf_ids:
        alias = ALIASES.get(hf)
        row = rows.get((alias[0] if alias else hf).lower())
        if row is None:
            continue
        how = f"; alias: {alias[1]}" if alias else ""
        out[hf.lower()] = ReleaseDate(date=row.date, source=source.cite(
            f"data row {row.index} (id {row.epoch_id}){how}"))
    return out


def run(data_root: Path, writer: Writer, report: ImportReport) -> None:
    """Set release dates in every model.yaml under the results root that has a Hugging Face id
    with a matching row; report the match rate."""
    models = {}
    for path in sorted(writer.root.glob(f"*/*/{MODEL_FILE}")):
        try:
            models[path] = Model.model_validate(read_yaml(path))
        except (ReadError, ValueError) as err:
            raise SourceDataError(path, "file", "a valid model.yaml", str(err)) from err
    with_hf = {p: m for p, m in models.items() if m.hf_id}
    dates = release_dates(data_root, sorted({m.hf_id for m in with_hf.values() if m.hf_id}))
    matched = 0
    for path, model in with_hf.items():
        date = dates.get((model.hf_id or "").lower())
        if date is None:
            continue
        matched += 1
        rel = PurePosixPath(path.relative_to(writer.root).as_posix())
        writer.write(rel, "model", model.model_copy(update={"release_date": date}))
        report.models.add(model.id)
    rate = matched / len(with_hf) if with_hf else 0.0
    report.notes.append(f"release dates: {matched} of {len(with_hf)} models with a Hugging "
                        f"Face id matched ({rate:.1%})")
