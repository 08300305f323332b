"""Seed-style Porter stemming: (i, tokens) in, (i, stems) out."""

if __name__ == "__channelexec__":
    from nltk.stem import PorterStemmer

    stemmer = PorterStemmer()
    for i, tokens in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((i, [stemmer.stem(t) for t in tokens]))  # noqa: F821
