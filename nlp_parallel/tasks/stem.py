"""Stemming with any of NLTK's stemmers (``nltk.stem``), in workers without NLTK data.

Each algorithm reads only its own options, so e.g. ``language`` with ``porter`` is
rejected as unknown.  What a stemmer would load from NLTK data -- Snowball's stopword
lists, RSLP's rule files -- is read here and shipped as the text NLTK stores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from nltk.stem import LancasterStemmer, PorterStemmer, RegexpStemmer, SnowballStemmer

from .. import models
from ..options import OptionReader

NAME = "stem"
MODULE = "nlp_parallel.remote_tasks.stem"
INPUT = "tokens"
SUMMARY = "stem words or token lists with an NLTK stemmer (porter, snowball, rslp, ...)"
OPTIONS: Mapping[str, str] = {
    "algorithm": "porter (default), lancaster, snowball, regexp, isri, rslp, cistem, arlstem "
    "or arlstem2",
    "lowercase": "lowercase each token before stemming (default false)",
    "mode": "porter: ORIGINAL_ALGORITHM, MARTIN_EXTENSIONS or NLTK_EXTENSIONS (default)",
    "language": "snowball, required: one of SnowballStemmer.languages",
    "ignore_stopwords": "snowball: leave the language's NLTK stopwords unstemmed (default false)",
    "pattern": "regexp, required: the regular expression whose matches are removed",
    "min": "regexp: words shorter than this are left as they are (default 0)",
    "strip_prefix": "lancaster: strip prefixes such as kilo-, micro- first (default false)",
    "rules": "lancaster: a list of rule strings replacing the default rules",
    "case_insensitive": "cistem: stem without regard to case (default false)",
    "exact_fast": "remember each worker's recent stems, the same as NLTK's (default true; "
    "not for snowball arabic, whose stems depend on the words before); false runs NLTK's "
    "stemmer on every token",
}

PORTER_MODES = (
    PorterStemmer.ORIGINAL_ALGORITHM,
    PorterStemmer.MARTIN_EXTENSIONS,
    PorterStemmer.NLTK_EXTENSIONS,
)
#: The files ``RSLPStemmer.__init__`` loads, in the order of its ``_model`` steps.
RSLP_RULE_FILES = tuple(f"step{i}.pt" for i in range(7))


def build(reader: OptionReader) -> dict[str, Any]:
    """Read the options of the chosen algorithm into the data
    ``nlp_parallel.remote_tasks.stem`` gets.

    Raises :class:`~nlp_parallel.errors.ConfigError` for a bad option and
    :class:`~nlp_parallel.errors.ResourceMissing` when stopwords or RSLP rules
    are not installed.
    """
    algorithm = reader.choice("algorithm", ALGORITHMS, "porter")
    lowercase = reader.boolean("lowercase", False)
    exact_fast = reader.boolean("exact_fast", True)
    return {"algorithm": algorithm, "lowercase": lowercase, "exact_fast": exact_fast,
            **ALGORITHMS[algorithm](reader)}


def _porter(reader: OptionReader) -> dict[str, Any]:
    return {"mode": reader.choice("mode", PORTER_MODES, PorterStemmer.NLTK_EXTENSIONS)}


def _lancaster(reader: OptionReader) -> dict[str, Any]:
    rules = reader.raw("rules")
    if rules is not None:
        if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
            raise reader.fail("rules", f"expected a non-empty list of rule strings, not {rules!r}")
        try:
            # NLTK checks rules only when it first stems; check them once, here.
            LancasterStemmer(rules).parseRules()
        except ValueError as exc:
            raise reader.fail("rules", str(exc)) from None
    return {"rules": rules, "strip_prefix": reader.boolean("strip_prefix", False)}


def _snowball(reader: OptionReader) -> dict[str, Any]:
    languages = SnowballStemmer.languages
    if not reader.has("language"):
        raise reader.fail("language", f"snowball needs a language, one of {', '.join(languages)}")
    language = reader.choice("language", languages, None)
    stopwords = None
    if reader.boolean("ignore_stopwords", False):
        # The worker has no NLTK data, so ship the list SnowballStemmer would read.
        with reader.loading("ignore_stopwords"):
            models.find("corpora/stopwords/", "stopwords")
        try:
            stopwords = models.read_text(f"corpora/stopwords/{language}", "stopwords")
        except LookupError:
            raise reader.fail(
                "ignore_stopwords", f"NLTK's stopwords corpus has no list for {language!r}"
            ) from None
    return {"language": language, "stopwords": stopwords}


def _regexp(reader: OptionReader) -> dict[str, Any]:
    pattern = reader.string("pattern", required=True)
    minimum = reader.integer("min", 0, minimum=0)
    try:
        # NLTK compiles with its own guarded engine (nltk.redos), so let it judge.
        RegexpStemmer(pattern, minimum)
    except (re.error, ValueError) as exc:
        raise reader.fail(
            "pattern", f"{pattern!r} is not a valid regular expression: {exc}"
        ) from None
    return {"pattern": pattern, "min": minimum}


def _cistem(reader: OptionReader) -> dict[str, Any]:
    return {"case_insensitive": reader.boolean("case_insensitive", False)}


def _rslp(reader: OptionReader) -> dict[str, Any]:
    with reader.loading("algorithm"):
        models.find("stemmers/rslp/", "rslp")
        return {"rules": [models.read_text(f"stemmers/rslp/{f}", "rslp") for f in RSLP_RULE_FILES]}


def _no_options(reader: OptionReader) -> dict[str, Any]:
    return {}


#: Algorithm -> the reader of its own options.
ALGORITHMS: Mapping[str, Callable[[OptionReader], dict[str, Any]]] = {
    "porter": _porter,
    "lancaster": _lancaster,
    "snowball": _snowball,
    "regexp": _regexp,
    "isri": _no_options,
    "rslp": _rslp,
    "cistem": _cistem,
    "arlstem": _no_options,
    "arlstem2": _no_options,
}
