"""The driver's part of the token formats: numbers, documents and the table's header.

The workers write each item of a ``conllu``, ``vrt`` or ``tsv`` output as text that
starts with an ITEM line holding its fileid, with NUMBER where its corpus index
belongs (``nlp_parallel/remote_tasks/pipeline.py``).  Only the driver knows those indexes, and
only it sees the items in corpus order, so it writes what spans items: CoNLL-U's
``# newdoc id`` before a file's first sentence, VRT's ``<text id="...">`` around a
file's sentences, a tsv header row first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .remote_tasks.pipeline import ITEM, NUMBER, XML, field

#: The annotations' columns of a vrt or tsv line, in their order (the record's field,
#: the tsv column's name).
COLUMNS = (("tags", "tag"), ("lemmas", "lemma"), ("stems", "stem"))
#: How far back a resumed run looks for the document it stopped in, at a time.
_BLOCK = 1 << 16


class Documents:
    """Numbers the items of a token format in corpus order and marks where each
    file's sentences start (and, in VRT, end).

    ``number(text, first)`` takes text the workers wrote, ``first`` the corpus index
    of its first item, and must see the output's text in order;
    :meth:`header` is written before the first item, :meth:`end` after the last.
    """

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        #: The line that opened the current document (None before the first).
        self.open: str | None = None

    def number(self, text: str, first: int) -> str:
        # Each item's text starts with ITEM; within it, NUMBER is the item's index
        # wherever it occurs (str.replace, in C: a table has one per token).
        items = text.split(ITEM)
        parts = [items[0]]
        for index, item in enumerate(items[1:], first):
            fileid, _, lines = item.partition("\n")
            parts.append(self.starts(json.loads(fileid), index))
            parts.append(lines.replace(NUMBER, str(index)))
        return "".join(parts)

    def starts(self, fileid: str | None, index: int) -> str:
        """What goes before an item of file ``fileid``: the start of a document when
        the item's file is not the last item's."""
        if self.format == "tsv":
            return ""
        if self.format == "conllu":
            line = "" if fileid is None else f"# newdoc id = {field(fileid)}\n"
        else:
            shown = "" if fileid is None else f' id="{field(fileid).translate(XML)}"'
            line = f"<text{shown}>\n"
        if line == self.open or not line:
            return ""
        closes = "</text>\n" if self.format == "vrt" and self.open is not None else ""
        self.open = line
        return closes + line

    def end(self) -> str:
        """What follows the last item: VRT closes its last document."""
        return "</text>\n" if self.format == "vrt" and self.open is not None else ""

    def resume(self, path: str, size: int) -> None:
        """Continue the document the first ``size`` bytes of ``path`` end in, as an
        interrupted run left it (the last document start written there)."""
        if self.format == "tsv":
            return
        prefix = "<text" if self.format == "vrt" else "# newdoc id = "
        self.open = last_line(path, size, prefix.encode())
        if self.format == "vrt" and self.open is not None:
            # Interrupted after the last item, once the last document was closed.
            closing = self.end().encode()
            with open(path, "rb") as f:
                f.seek(max(0, size - len(closing)))
                if f.read(len(closing)) == closing:
                    self.open = None


def last_line(path: str, size: int, prefix: bytes) -> str | None:
    """The last line that starts with ``prefix`` in the first ``size`` bytes of
    ``path``, read backwards a block at a time; None when there is none."""
    tail, end = b"", size
    with open(path, "rb") as f:
        while end > 0:
            start = max(0, end - _BLOCK)
            f.seek(start)
            tail = f.read(end - start) + tail
            end = start
            found = tail.rfind(b"\n" + prefix)
            at = found + 1 if found >= 0 else (0 if end == 0 and tail.startswith(prefix) else -1)
            if at >= 0 and tail.find(b"\n", at) >= 0:
                return tail[at:tail.index(b"\n", at) + 1].decode("utf-8")
    return None


def header(fields: Iterable[str], texts: bool, ids: Iterable[str] = ()) -> str:
    """A tsv's header row: the item's corpus index (the JSONL output's ``index``),
    the sentence's number in it when items are texts, the fileid, a table's id
    columns (``ids``), the token's number (from 1, as CoNLL-U's ID), the word, then
    the annotations the records carry (``fields``)."""
    fields = set(fields)
    names = ["index", *(["sentence"] if texts else []), "fileid", *ids, "token", "word"]
    names += [name for key, name in COLUMNS if key in fields]
    if "iob" in fields:
        names.append("chunk")
    return "\t".join(names) + "\n"


__all__ = ["COLUMNS", "Documents", "header", "last_line"]
