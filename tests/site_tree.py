"""A small synthetic results tree for the site tests, written through the schema models.

Two families: `ref` (a reference family: five sizes, checkpoints of every size) and `other`
(an instruct model, a closed-weights model and a model whose name is an HTML injection).
Scores follow a smooth power law so fits and charts have something to show. Nothing random.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path, PurePosixPath

from evalrunner.results.schema import (
    Aggregate,
    AnswerLoss,
    Count,
    Family,
    ImportProvenance,
    Link,
    Model,
    Params,
    ReleaseDate,
    Result,
    Revision,
    RunnerProvenance,
    Score,
    Setting,
    SettingRegistry,
    SubmissionProvenance,
    Task,
    TaskRegistry,
)
from evalrunner.results.write import write_file

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE2 = "</script><img src=x onerror=alert(2)>"
TOKENS_PER_STEP = 2_097_152
STEPS = (1000, 8000, 32000, 64000, 143000)
# task -> (chance, n_items, scale of the power law)
TASKS = {"arc_easy": (0.25, 2376, 1.0), "piqa": (0.5, 1838, 0.8), "hellaswag": (0.25, 10042, 1.2),
         "lambada_openai": (0.0, 5153, 0.9)}
SUBTASKS = ("mmlu_anatomy", "mmlu_astronomy")
IMPORT = ImportProvenance(kind="import", repository="example/evals", commit="a19eecb8",
                          path="evals/x.json", license="MIT", sha256="0" * 64, importer="fixture")


def _score(task: str, n: float, tokens: float, shift: float = 0.0) -> float:
    """A saturating power law in compute, kept inside (chance, 1)."""
    chance, _, scale = TASKS.get(task, (0.25, 100, 0.7))
    x = math.log10(6 * n * tokens)
    normalised = 1 - math.exp(-scale * max(x - 17.0, 0.05) / 4.0) + shift
    return round(chance + (0.95 - chance) * min(max(normalised, 0.02), 0.97), 6)


def _scores(n: float, tokens: float, shift: float = 0.0, mmlu: bool = True) -> dict[str, Score]:
    out = {}
    for task, (_, n_items, _) in TASKS.items():
        v = _score(task, n, tokens, shift)
        out[task] = Score(metric="acc", value=v, stderr=round(math.sqrt(v * (1 - v) / n_items), 6),
                          n_items=n_items,
                          answer_loss=AnswerLoss(per_token=round(3.0 - 1.5 * v, 6)))
    if mmlu:
        subs = {t: _score(t, n, tokens, shift) for t in SUBTASKS}
        for t, v in subs.items():
            out[t] = Score(metric="acc", value=v, stderr=0.04, n_items=135)
        out["mmlu"] = Score(metric="acc", value=sum(subs.values()) / len(subs), stderr=0.03,
                            aggregate=Aggregate(method="macro_mean", of=list(SUBTASKS)))
    out["crows_pairs_english"] = Score(metric="pct_stereotype", value=0.6, stderr=0.01)
    return out


def _registries(root: Path) -> None:
    tasks = [Task(id=t, name=t.replace("_", " ").title(), metric="acc", chance=c, n_items=n,
                  output_type="multiple_choice" if c else "loglikelihood",
                  description=f"Fixture task {t}.", url="https://example.org/paper")
             for t, (c, n, _) in TASKS.items()]
    tasks.append(Task(id="mmlu", name="MMLU", metric="acc", chance=0.25,
                      output_type="multiple_choice", description="Mean of the subtasks."))
    tasks += [Task(id=t, name=t, metric="acc", chance=0.25, n_items=135, parent="mmlu",
                   output_type="multiple_choice") for t in SUBTASKS]
    tasks.append(Task(id="crows_pairs_english", name="CrowS-Pairs", metric="pct_stereotype",
                      direction="lower", chance=0.5, output_type="multiple_choice",
                      category="bias", description=HOSTILE2))
    write_file(root, PurePosixPath("tasks.yaml"), "tasks",
               TaskRegistry(tasks=sorted(tasks, key=lambda t: t.id)))
    write_file(root, PurePosixPath("settings.yaml"), "settings", SettingRegistry(settings=[
        Setting(id="zero-shot", name="Zero-shot", harness="lm-evaluation-harness",
                harness_version="0.4.13", n_shot=0, description="All tasks 0-shot."),
        Setting(id="five-shot", name="Five-shot", harness="lm-evaluation-harness",
                harness_version="0.4.13", n_shot=5, source=HOSTILE),
    ]))


def _model(root: Path, family: str, mid: str, name: str, n: float, tokens: float,
           released: dt.date, **kw) -> None:
    write_file(root, PurePosixPath(f"{family}/{mid}/model.yaml"), "model", Model(
        id=mid, family=family, name=name,
        params=Params(non_embedding=Count(value=int(n), source="config"),
                      total=Count(value=int(n * 1.2), source="config")),
        training_tokens=Count(value=int(tokens), source="declared"),
        release_date=ReleaseDate(date=released, source="fixture"), **kw))


def _result(root: Path, family: str, mid: str, setting: str, rev: Revision, scores, **kw) -> None:
    kw.setdefault("tier", "published")
    kw.setdefault("provenance", IMPORT)
    write_file(root, PurePosixPath(f"{family}/{mid}/{setting}/{rev.id}.yaml"), "result",
               Result(model=mid, setting=setting, revision=rev, scores=scores, **kw))


def build_site_tree(root: Path) -> Path:
    """Write the fixture tree under root and return root."""
    root.mkdir(parents=True, exist_ok=True)
    _registries(root)
    write_file(root, PurePosixPath("ref/family.yaml"), "family", Family(
        id="ref", name="Ref", organisation="Ref Lab", reference=True, license="Apache-2.0",
        links=[Link(title="Paper", url="https://example.org/ref")],
        description="A reference family trained with one recipe."))
    final_tokens = STEPS[-1] * TOKENS_PER_STEP
    for i, n in enumerate((2e7, 8e7, 3e8, 1e9, 3e9)):
        mid = f"ref-{i + 1}"
        # the smaller the later: each sets a density record, so the densing law has points
        released = dt.date(2023, 4, 3) + dt.timedelta(days=40 * (5 - i))
        _model(root, "ref", mid, f"Ref {i + 1}", n, final_tokens, released,
               hf_id=f"example/ref-{i + 1}")
        for step in STEPS:
            tokens = step * TOKENS_PER_STEP
            rev = Revision(id=f"step{step}", step=step, tokens=tokens, final=step == STEPS[-1])
            _result(root, "ref", mid, "zero-shot", rev, _scores(n, tokens))
        rev = Revision(id=f"step{STEPS[-1]}", step=STEPS[-1], tokens=final_tokens)
        _result(root, "ref", mid, "five-shot", rev, _scores(n, final_tokens, 0.02))

    write_file(root, PurePosixPath("other/family.yaml"), "family", Family(
        id="other", name="Other *family* | x", organisation=HOSTILE,
        description=f"{HOSTILE} [click](javascript:alert(3)) **bold**"))
    others = [("other-chat", "Other Chat", 5e8, 2e12, dt.date(2024, 1, 10), "instruct", True),
              ("other-big", "Other Big", 7e9, 2e12, dt.date(2024, 6, 1), "base", False),
              ("evil", HOSTILE, 1e9, 1e12, dt.date(2023, 9, 1), "base", True)]
    for mid, name, n, tokens, released, kind, open_weights in others:
        _model(root, "other", mid, name, n, tokens, released, kind=kind,
               open_weights=open_weights, notes=HOSTILE2,
               links=[Link(title=HOSTILE, url="https://example.org/a?b=<c>".replace("<c>", "c"))])
        rev = Revision(id="main", commit="abcdef1")
        if mid == "evil":
            prov = SubmissionProvenance(kind="submission", submitter=HOSTILE,
                                        url="https://example.org/logs", command=HOSTILE2)
            _result(root, "other", mid, "zero-shot", rev, _scores(n, tokens, 0.05),
                    tier="submitted", provenance=prov)
        elif mid == "other-chat":
            prov = RunnerProvenance(kind="runner", command="densitometer run plans/x.yaml",
                                    densitometer_version="0.1.0", lm_eval_version="0.4.13",
                                    model_source="example/other-chat")
            _result(root, "other", mid, "zero-shot", rev, _scores(n, tokens, -0.03),
                    tier="reproduced", provenance=prov)
        else:
            _result(root, "other", mid, "zero-shot", rev, _scores(n, tokens, 0.01, mmlu=False))
        _result(root, "other", mid, "five-shot", rev, _scores(n, tokens, 0.03))
    return root
