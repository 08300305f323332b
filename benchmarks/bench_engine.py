"""Engine benchmark: serial loop, the seed pattern, multiprocessing.Pool, nlp_parallel.

All four run in this one process on the same input, and the script prints their
times, throughputs and ratios:

(a) a trivial function over 200,000 ints;
(b) NLTK's PerceptronTagger over the first 20,000 brown sentences, written to JSONL,
    timed as a whole: model loading, worker start and writing included;
(c) driver peak RSS of ``nlp_parallel.imap`` over 10,000 and 1,000,000 items.

Each timing is the best of ``--repeat`` runs.  Needs NLTK_DATA with brown and
averaged_perceptron_tagger_eng.

    python benchmarks/bench_engine.py [--workers 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nlp_parallel  # noqa: E402
import seed_plists  # noqa: E402
from common import best_chunksize, best_of, report  # noqa: E402
from nlp_parallel.models import perceptron_params  # noqa: E402
from remote import batched_double, seed_double, seed_tag  # noqa: E402

_TAGGER = None  # the Pool baseline's model, inherited by forked workers


def double(x: int) -> int:
    return x * 2


def bench_trivial(n: int, workers: int, repeat: int) -> dict[str, float]:
    ints = list(range(n))
    expected = [double(x) for x in ints]
    specs = [("popen", workers)]
    chunksize = max(1, n // (workers * 8))

    def check(result: list[int]) -> None:
        assert result == expected, "wrong result"

    def pool_run() -> None:
        with multiprocessing.Pool(workers) as pool:
            check(list(pool.imap(double, ints, chunksize=chunksize)))

    times = {
        "serial loop": best_of(repeat, lambda: check([double(x) for x in ints])),
        "seed pattern (1 item/message)": best_of(
            repeat, lambda: check(seed_plists.map(seed_double, ints, specs))
        ),
        f"Pool({workers}).imap chunksize={chunksize}": best_of(repeat, pool_run),
        "nlp_parallel.map, with start": best_of(
            repeat, lambda: check(nlp_parallel.map(batched_double, ints, specs))
        ),
    }
    with nlp_parallel.GatewayPool(specs) as pool:
        times["nlp_parallel.map, started pool"] = best_of(
            repeat, lambda: check(nlp_parallel.map(batched_double, ints, pool=pool))
        )
    return times


def jsonl(index: int, tokens: list[str], tags: list[str]) -> str:
    return json.dumps({"index": index, "tokens": tokens, "tags": tags}, ensure_ascii=False) + "\n"


def pool_tags(tokens: list[str]) -> list[str]:
    return [tag for _, tag in _TAGGER.tag(tokens)]


def load_tagger() -> None:
    """Pool initializer for start methods that do not inherit the parent's model."""
    global _TAGGER
    from nltk.tag import PerceptronTagger

    _TAGGER = PerceptronTagger()


def pool_tag_line(job: tuple[int, list[str]]) -> str:
    index, tokens = job
    return jsonl(index, tokens, pool_tags(tokens))


