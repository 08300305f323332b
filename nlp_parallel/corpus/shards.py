"""Planning shards: a corpus as byte ranges of its files, which workers read with
NLTK's own reader rebuilt from a plain-data recipe (:mod:`nlp_parallel.shard_reader`).

:func:`plan_shards` makes a :class:`ShardPlan` of an opened, checked corpus, or says
in one line why the driver must read it itself.  The driver then only moves bytes:
:meth:`ShardPlan.blobs` gives a shard's bytes, :meth:`ShardPlan.describe` its plain
description, and a worker's :class:`~nlp_parallel.shard_reader.ShardReader` yields
the records :meth:`Corpus.items() <nlp_parallel.corpus.Corpus.items>` would.

Why the records are the same: the worker builds the same reader class with the same
arguments (a ``Categorized*`` reader as its plain base: categories were resolved to
fileids here) and calls the same view method, once per piece, as
:class:`~.sources.Source` does per file.  A file is cut only where NLTK's block reader
ends a block whatever follows -- right after a line of ASCII whitespace for the
readers that read blank-line blocks (``read_blankline_block`` ends a block at a line
whose ``strip()`` is empty and skips blank lines before one), right after a line of
JSONL -- and only in an encoding that writes ``\\n`` as that byte and keeps no state
across lines, so each piece decodes to whole lines and holds whole blocks.  Other
readers, and the ``raw`` view (one item per file), get whole files.  The planning
reads no more than the bytes around each cut; it never parses.
"""

from __future__ import annotations

import codecs
import enum
import inspect
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nltk.corpus.reader import (
    BracketParseCorpusReader,
    ChunkedCorpusReader,
    ConllChunkCorpusReader,
    ConllCorpusReader,
    DependencyCorpusReader,
    IndianCorpusReader,
    MacMorphoCorpusReader,
    NPSChatCorpusReader,
    PlaintextCorpusReader,
    StopwordsCorpusReader,
    TaggedCorpusReader,
    WordListCorpusReader,
)
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.reader.bracket_parse import AlpinoCorpusReader
from nltk.data import FileSystemPathPointer, ZipFilePathPointer

from ..errors import ConfigError, ResourceMissing
from ..shard_reader import BadData, ShardReader, direct_tagged
from .reading import Corpus
from .sources import Record, Source, UserFiles, _first_bad_byte

#: Target bytes per shard.
SHARD_BYTES = 64 * 1024


class Cut(enum.Enum):
    """Where a file bigger than a shard may be cut."""

    WHOLE = "whole files only"
    BLANK_LINES = "right after a line of ASCII whitespace"
    LINES = "right after any line"


#: The reader classes rebuilt in workers, each known to read only the files it is
#: given, one block at a time, and where a big file of it may be cut.  Exact classes:
#: a subclass may read other blocks (MacMorphoCorpusReader ends its sentences at
#: ``_.`` lines, DependencyCorpusReader fails on a file that ends in a blank line).
REBUILT: Mapping[type, Cut] = {
    PlaintextCorpusReader: Cut.BLANK_LINES,
    TaggedCorpusReader: Cut.BLANK_LINES,
    ConllCorpusReader: Cut.BLANK_LINES,
    ConllChunkCorpusReader: Cut.BLANK_LINES,
    BracketParseCorpusReader: Cut.WHOLE,
    ChunkedCorpusReader: Cut.WHOLE,
    AlpinoCorpusReader: Cut.WHOLE,
    DependencyCorpusReader: Cut.WHOLE,
    MacMorphoCorpusReader: Cut.WHOLE,
    IndianCorpusReader: Cut.WHOLE,
    NPSChatCorpusReader: Cut.WHOLE,
    WordListCorpusReader: Cut.WHOLE,
    StopwordsCorpusReader: Cut.WHOLE,
}

#: Views of a reader that split sentences with Punkt when given no sent_tokenizer.
PUNKT_VIEWS: Mapping[type, tuple[str, ...]] = {PlaintextCorpusReader: ("sents", "paras")}

#: A Categorized* reader's own arguments, dropped: the driver resolves categories.
CATEGORY_ARGUMENTS = ("cat_file", "cat_pattern", "cat_map", "cat_delimiter")

#: The arguments FORMAT_READERS gives each format's reader besides root, fileids, encoding.
FORMAT_ARGUMENTS: Mapping[str, dict[str, Any]] = {"conll": {"chunk_types": None}}

