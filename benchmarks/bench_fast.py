"""Per-core benchmark: NLTK's own code against the exact fast paths, in one process.

- perceptron tagging of the first 20,000 brown sentences: ``PerceptronTagger.tag``
  against ``ExactPerceptron.tags`` (built afresh each round, so its caches start cold);
- Porter (NLTK_EXTENSIONS) and Snowball English stemming of every brown token:
  ``stemmer.stem`` per token against the stem task's memo (built afresh each round);
- WordNet lemmatization of every tagged brown token, the WordNet POS taken from the
  tag as the lemmatize task does: ``WordNetLemmatizer().lemmatize`` over NLTK's
  WordNet against the lemmatize task (built once, as a worker builds it, its memo
  emptied before each round).

Each round runs NLTK's code and then the fast path on the same input, rounds
interleaved, and every output is checked equal to NLTK's.  Prints the medians of
the rounds and their ratio, by the wall clock and by this process's CPU time (the
per-core figure, less moved by other load on a shared machine).

    python benchmarks/bench_fast.py [--rounds 3] [--sentences 20000] [--only tagging]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from nltk.corpus import brown
from nltk.stem import PorterStemmer, SnowballStemmer, WordNetLemmatizer
from nltk.tag import PerceptronTagger

from nlp_parallel.tasks import prepare
from remote_tasks import lemmatize as remote_lemmatize
from remote_tasks import stem as remote_stem
from remote_tasks.tag import ExactPerceptron


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process, and what ``run`` returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def workloads(sentences: int) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Workload name -> (NLTK's own code, the fast path), each returning its output."""
    tagger = PerceptronTagger()
    sents = [list(s) for s in brown.sents()[:sentences]]
    words = list(brown.words())
    tagged = [[list(pair) for pair in sent] for sent in brown.tagged_sents()]
    porter, snowball = PorterStemmer(), SnowballStemmer("english")
    porter_options = dict(prepare("stem", {"algorithm": "porter"}).options)
    snowball_options = dict(
        prepare("stem", {"algorithm": "snowball", "language": "english"}).options
    )
    lemmatize_options = dict(prepare("lemmatize").options)
    wordnet = WordNetLemmatizer()
    pos = remote_lemmatize.setup(lemmatize_options).pos  # the task's tag -> WordNet POS
    wordnet.lemmatize("dogs", "n")  # NLTK's WordNet loaded before any timing

    def nltk_tag() -> list[list[str]]:
        return [[tag for _, tag in tagger.tag(s)] for s in sents]

    def fast_tag() -> list[list[str]]:
        exact = ExactPerceptron(tagger)
        return [exact.tags(s) for s in sents]

    def nltk_lemmas() -> list[list[str]]:
        return [[wordnet.lemmatize(w, pos(t)) for w, t in sent] for sent in tagged]

    # Built once, as a worker builds its task once (NLTK's WordNet is loaded above);
    # each round starts with empty memos.
    lemmatize_task = remote_lemmatize.setup(lemmatize_options)

    def fast_lemmas() -> list[list[str]]:
        lemmatize_task.lemmatize.cache_clear()  # type: ignore[attr-defined]
        lemmatize_task.tag_poses.clear()
        return [lemmatize_task(sent) for sent in tagged]

    return {
        f"perceptron tagging, first {len(sents):,} brown sentences": (
            nltk_tag,
            fast_tag,
        ),
        f"Porter stemming, all {len(words):,} brown tokens": (
            lambda: [porter.stem(w) for w in words],
            lambda: remote_stem.setup(porter_options)(words),
        ),
        f"Snowball English stemming, all {len(words):,} brown tokens": (
            lambda: [snowball.stem(w) for w in words],
            lambda: remote_stem.setup(snowball_options)(words),
        ),
        f"WordNet lemmatization, all {len(tagged):,} brown tagged sentences": (
            nltk_lemmas,
            fast_lemmas,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument(
        "--only", default="", help="run the workloads whose name has this"
    )
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{date.today()}, median of {args.rounds} interleaved rounds"
    )
    runs = {
        name: run
        for name, run in workloads(args.sentences).items()
        if args.only in name
    }
    #: workload -> "nltk"/"fast" -> "wall"/"cpu" -> seconds of each round
    times = {
        name: {side: {"wall": [], "cpu": []} for side in ("nltk", "fast")}
        for name in runs
    }
    for _ in range(args.rounds):
        for name, (nltk_run, fast_run) in runs.items():
            for side, run in (("nltk", nltk_run), ("fast", fast_run)):
                wall, cpu, output = timed(run)
                times[name][side]["wall"].append(wall)
                times[name][side]["cpu"].append(cpu)
                if side == "nltk":
                    expected = output
                else:
                    assert output == expected, f"{name}: the fast path's output differs"
    summary = {}
    for name, sides in times.items():
        print(f"\n{name} (outputs identical)")
        summary[name] = {}
        for clock in ("wall", "cpu"):
            nltk_median = statistics.median(sides["nltk"][clock])
            fast_median = statistics.median(sides["fast"][clock])
            ratio = nltk_median / fast_median
            summary[name][clock] = {
                "nltk_s": round(nltk_median, 3),
                "fast_s": round(fast_median, 3),
                "ratio": round(ratio, 2),
            }
            rounds = "; ".join(
                f"{side} " + ", ".join(f"{t:.2f}" for t in sides[side][clock])
                for side in ("nltk", "fast")
            )
            print(
                f"  {clock:<4}  NLTK {nltk_median:8.3f} s   fast {fast_median:8.3f} s   "
                f"{ratio:5.2f}x   (rounds: {rounds})"
            )
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
