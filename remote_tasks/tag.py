"""Part-of-speech tagging in a worker, and an exact fast path for the perceptron.

Self-contained (standard library and NLTK only), needing no NLTK data: the model
arrives as data.  Options: ``params`` (the perceptron's ``[weights, tagdict,
classes]``) or ``chain`` (sequential taggers, first tried first, as built by the
driver), optionally ``mapping`` ``{table, default}`` to another tagset, and
``exact_fast`` (default true): tag with :class:`ExactPerceptron` rather than
``PerceptronTagger.tag``.  Item: a list of tokens.  Result: the list of their tags.

Why :class:`ExactPerceptron` gives ``PerceptronTagger.tag``'s tags for every input
(NLTK 3.10's ``nltk/tag/perceptron.py``):

- Same decisions around the model: each token is first looked up in the tag
  dictionary and predicted only when that gives a false value (``if not tag``); the
  context is ``START + [normalize(w) ...] + END`` with the tagger's own ``normalize``;
  ``prev``/``prev2`` start as ``-START-``/``-START2-`` and follow the output tags.
- Same features: the 14 strings ``_get_features`` builds, each written out the way
  its ``" ".join`` builds it.  They are distinct strings (no name followed by a space
  is a prefix of another name followed by a space, so the name is read off the
  string), so each counts 1 and NLTK's ``value * weight`` is ``1 * weight``, which is
  ``weight`` itself.  An int weight is stored here as ``float(weight)``, the very
  double ``score + weight`` converts it to.  Features absent from the model add
  nothing, in both.
- Same sums: ``predict`` adds, for each label, ``0.0`` and then that label's weight
  in each feature, in feature order.  Here each label has a slot in a list that
  starts at ``0.0`` and receives that label's weights of the same features in the
  same order -- the same floating-point additions in the same sequence, so the same
  float.  Caching does not change this: a cached row is the state after the same
  first features (bias, suffix, first letter -- a function of the word; then the tag
  and word features -- a function of the word and the two previous tags), kept as C
  doubles (which hold each float exactly) and continued with the same additions.
  Labels outside the model's classes are never maxed over by ``predict``, so their
  weights are left out.
- Same choice: ``predict`` takes ``max(classes, key=lambda l: (scores[l], l))``, the
  highest score and, among equal scores, the greatest label.  Slots are in sorted
  label order, so this is the last slot holding ``max(scores)``.  That holds when no
  score is NaN (where NLTK's ``max`` would depend on set order): a model is served
  here only when every weight is an int or float of magnitude at most 2**1000, so
  the 14-term sums stay finite and no NaN can arise; other models, taggers whose
  features or prediction are overridden, and labels or tags that are not strings
  use ``PerceptronTagger.tag`` itself.

Each cache drops its least recently used entry past :data:`CACHE_SIZE` entries, so
memory stays flat however many word types a corpus has.
"""

from __future__ import annotations

import functools
import json
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nltk.tag.api import TaggerI
from nltk.tag.perceptron import AveragedPerceptron, PerceptronTagger
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


#: Entries each cache of :class:`ExactPerceptron` holds (least recently used go first);
#: tagging brown's first 20,000 sentences, the caches held under 60 MB.
CACHE_SIZE = 50_000
#: The largest weight magnitude :class:`ExactPerceptron` serves: 14 such terms
#: sum to a finite float, so no score is NaN.
WEIGHT_BOUND = 2.0**1000
#: ``PerceptronTagger._get_features``' feature names, in its order.
FEATURE_NAMES = (
    "bias", "i suffix", "i pref1", "i-1 tag", "i-2 tag", "i tag+i-2 tag", "i word",
    "i-1 tag+i word", "i-1 word", "i-1 suffix", "i-2 word", "i+1 word", "i+1 suffix",
    "i+2 word",
)
START = tuple(PerceptronTagger.START)
END = tuple(PerceptronTagger.END)

