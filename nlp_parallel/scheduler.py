"""Which batch goes where: pure logic, no I/O.

Each node (a worker channel) holds at most ``window`` batches; whichever node frees
up gets the next one.  Batch sizes are chosen per node, from that node's measured
speed, so a slow node gets small batches and never holds much of the input.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

Node = TypeVar("Node", bound=Hashable)

#: Ideal seconds of work per batch: long enough to amortize a message, short enough
#: to balance load and keep the tail of a run short (joblib aims for 0.2-2 s).
TARGET_SECONDS = 0.2
#: Most items in one automatically sized batch; bounds driver memory per batch.
MAX_AUTO_BATCH = 20_000


@dataclass
class Batch:
    """A contiguous run of input items: ``seq`` names a batch on the wire, ``start``
    is the input index of its first item, ``payload`` is what goes on the wire.

    ``failures`` counts the workers that died or hung while running it; ``suspect``
    marks a piece split off a batch known to hold an item that kills workers;
    ``hung_at`` lists, for each worker that hung on it and said where, the input
    index of the item it was on.  A batch may also be a shard of the corpus (its
    one item), which takes the input places up to ``end``.
    """

    seq: int
    start: int
    count: int
    payload: object
    failures: int = 0
    suspect: bool = False
    last_error: tuple[str, str] = ("", "")  # (type, message) of the latest failure
    hung_at: tuple[int, ...] = ()
    #: Input places the batch takes when more than its items: a shard of the
    #: corpus, whose items are counted by the worker that reads it.
    span: int | None = None

    @property
    def end(self) -> int:
        """Input index just past the batch."""
        return self.start + (self.count if self.span is None else self.span)


class Sizer(Protocol):
    def size(self) -> int: ...

    def record(self, count: int, seconds: float) -> None: ...

    def expected_seconds(self, count: int) -> float | None: ...


class FixedSizer:
    """An explicit batch size; still measures speed, to spot stragglers."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._auto = AutoSizer()

    def size(self) -> int:
        return self._size

    def record(self, count: int, seconds: float) -> None:
        self._auto.record(count, seconds)

    def expected_seconds(self, count: int) -> float | None:
        return self._auto.expected_seconds(count)


class AutoSizer:
    """Batch size from a smoothed per-item time, after joblib's AutoBatchingMixin.

    Starts at one item and grows at most eightfold per measured batch, so a noisy
    first timing cannot send a huge batch to one node.
    """

    def __init__(self, target: float = TARGET_SECONDS, maximum: int = MAX_AUTO_BATCH) -> None:
        self.target = target
        self.maximum = maximum
        self._size = 1
        self._per_item: float | None = None

    def size(self) -> int:
        return self._size

    def record(self, count: int, seconds: float) -> None:
        if count <= 0:
            return
        per_item = max(seconds, 1e-7) / count
        if self._per_item is None:
            self._per_item = per_item
        else:
            self._per_item = 0.5 * self._per_item + 0.5 * per_item
        ideal = int(self.target / self._per_item)
        self._size = max(1, min(ideal, self._size * 8, self.maximum))

    def expected_seconds(self, count: int) -> float | None:
        return None if self._per_item is None else self._per_item * count


@dataclass
class _NodeState:
    sizer: Sizer
    inflight: dict[int, Batch] = field(default_factory=dict)
    busy_since: float = 0.0


