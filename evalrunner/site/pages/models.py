"""One page per model (never per checkpoint) and the models index.

`ModelPage`: facts, links, and per setting a `ModelSetting` with every revision x top-level task
(value +- stderr), the subtasks of the revision shown on the leaderboard, where each result came
from (`Origin`) and the command that reproduces it. Everything of the model is also offered as one
long CSV/JSON (`scores`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup

from .. import fmt, live
from ..data import SiteData, leaderboard_revisions
from ..escape import link
from ..render import Page
from ..tables import (
    Column,
    Table,
    csv_by,
    frame_csv,
    make_table,
    rows_data,
    table_from_lists,
)
from .common import family_href, setting_href, task_href

DENSITY = "model_density"  # the live block of a model's capacity density
_DENSITY_COLUMNS = [
    Column("setting", "Setting"), Column("reference", "Reference family"),
    Column("density", "Density (task set)", "ratio"), Column("interval_shown", "95% interval"),
    Column("bound_shown", "Bound (out of range)"),
    Column("tasks_density", "Per-task mean", "ratio"),
    Column("n_tasks", "Tasks in range", "int"), Column("tasks", "Which tasks"),
    Column("method", "Method"),
    Column("status", "Status", title="reason")]
SCORE_DOWNLOAD = ["setting", "revision", "step", "tokens", "final", "task", "metric", "value",
                  "stderr", "n_items", "n_shot", "answer_nll_token", "tier", "source", "primary",
                  "path"]


@dataclass(frozen=True)
class Origin:
    """Where one result file came from."""

    revision: str
    tier: str
    source: str
    details: list[tuple[str, Any]]  # label, text or Markup (links are http(s) only)
    path: str


@dataclass(frozen=True)
class ModelSetting:
    setting: str
    name: str
    href: str
    shown_revision: str
    scores: str | None  # id of the revisions x top-level tasks table (None: subtasks only)
    subtasks: str | None
    origins: list[Origin]
    reproduce: tuple[str, str]  # (what it is, the command)


@dataclass(frozen=True)
class ModelPage:
    id: str
    name: str
    family: str
    family_name: str
    family_href: str
    facts: list[tuple[str, Any]]
    links: list[Markup]
    notes: str
    settings: list[ModelSetting]
    density: Markup  # where its capacity density goes (live.py)


def _facts(m: dict[str, Any]) -> list[tuple[str, Any]]:
    def count(kind: str) -> str:
        v = m.get(f"n_{kind}")
        src = m.get(f"n_{kind}_source")
        return fmt.MISSING if fmt.is_missing(v) else f"{fmt.count(v)} ({fmt.integer(v)}, {src})"

    facts = [("Model id", m["model"])]
    if not fmt.is_missing(m.get("hf_id")):
        facts.append(("Hugging Face", link(f"https://huggingface.co/{m['hf_id']}", m["hf_id"])))
    facts += [("Kind", m["kind"]), ("Open weights", fmt.boolean(m["open_weights"])),
              ("Open data", fmt.boolean(m["open_data"])),
              ("Architecture", fmt.MISSING if fmt.is_missing(m.get("architecture"))
               else m["architecture"]),
              ("Mixture of experts", fmt.boolean(m["moe"])),
              ("Parameters, non-embedding", count("non_embedding")),
              ("Parameters, total", count("total"))]
    if m["moe"]:
        facts += [("Parameters, active", count("active")),
                  ("Parameters, active non-embedding", count("active_non_embedding"))]
    facts += [("Parameters used by fits", f"{fmt.count(m['n_fit'])} ({m['n_fit_basis']})"),
              ("Training tokens", fmt.count(m["training_tokens"])),
              ("Release date", fmt.day(m["release_date"]) + (
                  "" if fmt.is_missing(m.get("release_date_source"))
                  else f" ({m['release_date_source']})"))]
    return facts


def _origin(data: SiteData, path: str, revision: str) -> Origin:
    result = data.result_by_path[path]
    p = result.provenance
    details: list[tuple[str, Any]] = []
    if p.kind == "import":
        details = [("repository", p.repository), ("commit", p.commit), ("file", p.path),
                   ("license", p.license), ("importer", p.importer)]
        if p.row:
            details.append(("row", p.row))
        source = f"import: {p.repository}"
    elif p.kind == "submission":
        details = [("submitter", p.submitter)]
        if p.url:
            details.append(("link", link(p.url)))
        if p.command:
            details.append(("command", p.command))
        source = f"submission by {p.submitter}"
    elif p.kind == "report":
        details = [("format", p.format), ("file", p.file), ("sha256", p.sha256)]
        details += [(k, v) for k, v in (("reported by", p.reporter),
                                         ("relationship", p.relationship), ("date", p.date))
                    if v]
        if p.url:
            details.append(("link", link(p.url)))
        source = f"reported by {p.reporter or 'an unnamed party'} (not measured here)"
    else:
        details = [("command", p.command), ("densitometer", p.densitometer_version),
                   ("lm-eval", p.lm_eval_version), ("model source", p.model_source)]
        source = "this project's runner"
    if getattr(p, "notes", ""):
        details.append(("notes", p.notes))
    return Origin(revision, result.tier, source, details, path)


def reproduce_command(data: SiteData, model: dict[str, Any], setting: str, path: str,
                      harness_names: dict[str, str]) -> tuple[str, str]:
    """(what it is, the command): the runner's recorded command, else the lm-eval call that
    re-runs the result's tasks in its setting. `harness_names`: top-level task -> the
    harness's task name."""
    result = data.result_by_path[path]
    p = result.provenance
    if p.kind == "runner":
        return "the command that produced it", p.command
    if p.kind == "submission" and p.command:
        return "the command the submitter ran", p.command
    names = sorted({harness_names[t] for t in result.scores if t in harness_names})
    cfg = data.tree.settings[setting]
    weights = model["hf_id"] if not fmt.is_missing(model.get("hf_id")) else "<path to weights>"
    revision = result.revision.commit or result.revision.id
    shots = f" --num_fewshot {cfg.n_shot}" if cfg.n_shot is not None else ""
    return ("an lm-evaluation-harness call that re-runs it (harness "
            f"{cfg.harness_version})",
            f"lm_eval --model hf --model_args pretrained={weights},revision={revision} "
            f"--tasks {','.join(names)}{shots} --batch_size auto")


