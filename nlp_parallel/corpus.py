"""The corpus a job reads: an NLTK corpus by name, or the user's own files by glob.

:func:`parse_corpus` validates a job file's ``corpus:`` mapping into a frozen
:class:`CorpusSpec` (static checks only); :func:`open_corpus` makes a :class:`Corpus`
of it, whose :meth:`~Corpus.check` finds every mistake that can be found without
reading the corpus and whose :meth:`~Corpus.items` streams plain-data records in
corpus order.

The reading is NLTK's own: each view is the corpus reader's method of that name
(``treebank.parsed_sents``, ``PlaintextCorpusReader.sents``, ...), called for one
fileid at a time, so records equal what NLTK yields and memory stays flat -- a
``StreamBackedCorpusView`` holds its current block plus one offset per block read,
and is dropped at the end of its file.  JSONL is the one format of ours.

NLTK 3.10's path sandbox (``nltk.pathsec``) refuses files outside its data roots.
A corpus of the user's files authorizes exactly the directory its glob is rooted
at (``texts`` for ``texts/**/*.txt``) by appending it to ``nltk.data.path`` when it
is first checked or read; :meth:`Corpus.close` removes that one entry again (a
later ``check`` or ``items`` appends it anew).  ``nltk.data.path`` is process-wide:
while a corpus is open, NLTK may read any file under that directory, and
``nltk.data.find`` searches it last.
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import importlib
import inspect
import json
import os
import re
import stat
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import nltk
from nltk.corpus.reader import (
    ConllChunkCorpusReader,
    PlaintextCorpusReader,
    TaggedCorpusReader,
)
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.reader.util import StreamBackedCorpusView, read_blankline_block
from nltk.corpus.util import LazyCorpusLoader
from nltk.tree import Tree

from .errors import ConfigError, ResourceMissing
from .models import corpus_resource
from .options import OptionReader, did_you_mean, reject_unknown_keys

Kind = Literal["tokens", "tagged", "text"]
Record = dict[str, Any]
Records = Generator[Record, None, None]

KEYS = ("name", "path", "format", "view", "fileids", "categories", "start", "limit", "encoding")
VIEWS = ("sents", "tagged_sents", "chunked_sents", "parsed_sents", "words", "paras", "raw")
FORMATS = ("text", "jsonl", "conll", "tagged")

#: The views each format of user files offers, in ``VIEWS`` order.
FORMAT_VIEWS: Mapping[str, tuple[str, ...]] = {
    "text": ("sents", "words", "paras", "raw"),
    "jsonl": ("sents", "tagged_sents", "raw"),
    "conll": ("sents", "tagged_sents", "chunked_sents"),
    "tagged": ("sents", "tagged_sents", "words"),
}


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
class CorpusSpec:
    """What to read: ``name`` (an ``nltk.corpus`` reader) or ``path`` (a glob of files
    in ``format``), which ``view``, which files, and which slice of the items.

    ``where`` is the key path of the job file's mapping, used in every message.
    """

    name: str | None
    path: str | None
    format: str | None
    view: str
    fileids: tuple[str, ...] | None
    categories: tuple[str, ...] | None
    start: int = 0
    limit: int | None = None
    encoding: str = "utf-8"
    where: str = "corpus"


def parse_corpus(value: object, where: str = "corpus", base_dir: str = ".") -> CorpusSpec:
    """Validate a job file's ``corpus:`` mapping; a relative ``path`` is joined to ``base_dir``.

    Static checks only (types, choices, name xor path, format with path).  Raises
    :class:`ConfigError` whose message starts with the key path, e.g. ``corpus.view:``.
    """
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, not {type(value).__name__}")
    reject_unknown_keys(value, KEYS, f"{where}.")
    options = OptionReader("corpus", value, where)
    name = _nonempty(options, "name")
    path = _nonempty(options, "path")
    if (name is None) == (path is None):
        raise ConfigError(f"{where}: give either name or path" + (", not both" if name else ""))
    fmt = _format(options, path)
    if not options.has("view"):
        raise options.fail("view", f"required; one of {', '.join(VIEWS)}")
    view = options.choice("view", VIEWS, None)
    if fmt is not None and view not in FORMAT_VIEWS[fmt]:
        offered = ", ".join(FORMAT_VIEWS[fmt])
        raise options.fail("view", f"{fmt} files offer {offered} (not {view!r})")
    fileids = _string_list(options, "fileids")
    categories = _string_list(options, "categories")
    if categories is not None and path is not None:
        raise options.fail("categories", "only with name: files read by path have no categories")
    if categories is not None and fileids is not None:
        raise options.fail(
            "categories", "give either fileids or categories, not both (as NLTK's readers do)"
        )
    start = options.integer("start", 0, minimum=0)
    limit = None if options.raw("limit") is None else options.integer("limit", 0, minimum=0)
    if name is not None and options.has("encoding"):
        raise options.fail(
            "encoding", f"only with path: {name} is read in its NLTK reader's own encoding"
        )
    encoding = _encoding(options, fmt)
    if path is not None:
        path = _join(base_dir, path)
        if os.path.abspath(_glob_root(path)) == os.path.abspath(os.sep):
            raise options.fail(
                "path",
                f"{path!r} is rooted at the filesystem root; NLTK's path sandbox would have "
                "to allow every file, so give a glob under a directory",
            )
    return CorpusSpec(name, path, fmt, view, fileids, categories, start, limit, encoding, where)


def _nonempty(options: OptionReader, key: str) -> str | None:
    value = options.string(key)
    if value == "":
        raise options.fail(key, "must not be empty")
    return value


def _format(options: OptionReader, path: str | None) -> str | None:
    if path is None:
        if options.has("format"):
            raise options.fail("format", "only with path: a named corpus has its NLTK reader")
        return None
    if not options.has("format"):
        raise options.fail("format", f"required with path; one of {', '.join(FORMATS)}")
    return options.choice("format", FORMATS, None)


def _string_list(options: OptionReader, key: str) -> tuple[str, ...] | None:
    value = options.raw(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise options.fail(key, f"expected a list of strings, not {type(value).__name__}")
    if not value:
        raise options.fail(key, "must not be empty (leave it out for all)")
    for item in value:
        if not isinstance(item, str) or not item:
            raise options.fail(key, f"expected non-empty strings, not {item!r}")
    return tuple(value)


def _encoding(options: OptionReader, fmt: str | None) -> str:
    encoding = options.string("encoding", "utf-8")
    assert encoding is not None
    try:
        newline = "\n".encode(encoding)  # also refuses codecs that are not text encodings
    except LookupError:
        raise options.fail("encoding", f"unknown text encoding {encoding!r}") from None
    if fmt == "jsonl" and newline != b"\n":
        message = f"JSONL needs an ASCII-compatible encoding, not {encoding!r}"
        raise options.fail("encoding", message)
    return encoding


def _join(base_dir: str, path: str) -> str:
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def _glob_root(pattern: str) -> str:
    """The directory a glob is rooted at: its leading components without wildcards,
    never including the last one (``texts/a.txt`` -> ``texts``, ``*.txt`` -> ``.``)."""
    parts = pattern.split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if re.search(r"[*?[]", part):
            break
        fixed.append(part)
    if fixed == [""]:  # an absolute pattern whose first component is a wildcard
        return os.sep
    return os.sep.join(fixed) or "."


class Corpus:
    """One opened :class:`CorpusSpec`; see the module docstring for how it reads.

    ``kind`` says what each item carries: ``tokens``, ``tagged`` (tokens and tags)
    or ``text``.  Use it as a context manager, or call :meth:`close`, to release the
    sandbox authorization of a path corpus.
    """

    def __init__(self, spec: CorpusSpec) -> None:
        self.spec = spec
        self.kind: Kind = _kind(spec)
        self._source: _Source | None = None
        self._authorized: str | None = None

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> None:
        """Check what can be checked without reading the corpus: the name, that it is
        installed, the view, fileids, categories, that the glob matches files the
        sandbox will open.  Raises :class:`ConfigError` or :class:`ResourceMissing`."""
        self._prepared()

    def items(self) -> Iterator[Record]:
        """Records ``{"fileid", "tokens"}``, ``{"fileid", "tokens", "tags"}`` or
        ``{"fileid", "text"}`` in corpus order, from item ``start``, at most ``limit``.

        Checks first (raising as :meth:`check` does); bad user data found while
        reading raises :class:`ConfigError` naming the file (and line, for JSONL).
        """
        source = self._prepared()
        fileids, skip = source.fileids, self.spec.start
        if source.one_per_file:  # skip whole files without reading them
            fileids, skip = fileids[skip:], 0
        return _records(source, fileids, skip, self.spec.limit)

    def views(self) -> dict[str, Kind]:
        """The views this corpus offers, each with what its items carry, in ``VIEWS``
        order.  Checks first, raising as :meth:`check` does."""
        source = self._prepared()
        if self.spec.format is not None:
            offered: Sequence[str] = FORMAT_VIEWS[self.spec.format]
        else:
            offered = _offered(source.reader)
        return {view: _kind(replace(self.spec, view=view)) for view in offered}

    def total(self) -> int | None:
        """The number of items :meth:`items` yields when that is known without reading
        (a ``raw`` view of files, or ``limit: 0``); else None."""
        if self.spec.limit == 0:
            return 0
        source = self._prepared()
        if not source.one_per_file:
            return None
        count = max(0, len(source.fileids) - self.spec.start)
        return count if self.spec.limit is None else min(count, self.spec.limit)

    def close(self) -> None:
        """Remove the directory this corpus authorized from ``nltk.data.path``."""
        self._source = None
        if self._authorized is not None:
            entries = nltk.data.path
            for i in range(len(entries) - 1, -1, -1):  # our own entry: the last equal one
                if entries[i] == self._authorized:
                    del entries[i]
                    break
            self._authorized = None

    def _prepared(self) -> _Source:
        if self._source is None:
            try:
                self._source = self._open_named() if self.spec.name else self._open_files()
            except BaseException:
                self.close()
                raise
        return self._source

    def _open_named(self) -> _Source:
        spec = self.spec
        assert spec.name is not None
        reader = _named_reader(spec.name, spec.where)
        _check_view(reader, spec.view, f"{spec.where}.view", spec.name)
        fileids = _select(reader, spec, spec.name)
        return _Source(reader, spec.view, fileids, READER_VIEWS[spec.view][1])

    def _open_files(self) -> _Source:
        spec = self.spec
        assert spec.path is not None and spec.format is not None
        root = _glob_root(spec.path)
        matches = sorted(m for m in glob.glob(spec.path, recursive=True) if os.path.isfile(m))
        if not matches:
            raise ConfigError(f"{spec.where}.path: {spec.path!r} matches no file")
        for match in matches:
            problem = _sandbox_problem(root, match)
            if problem:
                raise ConfigError(f"{spec.where}.path: {match} {problem}")
        self._authorized = os.path.abspath(root)
        nltk.data.path.append(self._authorized)
        every = [os.path.relpath(m, root).replace(os.sep, "/") for m in matches]
        reader = FORMAT_READERS[spec.format](self._authorized, every, spec.encoding)
        fileids = _select(reader, spec, spec.path)
        files = _UserFiles(root, spec.format, spec.encoding, f"{spec.where}.path")
        if spec.format == "jsonl":
            return _JsonlSource(reader, spec.view, fileids, files)
        if spec.format == "text" and spec.view == "paras":  # text, not the reader's paras()
            return _Source(reader, spec.view, fileids, READER_VIEWS["raw"][1], files)
        if spec.view != "raw":
            _check_view(reader, spec.view, f"{spec.where}.view", f"{spec.format} files")
        return _Source(reader, spec.view, fileids, READER_VIEWS[spec.view][1], files)


def open_corpus(spec: CorpusSpec) -> Corpus:
    """A :class:`Corpus` for ``spec``; nothing is looked up or read yet."""
    return Corpus(spec)


def _kind(spec: CorpusSpec) -> Kind:
    if spec.format == "text" and spec.view == "paras":
        return "text"  # a paragraph of user text is handed on untokenized
    return READER_VIEWS[spec.view][0]


def _records(
    source: _Source, fileids: Sequence[str], skip: int, limit: int | None
) -> Iterator[Record]:
    if limit == 0:
        return
    for fileid in fileids:
        with contextlib.closing(source.read(fileid)) as records:
            for record in records:
                if skip:
                    skip -= 1
                    continue
                yield {"fileid": fileid, **record}
                if limit is not None:
                    limit -= 1
                    if limit == 0:
                        return


@dataclass(frozen=True)
class _UserFiles:
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


class _Source:
    """Reads one view of an NLTK reader, one fileid at a time."""

    def __init__(
        self,
        reader: CorpusReader,
        view: str,
        fileids: tuple[str, ...],
        convert: Callable[[Any], Record],
        files: _UserFiles | None = None,
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


class _JsonlSource(_Source):
    """One JSON object per line: ``{"tokens": [...]}``, plus ``"tags"`` for the
    ``tagged_sents`` view, or ``{"text": "..."}`` for ``raw``.  Other keys are
    ignored; blank lines are skipped."""

    def __init__(
        self, reader: CorpusReader, view: str, fileids: tuple[str, ...], files: _UserFiles
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


def _sandbox_problem(root: str, path: str) -> str | None:
    """Why NLTK's sandbox would refuse to open ``path`` under ``root``, or None."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link, which NLTK's path sandbox refuses to open"
    if st.st_nlink > 1:
        return f"has {st.st_nlink} hard links, which NLTK's path sandbox refuses to open"
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        return f"lies outside {root} once links are followed, which NLTK's path sandbox refuses"
    return None


