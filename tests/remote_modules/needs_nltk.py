"""A task that imports NLTK: workers must run the driver's NLTK version."""

import nltk


def process(item):
    return nltk.__version__
