"""Popen gateways forked from a warm process instead of started from scratch.

A plain ``popen`` gateway starts a new interpreter, which imports NLTK and then parses
its task's model: about 0.7 CPU-seconds per worker before its first batch for the
perceptron tagger, which a ``multiprocessing`` pool forked from a warm parent never
pays.  A :class:`ForkServer` pays it once: it imports what the task needs, runs the
task's setup, then forks one child per gateway.  Each child runs execnet's own worker bootstrap on its own pipes,
so to execnet, and to everything above it, it is a popen gateway like any other:
the same channels, the same messages, killed and restarted the same way.

The server itself is forked from the driver when the driver runs only one thread
(as ``multiprocessing``'s *fork* start method does) and is otherwise started as a
fresh interpreter (as its *forkserver* method is), since forking a process that
runs other threads can copy a lock some thread holds.  It lives as long as its
:class:`~nlp_parallel.gateways.GatewayPool`, and exits when the driver does.

Only plain ``popen`` specs fork: ``python=`` names another interpreter, and
``chdir=``/``env:`` change what the task's imports and setup would see.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any

import execnet
from execnet import gateway_bootstrap
from execnet.gateway_base import Popen2IO

from . import forkserver, worker
from .modules import RemoteModule
from .settings import TaskOptions

#: Where workers are forked: Linux.  (macOS can fork, but a forked process that
#: does not exec may crash in system frameworks; elsewhere there is no fork.)
SUPPORTED = sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def single_threaded() -> bool:
    """Whether this process runs one thread, so that forking it is safe."""
    return threading.active_count() == 1


def forkable(xspec: execnet.XSpec) -> bool:
    """Whether a gateway of this spec may be forked from a fork server."""
    return bool(SUPPORTED and xspec.popen and not (xspec.python or xspec.via or xspec.chdir
                                                   or xspec.env or xspec.dont_write_bytecode))


@dataclass(frozen=True)
class Setup:
    """A task module and the options of its ``setup``, as a worker receives them.

    Only for modules whose setup builds plain objects in memory, as the toolkit's
    own tasks do: forked workers share what it built, so a setup that opens files
    or connections would have them share those too.

    ``files`` (JSON) names the files on this machine whose texts go into ``options``
    where it holds placeholders (:attr:`~nlp_parallel.settings.TaskOptions.by_place`):
    the fork server reads them itself, so that the driver need not read a model
    that its workers get from the server.  The digest covers where each file is and
    what it was when found; the server refuses a file that changed since.
    """

    name: str
    source: str
    filename: str
    options: str
    files: str = "[]"

    @functools.cached_property
    def digest(self) -> str:
        """What names this task to the workers forked after it was set up."""
        return worker.setup_digest(self.name, self.source, self.filename, self.options,
                                   self.files)

    @classmethod
    def of(cls, module: RemoteModule, options: str | TaskOptions) -> Setup:
        """The setup of ``module`` with ``options``: by the places of their models'
        files where they have them, else as JSON text."""
        if isinstance(options, TaskOptions):
            if options.by_place is not None:
                return cls(module.name, module.source, module.filename, *options.by_place)
            options = options.text
        return cls(module.name, module.source, module.filename, options)


def sharing(module: RemoteModule, options: str | TaskOptions) -> dict[str, Any]:
    """What a fork server can share among the workers of ``module`` run with
    ``options``, as :class:`~nlp_parallel.gateways.GatewayPool` keywords: NLTK
    imported for a module that imports it, and the setup of a built-in task
    (never a user's module, whose setup may open files or connections)."""
    return {"preload": ("nltk",) if module.needs_nltk else (),
            "prepare": Setup.of(module, options) if module.builtin else None}


class ForkServerError(OSError):
    """The fork server is gone or refused a request."""


class ForkServer:
    """A process that imports ``preload`` once and forks popen workers from there.

    ``prepare`` runs a task's setup in the server, so that forked workers given that
    task skip it.  Thread-safe; :meth:`close` stops the server (its workers stop when
    their gateways do).
    """

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        ours, theirs = socket.socketpair()
        self._lock = threading.Lock()
        self._popen: subprocess.Popen | None = None
        #: Whether the server is a fork of this process (else a fresh interpreter).
        self.forked = single_threaded()
        try:
            if self.forked:
                self.pid = _fork_server(ours, theirs, preload)
            else:
                self._popen = subprocess.Popen(
                    [sys.executable, "-c", inspect.getsource(forkserver),
                     str(theirs.fileno()), *preload],
                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
                self.pid = self._popen.pid
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock: socket.socket | None = ours

    def fork(self, fds: list[int]) -> int:
        """Fork a child that serves on ``fds`` (stdin, stdout, alive); its pid."""
        with self._lock:
            sock = self._connected()
            try:
                socket.send_fds(sock, [b"F"], fds)
                (pid,) = struct.unpack("!q", forkserver.exactly(sock, 8))
            except (OSError, EOFError) as exc:
                raise ForkServerError(f"the fork server is gone: {exc}") from None
        return int(pid)

    def prepare(self, setup: Setup) -> None:
        """Run a task module's ``setup(options)`` in the server, for the workers
        forked after it.

        Raises :class:`ForkServerError` when it fails there; a worker would then
        set the task up itself and report the failure as usual.
        """
        fields = [f.encode("utf-8") for f in (setup.digest, *dataclasses.astuple(setup))]
        with self._lock:
            sock = self._connected()
            try:
                sock.sendall(b"W" + struct.pack("!6q", *map(len, fields)))
                for field in fields:  # options may hold a model: megabytes, sent as they are
                    sock.sendall(field)
                failed = forkserver.exactly(sock, 1) == b"1"
                (length,) = struct.unpack("!q", forkserver.exactly(sock, 8))
                error = forkserver.exactly(sock, length).decode("utf-8")
            except (OSError, EOFError) as exc:
                raise ForkServerError(f"the fork server is gone: {exc}") from None
        if failed:
            raise ForkServerError(f"the task's setup failed in the fork server: {error}")

    def close(self) -> None:
        """Stop the server and reap it."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is None:
            return
        sock.close()
        if self._popen is not None:
            self._popen.wait()
        else:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)

    def _connected(self) -> socket.socket:
        if self._sock is None:
            raise ForkServerError("the fork server is closed")
        return self._sock


def _fork_server(ours: socket.socket, theirs: socket.socket, preload: tuple[str, ...]) -> int:
    """Fork this (single-threaded) process into a fork server; the server's pid."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # or the server would write the buffered text again
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        ours.close()
        keep = theirs.fileno()
        os.closerange(3, keep)  # the driver's files (an output's lock) stay the driver's
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        forkserver.serve(theirs, list(preload))
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


class ForkedIO(Popen2IO):
    """The driver's end of a forked worker's pipes, standing in for execnet's
    ``Popen2IOMaster``: ``kill`` kills the worker and ``wait`` waits for its exit."""

    def __init__(self, server: ForkServer, execmodel: execnet.gateway_base.ExecModel) -> None:
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        alive_read, alive_write = os.pipe()
        try:
            self.pid = server.fork([child_in, child_out, alive_write])
        except BaseException:
            for fd in (to_child, from_child, alive_read):
                os.close(fd)
            raise
        finally:
            for fd in (child_in, child_out, alive_write):
                os.close(fd)
        self._alive = alive_read  # open for this object's life: kill() polls it
        self._exited = threading.Event()
        super().__init__(os.fdopen(to_child, "wb"), os.fdopen(from_child, "rb"), execmodel)

    def wait(self) -> int | None:
        """Wait until the worker has exited; its exit status stays with the server.

        (The worker's end of the alive pipe closes when it exits, or, should its
        task fork processes of its own without exec, when the last of them does.)
        """
        while not self._exited.is_set() and os.read(self._alive, 4096):
            pass
        self._exited.set()
        return None

    def kill(self) -> None:
        """SIGKILL the worker, unless it has exited (its pid may be reused then)."""
        if self._exited.is_set() or select.select([self._alive], [], [], 0)[0]:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: fork failed
            os.close(self._alive)


def makegateway(group: execnet.Group, xspec: execnet.XSpec, server: ForkServer) -> execnet.Gateway:
    """``group.makegateway(xspec)`` for a :func:`forkable` spec, its worker forked
    from ``server``."""
    group.allocate_id(xspec)
    if xspec.execmodel is None:
        xspec.execmodel = group.remote_execmodel.backend
    io = ForkedIO(server, group.execmodel)
    try:
        gateway = gateway_bootstrap.bootstrap(io, xspec)
    except BaseException:
        io.kill()
        io.wait()
        raise
    gateway.spec = xspec
    group._register(gateway)
    if xspec.nice:
        channel = gateway.remote_exec("import os; os.nice(channel.receive())")
        channel.send(int(xspec.nice))
        channel.waitclose()
    return gateway
