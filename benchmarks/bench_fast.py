"""Per-core benchmark: NLTK's own code against the exact fast paths, in one process.

- perceptron tagging of the first 20,000 brown sentences: ``PerceptronTagger.tag``
  against ``ExactPerceptron.tags`` (built afresh each round, so its caches start cold);
- Porter (NLTK_EXTENSIONS) and Snowball English stemming of every brown token:
  ``stemmer.stem`` per token against the stem task's memo (fresh each round);
- WordNet lemmatization of every tagged brown token, the WordNet POS taken from the
  tag as the lemmatize task does: ``WordNetLemmatizer().lemmatize`` over NLTK's
  WordNet against the lemmatize task's memo (fresh each round).

Each round runs NLTK's code and then the fast path on the same input, rounds
interleaved, and every output is checked equal to NLTK's.  Prints the median of
the rounds and the ratio.

    python benchmarks/bench_fast.py [--rounds 3] [--sentences 20000]
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


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


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

    def fast_lemmas() -> list[list[str]]:
        task = remote_lemmatize.setup(lemmatize_options)
        return [task(sent) for sent in tagged]

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
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{date.today()}, median of {args.rounds} interleaved rounds"
    )
    runs = workloads(args.sentences)
    times: dict[str, dict[str, list[float]]] = {
        name: {"nltk": [], "fast": []} for name in runs
    }
    for _ in range(args.rounds):
        for name, (nltk_run, fast_run) in runs.items():
            nltk_seconds, expected = timed(nltk_run)
            fast_seconds, got = timed(fast_run)
            assert got == expected, (
                f"{name}: the fast path's output differs from NLTK's"
            )
            times[name]["nltk"].append(nltk_seconds)
            times[name]["fast"].append(fast_seconds)
    summary = {}
    for name, runs_of in times.items():
        nltk_median = statistics.median(runs_of["nltk"])
        fast_median = statistics.median(runs_of["fast"])
        summary[name] = {
            "nltk_s": round(nltk_median, 3),
            "fast_s": round(fast_median, 3),
            "ratio": round(nltk_median / fast_median, 2),
        }
        print(f"\n{name} (outputs identical)")
        print(
            f"  NLTK's own code  {nltk_median:8.3f} s   "
            f"(rounds: {', '.join(f'{t:.2f}' for t in runs_of['nltk'])})"
        )
        print(
            f"  exact fast path  {fast_median:8.3f} s   "
            f"(rounds: {', '.join(f'{t:.2f}' for t in runs_of['fast'])})   "
            f"{nltk_median / fast_median:.2f}x"
        )
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
