"""Misbehaves on chosen items: options {"raise_on": i, "exit_on": i, "hang_on": i,
"spin_on": i}.  ``hang_on`` sleeps; ``spin_on`` runs a regular expression that
backtracks for ever while holding the GIL, as a pathological pattern does."""

import os
import re
import time


def setup(options):
    raise_on = options.get("raise_on")
    exit_on = options.get("exit_on")
    hang_on = options.get("hang_on")
    spin_on = options.get("spin_on")
    if options.get("fail_setup"):
        raise RuntimeError("setup refused: " + options["fail_setup"])

    def process(item):
        if item == raise_on:
            raise ValueError("cannot handle item %r" % (item,))
        if item == exit_on:
            os._exit(3)
        if item == hang_on:
            time.sleep(3600)
        if item == spin_on:
            re.match(r"(a+)+$", "a" * 64 + "b")
        return item + 1

    return process
