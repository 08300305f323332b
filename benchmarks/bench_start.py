"""How long gateways take to start: all at once (``GatewayPool``) against one after another.

Starts a throwaway OpenSSH server on 127.0.0.1 (``tests/sshd.py``: its own host key,
client key and ssh_config) and times, for ssh gateways to it and for local popen
gateways:

- ``GatewayPool(specs).start()``: every gateway at once, each probed before it counts;
- a plain loop of ``execnet.makegateway``, one after another, as pytest-xdist starts
  its workers.

The ssh gateways run an interpreter with NLTK only (no copy of this project), as a
cluster host would.  A third series reaches the same server through ``python=`` a
wrapper that waits ``--wait`` seconds before starting that interpreter: a stand-in for
a host whose start is spent waiting (network round trips, a busy file server) rather
than on this machine's CPUs.  Best of ``--repeat`` starts each; gateways are stopped
between runs and that time is not counted.  ``CPU s`` is the busy time of all this
machine's cores during the fastest start (``/proc/stat``): here the "remote" sshd,
shell and Python run on the same cores as the driver.

    python benchmarks/bench_start.py [--repeat 3] [--counts 1 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import execnet

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from sshd import SshServers, make_remote_python, missing_tools  # noqa: E402

from nlp_parallel import GatewayPool  # noqa: E402
from nlp_parallel.gateways import STOP_TIMEOUT  # noqa: E402


def busy_cpu_seconds() -> float:
    """CPU time all cores of this machine have spent busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def concurrent_start(spec: str, count: int) -> tuple[float, float]:
    pool = GatewayPool([(spec, count)])
    cpu, started = busy_cpu_seconds(), time.perf_counter()
    pool.start()
    seconds, cpu = time.perf_counter() - started, busy_cpu_seconds() - cpu
    assert len(pool) == count
    pool.close()
    return seconds, cpu


def sequential_start(spec: str, count: int) -> tuple[float, float]:
    group = execnet.Group()
    cpu, started = busy_cpu_seconds(), time.perf_counter()
    for _ in range(count):
        group.makegateway(spec)
    seconds, cpu = time.perf_counter() - started, busy_cpu_seconds() - cpu
    group.terminate(timeout=STOP_TIMEOUT)
    return seconds, cpu


def best(repeat: int, start, spec: str, count: int) -> tuple[float, float]:
    """The fastest of ``repeat`` starts: (seconds, busy CPU seconds)."""
    return min(start(spec, count) for _ in range(repeat))


def waiting_python(directory: Path, python: Path, seconds: float) -> Path:
    """An interpreter that waits ``seconds`` before it starts."""
    wrapper = directory / "waiting_python"
    wrapper.write_text(f'#!/bin/sh\nsleep {seconds}\nexec {python} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--wait", type=float, default=0.5)
    args = parser.parse_args()
    why = missing_tools()
    if why:
        sys.exit(f"bench_start: {why}")
    with tempfile.TemporaryDirectory() as tmp:
        python = make_remote_python(Path(tmp) / "remote")
        waiting = waiting_python(Path(tmp), python, args.wait)
        with SshServers(Path(tmp) / "sshd", hosts=("nlp-a",)) as lab:
            series = {
                "ssh gateways to a local sshd": lab.spec("nlp-a", python),
                f"ssh gateways whose start waits {args.wait:g} s": lab.spec("nlp-a", waiting),
                "popen gateways": "popen",
            }
            print(f"{os.cpu_count()} cores; best of {args.repeat} starts each")
            for title, spec in series.items():
                print(f"\n{title}")
                print(f"  {'gateways':>8}{'GatewayPool s':>15}{'CPU s':>8}{'vs one':>9}"
                      f"{'one by one s':>15}{'CPU s':>8}{'pool speedup':>15}")
                one = best(args.repeat, concurrent_start, spec, 1)
                for count in args.counts:
                    pool = one if count == 1 else best(args.repeat, concurrent_start, spec, count)
                    loop = best(args.repeat, sequential_start, spec, count)
                    print(f"  {count:>8}{pool[0]:>15.3f}{pool[1]:>8.2f}{pool[0] / one[0]:>8.2f}x"
                          f"{loop[0]:>15.3f}{loop[1]:>8.2f}{loop[0] / pool[0]:>14.2f}x")


if __name__ == "__main__":
    main()
