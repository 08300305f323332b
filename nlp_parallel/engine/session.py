"""The run loop: feed batches to gateways, yield results in input order.

execnet callbacks only enqueue ``(node, message)``; one loop drains that queue,
dispatches each message through a table, keeps every node's window full and
yields results as soon as they are next in input order.  Every wait has a timeout.

Failures are recovered, not just reported.  A worker that dies or hangs has its
batches sent elsewhere and its gateway restarted (up to ``max_restarts``); a batch
on which two workers died is split until the one item that kills workers is
isolated; an item the task raises on, or that kills workers, is handled by the
``on_error`` policy: stop, record an error in its place, or skip it.
"""

from __future__ import annotations

import enum
import functools
import heapq
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import execnet

from ..errors import GatewayLost, GatewayStartError, PoisonItem, RemoteTaskError
from ..gateways import kill
from ..modules import RemoteModule
from ..scheduler import AutoSizer, Batch, FixedSizer, Scheduler, Sizer
from ..settings import (
    HUNG_AFTER,
    HUNG_FACTOR,
    Emit,
    ItemFailure,
    OnError,
    RunOptions,
    item_text,
)
from .protocols import protocol_for

if TYPE_CHECKING:
    from ..gateways import Gateway

#: Seconds between checks for timeouts and stragglers while no message arrives.
TICK = 0.25
#: Pieces a batch known to hold a worker-killing item is split into, each round.
SPLIT_WAYS = 8


_CLOSED = object()


def _deliver(inbox: queue.SimpleQueue, key: tuple[int, int], message: object) -> None:
    inbox.put((key, message))


@dataclass(frozen=True)
class _Restarted:
    gateway: Gateway


@dataclass(frozen=True)
class _RestartFailed:
    why: str


class _State(enum.Enum):
    STARTING = "starting"  # its gateway is being (re)started in a thread
    OPENING = "opening"  # channel open, handshake and setup under way
    READY = "ready"
    BROKEN = "broken"  # a send failed; the channel's endmarker is on the way
    DEAD = "dead"  # given up on


@dataclass
class _Node:
    """One gateway's worker.  ``generation`` grows with every new channel, so
    messages from a replaced channel are recognised and dropped."""

    gateway: Gateway
    channel: execnet.Channel | None = None
    state: _State = _State.STARTING
    since: float = 0.0  # when it entered its state
    generation: int = 0
    was_ready: bool = False
    why: str = ""  # why it last went down
    failed_restarts: int = 0  # in a row
    stuck: tuple[int, int] | None = None  # (seq, index) of the item it said runs long


