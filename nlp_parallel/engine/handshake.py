"""What a worker must be for this driver to trust its results: its first message,
checked."""

from __future__ import annotations

import warnings

from .. import worker
from ..errors import HandshakeError
from ..gateways import GatewayWarning
from ..modules import RemoteModule


def local_nltk_version() -> str | None:
    """The NLTK version workers must have: the one this driver imports."""
    return worker.nltk_version()


def check_hello(spec: str, hello: dict, module: RemoteModule) -> None:
    """Refuse a worker this driver cannot trust to give the same results.

    A task that runs NLTK code -- a module importing ``nltk``, and every built-in task
    (``nlp_parallel.remote_tasks.*``; the pipeline imports nothing itself but runs steps that do)
    -- needs the driver's NLTK version on every worker.  A worker whose NLTK differs
    while the task does not use it only gets a
    :class:`~nlp_parallel.gateways.GatewayWarning`: its results cannot differ.

    Raises :class:`HandshakeError`.
    """
    if hello.get("protocol") != worker.PROTOCOL:
        raise HandshakeError(
            spec, f"worker speaks protocol {hello.get('protocol')}, this driver {worker.PROTOCOL}"
        )
    python = tuple(int(p) for p in str(hello.get("python", "0.0")).split(".")[:2])
    if python < (3, 8):
        raise HandshakeError(spec, f"runs Python {hello.get('python')}; workers need 3.8 or newer")
    ours, theirs = local_nltk_version(), hello.get("nltk")
    if ours is None or theirs == ours:
        return
    found = "no NLTK" if theirs is None else f"NLTK {theirs}"
    builtin = module.builtin
    if module.needs_nltk or builtin:
        what = "the built-in tasks run" if builtin else f"task {module.name} runs"
        raise HandshakeError(
            spec,
            f"has {found}, this driver NLTK {ours}; {what} NLTK code, which must be the "
            f"same version on every gateway: install nltk=={ours} there",
        )
    if theirs is not None:
        warnings.warn(GatewayWarning(
            f"gateway {spec}: has {found}, this driver NLTK {ours}; task {module.name} "
            f"does not import NLTK, so its results are the same, but tasks that do "
            f"will refuse this gateway"
        ), stacklevel=2)
