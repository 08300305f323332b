"""What recovery costs: the brown tagging job undisturbed, with a worker killed, and
with the driver killed and resumed -- next to a serial loop and ``Pool(2)``, which
loses the killed worker's chunk and never finishes.

Every run is a separate process timed from start to exit (for the killed driver,
both processes together).  Kills happen when the output holds half its final size.
The nlp_parallel outputs are checked byte-identical to the serial loop's.

    python benchmarks/bench_recovery.py [--repeat 3]
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JOB = os.path.join(ROOT, "corpora_configs", "brown_tag.yaml")
BASELINE = os.path.join(HERE, "baseline_tag.py")
PY = sys.executable


def ours(output, *extra):
    return [PY, "-m", "nlp_parallel", "run", JOB, "--quiet", "--output", output, *extra]


def size(path):
    part = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.part")
    for candidate in (part, path):
        try:
            return os.path.getsize(candidate)
        except OSError:
            pass
    return 0


def run(command, output, kill_at=None, victim=None, cap=None):
    """Wall time of ``command``; at ``kill_at`` bytes of output, SIGKILL ``victim``
    ("driver" or "worker").  Returns None when it passes ``cap`` seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT)
    killed = kill_at is None
    while proc.poll() is None:
        if cap is not None and time.perf_counter() - started > cap:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait()
            return None
        if not killed and size(output) >= kill_at:
            children = psutil.Process(proc.pid).children(recursive=True)
            if children:  # workers run
                target = proc.pid if victim == "driver" else children[0].pid
                os.kill(target, signal.SIGKILL)
                killed = True
        time.sleep(0.005)
    if victim != "driver" and proc.returncode != 0:
        raise SystemExit(f"{command} failed with {proc.returncode}")
    return time.perf_counter() - started


def best(repeat, measure):
    times = [measure() for _ in range(repeat)]
    return None if None in times else min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"best of {args.repeat}")
    with tempfile.TemporaryDirectory() as out:
        serial_out = os.path.join(out, "serial.jsonl")
        serial = best(args.repeat, lambda: run([PY, BASELINE, serial_out], serial_out))
        reference = open(serial_out, "rb").read()
        half = len(reference) // 2

        def fresh(name):
            path = os.path.join(out, f"{name}.jsonl")
            for leftover in (path, path + ".checkpoint"):
                if os.path.exists(leftover):
                    os.unlink(leftover)
            return path


        pool_out = os.path.join(out, "pool.jsonl")
        pool_cmd = [PY, BASELINE, pool_out, "--pool", "2", "--chunksize", "100"]
        pool = best(args.repeat, lambda: run(pool_cmd, pool_out))
        pool_killed = run(pool_cmd, fresh("pool"), half, "worker", cap=4 * pool)

        clean = best(args.repeat, lambda: run(ours(fresh("clean")), fresh("clean")))

        def worker_killed():
            path = fresh("worker")
            return run(ours(path), path, half, "worker")

        def driver_killed():
            path = fresh("driver")
            first = run(ours(path), path, half, "driver")
            return first + run(ours(path, "--resume"), path)

        times = {
            "serial loop": serial,
            "Pool(2).imap, chunksize 100": pool,
            "Pool(2).imap, a worker killed": pool_killed,
            "nlp_parallel run": clean,
            "nlp_parallel run, a worker killed": best(args.repeat, worker_killed),
            "nlp_parallel run, driver killed + --resume": best(args.repeat, driver_killed),
        }
        for name in ("clean", "worker", "driver"):
            with open(os.path.join(out, f"{name}.jsonl"), "rb") as f:
                assert f.read() == reference, f"{name}: output differs from the serial loop's"
    print("\nbrown 20,000 sentences, perceptron tagging to JSONL, 2 workers; kills at half")
    print(f"  {'method':<46}{'seconds':>9}   vs serial   vs undisturbed run")
    for name, seconds in times.items():
        if seconds is None:
            print(f"  {name:<46}{'never':>9}   (lost the killed worker's chunk; "
                  f"stopped after {4 * pool:.0f} s)")
            continue
        print(f"  {name:<46}{seconds:>9.3f}{serial / seconds:>10.2f}x"
              f"{seconds / clean:>14.2f}x time")
    print("  all nlp_parallel outputs byte-identical to the serial loop's")


if __name__ == "__main__":
    main()
