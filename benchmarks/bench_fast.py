"""Per-core benchmark: NLTK's own code against the exact fast paths, in one process.

- perceptron tagging of the first 20,000 brown sentences: ``PerceptronTagger.tag``
  against the pure-Python ``ExactPerceptron.tags`` and against ``NumpyPerceptron.tags``
  (each built afresh each round and its building timed, so its caches start cold; the
  numpy path's count of close calls redone in NLTK's order is printed);
- Porter (NLTK_EXTENSIONS) and Snowball English stemming of every brown token:
  ``stemmer.stem`` per token against the stem task's memo (built afresh each round);
- WordNet lemmatization of every tagged brown token, the WordNet POS taken from the
  tag as the lemmatize task does: ``WordNetLemmatizer().lemmatize`` over NLTK's
  WordNet against the lemmatize task (built once, as a worker builds it, its memo
  emptied before each round).

Each round runs NLTK's code and then each fast path on the same input, rounds
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

import nltk
from nltk.corpus import brown
from nltk.stem import PorterStemmer, SnowballStemmer, WordNetLemmatizer
from nltk.tag import PerceptronTagger

from nlp_parallel.tasks import prepare
from nlp_parallel.remote_tasks import lemmatize as remote_lemmatize
from nlp_parallel.remote_tasks import stem as remote_stem
from nlp_parallel.remote_tasks.tag import ExactPerceptron, NumpyPerceptron


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process, and what ``run`` returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def workloads(
    sentences: int,
) -> tuple[dict[str, dict[str, Callable[[], Any]]], dict[str, str]]:
    """Workload name -> {"nltk": NLTK's own code, fast path name: the fast path}, each
    returning its output; and the counts the fast paths leave after a round."""
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

    def pure_tag() -> list[list[str]]:
        exact = ExactPerceptron(tagger)
        return [exact.tags(s) for s in sents]

    def numpy_tag() -> list[list[str]]:
        fast = NumpyPerceptron(tagger)
        tags = [fast.tags(s) for s in sents]
        counts["numpy path"] = (
            f"{fast.predicted:,} predictions, {fast.fallbacks} close calls redone in "
            f"NLTK's order, {fast.sequential} predictions after them or unsettled"
        )
        return tags

    counts: dict[str, str] = {}

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
        f"perceptron tagging, first {len(sents):,} brown sentences": {
            "nltk": nltk_tag,
            "pure": pure_tag,
            "numpy": numpy_tag,
        },
        f"Porter stemming, all {len(words):,} brown tokens": {
            "nltk": lambda: [porter.stem(w) for w in words],
            "fast": lambda: remote_stem.setup(porter_options)(words),
        },
        f"Snowball English stemming, all {len(words):,} brown tokens": {
            "nltk": lambda: [snowball.stem(w) for w in words],
            "fast": lambda: remote_stem.setup(snowball_options)(words),
        },
        f"WordNet lemmatization, all {len(tagged):,} brown tagged sentences": {
            "nltk": nltk_lemmas,
            "fast": fast_lemmas,
        },
    }, counts


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
        f"NLTK {nltk.__version__}, {date.today()}, median of {args.rounds} "
        f"interleaved rounds; load average at the start "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    all_runs, counts = workloads(args.sentences)
    runs = {name: sides for name, sides in all_runs.items() if args.only in name}
    #: workload -> side ("nltk", "fast", ...) -> "wall"/"cpu" -> seconds of each round
    times = {
        name: {side: {"wall": [], "cpu": []} for side in sides}
        for name, sides in runs.items()
    }
    loads = []
    for _ in range(args.rounds):
        for name, sides in runs.items():
            for side, run in sides.items():
                wall, cpu, output = timed(run)
                times[name][side]["wall"].append(wall)
                times[name][side]["cpu"].append(cpu)
                if side == "nltk":
                    expected = output
                else:
                    assert output == expected, f"{name}: {side} output differs"
        loads.append(os.getloadavg()[0])
    summary: dict[str, Any] = {}
    for name, sides in times.items():
        print(f"\n{name} (outputs identical)")
        summary[name] = {}
        for side in sides:
            if side == "nltk":
                continue
            summary[name][side] = {}
            for clock in ("wall", "cpu"):
                nltk_median = statistics.median(sides["nltk"][clock])
                fast_median = statistics.median(sides[side][clock])
                ratio = nltk_median / fast_median
                summary[name][side][clock] = {
                    "nltk_s": round(nltk_median, 3),
                    "fast_s": round(fast_median, 3),
                    "ratio": round(ratio, 2),
                }
                rounds = "; ".join(
                    f"{s} " + ", ".join(f"{t:.2f}" for t in sides[s][clock])
                    for s in ("nltk", side)
                )
                print(
                    f"  {side:<5} {clock:<4}  NLTK {nltk_median:8.3f} s   "
                    f"{side} {fast_median:8.3f} s   {ratio:5.2f}x   (rounds: {rounds})"
                )
    for side, line in counts.items():
        print(f"\n{side}: {line}")
    print(
        "load average (1 min) after each round: "
        + ", ".join(f"{x:.2f}" for x in loads)
    )
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
