"""A seed-style module over corpus records: the number of tokens of each."""
if __name__ == "__channelexec__":
    for (i, record) in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((i, len(record["tokens"])))  # noqa: F821
