"""Start, hold and stop a job's execnet gateways.

All gateways of a pool start at once, each in its own thread: starting one is mostly
waiting (ssh's connection and key exchange, an interpreter's start-up), so eight
start in about the time of one.  Every new gateway answers a probe before it counts
as started, which also reports its host's cores for ``auto`` counts.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import shlex
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import execnet

from . import forks
from .errors import GatewayStartError, SpecError
from .forks import ForkServer, ForkServerError, Setup
from .specs import GatewaySpec, GatewaySpecs, SpecsLike, crowding, parse_specs

#: Seconds a stopping gateway may take to finish its current batch before it is killed.
STOP_TIMEOUT = 2.0
#: Seconds a started gateway may take to answer its probe.
PROBE_TIMEOUT = 30.0
#: ssh connections opened to one host at a time: sshd drops unauthenticated
#: connections beyond its MaxStartups (10 by default), so more would fail at random.
SSH_STARTS_PER_HOST = 8

#: Run on every new gateway: proves it serves, and reports its host's cores.
_PROBE = "import os; channel.send(os.cpu_count() or 1)"

_T = TypeVar("_T")
_R = TypeVar("_R")


class GatewayWarning(UserWarning):
    """A gateway problem that does not stop the run, such as a host that did not start
    while ``min_gateways`` others did, or far more popen workers than cores."""


@dataclass(frozen=True)
class Gateway:
    """A started gateway and the spec it came from."""

    spec: GatewaySpec
    gateway: execnet.Gateway

    def __str__(self) -> str:
        return str(self.spec)


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

    def _start_all(self, group: execnet.Group) -> tuple[list[Gateway], list[_Failure]]:
        if self._server is not None and self.prepare is not None:
            # A setup that fails here fails again in each worker, which reports it.
            with contextlib.suppress(ForkServerError):
                self._server.prepare(self.prepare)
        started, failed = _Starter(group, self.specs, self._server).start_all()
        _require(self.specs, started, failed)
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
            warnings.warn(GatewayWarning(_going_on(self.specs, started, failed)), stacklevel=4)

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
            new, _ = _start_one(group, gw.spec, self._server)
        except _NotStarted as exc:
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
    has one; a worker hung inside a task cannot stop by itself."""
    gateway.exit()
    io = gateway._io
    if hasattr(io, "kill"):
        io.kill()
        io.wait()


def _waves(specs: tuple[GatewaySpec, ...]) -> list[list[GatewaySpec]]:
    """Order specs so that a ``via=`` gateway starts after the one it goes through."""
    waves: list[list[GatewaySpec]] = []
    done: set[str] = set()
    remaining = list(specs)
    while remaining:
        wave = [s for s in remaining if s.via is None or s.via in done]
        if not wave:
            raise SpecError(f"gateway specs go via each other in a cycle: {remaining[0]}")
        waves.append(wave)
        done.update(s.id for s in wave)
        remaining = [s for s in remaining if s.id not in done]
    return waves


class _NotStarted(Exception):
    """Why one gateway did not start; the starter turns it into a :class:`_Failure`."""


@dataclass(frozen=True)
class _Failure:
    """A gateway that did not start, and why."""

    spec: GatewaySpec
    reason: str

    def error(self) -> GatewayStartError:
        return GatewayStartError(str(self.spec), self.reason)


