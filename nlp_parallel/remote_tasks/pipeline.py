"""Several tasks in one worker pass, and the lines a job writes.

Self-contained (standard library only here; the steps import NLTK).  Options:
``steps``: ``[{name, source, filename, options}, ...]``, each step's module source;
optionally ``output``: ``{format, index_base, universal}`` for jobs that write files
(an ``index_base`` of None writes each JSONL line's ``"index"`` without its number,
for a driver that numbers the lines once it knows where they fall in the corpus; the
token formats leave every number to the driver; ``universal``: the tags are NLTK's
universal tagset, CoNLL-U's UPOS).  The format ``records``, the research API's own
(never a job file's), writes each result record as one compact JSON line, the tree
as nested lists, without an index.
Item: a text (when the first step is tokenize), tokens, ``[[word, tag], ...]``, or a
corpus record ``{"fileid", "tokens", "tags", "iob"}`` (tags and IOB tags when it has
them, kept) / ``{"fileid", "text"}``, which may carry ``"ids"`` (a table's id
columns), written into its JSONL line after the fileid.
Result: a record ``{"tokens", "tags", "iob", "tree", "stems", "lemmas"}`` with the
fields the steps add -- or, after tokenize, the list of one record per sentence.
"""

from __future__ import annotations

import json
import linecache
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # A name for annotations only, never evaluated here: a worker may run Python 3.8,
    # where ``dict[...]`` cannot be subscripted at run time.
    #: A sentence record: "tokens", and the fields the steps add.
    Record = dict[str, Any]

#: The order of a JSONL record's fields.
FIELDS = ("tokens", "tags", "iob", "tree", "stems", "lemmas")
#: Step name -> the fields it adds to a record; the text format writes the first.
#: (The driver checks an output format against these before a run starts.)
ADDS = {"tokenize": ("tokens",), "tag": ("tags",), "chunk": ("iob", "tree"),
        "stem": ("stems",), "lemmatize": ("lemmas",)}

# What the line formats write for what their NLTK readers cannot carry inside a
# token, tag or label (the README's table lists them).  The readers split fields
# on ``\s`` or with ``str.split()``, both the characters ``str.isspace()`` is true
# of, and lines with ``str.splitlines()``, whose line breaks are all among them.
#: Each whitespace character: U+2423 OPEN BOX, the visible space.
SPACE = "\u2423"
WHITESPACE = re.compile(r"\s")
#: An empty token, tag or label, where fields are separated by whitespace.
EMPTY = "_"
#: ``(`` and ``)`` anywhere in a tree's field, as the Penn Treebank writes them.
BRACKETS = {ord("("): "-LRB-", ord(")"): "-RRB-"}
#: A ``\`` that ends a tree's word: ``Tree.fromstring`` takes ``\)`` for an escaped
#: bracket, part of the word, and the tree for unclosed.
BACKSLASH = "-BSL-"
#: ``/`` in a tag of the tagged format: ``str2tuple`` splits at the last ``/``.
SLASH = "-SLASH-"
#: How every JSONL line starts; the number follows.  A JSON string escapes ``"``,
#: so these characters never occur inside a token: they mark each line's start.
UNNUMBERED = '{"index": '
#: A sentence's first CoNLL word that ConllCorpusReader drops as a document marker.
DOCSTART = "-DOCSTART-"

