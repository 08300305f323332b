"""One gateway's worker, from its channel's opening to its retirement.

A :class:`Node` owns a gateway's channel: it opens it, sends on it, closes it and
restarts the gateway behind it.  What the channel says, and what a restart
brings, is only put on the run's inbox as ``((node index, generation),
message)``: execnet's callbacks and the restart threads never do work or raise,
and one loop drains the inbox (see :mod:`.session`).
"""

from __future__ import annotations

import enum
import functools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import execnet

from ..gateways import kill

if TYPE_CHECKING:
    from ..gateways import Gateway

@dataclass(frozen=True)
class Closed:
    """A node's channel closed: the last message its callback gets."""


CLOSED = Closed()


@dataclass(frozen=True)
class Restarted:
    """A node's gateway was restarted: this is the new one."""

    gateway: Gateway


@dataclass(frozen=True)
class RestartFailed:
    """A node's gateway could not be restarted, for this reason."""

    why: str


class State(enum.Enum):
    STARTING = "starting"  # its gateway is being (re)started in a thread
    OPENING = "opening"  # channel open, handshake and setup under way
    READY = "ready"
    BROKEN = "broken"  # a send failed; the channel's endmarker is on the way
    DEAD = "dead"  # given up on


def _deliver(inbox: queue.SimpleQueue, key: tuple[int, int], message: object) -> None:
    inbox.put((key, message))


class Node:
    """One gateway's worker.  ``generation`` grows with every new channel, so
    messages from a replaced channel are recognised and dropped."""

    def __init__(self, index: int, gateway: Gateway, inbox: queue.SimpleQueue) -> None:
        self.index = index
        self.gateway = gateway
        self.inbox = inbox
        self.channel: execnet.Channel | None = None
        self.state = State.STARTING
        self.since = 0.0  # when it entered its state
        self.generation = 0
        self.was_ready = False
        self.why = ""  # why it last went down
        self.restarts = 0  # charged to its gateway
        self.failed_restarts = 0  # in a row
        self.stuck: tuple[int, int] | None = None  # (seq, index) of the item it said runs long
        #: Items it delivered first, over all runs.
        self.delivered = 0
        #: Seconds its workers spent on the batches they finished, wall and CPU,
        #: over all runs (a batch run twice counts twice: both were work done).
        self.busy = 0.0
        self.cpu = 0.0
        self._threads: list[threading.Thread] = []

    def __str__(self) -> str:
        return str(self.gateway)

    @property
    def gateway_id(self) -> str:
        return str(self.gateway.spec.id)

    def current(self, generation: int) -> bool:
        """Whether a message of ``generation`` comes from this node's channel now."""
        return generation == self.generation

    def open(self, source: str, handshake: bool) -> str | None:
        """Run ``source`` in a new channel; with ``handshake`` the node is ready only
        once the worker has been set up.  Returns why no channel opened, if none did."""
        self.generation += 1
        self.stuck = None
        try:
            channel = self.gateway.gateway.remote_exec(source)
        except (OSError, EOFError, ValueError) as exc:  # the gateway is gone
            self.state = State.BROKEN
            return str(exc)
        self.channel = channel
        self.enter(State.OPENING if handshake else State.READY)
        channel.setcallback(
            functools.partial(_deliver, self.inbox, (self.index, self.generation)),
            endmarker=CLOSED,
        )
        return None

    def enter(self, state: State) -> None:
        self.state = state
        self.since = time.monotonic()
        self.was_ready = self.was_ready or state is State.READY

    def ready(self) -> None:
        self.enter(State.READY)
        self.failed_restarts = 0

    def send(self, message: object) -> None:
        """Send on the channel; a channel that closed under us makes the node
        BROKEN (its endmarker is queued behind the results it did send, so handling
        it there names the right item)."""
        try:
            assert self.channel is not None
            self.channel.send(message)
        except OSError:
            self.enter(State.BROKEN)

    def crash(self) -> execnet.RemoteError | None:
        """Why the closed channel closed: the remote error, or None when the
        worker exited or the connection dropped."""
        assert self.channel is not None
        try:
            self.channel.waitclose(0)
        except execnet.RemoteError as exc:
            return exc
        except (OSError, EOFError, execnet.TimeoutError):
            pass
        return None

    def drop_channel(self) -> None:
        """Stop listening: whatever the old channel still says is stale."""
        self.generation += 1
        self.channel = None

    def retire(self, hung: bool) -> None:
        """Give up on the node; a hung worker's gateway is killed, as it cannot stop
        by itself."""
        self.enter(State.DEAD)
        if hung:
            kill(self.gateway.gateway)

    def give_up(self, why: str) -> None:
        """Give up on a restart that does not finish: the pool stops whatever it
        starts late."""
        self.generation += 1
        self.why = why
        self.enter(State.DEAD)

    def restart(self, restart: Callable[[Gateway], Gateway], pause: float) -> None:
        """Start a new gateway in a thread, after ``pause`` seconds; its outcome,
        :class:`Restarted` or :class:`RestartFailed`, comes through the inbox."""
        self.enter(State.STARTING)
        thread = threading.Thread(
            target=self._restart, args=(restart, self.gateway, self.generation, pause),
            daemon=True, name=f"restart {self.gateway.spec.id}",
        )
        self._threads.append(thread)
        thread.start()

    def _restart(self, restart: Callable[[Gateway], Gateway], gateway: Gateway,
                 generation: int, pause: float) -> None:
        time.sleep(pause)
        try:
            message: object = Restarted(restart(gateway))
        except Exception as exc:  # reported to the loop, which decides
            message = RestartFailed(str(exc))
        self.inbox.put(((self.index, generation), message))

    def close(self) -> None:
        """Close the channel: the worker stops after the item it is on."""
        try:
            if self.channel is not None:
                self.channel.close()
        except OSError:  # the gateway is already gone
            pass

    def join(self, timeout: float) -> None:
        """Wait for the restarts under way, so that the pool stops what they start."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
