"""Time the full metrics pass: on the committed results and on a synthetic set.

    python benchmarks/metrics_bench.py [--results results/] [--families 1000 --sizes 8 --tasks 30]
    python benchmarks/metrics_bench.py --tree /tmp/s10k --skip-results --families 0

Prints wall and CPU seconds per stage and the peak memory of the process. The synthetic set
(evalrunner.metrics.synthetic) is families x sizes final models on every task with P_pow scores,
plus one reference family with checkpoints; generating it is not timed. `--tree` also times a
results tree such as benchmarks/synth.py writes (parsed through the cache beside it, so a
second run measures the metrics rather than YAML parsing). Target: the synthetic pass under
10 s on 2 cores; 10k synthetic result files under 5 s CPU.

Memory is time on some machines: where fresh pages are expensive to fault in (a small VM), each
GiB of new peak memory can cost seconds of CPU, so the peak is printed beside the times.
"""

from __future__ import annotations

import argparse
import os
import resource
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
    parser.add_argument("--tree", type=Path, help="a results tree, e.g. from benchmarks/synth.py")
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

    if args.tree is not None:
        from evalrunner.memo import Memo, default_root
        from evalrunner.results.load import frames_from_tree
        from evalrunner.results.validate import validate_tree

        report, _ = _timed(f"read {args.tree} (memo store)", validate_tree, args.tree, None,
                           None, Memo(default_root(args.tree)))
        frames = frames_from_tree(report.tree)
        print(f"    {len(frames.scores)} score rows, {len(frames.models)} models; "
              f"peak so far {_peak_mib():.0f} MiB")
        _pass("tree", frames)
        print(f"    peak memory {_peak_mib():.0f} MiB")
    if args.families > 0:
        frames = synthetic.benchmark_frames(args.families, args.sizes, args.tasks)
        print(f"synthetic: {args.families} families x {args.sizes} sizes x {args.tasks} tasks "
              f"({len(frames.scores)} score rows)")
        wall = _pass("synthetic", frames)
        print(f"synthetic full pass: {wall:.2f} s (target < 10 s on 2 cores)")
    print(f"peak memory of the process: {_peak_mib():.0f} MiB")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


if __name__ == "__main__":
    main()
