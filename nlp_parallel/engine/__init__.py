"""The engine: feed batches to gateways, yield results in input order, recover
from dead and hung workers and from items that fail (see :mod:`.session`)."""

from .session import (
    BATCH_WINDOW,
    SEED_WINDOW,
    SPLIT_WAYS,
    TICK,
    Session,
    check_hello,
    local_nltk_version,
    run,
)

__all__ = ["BATCH_WINDOW", "SEED_WINDOW", "SPLIT_WAYS", "TICK", "Session", "check_hello",
           "local_nltk_version", "run"]
