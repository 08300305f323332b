"""Starting gateways: all at once, each in a thread, a few at a time per ssh host.

Every new gateway answers a probe before it counts as started, which also reports
its host's cores for ``auto`` counts; a gateway that does not start is described
in words a user can act on (the ssh command to try, the interpreter's last line).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import shlex
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import execnet

from . import forks
from .errors import GatewayStartError, SpecError
from .forks import ForkServer, ForkServerError
from .specs import GatewaySpec, GatewaySpecs

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


@dataclass(frozen=True)
class Gateway:
    """A started gateway and the spec it came from."""

    spec: GatewaySpec
    gateway: execnet.Gateway

    def __str__(self) -> str:
        return str(self.spec)


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


class NotStarted(Exception):
    """Why one gateway did not start; the starter turns it into a :class:`Failure`."""


@dataclass(frozen=True)
class Failure:
    """A gateway that did not start, and why."""

    spec: GatewaySpec
    reason: str

    def error(self) -> GatewayStartError:
        return GatewayStartError(str(self.spec), self.reason)


class Starter:
    """Starts a pool's gateways concurrently, a few at a time per ssh host."""

    def __init__(self, group: execnet.Group, specs: GatewaySpecs,
                 server: ForkServer | None) -> None:
        self.group = group
        self.server = server
        self.specs = specs
        self.taken = {s.id for s in specs}
        self._lock = threading.Lock()
        self._per_host: dict[tuple[str | None, ...], threading.Semaphore] = {}

    def start_all(self) -> tuple[list[Gateway], list[Failure]]:
        """Start every spec, wave by wave; return the gateways in spec order, and
        the failures."""
        outcome: dict[str, tuple[list[Gateway], list[Failure]]] = {}
        for wave in _waves(self.specs):
            ready = []
            for spec in wave:
                if spec.via is not None and not outcome[spec.via][0]:
                    why = f"not started: it goes via {spec.via}, which did not start"
                    outcome[spec.id] = ([], [Failure(spec, why)])
                else:
                    ready.append(spec)
            outcome.update(zip((s.id for s in ready), _concurrently(self.start_spec, ready)))
        started = [gw for s in self.specs for gw in outcome[s.id][0]]
        failed = [f for s in self.specs for f in outcome[s.id][1]]
        return started, failed

    def start_spec(self, spec: GatewaySpec) -> tuple[list[Gateway], list[Failure]]:
        """Start one spec's gateway -- for ``auto``, then one more per further core."""
        try:
            first, cpus = self.start_one(spec)
        except NotStarted as exc:
            return [], [Failure(spec, str(exc))]
        if not spec.auto:
            return [first], []
        more = [GatewaySpec(spec.spec, i) for i in self._more_ids(spec.id, cpus - 1)]
        outcomes = _concurrently(self.attempt, more)
        started = [first] + [o for o in outcomes if isinstance(o, Gateway)]
        return started, [o for o in outcomes if isinstance(o, Failure)]

    def attempt(self, spec: GatewaySpec) -> Gateway | Failure:
        try:
            return self.start_one(spec)[0]
        except NotStarted as exc:
            return Failure(spec, str(exc))

    def start_one(self, spec: GatewaySpec) -> tuple[Gateway, int]:
        """Start and probe one gateway; return it and its host's core count.

        Raises :class:`NotStarted` saying why it did not start.
        """
        with self._slot(spec):
            return start_one(self.group, spec, self.server)

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


def start_one(group: execnet.Group, spec: GatewaySpec,
               server: ForkServer | None) -> tuple[Gateway, int]:
    """Start and probe one gateway, forked from ``server`` when its spec allows;
    return it and its host's core count.

    Raises :class:`NotStarted` saying why it did not start.
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
        raise NotStarted(_why_not_started(spec, exc)) from None
    return Gateway(spec, gateway), _probe(spec, gateway)


def _concurrently(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[func(item) for item in items]``, each call in its own thread."""
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(items)) as executor:
        return list(executor.map(func, items))


def _probe(spec: GatewaySpec, gateway: execnet.Gateway) -> int:
    """The core count the new gateway reports.

    Raises :class:`NotStarted` when it does not answer.
    """
    try:
        channel = gateway.remote_exec(_PROBE)
        cpus = channel.receive(PROBE_TIMEOUT)
    except execnet.TimeoutError:
        raise NotStarted(f"started, but did not answer within {PROBE_TIMEOUT:g} s") from None
    except (OSError, EOFError, execnet.RemoteError):
        raise NotStarted(_exited(spec, gateway)) from None
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


def require(specs: GatewaySpecs, started: list[Gateway], failed: list[Failure]) -> None:
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


def going_on(specs: GatewaySpecs, started: list[Gateway], failed: list[Failure]) -> str:
    total = len(started) + len(failed)
    return (f"{len(failed)} of {total} gateways did not start; going on with "
            f"{len(started)} (min_gateways {specs.min_gateways}): "
            + "; ".join(str(f.error()) for f in failed))
