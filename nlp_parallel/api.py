"""The map functions: seed-compatible ``map`` and streaming ``imap`` / ``imap_text``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

from . import engine
from .engine import BatchSize, Emit
from .gateways import GatewayPool
from .modules import RemoteModule
from .specs import SpecsLike

ModuleLike = ModuleType | str | RemoteModule


def imap(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    *,
    options: Any = None,
    batch_size: BatchSize = "auto",
    timeout: float | None = None,
    pool: GatewayPool | None = None,
) -> Iterator[Any]:
    """Apply a remote module to ``args``; yield results in input order.

    ``args`` is consumed lazily, so an unbounded generator works and driver memory
    is bounded by the batches in flight.  A module defining ``process(item)`` runs
    in batches (``setup(options)`` is called once per worker; items and results
    travel as JSON, so tuples come back as lists); any other module is run
    seed-style, one ``(i, arg)`` message per item.  Gateways come from ``specs``
    (default: one popen gateway per core) and stop when the iterator is exhausted,
    closed or garbage collected -- or are borrowed from ``pool`` and left running.

    Raises :class:`~nlp_parallel.errors.ConfigError` (including ``SpecError``) at
    once for bad arguments; while iterating, the errors listed in
    :func:`nlp_parallel.engine.run`.
    """
    return _start(module, args, specs, pool, engine.run_options(options, batch_size, Emit.RESULTS, timeout))


def imap_text(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    *,
    options: Any = None,
    batch_size: BatchSize = "auto",
    timeout: float | None = None,
    pool: GatewayPool | None = None,
) -> Iterator[str]:
    """Like :func:`imap`, but workers format results as text lines.

    Yields strings of complete ``\\n``-terminated lines, one per item, in input
    order: ``format(index, item, result)`` of the module where it defines one, the
    result as one JSON line otherwise.  The driver never decodes them, so writing
    the chunks to a file costs almost nothing.
    """
    return _start(module, args, specs, pool, engine.run_options(options, batch_size, Emit.TEXT, timeout))


def map(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    **kwargs: Any,
) -> list[Any]:
    """Seed-compatible: :func:`imap` collected into a list."""
    return list(imap(module, args, specs, **kwargs))


def _start(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike,
    pool: GatewayPool | None,
    settings: engine.RunOptions,
) -> Iterator[Any]:
    remote = RemoteModule.resolve(module)
    if pool is not None:
        if specs is not None:
            raise TypeError("give either specs or pool, not both")
        return engine.run(pool.gateways, remote, args, settings)
    return _owned(GatewayPool(specs), remote, args, settings)


def _owned(
    pool: GatewayPool, module: RemoteModule, args: Iterable[Any], settings: engine.RunOptions
) -> Iterator[Any]:
    with pool:
        yield from engine.run(pool.gateways, module, args, settings)


__all__ = ["imap", "imap_text", "map"]
