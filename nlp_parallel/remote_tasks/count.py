"""Counting in a worker: frequency distributions, n-grams and collocations.

Self-contained (standard library, and ``nltk.util.ngrams`` for n-grams within
sentences), the last step of the pipeline: the steps before it add tags, stems or lemmas to each sentence record,
and :class:`Count` adds the record to its counts.  Nothing is written per item; at
the end of each batch or shard the worker sends :meth:`Count.flush`'s one line, the
partial counts of that piece of the corpus, and the driver merges the pieces in
corpus order (:class:`Merge`, which the driver imports from this module, so both
sides count with the same code).

Options (plain data, checked by the driver): ``count`` -- ``words`` (a frequency
distribution of units), ``ngrams``, ``conditional`` (condition -> sample),
``collocations`` (what NLTK's bigram or trigram collocation finder counts) or
``vocabulary`` (units per group: corpus, fileid or category); ``of``, the unit:
``word``, ``tag``, ``stem``, ``lemma`` or ``word_tag`` (a (word, tag) pair);
``lowercase``; ``stopwords`` (a list; tokens whose word is in it are left out);
``match`` (a regular expression each counted word must match in full); ``n``,
``span`` (``corpus``: n-grams run across sentences, as over ``corpus.words()``;
``sentence``: within each), ``pad_left``, ``pad_right``, ``left_pad_symbol``,
``right_pad_symbol`` (as ``nltk.util.ngrams``); ``window_size`` (collocations);
``condition`` and ``sample`` (conditional; a condition is a unit name, ``fileid``
or ``category``); ``by`` (vocabulary); ``categories``: fileid -> its categories.

Across pieces, n-grams and collocation windows are exact: a piece counts the windows
that lie inside it, and its line carries its first and last ``size - 1`` units;
the merge counts the windows that start in one piece and end in a later one, and at
the end those that run into the right padding -- the windows ``nltk.util.ngrams``
and the finders' ``from_words`` see over the whole stream, each once.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections import Counter
from itertools import chain, combinations
from operator import add
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    #: A unit (a word, a tag, a (word, tag) pair) or an n-gram of them.
    Key = Any

#: Record field of each unit name.
FIELD = {"word": "tokens", "tag": "tags", "stem": "stems", "lemma": "lemmas"}
KINDS = ("words", "ngrams", "conditional", "collocations", "vocabulary")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: counting creates a tuple per n-gram, and
    each of the collector's passes over the process's objects meanwhile costs more
    than the counting (the tuples hold strings only: no cycles to collect)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def unit_key(value: Any) -> Key:
    """A unit or n-gram as JSON gave it back: lists become tuples again."""
    return tuple(unit_key(v) for v in value) if isinstance(value, list) else value


def windowed(options: dict[str, Any]) -> bool:
    """Whether a count runs windows along the whole stream (collocations, n-grams
    across sentences), which pieces join at their ends."""
    return options["count"] == "collocations" or (
        options["count"] == "ngrams" and options.get("span", "corpus") == "corpus")


class Windows:
    """What a window of the stream adds, as NLTK counts it.

    ``size`` units per window; ``add(window)`` takes ``size`` units, the last ones
    None past the end of the stream (collocations) or the pad symbol (n-grams)."""

    def __init__(self, options: dict[str, Any]) -> None:
        kind = options["count"]
        self.kind = kind
        if kind == "ngrams":
            self.size = options["n"]
            self.fd: Counter[Any] = Counter()
            self.add: Callable[[tuple[Any, ...]], None] = self._ngram
        else:  # collocations
            self.size = options["window_size"]
            self.word_fd: Counter[Any] = Counter()
            self.bigram_fd: Counter[Any] = Counter()
            if options["n"] == 2:
                self.add = self._bigram_window
            else:
                self.wildcard_fd: Counter[Any] = Counter()
                self.trigram_fd: Counter[Any] = Counter()
                self.add = self._trigram_window

    def _ngram(self, window: tuple[Any, ...]) -> None:
        self.fd[window] += 1

    def _bigram_window(self, window: tuple[Any, ...]) -> None:
        # BigramCollocationFinder.from_words, for one window.
        w1 = window[0]
        if w1 is None:
            return
        self.word_fd[w1] += 1
        for w2 in window[1:]:
            if w2 is not None:
                self.bigram_fd[(w1, w2)] += 1

    def _trigram_window(self, window: tuple[Any, ...]) -> None:
        # TrigramCollocationFinder.from_words, for one window.
        w1 = window[0]
        if w1 is None:
            return
        for w2, w3 in combinations(window[1:], 2):
            self.word_fd[w1] += 1
            if w2 is None:
                continue
            self.bigram_fd[(w1, w2)] += 1
            if w3 is None:
                continue
            self.wildcard_fd[(w1, w3)] += 1
            self.trigram_fd[(w1, w2, w3)] += 1

    def tables(self) -> dict[str, Counter[Any]]:
        if self.kind == "ngrams":
            return {"ngrams": self.fd}
        tables = {"word_fd": self.word_fd, "bigram_fd": self.bigram_fd}
        if self.add == self._trigram_window:
            tables.update(wildcard_fd=self.wildcard_fd, trigram_fd=self.trigram_fd)
        return tables

    def run(self, units: list[Any], starts: int) -> None:
        """Add the windows starting at the first ``starts`` positions of ``units``,
        each with ``size`` units from there.  Windows without None (no padding of
        the finders) are counted a table at a time -- the same counts as one window
        at a time."""
        if starts <= 0:
            return
        size = self.size
        if self.kind != "ngrams" and None in units[:starts + size - 1]:
            self.run_padded(units, starts)
            return
        # Column d holds the units d places after each window's first.
        columns = [units[d:starts + d] for d in range(size)]
        if self.kind == "ngrams":
            self.fd.update(zip(*columns))
            return
        # Each table gets its keys in the order NLTK's window loop adds them: window
        # by window, within one as the loop walks it.
        first = columns[0]
        if self.add == self._bigram_window:
            self.word_fd.update(first)
            self.bigram_fd.update(chain.from_iterable(
                zip(*[zip(first, column) for column in columns[1:]])))
            return
        pairs = list(combinations(range(1, size), 2))
        self.word_fd.update(chain.from_iterable(zip(*[first] * len(pairs))))
        self.bigram_fd.update(chain.from_iterable(
            zip(*[zip(first, columns[j]) for j, _ in pairs])))
        self.wildcard_fd.update(chain.from_iterable(
            zip(*[zip(first, columns[k]) for _, k in pairs])))
        self.trigram_fd.update(chain.from_iterable(
            zip(*[zip(first, columns[j], columns[k]) for j, k in pairs])))

    def run_padded(self, units: list[Any], starts: int) -> None:
        """:meth:`run` one window at a time, as NLTK walks them: for windows that
        run into the padding past the end of the stream."""
        size = self.size
        for i in range(starts):
            self.add(tuple(units[i:i + size]))


class Units:
    """The units a sentence record gives, after the word filters."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.of = options["of"]
        self.lowercase = options.get("lowercase", False)
        self.stopwords = frozenset(options.get("stopwords") or ())
        match = options.get("match")
        self.match = re.compile(match).fullmatch if match is not None else None

    def words(self, record: dict[str, Any]) -> list[str]:
        words = record["tokens"]
        return [w.lower() for w in words] if self.lowercase else words

    def kept(self, words: list[str]) -> list[int] | None:
        """Positions of the tokens the filters keep; None: all of them."""
        if not (self.stopwords or self.match):
            return None
        stop, match = self.stopwords, self.match
        return [i for i, w in enumerate(words)
                if w not in stop and (match is None or match(w) is not None)]

    def field(self, record: dict[str, Any], name: str, words: list[str]) -> list[Any]:
        if name == "word":
            return words
        if name == "word_tag":
            return list(zip(words, record["tags"]))
        return record[FIELD[name]]

    def of_record(self, record: dict[str, Any], name: str | None = None) -> list[Any]:
        words = self.words(record)
        values = self.field(record, name or self.of, words)
        kept = self.kept(words)
        return values if kept is None else [values[i] for i in kept]


