"""A user's task that misbehaves on sentences holding one word.

options: {"word": W, "mode": "raise" | "exit" | "hang"}; returns the token count.
"""

import os
import time


def setup(options):
    word, mode = options.get("word"), options.get("mode")

    def process(item):
        if word in item["tokens"]:
            if mode == "raise":
                raise ValueError("cannot handle %r" % (word,))
            if mode == "exit":
                os._exit(3)
            time.sleep(3600)
        return len(item["tokens"])

    return process
