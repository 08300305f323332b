"""Work that is a piece of the corpus, read by the worker, rather than items.

A run over shards feeds the session :class:`ShardSlice` objects: a shard from its
``skip``-th item to its end.  Their items are not counted by the driver, so each
shard takes the input indexes from ``number * STRIDE`` up to the next shard's: the
reorder buffer keeps corpus order by them, and an item of a shard has the index
``number * STRIDE + its position in the shard``, which is what a worker reports
when it is stuck on one and what a shard's items are numbered with when a shard
that killed workers is read here and sent again as items (see
:meth:`~.session.Session.requeue`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigError
from ..scheduler import Batch
from .feed import Feed

#: Input indexes each shard takes: more than the items of any shard.
STRIDE = 1 << 40


class Shard(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def size(self) -> int: ...


class ShardSource(Protocol):
    """What the engine needs of a corpus cut into shards (a
    :class:`~nlp_parallel.corpus.shards.ShardPlan`)."""

    recipe: dict[str, Any]

    def blobs(self, shard: Any) -> list[bytes]: ...

    def describe(self, shard: Any) -> dict[str, Any]: ...

    def places(self, shard: Any) -> list[dict[str, Any]] | None: ...

    def read_locally(self, shard: Any) -> Iterator[dict[str, Any]]: ...

    def bad_data(self, fields: dict[str, Any], items_before: int) -> ConfigError: ...


@dataclass(frozen=True)
class ShardSlice:
    """A shard from its ``skip``-th item to its end."""

    shard: Any
    skip: int = 0

    @property
    def start(self) -> int:
        """Input index of the slice's first item."""
        return self.shard.number * STRIDE + self.skip

    @property
    def end(self) -> int:
        """Input index of the next shard's first item."""
        return (self.shard.number + 1) * STRIDE


def position(index: int) -> tuple[int, int]:
    """The shard number and the item within it of an input index."""
    return divmod(index, STRIDE)


class ShardFeed(Feed):
    """A feed of :class:`ShardSlice` objects, one per batch.  A run's input
    indexes start at its first slice's."""

    def start(self, items: Iterable[Any], total: int | None = None) -> None:
        slices = iter(items)
        first = next(slices, None)
        super().start(slices if first is None else itertools.chain([first], slices), total)
        if first is not None:
            self.next_index = first.start

    def read(self, size: int) -> Batch | None:
        piece = next(self.items, None)
        if piece is None:
            self.exhausted = True
            return None
        assert isinstance(piece, ShardSlice)
        batch = self.make(piece.start, [piece], span=piece.end - piece.start)
        self.next_index = piece.end
        return batch
