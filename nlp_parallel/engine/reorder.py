"""Results that arrive in any order, delivered in input order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..settings import Emit, ItemFailure, OnError, item_text

#: Makes the error that stops a run at an item, given the item's index in the run.
Stop = Callable[[int], BaseException]


@dataclass(frozen=True)
class Work:
    """Finished work waiting for its turn: ``items`` items' results in ``data``,
    taking ``span`` places of the input (more than ``items`` for the rest of a
    shard); ``failures`` lists items of it the task raised on (their input index,
    ``at`` where their line would go in ``data``, the error and the item);
    ``sizes`` the length of each item's share of ``data`` and, for a shard, the
    tokens of each (as JSON: ``[lengths, tokens]``); ``tokens`` its items' tokens
    (None: unknown, or an item is a text); ``counts`` the items read from each file
    (shards); ``by`` the node that did it."""

    span: int
    items: int
    data: Any
    failures: Sequence[Mapping[str, Any]] = ()
    sizes: str | None = None
    counts: Mapping[str, int] | None = None
    tokens: int | None = None
    failed: ItemFailure | None = None
    by: int | None = None  # the node that did the work


class ReorderBuffer:
    """One run's finished work, by the input index of its first item, until all
    that comes before it has been delivered.

    Work arrives as a batch's results -- a JSON array's text, text lines the
    workers formatted, or a list -- or as an item the task could not process,
    whose place holds what ``record`` makes of its failure under ``on_error``
    record, and nothing under skip.

    Input indexes need not be contiguous: the work on a shard of a corpus takes the
    places up to the next shard's, whatever its number of items.  Items are
    numbered by how many were delivered before them: ``number(text, first)``, when
    given, writes those numbers into text whose JSONL lines were written without
    them (``first`` is the number of the text's first item).  With ``limit``, at
    most that many items are delivered (text is cut by its work's ``sizes``).
    ``credit(node, items)`` is told who did the items delivered.
    """

    def __init__(self, emit: Emit, on_error: OnError,
                 record: Callable[[ItemFailure], Any] | None = None,
                 number: Callable[[str, int], str] | None = None,
                 limit: int | None = None,
                 credit: Callable[[int, int], object] | None = None) -> None:
        self.emit = emit
        self.on_error = on_error
        self.record = record or self._default_record
        self.number = number
        self.limit = limit
        self.credit = credit
        #: Input index of the item to deliver next.
        self.due = 0
        #: Items delivered so far (recorded and skipped ones included).
        self.delivered = 0
        #: Items the task could not process (under record or skip) whose place in
        #: the output has been delivered, in delivery order; ``index`` counts items
        #: delivered before each.
        self.failures: list[ItemFailure] = []
        #: Items read from each file by the shards delivered so far.
        self.file_counts: dict[str, int] = {}
        #: Tokens of the shards' items delivered so far; None once one is a text.
        self.tokens: int | None = 0
        self._done: dict[int, Work] = {}  # by input index of the first item
        self._stops: dict[int, Stop] = {}  # errors to raise once due

    def __len__(self) -> int:
        """Pieces of work waiting for an older one."""
        return len(self._done)

    @property
    def waiting(self) -> int:
        """Items finished but not yet delivered."""
        return sum(work.items for work in self._done.values())

    @property
    def full(self) -> bool:
        """Whether the run's ``limit`` has been delivered."""
        return self.limit is not None and self.delivered >= self.limit

    def put(self, start: int, count: int, data: Any, span: int | None = None,
            **details: Any) -> None:
        """The results of ``count`` items from input index ``start`` (taking ``span``
        places, when more), with the :class:`Work` ``details``."""
        self._done[start] = Work(count if span is None else span, count, data, **details)

    def keep(self, failure: ItemFailure) -> None:
        """Put a failed item's record (or nothing, under skip) in its place."""
        self._done[failure.index] = Work(1, 1, None, failed=failure)

    def stop(self, index: int, error: Stop) -> None:
        """Raise ``error(n)`` once everything before input index ``index`` is
        delivered (``n`` items)."""
        self._stops[index] = error

    def record_of(self, failure: ItemFailure) -> Any:
        return self.record(failure) if self.on_error is OnError.RECORD else None

    def _default_record(self, failure: ItemFailure) -> Any:
        return failure.line() if self.emit is Emit.TEXT else [failure]

    def deliverable(self) -> Iterator[Any]:
        """Finished work that is next in input order, as lists or text.

        Raises what :meth:`stop` was given when its place is due.
        """
        while not self.full:
            stop = self._stops.pop(self.due, None)
            if stop is not None:
                raise stop(self.delivered)
            work = self._done.pop(self.due, None)
            if work is None:
                return
            start, self.due = self.due, self.due + work.span
            if work.counts:
                for fileid, count in work.counts.items():
                    self.file_counts[fileid] = self.file_counts.get(fileid, 0) + count
            if work.failed is not None:  # a failed item's place
                failure = replace(work.failed, index=self.delivered)
                self.failures.append(failure)
                self.delivered += 1
                data = self.record_of(failure)
            else:
                data = self._finished(start, work)
            if not data:
                continue  # a skipped item, an empty shard
            if isinstance(data, str) and self.emit is Emit.RESULTS:
                yield json.loads(data)
            else:
                yield data

    def _finished(self, start: int, work: Work) -> Any:
        """The text or results of ``work``, cut at the run's limit, its lines
        numbered and the failures' records in their places; counts it delivered."""
        items, data, failures, tokens = work.items, work.data, work.failures, work.tokens
        if self.limit is not None and self.delivered + items > self.limit:
            items = self.limit - self.delivered
            if work.sizes is not None:
                lengths, each = json.loads(work.sizes)
                data = data[:sum(lengths[:items])]
                tokens = None if -1 in each[:items] else sum(each[:items])
            failures = [f for f in failures if f["index"] - start < items]
        if self.tokens is not None and items:
            self.tokens = None if tokens is None else self.tokens + tokens
        first = self.delivered
        self.delivered += items
        if self.credit is not None and work.by is not None:
            self.credit(work.by, items)
        if not failures:
            return self._numbered(data, first)
        parts, written, after = [], 0, 0
        for listed in failures:  # in input order
            offset = listed["index"] - start
            parts.append(self._numbered(data[written:listed["at"]], first + after))
            failure = ItemFailure(first + offset, listed["type"], listed["message"],
                                  item_text(listed["item"]), listed["traceback"])
            self.failures.append(failure)
            parts.append(self.record_of(failure) or "")
            written, after = listed["at"], offset + 1
        parts.append(self._numbered(data[written:], first + after))
        return "".join(parts)

    def _numbered(self, data: Any, first: int) -> Any:
        if self.number is None or not data:
            return data
        return self.number(data, first)
