"""Synthetic frames from known constants, for known-answer tests and the metrics benchmark.

`build_frames` turns plain row dicts into a `Frames` that follows the loader's column contract
(defaults filled in); the generators below make families whose scores follow P_pow or the
Densing-Law loss law and link exactly (or with seeded noise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from evalrunner.results.load import (
    FAMILY_COLUMNS,
    MODEL_COLUMNS,
    SCORE_COLUMNS,
    SETTING_COLUMNS,
    TASK_COLUMNS,
    Frames,
)

from . import laws

PYTHIA_TOKENS_PER_STEP = 2_097_152
SOURCE = "import:example/synthetic"

_SCORE_DEFAULTS = {
    "path": "", "revision": "main", "step": pd.NA, "tokens": np.nan, "final": True,
    "metric": "acc", "stderr": np.nan, "n_items": np.nan, "n_shot": 0.0,
    "answer_nll_token": np.nan, "answer_nll_byte": np.nan, "heldout_nll_token": np.nan,
    "tier": "published",
    "source": SOURCE, "primary": True, "aggregate": False, "setting": "zero-shot",
}
_MODEL_DEFAULTS = {
    "name": None, "hf_id": None, "kind": "base", "moe": False, "open_weights": True,
    "open_data": False, "architecture": None, "n_fit_basis": "non_embedding",
    "training_tokens": np.nan, "release_date": pd.NaT, "release_date_source": None,
    **{f"n_{k}": np.nan for k in ("total", "non_embedding", "embedding", "active",
                                  "active_non_embedding")},
}
_TASK_DEFAULTS = {
    "name": None, "harness_task": None, "metric": "acc", "direction": "higher", "chance": 0.25,
    "ceiling": 1.0, "n_items": None, "output_type": "multiple_choice", "category": "capability",
    "parent": None, "description": "", "citation": "", "url": None,
}


def _frame(rows: Iterable[dict], columns: Sequence[str], defaults: dict) -> pd.DataFrame:
    data = [{c: r.get(c, defaults.get(c)) for c in columns} for r in rows]
    return pd.DataFrame(data, columns=list(columns))


def build_frames(scores: Iterable[dict], models: Iterable[dict], families: Iterable[dict],
                 tasks: Iterable[dict], settings: Sequence[str] = ("zero-shot",)) -> Frames:
    """Frames from row dicts; missing columns take contract defaults."""
    sc = _frame(scores, SCORE_COLUMNS, _SCORE_DEFAULTS)
    sc["step"] = sc["step"].astype("Int64")
    for col in ("tokens", "value", "stderr", "n_items", "n_shot", "answer_nll_token",
                "answer_nll_byte"):
        sc[col] = sc[col].astype("float64")
    for col in ("final", "primary", "aggregate"):
        sc[col] = sc[col].astype(bool)
    md = _frame(models, MODEL_COLUMNS, _MODEL_DEFAULTS)
    md["n_fit"] = md["n_fit"].astype(float)
    md["training_tokens"] = md["training_tokens"].astype(float)
    md["release_date"] = pd.to_datetime(md["release_date"])
    md["name"] = md["name"].fillna(md["model"])
    fam = _frame(families, FAMILY_COLUMNS, {"reference": False, "organisation": "Example"})
    fam["name"] = fam["name"].fillna(fam["family"])
    fam["reference"] = fam["reference"].astype(bool)
    tk = _frame(tasks, TASK_COLUMNS, _TASK_DEFAULTS)
    tk["name"] = tk["name"].fillna(tk["task"])
    st = pd.DataFrame([{"setting": s, "name": s, "harness": "lm-evaluation-harness",
                        "harness_version": "0.4", "n_shot": 0, "prompt_variant": "default",
                        "source": "", "description": ""} for s in settings],
                      columns=SETTING_COLUMNS)
    return Frames(sc, md, fam, tk, st)


def p_pow_score(a: float, b: float, x: np.ndarray, chance: float, ceiling: float = 1.0):
    return laws.p_pow(a, b, x, chance, ceiling)


def reference_family(
    family: str,
    sizes: Sequence[float],
    steps: Sequence[int],
    loss_params: tuple[float, float, float, float],
    link_params: tuple[float, float, float, float],
    tasks: Sequence[str] = ("task0",),
    with_loss: bool = True,
    noise: float = 0.0,
    seed: int = 0,
    setting: str = "zero-shot",
) -> tuple[list[dict], list[dict]]:
    """Score and model rows of a reference family: every size at every step (tokens =
    step * 2,097,152, the last step final), scores from the loss law and link exactly (plus
    Gaussian noise of sd `noise` on the score)."""
    rng = np.random.default_rng(seed)
    scores, models = [], []
    final_step = max(steps)
    for n in sizes:
        model = f"{family}-{int(n)}"
        models.append({"model": model, "family": family, "n_fit": float(n),
                       "n_non_embedding": float(n),
                       "training_tokens": float(final_step * PYTHIA_TOKENS_PER_STEP)})
        for step in steps:
            tokens = float(step * PYTHIA_TOKENS_PER_STEP)
            loss = float(laws.loss_law(n, tokens, *loss_params))
            for task in tasks:
                score = float(laws.link(loss, *link_params)) + noise * rng.standard_normal()
                scores.append({
                    "family": family, "model": model, "revision": f"step{step}", "step": step,
                    "tokens": tokens, "final": step == final_step, "task": task,
                    "value": score, "stderr": 0.01, "setting": setting,
                    "answer_nll_token": loss if with_loss else np.nan,
                })
    return scores, models


def benchmark_frames(n_families: int = 1000, n_sizes: int = 8, n_tasks: int = 30,
                     seed: int = 0) -> Frames:
    """The benchmark set: families of n_sizes final models on n_tasks tasks, P_pow scores with
    noise, release dates spread over two years, plus one reference family with checkpoints."""
    rng = np.random.default_rng(seed)
    tasks = [{"task": f"task{t:02d}", "chance": 0.25 if t % 3 else 0.0, "n_items": 1000}
             for t in range(n_tasks)]
    ref_scores, ref_models = reference_family(
        "ref", np.geomspace(2e7, 1.2e10, 8), [1000, 3000, 13000, 33000, 73000, 143000],
        (400.0, 0.34, 410.0, 0.28), (0.7, -3.0, 1.5, 0.25),
        tasks=[t["task"] for t in tasks], noise=0.005, seed=seed)
    scores, models = list(ref_scores), list(ref_models)
    families = [{"family": "ref", "reference": True}]
    epoch = dt.date(2023, 2, 24)
    for f in range(n_families):
        family = f"fam{f:04d}"
        families.append({"family": family})
        sizes = np.geomspace(1e8, 1e8 * 10 ** rng.uniform(1, 3), n_sizes)
        tokens = 20 * sizes * rng.uniform(0.5, 50)
        date = pd.Timestamp(epoch + dt.timedelta(days=int(rng.integers(-200, 700))))
        xs = np.log10(6 * sizes * tokens)
        # P_pow through chosen normalised errors at the smallest and largest model
        e_lo, e_hi = rng.uniform(0.5, 0.95), rng.uniform(0.05, 0.5)
        b = (np.log(e_hi) - np.log(e_lo)) / (xs[-1] - xs[0])
        a0 = np.log(e_lo) - b * xs[0]
        for i, (n, d) in enumerate(zip(sizes, tokens, strict=True)):
            model = f"{family}-m{i}"
            models.append({"model": model, "family": family, "n_fit": float(n),
                           "n_non_embedding": float(n), "training_tokens": float(d),
                           "release_date": date})
            x = np.log10(6 * n * d)
            for t, task in enumerate(tasks):
                y = p_pow_score(a0 + 0.02 * (t - n_tasks / 2), b, x, task["chance"])
                y = float(np.clip(y + rng.normal(0, 0.01), 0.0, 1.0))
                scores.append({"family": family, "model": model, "task": task["task"],
                               "value": y, "n_items": 1000.0})
    return build_frames(scores, models, families, tasks)
