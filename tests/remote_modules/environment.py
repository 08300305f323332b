"""What a worker's host offers it: proves a remote host needs only Python and NLTK.

The item is an NLTK resource name; the result says whether the worker's NLTK finds
it, with the worker's host, interpreter, NLTK_DATA and which packages it can import.
"""

import importlib.util
import os
import socket
import sys

import nltk.data


def process(resource):
    try:
        nltk.data.find(resource)
        found = True
    except LookupError:
        found = False
    return {
        "found": found,
        "host": socket.gethostname(),
        "executable": sys.executable,
        "NLTK_DATA": os.environ.get("NLTK_DATA"),
        "importable": sorted(
            name for name in ("nlp_parallel", "execnet", "nltk")
            if importlib.util.find_spec(name) is not None
        ),
    }
