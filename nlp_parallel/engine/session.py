"""The run loop: feed batches to gateways, yield results in input order.

execnet callbacks only enqueue ``(node, message)``; one loop drains that queue,
dispatches each message through a table, keeps every node's window full and
yields results as soon as they are next in input order.  Every wait has a timeout.

The loop only carries decisions out.  The nodes (:mod:`.nodes`) own the channels,
the protocol (:mod:`.protocols`) reads and writes them, the feed (:mod:`.feed`)
makes the batches, the scheduler chooses which goes where, the recovery policy
(:mod:`.recovery`) decides what a failure costs and what is sent again, and the
reorder buffer (:mod:`.reorder`) puts results back in input order.
"""

from __future__ import annotations

import functools
import queue
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import execnet

from ..errors import ConfigError, GatewayLost, GatewayStartError, RemoteTaskError
from ..modules import RemoteModule
from ..scheduler import AutoSizer, Batch, FixedSizer, Scheduler, Sizer
from ..settings import ItemFailure, RunOptions, item_text
from .feed import Feed
from .nodes import Closed, Node, Restarted, RestartFailed, State
from .protocols import ShardProtocol, protocol_for
from .recovery import (
    Decision,
    Keep,
    RecoveryPolicy,
    Resend,
    Retire,
    Retry,
    Stop,
    record_loss,
    renumbered,
)
from .reorder import ReorderBuffer
from .sharding import ShardFeed, ShardSlice, ShardSource

if TYPE_CHECKING:
    from ..gateways import Gateway

#: Seconds between checks for timeouts and stragglers while no message arrives.
TICK = 0.25


