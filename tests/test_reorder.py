"""Tests for nlp_parallel.engine.reorder: results in input order, failed items in
their places, without a process."""

from __future__ import annotations

import pytest

from nlp_parallel.engine.reorder import ReorderBuffer
from nlp_parallel.settings import Emit, ItemFailure, OnError

FAILED = ItemFailure(3, "ValueError", "cannot handle item 3", "3")


def test_work_is_delivered_in_input_order_as_soon_as_it_is_next():
    buffer = ReorderBuffer(Emit.RESULTS, OnError.FAIL)
    buffer.put(4, 2, "[4,5]")
    buffer.put(1, 3, "[1,2,3]")
    assert list(buffer.deliverable()) == [] and len(buffer) == 2
    buffer.put(0, 1, [0])  # a seed-style module's result comes as a list
    assert list(buffer.deliverable()) == [[0], [1, 2, 3], [4, 5]]
    assert (buffer.due, buffer.delivered, len(buffer)) == (6, 6, 0)


def test_text_is_delivered_as_the_workers_wrote_it():
    buffer = ReorderBuffer(Emit.TEXT, OnError.FAIL)
    buffer.put(0, 2, "a\nb\n")
    assert list(buffer.deliverable()) == ["a\nb\n"]


@pytest.mark.parametrize("emit, placed", [(Emit.RESULTS, [[FAILED]]),
                                          (Emit.TEXT, [FAILED.line()])])
def test_under_record_a_failure_takes_its_items_place(emit, placed):
    buffer = ReorderBuffer(emit, OnError.RECORD)
    buffer.keep(FAILED)
    buffer.put(0, 3, "[0,1,2]" if emit is Emit.RESULTS else "0\n1\n2\n")
    chunks = list(buffer.deliverable())
    assert chunks[1:] == placed and buffer.failures == [FAILED]


def test_under_record_the_runs_own_record_is_placed():
    buffer = ReorderBuffer(Emit.TEXT, OnError.RECORD, record=lambda f: f.line(100))
    buffer.keep(FAILED)
    buffer.put(0, 3, "")
    assert list(buffer.deliverable()) == [FAILED.line(100)]


def test_under_skip_a_failed_item_leaves_a_gap_and_is_listed_once_delivered():
    buffer = ReorderBuffer(Emit.RESULTS, OnError.SKIP)
    buffer.keep(FAILED)
    assert buffer.failures == []  # not yet: the items before it are still to come
    buffer.put(0, 3, "[0,1,2]")
    buffer.put(4, 1, "[4]")
    assert list(buffer.deliverable()) == [[0, 1, 2], [4]]
    assert buffer.failures == [FAILED] and buffer.delivered == 5
