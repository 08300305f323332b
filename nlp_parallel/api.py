"""The map functions: seed-compatible ``map`` and streaming ``imap`` / ``imap_text``.

Each takes the remote module -- or a top-level function, shipped as its source
(:mod:`nlp_parallel.functions`) and called on each item -- the items and the
gateway ``specs`` (default: one popen
gateway per core; a ``dask.distributed.Client`` or a ``tcp://``/``tls://`` scheduler
address runs on that Dask cluster's workers), or a started :class:`GatewayPool`
(or :class:`~nlp_parallel.daskpool.DaskPool`) as ``pool=`` to reuse its gateways
across calls.  Keyword options:

``options``
    JSON data passed to the module's ``setup(options)`` once per worker.
``batch_size``
    ``"auto"`` (default: about 0.2 s of work per batch, measured per gateway) or a
    fixed number of items per batch.
``timeout``
    seconds a batch may run before its worker is taken for hung, killed and
    replaced (default: 100x the batch's expected time, and at least 300 s).
``start_timeout``
    seconds a worker may take to start and set up its task (default 60).
``on_error``
    ``"fail"`` (default) raises for an item the task raises on or that kills
    every worker given it; ``"record"`` puts an :class:`~nlp_parallel.ItemFailure`
    (in text mode, a JSON error line) in its place; ``"skip"`` leaves it out.
``max_restarts``
    times each gateway may be restarted after its worker dies or hangs (default 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import FunctionType, ModuleType
from typing import Any

from . import engine
from . import settings as run_settings
from .errors import ConfigError
from .modules import RemoteModule
from .pools import Pool, pool_for
from .settings import BatchSize, Emit, OnError
from .specs import SpecsLike

#: What runs remotely: a pure module (object, dotted name or resolved), or a
#: top-level function whose source is shipped as a module's ``process(item)``.
ModuleLike = ModuleType | str | RemoteModule | FunctionType


def imap(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    *,
    pool: Pool | None = None,
    options: Any = None,
    batch_size: BatchSize = "auto",
    timeout: float | None = None,
    start_timeout: float = 60.0,
    on_error: OnError | str = OnError.FAIL,
    max_restarts: int = run_settings.MAX_RESTARTS,
) -> Iterator[Any]:
    """Apply a remote module to ``args``; yield results in input order.

    ``args`` is consumed lazily, so an unbounded generator works and driver memory
    is bounded by the batches in flight.  A module defining ``process(item)`` or
    ``setup(options)`` runs in batches (items and results travel as JSON, so tuples
    come back as lists); any other module is run seed-style, one ``(i, arg)``
    message per item.  Gateways started here stop when the iterator is exhausted,
    closed or garbage collected; a borrowed ``pool`` is left running.

    Raises :class:`~nlp_parallel.errors.ConfigError` (``SpecError`` included) at
    once for bad arguments; while iterating, the errors listed in
    :func:`nlp_parallel.engine.run`.
    """
    settings = run_settings.run_options(options, batch_size, Emit.RESULTS, timeout, start_timeout,
                                   on_error, max_restarts)
    return _flatten(_start(module, args, specs, pool, settings))


def imap_text(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    *,
    pool: Pool | None = None,
    options: Any = None,
    batch_size: BatchSize = "auto",
    timeout: float | None = None,
    start_timeout: float = 60.0,
    on_error: OnError | str = OnError.FAIL,
    max_restarts: int = run_settings.MAX_RESTARTS,
) -> Iterator[str]:
    """Like :func:`imap`, but workers format results as text lines.

    Yields strings of complete ``\\n``-terminated lines, one line per item, in input
    order: ``format(index, item, result)`` of the module (or of the object its
    ``setup`` returned) where it defines one, the result as a JSON line otherwise.
    The driver never decodes them, so writing the chunks to a file costs almost
    nothing.
    """
    settings = run_settings.run_options(options, batch_size, Emit.TEXT, timeout, start_timeout,
                                   on_error, max_restarts)
    return _start(module, args, specs, pool, settings)


def map(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike = None,
    *,
    pool: Pool | None = None,
    options: Any = None,
    batch_size: BatchSize = "auto",
    timeout: float | None = None,
    start_timeout: float = 60.0,
    on_error: OnError | str = OnError.FAIL,
    max_restarts: int = run_settings.MAX_RESTARTS,
) -> list[Any]:
    """Seed-compatible: the results of :func:`imap` as a list."""
    settings = run_settings.run_options(options, batch_size, Emit.RESULTS, timeout, start_timeout,
                                   on_error, max_restarts)
    results: list[Any] = []
    for batch in _start(module, args, specs, pool, settings):
        results.extend(batch)
    return results


def _flatten(batches: Iterator[list[Any]]) -> Iterator[Any]:
    for batch in batches:
        yield from batch


def _start(
    module: ModuleLike,
    args: Iterable[Any],
    specs: SpecsLike,
    pool: Pool | None,
    settings: run_settings.RunOptions,
) -> Iterator[Any]:
    remote = RemoteModule.resolve(module)
    if pool is not None:
        if specs is not None:
            raise ConfigError("give either specs or pool, not both")
        return engine.run(pool.gateways, remote, args, settings, pool.restart)
    return _owned(pool_for(specs, remote, settings), remote, args, settings)


def _owned(
    pool: Pool, module: RemoteModule, args: Iterable[Any], settings: run_settings.RunOptions
) -> Iterator[Any]:
    with pool:
        yield from engine.run(pool.gateways, module, args, settings, pool.restart)


__all__ = ["imap", "imap_text", "map"]
