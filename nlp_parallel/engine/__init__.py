"""The engine: feed batches to gateways, yield results in input order, recover
from dead and hung workers and from items that fail.

Its pieces, each testable on its own:

- :mod:`.session` -- the loop (:class:`Session`, :func:`run`): fills every node's
  window, dispatches messages through a table, watches timeouts, delivers;
- :mod:`.feed` -- a run's input read into numbered batches, and those to send again;
- :mod:`.nodes` -- one gateway's channel, its state and its restarts;
- :mod:`.protocols` -- the two ways workers talk: the batched protocol of
  :mod:`nlp_parallel.worker`, and seed-style modules' own ``(i, arg)`` loop;
- :mod:`.handshake` -- what a worker must be for its results to be trusted;
- :mod:`.recovery` -- what a failure costs and what is sent again: pure decisions;
- :mod:`.reorder` -- results back in input order.

Which batch goes where is :mod:`nlp_parallel.scheduler`'s.
"""

from .handshake import check_hello, local_nltk_version
from .protocols import BATCH_WINDOW, SEED_WINDOW
from .recovery import SPLIT_WAYS
from .session import TICK, Session, run

__all__ = ["BATCH_WINDOW", "SEED_WINDOW", "SPLIT_WAYS", "TICK", "Session", "check_hello",
           "local_nltk_version", "run"]
