"""A batched remote module: NLTK's Porter stemmer, one word per item.

It needs no NLTK data, so it runs on any worker that has Python and NLTK.
"""

from nltk.stem.porter import PorterStemmer


def setup(options):
    return PorterStemmer(mode=options.get("mode", PorterStemmer.NLTK_EXTENSIONS)).stem
