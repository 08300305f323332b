"""Stemming in a worker with one of NLTK's stemmers.

Self-contained (standard library and NLTK only).  The worker needs no NLTK data:
the data a stemmer would load -- Snowball's stopword list, RSLP's rule files --
arrives as the text NLTK stores, and the stemmer is rebuilt from it.

Options: ``algorithm``, ``lowercase`` and the algorithm's own fields, as built by
``nlp_parallel.tasks.stem``: porter ``mode``; lancaster ``rules`` (None for NLTK's)
and ``strip_prefix``; snowball ``language`` and ``stopwords`` (the text of NLTK's
stopword file, or None); regexp ``pattern`` and ``min``; cistem
``case_insensitive``; rslp ``rules`` (the texts of ``step0.pt`` ... ``step6.pt``);
``exact_fast`` (default true): remember the stems of the last ``memo_size`` (default
:data:`MEMO_SIZE`) distinct tokens.
Item: a word, or a list of tokens.  Result: its stem, or the list of their stems.

The memo gives NLTK's stems because each memoized stemmer's ``stem`` is a pure
function of the word, given the options (NLTK 3.10's ``nltk/stem``): porter, lancaster
(its rule index is built once, from the fixed rules), regexp, isri, rslp, cistem,
arlstem and arlstem2 (which resets its one flag at each call and never reads it
across calls) keep no state between calls, and neither do Snowball's stemmers but
one.  Snowball's Arabic stemmer is left out: its ``stem`` resets most of its step
flags per call but not ``suffixes_verb_step1_success``, so once one word sets it,
later words are stemmed differently -- its stem depends on the words before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from nltk.stem import (
    ARLSTem,
    ARLSTem2,
    Cistem,
    ISRIStemmer,
    LancasterStemmer,
    PorterStemmer,
    RegexpStemmer,
    RSLPStemmer,
    SnowballStemmer,
)
from nltk.stem.api import StemmerI
from nltk.tokenize.simple import line_tokenize


def snowball(options: dict[str, Any]) -> SnowballStemmer:
    stemmer = SnowballStemmer(options["language"])
    if options["stopwords"] is not None:
        # What ignore_stopwords=True reads (stopwords.words(language) is exactly
        # line_tokenize of the file); stemmer.stopwords is the language stemmer's set.
        stemmer.stopwords.update(line_tokenize(options["stopwords"]))
    return stemmer


def rslp(options: dict[str, Any]) -> RSLPStemmer:
    # RSLPStemmer.__init__ loads its rule files from NLTK data; skip it and set
    # the model it would build from the shipped texts.
    stemmer = RSLPStemmer.__new__(RSLPStemmer)
    stemmer._model = [rslp_rules(text) for text in options["rules"]]
    return stemmer


def rslp_rules(text: str) -> list[list[Any]]:
    """``RSLPStemmer.read_rule``'s parse of one rule file, given its text."""
    lines = [line for line in text.split("\n") if line != "" and line[0] != "#"]
    rules = []
    for line in lines:
        # NLTK's own hack for rule files that separate fields with double tabs.
        tokens = line.replace("\t\t", "\t").split("\t")
        exceptions = [token[1:-1] for token in tokens[3].split(",")]
        rules.append([tokens[0][1:-1], int(tokens[1]), tokens[2][1:-1], exceptions])
    return rules


STEMMERS = MappingProxyType(
    {
        "porter": lambda o: PorterStemmer(o["mode"]),
        # rules None: NLTK's default rules
        "lancaster": lambda o: LancasterStemmer(o["rules"], o["strip_prefix"]),
        "snowball": snowball,
        "regexp": lambda o: RegexpStemmer(o["pattern"], o["min"]),
        "isri": lambda o: ISRIStemmer(),
        "rslp": rslp,
        "cistem": lambda o: Cistem(o["case_insensitive"]),
        "arlstem": lambda o: ARLSTem(),
        "arlstem2": lambda o: ARLSTem2(),
    }
)


#: Distinct tokens whose stems a worker remembers (least recently used go first).
MEMO_SIZE = 100_000


def pure(options: dict[str, Any]) -> bool:
    """Whether the stemmer ``options`` build gives each word's stem whatever came
    before it (see the module docstring), so that remembering stems is exact."""
    return not (options["algorithm"] == "snowball" and options["language"] == "arabic")


class Stem(StemmerI):
    """An NLTK stemmer, optionally lowercasing first, applied to words or token lists."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.stemmer = STEMMERS[options["algorithm"]](options)
        self.lowercase = options["lowercase"]
        #: A token's stem: NLTK's own call, or that call behind a bounded memo.
        self.stem_token: Callable[[str], str] = self.nltk_stem
        if options.get("exact_fast", True) and pure(options):
            memo_size = options.get("memo_size", MEMO_SIZE)
            self.stem_token = functools.lru_cache(memo_size)(self.nltk_stem)

    def nltk_stem(self, token: str) -> str:
        return self.stemmer.stem(token.lower() if self.lowercase else token)

    def stem(self, token: str) -> str:
        return self.stem_token(token)

    def __call__(self, item: object) -> str | list[str]:
        if isinstance(item, str):
            return self.stem_token(item)
        if isinstance(item, list):
            return list(map(self.stem_token, item))
        raise TypeError(f"a stem item is a word or a list of tokens, not {type(item).__name__}")


def setup(options: dict[str, Any]) -> Stem:
    return Stem(options)
