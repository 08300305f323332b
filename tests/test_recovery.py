"""Recovery in the engine, over real popen gateways: dead, crashing and hung workers,
and items that raise, kill or hang, under each ``on_error`` policy."""

from __future__ import annotations

import os
import signal
import time

import pytest

import nlp_parallel
from nlp_parallel import GatewayLost, GatewayPool, ItemFailure, PoisonItem, RemoteTaskError
from nlp_parallel.engine import Session
from nlp_parallel.settings import Emit, run_options
from nlp_parallel.modules import RemoteModule
from remote_modules import faulty, pids, seed_faulty

from conftest import wait_gone, workers

ITEMS = range(3000)
CLEAN = [i + 1 for i in ITEMS]


def run_faulty(pool, on_error, **options):
    return nlp_parallel.map(faulty, ITEMS, pool=pool, options=options, on_error=on_error,
                            timeout=options.pop("timeout", None))


@pytest.mark.parametrize("when", [1, 400, 1500])
def test_killed_worker_is_replaced_and_nothing_is_lost(when, no_orphans):
    """SIGKILL a worker early, midway and late: same results, a new worker."""
    with GatewayPool([("popen", 2)]) as pool:
        session = Session(pool.gateways, RemoteModule.resolve(pids),
                          run_options(batch_size=20), pool.restart)
        seen: list[int] = []
        victim = None
        for batch in session.run(range(2000)):
            seen.extend(batch)
            if victim is None and len(seen) >= when:
                victim = seen[-1]
                os.kill(victim, signal.SIGKILL)
        session.close()
        assert len(seen) == 2000
        assert victim not in seen[when + 400:], "the killed worker delivered nothing later"
        assert sum(session.restarts.values()) == 1
        workers = {info["pid"] for info in pool.describe(pings=1)}
        assert len(workers) == 2 and victim not in workers, "replaced, and serving"
        assert victim not in no_orphans()
    assert wait_gone(no_orphans(), 5.0) == []


def test_dead_workers_without_restarts_leave_the_work_to_the_others(no_orphans):
    with GatewayPool([("popen", 2)]) as pool:
        results = nlp_parallel.imap(pids, range(1000), pool=pool, max_restarts=0, batch_size=10)
        victim = next(results)
        os.kill(victim, signal.SIGKILL)
        rest = list(results)
        assert len(rest) == 999
        assert len(set(rest[100:])) == 1 and victim not in rest[100:]


def test_no_gateway_left_is_a_clear_error():
    with GatewayPool([("popen", 1)]) as pool:
        results = nlp_parallel.imap(pids, range(1000), pool=pool, max_restarts=0)
        os.kill(next(results), signal.SIGKILL)
        with pytest.raises(GatewayLost, match="no gateway left .*worker process exited") as info:
            list(results)
        assert info.value.specs == (str(pool.gateways[0]),)


# -- an item that raises ---------------------------------------------------------


def test_raise_fail_names_item_and_keeps_the_worker(pool2):
    before = [g.gateway for g in pool2.gateways]
    with pytest.raises(RemoteTaskError) as info:
        run_faulty(pool2, "fail", raise_on=1234)
    assert info.value.index == 1234 and info.value.item == "1234"
    assert "; the item: 1234" in str(info.value)
    assert [g.gateway for g in pool2.gateways] == before


def test_raise_record_puts_a_failure_in_place(pool2):
    results = run_faulty(pool2, "record", raise_on=1234)
    expected = CLEAN[:1234] + [None] + CLEAN[1235:]
    assert results[:1234] + [None] + results[1235:] == expected
    failure = results[1234]
    assert isinstance(failure, ItemFailure)
    assert (failure.index, failure.error_type, failure.item) == (1234, "ValueError", "1234")
    assert "cannot handle item 1234" in failure.message and "faulty.py" in failure.traceback


def test_raise_skip_leaves_it_out(pool2):
    assert run_faulty(pool2, "skip", raise_on=1234) == CLEAN[:1234] + CLEAN[1235:]


def test_raise_record_in_text_mode_writes_an_error_line(pool2):
    text = "".join(nlp_parallel.imap_text(faulty, range(10), pool=pool2, on_error="record",
                                          options={"raise_on": 3}))
    lines = text.splitlines()
    assert lines[:3] == ["1", "2", "3"] and lines[4:] == [str(i + 1) for i in range(4, 10)]
    assert lines[3].startswith('{"index": 3, "error": {"type": "ValueError", "message": ')


def test_seed_module_raise_is_skipped_and_its_channel_reopened(pool2):
    results = nlp_parallel.map(seed_faulty, range(100), pool=pool2, on_error="skip")
    assert results == [i + 1 for i in range(100) if i != 37]