def _wide_scores(primary: pd.DataFrame,
                 top: set[str]) -> tuple[dict[str, list], dict[tuple[str, str], range]]:
    """Every model's revisions x top-level tasks as columns of lists (value, and `<task>__se`
    the stderr), one row per revision by step, and the rows of each (model, setting). Pivoted
    once for every model: per model it was most of the page generation."""
    s = primary[primary["task"].isin(top)].drop_duplicates(["model", "setting", "revision",
                                                            "task"])
    keys = ["model", "setting", "revision"]
    meta = s.drop_duplicates(keys).set_index(keys)[["step", "tokens", "final", "tier"]]
    values = s.pivot(index=keys, columns="task", values="value")
    errors = s.pivot(index=keys, columns="task", values="stderr").add_suffix("__se")
    wide = meta.join(values).join(errors).reset_index()
    wide["_s"] = pd.to_numeric(wide["step"].astype("Float64"))
    wide = wide.sort_values(["model", "setting", "_s", "revision"],
                            kind="stable").reset_index(drop=True)
    rows = {k: range(int(v[0]), int(v[-1]) + 1)
            for k, v in wide.groupby(["model", "setting"], sort=False).indices.items()}
    return wide.drop(columns="_s").to_dict("list"), rows


def _scores_table(sid: str, wide: dict[str, list], rows: range, tasks: list[str],
                  names: dict[str, str]) -> Table:
    """The model's revisions x top-level tasks in one setting: value +- stderr."""
    cols = [Column("revision", "Revision"), Column("step", "Step", "int"),
            Column("tokens", "Tokens", "count"), Column("final", "Final", "bool")]
    cols += [Column(t, names.get(t, t), "score", help=f"{t}: % ± stderr", stderr=f"{t}__se")
             for t in tasks]
    keep = ["revision", "step", "tokens", "final", *tasks, *[f"{t}__se" for t in tasks]]
    lists = {k: wide[k][rows.start:rows.stop] for k in keep}
    return table_from_lists(f"scores-{sid}", lists, len(rows), cols, downloads=False)


