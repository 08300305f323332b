"""Whole-process benchmark of the brown tagging job on Dask against execnet, serial and Pool.

Times, as separate processes started from scratch (interpreter start, imports,
model loading, corpus reading, workers and writing all included), on the first
20,000 brown sentences:

- (a) ``python -m nlp_parallel run corpora_configs/brown_tag.yaml`` on the job's
  execnet gateways (2 popen workers),
- (b) the same command with ``--dask local:2``: a ``LocalCluster`` of 2 worker
  processes, started and closed inside the run, as a user pays for it,
- (b') optionally, the same command with ``--dask tcp://127.0.0.1:PORT``, a
  cluster the script starts once before the rounds (``dask scheduler`` and 2
  ``dask worker --nthreads 1`` on loopback) and stops at the end, so that the
  cluster's start is left out,
- (c) the serial loop and (d) a forked ``Pool(2).imap`` (``baseline_tag.py``),
- (e) a ``LocalCluster`` of 2 workers started and closed with no job, as in
  (b), with its phases (import, start, close) timed inside the process.

Each round runs all of them in turn, so that a slow spell of a shared machine
slows all alike; after each round the outputs of (a), (b) and (b') must be
byte-identical to each other and to the serial loop's (and Pool's), or the
script stops with the names of the ones that differ.  It prints medians of the
rounds and the ratios serial / x, Pool / x and execnet / Dask (also paired within
rounds).  Wall time ends when the command's process exits.  CPU seconds are those
of the process and all its descendants (``RUSAGE_CHILDREN``; the script makes
itself a subreaper on Linux so that descendants which outlive the process, such as
a fork server, are reaped and counted too, and it reports them); for (b') the CPU
the running cluster spent during the run is added.

    python benchmarks/bench_dask.py [--repeat 5] [--sentences 20000] [--workers 2]
                                    [--chunksize 400] [--no-started-cluster]

Needs Dask's scheduler and workers (``pip install 'dask[distributed]'``; psutil
comes with it) and NLTK's brown and ``averaged_perceptron_tagger_eng``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: (e): the LocalCluster that ``--dask local:N`` starts (``nlp_parallel.daskpool``),
#: started and closed with no job.
CLUSTER_ALONE = r"""
import json, sys, time
t0 = time.perf_counter()
from distributed import Client, LocalCluster
t1 = time.perf_counter()
cluster = LocalCluster(n_workers={n}, threads_per_worker=1, processes=True,
                       host="127.0.0.1", dashboard_address=None, silence_logs=50)
client = Client(cluster, set_as_default=False)
client.wait_for_workers({n})
t2 = time.perf_counter()
client.close()
cluster.close()
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "start": t2 - t1, "close": t3 - t2}}))
"""

SERIAL = "(c) serial loop (script)"
DASK_LOCAL = "(b) nlp_parallel run --dask local:{n}"
DASK_STARTED = "(b') nlp_parallel run --dask tcp:// (started)"
EXECNET = "(a) nlp_parallel run (execnet, {n} popen)"
ALONE = "(e) LocalCluster({n}) start + close alone"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def become_subreaper() -> bool:
    """Have descendants that outlive their parent (a fork server, Dask's resource
    tracker) handed to this process, so that their CPU is counted when it reaps them
    and what a run leaves behind can be seen.  Linux only."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


#: Per method: what outlived the run's process, as (command, seconds it outlived it).
LEFTOVERS: dict[str, list[tuple[str, float]]] = {}


def reap_leftovers(name: str, keep: set[int], exited: float) -> None:
    """Wait for (and so count the CPU of) the run's descendants that outlived it;
    kill any still there after 10 s.  ``keep``: this script's own cluster."""
    import psutil

    me = psutil.Process()
    deadline = time.monotonic() + 10
    seen: dict[int, str] = {}
    while True:
        orphans = [p for p in me.children() if p.pid not in keep]
        if not orphans:
            return
        for proc in orphans:
            if proc.pid not in seen:
                try:
                    seen[proc.pid] = " ".join(proc.cmdline())[:70] or proc.name()
                except psutil.Error:  # exited already: a zombie has a name only
                    try:
                        seen[proc.pid] = proc.name()
                    except psutil.Error:
                        seen[proc.pid] = "?"
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
                LEFTOVERS.setdefault(name, []).append(
                    (seen[proc.pid], time.perf_counter() - exited))
            except psutil.TimeoutExpired:
                print(f"    {name} left {seen[proc.pid]!r} running 10 s after it exited; "
                      f"killing it")
                proc.kill()
                proc.wait()
                LEFTOVERS.setdefault(name, []).append((seen[proc.pid] + " (killed)", 10.0))
            except psutil.NoSuchProcess:
                pass