class Session:
    """A task set up on every gateway of a pool, ready for any number of runs.

    Channels open and the task's ``setup`` runs once; each :meth:`run` then streams
    one input through them.  Batch sequence numbers keep growing across runs, so
    late results of an abandoned run are recognised and dropped.  With ``restart``
    (a function that kills a gateway and starts a new one from its spec, such as
    :meth:`GatewayPool.restart`) dead and hung workers are replaced.  ``record``
    makes what takes a failed item's place under ``on_error`` record (default:
    the :class:`ItemFailure`, or its JSON line in text mode).

    With ``shards`` (a batched module only), runs take :class:`ShardSlice` objects,
    which the workers read; ``sizes`` has them say where each item's lines end
    (a run with a ``limit`` needs it).  A shard's bad user data raises, in its
    turn, the :class:`ConfigError` ``shards.bad_data`` makes of it.
    """

    def __init__(
        self,
        gateways: Sequence[Gateway],
        module: RemoteModule,
        settings: RunOptions,
        restart: Callable[[Gateway], Gateway] | None = None,
        record: Callable[[ItemFailure], Any] | None = None,
        shards: ShardSource | None = None,
        sizes: bool = False,
    ) -> None:
        self.module = module
        self.settings = settings
        self.restart = restart
        self.record = record
        self.shards = shards
        self.wire = protocol_for(module, settings, shards, sizes)
        self.policy = RecoveryPolicy(settings, self.wire.unpack, restart is not None,
                                     stop_in_turn=shards is not None)
        # SimpleQueue waits in C: a signal raising in the loop's wait cannot leave a
        # lock of Python's threading code half released (see signals.py).
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.feed = (ShardFeed if shards is not None else Feed)(self.wire.pack)
        self.buffer = ReorderBuffer(settings.emit, settings.on_error, record)
        size = self.wire.batch_size(settings.batch_size)
        sizer: Callable[[], Sizer] = (
            AutoSizer if size is None else functools.partial(FixedSizer, size)
        )
        window = min([self.wire.window, *(gw.spec.window for gw in gateways
                                          if gw.spec.window is not None)])
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
        #: Shards run so far and their items: how many items a shard holds.
        self.shards_done = 0
        self.shard_items = 0
        self.opened = False

    @property
    def counts(self) -> dict[str, int]:
        """Items each gateway delivered first, over all runs, by gateway id."""
        return {node.gateway_id: node.delivered for node in self.nodes}

    @property
    def work(self) -> dict[str, tuple[float, float]]:
        """Seconds each gateway's workers spent on the batches they finished, wall
        and CPU, over all runs, by gateway id."""
        return {node.gateway_id: (node.busy, node.cpu) for node in self.nodes}

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

    def run(self, items: Iterable[Any], total: int | None = None,
            number: Callable[[str, int], str] | None = None,
            limit: int | None = None) -> Iterator[Any]:
        """Yield results for ``items`` in input order, a batch at a time.

        ``total``, the number of items when ``items`` has no ``len`` (an estimate
        will do), lets the last batches shrink so that the workers finish together.
        ``number`` and ``limit`` are the :class:`ReorderBuffer`'s.  Raises the
        errors listed in :func:`run`.
        """
        self.open()
        self.feed.start(items, total)
        self.buffer = ReorderBuffer(self.settings.emit, self.settings.on_error, self.record,
                                    number, limit, self.credit)
        self.buffer.due = self.feed.next_index  # where the run's input starts
        if isinstance(self.wire, ShardProtocol):  # no shard need run past the limit
            buffer = self.buffer
            self.wire.most = lambda: (None if buffer.limit is None
                                      else buffer.limit - buffer.delivered)
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
            finished = self.buffer.full or (
                self.feed.exhausted and self.buffer.due == self.feed.next_index)
            if finished and not self.unchecked():
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
                    node.send(self.wire.message(batch, node.gateway.spec.local))
                    progress = True

    def new_batch(self, index: int) -> Batch | None:
        """The next batch of the input for node ``index``, sized for it, unless the
        input is all read or the reorder buffer is full."""
        waiting = len(self.buffer) + self.feed.retries
        if self.feed.exhausted or self.buffer.full or not self.sched.may_dispatch(waiting):
            return None
        if self.enough_in_flight():
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
        node.busy += seconds
        node.cpu += fields.get("cpu", 0.0)  # a worker of an earlier version says none
        if first is None or not self.feed.current(seq):
            return
        if isinstance(first.payload, ShardSlice):
            self.shards_done += 1
            self.shard_items += fields["count"]
            self.buffer.put(first.start, fields["count"], fields["data"],
                            span=first.end - first.start, failures=fields["failures"],
                            sizes=fields.get("sizes"), counts=fields["counts"],
                            tokens=fields["tokens"], by=index)
        else:
            self.buffer.put(first.start, first.count, fields["data"],
                            sizes=fields.get("sizes"), by=index)

    def enough_in_flight(self) -> bool:
        """Whether the shards under way will, by the items shards have held so
        far, most likely reach the run's limit: then no more are sent until they
        are counted, rather than read and run for nothing."""
        buffer = self.buffer
        if self.shards is None or buffer.limit is None or not self.shards_done:
            return False
        per_shard = self.shard_items / self.shards_done
        expected = buffer.delivered + buffer.waiting + per_shard * self.sched.in_flight()
        return expected >= buffer.limit

    def credit(self, index: int, items: int) -> None:
        """Node ``index`` did ``items`` items that were delivered."""
        self.nodes[index].delivered += items

    def on_failed(self, index: int, fields: dict) -> None:
        """The task raised: on an item, or while setting up (``seq`` None)."""
        spec = str(self.nodes[index])
        if fields.get("seq") is None:
            raise RemoteTaskError(spec, None, fields["type"], fields["message"],
                                  fields["traceback"])
        batch = self.sched.complete(index, fields["seq"], fields.get("seconds", 0.0))
        if batch is None or not self.feed.current(batch.seq):
            return  # another node delivered it, or a batch of an abandoned run
        if isinstance(batch.payload, ShardSlice):
            self.shard_failed(index, batch, fields)
            return
        items = self.wire.unpack(batch)
        offset = fields["index"] - batch.start
        failure = ItemFailure(fields["index"], fields["type"], fields["message"],
                              item_text(items[offset]), fields["traceback"])
        decisions = self.policy.task_raised(spec, batch, failure)
        if offset:  # the results before the failing item
            self.buffer.put(batch.start, offset, fields["data"], by=index)
        self.settle(batch, decisions, items)

    def shard_failed(self, index: int, batch: Batch, fields: dict) -> None:
        """A shard held bad user data, or the task raised on one of its items under
        ``on_error`` fail: the run stops there, once what comes before it is
        delivered, so that the error can name the item's place in the run."""
        if "unreadable" in fields:  # the worker cannot read the files here: send bytes
            assert isinstance(self.wire, ShardProtocol)
            self.wire.local_reads = False
            self.feed.retry(batch)
            return
        if "bad_data" in fields:
            assert self.shards is not None
            bad = fields["bad_data"]

            def bad_data(delivered: int) -> ConfigError:
                assert self.shards is not None
                return self.shards.bad_data(bad, self.buffer.file_counts.get(bad["fileid"], 0))

            self.buffer.stop(batch.start, bad_data)
            return
        offset = fields["index"] - batch.start
        if offset:  # the results before the failing item
            self.buffer.put(batch.start, offset, fields["data"], by=index)
        spec = str(self.nodes[index])

        def raised(delivered: int) -> RemoteTaskError:
            return RemoteTaskError(spec, delivered, fields["type"], fields["message"],
                                   fields["traceback"], item_text(fields["item"]))

        self.buffer.stop(fields["index"], raised)

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
        decisions = self.policy.task_raised(str(self.nodes[index]), running, failure)
        if self.feed.current(running.seq):
            self.settle(running, decisions)
        for batch in orphans:
            if batch is not running:
                self.requeue(batch)
        self.open_node(index)

    # -- recovery ---------------------------------------------------------------

    def node_down(self, index: int, why: str, error_type: str = "WorkerDied",
                  hung: bool = False) -> None:
        """A worker died, hung or cannot be reached: send its batches elsewhere and
        restart its gateway, or give up on it when its restarts are spent."""
        node = self.nodes[index]
        if node.state in (State.STARTING, State.DEAD):
            return
        node.why = why
        running, orphans = self.sched.release(index)
        blame = self.policy.blame(running, node.stuck if hung else None)
        if running is not None:
            record_loss(running, error_type, why, blame.hung_on)
        self.replace_node(index, blame.charged, hung)
        # After the node is dealt with: this may raise under on_error fail.
        for batch in orphans:
            self.requeue(batch)
        self.check_alive()

    def replace_node(self, index: int, charged: bool, hung: bool) -> None:
        """Restart a node's gateway in a thread, or retire the node."""
        node = self.nodes[index]
        node.drop_channel()
        fate = self.policy.replace(charged, node.restarts, node.failed_restarts)
        if isinstance(fate, Retire):
            node.retire(hung)
            return
        assert self.restart is not None
        node.restarts += fate.charged
        node.restart(self.restart, fate.pause)

    def restart_failed(self, index: int, why: str) -> None:
        """Try again, after a pause, while the gateway's restarts last."""
        node = self.nodes[index]
        node.failed_restarts += 1
        node.enter(State.BROKEN)
        self.node_down(index, why)

    def requeue(self, batch: Batch) -> None:
        """Send a batch again as the recovery policy decides: as it is, in pieces,
        or not at all, its one item given up on."""
        if not self.feed.current(batch.seq):
            return
        if isinstance(batch.payload, ShardSlice) and (batch.failures > 1 or batch.hung_at):
            expanded = self.expand(batch)
            if expanded is None:
                return
            batch = expanded
        self.settle(batch, (self.policy.resend(batch),))

    def expand(self, batch: Batch) -> Batch | None:
        """The items of a shard that killed or hung workers, read here, as a batch
        with the shard's history, for the recovery policy to narrow down to the
        item to blame; None for a shard without items."""
        piece = batch.payload
        assert isinstance(piece, ShardSlice)
        items = self.wire.unpack(batch)
        end = batch.start + len(items)
        if end < piece.end:  # the places after its items
            self.buffer.put(end, 0, None, span=piece.end - end)
        if not items:
            return None
        return self.feed.make(batch.start, items, failures=batch.failures,
                              suspect=batch.suspect, last_error=batch.last_error,
                              hung_at=batch.hung_at)

    def settle(self, batch: Batch, decisions: Iterable[Decision],
               items: list[Any] | None = None) -> None:
        """Carry out the policy's decisions on ``batch`` (whose ``items`` may be
        given, decoded already)."""
        for decision in decisions:
            match decision:
                case Keep(failure):
                    self.buffer.keep(failure)
                case Stop(error):
                    assert error.index is not None
                    self.buffer.stop(error.index, functools.partial(renumbered, error))
                case Retry():
                    self.feed.retry(batch)
                case Resend(pieces):
                    items = self.wire.unpack(batch) if items is None else items
                    for piece in pieces:
                        offset = piece.start - batch.start
                        self.requeue(self.feed.make(
                            piece.start, items[offset:offset + piece.count],
                            failures=piece.failures, suspect=piece.suspect,
                            last_error=piece.last_error))

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
                limit, why = self.policy.hang_limit(self.sched.expected_seconds(index))
                if since is not None and now - since > limit:
                    self.node_down(index, why, "Timeout", hung=True)
        self.check_alive()

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
