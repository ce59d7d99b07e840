"""A throw-away single-node Slurm on localhost, started and stopped by the tests themselves.

Debian's munged, slurmctld and slurmd run as plain background processes with all their state in
one temp dir under /tmp (nothing in /etc, free ports, so two clusters or a system one can
coexist). There is no slurmdbd, so a small `sacct` stand-in answers from slurmctld's memory
through `squeue`; submitit needs it to notice a task that died without writing its result.

Use the session fixture `slurm_cluster` (re-exported by tests/conftest.py); it skips, with the
reason, when not root or when the packages are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DAEMONS = ("mungekey", "munged", "slurmctld", "slurmd")
CLIENTS = ("sinfo", "scontrol", "squeue", "sbatch", "scancel", "srun")
PACKAGES = "slurmctld slurmd slurm-client munge"
NODE = "localnode"
PARTITION = "debug"
STOP_TIMEOUT_S = 15.0

SLURM_CONF = """\
ClusterName=testcluster
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge/munge.sock
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/run/slurmctld.pid
SlurmdPidFile={d}/run/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# Without this each batch job starts about 3 s after submission.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
# Finished jobs stay visible to squeue (and so to the sacct stand-in) for an hour.
MinJobAge=3600
KillWait=5
InactiveLimit=0
NodeName={node} NodeAddr=127.0.0.1 CPUs={ncpu} RealMemory={mem_mb} State=UNKNOWN
PartitionName={partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""

# sacct without slurmdbd: the fields submitit asks for (JobID,State,NodeList --parsable2) and a
# few more for people, each mapped to a squeue format code. One squeue call per id, because
# squeue fails every id when one is unknown.
SACCT_STANDIN = """\
#!/bin/sh
# sacct stand-in for a test cluster without slurmdbd: answers from slurmctld via squeue.
ids=""
fields="JobID,JobName,Partition,State,Elapsed,NodeList"
while [ $# -gt 0 ]; do
  case "$1" in
    -j|--jobs) ids="$ids${ids:+,}$2"; shift 2 ;;
    --jobs=*) ids="$ids${ids:+,}${1#--jobs=}"; shift ;;
    -o|--format) fields="$2"; shift 2 ;;
    --format=*) fields="${1#--format=}"; shift ;;
    *) shift ;;
  esac
done
fmt=""
for f in $(echo "$fields" | tr ',' ' '); do
  case "$f" in
    JobID) c=%i ;; JobName) c=%j ;; Partition) c=%P ;; State) c=%T ;; Elapsed) c=%M ;;
    NodeList) c=%N ;; Start) c=%S ;; End) c=%e ;; Reason) c=%r ;;
    *) echo "sacct stand-in: unknown field $f" >&2; exit 1 ;;
  esac
  fmt="$fmt${fmt:+|}$c"
done
echo "$fields" | tr ',' '|'
if [ -z "$ids" ]; then
  exec squeue --states=all --noheader --format="$fmt"
fi
for id in $(echo "$ids" | tr ',' ' '); do
  squeue --states=all --noheader --format="$fmt" --jobs="$id" 2>/dev/null
done
exit 0
"""


class ClusterError(RuntimeError):
    """The test cluster did not come up; the message carries the tail of the daemons' logs."""


@dataclass
class SlurmCluster:
    """A running cluster: its dir, config, client environment and daemon processes."""

    dir: Path
    conf: Path
    env: dict[str, str]
    partition: str = PARTITION
    procs: list[subprocess.Popen] = field(default_factory=list)

    def run(self, *cmd: str) -> subprocess.CompletedProcess:
        """Run a Slurm client command against this cluster."""
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)

    def sacct(self, *job_ids: str) -> str:
        """The stand-in's `sacct` table for these jobs (all jobs when none given)."""
        args = [a for j in job_ids for a in ("-j", str(j))]
        return self.run("sacct", *args).stdout

    def wait_finished(self, job_id: str, timeout: float = 30.0) -> str:
        """The sacct table once no task of the job is pending, running or completing.

        A task writes its result pickle before its step ends, so submitit's result() can
        return while squeue still says RUNNING or COMPLETING.
        """
        active = ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING")
        deadline = time.monotonic() + timeout
        while True:
            table = self.sacct(job_id)
            if not any(f"|{state}|" in line for line in table.splitlines() for state in active):
                return table
            if time.monotonic() > deadline:
                raise ClusterError(f"job {job_id} still active after {timeout:.0f} s:\n{table}")
            time.sleep(0.2)

    def logs(self, lines: int = 20) -> str:
        """The last lines of each daemon log, for error messages."""
        out = []
        for log in sorted((self.dir / "log").glob("*")) + [self.dir / "munge" / "munged.log"]:
            if log.is_file():
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(out)


