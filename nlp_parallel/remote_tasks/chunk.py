"""Chunking in a worker: a RegexpParser grammar, or a trained tag-based chunker.

Self-contained (standard library and NLTK only), needing no NLTK data.  Options:
``grammar`` (with ``loop`` and ``root_label``) or ``chunker``: ``{n, table}``, the
IOB tagger of a :class:`TagChunker` as data; ``tree``: whether to return the tree.
Item: ``[[word, tag], ...]``.  Result: ``{"iob": [...], "tree": NESTED}`` where
NESTED is the chunk tree as lists: a subtree is ``[label, child, ...]``, a leaf
``[word, tag]``; ``iob`` is None for a tree too deep for IOB tags.  Without
``tree``, the result is ``{"iob": [...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nltk.chunk import ChunkParserI, RegexpParser, conlltags2tree, tree2conlltags
from nltk.tag import BigramTagger, UnigramTagger
from nltk.tree import Tree


class TagChunker(ChunkParserI):
    """The tag-based chunker of the NLTK book (chapter 7): an n-gram tagger over
    part-of-speech tags that predicts IOB chunk tags (``n`` is 1 or 2)."""

    TAGGERS = {1: UnigramTagger, 2: BigramTagger}

    def __init__(self, train_sents: Iterable[Tree] | None = None, n: int = 1,
                 model: dict[Any, str] | None = None) -> None:
        train = None
        if train_sents is not None:
            train = [[(t, c) for w, t, c in tree2conlltags(sent)] for sent in train_sents]
        self.n = n
        self.tagger = self.TAGGERS[n](train, model=model)

    def parse(self, tokens: list[tuple[str, str]]) -> Tree:
        pos_tags = [pos for (word, pos) in tokens]
        chunktags = [chunktag for (pos, chunktag) in self.tagger.tag(pos_tags)]
        return conlltags2tree(
            [(word, pos, chunktag) for ((word, pos), chunktag) in zip(tokens, chunktags)]
        )

    def table(self) -> list[list[Any]]:
        """The tagger's context table as JSON data."""
        if self.n == 1:
            return [[pos, iob] for pos, iob in self.tagger._context_to_tag.items()]
        return [[list(prev), pos, iob] for (prev, pos), iob in self.tagger._context_to_tag.items()]

    @classmethod
    def from_table(cls, n: int, table: list[list[Any]]) -> TagChunker:
        if n == 1:
            model = {pos: iob for pos, iob in table}
        else:
            model = {(tuple(prev), pos): iob for prev, pos, iob in table}
        return cls(n=n, model=model)


def tree_data(tree: Tree | tuple[str, str]) -> list[Any]:
    """A chunk tree as nested lists (leaves ``[word, tag]``)."""
    if isinstance(tree, Tree):
        return [tree.label()] + [tree_data(child) for child in tree]
    return list(tree)


class Chunk:
    def __init__(self, options: dict[str, Any]) -> None:
        if "grammar" in options:
            self.parser = RegexpParser(
                options["grammar"], root_label=options["root_label"], loop=options["loop"]
            )
        else:
            self.parser = TagChunker.from_table(options["chunker"]["n"], options["chunker"]["table"])
        self.tree = options["tree"]

    def __call__(self, tagged: list[list[str]]) -> dict[str, Any]:
        tree = self.parser.parse([tuple(pair) for pair in tagged])
        try:
            iob = [chunk for _, _, chunk in tree2conlltags(tree)]
        except ValueError:  # nested chunks have no IOB encoding
            iob = None
        return {"iob": iob, "tree": tree_data(tree)} if self.tree else {"iob": iob}


def setup(options: dict[str, Any]) -> Chunk:
    return Chunk(options)
