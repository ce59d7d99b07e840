"""Slurm options and the full Pythia plan, without a cluster: time limits, what reaches sbatch,
plan and command-line precedence, and the size of the Pythia matrix."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from evalrunner.run.matrix import expand
from evalrunner.run.plan import load_plan
from evalrunner.run.slurm_options import (
    SlurmOptions,
    SlurmOptionsError,
    merge_options,
    time_minutes,
)

PYTHIA = Path(str(resources.files("evalrunner.run") / "plans" / "pythia-full.yaml"))


@pytest.mark.parametrize(("value", "minutes"), [
    ("90", 90), ("30:30", 31), ("2:00:00", 120), ("0:00:01", 1), ("1-12", 2160),
    ("1-0:30", 1470), ("2-00:00:00", 2880), (" 45 ", 45),
])
def test_slurm_time_forms_in_minutes(value, minutes):
    assert time_minutes(value) == minutes


@pytest.mark.parametrize("value", ["2h", "1:2:3:4", "-5", "0", "0:00", "1-", ""])
def test_bad_time_limits_are_refused(value):
    with pytest.raises(ValueError, match="time"):
        time_minutes(value)


def test_command_line_overrides_the_plan_and_unset_keeps_it():
    plan = SlurmOptions(partition="gpu", time="4:00:00", mem="64G", account="lab")
    merged = merge_options(plan, {"partition": "debug", "time": None, "gpus": 2, "mem": None})
    assert (merged.partition, merged.time, merged.mem, merged.account, merged.gpus) == \
        ("debug", "4:00:00", "64G", "lab", 2)


def test_option_errors_are_collected_with_their_field():
    with pytest.raises(SlurmOptionsError) as err:
        merge_options(None, {"mem": "lots", "gpus": -1, "time": "soon"})
    fields = sorted(p.split(":")[0] for p in err.value.problems)
    assert fields == ["gpus", "mem", "time"]
    with pytest.raises(SlurmOptionsError, match="partitoin"):
        merge_options(None, {"partitoin": "gpu"})  # a typo is an error, not ignored


def test_options_reach_the_sbatch_script(tmp_path):
    from submitit.slurm.slurm import _make_sbatch_string

    opts = SlurmOptions(partition="gpu", account="lab", qos="high", gpus=1, cpus_per_task=8,
                        mem="64G", time="1-12", constraint="a100", array_parallelism=64,
                        setup=["module load cuda"], additional={"reservation": "evals"})
    script = _make_sbatch_string(command="python -m x", folder=tmp_path, map_count=2464,
                                 **opts.submitit_parameters())
    lines = set(script.splitlines())
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --qos=high",
                 "#SBATCH --gpus-per-node=1", "#SBATCH --cpus-per-task=8",
                 "#SBATCH --mem=64G", "#SBATCH --time=2160", "#SBATCH --constraint=a100",
                 "#SBATCH --array=0-2463%64", "#SBATCH --reservation=evals",
                 "#SBATCH --job-name=densitometer", "#SBATCH --nodes=1",
                 "#SBATCH --ntasks-per-node=1", "module load cuda"):
        assert line in lines, line


def test_no_accelerator_options_unless_asked(tmp_path):
    from submitit.slurm.slurm import _make_sbatch_string

    script = _make_sbatch_string(command="x", folder=tmp_path / "f",
                                 **SlurmOptions().submitit_parameters())
    sbatch = [ln for ln in script.splitlines() if ln.startswith("#SBATCH")]
    assert not [ln for ln in sbatch if "gpu" in ln or "gres" in ln]  # CPU nodes: no GRES
    assert "#SBATCH --time=60" in script


def test_the_pythia_plan_is_16_models_x_154_checkpoints_x_12_tasks(tmp_path):
    plan = load_plan(PYTHIA)
    models = [m for f in plan.families for m in f.models]
    assert [f.id for f in plan.families] == ["pythia", "pythia-deduped"]
    assert len(models) == 16 and all(m.hf_id == f"EleutherAI/{m.id}" for m in models)
    assert len(plan.settings) == 1 and len(plan.settings[0].tasks) == 12
    matrix = expand(plan, plan_arg=str(PYTHIA), base_dir=PYTHIA.parent,
                    results_root=tmp_path / "results", samples_dir=tmp_path / "samples",
                    results_arg="results")
    assert len(matrix.shards) == 16 * 154 and len(matrix.cells) == 16 * 154
    steps = [s.revision.step for s in matrix.shards if s.model.id == "pythia-1.4b-deduped"]
    assert steps[:12] == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]
    assert steps[-1] == 143000 and len(set(steps)) == 154
    last = next(s for s in matrix.shards if s.key == "pythia/pythia-12b@step143000")
    assert last.revision.final and last.revision.tokens == 299_892_736_000
    assert (last.source, last.hub_revision, last.local) == ("EleutherAI/pythia-12b",
                                                            "step143000", False)
    assert sum(s.revision.final for s in matrix.shards) == 16
    assert plan.slurm is not None and plan.slurm.gpus == 1 and plan.run.backend == "vllm"
