"""The opened corpus: :func:`open_corpus` makes a :class:`Corpus` of a
:class:`~.spec.CorpusSpec`, which checks it against the catalogue and streams its
records from a source.

NLTK 3.10's path sandbox (``nltk.pathsec``) refuses files outside its data roots.
A corpus of the user's files authorizes exactly the directory its glob is rooted
at (``texts`` for ``texts/**/*.txt``) by appending it to ``nltk.data.path`` when it
is first checked or read; :meth:`Corpus.close` removes that one entry again (a
later ``check`` or ``items`` appends it anew).  ``nltk.data.path`` is process-wide:
while a corpus is open, NLTK may read any file under that directory, and
``nltk.data.find`` searches it last.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace

import nltk
from nltk.corpus.reader.api import CorpusReader

from ..errors import ConfigError
from .catalogue import check_view, named_reader, offered_views, select_fileids
from .compressed import sniff
from .sources import (
    FORMAT_READERS,
    READER_VIEWS,
    JsonlSource,
    Kind,
    Record,
    Source,
    StdinReader,
    TableSource,
    UserFiles,
    remove_last,
)
from .spec import FORMAT_VIEWS, TABLE_FORMATS, CorpusSpec, glob_root


class Corpus:
    """One opened :class:`CorpusSpec`, read as :mod:`.sources` says.

    ``kind`` says what each item carries: ``tokens``, ``tagged`` (tokens and tags)
    or ``text``.  Use it as a context manager, or call :meth:`close`, to release the
    sandbox authorization of a path corpus.
    """

    def __init__(self, spec: CorpusSpec) -> None:
        if spec.view is None:
            raise ValueError("a corpus is opened in a view: choose one first (choice.with_view)")
        self.spec = spec
        self.view: str = spec.view
        self.kind: Kind = view_kind(spec)
        self._source: Source | None = None
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

    def source(self) -> Source:
        """The checked source the records come from: its reader, view and fileids (what
        :mod:`.shards` plans from).  Checks first, raising as :meth:`check` does."""
        return self._prepared()

    def views(self) -> dict[str, Kind]:
        """The views this corpus offers, each with what its items carry, in ``VIEWS``
        order.  Checks first, raising as :meth:`check` does."""
        source = self._prepared()
        if self.spec.format is not None:
            offered: Sequence[str] = FORMAT_VIEWS[self.spec.format]
        else:
            offered = offered_views(source.reader)
        return {view: view_kind(replace(self.spec, view=view)) for view in offered}

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

    def _prepared(self) -> Source:
        if self._source is None:
            try:
                self._source = self._open_named() if self.spec.name else self._open_files()
            except BaseException:
                self.close()
                raise
        return self._source

    def _open_named(self) -> Source:
        spec, view = self.spec, self.view
        assert spec.name is not None
        reader = named_reader(spec.name, spec.where)
        check_view(reader, view, f"{spec.where}.view", spec.name)
        fileids = select_fileids(reader, spec, spec.name)
        return Source(reader, view, fileids, READER_VIEWS[view][1])

    def _open_stdin(self) -> Source:
        """Standard input, read when the records are: nothing is read to check it."""
        spec = self.spec
        assert spec.format is not None
        reader = StdinReader(spec.encoding)
        files = UserFiles(".", spec.format, spec.encoding, f"{spec.where}.path", stdin=True)
        if spec.format in FORMAT_READERS and spec.view not in ("raw", "paras") \
                and spec.format not in ("jsonl", *TABLE_FORMATS):
            _check_view_on_empty_file(spec)
        return self._source_of(reader, reader.fileids(), files)

    def _open_files(self) -> Source:
        spec = self.spec
        assert spec.path is not None and spec.format is not None
        if spec.stdin:
            return self._open_stdin()
        root = glob_root(spec.path)
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
        fileids = select_fileids(reader, spec, spec.path)
        compression = {}
        for fileid in fileids:
            found = sniff(os.path.join(root, fileid))
            if found is not None:
                compression[fileid] = found
        files = UserFiles(root, spec.format, spec.encoding, f"{spec.where}.path", compression)
        source = self._source_of(reader, fileids, files)
        if isinstance(source, TableSource):
            for fileid in fileids:
                source.check_header(fileid)
        return source

    def _source_of(self, reader: CorpusReader, fileids: tuple[str, ...], files: UserFiles) -> Source:
        spec, view = self.spec, self.view
        if spec.format == "jsonl":
            return JsonlSource(reader, view, fileids, files)
        if spec.format in TABLE_FORMATS:
            assert spec.table is not None
            return TableSource(reader, fileids, files, spec.table, spec.where)
        if spec.format == "text" and view == "paras":  # text, not the reader's paras()
            return Source(reader, view, fileids, READER_VIEWS["raw"][1], files)
        if view != "raw" and not files.stdin:  # stdin: _check_view_on_empty_file
            check_view(reader, view, f"{spec.where}.view", f"{spec.format} files")
        return Source(reader, view, fileids, READER_VIEWS[view][1], files)


def open_corpus(spec: CorpusSpec) -> Corpus:
    """A :class:`Corpus` for ``spec``; nothing is looked up or read yet."""
    return Corpus(spec)


def view_kind(spec: CorpusSpec) -> Kind:
    """What the items of ``spec``'s view (given) carry."""
    assert spec.view is not None
    if spec.format == "text" and spec.view == "paras":
        return "text"  # a paragraph of user text is handed on untokenized
    return READER_VIEWS[spec.view][0]


def _check_view_on_empty_file(spec: CorpusSpec) -> None:
    """Check the view of ``spec.format``'s NLTK reader, as for files, on an empty file
    (standard input is not read to check it): it names data that is not installed,
    such as Punkt for the sentences of text."""
    assert spec.format is not None and spec.view is not None
    with tempfile.TemporaryDirectory(prefix="nlp-parallel-") as directory:
        open(os.path.join(directory, "empty"), "xb").close()
        nltk.data.path.append(directory)
        try:
            reader = FORMAT_READERS[spec.format](directory, ["empty"], spec.encoding)
            check_view(reader, spec.view, f"{spec.where}.view", f"{spec.format} input")
        finally:
            remove_last(nltk.data.path, directory)


def _records(
    source: Source, fileids: Sequence[str], skip: int, limit: int | None
) -> Iterator[Record]:
    if limit == 0:
        return
    named = source.files is None or not source.files.stdin  # standard input has no file name
    for fileid in fileids:
        with contextlib.closing(source.read(fileid)) as records:
            for record in records:
                if skip:
                    skip -= 1
                    continue
                yield {"fileid": fileid, **record} if named else record
                if limit is not None:
                    limit -= 1
                    if limit == 0:
                        return


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