# The token formats (conllu, vrt, tsv) need what only the driver knows: each item's
# corpus index, and where a document starts (a file's first sentence).  Each item's
# text starts with ITEM, its fileid as JSON and a line break, and NUMBER stands for
# its index; the driver replaces both in corpus order (nlp_parallel/documents.py).
# Neither character is left in a token, tag or fileid, so both mark only themselves.
#: The formats that write one line (or row) per token.
TOKEN_FORMATS = ("conllu", "vrt", "tsv")
#: Starts an item's first line, which holds its fileid as JSON.
ITEM = "\x01"
#: Stands for the item's corpus index.
NUMBER = "\x00"
#: What a token, tag or fileid holds in place of ITEM and NUMBER: U+2401 SYMBOL FOR
#: START OF HEADING, U+2400 SYMBOL FOR NULL.
MARKS = {ord(ITEM): "\u2401", ord(NUMBER): "\u2400"}
#: A character that must be replaced in a token format's column (whitespace, as in
#: ``field``, only where columns are separated by it: conllu and vrt).
MARKED = re.compile(r"[\x00\x01]")
#: The characters that make a tsv field quoted, as Python's ``csv`` and pandas'
#: ``read_csv`` read it back: the quote, the separator and the line breaks.
TSV_QUOTED = re.compile(r'["\t\n\r]')
#: A ``|`` inside a value of CoNLL-U's MISC column, which separates them: U+00A6
#: BROKEN BAR.
MISC_BAR = "\u00a6"
#: XML's escapes for VRT's tokens and attribute values.
XML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}


def field(text: str) -> str:
    """A token, tag or label as a whitespace-separated column (conll, text)."""
    return WHITESPACE.sub(SPACE, text) or EMPTY


def fields(values: list[str]) -> list[str]:
    """``[field(v) for v in values]``, found without a call per value when no value is
    empty or holds whitespace -- the common case, where ``field`` changes nothing."""
    if all(values) and not WHITESPACE.search("".join(values)):
        return values
    return [field(value) for value in values]


def one_line(value: str) -> str:
    """An id's value on one line (a CoNLL-U comment, a VRT attribute): its line
    breaks as spaces, ITEM and NUMBER replaced."""
    return " ".join(value.splitlines()).translate(MARKS)


def xml_name(name: str) -> str:
    """An id column's name as an attribute of VRT's ``<s>``: letters, digits and
    ``_`` (others become ``_``), not starting with a digit, and ``row_id`` for
    ``id``, which the sentence's own number takes."""
    name = re.sub(r"\W", "_", name, flags=re.ASCII) or "_"
    if name[0].isdigit():
        name = "_" + name
    return "row_id" if name == "id" else name


def column(values: list[str]) -> list[str]:
    """Tokens, tags or lemmas as a CoNLL-U or VRT column: ``fields``, with ITEM and
    NUMBER replaced too."""
    values = fields(values)
    if MARKED.search("".join(values)):
        return [value.translate(MARKS) for value in values]
    return values


def tsv_field(text: str) -> str:
    """A value as a tsv field: quoted as ``csv`` quotes it where it must be."""
    if MARKED.search(text):
        text = text.translate(MARKS)
    if TSV_QUOTED.search(text):
        return '"%s"' % text.replace('"', '""')
    return text


def tree_field(text: str) -> str:
    """A tag or label inside a bracketed tree."""
    return field(text).translate(BRACKETS)


def tree_word(text: str) -> str:
    """A word inside a bracketed tree, where a closing bracket follows it."""
    word = tree_field(text)
    return word[:-1] + BACKSLASH if word.endswith("\\") else word


def load_step(step: dict[str, Any]) -> Callable[[Any], Any]:
    """Run a step module's source in its own namespace and return its function.

    This repeats the worker's own module loading on purpose: a remote module
    cannot import code from the toolkit.
    """
    source, filename = step["source"], step["filename"]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "nlp_parallel_step_" + step["name"],
                                 "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    handler = namespace["setup"](step["options"])
    return handler if callable(handler) else namespace["process"]


def tagged(record: Record) -> list[list[str]]:
    return [[word, tag] for word, tag in zip(record["tokens"], record["tags"])]


#: Step name -> how it reads and extends a sentence record.
APPLY = {
    "tag": lambda fn, record: record.update(tags=fn(record["tokens"])),
    "chunk": lambda fn, record: record.update(fn(tagged(record))),
    "stem": lambda fn, record: record.update(stems=fn(record["tokens"])),
    "lemmatize": lambda fn, record: record.update(
        lemmas=fn(tagged(record) if "tags" in record else record["tokens"])
    ),
}


