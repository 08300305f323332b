"""Reading plain tagged text in a worker: NLTK's reader against the direct reading.

For each corpus read by NLTK's ``TaggedCorpusReader`` (brown, masc_tagged) and each
view, the whole corpus is planned into shards as a job plans it, and every shard is
read three ways, in one process, in turn within each round:

- ``nltk``: the serial loop, ``list(iter(getattr(corpus, view)()))`` over the corpus
  (its items then made records, untimed, to be compared);
- ``rebuilt``: each shard through NLTK's reader rebuilt around its bytes, as a worker
  reads a corpus that is not plain tagged text (``ShardReader(recipe, direct=False)``);
- ``direct``: each shard as a worker reads it now (``ShardReader(recipe)``).

The three are first checked to give the same records; then each round times each
way taking every item and dropping it, as a worker does.  The table gives the median
CPU time (``time.process_time``) of ``--rounds`` rounds and the ratios.

    python benchmarks/bench_reading.py [--rounds 5]

Needs NLTK data: brown, masc_tagged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

CASES = [("brown", "sents"), ("brown", "tagged_sents"), ("brown", "words"),
         ("masc_tagged", "sents"), ("masc_tagged", "paras")]


def as_records(items: list[Any], view: str) -> list[dict[str, Any]]:
    """The NLTK view's items as the records a worker gives (without fileids)."""
    from nlp_parallel.shard_reader import CONVERSIONS

    return [CONVERSIONS[view](item) for item in items]


def read_all(reader: Any, shards: list[tuple[dict[str, Any], list[bytes]]]) -> Any:
    """Every record of ``shards``, as ``reader`` reads them one shard after another."""
    try:
        for description, blobs in shards:
            yield from reader.read(description, blobs)
    finally:
        reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import nltk

    from nlp_parallel.corpus import open_corpus
    from nlp_parallel.corpus.shards import ShardPlan, plan_shards
    from nlp_parallel.corpus.spec import CorpusSpec
    from nlp_parallel.shard_reader import ShardReader

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"NLTK {nltk.__version__}; medians of {args.rounds} rounds, CPU seconds")
    print(f"  {'corpus':<12} {'view':<13} {'items':>9} {'nltk':>7} {'rebuilt':>8} "
          f"{'direct':>7} {'direct vs nltk':>15} {'vs rebuilt':>11}")
    for name, view in CASES:
        spec = CorpusSpec(name=name, path=None, format=None, view=view, fileids=None,
                          categories=None)
        with open_corpus(spec) as corpus:
            corpus.check()
            plan = plan_shards(corpus, 64 * 1024)
            assert isinstance(plan, ShardPlan), plan
            try:
                shards = [(plan.describe(s), plan.blobs(s)) for s in plan.shards]
            finally:
                plan.close()
            reader = getattr(nltk.corpus, name)
            ways = {
                "nltk": lambda: iter(getattr(reader, view)()),
                "rebuilt": lambda: read_all(ShardReader(plan.recipe, direct=False), shards),
                "direct": lambda: read_all(ShardReader(plan.recipe), shards),
            }
            # Checked once, untimed: the records the three give are equal.
            expected = as_records(list(ways["nltk"]()), view)
            for way in ("rebuilt", "direct"):
                got = [{k: v for k, v in r.items() if k != "fileid"} for r in ways[way]()]
                if got != expected:
                    sys.exit(f"{name} {view}: {way} differs from NLTK's reading")
            count = len(expected)
            del expected, got
            # Timed: each item taken and dropped, as a worker does.
            times: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(args.rounds):
                for way, read in ways.items():
                    started = time.process_time()
                    for _item in read():
                        pass
                    times[way].append(time.process_time() - started)
            medians = {way: statistics.median(values) for way, values in times.items()}
            print(f"  {name:<12} {view:<13} {count:>9,} {medians['nltk']:>7.3f} "
                  f"{medians['rebuilt']:>8.3f} {medians['direct']:>7.3f} "
                  f"{medians['nltk'] / medians['direct']:>14.2f}x "
                  f"{medians['rebuilt'] / medians['direct']:>10.2f}x")


if __name__ == "__main__":
    main()
