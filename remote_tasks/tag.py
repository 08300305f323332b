"""Part-of-speech tagging in a worker.

Self-contained (standard library and NLTK only): the model arrives as the JSON
params NLTK itself saves, so the worker needs no NLTK data.

Options: ``model: perceptron`` with ``params: [weights, tagdict, classes]`` as
returned by ``PerceptronTagger.encode_json_obj()``.
Item: a list of tokens.  Result: the list of their tags.
"""

import json

from nltk.tag.perceptron import PerceptronTagger


class Tag:
    def __init__(self, options):
        self.tagger = PerceptronTagger.decode_json_obj(options["params"])

    def __call__(self, tokens):
        return [tag for _, tag in self.tagger.tag(tokens)]

    def format(self, index, tokens, tags):
        return json.dumps({"index": index, "tokens": tokens, "tags": tags}, ensure_ascii=False)


def setup(options):
    return Tag(options)
