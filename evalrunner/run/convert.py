"""lm-eval's in-memory results -> the project's scores, answer losses and task registry entries.

Scores are lm-eval's own numbers, converted by the importers' table-driven
`evalrunner.importers.lmeval.parse_lmeval` (`"acc,none"` -> `acc`); nothing is re-scored. The
one number computed here is the conditional loss of the correct answer (Densing Law, arXiv
2412.04315, section 2), from lm-eval's own per-sample log-likelihoods:

    per_token = sum_i nll_i / sum_i tokens_i        per_byte = sum_i nll_i / sum_i bytes_i

where nll_i = -log p(gold continuation | prompt) of item i, tokens_i its continuation tokens as
lm-eval tokenizes them (`_encode_pair`), bytes_i its UTF-8 bytes. Pooling over tokens (not a mean
of per-item means) makes per_token the usual per-token cross-entropy of the answers.

Pure functions over plain data: no lm_eval import.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from evalrunner.results.samples import gold_index
from evalrunner.results.schema import AnswerLoss, Score, Task

# Output types whose items carry one log-likelihood per candidate answer.
LOGLIK_TYPES = ("multiple_choice", "loglikelihood")

TokenCounter = Callable[[str, str], int]


class ConversionError(Exception):
    """lm-eval output that cannot become a score: task, what was expected, what was found."""


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def scored_continuation(context: str, continuation: str) -> str:
    """The text lm-eval scores: trailing spaces of the context move to the continuation."""
    n = len(context) - len(context.rstrip())
    return context[len(context) - n:] + continuation if n else continuation


def answer_loss(samples: list[dict[str, Any]], output_type: str,
                count_tokens: TokenCounter | None) -> AnswerLoss | None:
    """Pooled NLL of the gold answer per token and per byte (module docstring)."""
    if output_type not in LOGLIK_TYPES or count_tokens is None:
        return None
    nll = tokens = n_bytes = 0.0
    seen: set[int] = set()
    for s in samples:
        if s.get("doc_id") in seen:
            continue  # one entry per filter: count each item once
        seen.add(s.get("doc_id"))
        gold = gold_index(s, output_type)
        if gold is None or gold >= len(s["resps"]):
            continue
        context, continuation = s["arguments"][gold]
        ll = _number(s["resps"][gold][0][0])
        if ll is None:
            raise ConversionError(f"doc {s.get('doc_id')}: non-finite log-likelihood {ll}")
        nll -= ll
        tokens += count_tokens(context, continuation)
        n_bytes += len(scored_continuation(context, continuation).encode("utf-8"))
    n = len(seen)
    if not n or tokens <= 0:
        return None
    return AnswerLoss(per_token=max(nll, 0.0) / tokens,
                      per_byte=max(nll, 0.0) / n_bytes if n_bytes else None, n_items=n)


def chance(samples: list[dict[str, Any]], output_type: str) -> float:
    """Expected score of a uniform guess: mean 1/choices for multiple choice, else 0."""
    if output_type != "multiple_choice" or not samples:
        return 0.0
    per_doc = {s.get("doc_id"): 1.0 / max(1, len(s.get("arguments", []))) for s in samples}
    return sum(per_doc.values()) / len(per_doc)


def to_scores(res: dict[str, Any], preferred: dict[str, str],
              losses: dict[str, AnswerLoss | None]) -> dict[str, Score]:
    """Every task and group of one lm-eval run as a Score, with its answer loss if any.

    `preferred` names the headline metric per task (the setting's, else the registry's).
    """
    from evalrunner.importers.lmeval import LmEvalFormatError, parse_lmeval

    try:
        scores = parse_lmeval(res, headline=preferred, where="lm-eval results").scores
    except LmEvalFormatError as err:
        raise ConversionError(str(err)) from None
    return {t: s.model_copy(update={"answer_loss": losses[t]}) if losses.get(t) else s
            for t, s in scores.items()}


def _n(value: Any) -> int | None:
    x = _number(value)
    return int(x) if x is not None and x > 0 else None


def _subtasks(res: dict[str, Any]) -> dict[str, list[str]]:
    return {g: list(children) for g, children in (res.get("group_subtasks") or {}).items()}


def derive_task(task: str, res: dict[str, Any], samples: list[dict[str, Any]],
                score: Score) -> Task:
    """A tasks.yaml entry for a task no registry describes, from what lm-eval reported."""
    groups = _subtasks(res)
    parent = next((g for g, children in sorted(groups.items()) if task in children), None)
    entry = res.get("results", {}).get(task, {})
    name = str(entry.get("alias") or task).strip().lstrip("- ").strip() or task
    better = res.get("higher_is_better", {}).get(task, {}).get(score.metric, True)
    if task in groups:
        types = {res.get("configs", {}).get(t, {}).get("output_type") for t in groups[task]}
        output_type = types.pop() if len(types) == 1 else "mixed"
        n_items = score.n_items
    else:
        output_type = res.get("configs", {}).get(task, {}).get("output_type") or "mixed"
        n_items = _n(res.get("n-samples", {}).get(task, {}).get("original"))
    return Task(
        id=task, name=name[:200], metric=score.metric,
        direction="higher" if better is not False else "lower",
        chance=round(chance(samples, output_type), 6), n_items=n_items,
        output_type=output_type, parent=parent,
        category="bias" if task.startswith("crows_pairs") else "capability",
    )
