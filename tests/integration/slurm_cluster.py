"""A one-node Slurm cluster on localhost for tests: munged, slurmctld and
slurmd (Debian's slurm-wlm) with every state, spool, log and pid path in a
temporary folder and ports of their own, started as root and stopped by
their pid files. Set SLURM_CONF from `env` for the client commands."""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unavailable_reason():
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root"
    for tool in ("slurmctld", "slurmd", "munged", "sbatch"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} not installed (Debian slurm-wlm, munge)"
    return None


class SlurmCluster:
    def __init__(self, root: Path):
        self.root = root
        self.host = socket.gethostname()
        self.conf = root / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    def write_conf(self):
        for d in ("state", "spool", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        r = self.root
        self.conf.write_text(f"""ClusterName=medtraintest
SlurmctldHost={self.host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
JobRequeue=1
KillWait=5
NodeName={self.host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
""")

    def start(self):
        self.write_conf()
        if not Path("/etc/munge/munge.key").exists():
            subprocess.run(["mungekey", "--create"], check=False, capture_output=True)
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        subprocess.run(["munged", "--force"], capture_output=True)  # fine if already running
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True, env=self.env, capture_output=True)
        subprocess.run(["slurmd", "-f", str(self.conf)], check=True, env=self.env, capture_output=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env).stdout
            if "idle" in out:
                return
            time.sleep(0.5)
        raise RuntimeError("slurm node never became idle:\n" + self.logs())

    def logs(self):
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in (self.root / "log").glob("*.log"))

    def stop(self):
        for daemon in ("slurmd", "slurmctld"):
            pid_file = self.root / f"{daemon}.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().strip()), 15)
                except (ValueError, ProcessLookupError):
                    pass
        time.sleep(1)

    def job_state(self, job_id):
        out = subprocess.run(["scontrol", "show", "job", str(job_id)], capture_output=True, text=True,
                             env=self.env).stdout
        for field in out.split():
            if field.startswith("JobState="):
                return field.split("=", 1)[1]
        return "UNKNOWN"
