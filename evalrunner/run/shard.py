"""One shard: load a revision once, evaluate every task of every pending setting through
`lm_eval.simple_evaluate`, and write one result file per setting.

`run_shard` is the unit of work an executor runs (in this process, or pickled into a Slurm job):
it never raises for a failing revision; it returns a ShardOutcome saying what was written and
what failed. Write order per setting: the per-sample log, then the registries (locked merge),
then the result file, last and atomically. A result file on disk therefore always has its log
and registry entries, and a run killed at any moment (SIGKILL included) leaves only whole files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from evalrunner import __version__
from evalrunner.results import layout
from evalrunner.results.samples import sample_path
from evalrunner.results.schema import Count, Model, Result, RunnerProvenance, Setting
from evalrunner.results.write import write_file

from . import loading, registry
from .convert import answer_loss, derive_task, to_scores
from .items import write_items
from .matrix import SettingJob, ShardSpec
from .resolve import TaskSpec, task_manager
from .samples import remove_stale_temps, write_samples

HARNESS = "lm-evaluation-harness"
MERGED_KEYS = ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples",
               "group_subtasks")
LMEVAL_DEFAULT_SEEDS = {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}


@dataclass(frozen=True)
class ShardOutcome:
    """What one shard did. `failed` holds (setting id or "load", one-line message)."""

    key: str
    n_settings: int
    written: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    wall_time_s: float = 0.0
    log: str | None = None  # traceback file of the failures

    @property
    def ok(self) -> bool:
        return not self.failed


def run_shard(spec: ShardSpec) -> ShardOutcome:
    """Evaluate one revision in all its pending settings. Module level, so it pickles."""
    t0 = time.perf_counter()
    loading.set_offline(spec.offline)
    written: list[str] = []
    failed: list[tuple[str, str]] = []
    traces: list[str] = []
    lm = None
    try:
        lm = loading.load_lm(spec)
    except Exception as err:  # noqa: BLE001 - recorded and reported, the other shards go on
        failed.append(("load", _one_line(err)))
        traces.append(traceback.format_exc())
    if lm is not None:
        counter = loading.token_counter(lm)
        for job in spec.settings:
            try:
                written.append(evaluate_setting(spec, job, lm, counter))
            except Exception as err:  # noqa: BLE001
                failed.append((job.setting.id, _one_line(err)))
                traces.append(traceback.format_exc())
    del lm
    _release_memory()
    log = _write_log(spec, traces) if traces else None
    return ShardOutcome(spec.key, len(spec.settings), tuple(written), tuple(failed),
                        time.perf_counter() - t0, log)


_heap_frozen = False


def _release_memory() -> None:
    """Free the revision's model before the next one loads (lm-eval's wrappers hold cycles).

    A full collection walks every object, the imported libraries included (~0.6 s, as long as
    evaluating a tiny model); after the first one, what survives is frozen (gc.freeze), so later
    collections walk only what the next shard creates.
    """
    global _heap_frozen
    gc.collect()
    if not _heap_frozen:
        gc.freeze()
        _heap_frozen = True
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _one_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return f"{type(err).__name__}: {text}" if type(err).__name__ not in text else text


def _write_log(spec: ShardSpec, traces: list[str]) -> str:
    path = (Path(spec.samples_dir) / spec.family.id / spec.model.id
            / f"{spec.revision.id}.error.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(traces), encoding="utf-8")
    return str(path)


def _shot_groups(job: SettingJob) -> dict[int, list[TaskSpec]]:
    groups: dict[int, list[TaskSpec]] = {}
    for t in job.tasks:
        groups.setdefault(job.setting.n_shot_per_task.get(t.name, job.setting.n_shot), []).append(t)
    return groups


def _seeds(spec: ShardSpec) -> dict[str, int]:
    seed = spec.run.seed
    return dict(LMEVAL_DEFAULT_SEEDS) if seed is None else dict.fromkeys(LMEVAL_DEFAULT_SEEDS, seed)


# lm-eval's bootstrap stderr (perplexity, median, F1, ...) runs in a multiprocessing Pool unless
# one of these is set. A Pool forked inside a scheduler's job inherits the job's signal handlers
# (submitit ignores SIGTERM), and the pool's own shutdown then waits forever on its workers. The
# single-process path draws the same resamples (random.Random(i) per chunk), so the stderrs are
# identical, and a shard never forks.
SERIAL_BOOTSTRAP = {"DISABLE_MULTIPROC": "1", "LMEVAL_DISABLE_MULTIPROC": "1"}


@contextlib.contextmanager
def serial_bootstrap():
    """lm-eval without worker processes for the duration (the environment is put back)."""
    saved = {k: os.environ.get(k) for k in SERIAL_BOOTSTRAP}
    os.environ.update(SERIAL_BOOTSTRAP)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_lm_eval(spec: ShardSpec, job: SettingJob, lm: Any) -> tuple[dict, dict, float]:
    """lm-eval's results (merged over shot counts) and samples for one setting; wall time."""
    with serial_bootstrap():
        return _run_lm_eval(spec, job, lm)


