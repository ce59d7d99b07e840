"""Index pages: models (rendered in the browser from data/models.json), families, tasks."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import fmt
from ..boarddata import BoardColumn, BoardFilter, encode, size_columns, size_fields
from ..data import SiteData
from ..render import Page
from ..tables import Column, make_table
from .common import family_href, task_href


@dataclass(frozen=True)
class IndexPage:
    heading: str
    intro: str
    table: str | None = None  # a static table id
    board_src: str | None = None  # or a browser-rendered table


def models_json(data: SiteData) -> str:
    f = data.frames
    # dicts: a Series lookup per model is slow
    fam = f.families.set_index("family")["name"].to_dict()
    counts = f.scores.groupby("model")[["setting", "revision"]].nunique()
    settings, revisions = counts["setting"].to_dict(), counts["revision"].to_dict()
    records = []
    for m in f.models.to_dict("records"):
        records.append({
            "id": m["model"], "name": m["name"], "family": m["family"],
            "family_name": fam.get(m["family"], m["family"]),
            **size_fields(m),
            "tokens": m["training_tokens"], "tokens_t": fmt.count(m["training_tokens"]),
            "release": None if fmt.is_missing(m["release_date"]) else fmt.day(m["release_date"]),
            "kind": m["kind"], "open": "yes" if m["open_weights"] else "no",
            "settings": int(settings.get(m["model"], 0)),
            "revisions": int(revisions.get(m["model"], 0))})
    columns = [BoardColumn("name", "Model", link="model"),
               BoardColumn("family_name", "Family", link="family"),
               *size_columns(),
               BoardColumn("tokens", "Tokens", "num", 0, text="tokens_t"),
               BoardColumn("release", "Released"), BoardColumn("kind", "Kind"),
               BoardColumn("open", "Open weights"),
               BoardColumn("settings", "Settings", "num", 0),
               BoardColumn("revisions", "Revisions", "num", 0)]
    filters = [BoardFilter("family_name", "Family", "select"),
               BoardFilter("n_total", "Size", "range"), BoardFilter("kind", "Kind", "check"),
               BoardFilter("open", "Open weights", "check")]
    return encode("Models", "", columns, filters, records, {"default_sort": "name",
                                                           "default_dir": "asc"})


def index_pages(data: SiteData) -> list[Page]:
    f = data.frames
    root = "../"
    models = Page("models/index.md", "index.md.j2", IndexPage(
        "Models", f"All {len(f.models)} models, with links to their pages.",
        board_src="../data/models.json"), "Models")
    counts = f.models.groupby("family").size()
    fams = f.families.assign(href=[family_href(root, x) for x in f.families["family"]],
                             models=[int(counts.get(x, 0)) for x in f.families["family"]])
    families = Page("families/index.md", "index.md.j2", IndexPage(
        "Families", "A family is one organisation's series or one training recipe at several "
        "sizes; reference families can anchor capacity density.", table="families"),
        "Families", [make_table("families", fams, [
            Column("name", "Family", link="href"), Column("organisation", "Organisation"),
            Column("models", "Models", "int"), Column("reference", "Reference", "bool"),
            Column("license", "License")], data=fams.drop(columns="href"))])
    n_models = f.scores.groupby("task")["model"].nunique()
    tasks = f.tasks.assign(href=[task_href(root, x) for x in f.tasks["task"]],
                           models=[int(n_models.get(x, 0)) for x in f.tasks["task"]])
    tasks = tasks.assign(parent=tasks["parent"].where(tasks["parent"].notna(), ""))
    task_page = Page("tasks/index.md", "index.md.j2", IndexPage(
        "Tasks", "Every task any result reports; subtasks name the task they belong to.",
        table="tasks"), "Tasks", [make_table("tasks", tasks, [
            Column("name", "Task", link="href"), Column("task", "Id"),
            Column("metric", "Metric"), Column("chance", "Chance (%)", "score"),
            Column("n_items", "Items", "int"), Column("category", "Category"),
            Column("parent", "Subtask of"), Column("models", "Models", "int")],
            data=pd.DataFrame(tasks.drop(columns="href")))])
    return [models, families, task_page]
