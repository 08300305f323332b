"""Tests for nlp_parallel.engine.recovery: every decision, on fake batches, without
starting a process (tests/test_recovery.py checks the same over real workers)."""

from __future__ import annotations

import itertools

import pytest

from nlp_parallel.engine.recovery import (
    SPLIT_WAYS,
    Blame,
    Keep,
    Piece,
    RecoveryPolicy,
    Resend,
    Restart,
    Retire,
    Retry,
    record_loss,
)
from nlp_parallel.errors import PoisonItem, RemoteTaskError
from nlp_parallel.scheduler import Batch
from nlp_parallel.settings import HUNG_AFTER, HUNG_FACTOR, ItemFailure, run_options

DIED = ("WorkerDied", "worker process exited or connection dropped")
HUNG = ("Timeout", "no result within the 2 s batch timeout")


def batch(start: int = 0, count: int = 1, seq: int = 0, **history) -> Batch:
    """A batch whose items are their own input indexes."""
    return Batch(seq, start, count, list(range(start, start + count)), **history)


def policy(on_error: str = "skip", can_restart: bool = True, **settings) -> RecoveryPolicy:
    return RecoveryPolicy(run_options(on_error=on_error, **settings), lambda b: b.payload,
                          can_restart)


def lose(p: RecoveryPolicy, b: Batch, error=DIED, stuck=None) -> Blame:
    """A worker lost while running ``b``, as the loop reports it."""
    blame = p.blame(b, stuck)
    record_loss(b, *error, blame.hung_on)
    return blame


# --- who pays for a lost worker -------------------------------------------------


def test_a_first_death_is_charged_to_the_gateway():
    assert policy().blame(None, None) == Blame(charged=True)  # it ran nothing of this run
    assert policy().blame(batch(count=10), None) == Blame(charged=True)


@pytest.mark.parametrize("history", [{"failures": 1}, {"suspect": True}])
def test_a_death_on_a_batch_known_to_kill_is_not_charged(history):
    assert policy().blame(batch(count=10, **history), None) == Blame(charged=False)


def test_a_hung_worker_names_the_item_it_was_on():
    running = batch(start=100, count=10, seq=7)
    assert policy().blame(running, stuck=(7, 104)) == Blame(charged=True, hung_on=104)


@pytest.mark.parametrize("stuck", [(6, 104), (7, 99), (7, 110)])
def test_a_report_of_another_batch_or_item_names_nothing(stuck):
    """Said of an earlier batch, or of an item outside this one: not believed."""
    assert policy().blame(batch(start=100, count=10, seq=7), stuck) == Blame(charged=True)


def test_the_loss_goes_into_the_history_the_batch_carries():
    b = batch(start=100, count=10, seq=7)
    record_loss(b, *HUNG, hung_on=104)
    record_loss(b, *DIED, hung_on=None)
    assert (b.failures, b.last_error, b.hung_at) == (2, DIED, (104,))


# --- restart or retire the gateway ----------------------------------------------


def test_a_gateway_is_restarted_until_its_restarts_are_spent():
    p = policy(max_restarts=2)
    assert p.replace(charged=True, restarts=0, failed_restarts=0) == Restart(True, 0.0)
    assert p.replace(charged=True, restarts=1, failed_restarts=0) == Restart(True, 0.0)
    assert p.replace(charged=True, restarts=2, failed_restarts=0) == Retire()


def test_an_uncharged_restart_is_allowed_past_the_limit():
    """Isolating a worker-killing item costs restarts by design, even at the limit."""
    assert policy(max_restarts=0).replace(False, 0, 0) == Restart(False, 0.0)


def test_without_a_restart_function_every_gateway_is_retired():
    assert policy(can_restart=False).replace(False, 0, 0) == Retire()


@pytest.mark.parametrize("failed, pause", [(0, 0.0), (1, 0.5), (4, 2.0), (10, 5.0), (50, 5.0)])
def test_a_host_that_refuses_restarts_is_given_growing_pauses(failed, pause):
    assert policy().replace(True, 0, failed_restarts=failed) == Restart(True, pause)


# --- work a lost worker held ----------------------------------------------------