if TYPE_CHECKING:
    #: What features add to the scores: label slots and, in step, the weights added to
    #: them, in order.  Two tuples rather than one of pairs: less memory to walk.
    Terms = tuple[tuple[int, ...], tuple[float, ...]]

#: The terms of a feature absent from the model.
NO_TERMS: Terms = ((), ())


def joined(*terms: Terms) -> Terms:
    """The terms of several features, one after the other."""
    return (sum((t[0] for t in terms), ()), sum((t[1] for t in terms), ()))


class WordFeatures:
    """What one word contributes to the predictions it takes part in, found once per word.

    ``head``: the scores after the features of the word alone (bias, suffix, first
    letter); ``word``: the terms of its ``i word`` feature; ``left1`` ... ``right2``:
    the terms of the features it adds as the word one or two before or after the one
    predicted (``i-1 word`` then ``i-1 suffix``, ``i-2 word``, ...).
    """

    __slots__ = ("head", "left1", "left2", "normal", "right1", "right2", "tag", "word")

    def __init__(self, exact: ExactPerceptron, word: str | None, normal: str,
                 tag: str | None) -> None:
        feature = exact.feature
        self.normal = normal
        self.tag = tag
        self.head: array[float] = array("d")
        self.word = NO_TERMS
        if word is not None:  # a token, not one of the START/END context words
            self.head = exact.affix_scores(word[-3:], word[:1])
            self.word = feature("i word " + normal)
        self.left1 = joined(feature("i-1 word " + normal), feature("i-1 suffix " + normal[-3:]))
        self.left2 = feature("i-2 word " + normal)
        self.right1 = joined(feature("i+1 word " + normal), feature("i+1 suffix " + normal[-3:]))
        self.right2 = feature("i+2 word " + normal)


