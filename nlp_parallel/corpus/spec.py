"""The corpus a job asks for, validated once at the edge.

:func:`parse_corpus` turns a job file's ``corpus:`` mapping into a frozen
:class:`CorpusSpec`: static checks only (types, choices, name xor path, format with
path).  What needs a look at the installed data or the files -- is the corpus
installed, does its reader offer the view, does the glob match -- is left to
:meth:`Corpus.check <nlp_parallel.corpus.Corpus.check>`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..remote_tasks.pipeline import FIELDS

from ..errors import ConfigError
from ..options import OptionReader, reject_unknown_keys

KEYS = ("name", "path", "format", "view", "fileids", "categories", "start", "limit", "encoding",
        "text_column", "id_columns", "header")
VIEWS = ("sents", "tagged_sents", "chunked_sents", "parsed_sents", "words", "paras", "raw",
         "posts", "tagged_posts", "tagged_words", "tagged_paras", "chunked_paras", "iob_sents")
FORMATS = ("text", "jsonl", "conll", "tagged", "csv", "tsv")

#: The formats whose files are tables: one item per row, from its text column.
TABLE_FORMATS = ("csv", "tsv")

#: The keys that say how to read a table, and only a table.
TABLE_KEYS = ("text_column", "id_columns", "header")

#: ``path`` for a corpus read from standard input.
STDIN_PATH = "-"

#: The fields of a JSONL output line, the columns of a tsv of tokens and the comments
#: CoNLL-U gives each sentence, which an id column must not shadow.
RESERVED_IDS = (("index", "fileid", "sentences") + FIELDS
                + ("sentence", "token", "word", "tag", "lemma", "stem", "chunk")
                + ("sent_id", "text"))

#: The views each format of user files offers, in ``VIEWS`` order.
FORMAT_VIEWS: Mapping[str, tuple[str, ...]] = {
    "text": ("sents", "words", "paras", "raw"),
    "jsonl": ("sents", "tagged_sents", "raw"),
    "conll": ("sents", "tagged_sents", "chunked_sents", "tagged_words", "iob_sents"),
    "tagged": ("sents", "tagged_sents", "words", "tagged_words", "tagged_paras"),
    "csv": ("raw",),
    "tsv": ("raw",),
}


@dataclass(frozen=True)
class Table:
    """How the rows of a CSV or TSV file are read: the column that is each item's
    text and the columns carried into its output as ids -- names in the header row
    (``header``), or 0-based indexes where there is none."""

    header: bool
    text_column: str | int
    id_columns: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class CorpusSpec:
    """What to read: ``name`` (an ``nltk.corpus`` reader) or ``path`` (a glob of files
    in ``format``), which ``view``, which files, and which slice of the items.

    ``where`` is the key path of the job file's mapping, used in every message.
    """

    name: str | None
    path: str | None
    format: str | None
    #: None where the job gives none: :func:`~.choice.with_view` chooses the one the
    #: task takes before the corpus is opened.
    view: str | None
    fileids: tuple[str, ...] | None
    categories: tuple[str, ...] | None
    start: int = 0
    limit: int | None = None
    encoding: str = "utf-8"
    where: str = "corpus"
    table: Table | None = None
    #: Whether ``view`` was chosen for the task rather than given.
    view_chosen: bool = False

    @property
    def stdin(self) -> bool:
        """Whether the corpus is read from standard input (``path: "-"``)."""
        return self.path == STDIN_PATH

    @property
    def label(self) -> str:
        """The corpus as a message names it: its name, ``standard input`` or its path."""
        return "standard input" if self.stdin else (self.name or self.path or "")


def parse_corpus(value: object, where: str = "corpus", base_dir: str = ".") -> CorpusSpec:
    """Validate a job file's ``corpus:`` mapping; a relative ``path`` is joined to ``base_dir``.
    Without a ``view`` the spec's is None, to be chosen for the task
    (:func:`~.choice.with_view`).

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
    view = options.choice("view", VIEWS, None) if options.raw("view") is not None else None
    if fmt is not None and view is not None and view not in FORMAT_VIEWS[fmt]:
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
    table = _table(options, fmt)
    if path == STDIN_PATH and fileids is not None:
        raise options.fail("fileids", "only with a glob: standard input (path '-') is one stream")
    if path is not None and path != STDIN_PATH:
        path = _join(base_dir, path)
        if os.path.abspath(glob_root(path)) == os.path.abspath(os.sep):
            raise options.fail(
                "path",
                f"{path!r} is rooted at the filesystem root; NLTK's path sandbox would have "
                "to allow every file, so give a glob under a directory",
            )
    return CorpusSpec(name, path, fmt, view, fileids, categories, start, limit, encoding, where,
                      table)


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


def _table(options: OptionReader, fmt: str | None) -> Table | None:
    """The table keys of a CSV or TSV corpus; refused for any other."""
    if fmt not in TABLE_FORMATS:
        for key in TABLE_KEYS:
            if options.has(key):
                raise options.fail(key, f"only with format {' or '.join(TABLE_FORMATS)}"
                                        + (f", not {fmt}" if fmt else ""))
        return None
    header = options.boolean("header", True)
    if not options.has("text_column"):
        raise options.fail("text_column", f"required with format {fmt}: the "
                           + ("name of the column that holds the text" if header else
                              "0-based index of the column that holds the text (header: false)"))
    text_column = _column(options, "text_column", options.raw("text_column"), header)
    listed = options.raw("id_columns")
    if listed is None:
        return Table(header, text_column)
    if not isinstance(listed, list) or not listed:
        raise options.fail("id_columns", "expected a non-empty list of "
                           + ("column names" if header else "0-based column indexes")
                           + f", not {listed!r}")
    ids = tuple(_column(options, "id_columns", column, header) for column in listed)
    if len(set(ids)) != len(ids):
        raise options.fail("id_columns", f"lists a column twice: {listed!r}")
    for column in ids:
        if column in RESERVED_IDS:
            raise options.fail("id_columns", f"{column!r} would shadow the output field of that "
                               f"name; the fields are {', '.join(RESERVED_IDS)}")
    return Table(header, text_column, ids)


def _column(options: OptionReader, key: str, value: object, header: bool) -> str | int:
    if header:
        if not isinstance(value, str) or not value:
            raise options.fail(key, f"expected a column name of the header row, not {value!r} "
                                    "(with header: false, columns are 0-based indexes)")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise options.fail(key, f"with header: false, expected a 0-based column index, "
                                f"not {value!r}")
    return value


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


def glob_root(pattern: str) -> str:
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
