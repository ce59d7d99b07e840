"""The methodology page, generated from the metric registry (evalrunner/metrics/registry.py:
every published column with its name, direction, unit, formula and citation, and the decisions
the definitions leave open) plus the site's own rules (leaderboard average, interval, tie ranks,
formatting).

Context: `MethodologyPage`, with the registry's metrics grouped by table (`MetricGroup`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import fmt
from ..data import SiteData
from ..leaderboard import CORE_COVERAGE
from ..render import Page

TABLE_TITLES = {
    "density": "Capacity density per task",
    "density_models": "Capacity density per model",
    "densing_law": "The densing law",
    "density_fits": "Reference family fits",
    "predictability_family_task": "Scaling predictability per family and task",
    "checkpoints": "Checkpoint series",
    "tasks": "Per task, across families",
    "twostage": "Two-stage prediction through a continuous proxy",
    "diagnostics": "Accuracy against continuous metrics",
    "passk": "Repeated sampling: pass@k",
    "coverage": "Repeated sampling: the coverage law",
    "passuntil": "Repeated sampling: the PassUntil task law",
    "ladder": "Ladder predictions of larger runs and targets",
    "ladder_summary": "Ladder predictions per rolling origin",
    "checkpoint_density": "Capacity density of every checkpoint",
}


@dataclass(frozen=True)
class MetricDoc:
    name: str
    column: str
    direction: str
    unit: str
    description: str
    formula: str
    citation: str


@dataclass(frozen=True)
class MetricGroup:
    table: str
    title: str
    metrics: list[MetricDoc] = field(default_factory=list)


@dataclass(frozen=True)
class MethodologyPage:
    groups: list[MetricGroup]
    decisions: list[tuple[str, str]]
    core_coverage: str
    z95: str
    score_digits: int
    note: str = ""


def methodology_page(data: SiteData) -> Page:
    groups: dict[str, MetricGroup] = {}
    decisions = []
    for e in data.registry:
        if e.get("kind") == "decision":
            decisions.append((str(e["topic"]), str(e["text"])))
            continue
        table = str(e["table"])
        group = groups.setdefault(table, MetricGroup(table, TABLE_TITLES.get(table, table)))
        group.metrics.append(MetricDoc(str(e["name"]), str(e["column"]), str(e["direction"]),
                                       str(e["unit"]), str(e["description"]),
                                       str(e["formula"]), str(e["citation"])))
    ctx = MethodologyPage(list(groups.values()), decisions, f"{CORE_COVERAGE:.0%}",
                          f"{fmt.Z95:.2f}", fmt.SCORE_DIGITS,
                          "" if data.registry else "The metric registry is not available.")
    return Page("methodology/index.md", "methodology.md.j2", ctx, "Methodology")