def _nltk_corpora() -> dict[str, Any]:
    """The corpus readers ``nltk.corpus`` defines, loaded or not, by name."""
    # ``import nltk.corpus`` can bind a LazyModule; the module proper lists the loaders.
    module = importlib.import_module("nltk.corpus")
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, (LazyCorpusLoader, CorpusReader)) and not name.startswith("_")
    }


def _installed(corpora: Mapping[str, Any]) -> list[str]:
    names = []
    for name, loader in sorted(corpora.items()):
        resource, _ = corpus_resource(loader, name)
        subdir, data = resource.split("/", 1)
        zipped = re.sub(r"(([^/]+)(/.*)?)", r"\2.zip/\1/", data)  # as LazyCorpusLoader looks
        for candidate in (resource, f"{subdir}/{zipped}"):
            try:
                nltk.data.find(candidate)
            except LookupError:
                continue
            names.append(name)
            break
    return names


def _named_reader(name: str, where: str) -> Any:
    corpora = _nltk_corpora()
    loader = corpora.get(name)
    if loader is None:
        installed = _installed(corpora)
        shown = ", ".join(installed[:20]) + (", ..." if len(installed) > 20 else "")
        raise ConfigError(
            f"{where}.name: {name!r} is not an NLTK corpus{did_you_mean(name, corpora)}; "
            f"installed here: {shown or 'none'}"
        )
    try:
        loader.ensure_loaded()  # a LazyCorpusLoader finds its data now
    except LookupError:
        raise ResourceMissing(*corpus_resource(loader, name), where=f"{where}.name") from None
    return loader


