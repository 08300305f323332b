# The seed example, verbatim: a pure module that loops over its channel.
if __name__ == "__channelexec__":
    for (i, arg) in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((i, arg * 2))  # noqa: F821
