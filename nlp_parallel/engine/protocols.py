"""The two ways the driver talks to a worker, behind one interface.

A *batched* module (``process(item)``, ``setup(options)``) runs inside
:mod:`nlp_parallel.worker`, which says hello, sets the task up and answers a batch
per message: ``(name, fields)`` records, a batch's items as one JSON text.  A
*seed-style* module loops over its channel itself: one ``(i, arg)`` in, one
``(i, result)`` out, and an exception ends its loop and its channel.

The loop sees both as a :class:`WorkerProtocol`: what runs remotely, how a batch
goes on the wire, and what comes back, read as the batched protocol's records.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, Protocol

from .. import worker
from ..errors import EncodeError, GatewayError
from ..forks import Setup
from ..modules import RemoteModule
from ..scheduler import Batch
from ..settings import RunOptions
from .handshake import check_hello
from .sharding import ShardSlice, ShardSource

#: Batches a node holds at once: one running, one queued behind it.
BATCH_WINDOW = 2
#: Items in flight per node for seed-style modules (one item per message).
SEED_WINDOW = 16


class WorkerProtocol(Protocol):
    """How the driver talks to the workers of one kind of module."""

    #: Batches a node holds at once.
    window: int
    #: Whether a new channel says hello and sets its task up before it takes work.
    handshake: bool
    #: Whether an overdue batch may also run on an idle node: only where workers
    #: report how long their batches took, which is what makes one overdue.
    duplicates: bool
    #: Whether the task raising on an item ends the channel, rather than a message.
    task_errors_close: bool

    @property
    def source(self) -> str:
        """What each channel runs remotely."""
        ...

    def batch_size(self, asked: int | None) -> int | None:
        """Items per batch, given the run's ``batch_size`` (None: automatic)."""
        ...

    def pack(self, chunk: list[Any], start: int) -> object:
        """The payload of a batch of ``chunk``, the items from input index ``start``.

        Raises :class:`EncodeError` for an item that cannot be sent.
        """
        ...

    def unpack(self, batch: Batch) -> list[Any]:
        """The items of ``batch``."""
        ...

    def message(self, batch: Batch, local: bool = False) -> object:
        """What goes on the channel to run ``batch``, on a worker on this machine
        when ``local``."""
        ...

    def read(self, spec: str, message: Any) -> tuple[str, dict]:
        """A worker's message as a ``(name, fields)`` record of the batched protocol.

        Raises :class:`GatewayError` for a message this protocol has no reading of.
        """
        ...

    def stray(self, spec: str, fields: dict) -> GatewayError:
        """The error for a result (``done`` record) that answers no batch its node
        was given."""
        ...

    def setup(self, spec: str, hello: dict) -> object:
        """What answers a worker's hello: its task's setup.

        Raises :class:`~nlp_parallel.errors.HandshakeError` for a worker this driver
        cannot trust (see :func:`check_hello`).
        """
        ...


class BatchedProtocol:
    """:mod:`nlp_parallel.worker`'s protocol: batches of items as JSON text."""

    window = BATCH_WINDOW
    handshake = True
    duplicates = True
    task_errors_close = False

    def __init__(self, module: RemoteModule, settings: RunOptions) -> None:
        self.module = module
        self.settings = settings

    @functools.cached_property
    def source(self) -> str:
        # The worker loop's own source: no analysis of it (resolve parses a module)
        # is needed, and parsing it costs the driver more than the rest of a setup.
        return inspect.getsource(worker)

    def batch_size(self, asked: int | None) -> int | None:
        return asked

    def pack(self, chunk: list[Any], start: int) -> object:
        try:
            return json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            for offset, item in enumerate(chunk):
                try:
                    json.dumps(item)
                except (TypeError, ValueError) as exc:
                    raise EncodeError(start + offset, str(exc)) from None
            raise

    def unpack(self, batch: Batch) -> list[Any]:
        return json.loads(str(batch.payload))

    def message(self, batch: Batch, local: bool = False) -> object:
        return ("batch", {"seq": batch.seq, "start": batch.start, "items": batch.payload})

    def read(self, spec: str, message: Any) -> tuple[str, dict]:
        name, fields = message
        return name, fields

    def stray(self, spec: str, fields: dict) -> GatewayError:
        return GatewayError(spec, f"worker answered batch {fields['seq']!r:.40}, which it "
                                  f"was not given")

    def setup(self, spec: str, hello: dict) -> object:
        return ("setup", self.setup_fields(spec, hello))

    def setup_fields(self, spec: str, hello: dict) -> dict[str, Any]:
        check_hello(spec, hello, self.module)
        setup: dict[str, Any] = {"name": self.module.name, "emit": self.settings.emit.value}
        if hello.get("prepared") and self.digest in hello["prepared"]:
            setup["prepared"] = self.digest  # set up in its fork server already
        else:
            setup.update(source=self.module.source, filename=self.module.filename,
                         options=self.settings.options)
        return setup

    @functools.cached_property
    def digest(self) -> str:
        """How a worker forked from a fork server that set this task up names it (a
        model's files by their places: the driver need not read them for this)."""
        return Setup.of(self.module, self.settings.encoded).digest


