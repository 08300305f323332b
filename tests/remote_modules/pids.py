"""Returns the worker's pid for every item, slowly, so a test can act mid-run."""

import os
import time


def process(item):
    time.sleep(0.002)
    return os.getpid()
