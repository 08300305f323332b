"""What a run costs the driver when the workers read the corpus, and what that buys.

Part 1, the driver's CPU: the brown job (20,000 sentences, JSONL, 2 popen workers)
with a task that does nothing (``remote/noop_len.py``), Porter stemming and
perceptron tagging, each run with ``read: driver`` (the driver reads, parses and
encodes every sentence) and ``read: workers`` (it sends shards of the corpus's
bytes).  Each run is a process of its own; it measures the driver's CPU over
``run_job`` (``resource.getrusage``, gateway start-up included, interpreter start
and imports not; the imports frozen out of the garbage collector's way as the
command line freezes them, unless ``--no-freeze``), and the workers' CPU is what
its children used.  The projected ceiling -- the most workers one driver can
feed -- is workers' CPU over driver CPU.  Medians of ``--repeat`` rounds, each
round running every variant in turn.

Part 2, whole processes on this machine: the serial loop and a forked
``Pool(N).imap`` (``baseline_tag.py``) against ``python -m nlp_parallel run`` for
tagging and stemming, with the default ``read: auto`` (the driver reads, for two
gateways on this machine) and with ``read: workers``; outputs byte-identical;
medians of interleaved rounds.

Part 3, the driver's peak memory over 2,000 sentences and over all of brown.

    python benchmarks/bench_shards.py [--repeat 5] [--sentences 20000] [--workers 2] [--no-freeze]
        [--nltk-code]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DRIVER = r"""
import gc, json, resource, sys, time
sys.path.insert(0, {root!r})
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job
if {freeze!r}:
    gc.freeze()  # as the command line does once its imports are in (cli.run_command)
