"""Reading one shard of a corpus in a worker, with NLTK's own reader rebuilt around its bytes.

execnet ships this file's *source* to each worker, so it imports only the standard
library at module level (NLTK inside functions) and never ``nlp_parallel``; it runs
on Python 3.8 too (newer typing stays in annotations and ``TYPE_CHECKING``).  The
driver imports it as well: its conversions and JSONL checks are the driver's own.

A shard is ``{"pieces": [{"fileid", "begin", "end"[, "encoding"]}, ...]}`` with
``blobs[i]`` the bytes ``begin..end`` of piece i's file.  The recipe, plain data made by
``nlp_parallel.corpus.shards``, says how to rebuild the reader:

``read``      ``view`` (call the reader's view method, as the driver does),
              ``blankline_text`` (user text paragraphs: ``read_blankline_block``,
              kept as text) or ``jsonl`` (our own format, parsed here)
``view``      the view; ``convert`` names the conversion of each item into a record
``module``, ``class``, ``kwargs``
              the reader class and its keyword arguments besides ``root``,
              ``fileids`` and ``encoding``
``fileids_param``, ``encoding_param``
              whether the class takes ``fileids`` and ``encoding`` (each shard passes its own)
``encoding``  the encoding of every file, or None: then each piece names its own
``punkt``     the texts of the ``punkt_tab`` files (name -> text) when the view
              splits sentences with Punkt, else None
``format``    the user's file format, or None for a named NLTK corpus: only user
              data is checked, and its problems raise :class:`BadData`

Why the records are NLTK's: each piece is written to ``<tempdir>/<fileid>`` and read
by the same class, arguments and view method as on the driver.  The driver cuts a
file only where NLTK's block reader ends a block (after a blank line, or a line of
JSONL), so each piece holds whole blocks and yields the same items in the same order.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import importlib
import io
import json
import os
import shutil
import tempfile
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    #: One record, as ``Corpus.items()`` yields it (without ``fileid`` here).
    Record = dict[str, Any]


class BadData(Exception):
    """Bad user data found while reading a shard.  ``fields`` is plain data the driver
    turns into the message reading on the driver raises: ``fileid``, ``begin`` (the
    piece's offset in its file), ``kind`` (``decode``, ``parse``, ``jsonl`` or
    ``sandbox``), ``detail``, and ``item`` (parse: 1-based within the piece), ``line``
    (jsonl: 1-based within the piece), ``offset`` and ``byte`` (decode: within the
    piece, None when unknown)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(f"{fields['fileid']}: {fields['kind']}: {fields['detail']}")
        self.fields = fields


# --- items into records ----------------------------------------------------------------


def _pos(parse: Any) -> list[tuple[str, str]]:
    """(word, tag) pairs of a parse: an ``nltk.Tree`` or a ``DependencyGraph``."""
    from nltk.tree import Tree

    if isinstance(parse, Tree):
        return parse.pos()  # type: ignore[no-any-return]
    return [(node["word"], node["tag"]) for address, node in sorted(parse.nodes.items()) if address]


def _tagged(pairs: Sequence[tuple[str, str]]) -> Record:
    return {"tokens": [word for word, _ in pairs], "tags": [tag for _, tag in pairs]}


def _iob(triples: Sequence[tuple[str, str, str]]) -> Record:
    """A CoNLL sentence's (word, tag, IOB) triples: the IOB tags kept as ``iob``, the
    field a chunk step writes, so that a JSONL output carries the corpus's own."""
    return {"tokens": [word for word, _, _ in triples], "tags": [tag for _, tag, _ in triples],
            "iob": [iob for _, _, iob in triples]}


