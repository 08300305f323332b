"""Tests for nlp_parallel.scheduler: pure logic, fake node names, fake clock."""

from __future__ import annotations

import pytest

from nlp_parallel.scheduler import AutoSizer, Batch, FixedSizer, Scheduler


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def batch(seq: int, count: int = 1) -> Batch:
    return Batch(seq=seq, start=seq * 100, count=count, payload=[seq] * count)


@pytest.fixture
def clock():
    return Clock()


def make(clock, nodes=("a", "b"), window=2, sizer=AutoSizer, max_ahead=8):
    return Scheduler(list(nodes), window=window, sizer=sizer, max_ahead=max_ahead, clock=clock)


# --- windows and dispatch bounds ------------------------------------------------


def test_idle_nodes_least_loaded_first(clock):
    """Nodes with room come back ordered by how many batches they hold."""
    s = make(clock, nodes=("a", "b", "c"), window=3)
    s.assign("a", batch(0))
    s.assign("a", batch(1))
    s.assign("c", batch(2))
    assert s.idle_nodes() == ["b", "c", "a"]
    assert s.nodes == ["a", "b", "c"]


def test_node_at_window_is_not_idle_and_completion_frees_it(clock):
    """A full window hides the node; completing one batch makes it idle again."""
    s = make(clock, window=2)
    s.assign("a", batch(0))
    s.assign("a", batch(1))
    assert s.idle_nodes() == ["b"]
    assert s.complete("a", 0, 0.01) == batch(0)
    assert s.idle_nodes() == ["b", "a"]
    assert s.holds("a") == [batch(1)]


@pytest.mark.parametrize(
    "in_flight, waiting, allowed",
    [(0, 0, True), (1, 2, True), (2, 2, False), (0, 4, False), (4, 0, False)],
)
def test_may_dispatch_bounds_lookahead(clock, in_flight, waiting, allowed):
    """At most max_ahead batches may be in flight or waiting to be delivered."""
    s = make(clock, max_ahead=4)
    for seq in range(in_flight):
        s.assign("ab"[seq % 2], batch(seq))
    assert s.may_dispatch(waiting) is allowed


def test_release_returns_the_running_batch_and_the_orphans(clock):
    """A dead node's batches go back, except those another node also runs."""
    s = make(clock)
    s.assign("a", batch(0))
    s.assign("a", batch(1))
    s.assign("b", batch(1))  # b runs a duplicate of 1
    running, orphans = s.release("a")
    assert running == batch(0)
    assert orphans == [batch(0)]
    assert s.holds("a") == [] and s.in_flight() == 1
    # The duplicate b still runs is delivered from b.
    assert s.complete("b", 1, 0.1) == batch(1)


def test_expected_seconds_of_the_running_batch(clock):
    s = make(clock)
    s.assign("a", batch(0, count=10))
    assert s.expected_seconds("a") is None  # nothing measured yet
    s.complete("a", 0, 2.0)
    assert s.expected_seconds("a") is None  # nothing running
    s.assign("a", batch(1, count=5))
    assert s.expected_seconds("a") == pytest.approx(1.0)


def test_release_ignores_batches_of_a_finished_run(clock):
    s = make(clock)
    s.assign("a", batch(0))
    s.forget_before(1)
    assert s.release("a") == (None, [])


# --- sizers ----------------------------------------------------------------------


def test_autosizer_starts_at_one_and_grows_at_most_8x():
    """Growth is capped at eightfold per record and settles near target/per-item."""
    z = AutoSizer(target=0.2)
    assert z.size() == 1
    assert z.expected_seconds(10) is None
    sizes = [1]
    for _ in range(6):
        z.record(z.size(), z.size() * 0.001)  # 1 ms per item
        sizes.append(z.size())
    assert sizes[:4] == [1, 8, 64, sizes[3]]
    assert all(b <= 8 * a for a, b in zip(sizes, sizes[1:]))
    assert 195 <= sizes[-1] <= 200
    assert z.expected_seconds(100) == pytest.approx(0.1)


