"""Tokenizing texts into sentences of tokens with NLTK's tokenizers, in workers without data.

Sentences come from Punkt (``sent_tokenize``), from lines, or are the whole text;
each is then split by one of NLTK's word tokenizers.  The defaults give exactly the
NLTK idiom ``[word_tokenize(s, language) for s in sent_tokenize(text, language)]``
-- including its quirk that ``word_tokenize`` runs Punkt again on each sentence
(``preserve_line: true`` skips that, as ``word_tokenize(..., preserve_line=True)``).

The Punkt model is read here, as the text of its ``punkt_tab`` files, and rebuilt on
each worker by NLTK's own loader.  Each tokenizer reads only its own options, so
e.g. ``pattern`` with ``words: tweet`` is rejected as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import nltk.data
from nltk import redos

from .. import models
from ..errors import ResourceMissing
from ..options import OptionReader, did_you_mean

NAME = "tokenize"
MODULE = "nlp_parallel.remote_tasks.tokenize"
INPUT = "text"
SUMMARY = "split texts into sentences of tokens (sent_tokenize + word_tokenize, tweet, ...)"
OPTIONS: Mapping[str, str] = {
    "sentences": "punkt (default, as sent_tokenize), lines (one per non-blank line) or none "
    "(the whole text is one sentence)",
    "language": "the punkt_tab model Punkt uses (default english)",
    "words": "word (default, as word_tokenize), treebank, regexp, whitespace, wordpunct or tweet",
    "preserve_line": "word: do not re-split each sentence with Punkt, as word_tokenize's "
    "preserve_line (default false)",
    "pattern": "regexp, required: what a token (or with gaps, a separator) matches; no "
    "capturing groups",
    "gaps": "regexp: the pattern matches the separators between tokens (default false)",
    "discard_empty": "regexp: drop empty tokens (default true)",
    "preserve_case": "tweet: keep the case of words (default true)",
    "reduce_len": "tweet: shorten runs of 3 or more repeated characters to 3 (default false)",
    "strip_handles": "tweet: remove @handles (default false)",
    "match_phone_numbers": "tweet: keep phone numbers as one token (default true)",
}

SENTENCES = ("punkt", "lines", "none")
#: The languages of NLTK's punkt_tab package.
PUNKT_LANGUAGES = ("czech", "danish", "dutch", "english", "estonian", "finnish", "french",
                   "german", "greek", "italian", "malayalam", "norwegian", "polish",
                   "portuguese", "russian", "slovene", "spanish", "swedish", "turkish")
#: The files of a punkt_tab model, as ``nltk.tokenize.punkt.load_punkt_params`` reads them.
PUNKT_FILES = ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab")
#: ``RegexpTokenizer``'s default flags, which the workers compile the pattern with.
REGEXP_FLAGS = re.UNICODE | re.MULTILINE | re.DOTALL
#: ``TweetTokenizer``'s keyword arguments and their defaults.
TWEET_FLAGS: Mapping[str, bool] = {
    "preserve_case": True,
    "reduce_len": False,
    "strip_handles": False,
    "match_phone_numbers": True,
}


def build(reader: OptionReader) -> dict[str, Any]:
    """Read the options into the data ``nlp_parallel.remote_tasks.tokenize`` gets.

    Raises :class:`~nlp_parallel.errors.ConfigError` for a bad option and
    :class:`~nlp_parallel.errors.ResourceMissing` when the Punkt model of the
    language is not installed.
    """
    sentences = reader.choice("sentences", SENTENCES, "punkt")
    words = reader.choice("words", WORD_TOKENIZERS, "word")
    args = WORD_TOKENIZERS[words](reader)
    options: dict[str, Any] = {"sentences": sentences, "words": words, "args": args}
    # word_tokenize splits with Punkt itself unless told to preserve the line.
    if sentences == "punkt" or (words == "word" and not args["preserve_line"]):
        language = _language(reader)
        with reader.loading("language"):
            try:
                options["punkt"] = punkt_files(language)
            except ResourceMissing:
                if language in PUNKT_LANGUAGES:  # the punkt_tab package has it
                    raise
                here = ", ".join(models.installed("tokenizers/punkt_tab")) or "none"
                raise reader.fail("language", (
                    f"NLTK has no punkt_tab model for {language!r}"
                    f"{did_you_mean(language, PUNKT_LANGUAGES)}; its languages: "
                    f"{', '.join(PUNKT_LANGUAGES)} (installed here: {here})")) from None
    return options


def punkt_files(language: str) -> dict[str, str]:
    """The texts of the ``punkt_tab`` model files for ``language``, by file name.

    Found as ``PunktTokenizer(language)`` finds them (the model directory, then
    its files), so the worker rebuilds the same model.  Raises
    :class:`~nlp_parallel.errors.ResourceMissing` naming ``punkt_tab``.
    """
    resource = f"tokenizers/punkt_tab/{language}/"
    root = models.find(resource, "punkt_tab")
    files = {}
    for name in PUNKT_FILES:
        try:
            with nltk.data.open_datafile(root, name) as f:
                files[name] = f.read()
        except (OSError, KeyError):  # KeyError: a zip without that member
            raise ResourceMissing(resource + name, "punkt_tab") from None
    return files


def _language(reader: OptionReader) -> str:
    language = reader.string("language", "english")
    # One directory name, as NLTK's PunktTokenizer requires: "english/../x" would
    # load another model.
    if not language or not all(c.isalnum() or c in "-_" for c in language):
        raise reader.fail("language", f"{language!r} is not a punkt_tab model name, e.g. english")
    return language


def _word(reader: OptionReader) -> dict[str, Any]:
    return {"preserve_line": reader.boolean("preserve_line", False)}


def _regexp(reader: OptionReader) -> dict[str, Any]:
    pattern = reader.string("pattern", required=True)
    try:
        # NLTK compiles with its own guarded engine (nltk.redos), so let it judge.
        groups = redos.compile(pattern, REGEXP_FLAGS).groups
    except re.error as exc:  # redos.error is a re.error
        raise reader.fail(
            "pattern", f"{pattern!r} is not a valid regular expression: {exc}"
        ) from None
    if groups:
        # RegexpTokenizer's documented rule; findall would return groups (tuples).
        raise reader.fail(
            "pattern", f"{pattern!r} has capturing groups; use non-capturing (?:...) instead"
        )
    return {
        "pattern": pattern,
        "gaps": reader.boolean("gaps", False),
        "discard_empty": reader.boolean("discard_empty", True),
    }


def _tweet(reader: OptionReader) -> dict[str, Any]:
    return {key: reader.boolean(key, default) for key, default in TWEET_FLAGS.items()}


def _no_options(reader: OptionReader) -> dict[str, Any]:
    return {}


#: Word tokenizer -> the reader of its own options (its constructor's arguments).
WORD_TOKENIZERS: Mapping[str, Callable[[OptionReader], dict[str, Any]]] = {
    "word": _word,
    "treebank": _no_options,
    "regexp": _regexp,
    "whitespace": _no_options,
    "wordpunct": _no_options,
    "tweet": _tweet,
}