def test_a_batch_is_retried_after_its_first_death():
    b = batch(count=40)
    lose(policy(), b)
    assert policy().resend(b) == Retry()
    assert policy().resend(batch(count=40)) == Retry()  # an orphan that did not fail


def test_a_batch_that_killed_two_workers_is_split_in_eight():
    b = batch(start=1000, count=100)
    lose(policy(), b)
    lose(policy(), b)
    decision = policy().resend(b)
    assert decision == Resend(tuple(Piece(1000 + 13 * i, 13, suspect=True) for i in range(7))
                              + (Piece(1091, 9, suspect=True),))
    assert len(decision.pieces) == SPLIT_WAYS


@pytest.mark.parametrize("count", [2, 7, 9, 20, 65])
def test_split_pieces_cover_the_batch_once(count):
    b = batch(start=5, count=count, failures=2)
    pieces = policy().resend(b).pieces
    covered = [i for p in pieces for i in range(p.start, p.start + p.count)]
    assert covered == list(range(5, 5 + count)) and len(pieces) <= SPLIT_WAYS
    assert all(p.suspect and p.failures == 0 for p in pieces)


def test_a_suspect_piece_is_split_again_after_one_death():
    b = batch(start=8, count=8, suspect=True)
    lose(policy(), b)
    assert policy().resend(b) == Resend(tuple(Piece(i, 1, suspect=True) for i in range(8, 16)))


@pytest.mark.parametrize("history", [{"failures": 2}, {"failures": 1, "suspect": True}])
@pytest.mark.parametrize("on_error", ["record", "skip"])
def test_a_single_item_that_kills_is_kept_as_a_failure(history, on_error):
    b = batch(start=37, count=1, last_error=DIED, **history)
    assert policy(on_error).resend(b) == Keep(ItemFailure(37, *DIED, "37"))


@pytest.mark.parametrize("history, given", [
    ({"failures": 2}, "on each of 2 workers given it"),
    ({"failures": 1, "suspect": True},
     "on a worker given it alone, and on those given the batches that held it"),
])
def test_a_single_item_that_kills_stops_the_run_under_fail(history, given):
    b = batch(start=37, count=1, last_error=DIED, **history)
    with pytest.raises(PoisonItem) as info:
        policy("fail").resend(b)
    assert (info.value.index, info.value.item, info.value.error_type) == (37, "37", "WorkerDied")
    assert str(info.value) == (f"WorkerDied on item 37: worker process exited or connection "
                               f"dropped ({given}); the item: 37")


def test_a_hung_batch_is_split_around_the_item_its_worker_named():
    b = batch(start=100, count=10, seq=7)
    lose(policy(), b, HUNG, stuck=(7, 104))
    assert policy().resend(b) == Resend((Piece(104, 1, failures=1, last_error=HUNG),
                                         Piece(100, 4, suspect=True),
                                         Piece(105, 5, suspect=True)))


@pytest.mark.parametrize("at, around", [(100, [Piece(101, 9, suspect=True)]),
                                        (109, [Piece(100, 9, suspect=True)])])
def test_a_hang_on_the_first_or_last_item_leaves_one_piece_around_it(at, around):
    b = batch(start=100, count=10, failures=1, last_error=HUNG, hung_at=(at,))
    assert policy().resend(b) == Resend((Piece(at, 1, failures=1, last_error=HUNG), *around))


def test_the_item_named_last_is_the_one_isolated_and_charged_per_naming():
    """Two workers hung on a batch, naming 104 and 102: 102 alone, charged once."""
    b = batch(start=100, count=10, failures=2, last_error=HUNG, hung_at=(104, 102))
    assert policy().resend(b).pieces[0] == Piece(102, 1, failures=1, last_error=HUNG)
    b.hung_at = (102, 102)
    assert policy().resend(b).pieces[0] == Piece(102, 1, failures=2, last_error=HUNG)


def test_a_single_item_batch_that_hung_once_is_retried_not_split():
    b = batch(start=3, count=1, seq=2)
    lose(policy(), b, HUNG, stuck=(2, 3))
    assert b.hung_at == (3,) and policy().resend(b) == Retry()


# --- the whole isolation, as the loop drives it ---------------------------------


