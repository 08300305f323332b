"""Gateway specs: parse and validate them once, before any gateway starts.

Accepted forms, freely mixed in one list:

- the seed's ``(spec, count)`` pairs: ``[("popen", 2), ("ssh=host//python=python3", 4)]``;
- plain execnet spec strings (one gateway each): ``"popen//python=python3.11"``;
- pytest-xdist's ``"N*spec"`` shorthand: ``"4*popen"``.

A count may be ``"auto"`` (``("ssh=host", "auto")``, ``"auto*ssh=host"``): one gateway
per CPU core of the machine the spec reaches -- this one for a plain ``popen``, the
remote host's otherwise, found when the first of them starts.  A hosts file lists
many hosts, one ``SPEC [COUNT]`` per line (:func:`read_hosts_file`).

``None`` means one popen gateway per CPU core of this machine.

execnet's socket server runs whatever code it receives, unauthenticated, so a
``socket=`` spec must point at a loopback address unless the caller passes
``allow_insecure_socket=True`` (job key ``allow_insecure_socket: true``).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import execnet

from .errors import SpecError

#: Keys execnet understands, besides ``env:NAME``.
KNOWN_KEYS = (
    "popen",
    "ssh",
    "socket",
    "vagrant_ssh",
    "python",
    "chdir",
    "nice",
    "via",
    "id",
    "execmodel",
    "dont_write_bytecode",
    "ssh_config",
)
TRANSPORTS = ("popen", "ssh", "socket", "vagrant_ssh")
EXECMODELS = ("thread", "main_thread_only", "eventlet", "gevent")
_COMMENT = re.compile(r"(?:^|\s)#")

#: A gateway count: a number, or one gateway per core of the host the spec reaches.
Count = int | Literal["auto"]
SpecItem = str | tuple[str, Count] | Sequence[object]
SpecsLike = str | Iterable[SpecItem] | Iterable["GatewaySpec"] | None

#: More popen gateways on this machine than this many per CPU core draw a warning: each
#: is a process with its own interpreter and copy of the task, so past one per core
#: they add memory and start-up time, not speed ([[popen, 1000]] on two cores took
#: 135 s and 5 GB).  A few per core are left alone, for tasks that wait on I/O.
POPEN_PER_CORE = 4

#: Why a socket= spec to another machine is refused unless the caller allows it.
SOCKET_RISK = (
    "execnet's socket server runs any code it receives, without authentication, so "
    "anyone who can reach that port can run code as its user"
)


@dataclass(frozen=True)
class GatewaySpec:
    """One gateway to start: an execnet spec string and the id it will carry.

    With ``auto``, this is the first of as many gateways as its host has cores; the
    others are started once it reports the count, with ids ``ID.1``, ``ID.2``, ...
    """

    spec: str
    id: str
    auto: bool = False

    #: Batches it may hold at once; None: as many as the protocol keeps in flight (a
    #: worker runs them in turn, so one waits behind the other, never beside it).
    window: ClassVar[int | None] = None

    @property
    def xspec(self) -> execnet.XSpec:
        """The execnet spec, with this gateway's id."""
        return execnet.XSpec(f"{self.spec}//id={self.id}")

    @property
    def via(self) -> str | None:
        return execnet.XSpec(self.spec).via

    @property
    def local(self) -> bool:
        """Whether the gateway runs on this machine (a popen, not reached via another)."""
        return _is_local(self.spec)

    def __str__(self) -> str:
        return f"{self.id} ({self.spec})"


class GatewaySpecs(tuple[GatewaySpec, ...]):
    """Validated gateway specs, and how many of their gateways must start.

    ``min_gateways`` is None when every gateway must start.  It travels with the
    specs so that everything starting a job's gateways -- a run, ``check``, a research
    object given ``specs=job.specs`` -- honours it.
    """

    min_gateways: int | None

    def __new__(
        cls, specs: Iterable[GatewaySpec] = (), min_gateways: int | None = None
    ) -> GatewaySpecs:
        self = super().__new__(cls, specs)
        self.min_gateways = min_gateways
        return self

    @property
    def has_auto(self) -> bool:
        """Whether a count is only known once a gateway reports its host's cores."""
        return any(s.auto for s in self)


def default_specs() -> list[tuple[str, int]]:
    """One popen gateway per CPU core."""
    return [("popen", os.cpu_count() or 1)]


