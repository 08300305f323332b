"""Gateway specs: parse and validate them once, before any gateway starts.

Accepted forms, freely mixed in one list:

- the seed's ``(spec, count)`` pairs: ``[("popen", 2), ("ssh=host//python=python3", 4)]``;
- plain execnet spec strings (one gateway each): ``"popen//python=python3.11"``;
- pytest-xdist's ``"N*spec"`` shorthand: ``"4*popen"``.

``None`` means one popen gateway per CPU core of this machine.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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

SpecItem = str | tuple[str, int] | Sequence[object]
SpecsLike = str | Iterable[SpecItem] | Iterable["GatewaySpec"] | None


@dataclass(frozen=True)
class GatewaySpec:
    """One gateway to start: an execnet spec string and the id it will carry."""

    spec: str
    id: str

    @property
    def xspec(self) -> execnet.XSpec:
        """The execnet spec, with this gateway's id."""
        return execnet.XSpec(f"{self.spec}//id={self.id}")

    @property
    def via(self) -> str | None:
        return execnet.XSpec(self.spec).via

    def __str__(self) -> str:
        return f"{self.id} ({self.spec})"


def default_specs() -> list[tuple[str, int]]:
    """One popen gateway per CPU core."""
    return [("popen", os.cpu_count() or 1)]


def parse_specs(specs: SpecsLike = None) -> tuple[GatewaySpec, ...]:
    """Expand ``specs`` into one validated :class:`GatewaySpec` per gateway.

    Raises :class:`SpecError` naming the offending entry and what would be valid.
    """
    if specs is None:
        specs = default_specs()
    if isinstance(specs, str):
        specs = [specs]
    specs = _as_list(specs)
    if specs and all(isinstance(s, GatewaySpec) for s in specs):
        return tuple(specs)  # already validated
    pairs = [_split_item(item) for item in specs]
    if not pairs:
        raise SpecError("no gateway specs given; e.g. [('popen', 2)]")
    result: list[GatewaySpec] = []
    for spec, count in pairs:
        explicit_id = _validate(spec)
        body = _without_id(spec)
        if explicit_id is not None:
            if count != 1:
                raise SpecError(
                    f"gateway spec {spec!r}: id={explicit_id} names one gateway, "
                    f"but the count is {count}"
                )
            result.append(GatewaySpec(body, explicit_id))
        else:
            result.extend(GatewaySpec(body, "") for _ in range(count))
    return _assign_ids(result)


def _as_list(specs: Iterable[Any]) -> list[Any]:
    try:
        return list(specs)
    except TypeError:
        raise SpecError(
            f"gateway specs must be a list of spec strings or (spec, count) pairs, "
            f"not {type(specs).__name__}"
        ) from None


def _split_item(item: SpecItem) -> tuple[str, int]:
    if isinstance(item, execnet.XSpec):
        return str(item), 1
    if isinstance(item, str):
        head, star, tail = item.partition("*")
        if star and head.strip().isdigit():
            return tail.strip(), _check_count(item, int(head))
        return item.strip(), 1
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
        return item[0].strip(), _check_count(item[0], item[1])
    raise SpecError(
        f"gateway spec {item!r}: expected a spec string such as 'popen' "
        f"or a (spec, count) pair such as ('popen', 2)"
    )


def _check_count(spec: str, count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError(
            f"gateway spec {spec!r}: count must be a positive integer, not {count!r}"
        )
    return count


def _validate(spec: str) -> str | None:
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


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, KNOWN_KEYS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; valid keys: {', '.join(KNOWN_KEYS)}, env:NAME"


def _without_id(spec: str) -> str:
    return "//".join(k for k in spec.split("//") if not k.startswith("id="))


def _assign_ids(specs: list[GatewaySpec]) -> tuple[GatewaySpec, ...]:
    taken = {s.id for s in specs if s.id}
    if len(taken) != sum(1 for s in specs if s.id):
        raise SpecError("gateway ids must be unique")
    counter = 0
    result = []
    for s in specs:
        if not s.id:
            while f"gw{counter}" in taken:
                counter += 1
            s = GatewaySpec(s.spec, f"gw{counter}")
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
    return tuple(result)
