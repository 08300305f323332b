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
import os
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from nltk.corpus.reader import (
    ConllChunkCorpusReader,
    PlaintextCorpusReader,
    TaggedCorpusReader,
)
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.reader.util import StreamBackedCorpusView, read_blankline_block

from ..errors import ConfigError
from ..shard_reader import CONVERSIONS, BadData, jsonl_records

Kind = Literal["tokens", "tagged", "text"]
Record = dict[str, Any]
Records = Generator[Record, None, None]


#: What each view's records carry.
VIEW_KINDS: Mapping[str, Kind] = {
    "sents": "tokens",
    "tagged_sents": "tagged",
    "chunked_sents": "tagged",
    "parsed_sents": "tagged",
    "words": "tokens",
    "paras": "tokens",
    "raw": "text",
    "posts": "tokens",
    "tagged_posts": "tagged",
    "tagged_words": "tagged",
    "tagged_paras": "tagged",
    "chunked_paras": "tagged",
    "iob_sents": "tagged",
}

#: View of an NLTK reader -> the kind of record it makes and how.  The conversions
#: are the workers' own (:mod:`nlp_parallel.shard_reader`), so both read alike.
READER_VIEWS: Mapping[str, tuple[Kind, Callable[[Any], Record]]] = {
    view: (kind, CONVERSIONS[view]) for view, kind in VIEW_KINDS.items()
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

    def bad_data(self, fields: Mapping[str, Any]) -> ConfigError:
        """The error for a problem as :class:`~nlp_parallel.shard_reader.BadData`
        reports it, its ``item``, ``line`` and ``offset`` counted from the file's start."""
        fileid, kind, detail = fields["fileid"], fields["kind"], fields["detail"]
        if kind == "decode":
            return self.decode_error(fileid, fields.get("offset"), fields.get("byte"))
        if kind == "jsonl":
            return self.fail(fileid, f" line {fields['line']}: {detail}")
        if kind == "sandbox":
            return self.fail(fileid, f": refused by NLTK's path sandbox ({detail})")
        item = fields["item"]
        return self.fail(fileid, f": cannot be read as {self.format} at item {item} ({detail})")


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
            raise files.bad_data({"fileid": fileid, "kind": "sandbox", "detail": str(exc)}) from exc
        except (ValueError, IndexError) as exc:
            detail = " ".join(str(exc).split("\n")[:2])  # NLTK's message and the block's first line
            fields = {"fileid": fileid, "kind": "parse", "detail": detail, "item": count + 1}
            raise files.bad_data(fields) from exc


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
            try:
                yield from jsonl_records(stream, self.view, files.encoding, fileid)
            except BadData as exc:
                raise files.bad_data(exc.fields) from None


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
