"""Misbehaves on chosen items: options {"raise_on": i, "exit_on": i, "hang_on": i}."""

import os
import time


def setup(options):
    raise_on = options.get("raise_on")
    exit_on = options.get("exit_on")
    hang_on = options.get("hang_on")
    if options.get("fail_setup"):
        raise RuntimeError("setup refused: " + options["fail_setup"])

    def process(item):
        if item == raise_on:
            raise ValueError("cannot handle item %r" % (item,))
        if item == exit_on:
            os._exit(3)
        if item == hang_on:
            time.sleep(3600)
        return item + 1

    return process
