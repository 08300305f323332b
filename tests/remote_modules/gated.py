"""A user's task that holds a run at a place of its choosing: it returns each
sentence's token count, and an item from the file ``options["from"]`` on (in
fileid order) waits while the file ``options["gate"]`` exists.  With the gate there,
a run delivers the items before that file and then waits, however fast the machine;
with the gate gone, it runs through."""

import os
import time


def setup(options):
    gate, first = options["gate"], options["from"]

    def process(item):
        if item["fileid"] >= first:
            while os.path.exists(gate):
                time.sleep(0.05)
        return len(item["tokens"])

    return process
