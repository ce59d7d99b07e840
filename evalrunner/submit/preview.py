"""The preview of a pull request: what it changes on the leaderboard, and every warning.

`build_preview(repo, base, head, workdir)` reads results/ at the merge base and at head (as
plain files, `gitrev.materialise`), validates both, applies the append-only rule and the
plausibility checks, and collects:

- the result files added, changed, reformatted or removed, with what supersedes what;
- for each affected setting, where each affected model ranks on that setting's leaderboard
  (the site's `build_leaderboard`: tie groups when 95% intervals overlap), before and after;
- each added or changed score with its delta against the same file at base, against the
  model's previous revision (the latest step before it) and against the family's best model;
- problems new in head (errors first), and the files outside results/ the PR touches.

`render.render(preview)` turns it into Markdown for the PR comment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from evalrunner.results.validate import Problem, Report, validate_tree

from . import gitrev
from .history import RESULTS, FileChange, append_only_problems, compare_trees
from .plausibility import plausibility_problems


@dataclass(frozen=True)
class BoardRow:
    setting: str
    model: str
    revision: str
    avg: float
    lo: float
    hi: float
    rank: float
    tied: int  # other models whose interval overlaps
    size: int  # models on the board
    before_rank: float  # NaN: not on the board at base
    before_avg: float
    reason: str  # why there is no average


@dataclass(frozen=True)
class ScoreRow:
    path: str
    model: str
    revision: str
    setting: str
    task: str
    metric: str
    value: float
    stderr: float | None
    base: float | None  # the same file at base
    previous: tuple[str, float] | None  # (revision, value) of the model's previous revision
    family_best: tuple[str, float] | None  # (model, value) of the family's best other model


@dataclass
class Preview:
    base: str
    head: str
    base_sha: str
    head_sha: str
    changes: list[FileChange]
    problems: list[Problem]
    old_errors: int  # errors already present at base, not repeated
    other_files: list[str]
    boards: list[BoardRow] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
    supersedes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    note: str = ""
    shown: str = RESULTS  # the prefix paths are shown with

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _reprefix(problems: list[Problem], root: Path, shown: str) -> list[Problem]:
    """Problems of a tree in a temporary folder, shown with paths under `shown`."""
    old = root.as_posix().rstrip("/") + "/"
    return [Problem(shown + p.path[len(old):] if p.path.startswith(old) else p.path, p.line,
                    p.loc, p.message, p.severity) for p in problems]


def build_preview(repo: Path, base: str, head: str, workdir: Path) -> Preview:
    """Compare results/ at merge-base(base, head) with head. workdir must be empty and ours."""
    base_sha = gitrev.merge_base(repo, base, head)
    head_sha = gitrev.resolve(repo, head)
    base_root, head_root = Path(workdir) / "base", Path(workdir) / "head"
    gitrev.materialise(repo, base_sha, base_root)
    read_problems = gitrev.materialise(repo, head_sha, head_root)
    other = sorted(p for s, p in gitrev.changed_paths(repo, base_sha, head_sha)
                   if not p.startswith(RESULTS))
    return compare_roots(base_root, head_root, base, head, base_sha=base_sha, head_sha=head_sha,
                         other_files=other, read_problems=read_problems)


def compare_roots(base_root: Path, head_root: Path, base: str, head: str, *,
                  base_sha: str = "", head_sha: str = "", other_files: list[str] | None = None,
                  read_problems: list[Problem] | None = None,
                  shown: str = RESULTS, base_report: Report | None = None) -> Preview:
    """The preview of going from the results tree at base_root to the one at head_root
    (`base_report`: base_root already validated)."""
    changes = compare_trees(base_root, head_root)
    if not changes:  # nothing under results/ differs: nothing new to check or rank
        return Preview(base, head, base_sha, head_sha, [], list(read_problems or []), 0,
                       list(other_files or []), shown=shown)
    base_report = base_report or validate_tree(base_root)
    head_report = validate_tree(head_root)
    touched = {c.rel for c in changes if c.status != "removed"}
    problems = list(read_problems or []) + _reprefix(head_report.problems, head_root, shown)
    problems += append_only_problems(changes, base_root, head_report.tree, shown)
    problems += plausibility_problems(head_report.tree, shown,
                                      results={r for r in touched if r.count("/") == 3},
                                      models={r for r in touched if r.endswith("model.yaml")})
    before = {str(p) for p in _reprefix(base_report.problems, base_root, shown)}
    new = sorted({p for p in problems if str(p) not in before}, key=_problem_order)
    old_errors = sum(1 for p in problems if str(p) in before and p.severity == "error")
    preview = Preview(base, head, base_sha, head_sha, changes, new, old_errors,
                      list(other_files or []), shown=shown)
    preview.supersedes = {RESULTS + rel: [(e.path, e.reason) for e in r.supersedes]
                          for rel, r in head_report.tree.results if rel in touched
                          and r.supersedes}
    if not head_report.ok:
        preview.note = "Ranks and deltas are shown once the errors are fixed."
        return preview
    _fill_rankings(preview, base_report, head_report, changes)
    return preview


def _problem_order(p: Problem) -> tuple:
    return (p.severity != "error", p.path, p.line or 0, p.loc, p.message)


def _fill_rankings(preview: Preview, base_report: Report, head_report: Report,
                   changes: list[FileChange]) -> None:
    from evalrunner.results.load import frames_from_tree
    from evalrunner.site.leaderboard import build_leaderboard

    head = frames_from_tree(head_report.tree)
    base = frames_from_tree(base_report.tree) if base_report.ok else None
    results = {rel: r for rel, r in head_report.tree.results}
    base_results = {rel: r for rel, r in base_report.tree.results}
    affected: dict[str, set[str]] = {}
    for c in changes:
        r = results.get(c.rel) or base_results.get(c.rel)
        if c.kind == "result" and c.status != "reformatted" and r is not None:
            affected.setdefault(r.setting, set()).add(r.model)
    for setting in sorted(affected):
        if setting not in set(head.settings["setting"]):
            continue
        rows = build_leaderboard(head, setting).rows.set_index("model")
        old = None
        if base is not None and setting in set(base.settings["setting"]):
            old = build_leaderboard(base, setting).rows.set_index("model")
        for model in sorted(affected[setting]):
            if model not in rows.index:
                continue
            row = rows.loc[model]
            overlap = ((rows["avg_lo"] <= row["avg_hi"]) & (rows["avg_hi"] >= row["avg_lo"]))
            was = old.loc[model] if old is not None and model in old.index else None
            preview.boards.append(BoardRow(
                setting, model, str(row["revision"]), float(row["avg"]), float(row["avg_lo"]),
                float(row["avg_hi"]), float(row["rank"]),
                max(0, int(overlap.sum()) - 1) if not math.isnan(row["avg"]) else 0, len(rows),
                float(was["rank"]) if was is not None else math.nan,
                float(was["avg"]) if was is not None else math.nan, str(row["avg_reason"])))
    preview.scores = _score_rows(head_report, base_results,
                                 {c.rel for c in changes if c.kind == "result"
                                  and c.status in ("added", "changed")})


def _score_rows(head: Report, base_results: dict, rels: set[str]) -> list[ScoreRow]:
    tree = head.tree
    out = []
    for rel, r in sorted(tree.results, key=lambda item: item[0]):
        if rel not in rels:
            continue
        model = tree.models[r.model]
        earlier = [(o.revision.step, o) for _, o in tree.results
                   if o.model == r.model and o.setting == r.setting and r.revision.step is not None
                   and o.revision.step is not None and o.revision.step < r.revision.step]
        prev = max(earlier, key=lambda item: item[0])[1] if earlier else None
        peers = [o for _, o in tree.results if o.setting == r.setting and o.model != r.model
                 and o.revision.final and tree.models[o.model].family == model.family]
        old = base_results.get(rel)
        for task, s in r.scores.items():
            sign = -1 if tree.tasks[task].direction == "lower" else 1  # best = highest, or lowest
            best = max(((sign * o.scores[task].value, o.model) for o in peers
                        if task in o.scores and o.scores[task].metric == s.metric), default=None)
            best = (sign * best[0], best[1]) if best else None
            base_value = old.scores[task].value if old and task in old.scores else None
            prev_value = prev.scores.get(task) if prev else None
            out.append(ScoreRow(
                rel, r.model, r.revision.id, r.setting, task, s.metric, s.value,
                s.stderr, base_value,
                (prev.revision.id, prev_value.value) if prev and prev_value else None,
                (best[1], best[0]) if best else None))
    return out


def write_preview(repo: Path, base: str, head: str, out: Path | None) -> tuple[str, Preview]:
    """Build and render in a temporary folder; write to out (a path we were given) if set."""
    import tempfile

    from evalrunner.results.write import atomic_write_text

    with tempfile.TemporaryDirectory(prefix="densitometer-diff-") as tmp:
        preview = build_preview(repo, base, head, Path(tmp))
    from .render import render

    text = render(preview)
    if out is not None:
        atomic_write_text(out, text)
    return text, preview


__all__ = ["Preview", "build_preview", "compare_roots", "write_preview"]
