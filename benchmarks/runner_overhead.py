"""The runner's overhead over calling lm_eval.simple_evaluate directly, on the same matrix.

Both sides run in a fresh process each (import included), on the tiny family's 12 checkpoints
and the packaged suite (0-shot): the direct side is the plain loop (one
simple_evaluate per checkpoint, samples logged, nothing written); the runner side is
`densitometer run` writing results, sample logs and registries. Runs are interleaved, in
alternating order (a drifting machine load favours neither side), and the median is reported.
Then the time of rerunning the finished plan (everything skipped).

Targets: runner at most 10% slower than direct; a rerun under 3 s without importing lm_eval.

    python benchmarks/runner_overhead.py [--workdir /tmp/densitometer-bench] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTING = "densitometer-tiny-0shot"
ENV = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
           TOKENIZERS_PARALLELISM="false", LMEVAL_LOG_LEVEL="WARNING")

DIRECT = """
import sys
from pathlib import Path
import lm_eval
from lm_eval.tasks import TaskManager
from evalrunner.run.suite import fresh, packaged_tasks
suite = packaged_tasks()
names = ["tiny_facts_mc", "tiny_colors_ll", "tiny_arith_gen"]
tm = TaskManager(include_defaults=False)
for ckpt in sorted(Path(sys.argv[1]).glob("tiny-*/step*")):
    res = lm_eval.simple_evaluate(
        model="hf", model_args={"pretrained": str(ckpt), "dtype": "float32"},
        tasks=[fresh(suite[n]) for n in names], task_manager=tm, device="cpu", batch_size=8,
        num_fewshot=0, log_samples=True, bootstrap_iters=1000, random_seed=1234,
        numpy_random_seed=1234, torch_random_seed=1234, fewshot_random_seed=1234)
    assert res["results"]["tiny_facts_mc"]["acc,none"] >= 0
"""

RERUN = """
import sys, time
t = time.perf_counter()
from evalrunner.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(f"{time.perf_counter() - t:.3f} {'lm_eval' in sys.modules}")
"""


def timed(cmd: list[str], cwd: Path, cpu: list[float]) -> float:
    """Wall seconds of one fresh process; its CPU seconds (user + sys) go to `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/densitometer-bench"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from evalrunner.run.demo import train_tiny

    work = args.workdir.resolve()
    t0 = time.perf_counter()
    plan = train_tiny(work, log=lambda _: None)
    print(f"tiny family ready in {time.perf_counter() - t0:.1f} s ({work / 'models'})")
    direct, runner, direct_cpu, runner_cpu = [], [], [], []
    results = work / "bench-results"
    sides = {
        "direct": lambda: direct.append(
            timed([sys.executable, "-c", DIRECT, str(work / "models")], work, direct_cpu)),
        "runner": lambda: runner.append(timed(
            [sys.executable, "-m", "evalrunner", "run", str(plan), "--results", str(results),
             "--setting", SETTING, "--samples-dir", str(work / "bench-samples")], work,
            runner_cpu)),
    }
    for i in range(args.repeats):
        shutil.rmtree(results, ignore_errors=True)
        shutil.rmtree(work / "bench-samples", ignore_errors=True)
        for side in (("direct", "runner") if i % 2 == 0 else ("runner", "direct")):  # ABBA
            sides[side]()
        print(f"round {i + 1}: direct {direct[-1]:.2f} s, runner {runner[-1]:.2f} s")
    d, r = statistics.median(direct), statistics.median(runner)
    print(f"matrix: 12 checkpoints x 3 tasks (0-shot), {args.repeats} interleaved rounds")
    print(f"direct lm_eval.simple_evaluate loop: median {d:.2f} s (min {min(direct):.2f})")
    print(f"densitometer run:                    median {r:.2f} s (min {min(runner):.2f})")
    print(f"overhead: {100 * (r / d - 1):+.1f}% on the medians, "
          f"{100 * (min(runner) / min(direct) - 1):+.1f}% on the minima (target <= +10%)")
    dc, rc = statistics.median(direct_cpu), statistics.median(runner_cpu)
    print(f"CPU time (user + sys), medians: direct {dc:.2f} s, runner {rc:.2f} s, "
          f"overhead {100 * (rc / dc - 1):+.1f}%")
    reruns = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", RERUN, "run", str(plan), "--results",
                              str(results), "--setting", SETTING, "--samples-dir",
                              str(work / "bench-samples")], cwd=work, env=ENV,
                             capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        inner, imported = out.stdout.split()[-2:]
        reruns.append((wall, float(inner), imported))
    wall, inner, imported = min(reruns)
    print(f"rerun of the finished plan: {wall:.2f} s wall incl. interpreter start "
          f"({inner:.2f} s in the command); lm_eval imported: {imported} (target < 3 s)")


if __name__ == "__main__":
    main()
