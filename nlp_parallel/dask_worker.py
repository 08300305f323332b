"""What a Dask worker runs for a job: the toolkit's worker loop, in child processes.

A Dask task never runs an item itself.  Each Dask worker keeps child processes
(execnet popen gateways of its own interpreter) running :mod:`nlp_parallel.worker`,
each set up once with the task, and a Dask task hands one batch or shard message
to an idle child and returns the child's answer.  So the task's model crosses the
network to a Dask worker once (as scattered data), not once per batch; an item
that kills its process or hangs costs one child, never the Dask worker, whose
other results stay where they are; and a child on an item that runs too long can
be killed, which a thread cannot.

Children are pooled per run and task (by a digest of the run and its setup message)
and per Dask worker process: at most one per thread that runs a task at a time;
the driver stops them when its run ends.  A child idle
for :data:`IDLE_SECONDS` stops, so a cluster that outlives a driver does not keep
its models in memory.

This module must be importable on every Dask worker: the workers run in an
environment with ``nlp_parallel`` installed, like the driver's.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import threading
import time
from typing import Any

import execnet

from . import worker

#: Seconds a child may sit idle before it stops (``NLP_PARALLEL_DASK_IDLE`` in the
#: Dask workers' environment): the children of a driver that was killed stop then.
IDLE_SECONDS = float(os.environ.get("NLP_PARALLEL_DASK_IDLE", "300"))

#: Seconds a new child may take to start and set its task up.
START_SECONDS = 120.0

Message = tuple[str, dict[str, Any]]

_lock = threading.Lock()
#: Idle children, by the digest of the setup they ran.
_idle: dict[str, list[Child]] = {}
#: Children at work, by the token of the message they run: (setup digest, child).
_busy: dict[str, tuple[str, Child]] = {}
_reaper: threading.Thread | None = None
#: The setups whose run has ended: a child that finishes a message for one stops.
_stopped: set[str] = set()


class ChildFailed(Exception):
    """A child could not start or set up its task; ``message`` says why, as the
    worker loop says it."""

    def __init__(self, message: Message) -> None:
        super().__init__(message[1].get("message", "setup failed"))
        self.message = message


class Child:
    """One process running the worker loop, set up with one task."""

    def __init__(self, setup: dict[str, Any]) -> None:
        self.gateway = execnet.makegateway(f"popen//python={sys.executable}")
        self.used = time.monotonic()
        try:
            self.channel = self.gateway.remote_exec(inspect.getsource(worker))
            self.channel.receive(START_SECONDS)  # hello
            self.channel.send(("setup", setup))
            answer = self.channel.receive(START_SECONDS)
        except BaseException:
            self.kill()
            raise
        if answer[0] != "ready":
            self.kill()
            raise ChildFailed(answer)

    def ask(self, message: Message, stuck: Any) -> Message:
        """Send ``message``; return the answer, passing ``stuck`` notes on as they
        come.  Raises EOFError or execnet's errors when the child dies."""
        self.channel.send(message)
        while True:
            name, fields = self.channel.receive()
            if name != "stuck":
                self.used = time.monotonic()
                return name, fields
            stuck(fields)

    def kill(self) -> None:
        from .gateways import kill

        try:
            kill(self.gateway)
        except Exception:  # already gone
            pass


def _checkout(digest: str, setup: str) -> Child:
    with _lock:
        idle = _idle.get(digest)
        if idle:
            return idle.pop()
    _start_reaper()
    return Child(json.loads(setup))


def _checkin(digest: str, child: Child) -> None:
    with _lock:
        if digest not in _stopped:
            _idle.setdefault(digest, []).append(child)
            return
    child.kill()


def _start_reaper() -> None:
    global _reaper
    with _lock:
        if _reaper is not None:
            return
        _reaper = threading.Thread(target=_reap, name="nlp_parallel reaper", daemon=True)
        _reaper.start()


def _reap() -> None:
    while True:
        time.sleep(IDLE_SECONDS / 10)
        stop(None, IDLE_SECONDS)


def stop(digest: str | None = None, idle_for: float = 0.0) -> int:
    """Stop the children of one task's setup (idle or at work), or, with no
    ``digest``, those idle for ``idle_for`` seconds; returns how many stopped.  The
    driver runs it on every Dask worker when its run ends (``Client.run``)."""
    now = time.monotonic()
    stopping = []
    with _lock:
        for key, children in _idle.items():
            if digest is not None and key != digest:
                continue
            stopping += [c for c in children if digest is not None or now - c.used >= idle_for]
            children[:] = [c for c in children if c not in stopping]
        if digest is not None:
            _stopped.add(digest)
            stopping += [child for key, child in _busy.values() if key == digest]
    for child in stopping:
        child.kill()
    return len(stopping)


def hello() -> Message:
    """What this Dask worker's children will be (they run its interpreter)."""
    return worker.hello()


def prepare(digest: str, setup: str) -> Message:
    """Have an idle child set up with the task: ``ready``, or the setup's failure."""
    try:
        child = _checkout(digest, setup)
    except ChildFailed as exc:
        return exc.message
    _checkin(digest, child)
    return ("ready", {})


def run(token: str, digest: str, setup: str, message: Message, topic: str) -> list[Message]:
    """Run one batch or shard ``message`` in a child: its answer, or ``died``.

    ``stuck`` notes go to the driver at once, as events on ``topic``; a child the
    driver kills (:func:`kill`) answers ``died``.
    """
    from distributed import get_worker

    try:
        child = _checkout(digest, setup)
    except ChildFailed as exc:
        return [exc.message]
    except Exception as exc:  # the child did not start
        return [("died", {"why": f"worker process did not start: {exc}"})]
    this = get_worker()

    def stuck(fields: dict[str, Any]) -> None:
        this.log_event(topic, {"token": token, **fields})

    with _lock:
        _busy[token] = (digest, child)
    try:
        answer = child.ask(message, stuck)
    except (EOFError, OSError, execnet.RemoteError, execnet.TimeoutError) as exc:
        child.kill()
        why = "worker process exited" if isinstance(exc, EOFError) else f"worker crashed: {exc}"
        return [("died", {"why": why})]
    finally:
        with _lock:
            _busy.pop(token, None)
    _checkin(digest, child)
    return [answer]


def kill(tokens: list[str]) -> int:
    """Kill the children running the messages ``tokens`` name (hung ones); returns
    how many were running here."""
    with _lock:
        children = [_busy[token][1] for token in tokens if token in _busy]
    for child in children:
        child.kill()
    return len(children)
