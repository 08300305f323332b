"""Tokenizing a text into sentences of tokens in a worker, with NLTK's tokenizers.

Self-contained (standard library and NLTK only).  The worker needs no NLTK data:
the Punkt model arrives as the text of its ``punkt_tab`` files and NLTK's own
``load_punkt_params`` reads it, through an in-memory path pointer, exactly as
``PunktTokenizer(language)`` reads the installed files.

Options, as built by ``nlp_parallel.tasks.tokenize``: ``sentences`` (punkt, lines
or none), ``words`` (the word tokenizer), ``args`` (its constructor arguments; for
word, ``preserve_line``) and, when Punkt is used, ``punkt`` (file name -> text).
Item: a text.  Result: its sentences, each a list of tokens.
"""

import io
import json
from types import MappingProxyType

from nltk.data import PathPointer, SeekableUnicodeStreamReader
from nltk.tokenize import (
    LineTokenizer,
    NLTKWordTokenizer,
    RegexpTokenizer,
    TreebankWordTokenizer,
    TweetTokenizer,
    WhitespaceTokenizer,
    WordPunctTokenizer,
)
from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params


class ShippedModel(PathPointer):
    """NLTK's path pointer interface over a model directory shipped as texts.

    ``join(name)`` points at one file; ``open`` gives the same stream class NLTK
    opens installed files with, so every loader splits lines as it does on the driver.
    """

    def __init__(self, files, name=None):
        self.files = files
        self.name = name

    def join(self, fileid):
        if fileid not in self.files:
            raise FileNotFoundError(f"the driver shipped no {fileid!r}")
        return ShippedModel(self.files, fileid)

    def _bytes(self):
        return self.files[self.name].encode("utf-8")

    def open(self, encoding=None):
        stream = io.BytesIO(self._bytes())
        return stream if encoding is None else SeekableUnicodeStreamReader(stream, encoding)

    def file_size(self):
        return len(self._bytes())


def punkt(files):
    """``PunktTokenizer(language)`` rebuilt from the texts of its punkt_tab files."""
    return PunktSentenceTokenizer(load_punkt_params(ShippedModel(files)))


def word_tokenizer(punkt, preserve_line):
    """``word_tokenize(text, language, preserve_line)`` with the shipped Punkt model."""
    words = NLTKWordTokenizer()

    def tokenize(text):
        sentences = [text] if preserve_line else punkt.tokenize(text)
        return [token for sentence in sentences for token in words.tokenize(sentence)]

    return tokenize


#: Sentence splitter -> its factory, given the Punkt tokenizer (None if not shipped).
SENTENCES = MappingProxyType(
    {
        "punkt": lambda punkt: punkt.tokenize,
        "lines": lambda punkt: LineTokenizer().tokenize,  # blank lines discarded
        "none": lambda punkt: lambda text: [text],
    }
)

#: Word tokenizer -> its factory, given the Punkt tokenizer and the shipped arguments.
WORDS = MappingProxyType(
    {
        "word": lambda punkt, args: word_tokenizer(punkt, **args),
        "treebank": lambda punkt, args: TreebankWordTokenizer().tokenize,
        "regexp": lambda punkt, args: RegexpTokenizer(**args).tokenize,
        "whitespace": lambda punkt, args: WhitespaceTokenizer().tokenize,
        "wordpunct": lambda punkt, args: WordPunctTokenizer().tokenize,
        "tweet": lambda punkt, args: TweetTokenizer(**args).tokenize,
    }
)


class Tokenize:
    def __init__(self, options):
        model = punkt(options["punkt"]) if "punkt" in options else None
        self.sentences = SENTENCES[options["sentences"]](model)
        self.words = WORDS[options["words"]](model, options["args"])

    def __call__(self, text):
        if not isinstance(text, str):
            raise TypeError(f"a tokenize item is a text, not {type(text).__name__}")
        return [self.words(sentence) for sentence in self.sentences(text)]

    def format(self, index, text, sentences):
        return json.dumps({"index": index, "sentences": sentences}, ensure_ascii=False)


def setup(options):
    return Tokenize(options)
