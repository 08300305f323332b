"""SIGTERM and Ctrl-C as exceptions in the main thread, so every ``finally`` runs.

Python runs a signal handler in the main thread between two bytecodes, wherever
that thread is.  An exception raised there while the thread is inside the standard
library's own lock handling -- ``Thread.join`` on a thread that ends at that very
moment, a ``Condition.wait`` re-acquiring its lock -- can make that code release a
lock it no longer holds, and ``RuntimeError: release unlocked lock`` then replaces
the interrupt on its way up.  The interrupt is still that error's ``__context__``:
:func:`interrupt_behind` finds it, so the run is reported as interrupted.  The
engine waits for its messages on a ``queue.SimpleQueue``, whose wait is in C, so
this window stays rare.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so the same cleanup runs."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` in the main thread.

    Outside the main thread signals are left alone.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM that ``exc`` was raised while handling, if any."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__context__
    return None
