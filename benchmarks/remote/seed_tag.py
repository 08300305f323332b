"""Seed-style perceptron tagging, as users of the seed pattern write it.

Loads NLTK's model from the worker's own NLTK data (popen workers inherit NLTK_DATA).
"""

if __name__ == "__channelexec__":
    from nltk.tag import PerceptronTagger

    tagger = PerceptronTagger()
    for i, tokens in channel:  # noqa: F821 - execnet provides ``channel``
        channel.send((i, [tag for _, tag in tagger.tag(tokens)]))  # noqa: F821
