"""Part-of-speech tagging in a worker.

Self-contained (standard library and NLTK only), needing no NLTK data: the model
arrives as data.  Options: ``params`` (the perceptron's ``[weights, tagdict,
classes]``) or ``chain`` (sequential taggers, first tried first, as built by the
driver), and optionally ``mapping`` ``{table, default}`` to another tagset.
Item: a list of tokens.  Result: the list of their tags.
"""

from __future__ import annotations

import json
from typing import Any

from nltk.tag.api import TaggerI
from nltk.tag.perceptron import PerceptronTagger
from nltk.tag.sequential import (
    AffixTagger,
    DefaultTagger,
    NgramTagger,
    RegexpTagger,
    UnigramTagger,
)


def _ngram_table(rows: list[list[Any]]) -> dict[tuple[tuple[str, ...], str], str]:
    return {(tuple(tags), word): tag for tags, word, tag in rows}


#: Chain step kind -> how to rebuild it with its backoff.
STEPS = {
    "perceptron": lambda step, backoff: PerceptronTagger.decode_json_obj(step["perceptron"]),
    "default": lambda step, backoff: DefaultTagger(step["default"]),
    "regexp": lambda step, backoff: RegexpTagger(
        [tuple(pair) for pair in step["regexp"]], backoff=backoff
    ),
    "unigram": lambda step, backoff: UnigramTagger(
        model={word: tag for word, tag in step["table"]}, backoff=backoff
    ),
    "ngram": lambda step, backoff: NgramTagger(
        step["ngram"], model=_ngram_table(step["table"]), backoff=backoff
    ),
    "affix": lambda step, backoff: AffixTagger(
        model={affix: tag for affix, tag in step["table"]},
        affix_length=step["affix"],
        min_stem_length=step["min_stem_length"],
        backoff=backoff,
    ),
}


def build_chain(chain: list[dict[str, Any]]) -> TaggerI:
    tagger = None
    for step in reversed(chain):
        kind = next(k for k in STEPS if k in step)
        tagger = STEPS[kind](step, tagger)
    return tagger


class Tag:
    def __init__(self, options: dict[str, Any]) -> None:
        if "params" in options:
            self.tagger = PerceptronTagger.decode_json_obj(options["params"])
        else:
            self.tagger = build_chain(options["chain"])
        mapping = options.get("mapping")
        #: The mapping to another tagset: tag -> target tag, and the target of any
        #: other tag (None: such a tag is an error).  Both None when tags are not mapped.
        self.table: dict[str, str] | None = mapping and mapping["table"]
        self.default: str | None = mapping and mapping["default"]
        self.strip_suffix = options.get("strip_suffix", False)

    def __call__(self, tokens: list[str]) -> list[str]:
        tags = [tag for _, tag in self.tagger.tag(tokens)]
        if self.table is None:
            return tags
        if self.strip_suffix:
            tags = [tag.partition("=")[0] for tag in tags]
        return [self.map(tag) for tag in tags]

    def map(self, tag: str) -> str:
        assert self.table is not None  # called only with a mapping (see __call__)
        if tag in self.table:
            return self.table[tag]
        if self.default is None:
            raise KeyError("tag %r has no mapping to the target tagset" % tag)
        return self.default

    def format(self, index: int, tokens: list[str], tags: list[str]) -> str:
        return json.dumps({"index": index, "tokens": tokens, "tags": tags}, ensure_ascii=False)


def setup(options: dict[str, Any]) -> Tag:
    return Tag(options)
