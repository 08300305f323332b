"""WordNet lemmatizing in a worker: NLTK's ``WordNetLemmatizer`` without WordNet files.

Self-contained (standard library and NLTK only).  ``lemmatize(word, pos)`` asks
WordNet only through morphy, which reads two tables: the lemma names of each part
of speech and the exception lists.  The driver ships those; here NLTK's own
``WordNetCorpusReader._morphy`` (with its suffix rules) runs over them, and NLTK's
own ``WordNetLemmatizer.lemmatize`` picks the shortest lemma.

Options, as built by ``nlp_parallel.tasks.lemmatize``: ``lemmas`` ({pos: [name,
...]}), ``exceptions`` ({pos: {form: [lemma, ...]}}), ``pos_from_tags``,
``default_pos`` and ``exact_fast`` (default true: remember the lemmas of the last
``memo_size``, default :data:`MEMO_SIZE`, distinct (word, POS) pairs -- exact, as
``lemmatize`` is a pure function of the word, the POS and the fixed tables).
Item: tokens, or ``[[word, tag], ...]``.  Result: their lemmas.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from nltk.corpus.reader.wordnet import UNIVERSAL_TAG_TO_WN_POS, WordNetCorpusReader
from nltk.stem import WordNetLemmatizer

#: The universal tagset; those of its tags without a WordNet POS (NUM, DET, ...)
#: get the default rather than a Penn reading of their first letter.
UNIVERSAL_TAGS = frozenset(
    ("ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X", ".")
)
#: Penn Treebank tag -> WordNet POS by first letter: JJ*, VB*, NN*, RB* and RP.
PENN_TO_WN_POS = MappingProxyType({"J": "a", "V": "v", "N": "n", "R": "r"})
#: Distinct (word, POS) pairs whose lemmas a worker remembers (least recently used go first).
MEMO_SIZE = 100_000


class ShippedWordNet:
    """The part of NLTK's WordNet reader that morphy uses, over the shipped tables.

    ``_morphy`` and its rules are NLTK's own; they read ``_exception_map`` and
    test ``form in _lemma_pos_offset_map`` and ``pos in _lemma_pos_offset_map[form]``,
    for which a set of parts of speech does what NLTK's pos -> offsets dict does.
    """

    MORPHOLOGICAL_SUBSTITUTIONS = WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS
    _morphy = WordNetCorpusReader._morphy

    def __init__(self, lemmas: dict[str, list[str]],
                 exceptions: dict[str, dict[str, list[str]]]) -> None:
        index: dict[str, set[str]] = {}
        for pos, names in lemmas.items():
            for name in names:
                index.setdefault(name, set()).add(pos)
        self._lemma_pos_offset_map = index
        self._exception_map = exceptions


class ShippedLemmatizer(WordNetLemmatizer):
    """NLTK's lemmatizer with morphy reading the shipped tables, not nltk.corpus.wordnet."""

    def __init__(self, wordnet: ShippedWordNet) -> None:
        self.wordnet = wordnet

    def _morphy(self, form: str, pos: str, check_exceptions: bool = True) -> list[str]:
        return self.wordnet._morphy(form, pos, check_exceptions)


class Lemmatize:
    def __init__(self, options: dict[str, Any]) -> None:
        self.lemmatizer = ShippedLemmatizer(
            ShippedWordNet(options["lemmas"], options["exceptions"])
        )
        self.pos_from_tags = options["pos_from_tags"]
        self.default_pos = options["default_pos"]
        #: tag -> the WordNet POS of its tokens, found once per tag.
        self.tag_poses: dict[str, str] = {}
        #: ``lemmatize(word, pos)``: NLTK's own, or behind a bounded memo.
        self.lemmatize: Callable[[str, str], str] = self.lemmatizer.lemmatize
        if options.get("exact_fast", True):
            memo_size = options.get("memo_size", MEMO_SIZE)
            self.lemmatize = functools.lru_cache(memo_size)(self.lemmatizer.lemmatize)

    def pos(self, tag: str) -> str:
        """The WordNet POS of a Penn Treebank or universal tag; the default if none."""
        if tag in UNIVERSAL_TAGS:
            return UNIVERSAL_TAG_TO_WN_POS.get(tag, self.default_pos)
        return PENN_TO_WN_POS.get(tag[:1], self.default_pos)

    def tag_pos(self, tag: str) -> str:
        """The WordNet POS a tagged token is lemmatized with."""
        pos = self.tag_poses.get(tag)
        if pos is None:
            pos = self.pos(tag) if self.pos_from_tags else self.default_pos
            if len(self.tag_poses) < MEMO_SIZE:  # a tagset has few tags; bounded all the same
                self.tag_poses[tag] = pos
        return pos

    def __call__(self, item: object) -> list[str]:
        if not isinstance(item, list):
            raise TypeError(
                f"a lemmatize item is tokens or [[word, tag], ...], not {type(item).__name__}"
            )
        lemmatize, poses, default = self.lemmatize, self.tag_poses, self.default_pos
        lemmas = []
        for token in item:
            if isinstance(token, str):
                lemmas.append(lemmatize(token, default))
            else:
                word, tag = token
                lemmas.append(lemmatize(word, poses.get(tag) or self.tag_pos(tag)))
        return lemmas

    def format(self, index: int, item: Any, lemmas: list[str]) -> str:
        return json.dumps({"index": index, "lemmas": lemmas}, ensure_ascii=False)


def setup(options: dict[str, Any]) -> Lemmatize:
    return Lemmatize(options)
