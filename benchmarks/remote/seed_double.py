"""Seed-style trivial task: one (i, arg) message in, one (i, result) out."""

if __name__ == "__channelexec__":
    for i, arg in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((i, arg * 2))  # noqa: F821