class _NotOffered(Exception):
    """The reader has no method for the view, or none that takes fileids."""


def _probe(reader: Any, view: str) -> BaseException | None:
    """Why ``reader`` cannot give ``view`` (None when it can): _NotOffered, or what
    calling it for the first file raised -- ConllCorpusReader checks its columns and
    PlaintextCorpusReader loads Punkt at the call.  Views are lazy, so the call reads
    nothing; ``raw``, which would read the file, is not called."""
    method = getattr(reader, view, None)
    if not callable(method) or next(iter(inspect.signature(method).parameters), "") != "fileids":
        return _NotOffered(view)
    if view == "raw":
        return None
    try:
        result = method(reader.fileids()[:1])
    except (ValueError, NotImplementedError) as exc:
        return exc
    close = getattr(result, "close", None)
    if callable(close):
        close()
    return None


def _lookup_error(exc: BaseException | None) -> LookupError | None:
    """The LookupError behind a failed probe (NLTK raises a ValueError from it)."""
    while exc is not None:
        if isinstance(exc, LookupError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _check_view(reader: Any, view: str, key: str, label: str) -> None:
    """Raise ResourceMissing when the view needs data that is not installed, or
    ConfigError(``key: label offers ...``) when the reader does not offer it."""
    outcome = _probe(reader, view)
    missing = _lookup_error(outcome)
    if missing is not None:
        text = str(missing)
        package = re.search(r"nltk\.download\('([^']+)'\)", text)
        resource = re.search(r"Attempted to load '?([^'\s]+)", text)
        raise ResourceMissing(
            resource.group(1) if resource else text.strip().splitlines()[0],
            package.group(1) if package else "the missing package",
            where=key,
        )
    if outcome is not None:
        raise ConfigError(f"{key}: {label} offers {', '.join(_offered(reader))} (not {view!r})")


def _offered(reader: Any) -> list[str]:
    """The views ``reader`` offers (counting those whose data is missing, which
    check() reports as ResourceMissing)."""
    probes = {view: _probe(reader, view) for view in VIEWS}
    return [view for view, outcome in probes.items() if outcome is None or _lookup_error(outcome)]


def installed_corpora() -> list[tuple[str, tuple[str, ...]]]:
    """The ``nltk.corpus`` readers whose data is installed, each with the views it offers."""
    corpora = _nltk_corpora()
    result = []
    for name in _installed(corpora):
        reader = corpora[name]
        try:
            reader.ensure_loaded()
        except LookupError:  # found as a package, but a file the reader needs is not
            continue
        result.append((name, tuple(_offered(reader))))
    return result


def _select(reader: Any, spec: CorpusSpec, label: str) -> tuple[str, ...]:
    """The fileids to read, in corpus order: chosen by ``fileids`` or ``categories``."""
    if spec.categories is not None:
        if not callable(getattr(reader, "categories", None)):
            raise ConfigError(f"{spec.where}.categories: {label} has no categories")
        known = reader.categories()
        for category in spec.categories:
            if category not in known:
                raise ConfigError(
                    f"{spec.where}.categories: {category!r} is not a category of {label}"
                    f"{did_you_mean(category, known)}; categories: {', '.join(known)}"
                )
        return tuple(reader.fileids(categories=list(spec.categories)))
    every = reader.fileids()
    if spec.fileids is None:
        return tuple(every)
    known_ids = set(every)
    for fileid in spec.fileids:
        if fileid not in known_ids:
            raise ConfigError(
                f"{spec.where}.fileids: {fileid!r} is not in {label}{did_you_mean(fileid, every)}"
            )
    return spec.fileids