class ShardProtocol(BatchedProtocol):
    """The batched protocol where the work is shards of a corpus, which the workers
    read with the reader ``shards.recipe`` describes: a shard goes as its files'
    raw bytes; the items of a shard that killed workers go as items, read here.

    A worker on this machine gets the places of the files instead (a path, or a
    zip and its member, checked by NLTK's sandbox here), and reads their bytes
    itself.  Under ``on_error`` record or skip the workers go on past an item the task
    raises on and list it with the shard's results.  With ``sizes`` they say how
    long each item's lines are, so that a run can stop at its ``limit`` inside a
    shard.
    """

    def __init__(self, module: RemoteModule, settings: RunOptions, shards: ShardSource,
                 sizes: bool = False) -> None:
        super().__init__(module, settings)
        self.shards = shards
        self.sizes = sizes
        #: Whether workers on this machine read the corpus's files themselves; off
        #: once one cannot (see Session.shard_failed).
        self.local_reads = True
        #: The most items a shard sent now can be asked for (a run's limit, less
        #: what is delivered), or None.
        self.most: Callable[[], int | None] = lambda: None

    def pack(self, chunk: list[Any], start: int) -> object:
        if len(chunk) == 1 and isinstance(chunk[0], ShardSlice):
            return chunk[0]
        return super().pack(chunk, start)

    def unpack(self, batch: Batch) -> list[Any]:
        if isinstance(batch.payload, ShardSlice):
            piece = batch.payload
            return list(self.shards.read_locally(piece.shard))[piece.skip:]
        return super().unpack(batch)

    def message(self, batch: Batch, local: bool = False) -> object:
        if not isinstance(batch.payload, ShardSlice):
            return ("batch", {"seq": batch.seq, "start": batch.start, "items": batch.payload,
                              "sizes": self.sizes})
        piece = batch.payload
        fields: dict[str, Any] = {"seq": batch.seq, "start": batch.start, "skip": piece.skip,
                                  "sizes": self.sizes, "take": self.most()}
        where: dict[str, Any] = {"shard": self.shards.describe(piece.shard)}
        places = self.shards.places(piece.shard) if local and self.local_reads else None
        if places is not None:  # the worker reads the files itself
            where["places"] = places
        else:
            fields["blobs"] = self.shards.blobs(piece.shard)
        # The nested description as one JSON text: execnet's serializer is Python.
        return ("shard", {**fields, "where": json.dumps(where, separators=(",", ":"))})

    def setup_fields(self, spec: str, hello: dict) -> dict[str, Any]:
        from .. import shard_reader  # shipped as its source, like the worker loop

        reader = {"source": inspect.getsource(shard_reader), "filename": shard_reader.__file__,
                  "recipe": self.shards.recipe}
        return {**super().setup_fields(spec, hello), "reader": reader,
                "on_error": self.settings.on_error.value}


class SeedProtocol:
    """A seed-style module's own loop: one item per message, ``(i, arg)`` in and
    ``(i, result)`` out, ``i`` the batch's sequence number."""

    window = SEED_WINDOW
    handshake = False
    duplicates = False  # the module reports no times: nothing of its is ever overdue
    task_errors_close = True

    def __init__(self, module: RemoteModule) -> None:
        self.module = module

    @property
    def source(self) -> str:
        return self.module.source

    def batch_size(self, asked: int | None) -> int | None:
        return 1

    def pack(self, chunk: list[Any], start: int) -> object:
        return chunk[0]

    def unpack(self, batch: Batch) -> list[Any]:
        return [batch.payload]

    def message(self, batch: Batch, local: bool = False) -> object:
        return (batch.seq, batch.payload)

    def read(self, spec: str, message: Any) -> tuple[str, dict]:
        try:
            seq, result = message
        except (TypeError, ValueError):
            raise self._unexpected(spec, message) from None
        return "done", {"seq": seq, "data": [result], "seconds": 0.0, "reply": message}

    def stray(self, spec: str, fields: dict) -> GatewayError:
        return self._unexpected(spec, fields["reply"])

    def setup(self, spec: str, hello: dict) -> object:
        # Never asked: read() turns every message into a result, never a hello.
        raise self._unexpected(spec, hello)

    def _unexpected(self, spec: str, message: Any) -> GatewayError:
        return GatewayError(
            spec,
            f"seed-style module {self.module.name} sent {message!r:.80}; expected "
            f"(i, result) for an (i, arg) it received",
        )


def protocol_for(module: RemoteModule, settings: RunOptions,
                 shards: ShardSource | None = None, sizes: bool = False) -> WorkerProtocol:
    """The protocol ``module``'s workers speak; with ``shards``, over the shards of
    a corpus (a batched module only)."""
    if shards is not None:
        assert module.batched, "only a batched module reads shards"
        return ShardProtocol(module, settings, shards, sizes)
    return BatchedProtocol(module, settings) if module.batched else SeedProtocol(module)