def record_of(item: Any) -> Record:
    if isinstance(item, dict):
        record = {"tokens": list(item["tokens"])}
        for name in ("tags", "iob"):  # iob: a CoNLL corpus's own (view iob_sents)
            if name in item:
                record[name] = list(item[name])
        return record
    if item and not isinstance(item[0], str):
        return {"tokens": [word for word, _ in item], "tags": [tag for _, tag in item]}
    return {"tokens": list(item)}


def bracketed(tree: list[Any]) -> str:
    """A chunk tree (nested lists) as one Penn Treebank-style line: (S (NP (DT a) ...))."""
    label, children = tree[0], tree[1:]
    parts = []
    for child in children:
        if len(child) == 2 and not isinstance(child[1], list):
            parts.append("(%s %s)" % (tree_field(child[1]), tree_word(child[0])))
        else:
            parts.append(bracketed(child))
    return "(%s %s)" % (tree_field(label), " ".join(parts))


def jsonl_fields(record: Record) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in FIELDS:
        if name in record:
            value = record[name]
            fields[name] = bracketed(value) if name == "tree" else value
    return fields


class Lines:
    """A sentence record as the lines of each output format."""

    def __init__(self, main_field: str) -> None:
        self.main = main_field
        self.formats: dict[str, Callable[[Record], str]] = {
            "conll": self.conll, "tagged": self.tagged, "tree": self.tree, "text": self.text}

    def conll(self, record: Record) -> str:
        columns = (fields(record["tokens"]), fields(record["tags"]), fields(record["iob"]))
        rows = ["%s %s %s\n" % row for row in zip(*columns)]
        if record["tokens"] and record["tokens"][0] == DOCSTART:
            rows.insert(0, "%s -X- O\n" % DOCSTART)  # the marker row the reader drops
        return "".join(rows)  # blank line follows

    def tagged(self, record: Record) -> str:
        words, tags = record["tokens"], record["tags"]
        tag_text = "".join(tags)
        if "/" in tag_text or WHITESPACE.search(tag_text + "".join(words)):
            words = [WHITESPACE.sub(SPACE, word) for word in words]
            tags = [WHITESPACE.sub(SPACE, tag).replace("/", SLASH) for tag in tags]
        return " ".join("%s/%s" % pair for pair in zip(words, tags))

    def tree(self, record: Record) -> str:
        return bracketed(record["tree"])

    def text(self, record: Record) -> str:
        return " ".join(fields(record[self.main]))


def chunks(iob: list[str]) -> list[tuple[str | None, str | None]]:
    """Per token, the type of the chunk that closes before it and of the one that
    opens at it (None for none), and a last entry for a chunk that ends the sentence:
    ``B-NP I-NP O`` -> ``(None, NP) (None, None) (NP, None) (None, None)``.  An ``I-``
    tag after ``O`` or after a chunk of another type opens a chunk, as NLTK's
    ``conlltags2tree`` reads it."""
    marks: list[tuple[str | None, str | None]] = []
    current: str | None = None
    for tag in iob:
        prefix, _, kind = tag.partition("-")
        inside = prefix in ("B", "I")
        opens = kind if inside and (prefix == "B" or kind != current) else None
        closes = current if current is not None and (not inside or opens is not None) else None
        marks.append((closes, opens))
        current = opens if opens is not None else (current if inside else None)
    marks.append((current, None))
    return marks