class Count:
    """Counts the sentence records of one piece of the corpus; :meth:`flush` gives
    them as one line and starts the next piece."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.kind = options["count"]
        self.units = Units(options)
        self.categories = options.get("categories") or {}
        self.span = options.get("span", "corpus")
        self.windowed = windowed(options)
        if self.kind == "ngrams" and self.span == "sentence":
            from nltk.util import ngrams  # a worker's NLTK; the driver checked the options

            pads = {k: options[k] for k in ("pad_left", "pad_right", "left_pad_symbol",
                                             "right_pad_symbol")}
            n = options["n"]
            self.sentence_ngrams = lambda units: ngrams(units, n, **pads)
        self.reset()

    def reset(self) -> None:
        self.items = 0
        self.counted = 0  # units
        self.fd: Counter[Any] = Counter()
        #: A windowed count's units of this piece, counted at its end in one pass.
        self.stream: list[Any] = []

    def add(self, record: dict[str, Any], item: Any) -> None:
        """Count one sentence record; ``item`` is the corpus record it came from."""
        if not gc.isenabled():
            self.count(record, item)
            return
        gc.disable()  # as gc_paused(), for less per sentence
        try:
            self.count(record, item)
        finally:
            gc.enable()

    def count(self, record: dict[str, Any], item: Any) -> None:
        kind = self.kind
        if kind == "conditional":
            condition = self.options["condition"]
            if condition in ("fileid", "category"):
                samples = self.units.of_record(record, self.options["sample"])
                for group in self.groups(item, condition):
                    self.fd.update((group, s) for s in samples)
                self.counted += len(samples)
            else:
                conditions = self.units.of_record(record, condition)
                samples = self.units.of_record(record, self.options["sample"])
                self.fd.update(zip(conditions, samples))
                self.counted += len(conditions)
        elif kind == "vocabulary":
            units = self.units.of_record(record)
            for group in self.groups(item, self.options["by"]):
                self.fd.update((group, u) for u in units)
            self.counted += len(units)
        elif self.windowed:
            units = self.units.of_record(record)
            self.stream.extend(units)
            self.counted += len(units)
        elif kind == "ngrams":
            units = self.units.of_record(record)
            self.fd.update(self.sentence_ngrams(units))
            self.counted += len(units)
        else:
            units = self.units.of_record(record)
            self.fd.update(units)
            self.counted += len(units)
        self.items += 1

    __call__ = add

    def groups(self, item: Any, by: str) -> Iterable[str | None]:
        """The groups a record counts in: the corpus, its file (None for sentences
        given without one) or each of its file's categories."""
        if by == "corpus":
            return ("corpus",)
        fileid = item.get("fileid") if isinstance(item, dict) else None
        if by == "fileid":
            return (fileid,)
        return self.categories.get(fileid, ())

    def flush(self) -> str | None:
        """This piece's counts as one JSON line (None when it counted no item), and
        a fresh start for the next piece."""
        if not self.items:
            self.reset()
            return None
        with gc_paused():
            line = self.piece()
        self.reset()
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))

    def piece(self) -> dict[str, Any]:
        """This piece's counts as JSON data."""
        line: dict[str, Any] = {"items": self.items, "units": self.counted}
        if self.windowed:
            # The windows that lie inside the piece; those that run past its end
            # start in its last size - 1 units, which the merge joins to what follows.
            windows, stream = Windows(self.options), self.stream
            keep = windows.size - 1
            windows.run(stream, len(stream) - keep)
            line["tables"] = {name: encode(table, arity(self.options, name))
                              for name, table in windows.tables().items()}
            line["head"] = stream[:keep]
            line["last"] = stream[max(len(stream) - keep, 0):]
            line["length"] = len(stream)
        else:
            line["tables"] = {"counts": encode(self.fd, arity(self.options, "counts"))}
        return line


