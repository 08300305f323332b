"""The run loop: feed batches to gateways, yield results in input order.

execnet callbacks only enqueue ``(node, message)``; one loop drains that queue,
dispatches each message through a table, keeps every node's window full and
yields results as soon as they are next in input order.  Every wait has a timeout.

Failures are recovered, not just reported.  A worker that dies or hangs has its
batches sent elsewhere and its gateway restarted (up to ``max_restarts``); a batch
on which two workers died is split until the one item that kills workers is
isolated; an item the task raises on, or that kills workers, is handled by the
``on_error`` policy: stop, record an error in its place, or skip it.

The nodes (:mod:`.nodes`) own the channels, the protocol (:mod:`.protocols`) reads
and writes them, the feed (:mod:`.feed`) makes the batches, the scheduler chooses
which goes where, and the reorder buffer (:mod:`.reorder`) puts results back in
input order.
"""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import execnet

from ..errors import GatewayLost, GatewayStartError, PoisonItem, RemoteTaskError
from ..modules import RemoteModule
from ..scheduler import AutoSizer, Batch, FixedSizer, Scheduler, Sizer
from ..settings import HUNG_AFTER, HUNG_FACTOR, ItemFailure, OnError, RunOptions, item_text
from .feed import Feed
from .nodes import Closed, Node, Restarted, RestartFailed, State
from .protocols import protocol_for
from .reorder import ReorderBuffer

if TYPE_CHECKING:
    from ..gateways import Gateway

#: Seconds between checks for timeouts and stragglers while no message arrives.
TICK = 0.25
#: Pieces a batch known to hold a worker-killing item is split into, each round.
SPLIT_WAYS = 8


