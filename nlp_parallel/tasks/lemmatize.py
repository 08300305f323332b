"""WordNet lemmatizing (``WordNetLemmatizer.lemmatize``) in workers without NLTK data.

``lemmatize(word, pos)`` only asks WordNet two things, through morphy: which lemma
names exist for a part of speech, and the exception lists (``noun.exc``, ...).  So
the driver loads WordNet with NLTK's own reader -- the very object serial NLTK
consults -- and ships just those two tables as plain data (a few MB of JSON, not
the ~30 MB of WordNet files); the worker runs NLTK's own morphy and ``lemmatize``
on them.  ``omw`` is never needed: lemmatizing is English-only.

Equality with serial NLTK is tested only where WordNet is installed
(``tests/test_lemmatize.py`` skips that test otherwise); without WordNet,
:func:`build` raises :class:`~nlp_parallel.errors.ResourceMissing` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nltk.corpus import wordnet
from nltk.corpus.reader.wordnet import ADJ, ADJ_SAT, ADV, NOUN, VERB

from ..errors import ResourceMissing
from ..options import OptionReader

NAME = "lemmatize"
MODULE = "nlp_parallel.remote_tasks.lemmatize"
INPUT = "tokens"
SUMMARY = "lemmatize tokens or tagged tokens with NLTK's WordNet lemmatizer"
OPTIONS: Mapping[str, str] = {
    "pos_from_tags": "for [[word, tag], ...] items, take each word's WordNet POS from its "
    "Penn Treebank (JJ* a, VB* v, NN* n, RB*/RP r) or universal tag (default true)",
    "default_pos": "the WordNet POS of untagged words and of tags outside those: n (default), "
    "v, a, r or s",
    "exact_fast": "remember each worker's recent (word, POS) lemmas, the same as NLTK's "
    "(default true); false runs NLTK's lemmatize on every token",
}

#: WordNet's parts of speech: n, v, a, r and s (adjective satellite).
WORDNET_POS = (NOUN, VERB, ADJ, ADV, ADJ_SAT)


def build(reader: OptionReader) -> dict[str, Any]:
    """Read the options and WordNet's morphy tables into what the workers get.

    Raises :class:`~nlp_parallel.errors.ConfigError` for a bad option and
    :class:`~nlp_parallel.errors.ResourceMissing` when WordNet is not installed.
    """
    options = {
        "pos_from_tags": reader.boolean("pos_from_tags", True),
        "default_pos": reader.choice("default_pos", WORDNET_POS, "n"),
        "exact_fast": reader.boolean("exact_fast", True),
    }
    return {**options, **wordnet_tables()}


def wordnet_tables() -> dict[str, Any]:
    """What morphy reads from WordNet: lemma names and exception lists, by POS.

    ``{"lemmas": {pos: [name, ...]}, "exceptions": {pos: {form: [lemma, ...]}}}``.
    Raises :class:`~nlp_parallel.errors.ResourceMissing` naming ``wordnet``.
    """
    # Load it here, so a missing WordNet is our ResourceMissing, not a LookupError
    # later.  NLTK's loader is what finds it, unzipped or as the downloader installs
    # it (corpora/wordnet.zip), so the check cannot disagree with the reading.
    try:
        wordnet.ensure_loaded()
    except LookupError:
        raise ResourceMissing("corpora/wordnet", "wordnet") from None
    return {
        "lemmas": {pos: list(wordnet.all_lemma_names(pos)) for pos in WORDNET_POS},
        # No public accessor; morphy reads exactly this ({pos: {form: [lemmas]}}).
        "exceptions": {pos: dict(table) for pos, table in wordnet._exception_map.items()},
    }
