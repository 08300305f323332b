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

from __future__ import annotations

import io
import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

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

    def __init__(self, files: dict[str, str], name: str | None = None) -> None:
        self.files = files
        self.name = name

    def join(self, fileid: str) -> ShippedModel:
        if fileid not in self.files:
            raise FileNotFoundError(f"the driver shipped no {fileid!r}")
        return ShippedModel(self.files, fileid)

    def _bytes(self) -> bytes:
        assert self.name is not None  # a file's pointer, from join
        return self.files[self.name].encode("utf-8")

    def open(self, encoding: str | None = None) -> io.BytesIO | SeekableUnicodeStreamReader:
        stream = io.BytesIO(self._bytes())
        return stream if encoding is None else SeekableUnicodeStreamReader(stream, encoding)

    def file_size(self) -> int:
        return len(self._bytes())


def punkt(files: dict[str, str]) -> PunktSentenceTokenizer:
    """``PunktTokenizer(language)`` rebuilt from the texts of its punkt_tab files."""
    return PunktSentenceTokenizer(load_punkt_params(ShippedModel(files)))


def word_tokenizer(punkt: PunktSentenceTokenizer | None,
                   preserve_line: bool) -> Callable[[str], list[str]]:
    """``word_tokenize(text, language, preserve_line)`` with the shipped Punkt model,
    which may be None with ``preserve_line``: that does not split with it."""
    words = NLTKWordTokenizer()

    def tokenize(text: str) -> list[str]:
        if preserve_line:
            sentences = [text]
        else:
            assert punkt is not None  # the driver ships Punkt whenever it splits
            sentences = punkt.tokenize(text)
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
    def __init__(self, options: dict[str, Any]) -> None:
        model = punkt(options["punkt"]) if "punkt" in options else None
        self.sentences = SENTENCES[options["sentences"]](model)
        self.words = WORDS[options["words"]](model, options["args"])

    def __call__(self, text: object) -> list[list[str]]:
        if not isinstance(text, str):
            raise TypeError(f"a tokenize item is a text, not {type(text).__name__}")
        return [self.words(sentence) for sentence in self.sentences(text)]

    def format(self, index: int, text: str, sentences: list[list[str]]) -> str:
        return json.dumps({"index": index, "sentences": sentences}, ensure_ascii=False)


def setup(options: dict[str, Any]) -> Tokenize:
    return Tokenize(options)
