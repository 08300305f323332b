"""The run loop: feed batches to gateways, yield results in input order.

execnet callbacks only enqueue ``(node, message)``; one loop drains that queue,
dispatches each message through a table, keeps every node's window full and
yields results as soon as they are next in input order.  Every wait has a timeout.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
import queue
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import execnet

from . import worker
from .errors import (
    ConfigError,
    EncodeError,
    GatewayError,
    GatewayLost,
    GatewayStartError,
    HandshakeError,
    RemoteTaskError,
    WorkerTimeout,
)
from .modules import RemoteModule
from .scheduler import AutoSizer, Batch, FixedSizer, Scheduler, Sizer

if TYPE_CHECKING:
    from .gateways import Gateway

#: Seconds between checks for timeouts and stragglers while no message arrives.
TICK = 0.25
#: Batches a node holds at once: one running, one queued behind it.
BATCH_WINDOW = 2
#: Items in flight per node for seed-style modules (one item per message).
SEED_WINDOW = 16


class Emit(enum.Enum):
    """What a run yields: decoded results, or text lines pre-formatted by workers."""

    RESULTS = "json"
    TEXT = "text"


@dataclass(frozen=True)
class RunOptions:
    """How one map runs; validated by :func:`run_options`."""

    options: str  # the task's setup options, JSON-encoded
    batch_size: int | None  # None: automatic
    emit: Emit
    timeout: float | None  # per batch
    start_timeout: float


BatchSize = int | str | None


def run_options(
    options: Any = None,
    batch_size: BatchSize = "auto",
    emit: Emit = Emit.RESULTS,
    timeout: float | None = None,
    start_timeout: float = 60.0,
) -> RunOptions:
    """Validate run settings; raises :class:`ConfigError` for a bad value."""
    if batch_size in ("auto", None):
        size = None
    elif isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 0:
        size = batch_size
    else:
        raise ConfigError(f"batch_size must be 'auto' or a positive integer, not {batch_size!r}")
    for name, value in (("timeout", timeout), ("start_timeout", start_timeout)):
        if value is not None and (isinstance(value, bool) or not value > 0):
            raise ConfigError(f"{name} must be a positive number of seconds, not {value!r}")
    return RunOptions(encode_options(options), size, emit, timeout, start_timeout)


class RawJSON:
    """JSON text to splice into task options verbatim.

    A model read from NLTK's JSON files travels as its file text: the driver never
    parses it and each worker parses it exactly once.
    """

    def __init__(self, text: str) -> None:
        self.text = text


def encode_options(options: Any) -> str:
    """Encode task options as one JSON string, splicing :class:`RawJSON` values.

    Raises :class:`ConfigError` for values JSON cannot carry.
    """
    raw: list[str] = []

    def placeholder(value: object) -> str:
        if isinstance(value, RawJSON):
            raw.append(value.text)
            return f"\0raw{len(raw) - 1}\0"
        raise TypeError(f"{type(value).__name__} is not JSON data")

    try:
        encoded = json.dumps({} if options is None else options, default=placeholder)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"task options must be JSON data: {exc}") from None
    for i, text in enumerate(raw):
        encoded = encoded.replace(json.dumps(f"\0raw{i}\0"), text, 1)
    return encoded


def local_nltk_version() -> str | None:
    try:
        return metadata.version("nltk")
    except metadata.PackageNotFoundError:
        return None


def check_hello(spec: str, hello: dict, module: RemoteModule) -> None:
    """Refuse a worker this driver cannot trust to give the same results.

    A task that runs NLTK code -- a module importing ``nltk``, and every built-in task
    (``remote_tasks.*``; the pipeline imports nothing itself but runs steps that do)
    -- needs the driver's NLTK version on every worker.  A worker whose NLTK differs
    while the task does not use it only gets a
    :class:`~nlp_parallel.gateways.GatewayWarning`: its results cannot differ.

    Raises :class:`HandshakeError`.
    """
    import warnings

    from .gateways import GatewayWarning  # the engine needs gateways only for type hints

    if hello.get("protocol") != worker.PROTOCOL:
        raise HandshakeError(
            spec, f"worker speaks protocol {hello.get('protocol')}, this driver {worker.PROTOCOL}"
        )
    python = tuple(int(p) for p in str(hello.get("python", "0.0")).split(".")[:2])
    if python < (3, 8):
        raise HandshakeError(spec, f"runs Python {hello.get('python')}; workers need 3.8 or newer")
    ours, theirs = local_nltk_version(), hello.get("nltk")
    if ours is None or theirs == ours:
        return
    found = "no NLTK" if theirs is None else f"NLTK {theirs}"
    builtin = module.name.startswith("remote_tasks.")
    if module.needs_nltk or builtin:
        what = "the built-in tasks run" if builtin else f"task {module.name} runs"
        raise HandshakeError(
            spec,
            f"has {found}, this driver NLTK {ours}; {what} NLTK code, which must be the "
            f"same version on every gateway: install nltk=={ours} there",
        )
    if theirs is not None:
        warnings.warn(GatewayWarning(
            f"gateway {spec}: has {found}, this driver NLTK {ours}; task {module.name} "
            f"does not import NLTK, so its results are the same, but tasks that do "
            f"will refuse this gateway"
        ), stacklevel=2)


_CLOSED = object()


def _deliver(inbox: queue.Queue, node: int, message: object) -> None:
    inbox.put((node, message))


@dataclass
class _Node:
    gateway: Gateway
    channel: execnet.Channel
    ready: bool = False
    closed: bool = False
    broken_since: float | None = None  # a send failed; its endmarker is on the way

    @property
    def usable(self) -> bool:
        return self.ready and not self.closed and self.broken_since is None


class Session:
    """A task set up on every gateway of a pool, ready for any number of runs.

    Channels open and the task's ``setup`` runs once; each :meth:`run` then streams
    one input through them.  Batch sequence numbers keep growing across runs, so
    late results of an abandoned run are recognised and dropped.
    """

    def __init__(
        self,
        gateways: Sequence[Gateway],
        module: RemoteModule,
        settings: RunOptions,
    ) -> None:
        self.module = module
        self.settings = settings
        self.inbox: queue.Queue = queue.Queue()
        self.next_seq = 0
        self.started = time.monotonic()
        #: Items each gateway delivered first, over all runs, by gateway id.
        self.counts: dict[str, int] = {str(g.spec.id): 0 for g in gateways}
        self._reset(())
        size = settings.batch_size
        if not module.batched:
            size = 1
        sizer: Callable[[], Sizer] = (
            AutoSizer if size is None else functools.partial(FixedSizer, size)
        )
        window = BATCH_WINDOW if module.batched else SEED_WINDOW
        self.sched: Scheduler[int] = Scheduler(
            range(len(gateways)), window, sizer, max_ahead=4 * window * len(gateways)
        )
        self.handlers: dict[str, Callable[[int, dict], None]] = {
            "hello": self.on_hello,
            "ready": self.on_ready,
            "done": self.on_done,
            "failed": self.on_failed,
        }
        self.gateways = gateways
        self.nodes: list[_Node] = []

    def _reset(self, items: Iterable[Any]) -> None:
        """Per-run state: the input, its position and the results awaiting delivery."""
        self.total = len(items) if isinstance(items, Sized) else None
        self.items = iter(items)
        self.exhausted = False
        self.next_index = 0
        self.first_seq = self.next_seq
        self.next_yield = self.next_seq
        self.done: dict[int, Any] = {}
        #: Items of this run yielded so far.
        self.delivered = 0

    def open(self) -> None:
        """Start the worker loop (or the seed module) in a new channel per gateway.

        Raises :class:`GatewayLost` when a gateway cannot open a channel.
        """
        if self.nodes:
            return
        self.started = time.monotonic()
        source = RemoteModule.resolve(worker).source if self.module.batched else self.module.source
        for index, gw in enumerate(self.gateways):
            try:
                channel = gw.gateway.remote_exec(source)
            except OSError as exc:
                raise GatewayLost(str(gw), f"cannot open a channel: {exc}") from None
            self.nodes.append(_Node(gw, channel, ready=not self.module.batched))
            channel.setcallback(functools.partial(_deliver, self.inbox, index), endmarker=_CLOSED)

    # -- the loop ---------------------------------------------------------------

    def run(self, items: Iterable[Any]) -> Iterator[Any]:
        """Yield results for ``items`` in input order, a batch at a time.

        Raises the errors listed in :func:`run`.
        """
        self.open()
        self._reset(items)
        try:
            yield from self._results()
        finally:
            # Anything still running belongs to this run only: never re-dispatch it.
            self.sched.forget_before(self.next_seq)

    def _results(self) -> Iterator[Any]:
        next_check = time.monotonic() + TICK
        while True:
            self.fill()
            yield from self.deliverable()
            if self.exhausted and self.next_yield == self.next_seq:
                return
            try:
                node, message = self.inbox.get(timeout=TICK)
            except queue.Empty:
                pass
            else:
                self.dispatch(node, message)
            # Checked on a clock, not only when idle: one busy node must not hide
            # another that hangs.
            if time.monotonic() >= next_check:
                self.check_timeouts()
                next_check = time.monotonic() + TICK

    def dispatch(self, node: int, message: Any) -> None:
        if message is _CLOSED:
            self.on_closed(node)
        elif self.module.batched:
            name, fields = message
            self.handlers[name](node, fields)
        else:
            self.on_seed_result(node, message)

    def on_seed_result(self, node: int, message: Any) -> None:
        try:
            seq, result = message
            first = self.sched.complete(node, seq, 0.0)
        except (TypeError, ValueError, KeyError):
            raise GatewayError(
                str(self.nodes[node].gateway),
                f"seed-style module {self.module.name} sent {message!r:.80}; expected "
                f"(i, result) for an (i, arg) it received",
            ) from None
        if first is not None and seq >= self.first_seq:
            self.done[seq] = (1, result)
            self.counts[self.nodes[node].gateway.spec.id] += 1

    def deliverable(self) -> Iterator[Any]:
        """Completed batches that are next in input order, as lists or text."""
        while self.next_yield in self.done:
            count, data = self.done.pop(self.next_yield)
            self.next_yield += 1
            self.delivered += count
            if not self.module.batched:
                yield [data]
            elif self.settings.emit is Emit.TEXT:
                yield data
            else:
                yield json.loads(data)

    def fill(self) -> None:
        """Give every ready node with room in its window a batch."""
        progress = True
        while progress:
            progress = False
            for node in self.sched.idle_nodes():
                if not self.nodes[node].usable:
                    continue
                batch = self.new_batch(node)
                if batch is None and self.module.batched:
                    batch = self.sched.straggler(node)
                if batch is not None:
                    self.sched.assign(node, batch)
                    self.send(node, batch)
                    progress = True

    def new_batch(self, node: int) -> Batch | None:
        if self.exhausted or not self.sched.may_dispatch(self.next_seq, self.next_yield):
            return None
        size = self.sched.batch_size(node)
        if self.total is not None:
            # Guided self-scheduling: near the end, smaller batches let every
            # node finish at about the same time.
            remaining = self.total - self.next_index
            share = -(-remaining // (2 * len(self.nodes)))
            size = min(size, max(share, size // 16, 1))
        chunk = list(itertools.islice(self.items, size))
        if len(chunk) < size:
            self.exhausted = True
        if not chunk:
            return None
        start = self.next_index
        payload = _encode(chunk, start) if self.module.batched else chunk[0]
        batch = Batch(self.next_seq, start, len(chunk), payload)
        self.next_seq += 1
        self.next_index += len(chunk)
        return batch

    def send(self, node: int, batch: Batch) -> None:
        if self.module.batched:
            message: Any = ("batch", {"seq": batch.seq, "start": batch.start, "items": batch.payload})
        else:
            message = (batch.seq, batch.payload)
        try:
            self.nodes[node].channel.send(message)
        except OSError:
            # The channel closed under us.  Its endmarker is queued behind the
            # results it did send, so handling it there names the right item.
            self.nodes[node].broken_since = time.monotonic()

    # -- messages from workers ----------------------------------------------------

    def on_hello(self, node: int, fields: dict) -> None:
        spec = str(self.nodes[node].gateway)
        check_hello(spec, fields, self.module)
        setup = {
            "name": self.module.name,
            "source": self.module.source,
            "filename": self.module.filename,
            "options": self.settings.options,
            "emit": self.settings.emit.value,
        }
        self.nodes[node].channel.send(("setup", setup))

    def on_ready(self, node: int, fields: dict) -> None:
        self.nodes[node].ready = True

    def on_done(self, node: int, fields: dict) -> None:
        first = self.sched.complete(node, fields["seq"], fields["seconds"])
        if first is not None and fields["seq"] >= self.first_seq:
            self.done[fields["seq"]] = (first.count, fields["data"])
            self.counts[self.nodes[node].gateway.spec.id] += first.count

    def on_failed(self, node: int, fields: dict) -> None:
        seq = fields.get("seq")
        if seq is not None:
            self.sched.complete(node, seq, 0.0)
            if seq < self.first_seq:
                return  # a batch of an abandoned run
        raise RemoteTaskError(
            str(self.nodes[node].gateway),
            fields["index"],
            fields["type"],
            fields["message"],
            fields["traceback"],
        )

    def on_closed(self, node: int) -> None:
        self.nodes[node].closed = True
        channel = self.nodes[node].channel
        try:
            channel.waitclose(0)
        except execnet.RemoteError as exc:
            held = self.sched.holds(node)
            if not self.module.batched and held:
                # A seed-style module handles items in order: the oldest one failed.
                raise RemoteTaskError(
                    str(self.nodes[node].gateway), held[0].start, "RemoteError",
                    _last_line(exc.formatted), exc.formatted,
                ) from None
            self.lost(node, f"worker crashed: {_last_line(exc.formatted)}")
        except (OSError, EOFError, execnet.TimeoutError):
            pass
        self.lost(node, "worker process exited or connection dropped")

    def lost(self, node: int, why: str) -> None:
        held = self.sched.holds(node)
        if not held and (self.exhausted or not self.module.batched) and self.nodes[node].ready:
            return  # it had finished its share; the others carry on
        raise GatewayLost(
            str(self.nodes[node].gateway),
            f"{why} while holding items starting at {[b.start for b in held]}",
            tuple(b.start for b in held),
        )

    def check_timeouts(self) -> None:
        if all(node.closed for node in self.nodes):
            raise GatewayLost(", ".join(str(n.gateway) for n in self.nodes), "no gateway left")
        now = time.monotonic()
        for index, node in enumerate(self.nodes):
            if not node.ready and now - self.started > self.settings.start_timeout:
                raise GatewayStartError(
                    str(node.gateway),
                    f"worker not ready within {self.settings.start_timeout:g} s",
                )
            if node.broken_since is not None and now - node.broken_since > 5 * TICK:
                self.lost(index, "connection closed")
            since = self.sched.running_since(index)
            timeout = self.settings.timeout
            if timeout is not None and since is not None and now - since > timeout:
                raise WorkerTimeout(str(node.gateway), self.sched.holds(index)[0].start, timeout)

    def close(self) -> None:
        """Close every channel: workers stop after the item they are on."""
        for node in self.nodes:
            try:
                node.channel.close()
            except OSError:  # the gateway is already gone
                pass


def _encode(chunk: list[Any], start: int) -> str:
    try:
        return json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        for offset, item in enumerate(chunk):
            try:
                json.dumps(item)
            except (TypeError, ValueError) as exc:
                raise EncodeError(start + offset, str(exc)) from None
        raise


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


def run(
    gateways: Sequence[Gateway],
    module: RemoteModule,
    items: Iterable[Any],
    settings: RunOptions,
) -> Iterator[Any]:
    """Yield ``module``'s results for ``items`` in input order, a batch at a time.

    Each batch is a list of results, or with ``Emit.TEXT`` one string of lines.
    Raises :class:`RemoteTaskError` when the task fails on an item,
    :class:`GatewayLost` when a gateway dies, :class:`HandshakeError` for an
    incompatible worker, :class:`WorkerTimeout` when a batch exceeds
    ``settings.timeout`` and :class:`EncodeError` for an item that is not JSON data.
    """
    session = Session(gateways, module, settings)
    try:
        yield from session.run(items)
    finally:
        session.close()
