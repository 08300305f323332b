"""The pool of workers a run gets: execnet gateways, or a Dask cluster's workers."""

from __future__ import annotations

from typing import Any

from .daskpool import DaskPool, DaskTarget, target_of
from .errors import ConfigError
from .forks import sharing
from .gateways import GatewayPool
from .modules import RemoteModule
from .settings import RunOptions

#: What runs a session's batches: both offer ``gateways``, ``restart``, ``start``
#: and ``close``.
Pool = GatewayPool | DaskPool


def pool_for(specs: Any, module: RemoteModule, settings: RunOptions) -> Pool:
    """A pool for ``specs``: a :class:`DaskPool` for a Dask target (a
    ``dask.distributed.Client``, a ``tcp://`` or ``tls://`` address, a
    :class:`DaskTarget`), else execnet gateways, whose popen workers fork from a
    server that set the task up already."""
    target = target_of(specs)
    if target is None:
        return GatewayPool(specs, **sharing(module, settings.encoded))
    return dask_pool(target, module, settings)


def dask_pool(target: DaskTarget, module: RemoteModule, settings: RunOptions) -> DaskPool:
    if not module.batched:
        raise ConfigError(f"module {module.name}: runs on Dask only with process(item) or "
                          f"setup(options); a module that loops over its channel itself "
                          f"needs execnet gateways")
    return DaskPool(target)


__all__ = ["Pool", "dask_pool", "pool_for"]