def sbin_path() -> str:
    """PATH with the sbin dirs (daemons live in /usr/sbin, not always on a user's PATH)."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    extra = [p for p in ("/usr/local/sbin", "/usr/sbin", "/sbin") if p not in parts]
    return os.pathsep.join(parts + extra)


def missing_requirements() -> str | None:
    """Why this machine cannot run the test cluster, or None when it can."""
    if os.geteuid() != 0:
        return f"needs root to run slurmctld/slurmd/munged as SlurmUser=root (uid {os.geteuid()})"
    missing = [b for b in DAEMONS + CLIENTS if shutil.which(b, path=sbin_path()) is None]
    if missing:
        return f"missing {' '.join(missing)}: apt-get install {PACKAGES} (make system-deps)"
    try:
        import submitit  # noqa: F401
    except ImportError:
        return "submitit is not installed: pip install -e '.[run]'"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    """Most of the machine's memory: RealMemory above it would drain the node."""
    with open("/proc/meminfo") as f:
        kb = int(next(line for line in f if line.startswith("MemTotal:")).split()[1])
    return max(256, int(kb / 1024 * 0.8))


def _wait(what: str, check: Callable[[], bool], cluster: SlurmCluster, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}\n{cluster.logs()}")


def start() -> SlurmCluster:
    """Configure and start munged, slurmctld and slurmd; return once the node is idle."""
    # Own dir, 0755: munged refuses a socket below a dir others cannot traverse, and
    # AF_UNIX paths are limited to 108 bytes, so keep it short and out of pytest's tmp dir.
    d = Path(tempfile.mkdtemp(prefix="slurm-", dir="/tmp"))
    d.chmod(0o755)
    for sub in ("etc", "munge", "state", "spool", "log", "bin", "run"):
        (d / sub).mkdir(mode=0o755)
    conf = d / "etc" / "slurm.conf"
    conf.write_text(SLURM_CONF.format(
        d=d, ctld_port=_free_port(), slurmd_port=_free_port(), ncpu=os.cpu_count() or 1,
        mem_mb=_memory_mb(), node=NODE, partition=PARTITION,
    ))
    sacct = d / "bin" / "sacct"
    sacct.write_text(SACCT_STANDIN)
    sacct.chmod(0o755)
    env = dict(os.environ, SLURM_CONF=str(conf), PATH=f"{d / 'bin'}{os.pathsep}{sbin_path()}")
    cluster = SlurmCluster(dir=d, conf=conf, env=env)

    def spawn(name: str, *cmd: str) -> None:
        with open(d / "log" / f"{name}.out", "wb") as log:
            cluster.procs.append(subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,  # a Ctrl-C in pytest must not hit the daemons first
            ))

    sock = d / "munge" / "munge.sock"
    try:
        subprocess.run(["mungekey", "--create", f"--keyfile={d}/munge/munge.key"], env=env,
                       check=True, capture_output=True)
        spawn("munged", "munged", "-F", f"--socket={sock}", f"--key-file={d}/munge/munge.key",
              f"--pid-file={d}/munge/munged.pid", f"--log-file={d}/munge/munged.log",
              f"--seed-file={d}/munge/munged.seed")
        _wait("munged's socket", sock.exists, cluster)
        spawn("slurmctld", "slurmctld", "-D", "-f", str(conf))
        _wait("slurmctld (scontrol ping)", lambda: cluster.run("scontrol", "ping").returncode == 0,
              cluster)
        spawn("slurmd", "slurmd", "-D", "-N", NODE, "-f", str(conf))
        _wait("the node to be idle (sinfo)",
              lambda: cluster.run("sinfo", "-h", "-o", "%T").stdout.strip() == "idle", cluster)
    except BaseException:
        stop(cluster)
        raise
    return cluster


def stop(cluster: SlurmCluster) -> None:
    """Cancel all jobs, wait for their steps, stop the daemons newest first, remove the dir.

    Order matters: slurmstepd and the job processes are not children of slurmd, so stopping
    slurmd while a job runs leaves orphans.
    """
    spool = cluster.dir / "spool"
    if len(cluster.procs) == 3 and all(p.poll() is None for p in cluster.procs):
        cluster.run("scancel", f"--user={os.getuid()}")

        def drained() -> bool:
            active = cluster.run("squeue", "-h", "--states=PENDING,RUNNING,COMPLETING").stdout
            return not active.strip() and not any(p.is_socket() for p in spool.iterdir())

        try:
            _wait("jobs to end after scancel", drained, cluster, timeout=STOP_TIMEOUT_S)
        except ClusterError:
            pass  # go on: the daemons must stop anyway
    for proc in reversed(cluster.procs):  # by PID: slurmd, slurmctld, munged
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    cluster.procs.clear()
    shutil.rmtree(cluster.dir, ignore_errors=True)


@contextmanager
def running() -> Iterator[SlurmCluster]:
    """A cluster for the duration of the block, with this process's env pointing at it.

    submitit calls sbatch, sacct and scancel from this process, and sbatch exports this
    environment (SLURM_CONF, PATH, HF_HUB_OFFLINE, ...) to the jobs.
    """
    cluster = start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SLURM_CONF", cluster.env["SLURM_CONF"])
            mp.setenv("PATH", cluster.env["PATH"])
            yield cluster
    finally:
        stop(cluster)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A single-node Slurm for the session; skips with the reason when it cannot start."""
    reason = missing_requirements()
    if reason:
        pytest.skip(f"Slurm test cluster: {reason}")
    t0 = time.monotonic()
    with running() as cluster:
        print(f"\n[slurm] cluster up in {time.monotonic() - t0:.2f} s at {cluster.dir}")
        yield cluster
