"""The methodology page, generated from the metric registry (evalrunner/metrics/registry.py)
plus the site's own rules (leaderboard average, interval and tie ranks; formatting).

Context: `MethodologyPage` with one `MetricDoc` per registry entry, in registry order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import fmt
from ..data import SiteData
from ..leaderboard import CORE_COVERAGE
from ..render import Page

MAIN_FIELDS = ("name", "id", "column", "title", "description")


@dataclass(frozen=True)
class MetricDoc:
    name: str
    title: str
    description: str
    facts: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class MethodologyPage:
    metrics: list[MetricDoc]
    core_coverage: str
    z95: str
    score_digits: int
    note: str = ""


def _doc(entry: dict[str, Any]) -> MetricDoc:
    name = str(entry.get("name") or entry.get("id") or entry.get("column") or "?")
    title = str(entry.get("title") or entry.get("label") or name)
    facts = [(k.replace("_", " "), _text(v)) for k, v in entry.items()
             if k not in MAIN_FIELDS and not fmt.is_missing(v) and v not in ("", (), [])]
    return MetricDoc(name, title, str(entry.get("description") or ""), facts)


def _text(v: Any) -> str:
    if isinstance(v, list | tuple | set | frozenset):
        return ", ".join(str(x) for x in v)
    return str(getattr(v, "value", v))


def methodology_page(data: SiteData) -> Page:
    ctx = MethodologyPage([_doc(e) for e in data.registry], f"{CORE_COVERAGE:.0%}",
                          f"{fmt.Z95:.2f}", fmt.SCORE_DIGITS,
                          "" if data.registry else "The metric registry is not available.")
    return Page("methodology/index.md", "methodology.md.j2", ctx, "Methodology")
