"""Start, hold and stop a job's execnet gateways.

All gateways of a pool start at once, each in its own thread: starting one is mostly
waiting (ssh's connection and key exchange, an interpreter's start-up), so eight
start in about the time of one.  Every new gateway answers a probe before it counts
as started, which also reports its host's cores for ``auto`` counts.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from types import TracebackType

import execnet

from . import forks
from .errors import GatewayStartError
from .forks import ForkServer, ForkServerError, Setup
from .specs import GatewaySpecs, SpecsLike, crowding, parse_specs
from .starting import (
    STOP_TIMEOUT,
    Failure,
    Gateway,
    NotStarted,
    Starter,
    going_on,
    require,
    start_one,
)



class GatewayWarning(UserWarning):
    """A gateway problem that does not stop the run, such as a host that did not start
    while ``min_gateways`` others did, or far more popen workers than cores."""


class GatewayPool:
    """A set of execnet gateways started together and stopped together.

    Gateways start concurrently on :meth:`start` (or entering a ``with`` block); those
    reached ``via=`` another gateway start once that one is up.  :meth:`close` stops
    them all and kills any that do not exit within :data:`STOP_TIMEOUT` seconds, so no
    worker process outlives the pool.

    ``min_gateways`` (default: all) is how many must start; the pool goes on without
    the others.  More popen gateways than :data:`~nlp_parallel.specs.POPEN_PER_CORE`
    per core of this machine draw a :class:`GatewayWarning` (once, here).  A
    ``socket=`` spec to another machine needs ``allow_insecure_socket`` (see
    :data:`~nlp_parallel.specs.SOCKET_RISK`).

    Plain ``popen`` workers are forked from a fork server (see :mod:`.forks`) that
    first imports the modules in ``preload`` and runs the task setup ``prepare``.

    Raises :class:`SpecError` for malformed specs (before anything starts) and
    :class:`GatewayStartError` when too few gateways start.
    """

    def __init__(
        self,
        specs: SpecsLike = None,
        *,
        min_gateways: int | None = None,
        allow_insecure_socket: bool = False,
        preload: Sequence[str] = (),
        prepare: Setup | None = None,
    ) -> None:
        self.preload = tuple(preload)
        self.prepare = prepare
        self._server: ForkServer | None = None
        self._starting: concurrent.futures.Future | None = None
        self.specs: GatewaySpecs = parse_specs(
            specs, allow_insecure_socket=allow_insecure_socket, min_gateways=min_gateways
        )
        crowded = crowding(self.specs)
        if crowded:
            warnings.warn(GatewayWarning(crowded), stacklevel=2)
        self._group: execnet.Group | None = None
        self._gateways: tuple[Gateway, ...] = ()
        self._lock = threading.Lock()  # restarts run in threads
        #: The gateways that did not start, when ``min_gateways`` let the pool go on.
        self.failures: tuple[GatewayStartError, ...] = ()

    def __enter__(self) -> GatewayPool:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Gateway]:
        return iter(self.gateways)

    def __len__(self) -> int:
        """The started gateways; before start, the specs (an ``auto`` count as one)."""
        return len(self.gateways) if self.started else len(self.specs)

    @property
    def started(self) -> bool:
        return self._group is not None

    @property
    def gateways(self) -> tuple[Gateway, ...]:
        """The started gateways; starts them, or waits for a background start."""
        if self._group is None:
            self.start()
        if self._starting is not None:
            self._finish_start()
        return self._gateways

    @property
    def ready(self) -> bool:
        """Whether :attr:`gateways` would answer at once (a start is not under way)."""
        return self._starting is None or self._starting.done()

    def start(self, background: bool = False) -> None:
        """Start every gateway at once; a no-op when already started.

        An ``auto`` count starts the rest of its gateways once the first reports its
        host's cores.  When some gateways fail but ``min_gateways`` start, a
        :class:`GatewayWarning` names the failed ones (also kept in :attr:`failures`).

        With ``background``, return once the fork server (if any) is up, and start
        the gateways in a thread while the caller goes on (reading its input, say);
        :attr:`gateways` then waits for them and raises what this would have.

        Raises :class:`GatewayStartError` naming a failed gateway when fewer than
        ``min_gateways`` start, and :class:`SpecError` when ``auto`` counts give
        fewer gateways than ``min_gateways``.
        """
        if self._group is not None:
            return
        group = execnet.Group()
        self._group = group
        starting: concurrent.futures.Future = concurrent.futures.Future()
        self._starting = starting
        # Now, in the caller's thread: a driver with no other thread running is forked
        # into the server at no cost; a server started from scratch pays off only
        # when it has imports or a setup to share.  Without one, workers start from
        # scratch.
        shared = bool(self.preload) or self.prepare is not None
        if any(forks.forkable(s.xspec) for s in self.specs) and (
                shared or forks.single_threaded()):
            with contextlib.suppress(OSError):
                self._server = ForkServer(self.preload)

        def start_all() -> None:
            try:
                starting.set_result(self._start_all(group))
            except BaseException as exc:  # handed to the thread that waits
                starting.set_exception(exc)

        if background:
            threading.Thread(target=start_all, name="nlp-parallel-start", daemon=True).start()
        else:
            start_all()
            self._finish_start()

    def _start_all(self, group: execnet.Group) -> tuple[list[Gateway], list[Failure]]:
        if self._server is not None and self.prepare is not None:
            # A setup that fails here fails again in each worker, which reports it.
            with contextlib.suppress(ForkServerError):
                self._server.prepare(self.prepare)
        started, failed = Starter(group, self.specs, self._server).start_all()
        require(self.specs, started, failed)
        return started, failed

    def _finish_start(self) -> None:
        starting = self._starting
        assert starting is not None
        try:
            started, failed = starting.result()
        except BaseException:
            self._starting = None
            self.close()
            raise
        self._starting = None
        self._gateways = tuple(started)
        self.failures = tuple(f.error() for f in failed)
        if failed:
            warnings.warn(GatewayWarning(going_on(self.specs, started, failed)), stacklevel=4)

    def restart(self, gw: Gateway) -> Gateway:
        """Kill ``gw`` (its worker may be hung) and start a new gateway from its spec.

        Safe to call from another thread.  Raises :class:`GatewayStartError` when
        the new gateway cannot start or the pool was closed meanwhile.
        """
        with self._lock:
            group = self._group
        if group is None:
            raise GatewayStartError(str(gw), "cannot restart: the pool is closed")
        kill(gw.gateway)
        try:
            new, _ = start_one(group, gw.spec, self._server)
        except NotStarted as exc:
            raise GatewayStartError(str(gw), f"could not restart: {exc}") from None
        with self._lock:
            if self._group is not group:  # closed while it started
                kill(new.gateway)
                raise GatewayStartError(str(gw), "cannot restart: the pool is closed")
            self._gateways = tuple(new if g.spec.id == gw.spec.id else g for g in self._gateways)
        return new

    def describe(self, pings: int = 5, timeout: float = 30.0) -> list[dict]:
        """What each gateway runs: its worker's handshake plus ``rtt_ms``, the median
        round trip of ``pings`` messages.

        Raises :class:`GatewayStartError` when a worker does not answer in time.
        """
        from . import worker  # the worker module is shipped as source
        from .modules import RemoteModule

        source = RemoteModule.resolve(worker).source
        described = []
        for gw in self.gateways:
            channel = gw.gateway.remote_exec(source)
            try:
                _, info = channel.receive(timeout)
                trips = []
                for _ in range(pings):
                    started = time.perf_counter()
                    channel.send(("ping", {}))
                    channel.receive(timeout)
                    trips.append(time.perf_counter() - started)
            except (execnet.TimeoutError, EOFError, OSError) as exc:
                raise GatewayStartError(str(gw), f"worker did not answer: {exc}") from None
            finally:
                channel.close()
            described.append({"gateway": str(gw), **info,
                              "rtt_ms": 1000 * sorted(trips)[len(trips) // 2]})
        return described

    def close(self) -> None:
        """Stop every gateway, killing those that do not exit in time."""
        starting, self._starting = self._starting, None
        if starting is not None:  # a background start: let it finish, then stop all
            concurrent.futures.wait([starting])
        with self._lock:
            group, self._group, self._gateways = self._group, None, ()
        if group is not None:
            group.terminate(timeout=STOP_TIMEOUT)
        server, self._server = self._server, None
        if server is not None:
            server.close()


def kill(gateway: execnet.Gateway) -> None:
    """Stop a gateway at once, killing its local process (popen, ssh client) if it
    has one; a worker hung inside a task cannot stop by itself.  A Dask pool's
    gateway kills the processes that run its work."""
    if not isinstance(gateway, execnet.Gateway):
        gateway.kill()
        return
    gateway.exit()
    io = gateway._io
    if hasattr(io, "kill"):
        io.kill()
        io.wait()


__all__ = ["STOP_TIMEOUT", "Gateway", "GatewayPool", "GatewayWarning", "kill"]
