"""The brown tagging (or stemming) job written by hand, as the benchmarks' baselines.

    python benchmarks/baseline_tag.py OUTPUT [--pool N] [--limit 20000] [--task stem]

Reads the first LIMIT brown sentences file by file, tags them with NLTK's
perceptron (or stems them with its Porter stemmer) and writes the same JSONL lines
as ``nlp-parallel run`` with ``corpora_configs/brown_tag.yaml`` (or the same job
with ``task: stem``): serially, or with a forked ``multiprocessing.Pool(N).imap``
(model loaded once in the parent, tuned chunksize).
"""

import argparse
import json
import multiprocessing

from nltk.corpus import brown
from nltk.stem import PorterStemmer
from nltk.tag import PerceptronTagger

TAGGER = None
STEMMER = PorterStemmer()
FIELD = "tags"


def sentences(limit):
    count = 0
    for fileid in brown.fileids():
        for sent in brown.sents(fileid):
            if count == limit:
                return
            yield count, fileid, list(sent)
            count += 1


def tags(job):
    return [tag for _, tag in TAGGER.tag(job[2])]


def stems(job):
    return [STEMMER.stem(token) for token in job[2]]


def line(job, tags):
    index, fileid, tokens = job
    record = {"index": index, "fileid": fileid, "tokens": tokens, FIELD: tags}
    return json.dumps(record, ensure_ascii=False) + "\n"


def main():
    global TAGGER, FIELD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--pool", type=int, default=0)
    parser.add_argument("--chunksize", type=int, default=100)
    parser.add_argument("--limit", type=int, default=20_000)
    parser.add_argument("--task", choices=("tag", "stem"), default="tag")
    args = parser.parse_args()
    work = tags
    if args.task == "stem":
        FIELD, work = "stems", stems
    else:
        TAGGER = PerceptronTagger()
    with open(args.output, "w", encoding="utf-8") as f:
        if not args.pool:
            for job in sentences(args.limit):
                f.write(line(job, work(job)))
            return
        jobs = list(sentences(args.limit))  # the parent zips results back to their sentences
        with multiprocessing.Pool(args.pool) as pool:
            for job, result in zip(jobs, pool.imap(work, jobs, chunksize=args.chunksize)):
                f.write(line(job, result))


if __name__ == "__main__":
    main()
