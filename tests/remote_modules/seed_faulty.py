"""A seed-style module that raises on item 37."""

if __name__ == "__channelexec__":
    for (i, arg) in channel:  # noqa: F821 - execnet provides ``channel``
        if arg == 37:
            raise ValueError("seed module cannot handle 37")
        channel.send((i, arg + 1))  # noqa: F821