def _run_lm_eval(spec: ShardSpec, job: SettingJob, lm: Any) -> tuple[dict, dict, float]:
    import lm_eval

    tm = task_manager(spec.include_paths, spec.include_defaults)
    seeds = _seeds(spec)
    merged: dict[str, Any] = {k: {} for k in MERGED_KEYS}
    samples: dict[str, list] = {}
    t0 = time.perf_counter()
    for shots, tasks in sorted(_shot_groups(job).items()):
        objs = []
        for t in tasks:
            loaded = tm.load([t.spec()])  # fresh objects: simple_evaluate mutates its tasks
            objs.append(loaded["groups"].get(t.name) or loaded["tasks"][t.name])
        res = lm_eval.simple_evaluate(
            model=lm, tasks=objs, task_manager=tm, num_fewshot=shots, limit=spec.run.limit,
            bootstrap_iters=spec.run.bootstrap_iters, log_samples=True,
            gen_kwargs=spec.run.gen_kwargs, apply_chat_template=spec.run.apply_chat_template,
            batch_size=spec.run.batch_size, device=spec.run.device,
            random_seed=seeds["random"], numpy_random_seed=seeds["numpy"],
            torch_random_seed=seeds["torch"], fewshot_random_seed=seeds["fewshot"],
        )
        samples.update(res.pop("samples", {}))
        for key in MERGED_KEYS:
            merged[key].update(res.get(key) or {})
        merged.setdefault("lm_eval_version", res.get("lm_eval_version"))
        merged.setdefault("transformers_version", res.get("transformers_version"))
    return merged, samples, time.perf_counter() - t0


def task_hash(samples: list[dict]) -> str:
    """lm-eval's task hash (as its EvaluationTracker computes it) from the samples."""
    from lm_eval.utils import hash_string

    return hash_string("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"]
                               for s in samples))


def evaluate_setting(spec: ShardSpec, job: SettingJob, lm: Any,
                     counter: loading.TokenCounter | None) -> str:
    """Evaluate one setting and write its files; returns the result path (relative)."""
    root = Path(spec.results_root)
    res, samples, wall = run_lm_eval(spec, job, lm)
    info = {**spec.task_info, **registry.existing_tasks(root)}  # what is on disk wins
    preferred = {t: i.metric for t, i in info.items()} | dict(job.setting.metric_per_task)
    losses = {t: answer_loss(samples.get(t, []), cfg.get("output_type", ""), counter)
              for t, cfg in res["configs"].items()}
    scores = to_scores(res, preferred, losses)
    tasks = {t: info.get(t) or derive_task(t, res, samples.get(t, []), s)
             for t, s in scores.items()}
    setting = job.setting
    log_path = sample_path(Path(spec.samples_dir), spec.family.id, spec.model.id, setting.id,
                           spec.revision.id)
    sha = write_samples(log_path, samples)
    write_items(log_path, samples, sha)  # per-item summary for diagnostics and pass@k
    sha_model, commit = loading.model_sha(spec, lm)
    result = Result(
        model=spec.model.id, setting=setting.id, tier="reproduced", scores=scores,
        revision=spec.revision.model_copy(update={"commit": commit}) if commit else spec.revision,
        provenance=_provenance(spec, job, res, samples, wall, sha, sha_model),
    )
    with registry.registry_lock(Path(spec.samples_dir)):
        registry.remove_stale_temps(root, spec.family.id, spec.model.id)
        registry.merge_tasks(root, tasks)
        registry.merge_settings(root, {setting.id: _setting_entry(job, res)})
        registry.ensure_family(root, spec.family)
        if not layout.model_path(root, spec.family.id, spec.model.id).exists():
            registry.ensure_model(root, model_entry(spec, lm))
    rel = PurePosixPath(spec.family.id, spec.model.id, setting.id, f"{spec.revision.id}.yaml")
    remove_stale_temps(root / rel)  # only this shard writes this file
    write_file(root, rel, "result", result)
    return rel.as_posix()


