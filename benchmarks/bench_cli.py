"""Whole-process benchmark of a job: ``nlp-parallel run`` against hand-written loops.

Times, as separate processes started from scratch (interpreter start, imports,
model loading, corpus reading, workers and writing all included):

- the serial loop and a forked ``Pool(2).imap`` (``baseline_tag.py``),
- ``python -m nlp_parallel run corpora_configs/brown_tag.yaml``,

on the first 20,000 brown sentences, checks the three outputs are byte-identical
and prints ratios.  Best of ``--repeat`` rounds, each round running the three in
turn, so that a slow spell of a shared machine slows all three alike.

    python benchmarks/bench_cli.py [--repeat 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from common import best_chunksize, report  # noqa: E402


def timed(command, repeat):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT)
        seconds = time.perf_counter() - started
        best = seconds if best is None else min(best, seconds)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    py = sys.executable
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as out:
        paths = {name: os.path.join(out, f"{name}.jsonl") for name in ("serial", "pool", "ours")}
        baseline = os.path.join(HERE, "baseline_tag.py")
        def pool(chunksize):
            return [py, baseline, paths["pool"], "--pool", "2", "--chunksize", str(chunksize)]

        chunksize = best_chunksize("", lambda c: timed(pool(c), 1), (25, 100, 400))
        pool_name = f"Pool(2).imap, chunksize {chunksize} (script)"
        commands = {
            "serial loop (script)": [py, baseline, paths["serial"]],
            pool_name: pool(chunksize),
            "python -m nlp_parallel run": [
                py, "-m", "nlp_parallel", "run", "corpora_configs/brown_tag.yaml", "--quiet",
                "--overwrite", "--output", paths["ours"]],
        }
        times: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                seconds = timed(command, 1)
                times[name] = min(times.get(name, seconds), seconds)
        reference = open(paths["serial"], "rb").read()
        for name, path in paths.items():
            assert open(path, "rb").read() == reference, f"{name} output differs"
    report("brown tagging job, 20,000 sentences, 2 workers (outputs identical)", 20_000,
           "sents", times, "serial loop (script)")
    ours = times["python -m nlp_parallel run"]
    print(f"  nlp_parallel vs Pool: {times[pool_name] / ours:.2f}x")


if __name__ == "__main__":
    main()