def parse_specs(
    specs: SpecsLike = None,
    *,
    allow_insecure_socket: bool = False,
    min_gateways: int | None = None,
) -> GatewaySpecs:
    """Expand ``specs`` into one validated :class:`GatewaySpec` per gateway.

    ``min_gateways`` (default: all of them) is how many must start for a run to go
    on; given here it replaces the one ``specs`` may already carry.  A ``socket=``
    spec to a host that is not loopback is refused unless ``allow_insecure_socket``.

    Raises :class:`SpecError` naming the offending entry and what would be valid.
    """
    if specs is None:
        specs = default_specs()
    if isinstance(specs, str):
        specs = [specs]
    if isinstance(specs, GatewaySpecs):
        return with_min_gateways(specs, min_gateways)  # validated, socket policy included
    specs = _as_list(specs)
    if specs and all(isinstance(s, GatewaySpec) for s in specs):
        # built by hand: well-formed, but perhaps without leave for an insecure socket
        if not allow_insecure_socket:
            for s in specs:
                _check_socket(s.spec, execnet.XSpec(s.spec))
        return with_min_gateways(GatewaySpecs(specs), min_gateways)
    pairs = [_split_item(item) for item in specs]
    if not pairs:
        raise SpecError("no gateway specs given; e.g. [('popen', 2)]")
    result: list[GatewaySpec] = []
    for spec, count in pairs:
        explicit_id = _validate(spec, allow_insecure_socket)
        body = _without_id(spec)
        if explicit_id is not None:
            if count != 1:
                raise SpecError(
                    f"gateway spec {spec!r}: id={explicit_id} names one gateway, "
                    f"but the count is {count}"
                )
            result.append(GatewaySpec(body, explicit_id))
            continue
        if count == "auto" and _is_local(spec):
            count = os.cpu_count() or 1
        if count == "auto":
            result.append(GatewaySpec(body, "", auto=True))
        else:
            result.extend(GatewaySpec(body, "") for _ in range(count))
    return with_min_gateways(_assign_ids(result), min_gateways)


def crowding(specs: GatewaySpecs) -> str | None:
    """A warning when ``specs`` start more than :data:`POPEN_PER_CORE` popen gateways
    per CPU core of this machine; None otherwise."""
    local = sum(1 for s in specs if _is_local(s.spec))
    cores = os.cpu_count() or 1
    if local <= POPEN_PER_CORE * cores:
        return None
    return (f"{local} popen gateways on this machine's {cores} CPU "
            f"core{'s' if cores > 1 else ''} (more than {POPEN_PER_CORE} per core): each is a "
            f"worker process with its own copy of the task, so beyond one per core (the "
            f"default) they add memory and start-up time, not speed")


def with_min_gateways(specs: GatewaySpecs, min_gateways: int | None) -> GatewaySpecs:
    """``specs`` requiring at least ``min_gateways`` started gateways (None: all).

    Raises :class:`SpecError` for a count that is not a positive integer or that
    exceeds the gateways the specs give (when their number is known before start).
    """
    if min_gateways is None:
        return specs
    if isinstance(min_gateways, bool) or not isinstance(min_gateways, int) or min_gateways < 1:
        raise SpecError(f"min_gateways: expected a positive integer, not {min_gateways!r}")
    if not specs.has_auto and min_gateways > len(specs):
        raise SpecError(
            f"min_gateways: {min_gateways} is more than the {len(specs)} gateway(s) "
            f"the specs give"
        )
    return GatewaySpecs(specs, min_gateways)


