"""`densitometer submit`: a runner output or an lm-eval results JSON -> the files a PR needs.

Plan first, write last: `plan_submission` reads the source (the importers' `parse_lmeval` for
lm-eval JSON, 0.4.x `"acc,none"` keys and the legacy format alike; a runner result YAML through
the safe reader), builds the result, and the model and family entries when they are new
(parameter counts from a local `config.json` through `evalrunner.params`). `preview_submission`
writes the planned files into a copy of the tree and runs the same checks and ranking as the
pull-request preview; only then does `apply` write them. Every path comes from ids checked
against the schema's pattern, never from the source file.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from evalrunner.results import errors, layout
from evalrunner.results.schema import (
    HF_ID_PATTERN,
    ID_PATTERN,
    Count,
    Family,
    Model,
    Params,
    Result,
    Revision,
    Score,
    SubmissionProvenance,
    Supersedes,
)
from evalrunner.results.validate import Tree, validate_tree
from evalrunner.results.write import write_file

from .plausibility import count_disagreement

MAX_JSON_BYTES = 256 * 1024 * 1024  # an lm-eval JSON with logged samples can be large
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


class SubmitError(Exception):
    """A submission that cannot be turned into result files: what, expected, found, and how."""

    def __init__(self, what: str, expected: str, found: Any, fix: str = ""):
        self.what, self.expected, self.found, self.fix = what, expected, found, fix
        shown = repr(found)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        super().__init__(f"{what}: expected {expected}, found {shown}" + (f"; {fix}" if fix
                                                                          else ""))


@dataclass(frozen=True)
class Submission:
    """What the contributor says about the run (the command-line options)."""

    family: str
    submitter: str
    model: str | None = None
    setting: str | None = None
    revision: str | None = None
    url: str | None = None
    step: int | None = None
    tokens: int | None = None
    final: bool = True
    model_dir: Path | None = None
    hf_id: str | None = None
    name: str | None = None
    family_name: str | None = None
    organisation: str | None = None
    params: int | None = None
    training_tokens: int | None = None
    reason: str | None = None  # why an existing result is replaced


@dataclass
class Plan:
    """The files to write (relative path, kind, object) and notes for the contributor."""

    files: list[tuple[PurePosixPath, str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _check_id(what: str, value: str | None) -> str:
    if value is None or not re.match(ID_PATTERN, value):
        raise SubmitError(what, f"an id matching {ID_PATTERN} (lowercase letters, digits, "
                          "'.', '_', '+', '-')", value)
    return value


def _read_source(source: Path) -> tuple[str, Any]:
    """('json', dict) or ('yaml', Result) from the source file."""
    source = Path(source)
    if not source.is_file():
        raise SubmitError(str(source), "a file (lm-eval results JSON or a runner result YAML)",
                          "nothing")
    if source.suffix in (".yaml", ".yml"):
        from pydantic import ValidationError

        from evalrunner.results.read import ReadError, read_yaml

        try:
            return "yaml", Result.model_validate(read_yaml(source))
        except ReadError as err:
            raise SubmitError(str(source), "a valid result YAML", err.message) from None
        except ValidationError as err:
            raise SubmitError(str(source), "a result file matching the schema",
                              err.errors(include_url=False)[0]["msg"]) from None
    if source.stat().st_size > MAX_JSON_BYTES:
        raise SubmitError(str(source), f"at most {MAX_JSON_BYTES:,} bytes",
                          source.stat().st_size)
    try:
        data = json.loads(source.read_bytes(), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as err:
        raise SubmitError(str(source), "an lm-eval results JSON", str(err)[:200]) from None
    if not isinstance(data, dict):
        raise SubmitError(str(source), "a JSON object", type(data).__name__)
    return "json", data


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a result can hold")


def _scores_from_json(data: dict, tree: Tree, setting_id: str,
                      source: Path) -> tuple[dict[str, Score], Any]:
    from evalrunner.importers.lmeval import LmEvalFormatError, parse_lmeval

    setting = tree.settings[setting_id]
    headline = {t: setting.metric_per_task.get(t, task.metric) for t, task in tree.tasks.items()}
    try:
        run = parse_lmeval(data, headline=headline, where=str(source))
    except LmEvalFormatError as err:
        raise SubmitError(err.where, err.expected, err.found) from None
    except (ValueError, TypeError, KeyError, AttributeError) as err:  # a shape it did not expect
        raise SubmitError(str(source), "an lm-eval results JSON (0.4.x or the old format)",
                          f"{type(err).__name__}: {err}") from None
    if run.meta.limit is not None:
        raise SubmitError(f"{source}: config.limit", "a full run (no --limit)", run.meta.limit,
                          "a run on part of each task is a smoke test, not a result")
    return run.scores, run.meta


def _known_scores(scores: dict[str, Score], tree: Tree, notes: list[str]) -> dict[str, Score]:
    """Scores of tasks in tasks.yaml; the others are left out, and said so."""
    unknown = sorted(t for t in scores if t not in tree.tasks)
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more"
                                          if len(unknown) > 10 else "")
        notes.append(f"left out {len(unknown)} task(s) not in tasks.yaml: {shown}")
    known = {t: s for t, s in scores.items() if t in tree.tasks}
    for t, s in list(known.items()):
        if s.aggregate is not None and any(sub not in known for sub in s.aggregate.of):
            known[t] = s.model_copy(update={"aggregate": None})
            notes.append(f"{t}: kept as a plain score (some of its subtasks are not in "
                         "tasks.yaml)")
    if not known:
        raise SubmitError("scores", "at least one task from tasks.yaml", sorted(scores)[:10],
                          "add the tasks to tasks.yaml first")
    return known


def _with_parents(scores: dict[str, Score], tree: Tree, setting: str,
                  notes: list[str]) -> dict[str, Score]:
    """Add each parent task of tasks.yaml (mmlu) as the macro mean of its subtasks, when the
    run has all of them and no parent score (the old harness), as the importers do."""
    from evalrunner.importers.lmeval import LmEvalFormatError, with_macro_mean

    children: dict[str, list[str]] = {}
    for task in tree.tasks.values():
        if task.parent:
            children.setdefault(task.parent, []).append(task.id)
    for parent, subs in sorted(children.items()):
        if parent not in tree.tasks or parent in scores or not all(t in scores for t in subs):
            continue
        metric = tree.settings[setting].metric_per_task.get(parent, tree.tasks[parent].metric)
        try:
            scores = with_macro_mean(scores, parent, sorted(subs), metric)
        except LmEvalFormatError as err:
            notes.append(f"{parent}: no macro mean of its subtasks ({err})")
            continue
        notes.append(f"{parent}: added as the macro mean of its {len(subs)} subtasks")
    return scores


def _params(sub: Submission, declared: int | None, notes: list[str]) -> tuple[Params, str | None,
                                                                              bool]:
    """(params, architecture, moe) for a new model: from the config, else declared."""
    from evalrunner.params import ParamCountError, count_model_dir, count_params

    counted, source, arch = None, "config", None
    if sub.model_dir is not None:
        config_file = Path(sub.model_dir) / "config.json"
        try:
            config = json.loads(config_file.read_text()) if config_file.is_file() else None
            arch = str(config.get("model_type")) if isinstance(config, dict) else None
            counted = count_params(config) if isinstance(config, dict) else None
        except (ParamCountError, ValueError, OSError) as err:
            notes.append(f"could not count parameters from {config_file}: {err}")
        if counted is None:
            try:
                counted, source = count_model_dir(Path(sub.model_dir)), "safetensors"
            except (ParamCountError, ValueError, OSError) as err:
                notes.append(f"could not count parameters from the weights: {err}")
    if counted is not None:
        if declared is not None:
            rel = count_disagreement(declared, counted.total)
            if rel is not None:
                notes.append(f"warning: declared {declared:,} parameters differ from the "
                             f"{counted.total:,} counted from the {source} by {rel:.1%}")
        active = counted.active is not None
        return Params(
            total=Count(value=counted.total, source=source),
            non_embedding=Count(value=counted.non_embedding, source=source),
            embedding=Count(value=counted.embedding, source=source),
            active=Count(value=counted.active, source=source) if active else None,
            active_non_embedding=Count(value=counted.active_non_embedding, source=source)
            if active else None,
        ), arch or counted.architecture, active
    if declared is None:
        raise SubmitError("params", "a local model folder with config.json (--model-dir), "
                          "--params, or config.model_num_parameters in the lm-eval json", None)
    return Params(total=Count(value=declared, source="declared")), arch, False


def plan_submission(source: Path, sub: Submission, root: Path, tree: Tree | None = None) -> Plan:
    """Every file the submission needs under root, checked against the tree's registries
    (`tree`: root already validated, else it is validated here)."""
    from pydantic import ValidationError

    try:
        return _plan(source, sub, Path(root), tree)
    except ValidationError as err:  # an option the schema refuses (a javascript: URL)
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in (err.title, *first["loc"]))
        expected = errors.message(first).removeprefix("expected ").split(", found ")[0]
        raise SubmitError(where, expected, first.get("input")) from None


def _plan(source: Path, sub: Submission, root: Path, tree: Tree | None) -> Plan:
    tree = tree if tree is not None else validate_tree(root).tree
    plan = Plan()
    kind, data = _read_source(source)
    family = _check_id("--family", sub.family)
    if kind == "yaml":
        model = _check_id("--model", sub.model or data.model)
        setting = _check_id("--setting", sub.setting or data.setting)
        revision = _check_id("--revision", sub.revision or data.revision.id)
    else:
        model = _check_id("--model", sub.model)
        setting = _check_id("--setting", sub.setting)
    if setting not in tree.settings:
        import difflib

        hint = difflib.get_close_matches(setting, list(tree.settings), n=1)
        raise SubmitError("--setting", f"a setting in {root / layout.SETTINGS_FILE}", setting,
                          f"did you mean {hint[0]!r}?" if hint else "add it to settings.yaml")
    if kind == "yaml":
        scores, meta = dict(data.scores), None
        provenance = _yaml_provenance(data, sub)
        rev = data.revision.model_copy(update={"id": revision})
    else:
        scores, meta = _scores_from_json(data, tree, setting, source)
        revision = _check_id("--revision", sub.revision or (
            meta.revision if meta.revision and re.match(ID_PATTERN, meta.revision) else "main"))
        provenance = _json_provenance(meta, sub)
        rev = Revision(id=revision, step=sub.step, tokens=sub.tokens, final=sub.final,
                       commit=meta.model_sha if meta.model_sha and _COMMIT.match(meta.model_sha)
                       else None)
    scores = _with_parents(_known_scores(scores, tree, plan.notes), tree, setting, plan.notes)
    rel = PurePosixPath(family, model, setting, f"{revision}.yaml")
    supersedes = _supersedes(root, rel, sub, scores)
    result = Result(model=model, setting=setting, revision=rev, tier="submitted",
                    scores=scores, provenance=provenance, supersedes=supersedes)
    existing = (root / rel).is_file() and _same_result(root / rel, result)
    if not existing:
        plan.files.append((rel, "result", result))
    else:
        plan.notes.append(f"{rel} already holds these scores")
    declared = sub.params or (meta.model_num_parameters if meta else None)
    if model in tree.models:
        if tree.models[model].family != family:
            raise SubmitError("--family", f"{tree.models[model].family!r} (the family of the "
                              f"existing model {model!r})", family)
        _compare_existing(tree.models[model], sub, declared, plan.notes)
    else:
        params, arch, moe = _params(sub, declared, plan.notes)
        if sub.hf_id is not None and not re.match(HF_ID_PATTERN, sub.hf_id):
            raise SubmitError("--hf-id", "owner/name", sub.hf_id)
        plan.files.append((PurePosixPath(family, model, layout.MODEL_FILE), "model", Model(
            id=model, family=family, name=sub.name or model, hf_id=sub.hf_id, params=params,
            moe=moe, architecture=arch, training_tokens=Count(value=sub.training_tokens,
                                                              source="declared")
            if sub.training_tokens else None)))
    if family not in tree.families:
        if not sub.organisation:
            raise SubmitError("--organisation", "the organisation behind the new family "
                              f"{family!r}", None)
        plan.files.append((PurePosixPath(family, layout.FAMILY_FILE), "family", Family(
            id=family, name=sub.family_name or family, organisation=sub.organisation)))
    return plan


def _yaml_provenance(result: Result, sub: Submission) -> SubmissionProvenance:
    p = result.provenance
    if p.kind == "submission":
        return p.model_copy(update={"submitter": sub.submitter, "url": sub.url or p.url})
    if p.kind == "runner":
        notes = (f"Runner output: densitometer {p.densitometer_version}, lm-eval "
                 f"{p.lm_eval_version}, model {p.model_source}"
                 + (f" at {p.model_sha}" if p.model_sha else "") + ".")
        return SubmissionProvenance(kind="submission", submitter=sub.submitter, url=sub.url,
                                    command=p.command, notes=notes[:4000])
    raise SubmitError("provenance.kind", "runner or submission (imports are not submitted)",
                      p.kind)


def _json_provenance(meta: Any, sub: Submission) -> SubmissionProvenance:
    parts = [f"lm-eval {meta.harness_version or 'version not recorded'} ({meta.format} format)"]
    if meta.model:
        parts.append(f"model type {meta.model}")
    if meta.pretrained:
        parts.append(f"pretrained {meta.pretrained}")
    if meta.model_sha:
        parts.append(f"model sha {meta.model_sha}")
    if meta.batch_size:
        parts.append(f"batch size {meta.batch_size}")
    notes = "Converted by densitometer submit from " + ", ".join(parts) + "."
    return SubmissionProvenance(kind="submission", submitter=sub.submitter, url=sub.url,
                                notes=notes[:4000])


def _supersedes(root: Path, rel: PurePosixPath, sub: Submission,
                scores: dict[str, Score]) -> list[Supersedes]:
    """Keep an existing file's entries (they are permanent); add one when its scores change."""
    path = root / rel
    if not path.is_file():
        return []
    from evalrunner.results.read import ReadError, read_yaml

    try:
        old = Result.model_validate(read_yaml(path))
    except (ReadError, ValueError):
        old = None
    entries = list(old.supersedes) if old else []
    if old is not None and dict(old.scores) == scores:
        return entries
    if not sub.reason:
        raise SubmitError(f"results/{rel}", "a new file (this revision already has a result)",
                          "an existing result", "pass --reason '<why the numbers change>' to "
                          "supersede it (history is append-only)")
    return entries + [Supersedes(path=f"results/{rel}", reason=sub.reason)]