def test_autosizer_never_exceeds_maximum():
    """Even very fast items never give a batch above ``maximum``."""
    z = AutoSizer(maximum=50)
    for _ in range(10):
        z.record(z.size(), z.size() * 1e-6)
        assert z.size() <= 50
    assert z.size() == 50


def test_autosizer_shrinks_when_batches_get_slow():
    """A slow batch lowers the size at once, toward target/new per-item time."""
    z = AutoSizer(target=0.2)
    for _ in range(6):
        z.record(z.size(), z.size() * 0.001)
    big = z.size()
    z.record(big, big * 0.01)  # items became 10x slower
    assert z.size() < big / 2
    for _ in range(20):
        z.record(z.size(), z.size() * 0.01)
    assert 19 <= z.size() <= 20


def test_autosizer_ignores_empty_batches_and_floors_at_one():
    """count 0 records nothing; a per-item time above target still gives size 1."""
    z = AutoSizer(target=0.2)
    z.record(0, 5.0)
    assert z.expected_seconds(1) is None
    z.record(1, 3.0)
    assert z.size() == 1
    assert z.expected_seconds(2) == pytest.approx(6.0)


def test_fixed_sizer_keeps_size_but_measures():
    """FixedSizer always returns its size, yet estimates expected_seconds."""
    f = FixedSizer(50)
    assert f.size() == 50
    assert f.expected_seconds(10) is None
    f.record(50, 1.0)
    assert f.size() == 50
    assert f.expected_seconds(10) == pytest.approx(0.2)


def test_per_node_sizes_are_independent(clock):
    """A slow node stays at small batches while a fast node's batches grow."""
    s = make(clock, window=1)
    seq = 0
    for _ in range(5):
        for node, per_item in (("a", 0.001), ("b", 1.0)):
            n = s.batch_size(node)
            s.assign(node, batch(seq, n))
            assert s.complete(node, seq, n * per_item) is not None
            seq += 1
    assert s.batch_size("b") == 1
    assert s.batch_size("a") >= 190


# --- completion and duplicates --------------------------------------------------


def test_straggler_only_once_overdue_with_nothing_measured(clock):
    """With no measurement a batch is overdue after 5 s, not before."""
    s = make(clock)
    s.assign("a", batch(0))
    assert s.straggler("b") is None
    clock.t = 5.0
    assert s.straggler("b") is None
    clock.t = 5.01
    assert s.straggler("b") == batch(0)


@pytest.mark.parametrize("per_item, overdue", [(0.5, 2.0), (0.01, 1.0)])
def test_straggler_overdue_after_max_1s_or_4x_expected(clock, per_item, overdue):
    """Once measured, a batch is overdue after max(1.0, 4 * expected) seconds."""
    s = make(clock)
    s.assign("a", batch(0))
    s.complete("a", 0, per_item)
    clock.t = 10.0
    s.assign("a", batch(1))
    assert s.running_since("a") == 10.0
    clock.t = 10.0 + overdue
    assert s.straggler("b") is None
    clock.t = 10.0 + overdue + 0.01
    assert s.straggler("b") == batch(1)


def test_straggler_never_own_batch(clock):
    """A node is never offered a duplicate of a batch it holds itself."""
    s = make(clock)
    s.assign("a", batch(0))
    clock.t = 100.0
    assert s.straggler("a") is None
    assert s.straggler("b") == batch(0)


def test_straggler_never_a_batch_held_twice(clock):
    """Once duplicated, a batch is not offered to a third node."""
    s = make(clock, nodes=("a", "b", "c"))
    s.assign("a", batch(0))
    clock.t = 6.0
    dup = s.straggler("b")
    assert dup == batch(0)
    s.assign("b", dup)
    clock.t = 60.0
    assert s.straggler("c") is None


