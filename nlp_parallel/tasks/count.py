"""Counting: frequency distributions, n-grams, conditional counts, collocations and
vocabulary statistics, merged by the driver into NLTK's own objects.

A count is the last step of a pipeline (or a task of its own over the corpus's
tokens); the steps before it add the tags, stems or lemmas it counts.  The workers
count their pieces of the corpus (``nlp_parallel.remote_tasks.count``) and the driver merges
them (:mod:`nlp_parallel.counting`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nltk.metrics import association
from nltk.tokenize.simple import line_tokenize

from .. import models
from ..options import OptionReader

NAME = "count"
MODULE = "nlp_parallel.remote_tasks.count"
INPUT = "tokens"
SUMMARY = ("count words, tags, stems or lemmas, n-grams, condition -> sample pairs or "
           "collocations, merged into NLTK's FreqDist, ConditionalFreqDist or a "
           "collocation finder")
KINDS = ("words", "ngrams", "conditional", "collocations", "vocabulary")
UNITS = ("word", "tag", "stem", "lemma", "word_tag")
#: What a unit is taken from: the record field a step or the corpus adds.
UNIT_FIELDS = {"word": "tokens", "tag": "tags", "stem": "stems", "lemma": "lemmas",
               "word_tag": "tags"}
GROUPS = ("fileid", "category")
#: The association measures of NLTK's bigram and trigram measures classes.
MEASURES = {
    2: ("likelihood_ratio", "pmi", "chi_sq", "student_t", "raw_freq", "poisson_stirling",
        "jaccard", "mi_like", "phi_sq", "dice", "fisher"),
    3: ("likelihood_ratio", "pmi", "chi_sq", "student_t", "raw_freq", "poisson_stirling",
        "jaccard", "mi_like"),
}
OPTIONS: Mapping[str, str] = {
    "count": "words (default: a FreqDist of units), ngrams, conditional (a "
    "ConditionalFreqDist), collocations (a bigram or trigram collocation finder) or "
    "vocabulary (tokens, types, hapaxes and type/token ratio per group)",
    "of": "the unit counted: word (default), tag, stem, lemma or word_tag (a (word, tag) "
    "pair); tags come from a tagged view or a tag step, stems and lemmas from their steps",
    "lowercase": "lowercase each word first (default false)",
    "stopwords": "leave out tokens whose word is in this NLTK stopwords list (a language "
    "such as english) or in this list of words",
    "match": "count only tokens whose word matches this regular expression in full, "
    "e.g. '[A-Za-z]+'",
    "n": "ngrams: the n (default 2); collocations: 2 (bigrams, default) or 3 (trigrams)",
    "span": "ngrams: corpus (default: n-grams run across sentences, as over "
    "corpus.words()) or sentence (within each)",
    "pad_left": "ngrams: pad as nltk.util.ngrams does (default false)",
    "pad_right": "ngrams: pad as nltk.util.ngrams does (default false)",
    "left_pad_symbol": "ngrams: the left pad symbol (default null)",
    "right_pad_symbol": "ngrams: the right pad symbol (default null)",
    "window_size": "collocations: the finder's window_size (default n)",
    "min_freq": "collocations: drop n-grams seen fewer times (apply_freq_filter; default 1)",
    "measure": "collocations: the association measure ranking them (default "
    "likelihood_ratio; pmi, chi_sq, student_t, raw_freq, ...)",
    "condition": "conditional: word, tag, stem, lemma, word_tag, fileid or category",
    "sample": "conditional: the unit counted under each condition (default word)",
    "by": "vocabulary: corpus (default), fileid or category",
}


def build(reader: OptionReader) -> dict[str, Any]:
    """Check the options of the chosen count; ship NLTK's stopword list as data."""
    kind = reader.choice("count", KINDS, "words")
    options: dict[str, Any] = {"count": kind, "of": reader.choice("of", UNITS, "word")}
    options["lowercase"] = reader.boolean("lowercase", False)
    options["stopwords"] = _stopwords(reader)
    match = reader.string("match")
    if match is not None:
        try:
            re.compile(match)
        except re.error as exc:
            raise reader.fail("match", f"{match!r} is not a valid regular expression: "
                                       f"{exc}") from None
    options["match"] = match
    if kind == "ngrams":
        options["n"] = reader.integer("n", 2, minimum=1)
        options["span"] = reader.choice("span", ("corpus", "sentence"), "corpus")
        for side in ("left", "right"):
            options[f"pad_{side}"] = reader.boolean(f"pad_{side}", False)
            symbol = reader.raw(f"{side}_pad_symbol")
            if symbol is not None and not isinstance(symbol, str):
                raise reader.fail(f"{side}_pad_symbol", f"expected a string, not {symbol!r}")
            options[f"{side}_pad_symbol"] = symbol
    elif kind == "collocations":
        n = reader.integer("n", 2)
        if n not in (2, 3):
            raise reader.fail("n", f"collocations are bigrams (2) or trigrams (3), not {n}")
        options["n"] = n
        options["window_size"] = reader.integer("window_size", n, minimum=n)
        options["min_freq"] = reader.integer("min_freq", 1, minimum=1)
        options["measure"] = reader.choice("measure", MEASURES[n], "likelihood_ratio")
        if options["measure"] == "fisher":
            import importlib.util

            if importlib.util.find_spec("scipy") is None:  # NLTK's fisher measure needs it
                raise reader.fail("measure", "fisher needs scipy, which is not installed; "
                                             "use likelihood_ratio or pip install scipy")
    elif kind == "conditional":
        if not reader.has("condition"):
            raise reader.fail("condition", f"count conditional needs a condition, one of "
                                           f"{', '.join(UNITS + GROUPS)}")
        options["condition"] = reader.choice("condition", UNITS + GROUPS, None)
        options["sample"] = reader.choice("sample", UNITS, "word")
    elif kind == "vocabulary":
        options["by"] = reader.choice("by", ("corpus",) + GROUPS, "corpus")
    return options


def _stopwords(reader: OptionReader) -> list[str] | None:
    value = reader.raw("stopwords")
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(word, str) for word in value):
            raise reader.fail("stopwords", "expected a language of NLTK's stopwords corpus "
                                           "or a list of words")
        return list(value)
    if not isinstance(value, str):
        raise reader.fail("stopwords", f"expected a language such as english or a list of "
                                       f"words, not {value!r}")
    with reader.loading("stopwords"):
        models.find("corpora/stopwords/", "stopwords")
    try:
        text = models.read_text(f"corpora/stopwords/{value}", "stopwords")
    except LookupError:
        raise reader.fail("stopwords", f"NLTK's stopwords corpus has no list {value!r}; "
                                       f"give a language such as english, or a list of "
                                       f"words") from None
    # As nltk.corpus.stopwords.words(language) reads it.
    return [line for line in line_tokenize(text) if not line.startswith("\n")]


def needs_fields(options: Mapping[str, Any]) -> set[str]:
    """The record fields a count with these (built) options reads."""
    names = [options["of"]]
    if options["count"] == "conditional":
        names = [options["condition"], options["sample"]]
    return {UNIT_FIELDS[name] for name in names if name in UNIT_FIELDS}


def measure(n: int, name: str) -> Any:
    """NLTK's association measure ``name`` for n-grams of ``n``."""
    measures = association.BigramAssocMeasures if n == 2 else association.TrigramAssocMeasures
    return getattr(measures, name)