class Merge:
    """The partial counts of the pieces, in corpus order, merged: the driver's side.

    :meth:`add` takes each piece's line in order; :meth:`finish` counts the windows
    that run into the end of the stream.  The merged tables are ``Counter`` objects
    (NLTK's ``FreqDist`` is one), keyed as the workers counted."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.kind = options["count"]
        self.items = 0
        self.units = 0
        self.counts: Counter[Any] = Counter()
        self.windowed = windowed(options)
        self.windows = Windows(options) if self.windowed else None
        self.tables = (self.windows.tables() if self.windows is not None
                       else {"counts": self.counts})
        #: Whether units are (word, tag) pairs, which JSON gives back as lists.
        self.nested = "word_tag" in (options.get("of"), options.get("condition"),
                                     options.get("sample"))
        self.finished = False
        #: The stream's last units whose windows are not counted yet.
        self.last: list[Any] = []
        if self.windows is not None and self.kind == "ngrams" and options.get("pad_left"):
            self.last = [options.get("left_pad_symbol")] * (self.windows.size - 1)

    def add(self, line: str) -> None:
        with gc_paused():
            self.merge(json.loads(line))

    def merge(self, piece: dict[str, Any]) -> None:
        self.items += piece["items"]
        self.units += piece["units"]
        if self.windows is not None:
            self.join(piece)  # windows that start before this piece: counted first
        for name, part in piece["tables"].items():
            merge(self.tables[name], part, arity(self.options, name), self.nested)

    def join(self, piece: dict[str, Any]) -> None:
        """Count the windows from the units before ``piece`` into its head."""
        assert self.windows is not None
        size = self.windows.size
        keep = size - 1
        head = [unit_key(u) for u in piece["head"]]
        last = [unit_key(u) for u in piece["last"]]
        if piece["length"] > keep:
            # The windows from the units before this piece, ending in its head.
            self.windows.run(self.last + head, len(self.last))
            self.last = last
        else:  # a piece shorter than a window: its units all wait
            stream = self.last + head
            starts = max(len(stream) - keep, 0)
            self.windows.run(stream, starts)
            self.last = stream[starts:]

    def add_text(self, text: str) -> None:
        """Lines the workers wrote, as the ordered writer delivers them."""
        for line in text.split("\n"):
            if line:
                self.add(line)

    def finish(self) -> None:
        """Count the windows that run into the end of the stream (once)."""
        if self.finished:
            return
        self.finished = True
        windows = self.windows
        if windows is None:
            return
        if self.kind == "collocations":
            pad: list[Any] = [None] * (windows.size - 1)
            windows.run_padded(self.last + pad, len(self.last))
        elif self.options.get("pad_right"):
            pad = [self.options.get("right_pad_symbol")] * (windows.size - 1)
            windows.run(self.last + pad, len(self.last))
        # Without right padding, the last size - 1 units start no window.


def arity(options: dict[str, Any], table: str) -> int:
    """The units in each key of a table: 0 for a unit itself, else a tuple's length."""
    kind = options["count"]
    if kind == "ngrams":
        return options["n"]
    if kind in ("conditional", "vocabulary"):
        return 2
    if kind == "collocations":
        return {"word_fd": 0, "bigram_fd": 2, "wildcard_fd": 2, "trigram_fd": 3}[table]
    return 0


