"""Shared pieces of the importers: errors, the data folder, ids, published counts, the writer."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

from evalrunner.results.schema import ID_PATTERN, Count, Strict
from evalrunner.results.write import write_file

# Where the published data lives when --from is not given: relative to the working directory,
# as in CI (the repository clone sits beside shared/).
DEFAULT_DATA_DIR = Path("../shared/data")
DATA_ENV = "DENSITOMETER_SHARED_DATA"
MANIFEST = "MANIFEST.csv"


class SourceDataError(Exception):
    """A source file that does not say what the importer expects.

    Carries the file, the field (or row), what was expected and what was found."""

    def __init__(self, path: str | Path, field: str, expected: str, found: object, fix: str = ""):
        self.path, self.field, self.expected, self.found = str(path), field, expected, found
        shown = repr(found)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        msg = f"{path}: {field}: expected {expected}, found {shown}"
        super().__init__(msg + (f"; {fix}" if fix else ""))


def find_data_root(path: Path | None = None) -> Path:
    """The folder holding MANIFEST.csv: `path` itself or one of its parents.

    Without a path: $DENSITOMETER_SHARED_DATA, else ../shared/data relative to the CWD."""
    start = Path(path) if path is not None else Path(os.environ.get(DATA_ENV, DEFAULT_DATA_DIR))
    start = start.resolve()
    for candidate in [start, *start.parents][:4]:
        if (candidate / MANIFEST).is_file():
            return candidate
    raise SourceDataError(start, MANIFEST, "a data folder with MANIFEST.csv (or a folder inside "
                          "one)", "nothing", fix="pass --from ../shared/data")


def shared_data_dir(repo_root: Path) -> Path | None:
    """The data folder for tests: $DENSITOMETER_SHARED_DATA, else ../shared/data beside the
    repository; None when it is not there (tests then skip)."""
    env = os.environ.get(DATA_ENV)
    candidate = Path(env) if env else Path(repo_root).resolve().parent / "shared" / "data"
    return candidate if (candidate / MANIFEST).is_file() else None


# ---------------------------------------------------------------------------------------------
# Ids

_ID = re.compile(ID_PATTERN)


def slug(text: str) -> str:
    """A lowercase id from a name: `Meta-Llama-3.1-8B` -> `meta-llama-3.1-8b`,
    `open_llama_7b` -> `open-llama-7b` (ids allow [a-z0-9._+-])."""
    out = re.sub(r"[^a-z0-9._+-]+", "-", text.strip().lower()).strip("-._")
    if not _ID.match(out):
        raise SourceDataError("<id>", "name", f"a name that makes an id matching {ID_PATTERN}",
                              text)
    return out


# ---------------------------------------------------------------------------------------------
# Published numbers


def cell_number(where: str | Path, field: str, text: str) -> float:
    """A finite number from a table cell; else a SourceDataError naming the file and field."""
    try:
        value = float(text)
    except ValueError as err:
        raise SourceDataError(where, field, "a number", text) from err
    if not math.isfinite(value):
        raise SourceDataError(where, field, "a finite number", text)
    return value


def whole_count(where: str | Path, field: str, value: object) -> int:
    """A count from a JSON value: a positive whole number (an integral float counts); else a
    SourceDataError naming the file and field."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or value != int(value):
        raise SourceDataError(where, field, "a positive whole number", value)
    return int(value)


def cell_fraction(where: str | Path, field: str, text: str) -> float:
    """A score cell: a number in [0, 1]."""
    value = cell_number(where, field, text)
    if not 0.0 <= value <= 1.0:
        raise SourceDataError(where, field, "a fraction in [0, 1]", text)
    return value


def published_count(text: str, unit: int, where: str, field: str) -> Count:
    """A rounded figure as published (`7.0` billions -> 7e9 with precision 1e8).

    The precision is the resolution of the printed number: one unit of its last decimal.
    Decimal arithmetic keeps `0.00222` T exactly 2,220,000,000."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation as err:
        raise SourceDataError(where, field, "a number", text) from err
    if not number.is_finite() or number <= 0:
        raise SourceDataError(where, field, "a positive number", text)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    value = number * unit
    precision = Decimal(1).scaleb(exponent) * unit
    return Count(value=_int_or_float(value), source="published",
                 precision=_int_or_float(precision))


def _int_or_float(x: Decimal) -> int | float:
    return int(x) if x == x.to_integral_value() else float(x)


def count_rank(count: Count | None) -> tuple[int, float]:
    """Which of two counts to keep: exact beats declared beats published; finer beats coarser."""
    if count is None:
        return (-1, 0.0)
    order = {"config": 3, "safetensors": 3, "declared": 2, "published": 1}
    return (order[count.source], -(count.precision or float("inf")))


# ---------------------------------------------------------------------------------------------
# Writing


@dataclass
class Writer:
    """Writes results files under one root and keeps the tally an import reports."""

    root: Path
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def write(self, rel: PurePosixPath, kind: str, obj: Strict) -> None:
        if write_file(self.root, rel, kind, obj):
            self.changed.append(rel.as_posix())
        else:
            self.unchanged.append(rel.as_posix())

    @property
    def files(self) -> list[str]:
        return sorted(self.changed + self.unchanged)


@dataclass
class ImportReport:
    """What one import did; `notes` carry source-specific figures (a match rate)."""

    source: str
    files: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    results: int = 0
    scores: int = 0
    models: set[str] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    settings: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.source}: {self.results} results ({self.scores} scores) for "
                f"{len(self.models)} models in {len(self.families)} families, settings "
                f"{', '.join(sorted(self.settings)) or '-'}; {len(self.files)} files, "
                f"{len(self.changed)} changed")


# ---------------------------------------------------------------------------------------------
# Model facts as one source states them (the catalogue merges them across sources)

# Which source wins when two state the same fact at the same exactness (higher wins).
PRIORITY = {"olmo-ladder": 35, "pythia": 30, "moe-table": 25, "obsscaling": 20, "sloth": 10,
            "cerebras-card": 5, "openlm-grid": 35, "gemstones": 35,
            "architecture-table": 1}  # counts only: exactness already ranks them first


@dataclass(frozen=True)
class ModelFacts:
    id: str
    family: str
    family_name: str  # the family's display name as the source spells it
    name: str
    source: str  # a key of PRIORITY
    hf_id: str | None = None
    params: dict[str, Count] = field(default_factory=dict)  # total, non_embedding, active, ...
    training_tokens: Count | None = None
    kind: str = "base"
    moe: bool = False
    architecture: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def priority(self) -> int:
        return PRIORITY[self.source]
