"""The engine over real popen gateways: order, streaming, errors, no hangs."""

from __future__ import annotations

import itertools
import time

import pytest

import nlp_parallel
from nlp_parallel import (
    EncodeError,
    GatewayPool,
    RemoteTaskError,
    SpecError,
)
from remote_modules import (
    batched_double,
    faulty,
    formatted,
    remote_double,
    seed_faulty,
    slow_on_env,
)

from conftest import wait_gone, workers


def test_seed_example_verbatim():
    """The seed's own module and calls give the seed's results."""
    assert nlp_parallel.map(remote_double, range(10)) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert nlp_parallel.map(remote_double, range(10), [("popen", 4)]) == list(range(0, 20, 2))


def test_batched_module_by_object_and_by_name():
    expected = [2 * x for x in range(5000)]
    assert nlp_parallel.map(batched_double, range(5000), [("popen", 2)]) == expected
    assert nlp_parallel.map("remote_modules.batched_double", range(5000), ["2*popen"]) == expected


def test_empty_input_gives_empty_result(pool2):
    assert nlp_parallel.map(batched_double, [], pool=pool2) == []
    assert nlp_parallel.map(remote_double, [], pool=pool2) == []


def test_order_kept_over_100k_items_with_uneven_workers():
    """A slow and a fast worker still give results in input order."""
    items = [(i * 7919) % 100_003 for i in range(100_000)]
    specs = ["popen//env:NLP_TEST_SLOW=0.00002", "popen"]
    # Both started before the run: on a busy machine a gateway still starting could
    # miss a whole run this short.
    with nlp_parallel.GatewayPool(specs) as pool:
        pool.describe(pings=1)
        results = nlp_parallel.map(slow_on_env, items, pool=pool)
    assert [item for item, _ in results] == items
    assert len({pid for _, pid in results}) == 2, "both workers took part"


def test_slow_gateway_does_not_hold_up_the_rest():
    """Pull scheduling: the fast worker takes almost everything."""
    specs = ["popen//env:NLP_TEST_SLOW=0.02", "popen"]
    results = nlp_parallel.map(slow_on_env, range(3000), specs)
    assert [item for item, _ in results] == list(range(3000))
    counts = {}
    for _, pid in results:
        counts[pid] = counts.get(pid, 0) + 1
    # The slow worker may have delivered nothing at all (the fast one can finish
    # first, or win a duplicated batch); either way the fast one did nearly all.
    assert max(counts.values()) > 0.95 * 3000, counts


def test_fixed_batch_size_gives_same_results(pool2):
    for size in (1, 7, 1000):
        assert nlp_parallel.map(batched_double, range(2500), pool=pool2, batch_size=size) == [
            2 * x for x in range(2500)
        ]


def test_imap_consumes_input_lazily(pool2):
    """Only a bounded window of the input is read ahead of what was yielded."""
    pulled = itertools.count()
    counter = [0]

    def source():
        for i in itertools.count():
            counter[0] = next(pulled)
            yield i

    results = nlp_parallel.imap(batched_double, source(), pool=pool2)
    for expected, result in zip(range(200_000), results):
        assert result == 2 * expected
    # Auto batches are at most 20,000 items; 16 batches may be in flight.
    assert counter[0] < 200_000 + 16 * 20_000
    results.close()


def test_unbounded_generator_and_break_stop_the_workers(no_orphans):
    """Breaking out of imap over an endless input stops its gateways."""
    seen = []
    for result in nlp_parallel.imap(batched_double, itertools.count(), [("popen", 2)]):
        if not seen:
            assert len(workers(no_orphans())) == 2
        seen.append(result)
        if len(seen) == 50_000:
            break
    assert seen == [2 * i for i in range(50_000)]
    assert wait_gone(no_orphans(), 5.0) == []


def test_imap_text_uses_the_module_format(pool2):
    chunks = list(nlp_parallel.imap_text(formatted, ["ab", "cd", "ef"] * 500, pool=pool2))
    lines = "".join(chunks).splitlines()
    assert lines[:3] == ["0\tab\tAB", "1\tcd\tCD", "2\tef\tEF"]
    assert len(lines) == 1500 and lines[-1] == "1499\tef\tEF"


def test_imap_text_defaults_to_json_lines(pool2):
    text = "".join(nlp_parallel.imap_text(batched_double, range(1000), pool=pool2))
    assert text == "".join(f"{2 * i}\n" for i in range(1000))


def test_options_reach_setup(pool2):
    assert nlp_parallel.map(faulty, [1, 2, 3], pool=pool2, options={"raise_on": 99}) == [2, 3, 4]


def test_remote_exception_surfaces_with_index_and_traceback(pool2):
    started = time.monotonic()
    with pytest.raises(RemoteTaskError) as info:
        nlp_parallel.map(faulty, range(20_000), pool=pool2, options={"raise_on": 12_345})
    assert time.monotonic() - started < 10
    error = info.value
    assert error.index == 12_345
    assert error.error_type == "ValueError"
    assert "cannot handle item 12345" in error.message
    assert 'raise ValueError("cannot handle item %r" % (item,))' in error.remote_traceback
    assert "faulty.py" in error.remote_traceback
    # The pool's gateways survive a task error and serve the next call.
    assert nlp_parallel.map(batched_double, range(10), pool=pool2) == list(range(0, 20, 2))


def test_seed_module_exception_names_the_failing_item(pool2):
    with pytest.raises(RemoteTaskError) as info:
        nlp_parallel.map(seed_faulty, range(100), pool=pool2)
    assert info.value.index == 37
    assert "seed module cannot handle 37" in info.value.remote_traceback


def test_setup_failure_is_reported(pool2):
    with pytest.raises(RemoteTaskError, match="during setup") as info:
        nlp_parallel.map(faulty, range(10), pool=pool2, options={"fail_setup": "no model"})
    assert info.value.index is None
    assert "setup refused: no model" in info.value.remote_traceback


def test_item_that_is_not_json_is_named(pool2):
    with pytest.raises(EncodeError, match="item 3 cannot be sent"):
        nlp_parallel.map(batched_double, [1, 2, 3, {4}], pool=pool2, batch_size=10)


def test_bad_arguments_fail_before_anything_starts(no_orphans):
    with pytest.raises(SpecError):
        nlp_parallel.map(batched_double, range(3), [("popen", 0)])
    with pytest.raises(nlp_parallel.ConfigError, match="batch_size"):
        nlp_parallel.imap(batched_double, range(3), batch_size=0)
    with pytest.raises(nlp_parallel.ConfigError, match="cannot be found"):
        nlp_parallel.imap("remote_modules.no_such_module", range(3))
    with pytest.raises(nlp_parallel.ConfigError, match="options must be JSON"):
        nlp_parallel.imap(batched_double, range(3), options={"x": object()})
    assert no_orphans() == []


def test_pool_is_reused_and_closed(no_orphans):
    with GatewayPool([("popen", 2)]) as pool:
        first = [g.gateway for g in pool.gateways]
        started = workers(no_orphans())
        nlp_parallel.map(batched_double, range(100), pool=pool)
        nlp_parallel.map(remote_double, range(100), pool=pool)
        assert [g.gateway for g in pool.gateways] == first
        assert workers(no_orphans()) == started and len(started) == 2
    assert wait_gone(no_orphans(), 5.0) == []


def test_seed_module_with_a_wrong_reply_fails_instead_of_hanging(pool2):
    from remote_modules import seed_wrong_reply

    with pytest.raises(nlp_parallel.GatewayError, match=r"expected \(i, result\)"):
        nlp_parallel.map(seed_wrong_reply, range(10), pool=pool2)
