"""Proof (temporary): dask-jobqueue's SLURMCluster starts Dask workers through the local
single-node Slurm that .ci/slurm-up brings up, and runs a computation on them.

    .ci/slurm-up
    python3 -m venv .venv && .venv/bin/pip install -q 'dask[distributed]' dask-jobqueue
    .venv/bin/python .ci/slurm_smoke.py [--jobs N]

Exit status 0 when the workers joined, the results came back right and no Slurm job is
left afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def squeue() -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %T %j"], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line.strip()]


def square(x: int) -> tuple[int, str, int]:
    import socket

    return x * x, socket.gethostname(), os.getpid()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--interface", default="lo", help="'' for dask-jobqueue's default (none)")
    args = parser.parse_args()

    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster

    before = squeue()
    if before:
        print(f"warning: Slurm jobs already queued: {before}", file=sys.stderr)

    work = tempfile.mkdtemp(prefix="slurm-smoke-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    t0 = time.monotonic()
    cluster = SLURMCluster(
        cores=1,
        processes=1,
        memory="1GB",
        walltime="00:10:00",
        queue="debug",
        # The scheduler and the workers both listen on the loopback interface: the jobs run
        # on this very host, so 127.0.0.1 is reachable from them.
        interface=args.interface or None,
        # No fixed dashboard port (8787 may be taken by someone else on this machine).
        scheduler_options={"dashboard_address": ":0"},
        # Workers must run the Python that has dask installed (this venv's).
        python=sys.executable,
        local_directory=os.path.join(work, "worker-space"),
        log_directory=logs,
        job_name="dask-smoke",
        # A worker that cannot reach the scheduler gives up instead of holding the node.
        death_timeout=30,
    )
    t_cluster = time.monotonic() - t0
    print("scheduler:", cluster.scheduler_address)
    print("---- job script ----")
    print(cluster.job_script())
    print("--------------------")

    ok = False
    client = None
    try:
        client = Client(cluster)
        t1 = time.monotonic()
        cluster.scale(jobs=args.jobs)
        try:
            client.wait_for_workers(args.jobs, timeout=args.timeout)
        except Exception:
            print("workers did not join; squeue:", squeue(), file=sys.stderr)
            for name in sorted(os.listdir(logs)):
                with open(os.path.join(logs, name)) as f:
                    print(f"== {name}\n{f.read()[-3000:]}", file=sys.stderr)
            raise
        t_workers = time.monotonic() - t1
        print(f"queue while running: {squeue()}")

        t2 = time.monotonic()
        futures = client.map(square, range(20))
        results = client.gather(futures)
        t_map = time.monotonic() - t2
        values = [r[0] for r in results]
        assert values == [x * x for x in range(20)], values
        pids = sorted({r[2] for r in results})
        print(f"results ok on hosts {sorted({r[1] for r in results})}, worker pids {pids}")
        print(f"workers: {sorted(client.scheduler_info()['workers'])}")
        ok = True
    finally:
        t3 = time.monotonic()
        if client is not None:
            client.close()
        cluster.close()
        # scancel is asynchronous: wait (bounded) until the jobs are gone.
        deadline = time.monotonic() + 30
        left = squeue()
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = squeue()
        t_close = time.monotonic() - t3

    print(
        f"timings: cluster object {t_cluster:.1f}s, scale->{args.jobs} workers joined {t_workers:.1f}s, "
        f"map+gather {t_map:.2f}s, close->queue empty {t_close:.1f}s"
    )
    if left:
        print(f"FAIL: Slurm jobs left after close: {left}", file=sys.stderr)
        return 1
    print("logs:", logs)
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
