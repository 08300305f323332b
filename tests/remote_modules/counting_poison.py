"""A user's task that counts words, flushing its counts at the end of each batch or
shard, and misbehaves on sentences holding one word.

options: {"word": W, "mode": "raise" | "exit" | "hang" | null}.  Each flushed line
is a JSON object of word -> count over the items since the last flush.
"""

import json
import os
import time
from collections import Counter


class Counting:
    def __init__(self, options):
        self.word, self.mode = options.get("word"), options.get("mode")
        self.counts = Counter()

    def __call__(self, item):
        tokens = item["tokens"]
        if self.word in tokens:
            if self.mode == "raise":
                raise ValueError("cannot handle %r" % (self.word,))
            if self.mode == "exit":
                os._exit(3)
            if self.mode == "hang":
                time.sleep(3600)
        self.counts.update(tokens)

    def format(self, index, item, result):
        return None

    def flush(self):
        counts, self.counts = self.counts, Counter()
        return json.dumps(counts) if counts else None


def setup(options):
    return Counting(options)
