"""The engine: feed batches to gateways, yield results in input order, recover
from dead and hung workers and from items that fail (see :mod:`.session`).

:mod:`.protocols` holds the two ways workers talk (the batched protocol of
:mod:`nlp_parallel.worker`, and seed-style modules' own ``(i, arg)`` loop) and
:mod:`.handshake` what a worker must be for its results to be trusted.
"""

from .handshake import check_hello, local_nltk_version
from .protocols import BATCH_WINDOW, SEED_WINDOW
from .session import SPLIT_WAYS, TICK, Session, run

__all__ = ["BATCH_WINDOW", "SEED_WINDOW", "SPLIT_WAYS", "TICK", "Session", "check_hello",
           "local_nltk_version", "run"]