class _Starter:
    """Starts a pool's gateways concurrently, a few at a time per ssh host."""

    def __init__(self, group: execnet.Group, specs: GatewaySpecs,
                 server: ForkServer | None) -> None:
        self.group = group
        self.server = server
        self.specs = specs
        self.taken = {s.id for s in specs}
        self._lock = threading.Lock()
        self._per_host: dict[tuple[str | None, ...], threading.Semaphore] = {}

    def start_all(self) -> tuple[list[Gateway], list[_Failure]]:
        """Start every spec, wave by wave; return the gateways in spec order, and
        the failures."""
        outcome: dict[str, tuple[list[Gateway], list[_Failure]]] = {}
        for wave in _waves(self.specs):
            ready = []
            for spec in wave:
                if spec.via is not None and not outcome[spec.via][0]:
                    why = f"not started: it goes via {spec.via}, which did not start"
                    outcome[spec.id] = ([], [_Failure(spec, why)])
                else:
                    ready.append(spec)
            outcome.update(zip((s.id for s in ready), _concurrently(self.start_spec, ready)))
        started = [gw for s in self.specs for gw in outcome[s.id][0]]
        failed = [f for s in self.specs for f in outcome[s.id][1]]
        return started, failed

    def start_spec(self, spec: GatewaySpec) -> tuple[list[Gateway], list[_Failure]]:
        """Start one spec's gateway -- for ``auto``, then one more per further core."""
        try:
            first, cpus = self.start_one(spec)
        except _NotStarted as exc:
            return [], [_Failure(spec, str(exc))]
        if not spec.auto:
            return [first], []
        more = [GatewaySpec(spec.spec, i) for i in self._more_ids(spec.id, cpus - 1)]
        outcomes = _concurrently(self.attempt, more)
        started = [first] + [o for o in outcomes if isinstance(o, Gateway)]
        return started, [o for o in outcomes if isinstance(o, _Failure)]

    def attempt(self, spec: GatewaySpec) -> Gateway | _Failure:
        try:
            return self.start_one(spec)[0]
        except _NotStarted as exc:
            return _Failure(spec, str(exc))

    def start_one(self, spec: GatewaySpec) -> tuple[Gateway, int]:
        """Start and probe one gateway; return it and its host's core count.

        Raises :class:`_NotStarted` saying why it did not start.
        """
        with self._slot(spec):
            return _start_one(self.group, spec, self.server)

    def _slot(self, spec: GatewaySpec) -> contextlib.AbstractContextManager[object]:
        xspec = spec.xspec
        host = xspec.ssh or xspec.vagrant_ssh
        if not host:
            return contextlib.nullcontext()
        key = (xspec.via, host, xspec.ssh_config)
        with self._lock:
            slot = self._per_host.setdefault(key, threading.Semaphore(SSH_STARTS_PER_HOST))
        return slot

    def _more_ids(self, first: str, count: int) -> list[str]:
        ids: list[str] = []
        n = 1
        with self._lock:
            while len(ids) < count:
                if f"{first}.{n}" not in self.taken:
                    ids.append(f"{first}.{n}")
                    self.taken.add(ids[-1])
                n += 1
        return ids


def _start_one(group: execnet.Group, spec: GatewaySpec,
               server: ForkServer | None) -> tuple[Gateway, int]:
    """Start and probe one gateway, forked from ``server`` when its spec allows;
    return it and its host's core count.

    Raises :class:`_NotStarted` saying why it did not start.
    """
    xspec = spec.xspec
    try:
        gateway = None
        if server is not None and forks.forkable(xspec):
            with contextlib.suppress(ForkServerError):  # gone: start it from scratch
                gateway = forks.makegateway(group, xspec, server)
        if gateway is None:
            gateway = group.makegateway(xspec)
    except Exception as exc:  # execnet raises plain exceptions of many kinds
        raise _NotStarted(_why_not_started(spec, exc)) from None
    return Gateway(spec, gateway), _probe(spec, gateway)


