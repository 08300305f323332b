"""Run NLTK's corpus work in parallel over execnet gateways, in corpus order.

    import nlp_parallel
    results = nlp_parallel.map(my_remote_module, items, [("popen", 2)])
"""

import gc as _gc

# Importing the toolkit imports NLTK: tens of thousands of objects that live as long
# as the process.  Collecting garbage while they are created finds none and takes
# 5-10 % of the import's time, so the collector waits until they are in.
_collecting = _gc.isenabled()
_gc.disable()
try:
    from .api import imap, imap_text, map
    from .errors import (
        ConfigError,
        EncodeError,
        GatewayError,
        GatewayLost,
        GatewayStartError,
        HandshakeError,
        ItemError,
        NlpParallelError,
        OutputAppeared,
        OutputError,
        RemoteTaskError,
        ResourceMissing,
        PoisonItem,
        SpecError,
    )
    from .gateways import GatewayPool
    from .modules import RemoteModule
    from .counting import load_counts
    from .research import ParallelChunker, ParallelStemmer, ParallelTagger
    from .research_count import collocations, conditional_freq_dist, count, freq_dist
    from .settings import ItemFailure, OnError
    from .specs import GatewaySpec, parse_specs

    from .remote_tasks.chunk import TagChunker  # noqa: E402  (serial class, usable anywhere)
finally:
    if _collecting:
        _gc.enable()

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "EncodeError",
    "GatewayError",
    "GatewayLost",
    "GatewayPool",
    "GatewaySpec",
    "GatewayStartError",
    "HandshakeError",
    "ItemError",
    "ItemFailure",
    "NlpParallelError",
    "OnError",
    "OutputAppeared",
    "OutputError",
    "ParallelChunker",
    "ParallelStemmer",
    "ParallelTagger",
    "PoisonItem",
    "RemoteModule",
    "RemoteTaskError",
    "ResourceMissing",
    "SpecError",
    "TagChunker",
    "collocations",
    "conditional_freq_dist",
    "count",
    "freq_dist",
    "imap",
    "imap_text",
    "load_counts",
    "map",
    "parse_specs",
]