def _setting_entry(job: SettingJob, res: dict) -> Setting:
    s = job.setting
    return Setting(id=s.id, name=s.name, harness=HARNESS,
                   harness_version=str(res.get("lm_eval_version") or "unknown"),
                   n_shot=s.n_shot, n_shot_per_task=s.n_shot_per_task,
                   metric_per_task=s.metric_per_task, prompt_variant=s.prompt_variant,
                   source="densitometer run", description=s.description)


def _versions() -> dict[str, str | None]:
    import importlib.metadata as md

    out: dict[str, str | None] = {}
    for pkg in ("lm_eval", "torch", "transformers"):
        try:
            out[pkg] = md.version(pkg.replace("_", "-"))
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _provenance(spec: ShardSpec, job: SettingJob, res: dict, samples: dict, wall: float,
                sha: str, sha_model: str | None) -> RunnerProvenance:
    versions = _versions()
    leaves = [t for t in res["configs"] if t in samples]
    return RunnerProvenance(
        kind="runner", command=job.command, densitometer_version=__version__,
        lm_eval_version=versions["lm_eval"] or "unknown", torch_version=versions["torch"],
        transformers_version=versions["transformers"], backend=spec.run.backend,
        model_source=spec.model.path or spec.model.hf_id or spec.source, model_sha=sha_model,
        dtype=spec.run.dtype, batch_size=str(spec.run.batch_size), device=spec.run.device,
        limit=spec.run.limit, seeds=_seeds(spec),
        task_versions={t: str(v) for t, v in sorted(res["versions"].items())},
        task_hashes={t: task_hash(samples[t]) for t in sorted(leaves)},
        n_samples={t: int(v.get("effective", v.get("original", 0)))
                   for t, v in sorted(res["n-samples"].items())},
        wall_time_s=round(wall, 3), samples_sha256=sha,
        date=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )


def model_entry(spec: ShardSpec, lm: Any) -> Model:
    """model.yaml for a model seen for the first time: plan facts plus counted parameters."""
    m = spec.model
    params, arch = (m.params, None) if m.params != "config" else loading.count_params(spec, lm)
    if params is None:
        raise loading.ModelLoadError(
            f"{spec.key}: cannot count parameters for backend {spec.run.backend!r}; give "
            "params in the plan (params: {total: {value: ..., source: declared}})")
    tokens = m.training_tokens
    if tokens is None:
        final = next((e for e in m.revision_entries() if e.id == (m.final or
                      m.revision_entries()[-1].id)), None)
        if final is not None and final.tokens:
            tokens = Count(value=final.tokens, source="declared")
    return Model(id=m.id, family=spec.family.id, name=m.name or m.id, hf_id=m.hf_id,
                 params=params, training_tokens=tokens, release_date=m.release_date,
                 kind=m.kind, moe=m.moe, open_weights=m.open_weights, open_data=m.open_data,
                 architecture=arch, links=m.links, notes=m.notes)