def _concurrently(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[func(item) for item in items]``, each call in its own thread."""
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(items)) as executor:
        return list(executor.map(func, items))


def _probe(spec: GatewaySpec, gateway: execnet.Gateway) -> int:
    """The core count the new gateway reports.

    Raises :class:`_NotStarted` when it does not answer.
    """
    try:
        channel = gateway.remote_exec(_PROBE)
        cpus = channel.receive(PROBE_TIMEOUT)
    except execnet.TimeoutError:
        raise _NotStarted(f"started, but did not answer within {PROBE_TIMEOUT:g} s") from None
    except (OSError, EOFError, execnet.RemoteError):
        raise _NotStarted(_exited(spec, gateway)) from None
    return cpus if isinstance(cpus, int) and cpus > 0 else 1


def _exited(spec: GatewaySpec, gateway: execnet.Gateway) -> str:
    """Why a gateway closed as it started, from its command's exit status.

    execnet returns a gateway even when the remote command exits at once (a wrong
    ``python=``), so the status of the local ssh or Python process is the only clue.
    """
    popen = getattr(getattr(gateway, "_io", None), "popen", None)
    status = None
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            status = popen.wait(timeout=STOP_TIMEOUT)
    python = spec.xspec.python or "python"
    if status == 127:
        return (f"no Python {python!r} on the host (exit status 127); "
                f"give its interpreter with python=/path/to/python")
    if status is not None:
        return (f"the gateway exited as it started (exit status {status}); "
                f"is python={python} a Python 3.8 or newer?")
    return "the gateway closed its connection as it started"


def _why_not_started(spec: GatewaySpec, exc: Exception) -> str:
    """One line saying why execnet could not start ``spec``."""
    xspec = spec.xspec
    host = xspec.ssh or xspec.vagrant_ssh
    command = ["ssh", *(["-F", xspec.ssh_config] if xspec.ssh_config else []),
               *(host or "").split(), "true"]
    check = f"check that `{shlex.join(command)}` works without a prompt"
    if isinstance(exc, execnet.HostNotFound) and host:
        return (f"ssh could not connect to {host} or log in there (exit status 255; "
                f"ssh's own message is on stderr); {check}")
    if isinstance(exc, (BrokenPipeError, EOFError)) and host:
        # ssh exited while execnet was still sending its bootstrap, so its exit
        # status is lost: a refused connection and a missing python= look alike.
        return (f"ssh could not connect to {host} or log in there, or python="
                f"{xspec.python or 'python'} did not start there (ssh exited as the "
                f"gateway started; its own message is on stderr); {check}")
    if isinstance(exc, execnet.HostNotFound):
        return f"cannot resolve the host of socket={xspec.socket}"
    if isinstance(exc, FileNotFoundError) and xspec.popen:
        return f"no such Python: {exc.filename}"
    if isinstance(exc, OSError) and xspec.socket:
        return f"cannot connect to socket={xspec.socket}: {exc.strerror or exc}"
    if isinstance(exc, (BrokenPipeError, EOFError)):
        return (f"the gateway exited as it started (its pipe closed); "
                f"is python={xspec.python or 'python'} a Python 3.8 or newer?")
    if isinstance(exc, AssertionError) and host:
        return ("the host answered the bootstrap with unexpected output; does a shell "
                "start-up file there print to stdout?")
    return f"could not start: {type(exc).__name__}: {exc}".rstrip(": ")


def _require(specs: GatewaySpecs, started: list[Gateway], failed: list[_Failure]) -> None:
    """Raise unless enough gateways started: all, or ``specs.min_gateways``."""
    wanted = specs.min_gateways
    if failed and (wanted is None or len(started) < wanted):
        first, others = failed[0], failed[1:]
        reason = first.reason
        if others:
            reason += (f"; {len(others)} more did not start: "
                       f"{', '.join(f.spec.id for f in others)}")
        if wanted is not None:
            reason += f"; {len(started)} started, fewer than min_gateways ({wanted})"
        raise GatewayStartError(str(first.spec), reason)
    if wanted is not None and len(started) < wanted:
        raise SpecError(
            f"min_gateways: {wanted} is more than the {len(started)} gateway(s) "
            f"the specs gave once their auto counts were known"
        )


def _going_on(specs: GatewaySpecs, started: list[Gateway], failed: list[_Failure]) -> str:
    total = len(started) + len(failed)
    return (f"{len(failed)} of {total} gateways did not start; going on with "
            f"{len(started)} (min_gateways {specs.min_gateways}): "
            + "; ".join(str(f.error()) for f in failed))
