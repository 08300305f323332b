"""Part-of-speech tagging in a worker, and exact fast paths for the perceptron.

Self-contained (standard library and NLTK; numpy when the worker's Python has it),
needing no NLTK data: the model arrives as data.  Options: ``params`` (the
perceptron's ``[weights, tagdict, classes]``) or ``chain`` (sequential taggers, first
tried first, as built by the driver), optionally ``mapping`` ``{table, default}`` to
another tagset, ``exact_fast`` (default true): tag with an exact fast path rather
than ``PerceptronTagger.tag``, and ``numpy`` (default true): that path is
:class:`NumpyPerceptron` where numpy can be imported, else (and with ``numpy:
false``) :class:`ExactPerceptron`.  Item: a list of tokens.  Result: the list of
their tags.

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

Why :class:`NumpyPerceptron` gives the same tags, though it adds in another order:

- Around the model it decides as above (tag dictionary first, the same context and
  features, prev/prev2 following the output tags).  Each feature is a row of a dense
  float64 matrix over the sorted labels, holding ``float(weight)`` where the feature
  has the label and ``0.0`` where it has none (adding ``0.0`` is exact, and turns a
  ``-0.0`` into ``0.0``, which compares equal); absent features are an all-zero row.
- A label's score is then a sum of at most 14 terms (plus exact zeros), added in some
  order, here numpy's.  Whatever the order, the computed sum differs from the real sum
  by at most gamma_14 * A, gamma_k = k*u / (1 - k*u), u = 2**-53, A the sum of the
  terms' magnitudes (Higham, *Accuracy and Stability of Numerical Algorithms*, 4.2:
  each term passes through at most 14 roundings; a sum of floats never underflows
  inexactly).  NLTK's sum obeys the same bound, so the two differ by at most
  2 * gamma_14 * A <= 2 * gamma_14 * M, where M sums, over the token's features,
  each row's largest magnitude (precomputed per row).
- If the best computed score exceeds every other computed score by more than
  4 * gamma_14 * M, NLTK's score of that label exceeds each other label's NLTK score
  by more than 0: its ``max`` picks the same label whatever its tie-break.  The check
  made is ``best - second > 2**-44 * M' + 2**-1000``, M' the computed M: 4 * gamma_14
  < 2**-47, and the factor 8 covers the rounding of M', of the product and of the
  subtraction; the floor covers a product that would fall among subnormals.
- Any token whose margin fails the check (ties above all, where NLTK takes the
  greatest label) is predicted by :class:`ExactPerceptron` with the same prev/prev2;
  if that changes its label, the rest of the sentence is tagged by
  :class:`ExactPerceptron` too.  Scores are finite (the :data:`WEIGHT_BOUND` rule of
  :meth:`ExactPerceptron.serves`: 14 terms of at most 2**1000 stay far below
  overflow), so no comparison sees a NaN.
- Order of tokens: a prediction depends on the two previous tags, so the sentence is
  solved by Jacobi iteration, every prediction at once from the previous round's
  tags.  Token i depends only on earlier tokens, so the system has one solution, the
  sequential one, and a round that changes no tag has reached it.  A sentence not
  settled after ``rounds`` rounds keeps its predictions before the first one that
  changed (a fixed point of that prefix) and hands the rest to
  :class:`ExactPerceptron`.

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
        return self.finish(tokens, [], known, context)

    def finish(self, tokens: list[str], tags: list[str], known: list[WordFeatures] | None = None,
               context: list[WordFeatures] | None = None) -> list[str]:
        """All the tags of ``tokens``, given ``tags``, NLTK's tags of the first
        ``len(tags)`` of them: the others are computed here, in NLTK's order."""
        if known is None or context is None:
            known = list(map(self.word_features, tokens))
            context = self.start + known + self.end
        tags = list(tags)
        # NLTK starts with prev, prev2 = START: as if START[1], START[0] came before.
        history = [START[1], START[0]] + tags[-2:]
        prev, prev2 = history[-1], history[-2]
        for i in range(len(tags), len(tokens)):
            tag = known[i].tag
            if not tag:
                tag = self.predict(tokens[i], i, context, prev, prev2)
            tags.append(tag)
            prev2 = prev
            prev = tag
        return tags

    def predict(self, word: str, i: int, context: list[WordFeatures], prev: str,
                prev2: str) -> str:
        """``AveragedPerceptron.predict``'s label for token ``i`` (``word``), its
        context's word features ``context`` and the two previous tags."""
        scores = list(self.head_scores(word, prev, prev2))
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
        return self.labels[-1 - scores.index(best)]


