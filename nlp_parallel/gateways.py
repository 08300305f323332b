"""Start, hold and stop a job's execnet gateways."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

import execnet

from .errors import GatewayStartError, SpecError
from .specs import GatewaySpec, SpecsLike, parse_specs

#: Seconds a stopping gateway may take to finish its current batch before it is killed.
STOP_TIMEOUT = 2.0


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

    Raises :class:`SpecError` for malformed specs (before anything starts) and
    :class:`GatewayStartError` when a gateway cannot be started.
    """

    def __init__(self, specs: SpecsLike = None) -> None:
        self.specs = parse_specs(specs)
        self._group: execnet.Group | None = None
        self._gateways: tuple[Gateway, ...] = ()
        self._lock = threading.Lock()  # restarts run in threads

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
        return len(self.specs)

    @property
    def started(self) -> bool:
        return self._group is not None

    @property
    def gateways(self) -> tuple[Gateway, ...]:
        if self._group is None:
            self.start()
        return self._gateways

    def start(self) -> None:
        """Start every gateway; a no-op when already started."""
        if self._group is not None:
            return
        group = execnet.Group()
        self._group = group
        try:
            started: dict[str, execnet.Gateway] = {}
            for wave in _waves(self.specs):
                started.update(_start_concurrently(group, wave))
        except BaseException:
            self.close()
            raise
        self._gateways = tuple(Gateway(s, started[s.id]) for s in self.specs)

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
            new = Gateway(gw.spec, group.makegateway(gw.spec.xspec))
        except Exception as exc:  # execnet raises plain exceptions of many kinds
            raise GatewayStartError(
                str(gw), f"could not restart: {type(exc).__name__}: {exc}".rstrip(": ")
            ) from None
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
        with self._lock:
            group, self._group, self._gateways = self._group, None, ()
        if group is not None:
            group.terminate(timeout=STOP_TIMEOUT)


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


def _start_concurrently(
    group: execnet.Group, specs: list[GatewaySpec]
) -> dict[str, execnet.Gateway]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(specs)) as executor:
        futures = {executor.submit(group.makegateway, s.xspec): s for s in specs}
        started = {}
        failure: GatewayStartError | None = None
        for future in concurrent.futures.as_completed(futures):
            spec = futures[future]
            try:
                started[spec.id] = future.result()
            except Exception as exc:  # execnet raises plain exceptions of many kinds
                failure = failure or GatewayStartError(
                    str(spec), f"could not start: {type(exc).__name__}: {exc}".rstrip(": ")
                )
    if failure is not None:
        raise failure
    return started
