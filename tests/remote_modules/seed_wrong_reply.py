"""A seed-style module that answers with the argument instead of its index."""

if __name__ == "__channelexec__":
    for (i, arg) in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((arg + 1000, arg))  # noqa: F821
