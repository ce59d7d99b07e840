"""A seeded, realistic synthetic results tree for scale benchmarks.

Families of 3-10 sizes, each model with a checkpoint series, 30 tasks (some near chance, some
saturating), binomial noise. Every file is valid against the schema (a test checks a small tree).

    python benchmarks/synth.py --files 10000 --out /tmp/synth10k
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
N_TASKS = 30
MAX_REFERENCES = 4
CHECKPOINTS = 10  # result files per model: 9 intermediate checkpoints and the final one
TOKENS_PER_STEP = 2_097_152


def _dump(path: Path, data: dict, kind: str, depth: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# yaml-language-server: $schema={'../' * depth}schema/{kind}.schema.json\n"
    path.write_text(header + yaml.dump(data, Dumper=_Dumper, sort_keys=False), encoding="utf-8")


def _tasks() -> list[dict]:
    """30 tasks: 4-way and 2-way choice, a few generative ones that stay at chance."""
    tasks = []
    for i in range(N_TASKS):
        chance = 0.0 if i % 10 == 9 else (0.5 if i % 3 == 0 else 0.25)
        tasks.append({"id": f"task{i:02d}", "name": f"Synthetic task {i}", "metric": "acc",
                      "chance": chance, "n_items": 500 + 50 * i,
                      "output_type": "generate_until" if chance == 0 else "multiple_choice"})
    return tasks


def write_tree(out: Path, files: int, seed: int = 0) -> dict[str, int]:
    """Write about `files` result files under out; returns the counts written."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    tasks = _tasks()
    _dump(out / "tasks.yaml", {"schema_version": 1, "tasks": tasks}, "tasks", 1)
    _dump(out / "settings.yaml", {"schema_version": 1, "settings": [
        {"id": "synthetic-0shot", "name": "Synthetic zero-shot", "harness": "synthetic",
         "harness_version": "1", "n_shot": 0}]}, "settings", 1)
    # Per task: how fast it rises with log-compute and where it starts.
    difficulty = rng.uniform(0.5, 2.5, N_TASKS)
    counts = {"families": 0, "models": 0, "results": 0}
    n_models = max(1, math.ceil(files / CHECKPOINTS))
    made = 0
    fam_index = 0
    while made < n_models:
        family = f"fam{fam_index:05d}"
        sizes = int(rng.integers(3, 11))
        _dump(out / family / "family.yaml", {"schema_version": 1, "id": family,
              "name": f"Family {fam_index}", "organisation": f"Org {fam_index % 97}",
              # a few reference families, as a real leaderboard configures: the per-task
              # density table is models x references x tasks, so references growing with the
              # tree would make it (and the build) grow quadratically
              "reference": bool(fam_index % 50 == 0 and fam_index < 50 * MAX_REFERENCES)},
              "family", 2)
        counts["families"] += 1
        base = 10 ** rng.uniform(7, 8)
        quality = rng.normal(0, 0.3)  # some families are better per parameter
        for s in range(sizes):
            if made >= n_models:
                break
            model = f"{family}-m{s}"
            n = int(base * 2.2 ** s)
            final_step = int(rng.integers(10_000, 150_000))
            _dump(out / family / model / "model.yaml", {
                "schema_version": 1, "id": model, "family": family, "name": model.upper(),
                "params": {"non_embedding": {"value": n, "source": "config"}},
                "training_tokens": {"value": final_step * TOKENS_PER_STEP, "source": "declared"},
                "release_date": {"date": f"{2023 + s % 3}-{1 + fam_index % 12:02d}-15",
                                 "source": "synthetic"},
            }, "model", 3)
            counts["models"] += 1
            made += 1
            for c in range(CHECKPOINTS):
                step = final_step * (c + 1) // CHECKPOINTS
                tokens = step * TOKENS_PER_STEP
                x = math.log10(6 * n * tokens) - 20 + quality
                scores = {}
                for t, task in enumerate(tasks):
                    r = task["chance"]
                    p = r + (1 - r) / (1 + math.exp(-(x - difficulty[t]) * 1.5))
                    if task["chance"] == 0:
                        p = min(p, 0.02)  # generative tasks these models cannot do
                    k = int(rng.binomial(task["n_items"], min(max(p, 0.0), 1.0)))
                    v = k / task["n_items"]
                    scores[task["id"]] = {"metric": "acc", "value": v,
                                          "stderr": math.sqrt(max(v * (1 - v), 1e-6)
                                                              / task["n_items"]),
                                          "n_items": task["n_items"]}
                rev = f"step{step}"
                _dump(out / family / model / "synthetic-0shot" / f"{rev}.yaml", {
                    "schema_version": 1, "model": model, "setting": "synthetic-0shot",
                    "revision": {"id": rev, "step": step, "tokens": tokens,
                                 "final": c == CHECKPOINTS - 1},
                    "tier": "submitted", "scores": scores,
                    "provenance": {"kind": "submission", "submitter": "synthetic benchmark"},
                }, "result", 5)
                counts["results"] += 1
        fam_index += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=1000, help="result files to write")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} is not empty", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    counts = write_tree(args.out, args.files, args.seed)
    size = sum(f.stat().st_size for f in args.out.rglob("*.yaml"))
    print(f"wrote {counts} ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s "
          f"with {os.cpu_count()} cores available")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