#: Jacobi rounds :class:`NumpyPerceptron` runs over a sentence before it hands the
#: tokens still changing to :class:`ExactPerceptron`, one by one.
JACOBI_ROUNDS = 8
#: A score margin above ``MARGIN_FACTOR`` times the token's weight bound (plus
#: ``MARGIN_FLOOR``) proves the order of additions cannot change the label: see the
#: module docstring.
MARGIN_FACTOR = 2.0**-44
MARGIN_FLOOR = 2.0**-1000
#: Where token i's neighbour features come from: context[i + offset] (START, tokens,
#: END), column of :meth:`NumpyPerceptron.context_rows`.
NEIGHBOUR_OFFSETS = (1, 1, 0, 3, 3, 4)
#: The most memory, in bytes, :class:`NumpyPerceptron`'s tables may take; a larger
#: model is tagged by :class:`ExactPerceptron`.  NLTK's English model's take 30 MiB.
NUMPY_MEMORY = 256 * 2**20


class NumpyPerceptron:
    """``PerceptronTagger.tag``'s tags, with most scores added up by numpy in another
    order and NLTK's own order kept wherever the order could change the label: see
    the module docstring for why they are equal.

    Needs numpy; serves a tagger for which :meth:`ExactPerceptron.serves` is true and
    reads it when built, as :class:`ExactPerceptron` does.  Counts ``predicted``
    (tokens predicted), ``fallbacks`` (predictions whose margin was too close to
    call, computed in NLTK's order) and ``sequential`` (predictions left to NLTK's
    order after a Jacobi iteration that did not settle or a close call that changed
    a tag).  ``rounds``: Jacobi rounds per sentence before the tokens still changing
    are left to NLTK's order.
    """

    def __init__(self, tagger: PerceptronTagger, cache_size: int = CACHE_SIZE,
                 rounds: int = JACOBI_ROUNDS) -> None:
        import numpy as np

        self.np = np
        self.rounds = rounds
        self.exact = exact = ExactPerceptron(tagger, cache_size)
        labels = exact.labels
        #: Every tag a token can follow: the labels first (a label's id is its slot),
        #: then the tag dictionary's other tags and the start markers.
        self.vocabulary = labels + sorted(
            {t for t in tagger.tagdict.values() if t}.union(START) - set(labels))
        self.tag_ids = {tag: n for n, tag in enumerate(self.vocabulary)}
        self.predicted = self.fallbacks = self.sequential = 0
        self.rows, self.weights = self._matrix(tagger.model.weights, exact.slots)
        #: Each row's largest weight magnitude (0.0 for row 0).
        self.row_bounds = np.abs(self.weights).max(axis=1)
        self.bias = self.rows.get("bias", 0)
        self._pair_scores()
        self.no_follow = bytes(4 * len(self.vocabulary))
        self.follow_rows = self._follow_rows()
        self.offsets = np.array(NEIGHBOUR_OFFSETS)
        self.columns = np.arange(len(NEIGHBOUR_OFFSETS))
        self.records = functools.lru_cache(cache_size)(self.new_record)
        self.start = [self.context_rows(word) for word in START]
        self.end = [self.context_rows(word) for word in END]

    @staticmethod
    def footprint(tagger: PerceptronTagger) -> int:
        """An upper bound on the bytes of the tables built for ``tagger``: the weight
        matrix, the tag-pair scores and the rows of ``i-1 tag+i word`` by word."""
        classes = len(tagger.model.classes)
        tags = len({t for t in tagger.tagdict.values() if t}.union(START, tagger.model.classes))
        rows = len(tagger.model.weights) + 1
        follow = sum(name.startswith("i-1 tag+i word ") for name in tagger.model.weights)
        return 8 * (classes + 1) * (rows + tags * tags) + 4 * tags * follow

    def _matrix(self, weights: dict[str, dict[str, float]],
                slots: dict[str, int]) -> tuple[dict[str, int], Any]:
        """Feature -> row, and the rows: the feature's weight of each label, by slot
        (0.0 where it has none).  Row 0 is all zeros, for features the model lacks."""
        rows: dict[str, int] = {}
        at: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        for name, label_weights in weights.items():
            terms = [(slots[label], float(w)) for label, w in label_weights.items()
                     if label in slots]
            if terms:
                row = rows[name] = len(rows) + 1
                at += [row] * len(terms)
                columns += [j for j, _ in terms]
                values += [w for _, w in terms]
        matrix = self.np.zeros((len(rows) + 1, len(slots)))
        matrix[at, columns] = values
        return rows, matrix

    def row(self, name: str) -> int:
        return self.rows.get(name, 0)

    def _pair_scores(self) -> None:
        """For each pair of tag ids (prev, prev2): the scores of the three features of
        the previous tags, and the sum of their rows' bounds."""
        np, row, tags = self.np, self.row, self.vocabulary
        first = np.array([row("i-1 tag " + p) for p in tags])
        second = np.array([row("i-2 tag " + q) for q in tags])
        both = np.array([[row("i tag+i-2 tag " + p + " " + q) for q in tags] for p in tags])
        w, bound = self.weights, self.row_bounds
        self.pair_scores = w[first][:, None, :] + w[second][None, :, :] + w[both]
        self.pair_bounds = bound[first][:, None] + bound[second][None, :] + bound[both]

    def _follow_rows(self) -> dict[str, bytes]:
        """Normalized word -> the rows of its ``i-1 tag+i word`` features by previous
        tag id, as int32 bytes; words without such features are absent.

        A name is split at each space that leaves a known tag before it: should a tag
        hold a space, one name can serve two (tag, word) pairs, and it serves both,
        as NLTK's lookup of the joined name would."""
        np, ids = self.np, self.tag_ids
        prefix = "i-1 tag+i word "
        table: dict[str, Any] = {}
        for name, row in self.rows.items():
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            at = rest.find(" ")
            while at >= 0:
                if rest[:at] in ids:
                    word = rest[at + 1:]
                    if word not in table:
                        table[word] = np.zeros(len(ids), dtype=np.int32)
                    table[word][ids[rest[:at]]] = row
                at = rest.find(" ", at + 1)
        return {word: rows.tobytes() for word, rows in table.items()}

    def context_rows(self, normal: str) -> bytes:
        """The int32 rows of the features a context word adds to its neighbours:
        ``i-1 word``, ``i-1 suffix``, ``i-2 word``, ``i+1 word``, ``i+1 suffix``,
        ``i+2 word`` (the order of :data:`NEIGHBOUR_OFFSETS`)."""
        row, suffix = self.row, normal[-3:]
        return array("i", [
            row("i-1 word " + normal), row("i-1 suffix " + suffix), row("i-2 word " + normal),
            row("i+1 word " + normal), row("i+1 suffix " + suffix), row("i+2 word " + normal),
        ]).tobytes()

    def new_record(self, word: str) -> tuple[str | None, bytes, bytes, bytes]:
        """A token's tag in the tag dictionary; the int32 rows of its own features
        (``i suffix``, ``i pref1``, ``i word``), of its neighbour features, and of its
        ``i-1 tag+i word`` features by previous tag id."""
        exact, row = self.exact, self.row
        normal = exact.normalize(word)
        own = array("i", [row("i suffix " + word[-3:]), row("i pref1 " + word[:1]),
                          row("i word " + normal)]).tobytes()
        return (exact.tagdict.get(word), own, self.context_rows(normal),
                self.follow_rows.get(normal, self.no_follow))

    def tags(self, tokens: list[str]) -> list[str]:
        """The tag of each token, as ``[t for _, t in PerceptronTagger.tag(tokens)]``."""
        np = self.np
        records = list(map(self.records, tokens))
        at = [i for i, record in enumerate(records) if not record[0]]
        if not at:
            return [record[0] for record in records]  # type: ignore[misc]
        k = len(at)
        self.predicted += k
        ids = self.tag_ids
        # tag_ids[i + 2] is token i's tag, after NLTK's prev2, prev at the start.
        tag_ids = np.array([ids[START[1]], ids[START[0]]]
                           + [ids[record[0]] if record[0] else 0 for record in records])
        positions = np.array(at)
        context = np.frombuffer(b"".join(self.start + [r[2] for r in records] + self.end),
                                dtype=np.int32)
        own = np.frombuffer(b"".join([records[i][1] for i in at]), dtype=np.int32)
        static = np.concatenate([
            own.reshape(k, 3),
            context[(positions[:, None] + self.offsets) * 6 + self.columns],
        ], axis=1)
        follow = np.frombuffer(b"".join([records[i][3] for i in at]),
                               dtype=np.int32).reshape(k, -1)
        weights, bounds = self.weights, self.row_bounds
        static_scores = weights[static].sum(axis=1) + weights[self.bias]
        here = positions + 2
        tag_ids[here] = static_scores.argmax(axis=1)
        every = np.arange(k)
        # Jacobi iteration: each round predicts every token from the tags of the last.
        # Token i depends only on tokens before it, so after r rounds the first r
        # predictions are final, and a round that changes nothing is NLTK's sequence.
        settled, changed = k, every
        for _ in range(self.rounds):
            prev, prev2 = tag_ids[here - 1], tag_ids[here - 2]
            follows = follow[every, prev]
            scores = static_scores + self.pair_scores[prev, prev2] + weights[follows]
            best = scores.argmax(axis=1)
            changed = np.flatnonzero(best != tag_ids[here])
            if not len(changed):
                break
            tag_ids[here] = best
        else:
            settled = int(changed[0])  # the predictions before it are a fixed point
        return self._checked(tokens, at, tag_ids, scores, settled, bounds[static].sum(axis=1)
                             + bounds[self.bias] + self.pair_bounds[prev, prev2]
                             + bounds[follows])

    def _checked(self, tokens: list[str], at: list[int], tag_ids: Any, scores: Any,
                 settled: int, token_bounds: Any) -> list[str]:
        """The tags, once each settled prediction's margin has been checked against its
        bound, the close ones recomputed in NLTK's order, and the unsettled ones
        computed in NLTK's order."""
        np = self.np
        vocabulary = self.vocabulary
        tags = [vocabulary[t] for t in tag_ids[2:].tolist()]
        close: list[int] = []
        if scores.shape[1] > 1:  # (a single label is every prediction)
            top = np.partition(scores[:settled], scores.shape[1] - 2, axis=1)
            close = np.flatnonzero(
                top[:, -1] - top[:, -2]
                <= MARGIN_FACTOR * token_bounds[:settled] + MARGIN_FLOOR
            ).tolist()
        exact = self.exact
        if close:
            known = list(map(exact.word_features, tokens))
            context = exact.start + known + exact.end
        for n in close:
            self.fallbacks += 1
            i = at[n]
            history = [START[1], START[0]] + tags[:i]
            tag = exact.predict(tokens[i], i, context, history[-1], history[-2])
            if tag != tags[i]:  # NLTK's label: the ones after it may change too
                tags[i] = tag
                settled = n + 1
                break
        if settled == len(at):
            return tags
        self.sequential += len(at) - settled
        return exact.finish(tokens, tags[:at[settled]])


