"""Release dates: Epoch AI's benchmark-stitching data/model_versions.csv, joined by Hugging Face
id (`Hugging Face developer id` + "/" + `id`, case-insensitive), and the reviewed table
release_dates.yaml beside this module for what that file does not state.

A date is taken only from a source that states it for the same weights. Where Epoch's row names
the weights under another id, a reviewed alias says so (ALIASES); where the reviewed table's
source does, its row says so (`same_weights`). No date is ever guessed: a model no source dates
has none. Each date cites its source (Epoch's file and row, or the table row's page) and how
precisely the source states it (`day`, or `month` when only the month is stated).

Precedence, for every model with more than one claim (Epoch's row and the table's rows):

- a table row with `overrides_epoch` replaces the other claims, with its reason reported;
- otherwise two claims agree when their days (or months) lie within one day of each other
  (a time-zone apart). When all agree, the most precise claim is kept, Epoch's first on a tie;
- when any two disagree, the import reports the conflict and keeps the earliest claim (the
  first public release of the weights), citing the claim it contradicts.

No two models share a source row unless the row is a table row whose source says the sizes were
released together (`released_together`); the import refuses an Epoch row matched twice.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from evalrunner.results.layout import MODEL_FILE
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Model, ReleaseDate

from .base import ImportReport, SourceDataError, Writer
from .manifest import Manifest

FILE = "benchmark-stitching/data/model_versions.csv"
REVIEWED = Path(__file__).with_name("release_dates.yaml")
TABLE = "release_dates.yaml"
SOURCE_MAX = 300  # ReleaseDate.source

# Our Hugging Face id -> (Epoch's row key, why it is the same weights). The key is
# `developer id/id`, or the bare `id` for a row without a Hugging Face developer id.
ALIASES: dict[str, tuple[str, str]] = {
    "meta-llama/Llama-2-7b-hf": ("meta-llama/Llama-2-7b", "the -hf repo holds the same release "
                                 "converted to transformers format"),
    "meta-llama/Llama-2-13b-hf": ("meta-llama/Llama-2-13b", "the -hf repo holds the same "
                                  "release converted to transformers format"),
    "meta-llama/Meta-Llama-3.1-405B-FP8": ("meta-llama/Llama-3.1-405B", "the FP8 repo is the "
                                           "same release quantised, published with it"),
    "huggyllama/llama-7b": ("LLaMA-7B", "Meta's LLaMA-7B weights in transformers format"),
    "huggyllama/llama-13b": ("LLaMA-13B", "Meta's LLaMA-13B weights in transformers format"),
    "huggyllama/llama-30b": ("LLaMA-33B", "Meta's 32.5B LLaMA (released as 30B, the paper's "
                             "33B) in transformers format"),
    "huggyllama/llama-65b": ("LLaMA-65B", "Meta's LLaMA-65B weights in transformers format"),
}


@dataclass(frozen=True)
class DateRow:
    index: int  # 1-based data row
    epoch_id: str
    date: dt.date
    developer: str = ""


def read_dates(data_root: Path) -> dict[str, DateRow]:
    """Row key (lowercase `developer/id`, or `id` for rows without a developer id) -> its dated
    row; rows without a date are skipped."""
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
            if not (ident and date):
                continue
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as err:
                raise SourceDataError(path, f"row {i} Version release date", "YYYY-MM-DD",
                                      date) from err
            key = (f"{dev}/{ident}" if dev else ident).lower()
            if key in out and out[key].date != day:
                raise SourceDataError(path, f"row {i}", "one date per model", key)
            out.setdefault(key, DateRow(i, ident, day, dev))
    return out


# ---------------------------------------------------------------------------------------------
# The reviewed table

ROW_KEYS = {"id", "models", "date", "precision", "url", "helm", "says", "released_together",
            "same_weights", "overrides_epoch"}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class ReviewedRow:
    id: str
    models: tuple[str, ...]
    date: dt.date  # the first of the month for precision `month`
    precision: str
    locator: str  # the page, or HELM's file at its commit with the entry name
    says: str
    released_together: bool = False
    same_weights: str = ""
    overrides_epoch: str = ""


def load_reviewed(path: Path = REVIEWED) -> list[ReviewedRow]:
    """The reviewed rows, checked: every row names its source, what it says and its precision;
    a row dating several models says they were released together."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SourceDataError(path, "file", "the reviewed release-date table", str(err)) from err
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise SourceDataError(path, "rows", "a list of rows", type(data).__name__)
    helm = data.get("helm") or {}
    if not all(isinstance(helm.get(k), str) for k in ("repository", "commit", "path")):
        raise SourceDataError(path, "helm", "repository, commit and path of HELM's file", helm)
    helm_at = f"{helm['repository']}@{helm['commit'][:8]} {helm['path']}"
    rows, seen = [], set()
    for n, raw in enumerate(data["rows"], start=1):
        where = f"row {n}"
        if not isinstance(raw, dict):
            raise SourceDataError(path, where, "a mapping", raw)
        if unknown := sorted(set(raw) - ROW_KEYS):
            raise SourceDataError(path, where, f"keys among {sorted(ROW_KEYS)}", unknown)
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid or rid in seen:
            raise SourceDataError(path, f"{where} id", "a unique id", rid)
        seen.add(rid)
        where = f"row {rid}"
        models = raw.get("models")
        if not (isinstance(models, list) and models and all(isinstance(m, str) and "/" in m
                                                            for m in models)):
            raise SourceDataError(path, f"{where} models", "a list of Hugging Face ids", models)
        if len(set(models)) != len(models):
            raise SourceDataError(path, f"{where} models", "distinct ids", models)
        together = raw.get("released_together", False)
        if together is not (len(models) > 1):
            raise SourceDataError(path, f"{where} released_together",
                                  "true exactly when the row dates several models", together,
                                  fix="give each model its own row unless the source says the "
                                  "sizes were released together")
        precision = raw.get("precision")
        text = raw.get("date")
        pattern = {"day": _DAY, "month": _MONTH}.get(precision)
        if pattern is None:
            raise SourceDataError(path, f"{where} precision", "day or month", precision)
        if not (isinstance(text, str) and pattern.match(text)):
            raise SourceDataError(path, f"{where} date", "a quoted 'YYYY-MM-DD' (day) or "
                                  "'YYYY-MM' (month)", text)
        try:
            date = dt.date.fromisoformat(text if precision == "day" else f"{text}-01")
        except ValueError as err:
            raise SourceDataError(path, f"{where} date", "a real date", text) from err
        url, entry = raw.get("url"), raw.get("helm")
        if (url is None) == (entry is None):
            raise SourceDataError(path, f"{where} source", "exactly one of url and helm",
                                  {"url": url, "helm": entry})
        if url is not None and not (isinstance(url, str) and url.startswith("https://")):
            raise SourceDataError(path, f"{where} url", "an https URL", url)
        locator = url if url is not None else f"{helm_at}, entry {entry}"
        says = raw.get("says")
        if not (isinstance(says, str) and says.strip()):
            raise SourceDataError(path, f"{where} says", "what the source states", says)
        texts = {k: raw.get(k) or "" for k in ("same_weights", "overrides_epoch")}
        if not all(isinstance(v, str) for v in texts.values()):
            raise SourceDataError(path, where, "text reasons", texts)
        rows.append(ReviewedRow(rid, tuple(models), date, precision, locator, says.strip(),
                                together, **texts))
    return rows