class TokenLines:
    """An item's sentence records as the lines of a token format (``TOKEN_FORMATS``):
    CoNLL-U, CWB's vertical text, or a token table.  Each sentence is numbered by its
    item's corpus index (NUMBER), followed by ``-1``, ``-2``, ... when the item is a
    text; ``universal`` says whether the tags are in NLTK's universal tagset, which
    CoNLL-U writes as UPOS (XPOS otherwise)."""

    def __init__(self, fmt: str, universal: bool, texts: bool) -> None:
        self.write: Callable[[Record, str, str], str] = getattr(self, fmt)
        self.universal = universal
        self.texts = texts
        #: The id columns of the item being written (a table row's), else empty.
        self.ids: dict[str, str] = {}

    def item(self, fileid: str | None, records: list[Record],
             ids: dict[str, str] | None = None) -> str:
        """The item's text: its ITEM line, then each sentence that has tokens (CoNLL-U
        allows no empty sentence; the other two follow it).  ``ids``, a table row's
        id columns, go into each sentence: CoNLL-U comments, attributes of VRT's
        ``<s>``, tsv columns after the fileid."""
        parts = [ITEM + json.dumps(fileid, ensure_ascii=False).translate(MARKS)]
        self.ids = ids or {}
        shown = tsv_field(fileid or "")
        for k, record in enumerate(records, 1):
            if record["tokens"]:
                sid = NUMBER + ("-%d" % k if self.texts else "")
                parts.append(self.write(record, sid, shown))
        return "\n".join(parts)

    def conllu(self, record: Record, sid: str, fileid: str) -> str:
        forms = column(record["tokens"])
        blank = ["_"] * len(forms)
        lemmas = column(record["lemmas"]) if "lemmas" in record else blank
        tags = column(record["tags"]) if "tags" in record else blank
        upos, xpos = (tags, blank) if self.universal else (blank, tags)
        misc: list[list[str]] = [[] for _ in forms]
        for name, key in (("stems", "Stem"), ("iob", "Chunk")):
            if record.get(name) is not None:
                for parts, value in zip(misc, column(record[name])):
                    parts.append("%s=%s" % (key, value.replace("|", MISC_BAR)))
        comments = "".join("# %s = %s\n" % (field(name), one_line(value))
                           for name, value in self.ids.items())
        rows = ["# sent_id = %s\n%s# text = %s\n" % (sid, comments, " ".join(forms))]
        for i, row in enumerate(zip(forms, lemmas, upos, xpos, misc), 1):
            rows.append("%d\t%s\t%s\t%s\t%s\t_\t_\t_\t_\t%s\n"
                        % (i, row[0], row[1], row[2], row[3], "|".join(row[4]) or "_"))
        return "".join(rows)  # a blank line follows

    def vrt(self, record: Record, sid: str, fileid: str) -> str:
        columns = [column(record[name]) for name in ("tokens", "tags", "lemmas", "stems")
                   if name in record]
        words = ["\t".join(values).translate(XML) for values in zip(*columns)]
        start = '<s id="%s"%s>' % (sid, "".join(
            ' %s="%s"' % (xml_name(name), one_line(value).translate(XML))
            for name, value in self.ids.items()))
        iob = record.get("iob")
        if iob is None:
            return "%s\n%s\n</s>" % (start, "\n".join(words))
        marks = chunks(iob)
        lines = [start]
        for (closes, opens), word in zip(marks, words):
            if closes is not None:
                lines.append("</chunk>")
            if opens is not None:
                kind = field(opens).translate(MARKS).translate(XML)
                lines.append('<chunk type="%s">' % kind)
            lines.append(word)
        if marks[-1][0] is not None:
            lines.append("</chunk>")
        lines.append("</s>")
        return "\n".join(lines)

    def tsv(self, record: Record, sid: str, fileid: str) -> str:
        index, _, sentence = sid.partition("-")
        first = "%s\t%s%s\t%s" % (index, sentence + "\t" if sentence else "", fileid,
                                   "".join(tsv_field(v) + "\t" for v in self.ids.values()))
        columns = [[tsv_field(v) for v in record[name]]
                   for name in ("tokens", "tags", "lemmas", "stems") if name in record]
        iob = record.get("iob")
        if "iob" in record:
            columns.append([tsv_field(v) for v in iob] if iob is not None
                           else [""] * len(record["tokens"]))
        return "\n".join("%s%d\t%s" % (first, i, "\t".join(values))
                         for i, values in enumerate(zip(*columns), 1))


