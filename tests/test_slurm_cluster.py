"""The test cluster itself: submitit job arrays on a localhost Slurm (tests/slurm_cluster.py)."""

from __future__ import annotations

import os
import sys

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("slurm")]


@pytest.fixture(autouse=True, scope="module")
def _pickle_this_module_by_value():
    # The job's Python cannot import a pytest test module, so pickle it by value.
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def square(x: int) -> int:
    return x * x


def crash(code: int) -> None:
    os._exit(code)  # dies without a result pickle: only sacct can tell submitit


def job_env(name: str) -> str | None:
    return os.environ.get(name)


def _executor(tmp_path, cluster):
    import submitit

    ex = submitit.AutoExecutor(folder=tmp_path / "submitit", cluster="slurm")
    ex.update_parameters(slurm_partition=cluster.partition, timeout_min=5, cpus_per_task=1,
                         mem_gb=0.2, slurm_array_parallelism=2)
    return ex


def test_map_array_returns_results_and_sacct_says_completed(slurm_cluster, tmp_path):
    jobs = _executor(tmp_path, slurm_cluster).map_array(square, [1, 2, 3])
    assert [j.result() for j in jobs] == [1, 4, 9]
    array_id = jobs[0].job_id.split("_")[0]
    table = slurm_cluster.wait_finished(array_id)
    print(f"\nsacct -j {array_id}\n{table}")
    states = {line.split("|")[0]: line.split("|")[3] for line in table.splitlines()[1:]}
    assert states == {f"{array_id}_{i}": "COMPLETED" for i in range(3)}
    assert all(j.get_info(mode="force")["State"] == "COMPLETED" for j in jobs)


def test_job_sees_the_submitter_environment(slurm_cluster, tmp_path):
    job = _executor(tmp_path, slurm_cluster).submit(job_env, "HF_HUB_OFFLINE")
    assert job.result() == "1"


def test_a_task_that_dies_is_reported_failed(slurm_cluster, tmp_path):
    import submitit

    (job,) = _executor(tmp_path, slurm_cluster).map_array(crash, [3])
    job._results_timeout_s = 0  # else result() waits 15 s for a slow filesystem
    with pytest.raises(submitit.core.utils.UncompletedJobError):
        job.result()
    assert job.get_info(mode="force")["State"] == "FAILED"
