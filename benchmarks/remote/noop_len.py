"""A task that does nothing but count a record's tokens: what a run costs the
driver, with no work to hide it."""


def process(item):
    return len(item["tokens"])