def encode(table: Counter[Any], arity: int) -> dict[str, Any]:
    """A table as JSON data the merge reads quickly: its keys in the order they were
    first counted (keys of ``arity`` units as that many columns), and, for the keys
    counted more than once, their places among them and the counts beyond one."""
    keys = list(table)
    at = [i for i, count in enumerate(table.values()) if count > 1]
    values = list(table.values())
    return {"keys": list(zip(*keys)) if arity else keys, "at": at,
            "more": [values[i] - 1 for i in at]}


def merge(table: Counter[Any], part: dict[str, Any], arity: int, nested: bool) -> None:
    """Add a table :func:`encode` wrote to ``table``.  New keys join ``table`` in
    the order the piece first counted them, so that over pieces merged in corpus
    order a table's order is that of first occurrence in the corpus, as a serial
    ``FreqDist`` has it (``most_common`` breaks ties in that order)."""
    keys = part["keys"]
    if nested:  # (word, tag) units came back as lists
        keys = [_units(column) for column in keys] if arity else _units(keys)
    if arity:
        keys = list(zip(*keys))
    table.update(keys)  # one each, in order: Counter's own loop, in C
    if part["at"]:
        more = [keys[i] for i in part["at"]]
        # dict's own update, which sets (Counter's adds): the new totals, in C.
        dict.update(table, zip(more, map(add, map(table.__getitem__, more), part["more"])))


def _units(values: list[Any]) -> list[Any]:
    return [tuple(v) if isinstance(v, list) else v for v in values]


def setup(options: dict[str, Any]) -> Count:
    return Count(options)
