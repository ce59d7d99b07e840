"""Time the full metrics pass: on the committed results and on a synthetic set.

    python benchmarks/metrics_bench.py [--results results/] [--families 1000 --sizes 8 --tasks 30]

Prints wall and CPU seconds per stage. The synthetic set (evalrunner.metrics.synthetic) is
families x sizes final models on every task with P_pow scores, plus one reference family with
checkpoints; generating it is not timed. Target: the synthetic pass under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def _timed(label: str, func, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = func(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<38} wall {wall:7.2f} s   cpu {cpu:7.2f} s")
    return out, wall


def _pass(label: str, frames) -> float:
    from evalrunner.metrics.compute import compute_all

    stages: dict[str, float] = {}
    tables, wall = _timed(f"{label}: compute_all", compute_all, frames, None, stages)
    for name, seconds in stages.items():
        print(f"    {name:<34} {seconds:7.2f} s")
    rows = {name: len(t) for name, t in tables.tables().items()}
    print("    rows: " + ", ".join(f"{k} {v}" for k, v in rows.items()))
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--sizes", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--skip-results", action="store_true")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores available: {cores}; load average: {os.getloadavg()[0]:.2f}")

    from evalrunner.metrics import synthetic

    if not args.skip_results and (args.results / "tasks.yaml").is_file():
        from evalrunner.results.load import load_frames

        frames, _ = _timed(f"load {args.results} (validate + frames)", load_frames, args.results)
        print(f"    {len(frames.scores)} score rows, {len(frames.models)} models")
        _pass("results", frames)
    else:
        print(f"{args.results}: no results tree, skipped")

    frames = synthetic.benchmark_frames(args.families, args.sizes, args.tasks)
    print(f"synthetic: {args.families} families x {args.sizes} sizes x {args.tasks} tasks "
          f"({len(frames.scores)} score rows)")
    wall = _pass("synthetic", frames)
    print(f"synthetic full pass: {wall:.2f} s (target < 10 s on 2 cores)")


if __name__ == "__main__":
    main()