# ---------------------------------------------------------------------------------------------
# Claims and the precedence rule


@dataclass(frozen=True)
class Claim:
    date: dt.date  # the first of the month for precision `month`
    precision: str
    cite: str  # the full citation
    short: str  # a short name for the claim, cited beside another
    row: tuple[str, str]  # ("epoch", row index) or ("reviewed", row id): the source row
    released_together: bool = False
    override: str = ""

    @property
    def end(self) -> dt.date:
        if self.precision == "day":
            return self.date
        return self.date.replace(day=calendar.monthrange(self.date.year, self.date.month)[1])

    @property
    def text(self) -> str:
        return self.date.isoformat() if self.precision == "day" else self.date.isoformat()[:7]

    def agrees(self, other: Claim) -> bool:
        slack = dt.timedelta(days=1)
        return self.date <= other.end + slack and other.date <= self.end + slack


@dataclass(frozen=True)
class Resolved:
    """The date kept for one model, the source row it came from, and what to report."""

    release_date: ReleaseDate
    row: tuple[str, str]
    released_together: bool
    note: str = ""  # a conflict or an override; empty when the claims agree


def _fit(text: str, fallback: str) -> str:
    return text if len(text) <= SOURCE_MAX else fallback[:SOURCE_MAX]


def resolve(hf_id: str, claims: list[Claim]) -> Resolved:
    """Apply the precedence rule (module docstring) to one model's claims, in order: Epoch's
    first, then the table's rows in file order."""
    if not claims:
        raise ValueError(f"{hf_id}: no claims")

    def kept(c: Claim, source: str, note: str = "") -> Resolved:
        return Resolved(ReleaseDate(date=c.date, precision=c.precision, source=source), c.row,
                        c.released_together, note)

    overrides = [c for c in claims if c.override]
    if len(overrides) > 1:
        raise SourceDataError(TABLE, hf_id, "at most one row overriding Epoch",
                              [c.short for c in overrides])
    if overrides:
        win = overrides[0]
        rest = [c for c in claims if c is not win]
        if not rest:
            return kept(win, win.cite)
        replaced = ", ".join(f"{c.short} ({c.text})" for c in rest)
        return kept(win, _fit(f"{win.cite}; replaces {replaced}", win.cite),
                    f"override: {hf_id} {win.text} from {win.short} replaces {replaced}: "
                    f"{win.override}")
    if all(a.agrees(b) for i, a in enumerate(claims) for b in claims[i + 1:]):
        best = min(enumerate(claims), key=lambda ic: (ic[1].precision != "day", ic[0]))[1]
        return kept(best, best.cite)
    first = min(enumerate(claims), key=lambda ic: (ic[1].date, ic[1].precision != "day",
                                                   ic[0]))[1]
    others = [c for c in claims if c is not first]
    against = ", ".join(f"{c.short} {c.text}" for c in others)
    return kept(first, _fit(f"{first.cite}; earliest; contradicts {against}",
                            f"{first.short}; earliest; contradicts {against}"),
                f"conflict: {hf_id}: {first.short} {first.text} vs {against}; kept the earliest")


