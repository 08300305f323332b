"""The work a session has yet to send: a run's input, read a batch at a time, and
the batches to send again."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Sized
from typing import Any

from ..scheduler import Batch


class Feed:
    """Numbers every batch a session makes, over all its runs, so that late results
    of an abandoned run are recognised; reads each run's input; keeps the batches
    to send again, lowest input index first.

    ``pack`` turns a chunk of items, and the input index of its first, into a
    batch's payload (see :meth:`~.protocols.WorkerProtocol.pack`).
    """

    def __init__(self, pack: Callable[[list[Any], int], object]) -> None:
        self.pack = pack
        self.next_seq = 0
        self.start(())

    def start(self, items: Iterable[Any], total: int | None = None) -> None:
        """A new run, of ``items``; ``total`` says how many when they have no
        ``len`` (an estimate will do)."""
        self.total = len(items) if isinstance(items, Sized) else total
        self.items = iter(items)
        self.exhausted = False
        self.next_index = 0  # input index of the next item to read
        self.first_seq = self.next_seq
        self._retries: list[tuple[int, int, Batch]] = []  # a heap

    def current(self, seq: int) -> bool:
        """Whether batch ``seq`` belongs to the run under way."""
        return seq >= self.first_seq

    @property
    def remaining(self) -> int | None:
        """Items left to read, when the run's total is known (an estimate may fall
        short)."""
        return None if self.total is None else self.total - self.next_index

    def read(self, size: int) -> Batch | None:
        """A new batch of the next ``size`` items; None once they are all read."""
        chunk = list(itertools.islice(self.items, size))
        if len(chunk) < size:
            self.exhausted = True
        if not chunk:
            return None
        batch = self.make(self.next_index, chunk)
        self.next_index += len(chunk)
        return batch

    def make(self, start: int, chunk: list[Any], **history: Any) -> Batch:
        """A batch of ``chunk``, the items from input index ``start``, with a new
        sequence number and the failure ``history`` it starts with."""
        batch = Batch(self.next_seq, start, len(chunk), self.pack(chunk, start), **history)
        self.next_seq += 1
        return batch

    def retry(self, batch: Batch) -> None:
        """Send ``batch`` again, before any new one."""
        heapq.heappush(self._retries, (batch.start, batch.seq, batch))

    def next_retry(self) -> Batch | None:
        return heapq.heappop(self._retries)[2] if self._retries else None

    @property
    def retries(self) -> int:
        """Batches waiting to be sent again."""
        return len(self._retries)

    def retry_starts(self) -> tuple[int, ...]:
        """The input index of the first item of each batch to send again, in order."""
        return tuple(sorted(start for start, _, _ in self._retries))

    def end(self) -> None:
        """The run is over: what it left is never sent."""
        self._retries = []