def isolate(p: RecoveryPolicy, b: Batch, poison: int, error=DIED, names_it=False):
    """Drive the policy as the loop does, with workers lost on item ``poison`` (a
    hung one saying so with ``names_it``) and fine on every other batch.

    Returns what was kept, the restarts charged and the workers lost.
    """
    seqs = itertools.count(b.seq + 1)
    queue, kept, charged, lost = [b], [], 0, 0

    def settle(b: Batch, decision) -> None:
        if isinstance(decision, Keep):
            kept.append(decision.failure)
        elif isinstance(decision, Retry):
            queue.append(b)
        else:
            for piece in decision.pieces:
                offset = piece.start - b.start
                piece_batch = Batch(next(seqs), piece.start, piece.count,
                                   b.payload[offset:offset + piece.count], piece.failures,
                                   piece.suspect, piece.last_error)
                settle(piece_batch, p.resend(piece_batch))

    while queue:
        b = queue.pop(0)
        if not b.start <= poison < b.start + b.count:
            continue  # delivered
        lost += 1
        blame = lose(p, b, error, stuck=(b.seq, poison) if names_it else None)
        charged += blame.charged
        settle(b, p.resend(b))
    return kept, charged, lost


def test_a_killing_item_among_64_is_isolated_for_one_charged_restart():
    kept, charged, lost = isolate(policy(), batch(count=64), poison=37)
    assert kept == [ItemFailure(37, *DIED, "37")]
    assert charged == 1 and lost == 4  # twice the batch, its piece of 8, the item


def test_a_hanging_item_its_worker_names_is_isolated_in_two_losses():
    kept, charged, lost = isolate(policy(), batch(count=64), poison=37, error=HUNG,
                                  names_it=True)
    assert kept == [ItemFailure(37, *HUNG, "37")]
    assert charged == 1 and lost == 2


def test_isolation_under_fail_stops_with_the_item():
    with pytest.raises(PoisonItem, match=r"^Timeout on item 37: no result within the 2 s batch "
                                         r"timeout \(on each of 2 workers given it\)"):
        isolate(policy("fail"), batch(count=64), poison=37, error=HUNG, names_it=True)


# --- an item the task raised on -------------------------------------------------


def raised(index: int) -> ItemFailure:
    return ItemFailure(index, "ValueError", f"cannot handle item {index}", str(index), "Trace")


def test_a_task_error_stops_the_run_under_fail():
    with pytest.raises(RemoteTaskError) as info:
        policy("fail").task_raised("gw0 (popen)", batch(start=1200, count=50), raised(1234))
    assert (info.value.index, info.value.item, info.value.remote_traceback) == (1234, "1234",
                                                                                  "Trace")
    assert "; the item: 1234" in str(info.value)


@pytest.mark.parametrize("on_error", ["record", "skip"])
def test_a_task_error_keeps_the_failure_and_resends_the_rest(on_error):
    b = batch(start=1200, count=50, failures=1, suspect=True)
    assert policy(on_error).task_raised("gw0", b, raised(1234)) == [
        Keep(raised(1234)), Resend((Piece(1235, 15, failures=1, suspect=True),))]


def test_a_task_error_on_the_last_item_leaves_nothing_to_resend():
    assert policy().task_raised("gw0", batch(start=10, count=5), raised(14)) == [Keep(raised(14))]


# --- when a batch is hung -------------------------------------------------------


def test_a_batch_timeout_is_the_limit():
    assert policy(timeout=1.5).hang_limit(expected=100.0) == (
        1.5, "no result within the 1.5 s batch timeout")


@pytest.mark.parametrize("expected, limit", [(None, HUNG_AFTER), (1.0, HUNG_AFTER),
                                             (10.0, 10.0 * HUNG_FACTOR)])
def test_without_a_timeout_a_batch_may_take_its_expected_time_many_times(expected, limit):
    assert policy().hang_limit(expected) == (
        limit, f"no result within {limit:.0f} s, {HUNG_FACTOR}x the batch's expected time "
               f"(set a timeout to choose)")


def test_the_floor_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NLP_PARALLEL_HUNG_AFTER", "2")
    assert policy().hang_limit(None)[0] == 2.0
    assert policy().hang_limit(0.5)[0] == 0.5 * HUNG_FACTOR