@dataclass
class Dates:
    """Resolved dates (lowercase hf id -> Resolved) and what the import reports."""

    resolved: dict[str, Resolved] = field(default_factory=dict)
    epoch_matched: int = 0
    reviewed_matched: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> dict[str, ReleaseDate]:
        return {k: r.release_date for k, r in self.resolved.items()}


def epoch_claims(data_root: Path, hf_ids: list[str]) -> dict[str, Claim]:
    """lowercase hf id -> the claim of its Epoch row (direct join or reviewed alias)."""
    source = Manifest(data_root).source(FILE)
    rows = read_dates(data_root)
    out: dict[str, Claim] = {}
    used: dict[int, str] = {}
    for hf in hf_ids:
        alias = ALIASES.get(hf)
        row = rows.get(alias[0].lower()) if alias else rows.get(hf.lower())
        if row is None or (not alias and not row.developer):
            continue
        if row.index in used:
            raise SourceDataError(data_root / FILE, f"data row {row.index}",
                                  "one model per row", [used[row.index], hf],
                                  fix="an alias may only name a row no other model matches")
        used[row.index] = hf
        how = f"; alias: {alias[1]}" if alias else ""
        out[hf.lower()] = Claim(row.date, "day",
                                source.cite(f"data row {row.index} (id {row.epoch_id}){how}"),
                                f"Epoch row {row.index}", ("epoch", str(row.index)))
    return out