# -- an item that kills its worker ------------------------------------------------


def test_exit_fail_isolates_the_item(pool2):
    with pytest.raises(PoisonItem) as info:
        run_faulty(pool2, "fail", exit_on=2222)
    assert (info.value.index, info.value.item, info.value.error_type) == (2222, "2222", "WorkerDied")
    assert str(info.value) == (
        "WorkerDied on item 2222: worker process exited or connection dropped (on a worker "
        "given it alone, and on those given the batches that held it); the item: 2222")


def test_exit_record_and_skip_lose_nothing_else(pool2):
    results = run_faulty(pool2, "record", exit_on=2222)
    assert results[:2222] == CLEAN[:2222] and results[2223:] == CLEAN[2223:]
    assert results[2222].error_type == "WorkerDied" and results[2222].index == 2222
    assert run_faulty(pool2, "skip", exit_on=17) == CLEAN[:17] + CLEAN[18:]


# -- an item that hangs ------------------------------------------------------------


def test_hang_fail_is_caught_by_the_batch_timeout(pool2):
    started = time.monotonic()
    with pytest.raises(PoisonItem) as info:
        run_faulty(pool2, "fail", hang_on=1500, timeout=1.0)
    assert (info.value.index, info.value.error_type) == (1500, "Timeout")
    assert "1 s batch timeout" in str(info.value)
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("policy", ["record", "skip"])
def test_hang_record_and_skip_go_on(pool2, policy, no_orphans):
    results = run_faulty(pool2, policy, hang_on=1500, timeout=1.0)
    rest = CLEAN[:1500] + CLEAN[1501:]
    if policy == "skip":
        assert results == rest
    else:
        assert results[:1500] + results[1501:] == rest
        assert results[1500].error_type == "Timeout"
    # The hung workers were killed, not left sleeping.
    assert len(workers(no_orphans())) == 2


def test_session_lists_the_failures_of_its_run(pool2):
    session = Session(pool2.gateways, RemoteModule.resolve(faulty),
                      run_options({"raise_on": 5, "exit_on": 9}, on_error="skip", emit=Emit.TEXT),
                      pool2.restart)
    try:
        text = "".join(session.run(range(12)))
    finally:
        session.close()
    assert text.split() == [str(i + 1) for i in range(12) if i not in (5, 9)]
    assert [(f.index, f.error_type) for f in session.failures] == [(5, "ValueError"),
                                                                  (9, "WorkerDied")]


def test_a_restart_that_fails_is_tried_again(no_orphans):
    """A host that refuses for a while (rebooting, say) is retried with a pause."""
    with GatewayPool([("popen", 1)]) as pool:
        refusals = []

        def flaky_restart(gateway):
            if len(refusals) < 2:
                refusals.append(gateway)
                raise nlp_parallel.GatewayStartError(str(gateway), "connection refused")
            return pool.restart(gateway)

        session = Session(pool.gateways, RemoteModule.resolve(pids),
                          run_options(batch_size=20), flaky_restart)
        try:
            seen: list[int] = []
            for batch in session.run(range(600)):
                if not seen:
                    os.kill(batch[0], signal.SIGKILL)
                seen.extend(batch)
        finally:
            session.close()
        assert len(seen) == 600 and len(refusals) == 2
        assert session.restarts == {"gw0": 3}


def test_a_gateway_that_cannot_restart_is_given_up_on():
    with GatewayPool([("popen", 1)]) as pool:
        def refuse(gateway):
            raise nlp_parallel.GatewayStartError(str(gateway), "connection refused")

        results = nlp_parallel.engine.run(pool.gateways, RemoteModule.resolve(pids), range(600),
                                          run_options(batch_size=20, max_restarts=2), refuse)
        os.kill(next(results)[0], signal.SIGKILL)
        with pytest.raises(GatewayLost, match="no gateway left .*connection refused"):
            list(results)


def test_without_a_timeout_a_hung_batch_is_still_caught(pool2, monkeypatch):
    """No run hangs for ever: past HUNG_FACTOR x its expected time (and HUNG_AFTER
    seconds, shortened here) a batch is taken for hung."""
    monkeypatch.setattr(nlp_parallel.engine.recovery, "HUNG_AFTER", 1.0)
    session = Session(pool2.gateways, RemoteModule.resolve(faulty),
                      run_options({"hang_on": 1500}, on_error="skip"), pool2.restart)
    try:
        results = [r for batch in session.run(ITEMS) for r in batch]
    finally:
        session.close()
    assert results == CLEAN[:1500] + CLEAN[1501:]
    [failure] = session.failures
    assert failure.error_type == "Timeout" and "x the batch's expected time" in failure.message
