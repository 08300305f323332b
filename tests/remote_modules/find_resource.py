"""Whether the worker's NLTK can find a resource: proves a worker has no NLTK data."""

import nltk.data


def process(name):
    try:
        nltk.data.find(name)
    except LookupError:
        return False
    return True
