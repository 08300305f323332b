"""Stem a text's words in parallel and check them against serial NLTK.

    python examples/quickstart.py [--workers N]

Needs no NLTK data.  Prints throughput and whether the results match.
"""

import argparse
import re
import sys
import time
from pathlib import Path

from nltk.stem.porter import PorterStemmer

import nlp_parallel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import remote_porter  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    text = (HERE.parent / "corpora_configs" / "sample" / "corpora.txt").read_text(encoding="utf-8")
    words = re.findall(r"[A-Za-z]+", text) * 50

    started = time.perf_counter()
    stems = nlp_parallel.map(remote_porter, words, [("popen", args.workers)])
    seconds = time.perf_counter() - started

    expected = [PorterStemmer().stem(w) for w in words]
    print(f"stemmed {len(words):,} words on {args.workers} workers in {seconds:.2f} s "
          f"({len(words) / seconds:,.0f} words/s, gateway start included)")
    print("first stems:", " ".join(f"{w}->{s}" for w, s in list(zip(words, stems))[:6]))
    if stems != expected:
        print("MISMATCH with serial NLTK", file=sys.stderr)
        return 1
    print("identical to serial NLTK: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
