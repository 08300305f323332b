"""A count's merged result: NLTK's own objects, and the JSON and TSV files a job writes.

The workers' partial counts arrive in corpus order and are merged by
:class:`~nlp_parallel.remote_tasks.count.Merge`; :class:`Counts` turns the merge into what serial
NLTK code would have built -- a ``FreqDist``, a ``ConditionalFreqDist``, a
``BigramCollocationFinder`` or ``TrigramCollocationFinder`` -- and writes it::

    counts = Counts(options)          # a count step's options, as the task built them
    for text in delivered:            # the lines the workers wrote, in corpus order
        counts.add_text(text)
    counts.finish()
    counts.result()                   # FreqDist / ConditionalFreqDist / finder / dict

The JSON file reads straight back into NLTK (see :func:`load_counts`): for words,
tags, stems and lemmas ``FreqDist(json.load(f)["counts"])``; n-grams and other keys
that are not strings are lists of ``[key, count]`` pairs, keys as lists.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from operator import itemgetter
from collections.abc import Iterable, Mapping
from typing import IO, Any

from nltk.collocations import BigramCollocationFinder, TrigramCollocationFinder
from nltk.probability import ConditionalFreqDist, FreqDist

from .remote_tasks.count import Merge, gc_paused, unit_key

from .errors import ConfigError
from .tasks.count import measure

#: What each kind of count gives back in Python.
RESULT = {"words": "FreqDist", "ngrams": "FreqDist", "conditional": "ConditionalFreqDist",
          "collocations": "a collocation finder", "vocabulary": "dict of statistics"}
FORMATS = ("json", "tsv")


class Counts:
    """The merged counts of one run over a corpus (see the module docstring)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self.kind = self.options["count"]
        self.merge = Merge(self.options)

    def add_text(self, text: str) -> None:
        """Merge the count lines the workers wrote (in corpus order)."""
        self.merge.add_text(text)

    def add_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            line = line.rstrip("\n")
            if line:
                self.merge.add(line)

    def finish(self) -> None:
        """The end of the corpus: count the n-grams that run into it."""
        self.merge.finish()

    @property
    def items(self) -> int:
        return self.merge.items

    @property
    def units(self) -> int:
        """Units counted (after the filters)."""
        return self.merge.units

    def summary(self) -> str:
        """What was counted, in a few words: ``1,161,192 units, 436,003 distinct
        bigrams``."""
        merge, options = self.merge, self.options
        said = f"{merge.units:,} units"
        if self.kind == "words":
            return f"{said}, {len(merge.counts):,} distinct"
        if self.kind == "ngrams":
            table = merge.tables["ngrams"] if merge.windows is not None else merge.counts
            return f"{said}, {len(table):,} distinct {options['n']}-grams"
        if self.kind == "collocations":
            name = "bigrams" if options["n"] == 2 else "trigrams"
            table = merge.tables["bigram_fd" if options["n"] == 2 else "trigram_fd"]
            return f"{said}, {len(table):,} distinct {name} in windows of {options['window_size']}"
        conditions = {condition for condition, _ in merge.counts}
        what = "conditions" if self.kind == "conditional" else "groups"
        return f"{said}, {len(conditions):,} {what}, {len(merge.counts):,} distinct pairs"

    # -- NLTK's objects --------------------------------------------------------------

    def freq_dist(self) -> FreqDist:
        """Words, tags, stems, lemmas or n-grams: a ``FreqDist``."""
        self._expect("words", "ngrams")
        table = self.merge.tables["ngrams"] if self.merge.windows is not None else (
            self.merge.counts)
        return FreqDist(table)

    def conditional_freq_dist(self) -> ConditionalFreqDist:
        """Condition -> sample counts (``vocabulary``: group -> unit)."""
        self._expect("conditional", "vocabulary")
        cfd = ConditionalFreqDist()
        for (condition, sample), count in self.merge.counts.items():
            cfd[condition][sample] = count
        return cfd

    def finder(self) -> BigramCollocationFinder | TrigramCollocationFinder:
        """The collocation finder built from the merged counts, its frequency filter
        applied: what ``from_words`` over the corpus's units would give."""
        self._expect("collocations")
        tables = self.merge.tables
        found: BigramCollocationFinder | TrigramCollocationFinder
        if self.options["n"] == 2:
            found = BigramCollocationFinder(FreqDist(tables["word_fd"]),
                                            FreqDist(tables["bigram_fd"]),
                                            window_size=self.options["window_size"])
        else:
            found = TrigramCollocationFinder(
                FreqDist(tables["word_fd"]), FreqDist(tables["bigram_fd"]),
                FreqDist(tables["wildcard_fd"]), FreqDist(tables["trigram_fd"]))
        if self.options["min_freq"] > 1:
            found.apply_freq_filter(self.options["min_freq"])
        return found

    def vocabulary(self) -> dict[str, dict[str, float]]:
        """Per group: tokens, types, hapaxes and the type/token ratio."""
        self._expect("vocabulary")
        return {str(group): stats(fd) for group, fd in
                sorted(self.conditional_freq_dist().items(), key=lambda kv: str(kv[0]))}

    def result(self) -> Any:
        """The NLTK object of this kind of count (see :data:`RESULT`)."""
        if self.kind in ("words", "ngrams"):
            return self.freq_dist()
        if self.kind == "conditional":
            return self.conditional_freq_dist()
        if self.kind == "collocations":
            return self.finder()
        return self.vocabulary()

    def _expect(self, *kinds: str) -> None:
        if self.kind not in kinds:
            raise ConfigError(f"a count {self.kind} gives {RESULT[self.kind]}, not what "
                              f"count {' or '.join(kinds)} gives")

    # -- files -----------------------------------------------------------------------

    def write(self, fmt: str, top: int | None, stream: IO[str]) -> None:
        """Write the counts as ``fmt`` (json or tsv); ``top`` keeps the N most
        frequent (per condition), or the N best collocations."""
        # The collector paused: ranking makes a tuple per key, and each of its passes
        # would walk the merged tables' millions of objects for nothing to collect.
        with gc_paused():
            if fmt == "json":
                # dumps, not dump: only a whole document goes through json's C
                # encoder; a document made here has no cycles to look for.
                stream.write(json.dumps(self.document(top), ensure_ascii=False,
                                        check_circular=False))
                stream.write("\n")
            else:
                writer = csv.writer(stream, dialect="excel-tab", lineterminator="\n")
                writer.writerows(self.rows(top))

    def document(self, top: int | None) -> dict[str, Any]:
        """The JSON document: settings, totals and counts."""
        shown = {k: v for k, v in self.options.items() if k not in ("stopwords", "categories")}
        if self.options.get("stopwords") is not None:
            shown["stopwords"] = len(self.options["stopwords"])
        doc: dict[str, Any] = {"count": self.kind, "options": shown, "items": self.items,
                               "units": self.units}
        if top is not None:
            doc["top"] = top
        kind = self.kind
        if kind in ("words", "ngrams"):
            fd = self.freq_dist()
            # NLTK's names: N() sample outcomes, B() bins (distinct keys).
            doc.update(N=fd.N(), B=fd.B(), counts=_table(ranked(fd, top)))
        elif kind == "conditional":
            cfd = self.conditional_freq_dist()
            doc["N"] = cfd.N()
            conditions = cfd.conditions()  # in order of first occurrence
            if all(isinstance(c, str) for c in conditions) and all(
                    isinstance(s, str) for fd in cfd.values() for s in fd):
                doc["counts"] = {c: dict(ranked(cfd[c], top)) for c in conditions}
            else:
                doc["counts"] = [[c, s, n] for c in conditions  # tuples: JSON lists
                                 for s, n in ranked(cfd[c], top)]
        elif kind == "collocations":
            finder = self.finder()
            scored = finder.score_ngrams(measure(self.options["n"], self.options["measure"]))
            best = scored if top is None else scored[:top]
            doc["collocations"] = [[list(gram), score, finder.ngram_fd[gram]]
                                   for gram, score in best]
            doc["word_fd"] = _table(ranked(finder.word_fd, None))
            doc["ngram_fd"] = _table(ranked(finder.ngram_fd, None))
            if self.options["n"] == 3:
                assert isinstance(finder, TrigramCollocationFinder)
                doc["bigram_fd"] = _table(ranked(finder.bigram_fd, None))
                doc["wildcard_fd"] = _table(ranked(finder.wildcard_fd, None))
        else:
            doc["groups"] = self.vocabulary()
        return doc

    def rows(self, top: int | None) -> Iterable[list[Any]]:
        """The TSV rows, a header first."""
        kind, options = self.kind, self.options
        if kind in ("words", "ngrams"):
            n = options["n"] if kind == "ngrams" else 1
            header = _columns(options["of"], n) + ["count"]
            yield header
            for key, count in ranked(self.freq_dist(), top):
                yield _cells(key if kind == "ngrams" else (key,)) + [count]
        elif kind == "conditional":
            cfd = self.conditional_freq_dist()
            yield (_columns(options["condition"], 1, "condition")
                   + _columns(options["sample"], 1, "sample") + ["count"])
            for condition in cfd.conditions():
                for sample, count in ranked(cfd[condition], top):
                    yield _cells((condition,)) + _cells((sample,)) + [count]
        elif kind == "collocations":
            finder = self.finder()
            yield _columns(options["of"], options["n"]) + [options["measure"], "count"]
            scored = finder.score_ngrams(measure(options["n"], options["measure"]))
            for gram, score in scored if top is None else scored[:top]:
                yield _cells(gram) + [repr(score), finder.ngram_fd[gram]]
        else:
            yield [options["by"], "tokens", "types", "hapaxes", "type_token_ratio"]
            for group, numbers in self.vocabulary().items():
                yield [group, numbers["tokens"], numbers["types"], numbers["hapaxes"],
                       repr(numbers["type_token_ratio"])]


