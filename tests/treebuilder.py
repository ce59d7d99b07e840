"""A small, valid results tree written through the schema models, for tests to start from."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from evalrunner.results.schema import (
    Count,
    Family,
    ImportProvenance,
    Model,
    Params,
    Result,
    Revision,
    Score,
    Setting,
    SettingRegistry,
    Task,
    TaskRegistry,
)
from evalrunner.results.write import write_file

PROVENANCE = ImportProvenance(kind="import", repository="example/evals", commit="a19eecb8",
                              path="evals/x.json", license="MIT", sha256="0" * 64,
                              importer="test")


def build_tree(root: Path, models: dict[str, float] | None = None) -> Path:
    """tasks, settings, one family `fam`, models with the given non-embedding sizes, one
    final result each on arc_easy and piqa."""
    models = models or {"fam-small": 1e8, "fam-large": 1e9}
    root.mkdir(parents=True, exist_ok=True)
    write_file(root, PurePosixPath("tasks.yaml"), "tasks", TaskRegistry(tasks=[
        Task(id="arc_easy", name="ARC-Easy", metric="acc", chance=0.25, n_items=2376,
             output_type="multiple_choice"),
        Task(id="piqa", name="PIQA", metric="acc", chance=0.5, n_items=1838,
             output_type="multiple_choice"),
    ]))
    write_file(root, PurePosixPath("settings.yaml"), "settings", SettingRegistry(settings=[
        Setting(id="zero-shot", name="Zero-shot", harness="lm-evaluation-harness",
                harness_version="0.4.13", n_shot=0),
    ]))
    write_file(root, PurePosixPath("fam/family.yaml"), "family",
               Family(id="fam", name="Fam", organisation="Example Org", reference=True))
    for i, (model_id, n) in enumerate(sorted(models.items())):
        write_file(root, PurePosixPath(f"fam/{model_id}/model.yaml"), "model", Model(
            id=model_id, family="fam", name=model_id,
            params=Params(non_embedding=Count(value=int(n), source="config")),
            training_tokens=Count(value=int(3e11), source="declared")))
        write_file(root, PurePosixPath(f"fam/{model_id}/zero-shot/main.yaml"), "result", Result(
            model=model_id, setting="zero-shot", tier="published", provenance=PROVENANCE,
            revision=Revision(id="main", step=143000, tokens=299892736000),
            scores={"arc_easy": Score(metric="acc", value=0.4 + 0.1 * i, stderr=0.01),
                    "piqa": Score(metric="acc", value=0.6 + 0.05 * i, stderr=0.011)}))
    return root
