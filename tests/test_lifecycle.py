"""No worker outlives its driver: Ctrl-C, a killed driver, a normal exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import sigint_as_at_a_terminal, wait_gone

TESTS = Path(__file__).resolve().parent

DRIVER = textwrap.dedent(
    f"""
    import itertools, sys
    sys.path.insert(0, {str(TESTS)!r})
    import nlp_parallel
    from remote_modules import pids

    seen = set()
    for pid in nlp_parallel.imap(pids, itertools.count(), [("popen", 2)]):
        if pid not in seen:
            seen.add(pid)
            print(pid, flush=True)
    """
)


def start_driver() -> tuple[subprocess.Popen, list[int]]:
    """A driver running an endless job; returns it and its two worker pids."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=sigint_as_at_a_terminal,
    )
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    return proc, workers


def finish(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


def test_ctrl_c_to_the_driver_stops_its_workers():
    proc, workers = start_driver()
    os.kill(proc.pid, signal.SIGINT)
    code = finish(proc)
    assert code != 0
    assert wait_gone(workers, 5.0) == []


def test_ctrl_c_to_the_process_group_stops_everything():
    """A terminal's Ctrl-C reaches the driver and its workers alike."""
    proc, workers = start_driver()
    os.killpg(proc.pid, signal.SIGINT)
    finish(proc)
    assert wait_gone(workers, 5.0) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_exit_when_the_driver_dies(sig):
    """Without the driver's cleanup, workers still exit once their pipe closes."""
    proc, workers = start_driver()
    os.kill(proc.pid, sig)
    finish(proc)
    assert wait_gone(workers, 20.0) == []