#: View of an NLTK reader -> how one of its items becomes a record.
CONVERSIONS: Mapping[str, Callable[[Any], Record]] = MappingProxyType(
    {
        "sents": lambda sent: {"tokens": list(sent)},
        "tagged_sents": _tagged,
        "chunked_sents": lambda tree: _tagged(tree.leaves()),
        "parsed_sents": lambda parse: _tagged(_pos(parse)),
        "words": lambda word: {"tokens": [word]},
        "paras": lambda para: {"tokens": [word for sent in para for word in sent]},
        "raw": lambda text: {"text": text},
        "posts": lambda post: {"tokens": list(post)},
        "tagged_posts": _tagged,
        "tagged_words": lambda pair: _tagged([pair]),
        "tagged_paras": lambda para: _tagged([pair for sent in para for pair in sent]),
        "chunked_paras": lambda para: _tagged([pair for tree in para for pair in tree.leaves()]),
        "iob_sents": _iob,
    }
)


# --- JSONL -----------------------------------------------------------------------------

#: The keys each JSONL view needs in a record, and the record's shape.
JSONL_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"sents": ("tokens",), "tagged_sents": ("tokens", "tags"), "raw": ("text",)}
)
JSONL_SHAPES: Mapping[str, str] = MappingProxyType(
    {
        "sents": '{"tokens": [...]}',
        "tagged_sents": '{"tokens": [...], "tags": [...]}',
        "raw": '{"text": "..."}',
    }
)
JSON_TYPES: Mapping[type, str] = MappingProxyType(
    {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
)


def _json_type(value: object) -> str:
    return "null" if value is None else JSON_TYPES.get(type(value), "a number")


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def jsonl_problem(value: object, view: str) -> str | None:
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


def jsonl_records(
    lines: Iterable[bytes], view: str, encoding: str, fileid: str, at_start: bool = True
) -> Iterator[Record]:
    """The records of JSONL ``lines`` (bytes, each ending in ``\\n`` but maybe the
    last): one JSON object per line, blank lines skipped, a byte order mark dropped
    from the file's first line (when ``at_start``).  Raises :class:`BadData` (kind
    ``decode`` or ``jsonl``, ``begin`` 0) at the first bad line."""
    offset = 0
    for number, line in enumerate(lines, 1):
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise BadData(
                {"fileid": fileid, "begin": 0, "kind": "decode", "detail": f"not valid {encoding}",
                 "offset": offset + exc.start, "byte": line[exc.start]}
            ) from None
        offset += len(line)
        text = text.rstrip("\r\n")  # so a column is a column of this line
        if number == 1 and at_start and text.startswith("\ufeff"):
            text = text[1:]
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            detail = f"not valid JSON ({exc.msg} at column {exc.colno})"
            raise BadData(
                {"fileid": fileid, "begin": 0, "kind": "jsonl", "detail": detail, "line": number}
            ) from None
        problem = jsonl_problem(value, view)
        if problem:
            raise BadData(
                {"fileid": fileid, "begin": 0, "kind": "jsonl", "detail": problem, "line": number}
            )
        if view == "raw":
            yield {"text": value["text"]}
        elif view == "tagged_sents":
            yield {"tokens": value["tokens"], "tags": value["tags"]}
        else:
            yield {"tokens": value["tokens"]}


# --- tagged text, read without NLTK's stream reader --------------------------------------

#: Characters besides ``\n`` at which NLTK's stream reader also ends a line (it splits
#: with ``str.splitlines``); a text with any of them is left to NLTK's reader.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

#: Codecs whose text decoded whole equals NLTK's stream reader's, chunk by chunk:
#: no byte order mark it would drop, no state from one chunk to the next.
WHOLE_CODECS = frozenset(
    ["ascii", "utf-8", "latin-1"]
    + ["iso8859-%d" % number for number in range(1, 17)]
    + ["cp%d" % number for number in range(1250, 1259)]
)

#: The views of ``TaggedCorpusReader`` read directly.
TAGGED_VIEWS = ("sents", "tagged_sents", "words", "paras")


def direct_tagged(recipe: Mapping[str, Any]) -> str | None:
    """The separator of word and tag when ``recipe`` reads NLTK's own
    ``TaggedCorpusReader`` with its default tokenizers and block reader (plain data
    cannot name others) in one of :data:`TAGGED_VIEWS`, else None."""
    kwargs = recipe.get("kwargs") or {}
    sep = kwargs.get("sep", "/")
    if (recipe.get("read") == "view" and recipe.get("module") == "nltk.corpus.reader.tagged"
            and recipe.get("class") == "TaggedCorpusReader" and set(kwargs) <= {"sep", "tagset"}
            and recipe.get("view") in TAGGED_VIEWS and isinstance(sep, str) and sep):
        return sep
    return None


def decoded_lines(blob: bytes, encoding: str | None) -> str | None:
    """``blob`` as text whose lines NLTK's stream reader would end only at ``\\n``
    and whose whitespace ``str.split()`` splits at as NLTK's tokenizer does; or None
    (another codec, bytes it cannot decode, a byte order mark, another line break,
    whitespace the two disagree on): such a piece is left to NLTK's reader, errors
    and all."""
    try:
        if encoding is None or codecs.lookup(encoding).name not in WHOLE_CODECS:
            return None
        text = blob.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None
    if text.startswith("\ufeff") or any(char in text for char in LINE_BREAKS):
        return None
    if not all(map(_splits_alike, set(text))):
        return None
    return text


#: Character -> whether ``str.split()`` and NLTK's ``WhitespaceTokenizer`` agree on
#: it.  They need not: NLTK compiles ``\s`` with the ``regex`` module, whose
#: whitespace is Unicode's (not ``\x1f``, which ``str.isspace`` counts), and that
#: may change with the module's version; so each character is asked of NLTK's own.
_SPLITS_ALIKE: dict[str, bool] = {}


def _splits_alike(char: str) -> bool:
    alike = _SPLITS_ALIKE.get(char)
    if alike is None:
        from nltk.tokenize import WhitespaceTokenizer

        split_by_nltk = len(WhitespaceTokenizer().tokenize("a" + char + "a")) == 2
        alike = _SPLITS_ALIKE[char] = split_by_nltk == char.isspace()
    return alike


def tagged_records(text: str, view: str, sep: str, fileid: str) -> list[Record]:
    """The records ``TaggedCorpusReader`` gives for ``view`` of ``text``, each with
    ``fileid``; ``text`` is a file's whole blocks, as :func:`decoded_lines` passes it.

    As NLTK reads it: ``read_blankline_block`` takes the lines up to a line whose
    ``strip()`` is empty, ``RegexpTokenizer("\\n", gaps=True)`` makes each line of a
    block a sentence, ``WhitespaceTokenizer`` splits it where ``\\s+`` matches (here
    ``str.split()``, which :func:`decoded_lines` has found to split alike), and
    ``str2tuple`` splits each token at its last ``sep`` into the word and the tag
    upper-cased (no ``sep``: the token and None).  So the sentences are the lines
    with a token, the paragraphs the runs of such lines.  Built whole with the cyclic
    collector paused: the records hold only strings, and its passes over the growing
    lists cost more than the reading."""
    records: list[Record] = []
    was = gc.isenabled()
    gc.disable()
    try:
        para: list[str] = []
        for line in text.split("\n"):
            tokens = line.split()
            if not tokens:
                if para:
                    records.append({"fileid": fileid, "tokens": para})
                    para = []
                continue
            if view == "tagged_sents":
                parts = [token.rpartition(sep) for token in tokens]
                records.append({
                    "fileid": fileid,
                    "tokens": [word if found else tag for word, found, tag in parts],
                    "tags": [tag.upper() if found else None for _, found, tag in parts]})
                continue
            words = [token[:at] if (at := token.rfind(sep)) >= 0 else token for token in tokens]
            if view == "sents":
                records.append({"fileid": fileid, "tokens": words})
            elif view == "words":
                records.extend({"fileid": fileid, "tokens": [word]} for word in words)
            else:
                para.extend(words)
        if para:
            records.append({"fileid": fileid, "tokens": para})
    finally:
        if was:
            gc.enable()
    return records


# --- Punkt without NLTK data -----------------------------------------------------------


class ShippedModel:
    """The part of NLTK's path pointer interface ``load_punkt_params`` uses, over a
    model directory shipped as texts: ``join(name)`` points at one file, whose
    ``open`` gives the stream class NLTK opens installed files with."""

    def __init__(self, files: dict[str, str], name: str | None = None) -> None:
        self.files = files
        self.name = name

    def join(self, name: str) -> ShippedModel:
        if name not in self.files:
            raise FileNotFoundError(f"the driver shipped no {name!r}")
        return ShippedModel(self.files, name)

    def open(self, encoding: str | None = None) -> Any:
        from nltk.data import SeekableUnicodeStreamReader

        assert self.name is not None  # a file's pointer, from join
        stream = io.BytesIO(self.files[self.name].encode("utf-8"))
        return stream if encoding is None else SeekableUnicodeStreamReader(stream, encoding)


def punkt(files: dict[str, str]) -> Any:
    """``PunktTokenizer(language)`` rebuilt from the texts of its punkt_tab files."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params

    return PunktSentenceTokenizer(load_punkt_params(ShippedModel(files)))


# --- the reader ------------------------------------------------------------------------


@contextlib.contextmanager
def authorized(root: str) -> Iterator[None]:
    """Let NLTK's path sandbox open files under ``root`` (and nothing more) meanwhile:
    ``root`` is appended to ``nltk.data.path`` and that one entry removed after."""
    import nltk.data

    nltk.data.path.append(root)
    try:
        yield
    finally:
        entries = nltk.data.path
        for i in range(len(entries) - 1, -1, -1):  # our own entry: the last equal one
            if entries[i] == root:
                del entries[i]
                break


def _first_bad_byte(blob: bytes, encoding: str) -> tuple[int | None, int | None]:
    try:
        blob.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start, blob[exc.start]
    except LookupError:
        pass
    return None, None


class ShardReader:
    """Reads shards as the recipe says, each into the records ``Corpus.items()``
    yields for its items.  Makes its temporary directory at the first read;
    :meth:`close` removes it."""

    def __init__(self, recipe: dict[str, Any], direct: bool = True) -> None:
        self.recipe = recipe
        #: Whether plain tagged text is read directly (:func:`tagged_records`);
        #: False always goes through NLTK's reader (for comparing the two).
        self.direct = direct
        self._root: str | None = None
        self._punkt: Any = None

    def read(self, shard: dict[str, Any], blobs: list[bytes]) -> Iterator[Record]:
        """Records ``{"fileid", ...}`` of the shard, in corpus order, exactly as
        ``Corpus.items()`` yields them.  NLTK's plain tagged text is read directly
        (:func:`tagged_records`), a shard with any piece that is not plain enough
        for that by NLTK's reader.  Raises :class:`BadData` on bad user data;
        other errors (NLTK's, on a named corpus) propagate.  Close the iterator, or
        read it to the end, to remove the files and the sandbox entry it made."""
        pieces = shard["pieces"]
        if len(pieces) != len(blobs):
            raise ValueError(f"{len(pieces)} pieces but {len(blobs)} blobs")
        if self.recipe["read"] == "jsonl":  # our own format: no reader, no files
            for piece, blob in zip(pieces, blobs):
                for record in self._jsonl(piece, blob):
                    yield {"fileid": piece["fileid"], **record}
            return
        sep = direct_tagged(self.recipe) if self.direct else None
        if sep is not None:
            texts = [decoded_lines(blob, piece.get("encoding", self.recipe["encoding"]))
                     for piece, blob in zip(pieces, blobs)]
            if all(text is not None for text in texts):
                for piece, text in zip(pieces, texts):
                    yield from tagged_records(text, self.recipe["view"], sep, piece["fileid"])  # type: ignore[arg-type]
                return
        root = self._directory()
        written = [self._write(root, piece["fileid"], blob) for piece, blob in zip(pieces, blobs)]
        try:
            with authorized(root):
                reader = self._reader(root, pieces)
                for piece, blob in zip(pieces, blobs):
                    for record in self._records(reader, piece, blob):
                        yield {"fileid": piece["fileid"], **record}
        finally:
            for path in written:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    def close(self) -> None:
        """Remove the temporary directory; safe to call twice."""
        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _directory(self) -> str:
        if self._root is None:
            # realpath: the sandbox compares resolved paths (/tmp may be a link).
            self._root = os.path.realpath(tempfile.mkdtemp(prefix="nlp-parallel-shard-"))
        return self._root

    @staticmethod
    def _write(root: str, fileid: str, blob: bytes) -> str:
        parts = fileid.split("/")
        if os.path.isabs(fileid) or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"a shard's fileid must be a plain relative path, not {fileid!r}")
        path = os.path.join(root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)
        return path

    def _reader(self, root: str, pieces: list[dict[str, Any]]) -> Any:
        """The recipe's reader over ``root``, for the fileids of ``pieces``."""
        recipe = self.recipe
        module = importlib.import_module(recipe["module"])
        kwargs = dict(recipe["kwargs"])
        fileids = list(dict.fromkeys(piece["fileid"] for piece in pieces))
        if recipe["fileids_param"]:
            kwargs["fileids"] = fileids
        if recipe["encoding_param"]:
            encodings = {p["fileid"]: p.get("encoding", recipe["encoding"]) for p in pieces}
            if len(set(encodings.values())) == 1:
                kwargs["encoding"] = next(iter(encodings.values()))
            else:  # CorpusReader takes a fileid -> encoding mapping as well
                kwargs["encoding"] = encodings
        if recipe["punkt"] is not None:
            if self._punkt is None:
                self._punkt = punkt(recipe["punkt"])
            kwargs["sent_tokenizer"] = self._punkt
        return getattr(module, recipe["class"])(root, **kwargs)

    def _items(self, reader: Any, fileid: str) -> Any:
        """The items of one file: as ``Source._view`` on the driver reads them."""
        view = self.recipe["view"]
        if view == "raw":
            return [reader.raw([fileid])]
        if self.recipe["read"] == "blankline_text":
            from nltk.corpus.reader.util import (
                StreamBackedCorpusView,
                read_blankline_block,
            )

            pointer, encoding = reader.abspath(fileid), reader.encoding(fileid)
            return StreamBackedCorpusView(pointer, read_blankline_block, encoding=encoding)
        return getattr(reader, view)([fileid])

    def _records(self, reader: Any, piece: dict[str, Any], blob: bytes) -> Iterator[Record]:
        convert = CONVERSIONS[self.recipe["convert"]]
        items: Any = None
        count = 0
        try:
            items = self._items(reader, piece["fileid"])  # raw reads here, and may fail
            for item in items:
                yield convert(item)
                count += 1
        except (UnicodeDecodeError, PermissionError, ValueError, IndexError) as exc:
            if self.recipe["format"] is None:  # a named corpus: NLTK's own error
                raise
            raise BadData(self._problem(piece, blob, exc, count)) from exc
        finally:
            close = getattr(items, "close", None)
            if callable(close):
                close()

    def _problem(
        self, piece: dict[str, Any], blob: bytes, exc: BaseException, count: int
    ) -> dict[str, Any]:
        """What reading the user's data raised, as ``Source._guarded`` reports it."""
        fields: dict[str, Any] = {"fileid": piece["fileid"], "begin": piece["begin"]}
        if isinstance(exc, UnicodeDecodeError):
            encoding = piece.get("encoding", self.recipe["encoding"])
            offset, byte = _first_bad_byte(blob, encoding)
            fields.update(kind="decode", detail=f"not valid {encoding}", offset=offset, byte=byte)
        elif isinstance(exc, PermissionError):
            fields.update(kind="sandbox", detail=str(exc))
        else:  # NLTK's message and the block's first line
            fields.update(kind="parse", detail=" ".join(str(exc).split("\n")[:2]), item=count + 1)
        return fields

    def _jsonl(self, piece: dict[str, Any], blob: bytes) -> Iterator[Record]:
        encoding = piece.get("encoding", self.recipe["encoding"])
        lines = io.BytesIO(blob)
        try:
            yield from jsonl_records(
                lines, self.recipe["view"], encoding, piece["fileid"], piece["begin"] == 0
            )
        except BadData as exc:
            exc.fields["begin"] = piece["begin"]
            raise
