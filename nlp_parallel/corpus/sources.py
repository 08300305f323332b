"""The sources that stream a corpus's records, one fileid at a time.

The reading is NLTK's own: each view is the corpus reader's method of that name
(``treebank.parsed_sents``, ``PlaintextCorpusReader.sents``, ...), called for one
fileid at a time, so records equal what NLTK yields and memory stays flat -- a
``StreamBackedCorpusView`` holds its current block plus one offset per block read,
and is dropped at the end of its file.  JSONL is the one format of ours.

What NLTK raises on bad user data becomes a :class:`~nlp_parallel.errors.ConfigError`
naming the file, and the line (JSONL) or byte offset (a bad encoding).
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nltk.corpus.reader import (
    ConllChunkCorpusReader,
    PlaintextCorpusReader,
    TaggedCorpusReader,
)
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.reader.util import StreamBackedCorpusView, read_blankline_block
from nltk.tree import Tree

from ..errors import ConfigError

Kind = Literal["tokens", "tagged", "text"]
Record = dict[str, Any]
Records = Generator[Record, None, None]


def _pos(parse: Any) -> list[tuple[str, str]]:
    """(word, tag) pairs of a parse: an ``nltk.Tree`` or a ``DependencyGraph``."""
    if isinstance(parse, Tree):
        return parse.pos()
    return [(node["word"], node["tag"]) for address, node in sorted(parse.nodes.items()) if address]


def _tagged(pairs: Sequence[tuple[str, str]]) -> Record:
    return {"tokens": [word for word, _ in pairs], "tags": [tag for _, tag in pairs]}


#: View of an NLTK reader -> the kind of record it makes and how.
READER_VIEWS: Mapping[str, tuple[Kind, Callable[[Any], Record]]] = {
    "sents": ("tokens", lambda sent: {"tokens": list(sent)}),
    "tagged_sents": ("tagged", _tagged),
    "chunked_sents": ("tagged", lambda tree: _tagged(tree.leaves())),
    "parsed_sents": ("tagged", lambda parse: _tagged(_pos(parse))),
    "words": ("tokens", lambda word: {"tokens": [word]}),
    "paras": ("tokens", lambda para: {"tokens": [word for sent in para for word in sent]}),
    "raw": ("text", lambda text: {"text": text}),
}

#: NLTK's reader for each format of user files (JSONL is read by this module).
FORMAT_READERS: Mapping[str, Callable[[str, list[str], str], CorpusReader]] = {
    "text": lambda root, fileids, enc: PlaintextCorpusReader(root, fileids, encoding=enc),
    "tagged": lambda root, fileids, enc: TaggedCorpusReader(root, fileids, encoding=enc),
    "conll": lambda root, fileids, enc: ConllChunkCorpusReader(root, fileids, None, encoding=enc),
    "jsonl": lambda root, fileids, enc: CorpusReader(root, fileids, encoding=enc),
}


@dataclass(frozen=True)
class UserFiles:
    """Where user files lie and how to name them in a message."""

    root: str
    format: str
    encoding: str
    key: str

    def display(self, fileid: str) -> str:
        return os.path.normpath(os.path.join(self.root, fileid))

    def fail(self, fileid: str, message: str) -> ConfigError:
        return ConfigError(f"{self.key}: {self.display(fileid)}{message}")

    def decode_error(self, fileid: str, offset: int | None, byte: int | None) -> ConfigError:
        where = "" if offset is None else f" (byte 0x{byte:02x} at offset {offset})"
        return self.fail(fileid, f": not valid {self.encoding}{where}")


class Source:
    """Reads one view of an NLTK reader, one fileid at a time."""

    def __init__(
        self,
        reader: CorpusReader,
        view: str,
        fileids: tuple[str, ...],
        convert: Callable[[Any], Record],
        files: UserFiles | None = None,
    ) -> None:
        self.reader = reader
        self.view = view
        self.fileids = fileids
        self.convert = convert
        self.files = files
        self.one_per_file = view == "raw"

    def read(self, fileid: str) -> Records:
        if self.files is None:
            return self._read(fileid)
        return self._guarded(fileid)

    def _view(self, fileid: str) -> Any:
        if self.view == "raw":
            return [self.reader.raw([fileid])]
        if self.files is not None and self.files.format == "text" and self.view == "paras":
            # PlaintextCorpusReader splits paragraphs with read_blankline_block; the
            # paragraphs are kept as text here, so they are read with it directly.
            pointer, encoding = self.reader.abspath(fileid), self.reader.encoding(fileid)
            return StreamBackedCorpusView(pointer, read_blankline_block, encoding=encoding)
        return getattr(self.reader, self.view)([fileid])

    def _read(self, fileid: str) -> Records:
        view = self._view(fileid)
        try:
            for item in view:
                yield self.convert(item)
        finally:
            close = getattr(view, "close", None)
            if callable(close):
                close()

    def _guarded(self, fileid: str) -> Records:
        """Read user files, turning what NLTK raises on bad input into ConfigError."""
        files = self.files
        assert files is not None
        count = 0
        try:
            for record in self._read(fileid):
                yield record
                count += 1
        except UnicodeDecodeError as exc:
            offset, byte = _first_bad_byte(self.reader.abspath(fileid), files.encoding)
            raise files.decode_error(fileid, offset, byte) from exc
        except PermissionError as exc:
            raise files.fail(fileid, f": refused by NLTK's path sandbox ({exc})") from exc
        except (ValueError, IndexError) as exc:
            detail = " ".join(str(exc).split("\n")[:2])  # NLTK's message and the block's first line
            message = f": cannot be read as {files.format} at item {count + 1} ({detail})"
            raise files.fail(fileid, message) from exc


class JsonlSource(Source):
    """One JSON object per line: ``{"tokens": [...]}``, plus ``"tags"`` for the
    ``tagged_sents`` view, or ``{"text": "..."}`` for ``raw``.  Other keys are
    ignored; blank lines are skipped."""

    def __init__(
        self, reader: CorpusReader, view: str, fileids: tuple[str, ...], files: UserFiles
    ) -> None:
        super().__init__(reader, view, fileids, READER_VIEWS[view][1], files)
        self.one_per_file = False

    def read(self, fileid: str) -> Records:
        files = self.files
        assert files is not None
        with self.reader.abspath(fileid).open() as stream:  # bytes, through pathsec
            offset = 0
            for number, line in enumerate(stream, 1):
                try:
                    text = line.decode(files.encoding)
                except UnicodeDecodeError as exc:
                    raise files.decode_error(fileid, offset + exc.start, line[exc.start]) from None
                offset += len(line)
                text = text.rstrip("\r\n")  # so a column is a column of this line
                if number == 1:
                    text = text.removeprefix("\ufeff")
                if not text.strip():
                    continue
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise files.fail(
                        fileid, f" line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
                    ) from None
                problem = _jsonl_problem(value, self.view)
                if problem:
                    raise files.fail(fileid, f" line {number}: {problem}")
                if self.view == "raw":
                    yield {"text": value["text"]}
                elif self.view == "tagged_sents":
                    yield {"tokens": value["tokens"], "tags": value["tags"]}
                else:
                    yield {"tokens": value["tokens"]}


#: The keys each JSONL view needs in a record, and the record's shape.
JSONL_KEYS = {"sents": ("tokens",), "tagged_sents": ("tokens", "tags"), "raw": ("text",)}
JSONL_SHAPES = {
    "sents": '{"tokens": [...]}',
    "tagged_sents": '{"tokens": [...], "tags": [...]}',
    "raw": '{"text": "..."}',
}
JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _json_type(value: object) -> str:
    return "null" if value is None else JSON_TYPES.get(type(value), "a number")


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _jsonl_problem(value: object, view: str) -> str | None:
    """What is wrong with one JSONL record for ``view``, or None."""
    if not isinstance(value, dict):
        return f"expected a JSON object, not {_json_type(value)}"
    for key in JSONL_KEYS[view]:
        if key not in value:
            return f'no "{key}" (view {view} reads {JSONL_SHAPES[view]})'
    if view == "raw":
        text = value["text"]
        return None if isinstance(text, str) else f'"text" is {_json_type(text)}, not a string'
    for key in ("tokens", "tags"):
        if key in value and not _strings(value[key]):
            return f'"{key}" must be a list of strings'
    if "tags" in value and len(value["tags"]) != len(value["tokens"]):
        return f'"tags" has {len(value["tags"])} items but "tokens" has {len(value["tokens"])}'
    return None


def _first_bad_byte(pointer: Any, encoding: str) -> tuple[int | None, int | None]:
    """Offset and value of the first byte of a file that ``encoding`` cannot decode,
    found by decoding it again in chunks (NLTK's reader reports only a block offset)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
    with pointer.open() as stream:
        while True:
            chunk = stream.read(1 << 16)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return consumed - pending + exc.start, exc.object[exc.start]
            if not chunk:
                return None, None
            consumed += len(chunk)
