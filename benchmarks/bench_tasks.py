"""Task benchmark: chunking and stemming, compared as the engine benchmark compares tagging.

For each workload a serial loop, the seed pattern (one item per message),
``multiprocessing.Pool(2).imap`` (fork, chunksize swept in the same run) and the
nlp_parallel task run in this one process on the same input, each timed as a
whole (setup, workers, writing a JSONL line per sentence), outputs checked equal:

- chunk: RegexpParser NP grammar over 40,000 brown tagged sentences, IOB tags out;
- stem: PorterStemmer over the tokens of 40,000 brown sentences.

    python benchmarks/bench_tasks.py [--workers 2] [--repeat 3] [--sentences 40000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nlp_parallel  # noqa: E402
import seed_plists  # noqa: E402
from common import best_chunksize, best_of, report  # noqa: E402
from nlp_parallel.tasks import prepare  # noqa: E402
from remote import seed_chunk, seed_stem  # noqa: E402

GRAMMAR = r"NP: {<AT|PP\$>?<JJ.*>*<NN.*>+}"
_FUNCTION: Callable[[Any], Any] | None = None  # the Pool's task, inherited by forked workers


def chunk_function() -> Callable[[Any], Any]:
    from nltk.chunk import RegexpParser, tree2conlltags

    parser = RegexpParser(GRAMMAR)
    return lambda tagged: [iob for _, _, iob in tree2conlltags(parser.parse(
        [tuple(pair) for pair in tagged]))]


def stem_function() -> Callable[[Any], Any]:
    from nltk.stem import PorterStemmer

    stemmer = PorterStemmer()
    return lambda tokens: [stemmer.stem(t) for t in tokens]


def call(item: Any) -> Any:
    return _FUNCTION(item)


@dataclass
class Workload:
    title: str
    items: list[Any]
    function: Callable[[], Callable[[Any], Any]]  # builds the serial per-item function
    seed: ModuleType
    task: str
    options: dict[str, Any]
    result: Callable[[Any], Any]  # the field of a task result that serial code produces


def line(index: int, result: Any) -> str:
    return json.dumps({"index": index, "result": result}, ensure_ascii=False) + "\n"


def compare(work: Workload, workers: int, repeat: int, outdir: str) -> dict[str, float]:
    specs = [("popen", workers)]
    outputs: list[str] = []

    def output() -> Any:
        outputs.append(os.path.join(outdir, f"{work.task}{len(outputs)}.jsonl"))
        return open(outputs[-1], "w", encoding="utf-8")

    def serial() -> None:
        fn = work.function()
        with output() as f:
            for i, item in enumerate(work.items):
                f.write(line(i, fn(item)))

    def seed() -> None:
        with output() as f:
            for i, result in enumerate(seed_plists.map(work.seed, work.items, specs)):
                f.write(line(i, result))

    def pool(chunksize: int) -> None:
        global _FUNCTION
        _FUNCTION = work.function()
        with multiprocessing.Pool(workers) as p, output() as f:
            for i, result in enumerate(p.imap(call, work.items, chunksize=chunksize)):
                f.write(line(i, result))

    def ours() -> None:
        task = prepare(work.task, work.options)
        with output() as f:
            results = nlp_parallel.imap(task.module, work.items, specs, options=dict(task.options))
            for i, result in enumerate(results):
                f.write(line(i, work.result(result)))

    chunksize = best_chunksize(f"{work.task}: ", pool, (50, 200, 800))
    times = {
        "serial loop": best_of(repeat, serial),
        "seed pattern (1 item/message)": best_of(repeat, seed),
        f"Pool({workers}).imap chunksize={chunksize}": best_of(repeat, lambda: pool(chunksize)),
        f"nlp_parallel {work.task} task": best_of(repeat, ours),
    }
    reference = open(outputs[0], "rb").read()
    for path in outputs:
        assert open(path, "rb").read() == reference, f"{path} differs from the serial output"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=40_000)
    args = parser.parse_args()
    from nltk.corpus import brown

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{args.workers} workers, best of {args.repeat}")
    tagged = [[list(p) for p in s] for s in brown.tagged_sents()[: args.sentences]]
    workloads = [
        Workload(f"(a) RegexpParser chunking, {len(tagged):,} brown sentences", tagged,
                 chunk_function, seed_chunk, "chunk", {"grammar": GRAMMAR, "tree": False},
                 lambda r: r["iob"]),
        Workload(f"(b) Porter stemming, {len(tagged):,} brown sentences "
                 f"({sum(map(len, tagged)):,} tokens)",
                 [[w for w, _ in s] for s in tagged], stem_function, seed_stem, "stem",
                 {"algorithm": "porter"}, lambda r: r),
    ]
    with tempfile.TemporaryDirectory() as outdir:
        for work in workloads:
            times = compare(work, args.workers, args.repeat, outdir)
            report(work.title + " (outputs identical)", len(work.items), "sents", times,
                   "serial loop")
            ours = next(t for name, t in times.items() if name.startswith("nlp_parallel"))
            pool = next(t for name, t in times.items() if name.startswith("Pool"))
            print(f"  nlp_parallel vs Pool: {pool / ours:.2f}x")


if __name__ == "__main__":
    main()