job = load_job(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.perf_counter()
summary = run_job(job)
wall = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
total = after.ru_utime + after.ru_stime
print(json.dumps({{"driver": cpu, "driver_process": total, "wall": wall,
                   "items": summary.items, "read_by": summary.read_by,
                   "peak_mib": after.ru_maxrss / 1024}}))
"""

TASKS = {
    "nothing (len)": {"name": "module", "module": "noop_len"},
    "porter stemming": {"name": "stem"},
    "perceptron tagging": {"name": "tag"},
}


def job_file(folder: str, name: str, task: dict, read: str, sentences: int | None,
             workers: int) -> str:
    path = os.path.join(folder, f"{name}.{read}.yaml")
    job = {
        "corpus": {"name": "brown", "view": "sents", "limit": sentences},
        "task": task,
        "specs": [["popen", workers]],
        "read": read,
        "output": {"path": os.path.join(folder, f"{name}.{read}.jsonl"), "format": "jsonl",
                   "overwrite": True},
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(job, f)  # JSON is YAML
    return path


def driver_run(job: str, freeze: bool = True) -> dict:
    """One run in a process of its own: driver CPU over the run, workers' CPU.

    With ``freeze``, the imports are frozen out of the garbage collector's way
    first, as ``nlp-parallel run`` freezes them: the toolkit imports NLTK with the
    collector off, so the first collection after that sweeps some 45,000 objects
    (25-35 ms), which a run from the command line never pays.
    """
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "remote")}
    before = os.times()
    out = subprocess.run([sys.executable, "-c", DRIVER.format(root=ROOT, freeze=freeze), job],
                         check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env).stdout
    after = os.times()
    result = json.loads(out.strip().splitlines()[-1])
    children = (after.children_user - before.children_user) + (
        after.children_system - before.children_system)
    result["workers"] = children - result["driver_process"]
    return result


def part_one(args: argparse.Namespace, folder: str) -> None:
    print(f"\n1. Driver CPU, brown {args.sentences:,} sentences, {args.workers} popen "
          f"workers, medians of {args.repeat} rounds")
    tasks = {name: ({**task, "options": {"exact_fast": False}}
                    if args.nltk_code and task["name"] != "module" else task)
             for name, task in TASKS.items()}
    jobs = {(name, read): job_file(folder, name.split()[0], task, read, args.sentences,
                                   args.workers)
            for name, task in tasks.items() for read in ("driver", "workers")}
    runs: dict[tuple[str, str], list[dict]] = {key: [] for key in jobs}
    for _ in range(args.repeat):
        for key, job in jobs.items():
            runs[key].append(driver_run(job, args.freeze))
    for name in TASKS:
        outputs = {read: open(os.path.join(folder, f"{name.split()[0]}.{read}.jsonl"),
                              "rb").read() for read in ("driver", "workers")}
        assert outputs["driver"] == outputs["workers"], f"{name}: outputs differ"
    print(f"  {'task':<20}{'read by':<9}{'driver CPU s':>13}{'workers CPU s':>15}"
          f"{'ceiling':>9}{'wall s':>8}")
    for (name, read), results in runs.items():
        driver = statistics.median(r["driver"] for r in results)
        workers = statistics.median(r["workers"] for r in results)
        wall = statistics.median(r["wall"] for r in results)
        ceiling = f"{workers / driver:.0f}" if name != "nothing (len)" else "-"
        print(f"  {name:<20}{read:<9}{driver:>13.3f}{workers:>15.2f}{ceiling:>9}{wall:>8.2f}")
    print("  (outputs of both readings byte-identical)")


def whole(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def part_two(args: argparse.Namespace, folder: str) -> None:
    py = sys.executable
    baseline = os.path.join(HERE, "baseline_tag.py")
    print(f"\n2. Whole processes, brown {args.sentences:,} sentences, medians of "
          f"{args.repeat} interleaved rounds")
    for task, chunksize in (("tag", 400), ("stem", 400)):
        out = {name: os.path.join(folder, f"whole.{task}.{name}.jsonl")
               for name in ("serial", "pool", "auto", "workers")}
        jobs = {read: job_file(folder, f"whole-{task}", {"name": task}, read, args.sentences,
                               args.workers) for read in ("auto", "workers")}
        commands = {
            "serial loop": [py, baseline, out["serial"], "--task", task,
                            "--limit", str(args.sentences)],
            f"Pool({args.workers}).imap, chunksize {chunksize}": [
                py, baseline, out["pool"], "--task", task, "--pool", str(args.workers),
                "--chunksize", str(chunksize), "--limit", str(args.sentences)],
            "nlp_parallel run (read: auto)": [
                py, "-m", "nlp_parallel", "run", jobs["auto"], "--quiet", "--output", out["auto"]],
            "nlp_parallel run, read: workers": [
                py, "-m", "nlp_parallel", "run", jobs["workers"], "--quiet",
                "--output", out["workers"]],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(whole(command))
        contents = {name: open(path, "rb").read() for name, path in out.items()}
        assert len(set(contents.values())) == 1, f"{task}: outputs differ"
        medians = {name: statistics.median(t) for name, t in times.items()}
        serial = medians["serial loop"]
        pool = medians[next(n for n in medians if n.startswith("Pool"))]
        print(f"  {task}:")
        for name, seconds in medians.items():
            print(f"    {name:<34}{seconds:>8.3f} s{serial / seconds:>7.2f}x serial"
                  f"{pool / seconds:>7.2f}x Pool")
    print("  (outputs byte-identical)")


def part_three(args: argparse.Namespace, folder: str) -> None:
    print(f"\n3. Driver peak memory (ru_maxrss), Porter stemming, {args.workers} popen "
          f"workers, medians of {args.repeat} rounds")
    sizes = {"2,000 sentences": 2_000, "all of brown (57,340)": None}
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeat):
        for label, limit in sizes.items():
            for read in ("driver", "workers"):
                job = job_file(folder, f"memory{limit}", {"name": "stem"}, read, limit,
                               args.workers)
                runs.setdefault((label, read), []).append(driver_run(job, args.freeze))
    print(f"  {'corpus':<24}{'read by':<9}{'peak MiB':>9}{'driver CPU s':>13}")
    for (label, read), results in runs.items():
        peak = statistics.median(r["peak_mib"] for r in results)
        cpu = statistics.median(r["driver"] for r in results)
        print(f"  {label:<24}{read:<9}{peak:>9.1f}{cpu:>13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--part", choices=("1", "2", "3", "all"), default="all")
    parser.add_argument("--nltk-code", action="store_true",
                        help="part 1 with exact_fast: false, the workers running NLTK's own "
                             "stemmer and tagger (the work per sentence the ceiling was set for)")
    parser.add_argument("--no-freeze", dest="freeze", action="store_false",
                        help="leave the driver's imports to the garbage collector, as a "
                             "Python caller that imports the toolkit does (parts 1 and 3)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        if args.part in ("1", "all"):
            part_one(args, folder)
        if args.part in ("2", "all"):
            part_two(args, folder)
        if args.part in ("3", "all"):
            part_three(args, folder)


if __name__ == "__main__":
    main()
