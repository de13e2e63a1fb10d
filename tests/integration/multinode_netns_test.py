"""Two hosts on one machine: network namespaces joined by a veth pair, each
with its own address, and Open MPI between them over TCP only (no shared
memory transport), started through an rsh agent that enters the namespace
of the host it is asked to reach. The job must train, and the gradients
must really have crossed the veth link."""
import os
import subprocess
import uuid

import pytest

from conftest import BIN, smoke_args
from mpi_util import MPIRUN, MPI_ENV

NET = "10.77.0"


def netns_unavailable():
    if MPIRUN is None:
        return "mpirun not installed"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"mtprobe{uuid.uuid4().hex[:6]}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"ip netns add is not permitted here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe])
    return None


REASON = netns_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def two_hosts(tmp_path):
    tag = uuid.uuid4().hex[:5]
    hosts = {f"{NET}.1": f"mta{tag}", f"{NET}.2": f"mtb{tag}"}
    veth = (f"va{tag}", f"vb{tag}")
    try:
        for ns in hosts.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", veth[0], "type", "veth", "peer", "name", veth[1])
        for (addr, ns), dev in zip(hosts.items(), veth):
            sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        agent = tmp_path / "netns-agent.sh"
        cases = "\n".join(f"  {addr}) ns={ns} ;;" for addr, ns in hosts.items())
        agent.write_text(f"""#!/bin/bash
# mpirun's rsh agent: "ssh" into a host = run the command in its namespace.
host=$1; shift
case $host in
{cases}
  *) echo "unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec $ns bash -c "$*"
""")
        agent.chmod(0o755)
        hostfile = tmp_path / "hosts"
        hostfile.write_text("".join(f"{addr} slots=1\n" for addr in hosts))
        yield hosts, veth, agent, hostfile
    finally:
        for ns in hosts.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def veth_bytes(ns, dev):
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/statistics/tx_bytes"],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def test_two_namespace_hosts_train_over_tcp(tmp_path, demo_data, two_hosts):
    hosts, veth, agent, hostfile = two_hosts
    first_ns = hosts[f"{NET}.1"]
    runs = tmp_path / "runs"
    before = veth_bytes(first_ns, veth[0])
    argv = ["ip", "netns", "exec", first_ns, MPIRUN, "--hostfile", str(hostfile), "-np", "2",
            "--mca", "plm_rsh_agent", str(agent), "--mca", "btl", "tcp,self",
            "--mca", "btl_tcp_if_include", f"{NET}.0/24", "--mca", "oob_tcp_if_include", f"{NET}.0/24",
            "--bind-to", "none", "-x", "OMP_NUM_THREADS", "-x", "PATH", "-x", "LD_LIBRARY_PATH",
            BIN, "train", *map(str, smoke_args(demo_data, runs, "netns", "--set", "optim.batch_size=4"))]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=dict(os.environ, **MPI_ENV))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (runs / "netns/ckpt/latest/manifest.json").exists()
    sent = veth_bytes(first_ns, veth[0]) - before
    # 6 steps of ResNet-18 gradients (~45 MB each way per step) plus the initial broadcast.
    assert sent > 100e6, f"only {sent} bytes crossed the link: the ranks did not talk over TCP"
