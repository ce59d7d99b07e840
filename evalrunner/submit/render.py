"""The preview as Markdown for the pull-request comment (or as plain text for a terminal).

Every value that comes from a file or from git goes through one escaping function (`md` for
Markdown, `plain` for a terminal); the rest is our own text. Numbers are in percent with one
decimal, as on the site; deltas in points. Tables stop at MAX_ROWS rows, with the rest counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from evalrunner.results.read import shown_name

from .markdown import md, table
from .preview import RESULTS, Preview

MAX_ROWS = 150
MAX_PROBLEMS = 100


def _pct(x: float | None) -> str:
    return "\u2014" if x is None or math.isnan(x) else f"{100 * x:.1f}"


def _delta(x: float, ref: float | None) -> str:
    return "\u2014" if ref is None else f"{100 * (x - ref):+.1f}"


def _rank(rank: float) -> str:
    return "\u2014" if math.isnan(rank) else str(int(rank))


def render(p: Preview, esc: Callable[[Any], str] = md) -> str:
    """The PR comment. Values from files go through `esc` (`md` for Markdown, `plain` for a
    terminal); the rest is our own text."""
    counts = {s: sum(1 for c in p.changes if c.status == s)
              for s in ("added", "changed", "reformatted", "removed")}
    base = f" ({p.base_sha[:7]}, the merge base)" if p.base_sha else ""
    head = f" ({p.head_sha[:7]})" if p.head_sha else ""
    lines = ["## Densitometer preview", "",
             f"Base {esc(p.base)}{base} \u2192 head {esc(p.head)}{head}.",
             f"Files under {esc(p.shown)}: " + ", ".join(f"{n} {s}" for s, n in counts.items())
             + f". Files elsewhere: {len(p.other_files)}.", ""]
    n_err = len(p.errors)
    n_warn = len(p.problems) - n_err
    status = "**No errors**" if not n_err else f"**{n_err} error(s)** to fix"
    lines += [f"{status}, {n_warn} warning(s)" + (" to review." if n_warn else ".")
              + (f" ({p.old_errors} error(s) were already present at base.)"
                 if p.old_errors else ""), ""]
    if p.other_files and p.changes:
        shown = ", ".join(esc(f) for f in p.other_files[:20])
        more = f" and {len(p.other_files) - 20} more" if len(p.other_files) > 20 else ""
        lines += ["> [!WARNING]",
                  f"> **This pull request changes code as well as results** ({shown}{more}). "
                  "Code from a pull request runs in CI and, once merged, builds the site: review "
                  "it on its own, or ask for it in a separate pull request.", ""]
    lines += _problem_lines(p, esc)
    lines += _change_lines(p, esc)
    lines += _board_lines(p, esc)
    lines += _score_lines(p, esc)
    if p.note:
        lines += [p.note, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _problem_lines(p: Preview, esc: Callable[[Any], str]) -> list[str]:
    lines: list[str] = []
    for title, severity in (("Errors", "error"), ("Warnings", "warning")):
        chosen = [x for x in p.problems if x.severity == severity]
        if not chosen:
            continue
        lines += [f"### {title}", ""]
        lines += [f"- {esc(str(x))}" for x in chosen[:MAX_PROBLEMS]]
        if len(chosen) > MAX_PROBLEMS:
            lines.append(f"- ... and {len(chosen) - MAX_PROBLEMS} more")
        lines.append("")
    return lines


def _change_lines(p: Preview, esc: Callable[[Any], str]) -> list[str]:
    if not p.changes:
        return ["This pull request changes no files under results/.", ""]
    claims: dict[str, list[str]] = {}
    for by, entries in p.supersedes.items():
        for path, reason in entries:
            claims.setdefault(path, []).append(f"{esc(by)}: {esc(reason)}")
    rows = []
    for c in p.changes[:MAX_ROWS]:
        note = "; ".join(claims.get(RESULTS + c.rel, []))
        rows.append([c.status, esc(p.shown + c.rel), esc(c.kind or "not a results file"),
                     f"superseded by {note}" if note else ""])
    lines = ["### Files", ""] + table(["change", "file", "kind", "supersedes"], rows)
    if len(p.changes) > MAX_ROWS:
        lines.append(f"\n... and {len(p.changes) - MAX_ROWS} more files")
    return lines + [""]


def _board_lines(p: Preview, esc: Callable[[Any], str]) -> list[str]:
    if not p.boards:
        return []
    lines = ["### Leaderboard", "",
             "Average of the setting's core tasks in percent; rank = 1 + the models whose 95% "
             "interval lies wholly above, so models with overlapping intervals share a rank.", ""]
    rows = []
    for b in p.boards[:MAX_ROWS]:
        interval = "\u2014" if math.isnan(b.avg) else f"{_pct(b.lo)}\u2013{_pct(b.hi)}"
        before = "new" if math.isnan(b.before_rank) and math.isnan(b.before_avg) else (
            f"{_rank(b.before_rank)} ({_pct(b.before_avg)})")
        rank = "\u2014" if math.isnan(b.rank) else (
            f"{_rank(b.rank)} of {b.size}" + (f", tied with {b.tied}" if b.tied else ""))
        avg = _pct(b.avg) if not math.isnan(b.avg) else f"\u2014 ({esc(b.reason)})"
        rows.append([esc(b.setting), esc(b.model), esc(b.revision), avg, interval, rank, before])
    return lines + table(["setting", "model", "revision shown", "average", "95% interval",
                          "rank", "before: rank (average)"], rows) + [""]


def _score_lines(p: Preview, esc: Callable[[Any], str]) -> list[str]:
    if not p.scores:
        return []
    rows = []
    for s in p.scores[:MAX_ROWS]:
        score = _pct(s.value) + (f" \u00b1 {_pct(s.stderr)}" if s.stderr is not None else "")
        prev = (f"{_delta(s.value, s.previous[1])} vs {esc(s.previous[0])}"
                if s.previous else "\u2014")
        best = (f"{_delta(s.value, s.family_best[1])} vs {esc(s.family_best[0])}"
                if s.family_best else "\u2014")
        rows.append([esc(s.model), esc(s.revision), esc(s.setting), esc(s.task), esc(s.metric),
                     score, _delta(s.value, s.base), prev, best])
    lines = ["### Scores added or changed", "",
             "In percent; deltas in points against the same file at base, the model's previous "
             "revision, and the family's best other model in the setting.", ""]
    lines += table(["model", "revision", "setting", "task", "metric", "score", "\u0394 base",
                    "\u0394 previous revision", "\u0394 family best"], rows)
    if len(p.scores) > MAX_ROWS:
        lines.append(f"\n... and {len(p.scores) - MAX_ROWS} more scores")
    return lines + [""]


def plain(value: Any) -> str:
    """Text for a terminal: one line, hidden characters written out."""
    return shown_name(str(value).replace("\n", " "))