#: Codecs that write "\n" as b"\n" but carry state from one line to the next.
STATEFUL_CODECS = ("utf-7", "hz")

#: The bytes of a line that ``str.strip()`` leaves empty, in every ASCII-compatible codec.
BLANK = b" \t\r\n\x0b\x0c"


@dataclass(frozen=True)
class Piece:
    """Bytes ``begin..end`` of one file."""

    fileid: str
    begin: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.begin


@dataclass(frozen=True)
class Shard:
    """What one worker reads at a time: pieces in corpus order."""

    number: int
    pieces: tuple[Piece, ...]

    @property
    def size(self) -> int:
        return sum(piece.size for piece in self.pieces)


class ShardPlan:
    """The shards of a corpus and the recipe workers rebuild its reader from.

    Reads the files through the corpus's reader, so the corpus must stay open (for
    user files, its sandbox authorization) while the plan is used; not thread-safe.
    """

    def __init__(
        self,
        recipe: dict[str, Any],
        shards: tuple[Shard, ...],
        source: Source,
        piece_encodings: Mapping[str, str | None] | None,
        where: str,
        places: Mapping[str, dict[str, str] | None] | None = None,
    ) -> None:
        self.recipe = recipe
        self.shards = shards
        self.total_bytes = sum(shard.size for shard in shards)
        self._source = source
        self._encodings = piece_encodings
        self._where = where
        self._places = places or {}
        self._open: tuple[str, Any] | None = None  # the file last read from, open
        self._local: ShardReader | None = None

    @property
    def direct(self) -> bool:
        """Whether workers read this corpus's text directly rather than through
        NLTK's reader (:func:`~nlp_parallel.shard_reader.direct_tagged`): plain
        tagged text, where the records are NLTK's by construction."""
        return direct_tagged(self.recipe) is not None

    def blobs(self, shard: Shard) -> list[bytes]:
        """The raw bytes of each piece of ``shard``.  Raises :class:`ConfigError` when a
        file is shorter than when it was planned."""
        return [self._bytes(piece) for piece in shard.pieces]

    def describe(self, shard: Shard) -> dict[str, Any]:
        """``{"pieces": [{"fileid", "begin", "end"}, ...]}``: what a worker needs with
        the blobs.  A piece also names its ``encoding`` when the files differ in it."""
        pieces = []
        for piece in shard.pieces:
            fields: dict[str, Any] = {"fileid": piece.fileid, "begin": piece.begin, "end": piece.end}
            if self._encodings is not None:
                fields["encoding"] = self._encodings[piece.fileid]
            pieces.append(fields)
        return {"pieces": pieces}

    def places(self, shard: Shard) -> list[dict[str, Any]] | None:
        """Where a worker on this machine reads each piece of ``shard`` itself (a
        file's path, or a zip's and its member's, with the piece's byte range), so
        that the driver need not read it; None when a piece has no such place."""
        places = []
        for piece in shard.pieces:
            place = self._places.get(piece.fileid)
            if place is None:
                return None
            places.append({**place, "begin": piece.begin, "end": piece.end})
        return places

    def read_locally(self, shard: Shard, items_before: int = 0) -> Iterator[Record]:
        """The records of ``shard``, read in this process as a worker reads them.
        ``items_before``: items of the shard's first file read in earlier shards.
        Raises :class:`ConfigError` for bad user data, as :meth:`bad_data` words it."""
        if self._local is None:
            self._local = ShardReader(self.recipe)
        records = self._local.read(self.describe(shard), self.blobs(shard))
        try:
            yield from records
        except BadData as exc:
            raise self.bad_data(exc.fields, items_before) from None
        finally:
            close = getattr(records, "close", None)
            if callable(close):
                close()

    def bad_data(self, fields: dict[str, Any], items_before: int) -> ConfigError:
        """The error reading on the driver raises for what a worker reported as
        :class:`~nlp_parallel.shard_reader.BadData` ``fields``.  ``items_before``: items
        of that file read in earlier shards, so an item number counts from its start."""
        files = self._source.files
        fileid = fields["fileid"]
        if files is None:  # a named corpus is read unguarded: no BadData is expected
            return ConfigError(f"{self._where}: {fileid}: {fields['detail']}")
        begin = fields.get("begin", 0)
        found = dict(fields)
        if fields["kind"] == "decode":
            if self.recipe["read"] == "jsonl" and fields.get("offset") is not None:
                found["offset"] = begin + fields["offset"]  # line by line, as JsonlSource
            else:  # NLTK's reader tells no offset: look for it, as Source does
                pointer = self._source.reader.abspath(fileid)
                found["offset"], found["byte"] = _first_bad_byte(pointer, files.encoding)
        elif fields["kind"] == "jsonl":
            found["line"] = fields["line"] + self._newlines_before(fileid, begin)
        elif fields["kind"] == "parse":
            found["item"] = fields["item"] + items_before
        return files.bad_data(found)

    def close(self) -> None:
        """Close the file last read and the local reader's temporary directory."""
        self._close_file()
        if self._local is not None:
            self._local.close()
            self._local = None

    def _stream(self, fileid: str) -> Any:
        if self._open is None or self._open[0] != fileid:
            self._close_file()
            self._open = (fileid, self._source.reader.abspath(fileid).open())
        return self._open[1]

    def _close_file(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

    def _bytes(self, piece: Piece) -> bytes:
        stream = self._stream(piece.fileid)
        stream.seek(piece.begin)
        data: bytes = stream.read(piece.size)
        if len(data) != piece.size:
            raise ConfigError(
                f"{self._where}: {piece.fileid} changed while the corpus was read "
                f"(bytes {piece.begin}..{piece.end} of a file now {piece.begin + len(data)} long)"
            )
        return data

    def _newlines_before(self, fileid: str, offset: int) -> int:
        count = 0
        with self._source.reader.abspath(fileid).open() as stream:
            while offset > 0:
                chunk = stream.read(min(offset, 1 << 16))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                offset -= len(chunk)
        return count


def plan_shards(corpus: Corpus, shard_bytes: int = SHARD_BYTES) -> ShardPlan | str:
    """The shards of an opened, checked corpus (all its selected fileids, in order;
    start and limit are left to the caller), or a one-line reason why the driver must
    read this corpus itself: its reader's arguments are not plain data, its class is
    not one known to read only its own files, ...  Raises as ``Corpus.check`` does."""
    if shard_bytes < 1:
        raise ValueError(f"shard_bytes must be positive, not {shard_bytes}")
    source = corpus.source()
    label = corpus.spec.label
    if source.files is not None:
        why = _read_by_driver(source.files, source.fileids)
        if why is not None:
            return why if corpus.spec.stdin else f"{label}: {why}"
    if any(fileid.endswith(".gz") for fileid in source.fileids):
        return f"{label}: NLTK reads .gz files decompressed, so their bytes are not its text"
    if source.files is not None:
        rebuild = _files_recipe(source, source.files)
    else:
        rebuild = _named_recipe(label, source)
    if isinstance(rebuild, str):
        return rebuild
    sizes, places = {}, {}
    root = source.reader.root
    # (Not for a reader with its own abspath: stopwords names a list made in code.)
    zipped = isinstance(root, ZipFilePathPointer) and \
        type(source.reader).abspath is CorpusReader.abspath
    for number, fileid in enumerate(source.fileids):
        try:
            if zipped and number:
                # NLTK's sandbox checks the archive's path, the same for every
                # member (checked with the first), and join() refuses ``..``.
                pointer = root.join(fileid)
            else:
                pointer = source.reader.abspath(fileid)
            sizes[fileid] = pointer.file_size()
        except ValueError as exc:  # a fileid defined in code (stopwords' english-extended)
            return f"{label}: {exc}"
        places[fileid] = _place(pointer)
    encodings = {fileid: source.reader.encoding(fileid) for fileid in source.fileids}
    if rebuild.recipe["encoding_param"] and len(set(encodings.values())) > 1:
        rebuild.recipe["encoding"], piece_encodings = None, encodings
    else:
        rebuild.recipe["encoding"], piece_encodings = next(iter(encodings.values()), None), None
    pieces = _pieces(source, sizes, rebuild.cut, encodings, shard_bytes)
    shards = _pack(pieces, shard_bytes)
    return ShardPlan(rebuild.recipe, shards, source, piece_encodings, corpus.spec.where,
                     places)


def _read_by_driver(files: UserFiles, fileids: tuple[str, ...]) -> str | None:
    """Why the driver reads these user files itself, or None."""
    if files.stdin:
        return "standard input is one stream, which only the driver reads"
    if files.format in ("csv", "tsv"):
        return (f"{files.format.upper()} rows are read by the driver: a quoted cell may span "
                "lines, so a file cannot be cut at a line end")
    for fileid in fileids:
        if fileid in files.compression:
            return (f"{fileid} is {files.compression[fileid]}-compressed, and a compressed "
                    "file cannot be cut into byte ranges of its text")
    return None


def _place(pointer: Any) -> dict[str, str] | None:
    """Where a worker on this machine reads a file NLTK has found and checked: a
    file's absolute path, or a zip's and its member's; None for other pointers."""
    if isinstance(pointer, ZipFilePathPointer):
        return {"zip": os.path.abspath(pointer.zipfile.filename), "member": pointer.entry}
    if isinstance(pointer, FileSystemPathPointer):
        return {"file": os.path.abspath(pointer.path)}
    return None


# --- the recipe ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rebuild:
    recipe: dict[str, Any]
    cut: Cut


def loader_arguments(reader: Any) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """The arguments besides ``root`` a ``LazyCorpusLoader`` built ``reader`` with, or
    None for a reader that was not.  The one place that reads the loader's private
    names: it keeps them after loading, as the rest of its state."""
    state = vars(reader)
    if "_LazyCorpusLoader__args" not in state or "_LazyCorpusLoader__kwargs" not in state:
        return None
    return tuple(state["_LazyCorpusLoader__args"]), dict(state["_LazyCorpusLoader__kwargs"])


def rebuilt_class(cls: type) -> type:
    """The class a worker builds for a reader of ``cls``: its first base whose name does
    not start with ``Categorized`` (``CategorizedTaggedCorpusReader`` -> ``TaggedCorpusReader``)."""
    for base in cls.__mro__:
        if not base.__name__.startswith("Categorized"):
            return base
    return cls


def _named_recipe(name: str, source: Source) -> _Rebuild | str:
    arguments = loader_arguments(source.reader)
    if arguments is None:
        return f"{name}: its reader was not made by a LazyCorpusLoader, so its arguments are unknown"
    cls = rebuilt_class(type(source.reader))
    cut = REBUILT.get(cls)
    if cut is None:
        return f"{name}: {cls.__name__} is not among the readers known to read only the files given"
    args, kwargs = arguments
    for key in CATEGORY_ARGUMENTS:
        kwargs.pop(key, None)
    plain = _keyword_arguments(name, cls, args, kwargs)
    if isinstance(plain, str):
        return plain
    return _recipe(source, cls, plain, "view", source.view, cut)


def _files_recipe(source: Source, files: UserFiles) -> _Rebuild | str:
    if files.format == "jsonl":
        recipe: dict[str, Any] = {
            "read": "jsonl", "view": source.view, "convert": source.view, "module": None,
            "class": None, "kwargs": {}, "fileids_param": False, "encoding_param": False,
            "punkt": None, "format": files.format,
        }
        return _Rebuild(recipe, Cut.LINES)
    cls = type(source.reader)
    kwargs = dict(FORMAT_ARGUMENTS.get(files.format, {}))
    if files.format == "text" and source.view == "paras":  # kept as text: see Source._view
        return _recipe(source, cls, kwargs, "blankline_text", "raw", Cut.BLANK_LINES)
    return _recipe(source, cls, kwargs, "view", source.view, Cut.BLANK_LINES)


def _recipe(
    source: Source, cls: type, kwargs: dict[str, Any], read: str, convert: str, cut: Cut
) -> _Rebuild | str:
    parameters = inspect.signature(cls).parameters
    recipe: dict[str, Any] = {
        "read": read,
        "view": source.view,
        "convert": convert,
        "module": cls.__module__,
        "class": cls.__qualname__,
        "kwargs": kwargs,
        "fileids_param": "fileids" in parameters,
        "encoding_param": "encoding" in parameters,
        "punkt": None,
        "format": source.files.format if source.files is not None else None,
    }
    if read == "view" and source.view in PUNKT_VIEWS.get(cls, ()):
        # As PlaintextCorpusReader's own default, PunktTokenizer(): shipped, because a
        # worker may have no NLTK data.  Corpus.check loaded it already.
        from ..tasks.tokenize import punkt_files

        try:
            recipe["punkt"] = punkt_files("english")
        except ResourceMissing as exc:
            return f"the {source.view} view splits sentences with Punkt, not installed here ({exc})"
    return _Rebuild(recipe, Cut.WHOLE if source.view == "raw" else cut)


class _NotPlain(Exception):
    pass


def _plain(value: object) -> object:
    """``value`` as plain data (a tuple as a list); raises _NotPlain.  Exact types:
    execnet refuses subclasses (a namedtuple, a str subclass)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if type(value) in (list, tuple):
        return [_plain(item) for item in value]  # type: ignore[attr-defined]
    if type(value) is dict and all(type(key) is str for key in value):
        return {key: _plain(item) for key, item in value.items()}  # type: ignore[attr-defined]
    raise _NotPlain(value)


def _keyword_arguments(
    name: str, cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any] | str:
    """``cls``'s arguments by name, without root, fileids and encoding (a worker gives
    its own), as plain data; or why they cannot be."""
    signature = inspect.signature(cls)
    own = list(signature.parameters)[:1]  # root
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        return f"{name}: its arguments do not fit {cls.__name__} ({exc})"
    named: dict[str, Any] = {}
    for key, value in bound.arguments.items():
        kind = signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return f"{name}: {cls.__name__} takes extra positional arguments {value!r:.60}"
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif key not in own:
            named[key] = value
    plain = {}
    for key, value in named.items():
        if key in ("fileids", "encoding"):
            continue
        try:
            plain[key] = _plain(value)
        except _NotPlain:
            shown = " ".join(repr(value).split())
            return f"{name}: {cls.__name__}'s {key}={shown:.60} is not plain data"
    return plain


# --- the pieces ------------------------------------------------------------------------


def _cuttable(encoding: object) -> bool:
    """Whether cutting right after a ``\\n`` byte cuts the text right after a newline."""
    if not isinstance(encoding, str):
        return False
    try:
        name = codecs.lookup(encoding).name
        newline = "\n".encode(encoding)
    except (LookupError, UnicodeError):
        return False
    return newline == b"\n" and name not in STATEFUL_CODECS and not name.startswith("iso2022")


def _pieces(
    source: Source,
    sizes: Mapping[str, int],
    cut: Cut,
    encodings: Mapping[str, Any],
    shard_bytes: int,
) -> Iterator[Piece]:
    for fileid, size in sizes.items():
        if cut is Cut.WHOLE or size <= shard_bytes or not _cuttable(encodings[fileid]):
            yield Piece(fileid, 0, size)
            continue
        with source.reader.abspath(fileid).open() as stream:
            begin = 0
            while size - begin > shard_bytes:
                end = _next_cut(stream, begin + shard_bytes, cut)
                if end is None or end >= size:
                    break
                yield Piece(fileid, begin, end)
                begin = end
            yield Piece(fileid, begin, size)


def _next_cut(stream: Any, target: int, cut: Cut) -> int | None:
    """The first offset past ``target`` that ``cut`` allows (None: none before the end):
    right after the line ``target`` falls in, or right after the next blank line that
    a byte order mark does not follow."""
    stream.seek(target)
    line = stream.readline()  # the rest of the line target falls in
    position = target + len(line)
    if not line.endswith(b"\n"):
        return None
    if cut is Cut.LINES:
        return position
    while True:
        line = stream.readline()
        if not line.endswith(b"\n"):
            return None  # the end, after no blank line: a cut there cuts nothing
        position += len(line)
        if not line.strip(BLANK):
            # NLTK drops a UTF-8 byte order mark at the start of a file, so a piece
            # must not start with one that is text in the middle of the file.
            if not stream.read(len(codecs.BOM_UTF8)).startswith(codecs.BOM_UTF8):
                return position
            stream.seek(position)


def _pack(pieces: Iterator[Piece], shard_bytes: int) -> tuple[Shard, ...]:
    """Consecutive pieces grouped into shards of up to ``shard_bytes`` (a bigger piece
    alone), never two pieces of one file in a shard."""
    shards: list[Shard] = []
    current: list[Piece] = []
    size = 0
    for piece in pieces:
        if current and (size + piece.size > shard_bytes or current[-1].fileid == piece.fileid):
            shards.append(Shard(len(shards), tuple(current)))
            current, size = [], 0
        current.append(piece)
        size += piece.size
    if current:
        shards.append(Shard(len(shards), tuple(current)))
    return tuple(shards)
