"""Compressed input, told by its first bytes rather than its name.

gzip, bzip2 and xz are what the standard library decompresses (:mod:`gzip`,
:mod:`bz2`, :mod:`lzma`).  A file's first bytes decide, so ``answers.csv`` that is
in fact gzip is read decompressed, and ``notes.gz`` that is plain text is read as
it is.  A compressed file cannot be cut at a byte offset of its text, so the driver
reads it; NLTK's block readers, which seek back and forth in their file, read a
decompressed copy of it (see :class:`~.sources.Source`).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
from collections.abc import Callable, Mapping
from typing import IO, Any, BinaryIO

#: How many leading bytes :func:`compression_of` looks at.
HEAD_BYTES = 10

#: bzip2: ``BZh``, a block size digit, then the magic of a block or of the end.
_BZIP2_BLOCKS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")

#: The decompressing file object of each compression, over a binary stream.
OPENERS: Mapping[str, Callable[[BinaryIO], Any]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "bzip2": lambda raw: bz2.BZ2File(raw, mode="rb"),
    "xz": lambda raw: lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_XZ),
}

#: What each decompressor raises on a damaged stream.
DAMAGED = (EOFError, OSError, lzma.LZMAError, gzip.BadGzipFile)


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``bzip2`` or ``xz`` for a stream that starts with ``head`` (its
    first :data:`HEAD_BYTES` bytes, fewer at its end); None for anything else."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0" \
            and head[4:10] in _BZIP2_BLOCKS:
        return "bzip2"
    return None


def sniff(path: str) -> str | None:
    """The compression of the file at ``path`` (None: not compressed)."""
    with open(path, "rb") as stream:
        return compression_of(stream.read(HEAD_BYTES))


def decompressed(raw: BinaryIO, compression: str | None) -> IO[bytes]:
    """``raw`` read through its decompressor (itself when ``compression`` is None).
    Closing the result leaves ``raw`` open."""
    if compression is None:
        return raw
    stream: IO[bytes] = OPENERS[compression](raw)
    return stream


def compression_name(stream: object) -> str | None:
    """Which compression ``stream`` decompresses (None: a plain stream)."""
    for name, cls in (("gzip", gzip.GzipFile), ("bzip2", bz2.BZ2File), ("xz", lzma.LZMAFile)):
        if isinstance(stream, cls):
            return name
    return None


def copy_to(source: IO[bytes], path: str) -> None:
    """Write what ``source`` yields to a new file at ``path``."""
    with open(path, "xb") as target:
        shutil.copyfileobj(source, target, 1 << 20)


class Prefixed(io.RawIOBase):
    """A stream that cannot be rewound (standard input) read again from its start:
    ``head`` (bytes already read from it) and then the rest of ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read1(len(view)) if hasattr(self._rest, "read1") \
            else self._rest.read(len(view))
        view[:len(data)] = data
        return len(data)


def open_stream(raw: BinaryIO) -> IO[bytes]:
    """A stream that cannot be rewound, decompressed when its first bytes say it is
    compressed.  Closing the result leaves ``raw`` open."""
    head = b""
    while len(head) < HEAD_BYTES:
        chunk = raw.read(HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    buffered = io.BufferedReader(Prefixed(head, raw), 1 << 16)
    return decompressed(buffered, compression_of(head))  # type: ignore[arg-type]
