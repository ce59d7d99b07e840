"""Helpers the page modules share: links between pages, lookups, the setting order."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..data import SiteData


def model_href(root: str, model: str) -> str:
    return f"{root}models/{model}/"


def family_href(root: str, family: str) -> str:
    return f"{root}families/{family}/"


def task_href(root: str, task: str) -> str:
    return f"{root}tasks/{task}/"


def setting_href(root: str, setting: str) -> str:
    return f"{root}leaderboard/{setting}/"


def settings_by_size(data: SiteData) -> list[str]:
    """Settings ordered by how many models they cover (most first), then scores, then id;
    a setting of reported results only has no ranking (its results show on model pages)."""
    s = data.frames.scores
    s = s[s["tier"] != "reported"]
    counts = s.groupby("setting")["model"].nunique()
    rows = s.groupby("setting").size()
    known = [x for x in data.frames.settings["setting"] if x in counts.index]
    return sorted(known, key=lambda x: (-int(counts[x]), -int(rows[x]), x))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def metric_table(data: SiteData, name: str) -> pd.DataFrame | None:
    table = data.metrics.get(name)
    return table if table is not None and len(table) else None