def reviewed_claims(rows: list[ReviewedRow]) -> dict[str, list[Claim]]:
    """lowercase hf id -> the claims of the table rows that date it, in file order."""
    out: dict[str, list[Claim]] = {}
    for r in rows:
        claim = Claim(r.date, r.precision, _fit(f"{r.locator}; {TABLE} row {r.id}",
                                                f"{TABLE} row {r.id}"),
                      f"{TABLE} row {r.id}", ("reviewed", r.id), r.released_together,
                      r.overrides_epoch)
        for hf in r.models:
            out.setdefault(hf.lower(), []).append(claim)
    return out


def resolve_dates(data_root: Path, hf_ids: list[str],
                  reviewed: list[ReviewedRow] | None = None) -> Dates:
    """Every source's claims for these Hugging Face ids, resolved by the precedence rule."""
    reviewed = load_reviewed() if reviewed is None else reviewed
    epoch = epoch_claims(data_root, hf_ids)
    table = reviewed_claims(reviewed)
    out = Dates(epoch_matched=len(epoch))
    for hf in hf_ids:
        key = hf.lower()
        claims = ([epoch[key]] if key in epoch else []) + table.get(key, [])
        if not claims:
            continue
        out.reviewed_matched += key in table
        res = resolve(hf, claims)
        out.resolved[key] = res
        if res.note:
            out.notes.append(res.note)
    wanted = {h.lower() for h in hf_ids}
    if unused := sorted(r.id for r in reviewed if not {m.lower() for m in r.models} & wanted):
        out.notes.append(f"reviewed rows matching no model here: {', '.join(unused)}")
    shared: dict[tuple[str, str], list[str]] = {}
    for hf, res in out.resolved.items():
        shared.setdefault(res.row, []).append(hf)
    for row, members in shared.items():
        if len(members) > 1 and not out.resolved[members[0]].released_together:
            raise SourceDataError(TABLE if row[0] == "reviewed" else FILE, f"{row[0]} row "
                                  f"{row[1]}", "one model per source row", members)
    return out


def release_dates(data_root: Path, hf_ids: list[str]) -> dict[str, ReleaseDate]:
    """lowercase hf id -> ReleaseDate, for the ids some source dates."""
    return resolve_dates(data_root, hf_ids).dates


def run(data_root: Path, writer: Writer, report: ImportReport) -> None:
    """Set release dates in every model.yaml under the results root that has a Hugging Face id
    a source dates; report the match rates, conflicts and overrides."""
    models = {}
    for path in sorted(writer.root.glob(f"*/*/{MODEL_FILE}")):
        try:
            models[path] = Model.model_validate(read_yaml(path))
        except (ReadError, ValueError) as err:
            raise SourceDataError(path, "file", "a valid model.yaml", str(err)) from err
    with_hf = {p: m for p, m in models.items() if m.hf_id}
    found = resolve_dates(data_root, sorted({m.hf_id for m in with_hf.values() if m.hf_id}))
    dates = found.dates
    matched = 0
    for path, model in with_hf.items():
        date = dates.get((model.hf_id or "").lower())
        if date is None:
            continue
        matched += 1
        rel = PurePosixPath(path.relative_to(writer.root).as_posix())
        writer.write(rel, "model", model.model_copy(update={"release_date": date}))
        report.models.add(model.id)
    n = len(with_hf)

    def rate(k: int) -> str:
        return f"{k} of {n} models with a Hugging Face id ({k / n if n else 0.0:.1%})"

    report.notes.append(f"Epoch rows: {rate(found.epoch_matched)}")
    report.notes.append(f"reviewed table ({TABLE}): {rate(found.reviewed_matched)}")
    report.notes.append(f"release dates: {rate(matched)} dated")
    report.notes.extend(found.notes)
