"""Seed-style RegexpParser chunking: (i, [[word, tag], ...]) in, (i, iob tags) out."""

if __name__ == "__channelexec__":
    from nltk.chunk import RegexpParser, tree2conlltags

    parser = RegexpParser(r"NP: {<AT|PP\$>?<JJ.*>*<NN.*>+}")
    for i, tagged in channel:  # noqa: F821 - execnet provides ``channel``
        tree = parser.parse([tuple(pair) for pair in tagged])
        channel.send((i, [iob for _, _, iob in tree2conlltags(tree)]))  # noqa: F821