def bench_tagging(n: int, workers: int, repeat: int, outdir: str) -> dict[str, float]:
    from nltk.corpus import brown
    from nltk.tag import PerceptronTagger

    sents = [list(s) for s in brown.sents()[:n]]
    specs = [("popen", workers)]
    outputs: list[str] = []

    def output() -> str:
        outputs.append(os.path.join(outdir, f"{len(outputs)}.jsonl"))
        return outputs[-1]

    def serial() -> None:
        tagger = PerceptronTagger()
        with open(output(), "w", encoding="utf-8") as f:
            for i, tokens in enumerate(sents):
                f.write(jsonl(i, tokens, [tag for _, tag in tagger.tag(tokens)]))

    def seed() -> None:
        results = seed_plists.map(seed_tag, sents, specs)
        with open(output(), "w", encoding="utf-8") as f:
            for i, (tokens, tags) in enumerate(zip(sents, results)):
                f.write(jsonl(i, tokens, tags))

    def pool_tags_run(chunksize: int) -> None:
        """The common form: workers return tags, the parent writes JSON."""
        global _TAGGER
        _TAGGER = PerceptronTagger()  # loaded once, inherited by forked workers
        with multiprocessing.Pool(workers) as p, open(output(), "w", encoding="utf-8") as f:
            for i, (tokens, tags) in enumerate(
                zip(sents, p.imap(pool_tags, sents, chunksize=chunksize))
            ):
                f.write(jsonl(i, tokens, tags))

    def pool_lines_run(chunksize: int) -> None:
        """Pool's strongest form: workers return finished JSON lines."""
        global _TAGGER
        _TAGGER = PerceptronTagger()
        with multiprocessing.Pool(workers) as p, open(output(), "w", encoding="utf-8") as f:
            for line in p.imap(pool_tag_line, enumerate(sents), chunksize=chunksize):
                f.write(line)

    def pool_spawn_run(chunksize: int) -> None:
        """Workers that load NLTK and the model themselves, as with spawn or forkserver."""
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, initializer=load_tagger) as p, open(
            output(), "w", encoding="utf-8"
        ) as f:
            for i, (tokens, tags) in enumerate(
                zip(sents, p.imap(pool_tags, sents, chunksize=chunksize))
            ):
                f.write(jsonl(i, tokens, tags))

    def ours() -> None:
        options = {"params": perceptron_params()}
        with open(output(), "w", encoding="utf-8") as f:
            for chunk in nlp_parallel.imap_text("nlp_parallel.remote_tasks.tag", sents, specs,
                                                options=options):
                f.write(chunk)

    chunksize = best_chunksize("", pool_tags_run, (25, 100, 400))
    times = {
        "serial loop": best_of(repeat, serial),
        "seed pattern (1 item/message)": best_of(repeat, seed),
        f"Pool({workers}).imap, parent writes JSON": best_of(
            repeat, lambda: pool_tags_run(chunksize)
        ),
        f"Pool({workers}).imap, workers write JSON": best_of(
            repeat, lambda: pool_lines_run(chunksize)
        ),
        f"Pool({workers}).imap, spawn, parent writes": best_of(
            repeat, lambda: pool_spawn_run(chunksize)
        ),
        "nlp_parallel.imap_text": best_of(repeat, ours),
    }
    reference = open(outputs[0], "rb").read()
    for path in outputs:
        assert open(path, "rb").read() == reference, f"{path} differs from the first output"
    return times


MEMORY_SCRIPT = """
import resource, sys
sys.path.insert(0, {here!r})
import nlp_parallel
from remote import batched_double
n = int(sys.argv[1])
count = 0
for result in nlp_parallel.imap(batched_double, (i for i in range(n)), [("popen", {workers})]):
    count += 1
assert count == n
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(n: int, workers: int) -> int:
    script = MEMORY_SCRIPT.format(here=HERE, workers=workers)
    out = subprocess.run([sys.executable, "-c", script, str(n)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ints", type=int, default=200_000)
    parser.add_argument("--sentences", type=int, default=20_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{args.workers} workers, best of {args.repeat}")

    times = bench_trivial(args.ints, args.workers, args.repeat)
    report(f"(a) trivial function, {args.ints:,} ints", args.ints, "items", times,
           "seed pattern (1 item/message)")
    with tempfile.TemporaryDirectory() as outdir:
        times = bench_tagging(args.sentences, args.workers, args.repeat, outdir)
    report(f"(b) perceptron tagging, {args.sentences:,} brown sentences to JSONL "
           "(outputs identical)", args.sentences, "sents", times, "serial loop")
    ours = times["nlp_parallel.imap_text"]
    for name in (k for k in times if k.startswith("Pool")):
        print(f"  nlp_parallel vs {name}: {times[name] / ours:.2f}x")

    small, large = peak_rss_kib(10_000, args.workers), peak_rss_kib(1_000_000, args.workers)
    print(f"\n(c) imap driver peak RSS: 10,000 items {small / 1024:.1f} MiB, "
          f"1,000,000 items {large / 1024:.1f} MiB, difference {(large - small) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