def stats(fd: FreqDist) -> dict[str, float]:
    tokens, types = fd.N(), fd.B()
    return {"tokens": tokens, "types": types, "hapaxes": len(fd.hapaxes()),
            "type_token_ratio": types / tokens if tokens else 0.0}


def ranked(fd: Mapping[Any, int], top: int | None) -> list[tuple[Any, int]]:
    """``fd``'s items, most frequent first, equal counts in the order of their first
    occurrence in the corpus -- ``FreqDist.most_common``'s order over the serial
    count, so every run writes the same bytes; the first ``top`` of them."""
    items = sorted(fd.items(), key=itemgetter(1), reverse=True)  # stable
    return items if top is None else items[:top]


def _table(items: list[tuple[Any, int]]) -> dict[str, int] | list[tuple[Any, int]]:
    """Counts as JSON: an object where every key is a string, else [key, count] pairs
    (JSON writes a tuple as a list)."""
    if all(isinstance(key, str) for key, _ in items):
        return dict(items)
    return items


def _columns(unit: str, n: int, prefix: str = "") -> list[str]:
    names = ["word", "tag"] if unit == "word_tag" else [unit]
    if prefix:
        return [f"{prefix}_{name}" if unit not in ("fileid", "category") else prefix
                for name in names]
    if n == 1:
        return names
    return [f"{name}{i}" for i in range(1, n + 1) for name in names]


