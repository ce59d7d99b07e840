"""The home page and one leaderboard page per setting (rows rendered in the browser).

Context objects:
- `SettingInfo`: one setting's facts and where its leaderboard and data live.
- `BoardPage`: a leaderboard page; `intro` is set on the home page only.
The rows themselves are in `data/lb/<setting>.json` (boarddata.py), so the HTML stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import fmt
from ..boarddata import leaderboard_json, with_head
from ..data import SiteData
from ..leaderboard import Leaderboard, build_leaderboard
from ..render import Page
from ..tables import frame_csv
from .common import metric_table, setting_href, settings_by_size


@dataclass(frozen=True)
class SettingInfo:
    id: str
    name: str
    harness: str
    harness_version: str
    n_shot: str
    source: str
    description: str
    n_models: int
    href: str  # relative to the page showing it


@dataclass(frozen=True)
class Intro:
    n_models: int
    n_families: int
    n_tasks: int
    n_settings: int
    n_results: int
    doubling: str  # densing-law doubling time, or '' when not computed


@dataclass(frozen=True)
class BoardPage:
    setting: SettingInfo
    settings: list[SettingInfo]  # every setting, for the switcher
    data_src: str  # the compact JSON, relative to the page
    csv_src: str
    core: list[str]
    density_reference: str | None
    intro: Intro | None = None
    published_note: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def _setting_info(data: SiteData, setting: str, root: str, n_models: int) -> SettingInfo:
    row = data.frames.settings.set_index("setting").loc[setting]
    shots = "" if row["n_shot"] is None or row["n_shot"] != row["n_shot"] else str(
        int(row["n_shot"]))
    return SettingInfo(setting, str(row["name"]), str(row["harness"]),
                       str(row["harness_version"]), shots, str(row["source"] or ""),
                       str(row["description"] or ""), n_models, setting_href(root, setting))


def boards(data: SiteData) -> dict[str, Leaderboard]:
    density = metric_table(data, "density_models")
    return {s: build_leaderboard(data.frames, s, density, data.shown_revisions)
            for s in settings_by_size(data)}


def _intro(data: SiteData, setting: str) -> Intro:
    f = data.frames
    law = metric_table(data, "densing_law")
    doubling = ""
    if law is not None:
        ok = law[law["default_reference"].astype(bool) & law["doubling_days"].notna()]
        ok = ok[ok["setting"] == setting] if (ok["setting"] == setting).any() else ok
        if len(ok):  # never without its interval and the records it rests on
            row = ok.iloc[0]
            doubling = fmt.days(row["doubling_days"])
            if not (fmt.is_missing(row["doubling_ci_low"])
                    or fmt.is_missing(row["doubling_ci_high"])):
                doubling += (f" (95% interval {fmt.fixed(row['doubling_ci_low'], 0)}-"
                             f"{fmt.fixed(row['doubling_ci_high'], 0)}, "
                             f"{int(row['n_records'])} records, {row['reference']} reference)")
    return Intro(len(f.models), len(f.families), int(f.tasks["parent"].isna().sum()),
                 len(f.settings), int(f.scores["path"].nunique()), doubling)


def _board_page(data: SiteData, boards: dict[str, Leaderboard], sid: str, home: bool) -> Page:
    order = list(boards)
    root = "" if home else "../../"
    board = boards[sid]
    infos = [_setting_info(data, s, root, len(boards[s].rows)) for s in order]
    info = infos[order.index(sid)]
    csv = f"leaderboard/{sid}/leaderboard.csv" if home else "leaderboard.csv"
    ctx = BoardPage(info, infos, f"{root}data/lb/{sid}.json", csv, board.core,
                    board.density_reference, intro=_intro(data, sid) if home else None)
    if home:
        return Page("index.md", "leaderboard.md.j2", ctx, "Densitometer")
    page = Page(f"leaderboard/{sid}/index.md", "leaderboard.md.j2", ctx,
                f"Leaderboard: {info.name}")
    page.files["leaderboard.csv"] = frame_csv(_download(board))
    return page


def pages(data: SiteData, boards: dict[str, Leaderboard]) -> list[Page]:
    """The home page (the setting with the most models) and leaderboard/<setting>/ for each."""
    order = list(boards)
    if not order:
        return [Page("index.md", "empty.md.j2", None, "Densitometer")]
    return [_board_page(data, boards, order[0], home=True)] + [
        _board_page(data, boards, s, home=False) for s in order]


def _download(board: Leaderboard) -> pd.DataFrame:
    cols = ["rank", "model", "name", "family", "revision", "tier", "avg", "avg_se", "avg_lo",
            "avg_hi"]
    if "density" in board.rows.columns:
        cols.append("density")
    cols += board.tasks + [f"{t}__se" for t in board.tasks]
    cols += ["n_non_embedding", "n_total", "n_fit", "tokens", "release_date", "kind",
             "open_weights"]
    return board.rows[[c for c in cols if c in board.rows.columns]].rename(
        columns={f"{t}__se": f"{t}_stderr" for t in board.tasks})


def client_files(data: SiteData, boards: dict[str, Leaderboard]) -> dict[str, str]:
    """data/lb/<setting>.json and its .head.json for every setting (relative to docs_dir)."""
    names = data.frames.settings.set_index("setting")["name"]
    out: dict[str, str] = {}
    for s, b in boards.items():
        out.update(with_head(f"data/lb/{s}.json",
                             leaderboard_json(b, data.frames.tasks, str(names[s]))))
    return out