def read_hosts_file(path: str, allow_insecure_socket: bool = False) -> list[tuple[str, Count]]:
    """Read a hosts file: ``(spec, count)`` pairs, validated, for :func:`parse_specs`.

    One gateway spec per line, optionally followed by a count (a number or ``auto``,
    the default).  A spec that does not start with a transport (``popen``,
    ``ssh=``, ``socket=``, ``vagrant_ssh=``) is an ssh host: ``node1`` means
    ``ssh=node1`` and ``node1//python=/opt/nlp/bin/python`` means
    ``ssh=node1//python=/opt/nlp/bin/python``.  ``#`` starts a comment; blank lines
    are skipped.

    Raises :class:`SpecError` naming the file, and the line for a bad entry.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such hosts file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the hosts file ({exc})") from None
    entries: list[tuple[str, Count]] = []
    for number, line in enumerate(lines, 1):
        try:
            entry = _hosts_line(line, allow_insecure_socket)
        except SpecError as exc:
            raise SpecError(f"{path} line {number}: {exc}") from None
        if entry is not None:
            entries.append(entry)
    if not entries:
        raise SpecError(f"{path}: lists no hosts")
    return entries


def _hosts_line(line: str, allow_insecure_socket: bool) -> tuple[str, Count] | None:
    # '#' at the start or after a space begins a comment; inside a path it does not
    fields = _COMMENT.split(line, maxsplit=1)[0].split()
    if not fields:
        return None
    if len(fields) > 2:
        raise SpecError(f"expected 'SPEC [COUNT]', not {line.strip()!r}")
    spec = fields[0]
    if spec.split("//", 1)[0].split("=", 1)[0] not in TRANSPORTS:
        spec = f"ssh={spec}"
    spec, count = _split_item((spec, _hosts_count(fields[1]) if len(fields) == 2 else "auto"))
    _validate(spec, allow_insecure_socket)
    return spec, count


def _hosts_count(text: str) -> Count:
    if text == "auto":
        return "auto"
    if text.isdigit():
        return int(text)
    raise SpecError(f"count must be a positive integer or auto, not {text!r}")


def _as_list(specs: Iterable[Any]) -> list[Any]:
    try:
        return list(specs)
    except TypeError:
        raise SpecError(
            f"gateway specs must be a list of spec strings or (spec, count) pairs, "
            f"not {type(specs).__name__}"
        ) from None


def _split_item(item: SpecItem) -> tuple[str, Count]:
    if isinstance(item, execnet.XSpec):
        return str(item), 1
    if isinstance(item, str):
        head, star, tail = item.partition("*")
        head = head.strip()
        if star and (head.isdigit() or head == "auto"):
            return tail.strip(), _check_count(item, "auto" if head == "auto" else int(head))
        return item.strip(), 1
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
        return item[0].strip(), _check_count(item[0], item[1])
    raise SpecError(
        f"gateway spec {item!r}: expected a spec string such as 'popen' "
        f"or a (spec, count) pair such as ('popen', 2)"
    )


def _check_count(spec: str, count: object) -> Count:
    if count == "auto":
        return "auto"
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError(
            f"gateway spec {spec!r}: count must be a positive integer or auto, not {count!r}"
        )
    return count


def _is_local(spec: str) -> bool:
    """Whether ``spec`` runs on this machine, whose core count is known now."""
    xspec = execnet.XSpec(spec)
    return bool(xspec.popen) and xspec.via is None


def _validate(spec: str, allow_insecure_socket: bool = False) -> str | None:
    """Check one spec string; return its explicit id, if it has one."""
    if not spec:
        raise SpecError("empty gateway spec; e.g. 'popen' or 'ssh=host'")
    if any(not part or part.startswith("=") for part in spec.split("//")):
        raise SpecError(f"gateway spec {spec!r}: empty key between '//' separators")
    try:
        xspec = execnet.XSpec(spec)
    except (ValueError, AttributeError) as exc:
        raise SpecError(f"gateway spec {spec!r}: {exc}") from None
    for key in spec.split("//"):
        name = key.split("=", 1)[0]
        if name.startswith("env:"):
            if len(name) == 4:
                raise SpecError(f"gateway spec {spec!r}: env: needs a variable name")
            continue
        if name not in KNOWN_KEYS:
            raise SpecError(f"gateway spec {spec!r}: unknown key {name!r}{_suggest(name)}")
    transports = [t for t in TRANSPORTS if getattr(xspec, t)]
    if len(transports) != 1:
        raise SpecError(
            f"gateway spec {spec!r}: needs exactly one of "
            f"{', '.join(TRANSPORTS)}; found {len(transports) or 'none'}"
        )
    for key in ("ssh", "socket", "vagrant_ssh", "python", "chdir", "via", "id", "nice"):
        if getattr(xspec, key) is True:
            raise SpecError(f"gateway spec {spec!r}: {key} needs a value, e.g. {key}=...")
    if xspec.popen not in (None, True):
        raise SpecError(f"gateway spec {spec!r}: popen takes no value")
    if xspec.socket:
        host, _, port = xspec.socket.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SpecError(f"gateway spec {spec!r}: socket must be host:port")
        if not allow_insecure_socket:
            _check_socket(spec, xspec)
    if xspec.nice is not None:
        try:
            int(xspec.nice)
        except (TypeError, ValueError):
            raise SpecError(
                f"gateway spec {spec!r}: nice must be an integer, not {xspec.nice!r}"
            ) from None
    if xspec.execmodel is not None and xspec.execmodel not in EXECMODELS:
        raise SpecError(
            f"gateway spec {spec!r}: execmodel must be one of {', '.join(EXECMODELS)}"
        )
    return xspec.id


def _check_socket(spec: str, xspec: execnet.XSpec) -> None:
    """Refuse a socket gateway to another machine: see :data:`SOCKET_RISK`."""
    if not xspec.socket:
        return
    host = xspec.socket.rpartition(":")[0]
    if not _is_loopback(host):
        raise SpecError(
            f"gateway spec {spec!r}: refusing a socket gateway to {host}, which is not "
            f"loopback: {SOCKET_RISK}; use ssh= instead, or, on a network you trust, "
            f"set allow_insecure_socket: true in the job "
            f"(allow_insecure_socket=True in Python)"
        )


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; other names are not resolved (DNS can lie)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, KNOWN_KEYS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; valid keys: {', '.join(KNOWN_KEYS)}, env:NAME"


def _without_id(spec: str) -> str:
    return "//".join(k for k in spec.split("//") if not k.startswith("id="))


def _assign_ids(specs: list[GatewaySpec]) -> GatewaySpecs:
    taken = {s.id for s in specs if s.id}
    if len(taken) != sum(1 for s in specs if s.id):
        raise SpecError("gateway ids must be unique")
    counter = 0
    result = []
    for s in specs:
        if not s.id:
            while f"gw{counter}" in taken:
                counter += 1
            s = GatewaySpec(s.spec, f"gw{counter}", s.auto)
            taken.add(s.id)
        result.append(s)
    for s in result:
        if s.via is not None and s.via not in taken:
            raise SpecError(
                f"gateway spec {s.spec!r}: via={s.via} names no gateway; "
                f"give one spec id={s.via}"
            )
        if s.via == s.id:
            raise SpecError(f"gateway spec {s.spec!r}: a gateway cannot go via itself")
    return GatewaySpecs(result)
