"""Results that arrive in any order, delivered in input order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ..settings import Emit, ItemFailure, OnError


class ReorderBuffer:
    """One run's finished work, by the input index of its first item, until all
    that comes before it has been delivered.

    Work arrives as a batch's results -- a JSON array's text, text lines the
    workers formatted, or a list -- or as an item the task could not process,
    whose place holds what ``record`` makes of its failure under ``on_error``
    record, and nothing under skip.
    """

    def __init__(self, emit: Emit, on_error: OnError,
                 record: Callable[[ItemFailure], Any] | None = None) -> None:
        self.emit = emit
        self.on_error = on_error
        self.record = record or self._default_record
        #: Input index of the item to deliver next.
        self.due = 0
        #: Items delivered so far (recorded and skipped ones included).
        self.delivered = 0
        #: Items the task could not process (under record or skip) whose place in
        #: the output has been delivered, in input order.
        self.failures: list[ItemFailure] = []
        self._done: dict[int, tuple[int, Any]] = {}  # by start index: (count, data)
        self._failed: dict[int, ItemFailure] = {}  # by index, until delivered

    def __len__(self) -> int:
        """Pieces of work waiting for an older one."""
        return len(self._done)

    def put(self, start: int, count: int, data: Any) -> None:
        """The results of ``count`` items from input index ``start``."""
        self._done[start] = (count, data)

    def keep(self, failure: ItemFailure) -> None:
        """Put a failed item's record (or nothing, under skip) in its place."""
        self._failed[failure.index] = failure
        data = self.record(failure) if self.on_error is OnError.RECORD else None
        self._done[failure.index] = (1, data)

    def _default_record(self, failure: ItemFailure) -> Any:
        return failure.line() if self.emit is Emit.TEXT else [failure]

    def deliverable(self) -> Iterator[Any]:
        """Finished work that is next in input order, as lists or text."""
        while self.due in self._done:
            count, data = self._done.pop(self.due)
            failure = self._failed.pop(self.due, None)
            if failure is not None:
                self.failures.append(failure)
            self.due += count
            self.delivered += count
            if not data:
                continue  # a skipped item
            if isinstance(data, str) and self.emit is Emit.RESULTS:
                yield json.loads(data)
            else:
                yield data