def _same_result(path: Path, result: Result) -> bool:
    from evalrunner.results.read import ReadError, read_yaml

    try:
        return Result.model_validate(read_yaml(path)) == result
    except (ReadError, ValueError):
        return False


def _compare_existing(model: Model, sub: Submission, declared: int | None,
                      notes: list[str]) -> None:
    """An existing model entry is not rewritten; a config that disagrees with it is noted."""
    if sub.model_dir is None and declared is None:
        return
    try:
        fresh, _, _ = _params(sub, declared, [])
    except SubmitError:
        return
    for kind in ("total", "non_embedding"):
        ours, theirs = getattr(model.params, kind), getattr(fresh, kind)
        if ours is None or theirs is None:
            continue
        rel = count_disagreement(ours.value, theirs.value)
        if rel is not None:
            notes.append(f"warning: {model.id} model.yaml gives params.{kind} {ours.value:,} "
                         f"but the {theirs.source} gives {theirs.value:,} ({rel:.1%} apart)")


def preview_submission(plan: Plan, root: Path, workdir: Path, base_report: Any = None):
    """The preview of the tree with the planned files, written into a copy under workdir."""
    from .preview import compare_roots

    head = Path(workdir) / "head"
    shutil.copytree(root, head, symlinks=True)
    for rel, kind, obj in plan.files:
        write_file(head, rel, kind, obj)
    shown = Path(root).as_posix().rstrip("/") + "/"
    return compare_roots(Path(root), head, f"{shown} as it is", "with this submission",
                         shown=shown, base_report=base_report)


def apply(plan: Plan, root: Path) -> list[str]:
    """Write the planned files under root; returns the paths written."""
    return [(Path(root) / rel).as_posix() for rel, kind, obj in plan.files
            if write_file(Path(root), rel, kind, obj)]


def check_and_write(source: Path, sub: Submission, root: Path, write: bool = True):
    """Plan, preview, and write when the preview has no errors. Returns (plan, preview,
    written paths)."""
    report = validate_tree(Path(root))
    plan = plan_submission(source, sub, root, report.tree)
    with tempfile.TemporaryDirectory(prefix="densitometer-submit-") as tmp:
        preview = preview_submission(plan, root, Path(tmp), report)
    written = apply(plan, root) if write and not preview.errors else []
    return plan, preview, written