def whole(name: str, command: list[str], env: dict[str, str],
          keep: set[int] = frozenset()) -> tuple[float, float, str]:
    """Wall seconds of one process, CPU seconds of it and all its descendants, its
    stdout.  What it wrote to stderr (a ``--quiet`` run should write nothing) is shown."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    exited = time.perf_counter()
    reap_leftovers(name, set(keep), exited)
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
    if done.stderr.strip():
        print(f"    {name} wrote to stderr: " + " | ".join(
            line.strip() for line in done.stderr.strip().splitlines()[-3:]))
    return exited - started, cpu, done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StartedCluster:
    """``dask scheduler`` and N ``dask worker --nthreads 1`` on 127.0.0.1, for (b')."""

    def __init__(self, workers: int, env: dict[str, str], logs: str) -> None:
        dask = os.path.join(os.path.dirname(sys.executable), "dask")
        if not os.path.exists(dask):
            dask = shutil.which("dask") or "dask"
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.logs = logs
        started = time.perf_counter()
        self._spawn([dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                     "--no-dashboard"], env, "scheduler")
        for i in range(workers):
            self._spawn([dask, "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                         "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"],
                        env, f"worker{i}")
        from distributed import Client  # only the harness; the runs import their own

        with Client(self.address, timeout="60s", set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        self.start_seconds = time.perf_counter() - started

    def _spawn(self, command: list[str], env: dict[str, str], name: str) -> None:
        log = open(os.path.join(self.logs, f"{name}.log"), "w")
        self.procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                           start_new_session=True))

    def cpu(self) -> float:
        """CPU seconds the cluster's processes (and the children they reaped) have used."""
        import psutil

        total = 0.0
        for proc in self.procs:
            try:
                tree = [psutil.Process(proc.pid)]
                tree += tree[0].children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for p in tree:
                try:
                    t = p.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, then the scheduler
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunksize", type=int, default=400, help="Pool's chunksize")
    parser.add_argument("--no-started-cluster", action="store_true",
                        help="leave out (b'), the run on a cluster started beforehand")
    args = parser.parse_args()
    py, n = sys.executable, args.workers
    env = dict(os.environ)
    subreaper = become_subreaper()
    import distributed
    import nltk

    print(f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
          f"Python {sys.version.split()[0]}, NLTK {nltk.__version__}, "
          f"dask/distributed {distributed.__version__}; {args.repeat} interleaved rounds, "
          f"brown {args.sentences:,} sentences, {n} workers")
    baseline = os.path.join(HERE, "baseline_tag.py")
    pool_name = f"(d) Pool({n}).imap, chunksize {args.chunksize} (script)"
    with tempfile.TemporaryDirectory() as folder:
        out = {key: os.path.join(folder, f"{key}.jsonl")
               for key in ("execnet", "dask", "started", "serial", "pool")}

        def ours(path: str, *extra: str) -> list[str]:
            return [py, "-m", "nlp_parallel", "run", "corpora_configs/brown_tag.yaml",
                    "--limit", str(args.sentences), "--output", path, "--overwrite",
                    "--quiet", *extra]

        commands = {
            EXECNET.format(n=n): (ours(out["execnet"], "--specs", f"{n}*popen"), "execnet"),
            DASK_LOCAL.format(n=n): (ours(out["dask"], "--dask", f"local:{n}"), "dask"),
            SERIAL: ([py, baseline, out["serial"], "--limit", str(args.sentences)], "serial"),
            pool_name: ([py, baseline, out["pool"], "--pool", str(n), "--chunksize",
                         str(args.chunksize), "--limit", str(args.sentences)], "pool"),
            ALONE.format(n=n): ([py, "-c", CLUSTER_ALONE.format(n=n)], None),
        }
        cluster = None
        try:
            if not args.no_started_cluster:
                cluster = StartedCluster(n, env, folder)
                print(f"started cluster at {cluster.address} (scheduler + {n} workers, "
                      f"ready in {cluster.start_seconds:.2f} s)")
                commands = {**dict(list(commands.items())[:2]),
                            DASK_STARTED: (ours(out["started"], "--dask", cluster.address),
                                           "started"),
                            **dict(list(commands.items())[2:])}
            keep = {p.pid for p in cluster.procs} if cluster else set()
            walls: dict[str, list[float]] = {name: [] for name in commands}
            cpus: dict[str, list[float]] = {name: [] for name in commands}
            phases: list[dict] = []
            for round_ in range(1, args.repeat + 1):
                for name, (command, _) in commands.items():
                    before = cluster.cpu() if cluster and name == DASK_STARTED else 0.0
                    wall, cpu, stdout = whole(name, command, env, keep)
                    if cluster and name == DASK_STARTED:
                        cpu += cluster.cpu() - before
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    if name == ALONE.format(n=n):
                        phases.append(json.loads(stdout.strip().splitlines()[-1]))
                reference = open(out["serial"], "rb").read()
                differ = [key for _, key in commands.values()
                          if key is not None and open(out[key], "rb").read() != reference]
                if differ:
                    sys.exit(f"round {round_}: output of {', '.join(differ)} differs from "
                             f"the serial loop's (files in {folder})")
                print(f"  round {round_}: " + ", ".join(
                    f"{name.split()[0]} {walls[name][-1]:.2f} s" for name in commands)
                    + "; outputs byte-identical")
        finally:
            if cluster is not None:
                cluster.stop()
    wall = {name: statistics.median(t) for name, t in walls.items()}
    cpu = {name: statistics.median(t) for name, t in cpus.items()}
    serial, pool = wall[SERIAL], wall[pool_name]
    print(f"\nmedians of {args.repeat} rounds (wall s; CPU s of the process tree)")
    print(f"  {'method':<46}{'wall s':>8}{'min':>8}{'max':>8}{'CPU s':>8}"
          f"{'serial/x':>10}{'Pool/x':>8}")
    for name in commands:
        if name == ALONE.format(n=n):
            continue
        print(f"  {name:<46}{wall[name]:>8.3f}{min(walls[name]):>8.3f}{max(walls[name]):>8.3f}"
              f"{cpu[name]:>8.2f}{serial / wall[name]:>9.2f}x{pool / wall[name]:>7.2f}x")
    name = ALONE.format(n=n)
    print(f"  {name:<46}{wall[name]:>8.3f}{min(walls[name]):>8.3f}{max(walls[name]):>8.3f}"
          f"{cpu[name]:>8.2f}")
    for phase in ("import", "start", "close"):
        print(f"      {phase} (inside the process): "
              f"{statistics.median(p[phase] for p in phases):.3f} s")
    execnet, local = wall[EXECNET.format(n=n)], wall[DASK_LOCAL.format(n=n)]
    print(f"\n  execnet / Dask local:{n}: {execnet / local:.2f}x "
          f"(Dask local:{n} takes {local - execnet:+.2f} s, {local / execnet:.2f}x the time)")
    # paired within rounds: robust to a slow spell that spans a round
    paired = statistics.median(d / e for d, e in zip(walls[DASK_LOCAL.format(n=n)],
                                                     walls[EXECNET.format(n=n)]))
    print(f"  Dask local:{n} / execnet, paired within rounds, median: {paired:.2f}")
    if DASK_STARTED in wall:
        started = wall[DASK_STARTED]
        print(f"  execnet / Dask started cluster: {execnet / started:.2f}x "
              f"(Dask started takes {started - execnet:+.2f} s)")
        print(f"  Dask local:{n} - Dask started cluster: {local - started:+.2f} s")
    print("  (outputs of every nlp_parallel run byte-identical to the serial loop's, "
          "every round)")
    if not subreaper:
        print("  (not a subreaper here: CPU leaves out descendants that outlived a run)")
    for name, left in LEFTOVERS.items():
        kinds = sorted({command for command, _ in left})
        print(f"  {name} left processes running after it exited in {len(left)} case(s), "
              f"gone at most {max(t for _, t in left):.2f} s later: {'; '.join(kinds)}")


if __name__ == "__main__":
    main()
