"""A batched module: the worker loop calls process() once per item."""


def process(item):
    return item * 2
