"""The sources that stream a corpus's records, one fileid at a time.

The reading is NLTK's own: each view is the corpus reader's method of that name
(``treebank.parsed_sents``, ``PlaintextCorpusReader.sents``, ...), called for one
fileid at a time, so records equal what NLTK yields and memory stays flat -- a
``StreamBackedCorpusView`` holds its current block plus one offset per block read,
and is dropped at the end of its file.  JSONL, CSV and TSV are read here, line by
line (CSV and TSV with Python's :mod:`csv`).

A compressed file (:mod:`.compressed`) is read decompressed: JSONL, CSV and TSV as a
stream; for NLTK's readers, which seek back and forth in a file, it is first
decompressed into a private temporary directory, one file at a time, which is
removed once the file is read.  Standard input is read the same ways.

What NLTK raises on bad user data becomes a :class:`~nlp_parallel.errors.ConfigError`
naming the file, and the line (JSONL) or byte offset (a bad encoding).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import nltk
from nltk.corpus.reader import (
    ConllChunkCorpusReader,
    PlaintextCorpusReader,
    TaggedCorpusReader,
)
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.reader.util import StreamBackedCorpusView, read_blankline_block

from ..errors import ConfigError
from ..shard_reader import CONVERSIONS, BadData, jsonl_records
from .compressed import DAMAGED, compression_name, copy_to, decompressed, open_stream
from .spec import Table

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
    "csv": lambda root, fileids, enc: CorpusReader(root, fileids, encoding=enc),
    "tsv": lambda root, fileids, enc: CorpusReader(root, fileids, encoding=enc),
}

#: The :mod:`csv` dialect of each table format.
DIALECTS: Mapping[str, str] = {"csv": "excel", "tsv": "excel-tab"}

#: The fileid standard input is read as.
STDIN = "-"


class StdinReader(CorpusReader):
    """The reader of a corpus on standard input: a stream, not a file, so it has no
    path (``abspath`` raises ValueError, as for a fileid defined in code)."""

    def __init__(self, encoding: str) -> None:  # no root to open, so none to authorize
        self._root = None
        self._fileids = [STDIN]
        self._encoding = encoding
        self._tagset = None

    def abspath(self, fileid: str) -> Any:
        raise ValueError("standard input is a stream, not a file")


@dataclass(frozen=True)
class UserFiles:
    """Where user files lie and how to name them in a message."""

    root: str
    format: str
    encoding: str
    key: str
    compression: Mapping[str, str] = field(default_factory=dict)  # fileid -> gzip, ...
    stdin: bool = False

    def display(self, fileid: str) -> str:
        if self.stdin:
            return "standard input"
        return os.path.normpath(os.path.join(self.root, fileid))

    def fail(self, fileid: str, message: str) -> ConfigError:
        return ConfigError(f"{self.key}: {self.display(fileid)}{message}")

    def decode_error(self, fileid: str, offset: int | None, byte: int | None) -> ConfigError:
        of = " of its decompressed text" if fileid in self.compression else ""
        where = "" if offset is None else f" (byte 0x{byte:02x} at offset {offset}{of})"
        return self.fail(fileid, f": not valid {self.encoding}{where}")

    def bad_data(self, fields: Mapping[str, Any]) -> ConfigError:
        """The error for a problem as :class:`~nlp_parallel.shard_reader.BadData`
        reports it, its ``item``, ``line`` and ``offset`` counted from the file's start."""
        fileid, kind, detail = fields["fileid"], fields["kind"], fields["detail"]
        if kind == "decode":
            return self.decode_error(fileid, fields.get("offset"), fields.get("byte"))
        if kind in ("jsonl", "table"):
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
        if self.files.stdin or fileid in self.files.compression:
            return self._spooled(fileid)
        return self._guarded(fileid)

    def sizes(self) -> dict[str, int]:
        """The size in bytes of each file (compressed, where it is).  Raises
        ValueError or OSError for a fileid that is no file (standard input)."""
        return {fileid: self.reader.abspath(fileid).file_size() for fileid in self.fileids}

    @contextlib.contextmanager
    def open_bytes(self, fileid: str) -> Iterator[IO[bytes]]:
        """The bytes of one of the user's files, or of standard input, decompressed."""
        files = self.files
        assert files is not None
        if files.stdin:
            with open_stream(sys.stdin.buffer) as stream:
                yield stream
        else:
            compression = files.compression.get(fileid)
            with self.reader.abspath(fileid).open() as raw, \
                    decompressed(raw, compression) as stream:
                yield stream

    def _spooled(self, fileid: str) -> Records:
        """Read a compressed file, or standard input, with NLTK's reader: from a copy
        of its text in a private temporary directory, authorized for NLTK's path
        sandbox while it is read.  Errors name the file as the user gave it."""
        files = self.files
        assert files is not None
        with tempfile.TemporaryDirectory(prefix="nlp-parallel-") as directory:
            target = os.path.join(directory, *fileid.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with self.open_bytes(fileid) as stream:
                try:
                    copy_to(stream, target)
                except DAMAGED as exc:
                    raise damaged(files, fileid, stream, exc) from None
            nltk.data.path.append(directory)
            try:
                reader = FORMAT_READERS[files.format](directory, [fileid], files.encoding)
                inner = Source(reader, self.view, (fileid,), self.convert, files)
                yield from inner._guarded(fileid)
            finally:
                remove_last(nltk.data.path, directory)

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
        with self.open_bytes(fileid) as stream:  # bytes, through pathsec
            try:
                yield from jsonl_records(stream, self.view, files.encoding, fileid)
            except BadData as exc:
                raise files.bad_data(exc.fields) from None
            except DAMAGED as exc:
                raise damaged(files, fileid, stream, exc) from None


class TableSource(Source):
    """The rows of CSV or TSV files, read with :mod:`csv` (``excel`` or ``excel-tab``
    dialect), one item of view ``raw`` each: ``{"text": ...}`` from the text column,
    plus ``{"ids": {name: value}}`` from the id columns.  Blank lines are skipped; a
    byte order mark is dropped; a quoted cell may span lines."""

    def __init__(
        self, reader: CorpusReader, fileids: tuple[str, ...], files: UserFiles, table: Table,
        where: str,
    ) -> None:
        super().__init__(reader, "raw", fileids, READER_VIEWS["raw"][1], files)
        self.one_per_file = False
        self.table = table
        self.where = where

    def read(self, fileid: str) -> Records:
        return self._rows(fileid)

    def check_header(self, fileid: str) -> None:
        """Read a file's header row, checking that it names the columns asked for.
        Raises :class:`ConfigError`."""
        if self.table.header:
            with contextlib.closing(self._rows(fileid, header_only=True)) as rows:
                for _ in rows:
                    pass

    def _rows(self, fileid: str, header_only: bool = False) -> Records:
        files = self.files
        assert files is not None
        encoding = "utf-8-sig" if codecs.lookup(files.encoding).name == "utf-8" else files.encoding
        with self.open_bytes(fileid) as stream:
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")
            # strict: a quote left open is an error at its row, not the rest of the file
            # read as one cell.
            rows = csv.reader(text, DIALECTS[files.format], strict=True)
            try:
                yield from self._records(rows, fileid, header_only)
            except UnicodeDecodeError:
                offset = byte = None
                if not files.stdin:
                    with self.open_bytes(fileid) as again:
                        offset, byte = _first_bad_byte_in(again, files.encoding)
                raise files.decode_error(fileid, offset, byte) from None
            except DAMAGED as exc:
                raise damaged(files, fileid, stream, exc) from None

    def _records(self, rows: Any, fileid: str, header_only: bool) -> Records:
        files, table = self.files, self.table
        assert files is not None
        columns = None if table.header else self._positions(None, fileid)
        line = 1  # where the next row starts
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                detail = f"not valid {files.format.upper()} ({exc})"
                raise files.bad_data({"fileid": fileid, "kind": "table", "line": line,
                                      "detail": detail}) from None
            line, starts = rows.line_num + 1, line
            if not row:
                continue
            if columns is None:
                columns = self._positions(row, fileid)
                if header_only:
                    return
                continue
            text_at, ids = columns
            if len(row) <= text_at:
                raise files.fail(fileid, f" line {starts}: no {_cell(table.text_column)} "
                                         f"(the row has {_cells(row)})")
            record: Record = {"text": row[text_at]}
            for name, at in ids:
                if len(row) <= at:
                    raise files.fail(fileid, f" line {starts}: no {_cell(name)} "
                                             f"(the row has {_cells(row)})")
                record.setdefault("ids", {})[id_name(name)] = row[at]
            yield record

    def _positions(
        self, header: list[str] | None, fileid: str
    ) -> tuple[int, list[tuple[str | int, int]]]:
        """Where the text and id columns are: by name in ``header``, else by index."""
        table = self.table

        def position(key: str, column: str | int) -> int:
            if header is None:
                assert isinstance(column, int)
                return column
            if column not in header:
                files = self.files
                assert files is not None
                shown = ", ".join(repr(name) for name in header)
                raise ConfigError(f"{self.where}.{key}: {column!r} is not a column of "
                                  f"{files.display(fileid)}; its header names {shown}")
            return header.index(str(column))

        ids = [(column, position("id_columns", column)) for column in table.id_columns]
        return position("text_column", table.text_column), ids


def id_name(column: str | int) -> str:
    """The field an id column's value is carried in: its header name, or ``column_N``."""
    return column if isinstance(column, str) else f"column_{column}"


def _cells(row: list[str]) -> str:
    return "1 cell" if len(row) == 1 else f"{len(row)} cells"


def _cell(column: str | int) -> str:
    return f"column {column} cell" if isinstance(column, int) else f"{column!r} cell"


def damaged(files: UserFiles, fileid: str, stream: IO[bytes], exc: BaseException) -> BaseException:
    """The error for what reading ``stream`` raised: a :class:`ConfigError` when the
    stream decompresses and its data is damaged, else ``exc`` itself."""
    compression = compression_name(stream)
    if compression is None:
        return exc
    return files.fail(fileid, f": not a readable {compression} stream ({exc})")


def remove_last(entries: list[Any], entry: str) -> None:
    """Remove the last of ``entries`` equal to ``entry``: the one this code appended."""
    for i in range(len(entries) - 1, -1, -1):
        if entries[i] == entry:
            del entries[i]
            return


def _first_bad_byte(pointer: Any, encoding: str) -> tuple[int | None, int | None]:
    """Offset and value of the first byte of a file that ``encoding`` cannot decode,
    found by decoding it again in chunks (NLTK's reader reports only a block offset)."""
    with pointer.open() as stream:
        return _first_bad_byte_in(stream, encoding)


def _first_bad_byte_in(stream: IO[bytes], encoding: str) -> tuple[int | None, int | None]:
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
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