class Pipeline:
    """The steps over each item.  A last ``count`` step counts the records instead
    of writing them: no line per item, and ``flush()`` gives the counts of the items
    since the last flush as one line (the worker calls it at the end of each batch
    or shard)."""

    def __init__(self, options: dict[str, Any]) -> None:
        steps = options["steps"]
        self.tokenize = load_step(steps[0]) if steps[0]["name"] == "tokenize" else None
        rest = steps[1:] if self.tokenize is not None else steps
        self.count: Callable[..., Any] | None = None
        if rest and rest[-1]["name"] == "count":
            self.count = load_step(rest[-1])  # a nlp_parallel.remote_tasks.count.Count
            self.flush = getattr(self.count, "flush")
            rest = rest[:-1]
        self.steps = [(APPLY[step["name"]], load_step(step)) for step in rest]
        output = options.get("output") or {"format": "jsonl", "index_base": 0}
        self.output_format = output["format"]
        self.index_base = output["index_base"]
        main = [ADDS[step["name"]][0] for step in steps if step["name"] in ADDS] or ["tokens"]
        self.lines = Lines(main[-1])
        self.token_lines = (TokenLines(self.output_format, bool(output.get("universal")),
                                       self.tokenize is not None)
                            if self.output_format in TOKEN_FORMATS else None)

    def run(self, record: Record) -> Record:
        for apply, fn in self.steps:
            apply(fn, record)
        return record

    def __call__(self, item: Any) -> Record | list[Record]:
        if self.tokenize is None:
            result: Record | list[Record] = self.run(record_of(item))
        else:
            text = item["text"] if isinstance(item, dict) else item
            result = [self.run({"tokens": tokens}) for tokens in self.tokenize(text)]
        if self.count is not None:
            # Counted only once every step has run on the whole item: an item a step
            # raises on adds nothing.
            for record in (result if isinstance(result, list) else [result]):
                self.count(record, item)
        return result

    def format(self, index: int, item: Any, result: Any) -> str | None:
        if self.count is not None:
            return None  # the counts are the flush's line
        records = result if self.tokenize is not None else [result]
        if self.output_format == "records":
            # The driver decodes these: the tree stays nested lists, which rebuild the
            # NLTK tree exactly; a JSON string escapes every line break "\n" splits at.
            return "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"))
                             for r in records) or None
        if self.output_format == "jsonl":
            line = {"index": 0 if self.index_base is None else self.index_base + index}
            if isinstance(item, dict):
                if item.get("fileid") is not None:
                    line["fileid"] = item["fileid"]
                line.update(item.get("ids") or {})  # a table's id columns, to join on
            if self.tokenize is None:
                line.update(jsonl_fields(result))
            elif self.steps:
                line["sentences"] = [jsonl_fields(r) for r in records]
            else:
                line["sentences"] = [r["tokens"] for r in records]
            text = json.dumps(line, ensure_ascii=False)
            if self.index_base is None:  # '{"index": 0, ...}' -> '{"index": , ...}'
                return UNNUMBERED + text[len(UNNUMBERED) + 1:]
            return text
        if self.token_lines is not None:  # an ITEM line even without sentences
            fileid = item.get("fileid") if isinstance(item, dict) else None
            ids = item.get("ids") if isinstance(item, dict) else None
            return self.token_lines.item(fileid, records, ids)
        if not records:  # a text without sentences: no line, so lines stay sentences
            return None
        write = self.lines.formats[self.output_format]
        return "\n".join(write(record) for record in records)


def setup(options: dict[str, Any]) -> Pipeline:
    return Pipeline(options)