class ExactPerceptron:
    """``PerceptronTagger.tag``'s tags, computed with the same floating-point operations
    in less time: see the module docstring for why they are equal.

    Serves a tagger for which :meth:`serves` is true; reads its model, tag dictionary
    and ``normalize`` when built, so build it again after the model changes.  Each of
    its caches holds at most ``cache_size`` entries.
    """

    def __init__(self, tagger: PerceptronTagger, cache_size: int = CACHE_SIZE) -> None:
        model = tagger.model
        #: The model's classes in sorted order: a label's slot in a score list.
        self.labels = sorted(model.classes)
        self.slots = {label: j for j, label in enumerate(self.labels)}
        self.weights = model.weights
        self.tagdict = tagger.tagdict
        self.normalize = tagger.normalize
        # Per instance, not on the methods: each tagger has its own bounded caches.
        cache = functools.lru_cache(cache_size)
        self.word_features = cache(self.new_word_features)
        self.affix_scores = cache(self.new_affix_scores)
        self.tag_terms = cache(self.new_tag_terms)
        self.head_scores = cache(self.new_head_scores)
        self.start = [WordFeatures(self, None, word, None) for word in START]
        self.end = [WordFeatures(self, None, word, None) for word in END]

    @staticmethod
    def serves(tagger: object) -> bool:
        """Whether the tags of ``tagger`` can be computed here: an NLTK perceptron with
        NLTK's features and prediction, string labels and tags, and every weight an
        int or float of magnitude at most :data:`WEIGHT_BOUND`."""
        if not isinstance(tagger, PerceptronTagger):
            return False
        kind = type(tagger)
        model = tagger.model
        if (kind._get_features is not PerceptronTagger._get_features
                or tuple(kind.START) != START or tuple(kind.END) != END
                or type(model).predict is not AveragedPerceptron.predict):
            return False
        if not model.classes or not all(type(label) is str for label in model.classes):
            return False
        if not all(type(tag) is str for tag in tagger.tagdict.values()):
            return False
        bound = WEIGHT_BOUND
        for weights in model.weights.values():
            if type(weights) is not dict:
                return False
            for w in weights.values():
                if type(w) not in (int, float) or not -bound <= w <= bound:
                    return False
        return True

    def feature(self, name: str) -> Terms:
        """The terms of feature ``name``, its labels in the model's own order.

        An int weight is stored as the float ``0.0 + weight`` would turn it into.
        """
        weights = self.weights.get(name)
        if not weights:
            return NO_TERMS
        slots = self.slots
        labels = [label for label in weights if label in slots]
        return (tuple(slots[label] for label in labels),
                tuple(float(weights[label]) for label in labels))

    def new_affix_scores(self, suffix: str, first: str) -> array[float]:
        """The scores after the bias, ``i suffix`` and ``i pref1`` features: they
        depend only on a word's last three letters and its first.  (Kept as C doubles,
        a quarter of the memory of float objects; a double holds a float exactly.)"""
        scores = [0.0] * len(self.labels)
        slots, weights = joined(self.feature("bias"), self.feature("i suffix " + suffix),
                                self.feature("i pref1 " + first))
        for j, w in zip(slots, weights):
            scores[j] += w
        return array("d", scores)

    def new_word_features(self, word: str) -> WordFeatures:
        return WordFeatures(self, word, self.normalize(word), self.tagdict.get(word))

    def new_tag_terms(self, prev: str, prev2: str) -> Terms:
        feature = self.feature
        return joined(feature("i-1 tag " + prev), feature("i-2 tag " + prev2),
                      feature("i tag+i-2 tag " + prev + " " + prev2))

    def new_head_scores(self, word: str, prev: str, prev2: str) -> array[float]:
        """The scores after the first eight features, which the word and the two
        previous tags decide."""
        features = self.word_features(word)
        scores = list(features.head)
        slots, weights = joined(self.tag_terms(prev, prev2), features.word,
                                self.feature("i-1 tag+i word " + prev + " " + features.normal))
        for j, w in zip(slots, weights):
            scores[j] += w
        return array("d", scores)

    def tags(self, tokens: list[str]) -> list[str]:
        """The tag of each token, as ``[t for _, t in PerceptronTagger.tag(tokens)]``."""
        known = list(map(self.word_features, tokens))
        # context[i + 2] is token i's, as in NLTK's context list.
        context = self.start + known + self.end
        head_scores = self.head_scores
        labels = self.labels
        prev, prev2 = START
        tags = []
        for i, word in enumerate(tokens):
            tag = known[i].tag
            if not tag:
                scores = list(head_scores(word, prev, prev2))
                left1 = context[i + 1].left1
                left2 = context[i].left2
                right1 = context[i + 3].right1
                right2 = context[i + 4].right2
                for j, w in zip(left1[0] + left2[0] + right1[0] + right2[0],
                                left1[1] + left2[1] + right1[1] + right2[1]):
                    scores[j] += w
                # The greatest label among the highest scores: the last slot holding it.
                best = max(scores)
                scores.reverse()
                tag = labels[-1 - scores.index(best)]
            tags.append(tag)
            prev2 = prev
            prev = tag
        return tags


class Tag:
    def __init__(self, options: dict[str, Any]) -> None:
        if "params" in options:
            self.tagger = PerceptronTagger.decode_json_obj(options["params"])
        else:
            self.tagger = build_chain(options["chain"])
        #: The tags of a token list: the exact fast path where it serves the model.
        self.tags: Callable[[list[str]], list[str]] = self.nltk_tags
        if options.get("exact_fast", True) and ExactPerceptron.serves(self.tagger):
            self.tags = ExactPerceptron(self.tagger).tags
        mapping = options.get("mapping")
        #: The mapping to another tagset: tag -> target tag, and the target of any
        #: other tag (None: such a tag is an error).  Both None when tags are not mapped.
        self.table: dict[str, str] | None = mapping and mapping["table"]
        self.default: str | None = mapping and mapping["default"]
        self.strip_suffix = options.get("strip_suffix", False)

    def nltk_tags(self, tokens: list[str]) -> list[str]:
        return [tag for _, tag in self.tagger.tag(tokens)]

    def __call__(self, tokens: list[str]) -> list[str]:
        tags = self.tags(tokens)
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
