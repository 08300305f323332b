"""Chunking: a RegexpParser grammar, or a tag-based chunker trained on the driver."""

from __future__ import annotations

from typing import Any

from nltk.chunk import RegexpParser
from nltk.tree import Tree

from ..remote_tasks.chunk import TagChunker

from ..errors import ConfigError
from ..models import training_sents
from ..options import OptionReader

NAME = "chunk"
MODULE = "nlp_parallel.remote_tasks.chunk"
INPUT = "tagged"
SUMMARY = "chunk tagged tokens: IOB tag per token and the chunk tree"
OPTIONS = {
    "grammar": "a RegexpParser grammar (one or more stages, e.g. 'NP: {<DT>?<JJ>*<NN>}')",
    "loop": "with grammar: times to apply all stages (default 1)",
    "root_label": "with grammar: label of the tree's root (default S)",
    "model": "unigram or bigram: a tag-based chunker trained instead of a grammar",
    "train": "with model: {corpus: conll2000, fileids: [train.txt], chunk_types: [NP]} "
    "(the default; start and limit too)",
    "tree": "return the chunk tree too (default true); false returns IOB tags only",
}
DEFAULT_TRAIN = {"corpus": "conll2000", "fileids": ["train.txt"], "chunk_types": ["NP"]}


def build(options: OptionReader) -> dict[str, Any]:
    return {**_parser(options), "tree": options.boolean("tree", True)}


def _parser(options: OptionReader) -> dict[str, Any]:
    if options.has("grammar") == options.has("model"):
        raise options.fail("grammar", "give either grammar or model (unigram, bigram)")
    if options.has("grammar"):
        grammar = options.string("grammar")
        loop = options.integer("loop", 1, minimum=1)
        root = options.string("root_label", "S")
        try:
            RegexpParser(grammar, root_label=root, loop=loop)
        except ValueError as exc:
            raise options.fail("grammar", f"invalid grammar: {exc}") from None
        return {"grammar": grammar, "loop": loop, "root_label": root}
    n = {"unigram": 1, "bigram": 2}[options.choice("model", ("unigram", "bigram"), None)]
    try:
        with options.loading("train"):
            train = training_sents(options.raw("train", DEFAULT_TRAIN), "chunked_sents",
                                   ("fileids", "chunk_types"))
    except ConfigError as exc:
        raise options.fail("train", str(exc)) from None
    return {"chunker": {"n": n, "table": TagChunker(train, n=n).table()}}


def encode_chunker(chunker: Any) -> dict[str, Any]:
    """A user's chunker as the options the remote chunk module rebuilds it from.

    Raises :class:`ConfigError` for a chunker that cannot be expressed as data.
    """
    if isinstance(chunker, RegexpParser):
        return {"grammar": chunker._grammar, "loop": chunker._loop, "tree": True,
                "root_label": chunker._stages[0]._root_label if chunker._stages else "S"}
    if isinstance(chunker, TagChunker):
        return {"chunker": {"n": chunker.n, "table": chunker.table()}, "tree": True}
    raise ConfigError(
        f"{type(chunker).__name__} cannot be sent to workers as data; supported: "
        "RegexpParser and nlp_parallel.TagChunker"
    )


def tree_from_data(data: list[Any]) -> Tree:
    """Rebuild the chunk tree from its nested-list form (leaves are tuples)."""
    label, *children = data
    return Tree(label, [
        tree_from_data(c) if len(c) != 2 or isinstance(c[1], list) else tuple(c)
        for c in children
    ])
