"""Counting word bigrams over all of brown: serial NLTK, ``Pool``, the job and the API.

The count is ``FreqDist(nltk.bigrams(brown.words()))``: 1,161,192 words, bigrams
running across sentence and file boundaries.  Each variant runs as a process of its
own, started from scratch (interpreter start, imports, corpus reading included):

- (a) the serial NLTK loop, ``FreqDist(nltk.bigrams(brown.words()))``;
- (a') the same, then written as the job writes its file (the counts as JSON,
  most frequent first), for comparison with (c), which writes one;
- (b) ``multiprocessing.Pool(N).imap`` over brown's files (forked workers), each
  returning its file's bigram ``Counter`` with its first and last word, merged in
  file order with the bigram across each boundary counted between the two files,
  so that even the order of first occurrence is the serial one;
- (c) ``python -m nlp_parallel run`` on a job counting ``count: ngrams, n: 2`` over
  ``view: sents`` with ``read: workers`` and N popen workers, writing JSON;
- (d) ``nlp_parallel.freq_dist("brown", n=2, specs=[("popen", N)])``.

Each round runs every variant in turn, so that a slow spell of a shared machine
slows all alike; the table gives medians of ``--repeat`` rounds.  Wall time runs
from the process's start until its result is there (for (c), until the command has
written its file and returns); what a process does after that to have its result
checked is not timed.  Peak memory and CPU time are the driver's own
(``ru_maxrss`` and user + system time of the process, its workers not included);
"all CPU" adds that of the descendants it has waited for by then (its workers).
Every round, every variant's ``most_common()`` (read back with
``nlp_parallel.load_counts`` for the files) must equal the serial ``FreqDist``'s,
order of ties included, or the script stops.

    python benchmarks/bench_count.py [--repeat 5] [--workers 2] [--chunksize 25]

Needs NLTK data: brown.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # each variant imports NLTK itself, inside its timing
    from nltk.probability import FreqDist

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

VARIANTS = {
    "serial": "(a) serial `FreqDist(nltk.bigrams(brown.words()))`",
    "serial_json": "(a') serial, then the JSON file written",
    "pool": "(b) `Pool({n}).imap` over files, chunksize {chunksize}",
    "job": "(c) `nlp_parallel run`, read: workers, {n} popen, JSON",
    "api": "(d) `nlp_parallel.freq_dist(..., specs=[(popen, {n})])`",
}


# -- the variants, each run in a process of its own ---------------------------------

def serial() -> FreqDist:
    import nltk
    from nltk.corpus import brown

    return nltk.FreqDist(nltk.bigrams(brown.words()))


def serial_json(out: str) -> str:
    """The serial count, written with the job file's layout: most frequent first,
    equal counts in the order of their first occurrence (a stable sort)."""
    fd = serial()
    counts = sorted(fd.items(), key=itemgetter(1), reverse=True)
    document = {"count": "ngrams", "tokens": fd.N(), "types": fd.B(), "counts": counts}
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(document, ensure_ascii=False))
        f.write("\n")
    return out


def count_file(fileid: str) -> tuple[Counter, str | None, str | None]:
    """One file's bigrams, and its first and last word to join it to its neighbours."""
    import nltk
    from nltk.corpus import brown

    # Through an iterator: list() of the view itself would first ask its len(),
    # which reads the whole file once more.
    words = list(iter(brown.words(fileid)))
    if not words:
        return Counter(), None, None
    return Counter(nltk.bigrams(words)), words[0], words[-1]


def pool(workers: int, chunksize: int) -> FreqDist:
    """Files counted in a forked ``Pool``, merged in file order as they come; the
    bigram that runs from one file into the next is counted between them, where the
    serial count first meets it, so the merged ``FreqDist`` equals the serial one,
    key order and all.  The merge goes into a plain ``Counter`` (``FreqDist``'s own
    ``__setitem__`` is Python code) and becomes a ``FreqDist`` once, at the end."""
    import multiprocessing

    import nltk
    from nltk.corpus import brown

    total: Counter = Counter()
    last = None
    with multiprocessing.get_context("fork").Pool(workers) as workers_pool:
        for counts, first, final in workers_pool.imap(count_file, brown.fileids(), chunksize):
            if first is None:
                continue
            if last is not None:
                total[(last, first)] += 1
            total.update(counts)
            last = final
    return nltk.FreqDist(total)


JOB = """\
corpus: {{name: brown, view: sents}}
task: {{name: count, options: {{count: ngrams, n: 2}}}}
specs: [[popen, {workers}]]
read: workers
output: {{path: {out}, format: json}}
"""


