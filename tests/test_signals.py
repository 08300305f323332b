"""An interrupt is always reported as one (exit 143 or 130), also when the lock code
it broke into fails on its way up."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from nlp_parallel.cli import error_handler
from nlp_parallel.signals import Terminated, interrupt_behind


def broken_lock(interrupt: KeyboardInterrupt) -> None:
    """What Thread.join does when an interrupt lands as the joined thread ends."""
    lock = threading.Lock()
    try:
        raise interrupt
    except BaseException:
        lock.release()  # RuntimeError: release unlocked lock


@pytest.mark.parametrize("interrupt, code, line", [
    (Terminated(), 143, "nlp-parallel: terminated; workers stopped"),
    (KeyboardInterrupt(), 130, "nlp-parallel: interrupted; workers stopped"),
])
def test_an_interrupt_that_broke_a_lock_is_still_the_interrupt(interrupt, code, line, capsys):
    with pytest.raises(RuntimeError, match="release unlocked lock") as info:
        broken_lock(interrupt)
    assert interrupt_behind(info.value) is interrupt
    with error_handler(argparse.Namespace(debug=False)) as result:
        broken_lock(interrupt)
    assert result.code == code
    assert capsys.readouterr().err.splitlines() == [line]


def test_a_plain_error_is_not_an_interrupt(capsys):
    with error_handler(argparse.Namespace(debug=False)) as result:
        raise RuntimeError("release unlocked lock")
    assert result.code == 1
    assert "internal error: RuntimeError" in capsys.readouterr().err


PROGRAM = textwrap.dedent("""\
    import sys, threading, time
    from nlp_parallel.cli import error_handler
    from nlp_parallel.signals import sigterm_raises
    import argparse

    with error_handler(argparse.Namespace(debug=False)) as result, sigterm_raises():
        print("ready", flush=True)
        while True:  # a driver's life: starting and joining threads
            thread = threading.Thread(target=time.sleep, args=(0.001,))
            thread.start()
            thread.join()
    sys.exit(result.code)
""")


def test_sigterm_while_joining_threads_exits_143():
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", PROGRAM], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
        assert (child.returncode, err) == (143, "nlp-parallel: terminated; workers stopped\n")
