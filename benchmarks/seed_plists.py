"""The seed pattern nlp_parallel replaces, as it is commonly written (plists.map).

One item per channel message, sent round-robin and all up front; results collected
from a MultiChannel queue.  Kept here only as the baseline benchmarks compare against.
"""

import itertools

import execnet


def map(mod, args, specs=(("popen", 2),)):
    gateways = []
    channels = []
    for spec, count in specs:
        for _ in range(count):
            gw = execnet.makegateway(spec)
            gateways.append(gw)
            channels.append(gw.remote_exec(mod))
    cyc = itertools.cycle(channels)
    for i, arg in enumerate(args):
        channel = next(cyc)
        channel.send((i, arg))
    mch = execnet.MultiChannel(channels)
    queue = mch.make_receive_queue()
    results = [None] * len(args)
    for _ in range(len(args)):
        channel, (i, result) = queue.get()
        results[i] = result
    for gw in gateways:
        gw.exit()
    return results