def model_pages(data: SiteData, ids: list[str] | None = None) -> list[Page]:
    """The page of every model, or of the models in `ids` only (the build generates the
    models whose inputs changed, in slices over parallel processes)."""
    f = data.frames
    models = f.models if ids is None else f.models[f.models["model"].isin(ids)]
    all_scores = f.scores if ids is None else f.scores[f.scores["model"].isin(ids)]
    names = dict(zip(f.tasks["task"], f.tasks["name"], strict=True))
    fam_names = dict(zip(f.families["family"], f.families["name"], strict=True))
    setting_names = dict(zip(f.settings["setting"], f.settings["name"], strict=True))
    top_rows = f.tasks[f.tasks["parent"].isna()]
    top = set(top_rows["task"])
    harness_names = {t: str(h or t) for t, h in zip(top_rows["task"], top_rows["harness_task"],
                                                     strict=True)}
    order = {t: i for i, t in enumerate(f.tasks["task"])}  # registry order
    primary = all_scores[all_scores["primary"]]
    shown = leaderboard_revisions(primary).set_index(["model", "setting"])["revision"]
    wide, wide_rows = _wide_scores(primary, top)
    present = primary.groupby(["model", "setting"])["task"].unique()
    csv = csv_by(all_scores, "model", SCORE_DOWNLOAD)
    empty_csv = frame_csv(all_scores[SCORE_DOWNLOAD].iloc[:0])
    by_model_primary = dict(tuple(primary.groupby("model", sort=True)))
    out = []
    root = "../../"
    for m in models.to_dict("records"):
        mid = m["model"]
        mine = by_model_primary.get(mid, primary.iloc[:0])
        tables: list[Table] = []
        settings = []
        for sid, s in mine.groupby("setting", sort=True):
            tasks = sorted((t for t in present[(mid, sid)] if t in top), key=order.__getitem__)
            subs = sorted((t for t in present[(mid, sid)] if t not in top),
                          key=order.__getitem__)
            if tasks:
                tables.append(_scores_table(sid, wide, wide_rows[(mid, sid)], tasks, names))
            rev = shown.get((mid, sid))
            sub_id = None
            if subs:
                sub = s[(s["revision"] == rev) & s["task"].isin(subs)]
                sub = sub.assign(task_name=sub["task"].map(names),
                                 href=[task_href(root, t) for t in sub["task"]],
                                 _o=sub["task"].map(order)).sort_values("_o", kind="stable")
                sub_id = f"subtasks-{sid}"
                tables.append(make_table(sub_id, sub, [
                    Column("task_name", "Subtask", link="href"), Column("task", "Task id"),
                    Column("value", "Score (%)", "score", stderr="stderr"),
                    Column("n_items", "Items", "int")], downloads=False))
            paths = s.drop_duplicates("path")[["path", "revision"]]
            origins = [_origin(data, p, r) for p, r in zip(paths["path"], paths["revision"],
                                                            strict=True)]
            last = paths[paths["revision"] == rev]["path"].iloc[0]
            settings.append(ModelSetting(
                sid, str(setting_names[sid]), setting_href(root, sid), rev,
                f"scores-{sid}" if tasks else None, sub_id, origins,
                reproduce_command(data, m, sid, last, harness_names)))
        model = data.tree.models[mid]
        ctx = ModelPage(mid, m["name"], m["family"], fam_names.get(m["family"], m["family"]),
                        family_href(root, m["family"]), _facts(m),
                        [link(x.url, x.title) for x in model.links], model.notes, settings,
                        live.placeholder(f"{root}{live.path(DENSITY, mid)}",
                                         "the capacity density"))
        # not in the search index: it would grow with the number of models, and every page
        # loads it (the leaderboards and the models index search models instead)
        page = Page(f"models/{mid}/index.md", "model.md.j2", ctx, m["name"], tables,
                    search=False)
        # every score of the model, extra metrics included; the tables above are cuts of it
        page.files["scores.csv"] = csv.get(mid, empty_csv)
        out.append(page)
    return out


def model_density(data: SiteData, ids: list[str] | None = None) -> dict[str, str]:
    """The capacity density table of every model (or of those in `ids`), as the live blocks
    the model pages show (live.py): a move of the reference fits changes every model's
    density, and then only these small files, not a thousand model pages. Rows in the order of
    density_models."""
    table = data.metrics.get("density_models")
    ids = list(data.frames.models["model"]) if ids is None else ids
    out: dict[str, str] = {}
    if table is not None and len(table):
        table = table[table["model"].isin(ids)]
        table = table.assign(bound_shown=fmt.bound_column(table),
                             interval_shown=fmt.interval_column(table))
        keys = {k for c in _DENSITY_COLUMNS for k in (c.key, c.title) if k}
        lists = table[[k for k in table.columns if k in keys]].to_dict("list")
        rows: dict[str, list] = {}
        for mid, row in zip(table["model"], rows_data(lists, len(table), _DENSITY_COLUMNS),
                            strict=True):
            rows.setdefault(mid, []).append(row)
        out = {live.path(DENSITY, mid): live.table("density", _DENSITY_COLUMNS, r)
               for mid, r in rows.items()}
    none = live.note(
        "Capacity density was not computed for this build." if table is None else
        "No capacity density: none of the settings this model was evaluated in has a "
        "fitted reference family.")
    return {live.path(DENSITY, mid): out.get(live.path(DENSITY, mid), none) for mid in ids}