def _cells(key: Iterable[Any]) -> list[Any]:
    cells: list[Any] = []
    for unit in key:
        if isinstance(unit, tuple):
            cells.extend("" if u is None else u for u in unit)
        else:
            cells.append("" if unit is None else unit)
    return cells


def load_counts(path: str) -> Any:
    """Read a count job's JSON output back into NLTK's object: a ``FreqDist``, a
    ``ConditionalFreqDist``, a collocation finder, or the vocabulary's dict."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    kind = doc["count"]
    if kind in ("words", "ngrams"):
        return FreqDist(_counter(doc["counts"]))
    if kind == "conditional":
        cfd = ConditionalFreqDist()
        if isinstance(doc["counts"], dict):
            for condition, samples in doc["counts"].items():
                cfd[condition].update(samples)
        else:
            for condition, sample, count in doc["counts"]:
                cfd[unit_key(condition)][unit_key(sample)] = count
        return cfd
    if kind == "collocations":
        options = doc["options"]
        word_fd, ngram_fd = FreqDist(_counter(doc["word_fd"])), FreqDist(_counter(doc["ngram_fd"]))
        if options["n"] == 2:
            return BigramCollocationFinder(word_fd, ngram_fd, window_size=options["window_size"])
        return TrigramCollocationFinder(word_fd, FreqDist(_counter(doc["bigram_fd"])),
                                        FreqDist(_counter(doc["wildcard_fd"])), ngram_fd)
    return doc["groups"]


def _counter(table: dict[str, int] | list[list[Any]]) -> Counter[Any]:
    if isinstance(table, dict):
        return Counter(table)
    return Counter({unit_key(key): count for key, count in table})

__all__ = ["FORMATS", "Counts", "load_counts", "ranked"]
