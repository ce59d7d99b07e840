"""The offline demo: train the tiny family into a work folder, run the example plan on it,
validate the results. Every step is skipped when its output is already complete.

    DIR/models/<model>/step<N>/   checkpoints (densitometer train-tiny DIR)
    DIR/tiny-plan.yaml            the example plan, beside the models it names
    DIR/tiny-sampling.yaml        16 samples per item at the final checkpoints (pass@k; run it
                                  with `densitometer run DIR/tiny-sampling.yaml --results ...`)
    DIR/results/                  result files, family.yaml, model.yaml, tasks.yaml, settings.yaml
    DIR/samples/                  per-sample logs (outside results/)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from evalrunner.results.write import atomic_write_text

from . import tiny

PLAN_NAME = "tiny-plan.yaml"
SAMPLING_PLAN_NAME = "tiny-sampling.yaml"  # repeated sampling, beside the models too
MARKER = "TRAINED.json"  # written last: its presence means every checkpoint is complete


def example_plan() -> Path:
    return Path(str(resources.files("evalrunner.run") / "plans" / "tiny.yaml"))


def recipe() -> dict:
    """What decides the weights: a marker from another recipe means retrain."""
    return {"sizes": [s.__dict__ for s in tiny.SIZES], "steps": list(tiny.STEPS),
            "seed": tiny.SEED, "vocab": tiny.VOCAB_SIZE, "lr": tiny.LR,
            "tokens_per_step": tiny.TOKENS_PER_STEP}


def train_tiny(workdir: Path, force: bool = False,
               log: Callable[[str], None] = print) -> Path:
    """Train the tiny family into workdir/models (unless done) and copy the plan; returns it."""
    models = Path(workdir) / "models"
    marker = models / MARKER
    want = json.dumps(recipe(), sort_keys=True)
    if force or not marker.is_file() or marker.read_text() != want:
        if models.exists():
            shutil.rmtree(models)
        tiny.train_family(models, log=log)
        atomic_write_text(marker, want)
    else:
        log(f"tiny family already trained in {models}")
    plan = Path(workdir) / PLAN_NAME
    atomic_write_text(plan, example_plan().read_text(encoding="utf-8"))
    sampling = example_plan().with_name(SAMPLING_PLAN_NAME)
    atomic_write_text(Path(workdir) / SAMPLING_PLAN_NAME, sampling.read_text(encoding="utf-8"))
    return plan