def numpy_importable() -> bool:
    """Whether numpy can be imported here (a worker's Python may lack it)."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def fast_path(tagger: object, use_numpy: bool = True) -> ExactPerceptron | NumpyPerceptron | None:
    """The exact fast path for ``tagger``: :class:`NumpyPerceptron` when ``use_numpy``,
    numpy can be imported and the model's tables fit in :data:`NUMPY_MEMORY`, else
    :class:`ExactPerceptron`; None for a tagger neither serves (see
    :meth:`ExactPerceptron.serves`), which NLTK's ``tag`` tags."""
    if not ExactPerceptron.serves(tagger):
        return None
    assert isinstance(tagger, PerceptronTagger)  # serves() checked it
    if use_numpy and numpy_importable() and NumpyPerceptron.footprint(tagger) <= NUMPY_MEMORY:
        return NumpyPerceptron(tagger)
    return ExactPerceptron(tagger)


class Tag:
    def __init__(self, options: dict[str, Any]) -> None:
        if "params" in options:
            self.tagger = PerceptronTagger.decode_json_obj(options["params"])
        else:
            self.tagger = build_chain(options["chain"])
        #: The tags of a token list: the exact fast path where it serves the model.
        self.tags: Callable[[list[str]], list[str]] = self.nltk_tags
        fast = options.get("exact_fast", True) and fast_path(
            self.tagger, options.get("numpy", True))
        if fast:
            self.tags = fast.tags
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
