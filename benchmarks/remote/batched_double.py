"""The same trivial task as a batched module."""


def process(item):
    return item * 2