class Session:
    """A task set up on every gateway of a pool, ready for any number of runs.

    Channels open and the task's ``setup`` runs once; each :meth:`run` then streams
    one input through them.  Batch sequence numbers keep growing across runs, so
    late results of an abandoned run are recognised and dropped.  With ``restart``
    (a function that kills a gateway and starts a new one from its spec, such as
    :meth:`GatewayPool.restart`) dead and hung workers are replaced.
    """

    def __init__(
        self,
        gateways: Sequence[Gateway],
        module: RemoteModule,
        settings: RunOptions,
        restart: Callable[[Gateway], Gateway] | None = None,
        record: Callable[[ItemFailure], Any] | None = None,
    ) -> None:
        self.module = module
        self.settings = settings
        self.restart = restart
        self.record = record or self._default_record
        self.wire = protocol_for(module, settings)
        # SimpleQueue waits in C: a signal raising in the loop's wait cannot leave a
        # lock of Python's threading code half released (see signals.py).
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.next_seq = 0
        #: Items each gateway delivered first, over all runs, by gateway id.
        self.counts: dict[str, int] = {str(g.spec.id): 0 for g in gateways}
        #: Restarts of each gateway so far, by gateway id.
        self.restarts: dict[str, int] = {str(g.spec.id): 0 for g in gateways}
        self._reset(())
        size = self.wire.batch_size(settings.batch_size)
        sizer: Callable[[], Sizer] = (
            AutoSizer if size is None else functools.partial(FixedSizer, size)
        )
        window = self.wire.window
        self.sched: Scheduler[int] = Scheduler(
            range(len(gateways)), window, sizer, max_ahead=4 * window * len(gateways)
        )
        self.handlers: dict[str, Callable[[int, dict], None]] = {
            "hello": self.on_hello,
            "ready": self.on_ready,
            "done": self.on_done,
            "failed": self.on_failed,
            "stuck": self.on_stuck,
        }
        self.gateways = gateways
        self.nodes: list[_Node] = []
        self._threads: list[threading.Thread] = []

    def _reset(self, items: Iterable[Any], total: int | None = None) -> None:
        """Per-run state: the input, its position and the results awaiting delivery."""
        self.total = len(items) if isinstance(items, Sized) else total
        self.items = iter(items)
        self.exhausted = False
        self.next_index = 0
        self.first_seq = self.next_seq
        self.next_yield = 0  # input index of the next item to yield
        self.done: dict[int, tuple[int, Any]] = {}  # by start index: (count, data)
        self.retry: list[tuple[int, int, Batch]] = []  # heap of batches to send again
        #: Items of this run yielded so far (recorded and skipped ones included).
        self.delivered = 0
        #: Items of this run the task could not process (under record or skip) and
        #: whose place in the output has been yielded, in input order.
        self.failures: list[ItemFailure] = []
        self.failed: dict[int, ItemFailure] = {}  # by index, until yielded

    def open(self) -> None:
        """Start the worker loop (or the seed module) in a new channel per gateway."""
        if self.nodes:
            return
        for index, gw in enumerate(self.gateways):
            self.nodes.append(_Node(gw))
            self.open_node(index)

    def open_node(self, index: int) -> None:
        node = self.nodes[index]
        node.generation += 1
        node.stuck = None
        try:
            channel = node.gateway.gateway.remote_exec(self.wire.source)
        except (OSError, EOFError, ValueError) as exc:  # the gateway is gone
            node.state = _State.BROKEN
            self.node_down(index, f"cannot open a channel: {exc}")
            return
        node.channel = channel
        self.enter(node, _State.OPENING if self.wire.handshake else _State.READY)
        channel.setcallback(
            functools.partial(_deliver, self.inbox, (index, node.generation)), endmarker=_CLOSED
        )

    @staticmethod
    def enter(node: _Node, state: _State) -> None:
        node.state = state
        node.since = time.monotonic()
        node.was_ready = node.was_ready or state is _State.READY

    # -- the loop ---------------------------------------------------------------

    def run(self, items: Iterable[Any], total: int | None = None) -> Iterator[Any]:
        """Yield results for ``items`` in input order, a batch at a time.

        ``total``, the number of items when ``items`` has no ``len`` (an estimate
        will do), lets the last batches shrink so that the workers finish together.
        Raises the errors listed in :func:`run`.
        """
        self.open()
        self._reset(items, total)
        try:
            yield from self._results()
        finally:
            # Anything still running belongs to this run only: never re-dispatch it.
            self.sched.forget_before(self.next_seq)
            self.retry = []

    def _results(self) -> Iterator[Any]:
        next_check = time.monotonic() + TICK
        while True:
            self.fill()
            yield from self.deliverable()
            if self.exhausted and self.next_yield == self.next_index and not self.unchecked():
                return
            try:
                key, message = self.inbox.get(timeout=TICK)
            except queue.Empty:
                pass
            else:
                self.dispatch(key, message)
            # Checked on a clock, not only when idle: one busy node must not hide
            # another that hangs.
            if time.monotonic() >= next_check:
                self.check_timeouts()
                next_check = time.monotonic() + TICK

    def unchecked(self) -> bool:
        """Whether a worker has yet to pass its first handshake and setup.

        A run waits for them (up to ``start_timeout``) even when the others did all
        the work, so that a gateway that cannot run the task is always reported.
        """
        return any(n.state is _State.OPENING and not n.was_ready for n in self.nodes)

    def dispatch(self, key: tuple[int, int], message: Any) -> None:
        index, generation = key
        if generation != self.nodes[index].generation:
            return  # from a channel that has been replaced
        if isinstance(message, _Restarted):
            self.nodes[index].gateway = message.gateway
            self.open_node(index)
        elif isinstance(message, _RestartFailed):
            self.restart_failed(index, message.why)
        elif message is _CLOSED:
            self.on_closed(index)
        else:
            name, fields = self.wire.read(str(self.nodes[index].gateway), message)
            self.handlers[name](index, fields)

    def deliverable(self) -> Iterator[Any]:
        """Completed batches that are next in input order, as lists or text."""
        while self.next_yield in self.done:
            count, data = self.done.pop(self.next_yield)
            failure = self.failed.pop(self.next_yield, None)
            if failure is not None:
                self.failures.append(failure)
            self.next_yield += count
            self.delivered += count
            if not data:
                continue  # a skipped item
            if isinstance(data, str) and self.settings.emit is Emit.RESULTS:
                yield json.loads(data)
            else:
                yield data

    def fill(self) -> None:
        """Give every ready node with room in its window a batch, oldest work first."""
        progress = True
        while progress:
            progress = False
            for node in self.sched.idle_nodes():
                if self.nodes[node].state is not _State.READY:
                    continue
                batch = heapq.heappop(self.retry)[2] if self.retry else self.new_batch(node)
                if batch is None and self.wire.duplicates:
                    batch = self.sched.straggler(node)
                if batch is not None:
                    self.sched.assign(node, batch)
                    self.send(node, batch)
                    progress = True

    def new_batch(self, node: int) -> Batch | None:
        if self.exhausted or not self.sched.may_dispatch(len(self.done) + len(self.retry)):
            return None
        remaining = None if self.total is None else self.total - self.next_index
        alive = sum(n.state is not _State.DEAD for n in self.nodes)
        size = self.sched.batch_size(node, remaining, alive)
        chunk = list(itertools.islice(self.items, size))
        if len(chunk) < size:
            self.exhausted = True
        if not chunk:
            return None
        batch = self.make_batch(self.next_index, chunk)
        self.next_index += len(chunk)
        return batch

    def make_batch(self, start: int, chunk: list[Any], **state: Any) -> Batch:
        batch = Batch(self.next_seq, start, len(chunk), self.wire.pack(chunk, start), **state)
        self.next_seq += 1
        return batch

    def send(self, index: int, batch: Batch) -> None:
        node = self.nodes[index]
        try:
            assert node.channel is not None
            node.channel.send(self.wire.message(batch))
        except OSError:
            # The channel closed under us.  Its endmarker is queued behind the
            # results it did send, so handling it there names the right item.
            self.enter(node, _State.BROKEN)

    # -- messages from workers ----------------------------------------------------

    def on_hello(self, index: int, fields: dict) -> None:
        node = self.nodes[index]
        setup = self.wire.setup(str(node.gateway), fields)
        assert node.channel is not None
        node.channel.send(setup)

    def on_ready(self, index: int, fields: dict) -> None:
        self.enter(self.nodes[index], _State.READY)
        self.nodes[index].failed_restarts = 0

    def on_done(self, index: int, fields: dict) -> None:
        seq, seconds = fields["seq"], fields["seconds"]
        try:
            first = self.sched.complete(index, seq, seconds)
        except (KeyError, TypeError):  # a seq never sent, or not even a number
            raise self.wire.stray(str(self.nodes[index].gateway), fields) from None
        if first is not None and seq >= self.first_seq:
            self.done[first.start] = (first.count, fields["data"])
            self.counts[self.nodes[index].gateway.spec.id] += first.count

    def on_failed(self, index: int, fields: dict) -> None:
        """The task raised: on an item, or while setting up (``seq`` None)."""
        spec = str(self.nodes[index].gateway)
        if fields.get("seq") is None:
            raise RemoteTaskError(spec, None, fields["type"], fields["message"],
                                  fields["traceback"])
        batch = self.sched.complete(index, fields["seq"], fields.get("seconds", 0.0))
        if batch is None or batch.seq < self.first_seq:
            return  # another node delivered it, or a batch of an abandoned run
        items = self.wire.unpack(batch)
        offset = fields["index"] - batch.start
        failure = ItemFailure(fields["index"], fields["type"], fields["message"],
                              item_text(items[offset]), fields["traceback"])
        if self.settings.on_error is OnError.FAIL:
            raise RemoteTaskError(spec, failure.index, failure.error_type, failure.message,
                                  failure.traceback, failure.item)
        if offset:
            self.done[batch.start] = (offset, fields["data"])
        self.keep(failure)
        rest = items[offset + 1:]
        if rest:
            self.requeue(self.make_batch(failure.index + 1, rest, failures=batch.failures,
                                         suspect=batch.suspect))

    def on_stuck(self, index: int, fields: dict) -> None:
        """A worker has been on one item for a while: remember which, in case it hangs."""
        self.nodes[index].stuck = (fields["seq"], fields["index"])

    def on_closed(self, index: int) -> None:
        node = self.nodes[index]
        assert node.channel is not None
        try:
            node.channel.waitclose(0)
        except execnet.RemoteError as exc:
            if self.wire.task_errors_close and self.sched.holds(index):
                self.task_closed(index, exc)
                return
            self.node_down(index, f"worker crashed: {_last_line(exc.formatted)}")
            return
        except (OSError, EOFError, execnet.TimeoutError):
            pass
        self.node_down(index, "worker process exited or connection dropped")

    def task_closed(self, index: int, exc: execnet.RemoteError) -> None:
        """The task raised and ended its channel (a seed-style module's loop); the
        gateway lives on and gets a new channel."""
        running, orphans = self.sched.release(index)
        assert running is not None
        failure = ItemFailure(running.start, "RemoteError", _last_line(exc.formatted),
                              item_text(self.wire.unpack(running)[0]), exc.formatted)
        if self.settings.on_error is OnError.FAIL:
            raise RemoteTaskError(str(self.nodes[index].gateway), failure.index,
                                  failure.error_type, failure.message, failure.traceback,
                                  failure.item)
        if running.seq >= self.first_seq:
            self.keep(failure)
        for batch in orphans:
            if batch is not running:
                self.requeue(batch)
        self.open_node(index)

    # -- recovery ---------------------------------------------------------------

    def node_down(self, index: int, why: str, error_type: str = "WorkerDied",
                  hung: bool = False) -> None:
        """A worker died, hung or cannot be reached: send its batches elsewhere and
        restart its gateway, or give up on it when its restarts are spent.

        The batch it was running is blamed; a death on a batch that already has
        one to its name is not charged to the gateway.
        """
        node = self.nodes[index]
        if node.state in (_State.STARTING, _State.DEAD):
            return
        node.why = why
        running, orphans = self.sched.release(index)
        charge = True
        if running is not None:
            charge = not (running.failures or running.suspect)
            running.failures += 1
            running.last_error = (error_type, why)
            if hung and node.stuck is not None and node.stuck[0] == running.seq \
                    and running.start <= node.stuck[1] < running.start + running.count:
                running.hung_at += (node.stuck[1],)
        self.replace_node(index, charge, hung)
        # After the node is dealt with: this may raise under on_error fail.
        for batch in orphans:
            self.requeue(batch)
        self.check_alive()

    def replace_node(self, index: int, charge: bool, hung: bool) -> None:
        """Restart a node's gateway in a thread, or retire the node."""
        node = self.nodes[index]
        node.generation += 1  # whatever the old channel still says is stale
        node.channel = None
        gw_id = node.gateway.spec.id
        if self.restart is None or (charge and self.restarts[gw_id] >= self.settings.max_restarts):
            self.enter(node, _State.DEAD)
            if hung:
                kill(node.gateway.gateway)
            return
        self.restarts[gw_id] += charge
        self.enter(node, _State.STARTING)
        pause = min(0.5 * node.failed_restarts, 5.0)  # a host that refuses: back off
        thread = threading.Thread(
            target=self._restart, args=(index, node.gateway, node.generation, pause),
            daemon=True, name=f"restart {gw_id}",
        )
        self._threads.append(thread)
        thread.start()

    def restart_failed(self, index: int, why: str) -> None:
        """Try again, after a pause, while the gateway's restarts last."""
        node = self.nodes[index]
        node.failed_restarts += 1
        self.enter(node, _State.BROKEN)
        self.node_down(index, why)

    def _restart(self, index: int, gateway: Gateway, generation: int, pause: float) -> None:
        assert self.restart is not None
        time.sleep(pause)
        try:
            message: object = _Restarted(self.restart(gateway))
        except Exception as exc:  # reported to the loop, which decides
            message = _RestartFailed(str(exc))
        self.inbox.put(((index, generation), message))

    def requeue(self, batch: Batch) -> None:
        """Send a batch again; split one that killed two workers, and hand a single
        item that did to the ``on_error`` policy."""
        if batch.seq < self.first_seq:
            return
        if batch.hung_at and batch.count > 1:
            self.split_at_hung(batch)
            return
        if batch.failures < 2 and not (batch.suspect and batch.failures):
            heapq.heappush(self.retry, (batch.start, batch.seq, batch))
            return
        items = self.wire.unpack(batch)
        error_type, why = batch.last_error
        if batch.count == 1:
            failure = ItemFailure(batch.start, error_type, why, item_text(items[0]))
            if self.settings.on_error is OnError.FAIL:
                given = (f"on each of {batch.failures} workers given it" if batch.failures > 1
                         else "on a worker given it alone, and on those given the batches "
                              "that held it")
                raise PoisonItem(failure.index, failure.item, error_type, f"{why} ({given})")
            self.keep(failure)
            return
        step = -(-batch.count // SPLIT_WAYS)
        for offset in range(0, batch.count, step):
            piece = self.make_batch(batch.start + offset, items[offset:offset + step],
                                    suspect=True)
            heapq.heappush(self.retry, (piece.start, piece.seq, piece))

    def split_at_hung(self, batch: Batch) -> None:
        """Send a batch again around the item its worker hung on: that item alone,
        charged with the workers that hung on it (a second hang makes it a poison
        item), and the items before and after it as suspect pieces, in case the
        worker hung elsewhere after saying where it was."""
        items = self.wire.unpack(batch)
        at = batch.hung_at[-1]
        offset = at - batch.start
        alone = self.make_batch(at, items[offset:offset + 1],
                                failures=batch.hung_at.count(at), last_error=batch.last_error)
        self.requeue(alone)
        for start, chunk in ((batch.start, items[:offset]), (at + 1, items[offset + 1:])):
            if chunk:
                piece = self.make_batch(start, chunk, suspect=True)
                heapq.heappush(self.retry, (piece.start, piece.seq, piece))

    def keep(self, failure: ItemFailure) -> None:
        """Put a failed item's record (or nothing, under skip) in its place."""
        self.failed[failure.index] = failure
        data = self.record(failure) if self.settings.on_error is OnError.RECORD else None
        self.done[failure.index] = (1, data)

    def _default_record(self, failure: ItemFailure) -> Any:
        return failure.line() if self.settings.emit is Emit.TEXT else [failure]

    def check_alive(self) -> None:
        if all(node.state is _State.DEAD for node in self.nodes):
            reasons = "; ".join(f"{n.gateway}: {n.why}" for n in self.nodes)
            raise GatewayLost(
                tuple(str(n.gateway) for n in self.nodes),
                f"no gateway left ({reasons})",
                tuple(sorted(b.start for _, _, b in self.retry)),
            )

    def check_timeouts(self) -> None:
        now = time.monotonic()
        timeout = self.settings.timeout
        for index, node in enumerate(self.nodes):
            waited = now - node.since
            if node.state is _State.OPENING and waited > self.settings.start_timeout:
                why = f"worker not ready within {self.settings.start_timeout:g} s"
                if not node.was_ready:
                    raise GatewayStartError(str(node.gateway), why)
                self.node_down(index, why, "Timeout", hung=True)
            elif node.state is _State.BROKEN and waited > 5 * TICK:
                self.node_down(index, "connection closed")
            elif node.state is _State.STARTING and waited > self.settings.start_timeout + 10:
                # A restart stuck connecting (its pause included): give up on it;
                # the pool stops whatever it starts late.
                node.generation += 1
                node.why = f"restart did not finish within {self.settings.start_timeout:g} s"
                self.enter(node, _State.DEAD)
            elif node.state is _State.READY:
                since = self.sched.running_since(index)
                limit, why = self.batch_limit(index, timeout)
                if since is not None and now - since > limit:
                    self.node_down(index, why, "Timeout", hung=True)
        self.check_alive()

    def batch_limit(self, index: int, timeout: float | None) -> tuple[float, str]:
        """Seconds the batch a node runs may take, and what to say when it does not."""
        if timeout is not None:
            return timeout, f"no result within the {timeout:g} s batch timeout"
        expected = self.sched.expected_seconds(index) or 0.0
        floor = HUNG_AFTER if self.settings.hung_after is None else self.settings.hung_after
        limit = max(floor, HUNG_FACTOR * expected)
        return limit, (f"no result within {limit:.0f} s, {HUNG_FACTOR}x the batch's expected "
                       f"time (set a timeout to choose)")

    def close(self) -> None:
        """Close every channel: workers stop after the item they are on.  Waits for
        gateway restarts under way, so that the pool stops what they start."""
        for node in self.nodes:
            try:
                if node.channel is not None:
                    node.channel.close()
            except OSError:  # the gateway is already gone
                pass
        for thread in self._threads:
            thread.join(self.settings.start_timeout)
        self._threads = []


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


def run(
    gateways: Sequence[Gateway],
    module: RemoteModule,
    items: Iterable[Any],
    settings: RunOptions,
    restart: Callable[[Gateway], Gateway] | None = None,
) -> Iterator[Any]:
    """Yield ``module``'s results for ``items`` in input order, a batch at a time.

    Each batch is a list of results, or with ``Emit.TEXT`` one string of lines.
    Dead and hung workers are replaced through ``restart``; their batches go to
    the others meanwhile.  Raises :class:`RemoteTaskError` when the task raises on
    an item and :class:`PoisonItem` for an item that kills or hangs every worker
    given it (both under ``on_error`` fail), :class:`GatewayLost` when no gateway
    is left, :class:`HandshakeError` for an incompatible worker,
    :class:`GatewayStartError` when a worker does not start in time and
    :class:`EncodeError` for an item that is not JSON data.
    """
    session = Session(gateways, module, settings, restart)
    try:
        yield from session.run(items)
    finally:
        session.close()
