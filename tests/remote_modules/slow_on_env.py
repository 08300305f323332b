"""Returns (item, pid); sleeps per item in workers started with env:NLP_TEST_SLOW=<s>."""

import os
import time


def setup(options):
    delay = float(os.environ.get("NLP_TEST_SLOW", "0"))
    pid = os.getpid()

    def process(item):
        if delay:
            time.sleep(delay)
        return [item, pid]

    return process