def test_duplicate_first_result_wins_second_is_dropped(clock):
    """complete returns the batch once; the late duplicate's result gives None."""
    s = make(clock, window=1)
    s.assign("a", batch(0))
    clock.t = 6.0
    s.assign("b", s.straggler("b"))
    assert s.complete("b", 0, 0.1) == batch(0)
    # the hung node no longer lists the batch but its slot stays occupied
    assert s.holds("a") == []
    assert s.idle_nodes() == ["b"]
    assert s.running_since("a") == 0.0
    assert s.straggler("b") is None
    # its late result is dropped and frees the slot
    clock.t = 9.0
    assert s.complete("a", 0, 9.0) is None
    assert s.idle_nodes() == ["a", "b"]
    assert s.running_since("a") is None


def test_running_since(clock):
    """running_since is None when idle, else when the node became busy."""
    s = make(clock)
    assert s.running_since("a") is None
    clock.t = 3.0
    s.assign("a", batch(0))
    clock.t = 4.0
    s.assign("a", batch(1))
    assert s.running_since("a") == 3.0
    clock.t = 5.0
    s.complete("a", 0, 2.0)
    assert s.running_since("a") == 5.0
    s.complete("a", 1, 0.5)
    assert s.running_since("a") is None


def test_hung_node_later_batch_still_rescued(clock):
    """A hung node's second batch becomes a straggler after its first was rescued."""
    s = make(clock, window=2)
    s.assign("a", batch(0))
    s.assign("a", batch(1))
    clock.t = 6.0
    s.assign("b", s.straggler("b"))
    assert s.complete("b", 0, 0.1) == batch(0)
    assert s.holds("a") == [batch(1)]
    clock.t = 100.0
    assert s.straggler("b") == batch(1)


# --- the end of a run -----------------------------------------------------------


def test_last_batches_shrink_to_half_an_even_share_of_what_is_left(clock):
    s = make(clock, sizer=lambda: FixedSizer(400))
    assert s.batch_size("a") == 400  # nothing known about the end
    assert s.batch_size("a", remaining=10_000, nodes=2) == 400
    assert s.batch_size("a", remaining=1_000, nodes=2) == 250
    assert s.batch_size("a", remaining=1_000, nodes=1) == 400
    assert s.batch_size("a", remaining=100, nodes=2) == 25  # a sixteenth at least,
    assert s.batch_size("a", remaining=-30, nodes=2) == 25  # also past a short estimate


@pytest.mark.parametrize("total", [2_100, 20_250, 33_333])
def test_knowing_the_total_lets_equal_nodes_finish_together(clock, total):
    """Simulated: two nodes at one item per ms take batches as they free up."""

    def finish_times(known: bool) -> list[float]:
        s = make(clock, sizer=lambda: FixedSizer(500))
        free_at = {"a": 0.0, "b": 0.0}
        sent = 0
        while sent < total:
            node = min(free_at, key=free_at.__getitem__)
            size = s.batch_size(node, total - sent if known else None, nodes=2)
            size = min(size, total - sent)
            free_at[node] += size * 0.001
            sent += size
        return sorted(free_at.values())

    first, last = finish_times(known=False)
    assert last - first >= 0.1  # 500-item batches end unevenly ...
    first, last = finish_times(known=True)
    assert last - first <= 0.032  # ... a sixteenth of one apart at most, when the total is known


@pytest.mark.parametrize("state", [{"failures": 1}, {"suspect": True}])
def test_straggler_never_a_batch_that_hung_or_killed_a_worker(clock, state):
    """A batch known to hang or kill workers (or a piece of one) is never duplicated:
    a copy on a second node would keep it from ever being given up."""
    s = make(clock)
    s.assign("a", Batch(seq=0, start=0, count=4, payload=[0] * 4, **state))
    clock.t = 100.0
    assert s.straggler("b") is None