class Session:
    """A task set up on every gateway of a pool, ready for any number of runs.

    Channels open and the task's ``setup`` runs once; each :meth:`run` then streams
    one input through them.  Batch sequence numbers keep growing across runs, so
    late results of an abandoned run are recognised and dropped.  With ``restart``
    (a function that kills a gateway and starts a new one from its spec, such as
    :meth:`GatewayPool.restart`) dead and hung workers are replaced.  ``record``
    makes what takes a failed item's place under ``on_error`` record (default:
    the :class:`ItemFailure`, or its JSON line in text mode).
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
        self.record = record
        self.wire = protocol_for(module, settings)
        # SimpleQueue waits in C: a signal raising in the loop's wait cannot leave a
        # lock of Python's threading code half released (see signals.py).
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.feed = Feed(self.wire.pack)
        self.buffer = ReorderBuffer(settings.emit, settings.on_error, record)
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
        self.nodes = [Node(index, gw, self.inbox) for index, gw in enumerate(gateways)]
        self.opened = False

    @property
    def counts(self) -> dict[str, int]:
        """Items each gateway delivered first, over all runs, by gateway id."""
        return {node.gateway_id: node.delivered for node in self.nodes}

    @property
    def restarts(self) -> dict[str, int]:
        """Restarts charged to each gateway so far, by gateway id."""
        return {node.gateway_id: node.restarts for node in self.nodes}

    @property
    def delivered(self) -> int:
        """Items of this run yielded so far (recorded and skipped ones included)."""
        return self.buffer.delivered

    @property
    def failures(self) -> list[ItemFailure]:
        """Items of this run the task could not process (under record or skip) and
        whose place in the output has been yielded, in input order."""
        return self.buffer.failures

    def open(self) -> None:
        """Start the worker loop (or the seed module) in a new channel per gateway."""
        if self.opened:
            return
        self.opened = True
        for index in range(len(self.nodes)):
            self.open_node(index)

    def open_node(self, index: int) -> None:
        why = self.nodes[index].open(self.wire.source, self.wire.handshake)
        if why is not None:
            self.node_down(index, f"cannot open a channel: {why}")

    # -- the loop ---------------------------------------------------------------

    def run(self, items: Iterable[Any], total: int | None = None) -> Iterator[Any]:
        """Yield results for ``items`` in input order, a batch at a time.

        ``total``, the number of items when ``items`` has no ``len`` (an estimate
        will do), lets the last batches shrink so that the workers finish together.
        Raises the errors listed in :func:`run`.
        """
        self.open()
        self.feed.start(items, total)
        self.buffer = ReorderBuffer(self.settings.emit, self.settings.on_error, self.record)
        try:
            yield from self._results()
        finally:
            # Anything still running belongs to this run only: never re-dispatch it.
            self.sched.forget_before(self.feed.next_seq)
            self.feed.end()

    def _results(self) -> Iterator[Any]:
        next_check = time.monotonic() + TICK
        while True:
            self.fill()
            yield from self.buffer.deliverable()
            if self.feed.exhausted and self.buffer.due == self.feed.next_index \
                    and not self.unchecked():
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
        return any(n.state is State.OPENING and not n.was_ready for n in self.nodes)

    def dispatch(self, key: tuple[int, int], message: Any) -> None:
        index, generation = key
        node = self.nodes[index]
        if not node.current(generation):
            return  # from a channel that has been replaced
        match message:
            case Restarted(gateway):
                node.gateway = gateway
                self.open_node(index)
            case RestartFailed(why):
                self.restart_failed(index, why)
            case Closed():
                self.on_closed(index)
            case _:
                name, fields = self.wire.read(str(node), message)
                self.handlers[name](index, fields)

    def fill(self) -> None:
        """Give every ready node with room in its window a batch, oldest work first."""
        progress = True
        while progress:
            progress = False
            for index in self.sched.idle_nodes():
                node = self.nodes[index]
                if node.state is not State.READY:
                    continue
                batch = self.feed.next_retry() or self.new_batch(index)
                if batch is None and self.wire.duplicates:
                    batch = self.sched.straggler(index)
                if batch is not None:
                    self.sched.assign(index, batch)
                    node.send(self.wire.message(batch))
                    progress = True

    def new_batch(self, index: int) -> Batch | None:
        """The next batch of the input for node ``index``, sized for it, unless the
        input is all read or the reorder buffer is full."""
        waiting = len(self.buffer) + self.feed.retries
        if self.feed.exhausted or not self.sched.may_dispatch(waiting):
            return None
        alive = sum(n.state is not State.DEAD for n in self.nodes)
        return self.feed.read(self.sched.batch_size(index, self.feed.remaining, alive))

    # -- messages from workers ----------------------------------------------------

    def on_hello(self, index: int, fields: dict) -> None:
        node = self.nodes[index]
        setup = self.wire.setup(str(node), fields)
        assert node.channel is not None
        node.channel.send(setup)

    def on_ready(self, index: int, fields: dict) -> None:
        self.nodes[index].ready()

    def on_done(self, index: int, fields: dict) -> None:
        node = self.nodes[index]
        seq, seconds = fields["seq"], fields["seconds"]
        try:
            first = self.sched.complete(index, seq, seconds)
        except (KeyError, TypeError):  # a seq never sent, or not even a number
            raise self.wire.stray(str(node), fields) from None
        if first is not None and self.feed.current(seq):
            self.buffer.put(first.start, first.count, fields["data"])
            node.delivered += first.count

    def on_failed(self, index: int, fields: dict) -> None:
        """The task raised: on an item, or while setting up (``seq`` None)."""
        spec = str(self.nodes[index])
        if fields.get("seq") is None:
            raise RemoteTaskError(spec, None, fields["type"], fields["message"],
                                  fields["traceback"])
        batch = self.sched.complete(index, fields["seq"], fields.get("seconds", 0.0))
        if batch is None or not self.feed.current(batch.seq):
            return  # another node delivered it, or a batch of an abandoned run
        items = self.wire.unpack(batch)
        offset = fields["index"] - batch.start
        failure = ItemFailure(fields["index"], fields["type"], fields["message"],
                              item_text(items[offset]), fields["traceback"])
        if self.settings.on_error is OnError.FAIL:
            raise RemoteTaskError(spec, failure.index, failure.error_type, failure.message,
                                  failure.traceback, failure.item)
        if offset:  # the results before the failing item
            self.buffer.put(batch.start, offset, fields["data"])
        self.buffer.keep(failure)
        rest = items[offset + 1:]
        if rest:
            self.requeue(self.feed.make(failure.index + 1, rest, failures=batch.failures,
                                        suspect=batch.suspect))

    def on_stuck(self, index: int, fields: dict) -> None:
        """A worker has been on one item for a while: remember which, in case it hangs."""
        self.nodes[index].stuck = (fields["seq"], fields["index"])

    def on_closed(self, index: int) -> None:
        error = self.nodes[index].crash()
        if error is None:
            self.node_down(index, "worker process exited or connection dropped")
        elif self.wire.task_errors_close and self.sched.holds(index):
            self.task_closed(index, error)
        else:
            self.node_down(index, f"worker crashed: {_last_line(error.formatted)}")

    def task_closed(self, index: int, exc: execnet.RemoteError) -> None:
        """The task raised and ended its channel (a seed-style module's loop); the
        gateway lives on and gets a new channel."""
        running, orphans = self.sched.release(index)
        assert running is not None
        failure = ItemFailure(running.start, "RemoteError", _last_line(exc.formatted),
                              item_text(self.wire.unpack(running)[0]), exc.formatted)
        if self.settings.on_error is OnError.FAIL:
            raise RemoteTaskError(str(self.nodes[index]), failure.index, failure.error_type,
                                  failure.message, failure.traceback, failure.item)
        if self.feed.current(running.seq):
            self.buffer.keep(failure)
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
        if node.state in (State.STARTING, State.DEAD):
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
        node.drop_channel()
        if self.restart is None or (charge and node.restarts >= self.settings.max_restarts):
            node.retire(hung)
            return
        node.restarts += charge
        pause = min(0.5 * node.failed_restarts, 5.0)  # a host that refuses: back off
        node.restart(self.restart, pause)

    def restart_failed(self, index: int, why: str) -> None:
        """Try again, after a pause, while the gateway's restarts last."""
        node = self.nodes[index]
        node.failed_restarts += 1
        node.enter(State.BROKEN)
        self.node_down(index, why)

    def requeue(self, batch: Batch) -> None:
        """Send a batch again; split one that killed two workers, and hand a single
        item that did to the ``on_error`` policy."""
        if not self.feed.current(batch.seq):
            return
        if batch.hung_at and batch.count > 1:
            self.split_at_hung(batch)
            return
        if batch.failures < 2 and not (batch.suspect and batch.failures):
            self.feed.retry(batch)
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
            self.buffer.keep(failure)
            return
        step = -(-batch.count // SPLIT_WAYS)
        for offset in range(0, batch.count, step):
            self.feed.retry(self.feed.make(batch.start + offset, items[offset:offset + step],
                                           suspect=True))

    def split_at_hung(self, batch: Batch) -> None:
        """Send a batch again around the item its worker hung on: that item alone,
        charged with the workers that hung on it (a second hang makes it a poison
        item), and the items before and after it as suspect pieces, in case the
        worker hung elsewhere after saying where it was."""
        items = self.wire.unpack(batch)
        at = batch.hung_at[-1]
        offset = at - batch.start
        alone = self.feed.make(at, items[offset:offset + 1],
                               failures=batch.hung_at.count(at), last_error=batch.last_error)
        self.requeue(alone)
        for start, chunk in ((batch.start, items[:offset]), (at + 1, items[offset + 1:])):
            if chunk:
                self.feed.retry(self.feed.make(start, chunk, suspect=True))

    def check_alive(self) -> None:
        if all(node.state is State.DEAD for node in self.nodes):
            reasons = "; ".join(f"{n}: {n.why}" for n in self.nodes)
            raise GatewayLost(
                tuple(str(n) for n in self.nodes),
                f"no gateway left ({reasons})",
                self.feed.retry_starts(),
            )

    def check_timeouts(self) -> None:
        now = time.monotonic()
        start_timeout = self.settings.start_timeout
        for index, node in enumerate(self.nodes):
            waited = now - node.since
            if node.state is State.OPENING and waited > start_timeout:
                why = f"worker not ready within {start_timeout:g} s"
                if not node.was_ready:
                    raise GatewayStartError(str(node), why)
                self.node_down(index, why, "Timeout", hung=True)
            elif node.state is State.BROKEN and waited > 5 * TICK:
                self.node_down(index, "connection closed")
            elif node.state is State.STARTING and waited > start_timeout + 10:
                # A restart stuck connecting (its pause included).
                node.give_up(f"restart did not finish within {start_timeout:g} s")
            elif node.state is State.READY:
                since = self.sched.running_since(index)
                limit, why = self.batch_limit(index)
                if since is not None and now - since > limit:
                    self.node_down(index, why, "Timeout", hung=True)
        self.check_alive()

    def batch_limit(self, index: int) -> tuple[float, str]:
        """Seconds the batch a node runs may take, and what to say when it does not."""
        timeout = self.settings.timeout
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
            node.close()
        for node in self.nodes:
            node.join(self.settings.start_timeout)


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
