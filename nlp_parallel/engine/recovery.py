"""What to do when work fails: pure decisions, no processes, no clock.

A worker that dies or hangs is replaced, and the batch it ran is sent again; a
batch on which two workers died is split until the item that kills workers is
isolated, and a batch whose worker said which item it hung on is split around that
item.  An item that kills or hangs every worker given it, or that the task raises
on, is handled by ``on_error``: the run stops (the policy raises the run's error),
or the item's failure takes its place (record) or leaves it out (skip).

The loop (:mod:`.session`) reports each failure and carries out the decision; a
batch carries its own history of failures (:class:`~nlp_parallel.scheduler.Batch`),
which is all the policy needs to know about it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ItemError, PoisonItem, RemoteTaskError
from ..scheduler import Batch
from ..settings import HUNG_AFTER, HUNG_FACTOR, ItemFailure, OnError, RunOptions, item_text

#: Pieces a batch known to hold a worker-killing item is split into, each round.
SPLIT_WAYS = 8
#: Longest pause before restarting a gateway whose restarts keep failing.
MAX_RESTART_PAUSE = 5.0


@dataclass(frozen=True)
class Blame:
    """Who pays for a lost worker: its gateway, with one of its restarts, unless the
    batch it ran is known to kill workers; ``hung_on`` is the input index of the item
    the worker said it was on when it hung (None: unknown, or it did not hang)."""

    charged: bool
    hung_on: int | None = None


@dataclass(frozen=True)
class Restart:
    """Start the gateway again after ``pause`` seconds, charged to it or not."""

    charged: bool
    pause: float


@dataclass(frozen=True)
class Retire:
    """Give up on the gateway."""


@dataclass(frozen=True)
class Piece:
    """Items ``start`` to ``start + count`` of a batch, to send as a batch of their
    own with this history."""

    start: int
    count: int
    failures: int = 0
    suspect: bool = False
    last_error: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Retry:
    """Send the batch again as it is, its history with it."""


@dataclass(frozen=True)
class Resend:
    """Send these pieces of the batch instead of it, oldest first, each decided
    in turn."""

    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Keep:
    """Go on without the item: its failure takes its place under ``on_error``
    record, nothing does under skip."""

    failure: ItemFailure


@dataclass(frozen=True)
class Stop:
    """End the run at the item ``error`` names, once everything before it is
    delivered: where items are not numbered until then (shards), ``error`` is
    raised again numbered by what was delivered (:func:`renumbered`)."""

    error: ItemError


Decision = Retry | Resend | Keep | Stop


def renumbered(error: ItemError, index: int) -> ItemError:
    """``error`` again, naming the item at input index ``index``."""
    if isinstance(error, PoisonItem):
        return PoisonItem(index, error.item or "", error.error_type, error.message)
    assert isinstance(error, RemoteTaskError)
    return RemoteTaskError(error.spec, index, error.error_type, error.message,
                           error.remote_traceback, error.item)


def record_loss(batch: Batch, error_type: str, why: str, hung_on: int | None) -> None:
    """Add a lost worker to the history ``batch`` carries.  The batch is changed in
    place, not copied: a node that runs a duplicate of it shares its history."""
    batch.failures += 1
    batch.last_error = (error_type, why)
    if hung_on is not None:
        batch.hung_at += (hung_on,)


class RecoveryPolicy:
    """The decisions of one session, from its settings.

    ``items_of`` gives a batch's items (a poison item is named by its text);
    ``can_restart`` says whether lost gateways can be replaced at all.  With
    ``stop_in_turn``, an item that fails the run under ``on_error`` fail is a
    :class:`Stop` decision rather than an error raised at once.
    """

    def __init__(self, settings: RunOptions, items_of: Callable[[Batch], Sequence[Any]],
                 can_restart: bool, stop_in_turn: bool = False) -> None:
        self.settings = settings
        self.items_of = items_of
        self.can_restart = can_restart
        self.stop_in_turn = stop_in_turn

    # -- a lost worker ------------------------------------------------------------

    def blame(self, running: Batch | None, stuck: tuple[int, int] | None) -> Blame:
        """A worker was lost while running ``running`` (None: nothing undelivered);
        ``stuck`` is the ``(seq, index)`` a hung worker last said it was on.

        A death on a batch that already has one to its name, or on a piece split
        off such a batch, is the batch's doing: isolating a worker-killing item
        costs a few restarts by design.
        """
        if running is None:
            return Blame(charged=True)
        charged = not (running.failures or running.suspect)
        if stuck is not None and stuck[0] == running.seq \
                and running.start <= stuck[1] < running.end:
            return Blame(charged, hung_on=stuck[1])
        return Blame(charged)

    def replace(self, charged: bool, restarts: int, failed_restarts: int) -> Restart | Retire:
        """Restart a lost worker's gateway, which has been charged ``restarts`` so
        far and failed to restart ``failed_restarts`` times in a row (a host that
        refuses: back off), or retire it once its restarts are spent."""
        if not self.can_restart or (charged and restarts >= self.settings.max_restarts):
            return Retire()
        return Restart(charged, min(0.5 * failed_restarts, MAX_RESTART_PAUSE))

    # -- work to send again -------------------------------------------------------

    def resend(self, batch: Batch) -> Decision:
        """What to do with a batch a lost worker held.

        Raises :class:`PoisonItem` under ``on_error`` fail for a single item that
        killed or hung two workers (or one, as a piece of a batch that did).
        """
        if batch.hung_at and batch.count > 1:
            return self.split_at_hung(batch)
        if batch.failures < 2 and not (batch.suspect and batch.failures):
            return Retry()
        if batch.count == 1:
            try:
                return Keep(self.poison(batch))
            except PoisonItem as exc:
                if self.stop_in_turn:
                    return Stop(exc)
                raise
        step = -(-batch.count // SPLIT_WAYS)
        end = batch.start + batch.count
        return Resend(tuple(Piece(start, min(step, end - start), suspect=True)
                            for start in range(batch.start, end, step)))

    def split_at_hung(self, batch: Batch) -> Resend:
        """Send a batch again around the item its worker hung on: that item alone,
        charged with the workers that hung on it (a second hang makes it a poison
        item), and the items before and after it as suspect pieces, in case the
        worker hung elsewhere after saying where it was."""
        at = batch.hung_at[-1]
        end = batch.start + batch.count
        alone = Piece(at, 1, failures=batch.hung_at.count(at), last_error=batch.last_error)
        around = (Piece(start, stop - start, suspect=True)
                  for start, stop in ((batch.start, at), (at + 1, end)) if stop > start)
        return Resend((alone, *around))

    def poison(self, batch: Batch) -> ItemFailure:
        """The failure of a single item that killed or hung the workers given it.

        Raises :class:`PoisonItem` under ``on_error`` fail.
        """
        error_type, why = batch.last_error
        failure = ItemFailure(batch.start, error_type, why, item_text(self.items_of(batch)[0]))
        if self.settings.on_error is OnError.FAIL:
            given = (f"on each of {batch.failures} workers given it" if batch.failures > 1
                     else "on a worker given it alone, and on those given the batches "
                          "that held it")
            raise PoisonItem(failure.index, failure.item, error_type, f"{why} ({given})")
        return failure

    # -- an item the task raised on -----------------------------------------------

    def task_raised(self, spec: str, batch: Batch, failure: ItemFailure) -> list[Decision]:
        """The task raised on one item of ``batch`` (on gateway ``spec``): keep its
        failure and send the items after it again, with the batch's history.

        Raises :class:`RemoteTaskError` under ``on_error`` fail.
        """
        if self.settings.on_error is OnError.FAIL:
            error = RemoteTaskError(spec, failure.index, failure.error_type, failure.message,
                                    failure.traceback, failure.item)
            if self.stop_in_turn:
                return [Stop(error)]
            raise error
        decisions: list[Decision] = [Keep(failure)]
        rest = batch.start + batch.count - failure.index - 1
        if rest:
            decisions.append(Resend((Piece(failure.index + 1, rest, failures=batch.failures,
                                           suspect=batch.suspect),)))
        return decisions

    # -- a hung worker ------------------------------------------------------------

    def hang_limit(self, expected: float | None) -> tuple[float, str]:
        """Seconds a batch may run, and what to say when it does not finish in
        them: the ``timeout``, else :data:`HUNG_FACTOR` times the batch's
        ``expected`` seconds (from its gateway's measured speed) but never less
        than :data:`HUNG_AFTER`."""
        timeout = self.settings.timeout
        if timeout is not None:
            return timeout, f"no result within the {timeout:g} s batch timeout"
        floor = HUNG_AFTER if self.settings.hung_after is None else self.settings.hung_after
        limit = max(floor, HUNG_FACTOR * (expected or 0.0))
        return limit, (f"no result within {limit:.0f} s, {HUNG_FACTOR}x the batch's expected "
                       f"time (set a timeout to choose)")
