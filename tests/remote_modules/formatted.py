"""A batched module with a text formatter."""


def process(item):
    return item.upper()


def format(index, item, result):
    return "%d\t%s\t%s" % (index, item, result)