def job(path: str, out: str) -> str:
    """``python -m nlp_parallel run JOB --quiet --overwrite``, in this process; the
    job writes ``out``."""
    import runpy

    sys.argv = ["nlp_parallel", "run", path, "--quiet", "--overwrite"]
    try:
        runpy.run_module("nlp_parallel", run_name="__main__", alter_sys=True)
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    return out


def api(workers: int) -> FreqDist:
    import nlp_parallel

    return nlp_parallel.freq_dist("brown", n=2, specs=[("popen", workers)])


def child(args: argparse.Namespace) -> None:
    """Run one variant; print when its result was there (``time.monotonic``, which
    the parent shares), this process's peak memory and CPU time until then, its
    CPU time with that of the workers it has waited for, and its result's digest."""
    runs: dict[str, Callable[[], object]] = {
        "serial": serial,
        "serial_json": lambda: serial_json(args.out),
        "pool": lambda: pool(args.workers, args.chunksize),
        "job": lambda: job(args.job, args.out),
        "api": lambda: api(args.workers),
    }
    result = runs[args.child]()
    done = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if isinstance(result, str):  # a file the variant wrote
        from nlp_parallel import load_counts

        result = load_counts(result)
    print(json.dumps({"done": done, "peak_mib": usage.ru_maxrss / 1024,
                      "cpu": usage.ru_utime + usage.ru_stime,
                      "all_cpu": (usage.ru_utime + usage.ru_stime
                                  + children.ru_utime + children.ru_stime),
                      "digest": digest(result)}))


def digest(fd: FreqDist) -> str:
    """``most_common()`` of ``fd`` hashed: equal digests, equal FreqDists with equal
    ranking (equal counts in the same order of first occurrence)."""
    ranked = json.dumps([[list(key), count] for key, count in fd.most_common()])
    return hashlib.sha256(ranked.encode("utf-8")).hexdigest() + f":{fd.N()}:{fd.B()}"


# -- the driver of the benchmark ------------------------------------------------------

def run_variant(name: str, args: argparse.Namespace, folder: str) -> dict:
    out = os.path.join(folder, "brown_bigrams.json" if name == "job" else "serial.json")
    command = [sys.executable, os.path.abspath(__file__), "--child", name,
               "--workers", str(args.workers), "--chunksize", str(args.chunksize),
               "--job", os.path.join(folder, "brown_bigrams.yaml"), "--out", out]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"{name} failed (exit status {proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = result["done"] - started
    return result


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunksize", type=int, default=25,
                        help="files per task for the Pool (brown has 500)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import nltk

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"NLTK {nltk.__version__}; load average {load_average()}")
    print(f"word bigrams over all of brown, {args.workers} workers, medians of "
          f"{args.repeat} interleaved rounds")
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "brown_bigrams.yaml"), "w", encoding="utf-8") as f:
            f.write(JOB.format(workers=args.workers,
                               out=json.dumps(os.path.join(folder, "brown_bigrams.json"))))
        for round_ in range(1, args.repeat + 1):
            for name in VARIANTS:
                runs[name].append(run_variant(name, args, folder))
            expected = runs["serial"][-1]["digest"]
            wrong = [name for name in VARIANTS if runs[name][-1]["digest"] != expected]
            if wrong:
                sys.exit(f"round {round_}: not equal to the serial FreqDist: {', '.join(wrong)}")
            print(f"  round {round_}: " + ", ".join(
                f"{name} {runs[name][-1]['wall']:.2f} s" for name in VARIANTS)
                + f"; load average {load_average()}", flush=True)
    walls = {name: statistics.median(r["wall"] for r in runs[name]) for name in VARIANTS}
    base = walls["serial"]
    print(f"\n  {'method':<58}{'wall s':>8}{'min-max s':>13}{'vs serial':>11}"
          f"{'driver CPU s':>14}{'all CPU s':>11}{'peak MiB':>10}")
    for name, label in VARIANTS.items():
        times = [r["wall"] for r in runs[name]]
        peak = statistics.median(r["peak_mib"] for r in runs[name])
        cpu = statistics.median(r["cpu"] for r in runs[name])
        all_cpu = statistics.median(r["all_cpu"] for r in runs[name])
        label = label.format(n=args.workers, chunksize=args.chunksize)
        print(f"  {label:<58}{walls[name]:>8.3f}{min(times):>6.2f}-{max(times):<6.2f}"
              f"{base / walls[name]:>10.2f}x{cpu:>14.2f}{all_cpu:>11.2f}{peak:>10.1f}")
    print(f"  (every round, every variant's most_common() equal to the serial FreqDist's; "
          f"load average now {load_average()})")


if __name__ == "__main__":
    main()