class Scheduler(Generic[Node]):
    """Tracks the batches each node holds and picks the next one for an idle node.

    ``max_ahead`` bounds how many batches may be dispatched beyond the oldest one
    not yet delivered, which bounds the driver's reorder buffer.  When that bound
    is reached, or the input is exhausted, an idle node may take a duplicate of the
    oldest batch of a node that has run far past its own measured speed; the first
    result to arrive wins and the other is dropped.
    """

    def __init__(
        self,
        nodes: Iterable[Node],
        window: int,
        sizer: Callable[[], Sizer],
        max_ahead: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_ahead = max_ahead
        self._clock = clock
        self._nodes: dict[Node, _NodeState] = {n: _NodeState(sizer()) for n in nodes}
        self._holders: dict[int, list[Node]] = {}

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes)

    def idle_nodes(self) -> list[Node]:
        """Nodes with room in their window, least loaded first."""
        free = [n for n, s in self._nodes.items() if len(s.inflight) < self.window]
        return sorted(free, key=lambda n: len(self._nodes[n].inflight))

    def batch_size(self, node: Node, remaining: int | None = None, nodes: int = 1) -> int:
        """The size of ``node``'s next batch: what its speed calls for, and, with
        ``remaining`` items known to be left for ``nodes`` working nodes, at most
        half an even share of them (guided self-scheduling: the last batches
        shrink, so that every node finishes at about the same time)."""
        size = self._nodes[node].sizer.size()
        if remaining is None:
            return size
        share = -(-remaining // (2 * max(nodes, 1)))
        return min(size, max(share, size // 16, 1))

    def may_dispatch(self, waiting: int) -> bool:
        """Whether another new batch may go out while ``waiting`` finished batches
        wait for an older one (the reorder buffer)."""
        return waiting + self.in_flight() < self.max_ahead

    def assign(self, node: Node, batch: Batch) -> None:
        state = self._nodes[node]
        if not state.inflight:
            state.busy_since = self._clock()
        state.inflight[batch.seq] = batch
        self._holders.setdefault(batch.seq, []).append(node)

    def complete(self, node: Node, seq: int, seconds: float) -> Batch | None:
        """Record that ``node`` finished batch ``seq`` in ``seconds`` of work.

        Returns the batch on its first completion, None for a duplicate's result.
        Raises ``KeyError`` when ``node`` was never given batch ``seq``.
        """
        state = self._nodes[node]
        batch = state.inflight.pop(seq)
        state.busy_since = self._clock()
        state.sizer.record(batch.count, seconds)
        # A node still running a duplicate keeps it in its window: a hung node
        # stays full and gets no more work, a slow one drops the late result.
        if self._holders.pop(seq, None) is None:
            return None
        return batch

    def straggler(self, node: Node) -> Batch | None:
        """Another node's oldest undelivered batch, if that node is overdue with it
        and no second node runs it already.

        A batch that has hung or killed a worker, or a piece split off one, is never
        duplicated: only the failures of the nodes that give it up decide its fate,
        and a copy on a second node would keep it from ever being given up.
        """
        now = self._clock()
        for other, state in self._nodes.items():
            if other == node:
                continue
            batch = next((b for b in state.inflight.values() if b.seq in self._holders), None)
            if batch is None or len(self._holders[batch.seq]) != 1:
                continue
            if batch.failures or batch.suspect:
                continue
            expected = state.sizer.expected_seconds(batch.count)
            overdue = max(1.0, 4 * expected) if expected is not None else 5.0
            if now - state.busy_since > overdue:
                return batch
        return None

    def forget_before(self, seq: int) -> None:
        """Stop tracking delivery of batches numbered below ``seq``.

        Their nodes keep the window slots until the results arrive, but they are
        never offered as stragglers again.
        """
        for old in [s for s in self._holders if s < seq]:
            del self._holders[old]

    def release(self, node: Node) -> tuple[Batch | None, list[Batch]]:
        """Take every batch away from a node that died.

        Returns the batch it was running (None if that was a finished run's) and,
        oldest first, the batches no other node holds, which must be dispatched
        again.  Batches another node also runs stay with that node.
        """
        state = self._nodes[node]
        # A worker runs its batches in the order it received them.
        oldest = next(iter(state.inflight.values()), None)
        running = oldest if oldest is not None and oldest.seq in self._holders else None
        orphans = []
        for batch in state.inflight.values():
            holders = self._holders.get(batch.seq)
            if holders is None:
                continue  # delivered already, or forgotten
            holders.remove(node)
            if not holders:
                del self._holders[batch.seq]
                orphans.append(batch)
        state.inflight.clear()
        return running, orphans

    def in_flight(self) -> int:
        """Batches dispatched and not yet delivered, duplicates counted once."""
        return len(self._holders)

    def holds(self, node: Node) -> list[Batch]:
        """The undelivered batches ``node`` holds, oldest first."""
        return [b for b in self._nodes[node].inflight.values() if b.seq in self._holders]

    def running_since(self, node: Node) -> float | None:
        state = self._nodes[node]
        return state.busy_since if state.inflight else None

    def expected_seconds(self, node: Node) -> float | None:
        """How long the batch ``node`` runs now should take, from its measured
        speed; None before its first measurement or when it runs nothing."""
        state = self._nodes[node]
        running = next(iter(state.inflight.values()), None)
        return None if running is None else state.sizer.expected_seconds(running.count)
