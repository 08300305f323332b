"""The remote side of the batched protocol.

execnet ships this file's *source* to each gateway and runs it inside a channel, so it
imports only the standard library: neither this package nor NLTK data need exist
on the remote host.  The task module arrives as source in the ``setup`` message.

Every message, both ways, is a ``(name, fields)`` pair of plain data.  Items and
results travel as one JSON string per batch, never as nested execnet lists, because
execnet's pure-Python serializer is several times slower than ``json``.

driver -> worker                      worker -> driver
----------------                      ----------------
                                      hello   {protocol, python, executable, nltk, cpus, host,
                                               pid, prepared}
setup   {name, emit, source,          ready   {}  | failed {index: None, seq: None, ...}
         filename, options,
         [reader, on_error]}
        | {name, emit, prepared, ...}
batch   {seq, start, items, [sizes]}  done    {seq, data, seconds, cpu, [sizes]}
                                      | failed {seq, index, data, seconds, ...}
shard   {seq, start, where, [blobs],  done    {seq, data, seconds, cpu, count, counts,
         skip, take, [sizes]}                  failures, tokens, [sizes]}
                                      | failed {seq, index, data, seconds, item, ...}
                                      | failed {seq, bad_data, seconds}
                                      stuck   {seq, index}   (an item runs long; see
                                                              Worker.watch)
ping    {}                            pong    {}
stop    {}
"""

from __future__ import annotations

import hashlib
import json
import linecache
import os
import platform
import socket
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Names for annotations only, never evaluated here: a worker may run Python 3.8,
    # where ``tuple[...]`` cannot be subscripted at run time, and has no execnet
    # package to import (only the gateway code execnet sent it).
    from execnet import Channel

    #: A message either way: its name and its fields, all plain data.
    Message = tuple[str, dict[str, Any]]
    #: What ``setup(options)`` or the module gives for items: item -> result.
    Process = Callable[[Any], Any]
    #: A text-mode formatter: (input index, item, result) -> its line(s), or None.
    Format = Callable[[int, Any, Any], str | None]

PROTOCOL = 3

#: Seconds between a worker's looks at the item it is on: an item seen on two
#: looks in a row is reported to the driver as ``stuck``.
WATCH_EVERY = 0.5


def nltk_version() -> str | None:
    """The version of the NLTK this interpreter imports; None when there is none."""
    nltk = sys.modules.get("nltk")
    if nltk is not None:  # imported already: ask it, not the installed metadata
        return getattr(nltk, "__version__", None)
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return version("nltk")
    except PackageNotFoundError:
        return None


def hello() -> Message:
    """The first message: what this worker is."""
    return (
        "hello",
        {
            "protocol": PROTOCOL,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "nltk": nltk_version(),
            "cpus": os.cpu_count() or 1,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "prepared": sorted(prepared_tasks()),
        },
    )


def load_module(name: str, source: str, filename: str) -> dict[str, Any]:
    """Execute a task module's source into a fresh namespace.

    The source is registered with linecache so remote tracebacks show its lines.
    ``__name__`` is not ``"__channelexec__"``, so a module that also carries a
    seed-style channel loop under that guard does not start it here.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": name, "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def setup_digest(name: str, source: str, filename: str, options: str, files: str = "[]") -> str:
    """A task module with its setup's options (and the places of the files whose
    text they hold), in a few bytes: how the driver names a task that a fork server
    set up before forking this worker."""
    digest = hashlib.sha256()
    for field in (name, source, filename, options, files):
        data = field.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def prepared_tasks() -> dict[str, tuple[dict[str, Any], Any]]:
    """The tasks set up in the fork server this worker was forked from (see
    ``nlp_parallel.forks``), by :func:`setup_digest`: (module namespace, setup's
    result) each; empty in any other worker."""
    server = sys.modules.get("_nlp_parallel_prepared")
    return getattr(server, "tasks", None) or {}


def failure(exc: BaseException, **fields: object) -> Message:
    fields.update(
        type=type(exc).__name__,
        message=str(exc),
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )
    return ("failed", fields)


class Worker:
    """Holds the task of one channel and answers the driver's messages."""

    def __init__(self) -> None:
        self.process: Process | None = None
        self.format: Format | None = None
        self.handlers: dict[str, Callable[..., Message]] = {
            "setup": self.setup, "batch": self.batch, "shard": self.shard, "ping": self.ping}
        #: (batch seq, input index) of the item being processed; None between batches.
        self.at: tuple[int, int] | None = None
        #: Reads the shards of a corpus (``shard_reader.ShardReader``), when the driver
        #: sends shards rather than items.
        self.reader: Any = None
        #: Whether an item the task raises on stops a shard (``on_error`` fail) or is
        #: reported with the shard's results (record, skip).
        self.stop_on_error = True
        #: A task that accumulates (a count): its ``flush()`` gives the line of what the
        #: items since the last flush added, ending each batch's or shard's data.
        self.flush: Callable[[], str | None] | None = None

    def ping(self) -> Message:
        return ("pong", {})

    def setup(self, name: str, emit: str, source: str | None = None,
              filename: str | None = None, options: str | None = None,
              prepared: str | None = None, reader: dict[str, Any] | None = None,
              on_error: str = "fail") -> Message:
        """Load the task; ``setup(options)`` may return the per-item function.

        ``prepared`` instead names a task this worker's fork server set up (the
        handshake lists them), sent without its source and options, which may hold
        a model of several megabytes.  A returned object's ``format`` method, else
        the module's ``format``, formats results in text mode: an item's line (or
        lines, joined by ``"\n"``), or None for an item that writes no line.  Its
        ``flush`` method, when it has one, ends each batch's and shard's lines with
        what it accumulated over their items (text mode).

        ``reader`` (``{source, filename, recipe}``) is the module that reads shards
        of the corpus, and how to rebuild the corpus's NLTK reader.
        """
        try:
            if prepared is not None:
                if prepared not in prepared_tasks():
                    raise LookupError("task %s was not set up in this worker's fork server"
                                      % prepared[:12])
                namespace, handler = prepared_tasks()[prepared]
            else:
                # Sent together, whenever ``prepared`` is not.
                assert source is not None and filename is not None and options is not None
                namespace = load_module(name, source, filename)
                setup = namespace.get("setup")
                handler = setup(json.loads(options)) if setup else None
            process = handler if callable(handler) else namespace.get("process")
            if not callable(process):
                raise TypeError(
                    "the module defines no process(item) and its setup() returned no function"
                )
            if reader is not None:
                reads = load_module("nlp_parallel_shard_reader", reader["source"],
                                    reader["filename"])
                self.reader = reads["ShardReader"](reader["recipe"])
                self.bad_data = reads["BadData"]
        except Exception as exc:
            return failure(exc, index=None, seq=None)
        self.process = process
        self.stop_on_error = on_error == "fail"
        if emit == "text":
            self.format = getattr(handler, "format", None) or namespace.get("format") or default_format
            self.flush = getattr(handler, "flush", None)
        return ("ready", {})

    def flushed(self, lines: list[Any]) -> list[Any]:
        """``lines`` ended with what the task accumulated over their items, if it
        accumulates."""
        if self.flush is not None:
            lines.append(self.flush())
        return lines

    def batch(self, seq: int, start: int, items: str, sizes: bool = False) -> Message:
        started, cpu = time.perf_counter(), time.process_time()
        process, fmt = self.process, self.format
        results = []
        index = start
        self.flushed([])  # nothing left over from a piece that ended unreported
        try:
            assert process is not None, "a batch before the task was set up"
            for index, item in enumerate(json.loads(items), start):
                self.at = (seq, index)
                result = process(item)
                results.append(result if fmt is None else fmt(index, item, result))
        except Exception as exc:
            # The results before the failing item are kept: the driver may go on
            # past it, and then needs only the rest of the batch run again.
            return failure(exc, seq=seq, index=index, data=self.encode(self.flushed(results)),
                           seconds=time.perf_counter() - started)
        finally:
            self.at = None
        done = {"seq": seq, "data": self.encode(self.flushed(results)),
                "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}
        if sizes:
            done["sizes"] = json.dumps([[len(self.encode([r])) for r in results], []])
        return ("done", done)

    def shard(self, seq: int, start: int, where: str, blobs: list[bytes] | None = None,
              skip: int = 0, sizes: bool = False, take: int | None = None) -> Message:
        """Read a piece of the corpus and run the task on its items, from the
        ``skip``-th on and at most ``take`` of them; their input indexes count from
        ``start``.

        ``where`` is JSON: ``{"shard": {"pieces": [...]}, "places": [...]}``.  Text
        mode only.  Under ``on_error`` record or skip, an item the task raises
        on is listed in ``failures`` (its index, where its line would go in
        ``data``, the error and the item) and the shard goes on.  The bytes come
        as ``blobs`` or, for a worker on the driver's machine, as the ``places`` to
        read them from (see :func:`read_place`); a place that cannot be read
        answers ``unreadable``, and the driver sends bytes.  ``counts`` gives
        the items read from each file, skipped ones included; ``tokens`` the tokens
        of the items run (None once an item is a text); ``sizes``, when asked, the
        length of each item's lines in ``data`` and its tokens (-1: a text), as JSON
        ``[lengths, tokens]``.
        """
        started, cpu = time.perf_counter(), time.process_time()
        process, fmt, reader = self.process, self.format, self.reader
        lines: list[str] = []
        lengths: list[int] = []
        failures: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        tokens: list[int] = []  # of each item
        written = 0  # characters of data so far
        index = start
        record: Any = None
        described = json.loads(where)
        shard, places = described["shard"], described.get("places")
        if blobs is None:
            try:
                blobs = [read_place(place) for place in places or ()]
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                return ("failed", {"seq": seq, "unreadable": "%s: %s" % (type(exc).__name__, exc),
                                   "seconds": time.perf_counter() - started})
        self.flushed([])  # nothing left over from a piece that ended unreported
        try:
            assert process is not None and fmt is not None and reader is not None, \
                "a shard before the task and its reader were set up"
            for number, record in enumerate(reader.read(shard, blobs)):
                fileid = record.get("fileid")
                counts[fileid] = counts.get(fileid, 0) + 1
                if number < skip:
                    continue
                if take is not None and number - skip >= take:
                    break
                index = start + number - skip
                self.at = (seq, index)
                tokens.append(len(record["tokens"]) if "tokens" in record else -1)
                try:
                    result = process(record)
                except Exception as exc:
                    if self.stop_on_error:
                        raise
                    listed = failure(exc, index=index, at=written, item=record)[1]
                    failures.append(listed)
                    lengths.append(0)
                    continue
                text = fmt(index, record, result)
                size = 0 if text is None else len(text) + 1
                if text is not None:
                    lines.append(text)
                written += size
                lengths.append(size)
        except self.bad_data as exc:
            self.flushed([])  # the shard is not delivered: neither are its counts
            return ("failed", {"seq": seq, "bad_data": getattr(exc, "fields", {}),
                               "counts": counts,
                               "seconds": time.perf_counter() - started})
        except Exception as exc:
            return failure(exc, seq=seq, index=index, data=self.encode(self.flushed(lines)),
                           item=record, seconds=time.perf_counter() - started)
        finally:
            self.at = None
        done = {"seq": seq, "data": self.encode(self.flushed(lines)), "count": len(lengths),
                "counts": counts,
                "failures": failures, "seconds": time.perf_counter() - started,
                "cpu": time.process_time() - cpu, "tokens": None if -1 in tokens else sum(tokens)}
        if sizes:
            done["sizes"] = json.dumps([lengths, tokens])
        return ("done", done)

    #: The reader's exception for bad user data; a class that is never raised
    #: until a reader is set up.
    bad_data: type[Exception] = type("NoReader", (Exception,), {})

    def watch(self, send: Callable[[Message], bool], closed: Callable[[], bool],
              every: float = WATCH_EVERY) -> None:
        """Report an item that runs for ``every`` seconds or more, once, as ``stuck``.

        Runs in a thread beside the one processing items.  Should the item never
        finish, the driver, which kills the worker after the batch's timeout, then
        knows which item hung and retries the others without it.  An item that
        hangs holding the GIL goes unreported; the driver then narrows the hung
        batch down by splitting it.
        """
        seen: tuple[int, int] | None = None
        reported: tuple[int, int] | None = None
        while not closed():
            time.sleep(every)
            at = self.at
            if at is not None and at == seen and at != reported:
                seq, index = at
                if not send(("stuck", {"seq": seq, "index": index})):
                    return
                reported = at
            seen = at

    def encode(self, results: list[Any]) -> str:
        if self.format is None:
            return json.dumps(results, ensure_ascii=False, separators=(",", ":"))
        return "".join(lines + "\n" for lines in results if lines is not None)


#: The zip archive a worker read last, kept open: reading its directory of a few
#: hundred members costs more than a shard's worth of them.  (path, stat) -> archive.
_ARCHIVE: dict[tuple[str, tuple[int, int, int]], zipfile.ZipFile] = {}


def archive(path: str) -> zipfile.ZipFile:
    """The zip archive at ``path``, open; opened again when the file changed."""
    st = os.stat(path)
    key = (path, (st.st_ino, st.st_size, st.st_mtime_ns))
    if key not in _ARCHIVE:
        for old in _ARCHIVE.values():
            old.close()
        _ARCHIVE.clear()
        _ARCHIVE[key] = zipfile.ZipFile(path)
    return _ARCHIVE[key]


def read_place(place: dict[str, Any]) -> bytes:
    """Bytes ``begin`` to ``end`` of a file on this machine: ``{"file": path}`` (not
    through a symbolic link), or ``{"zip": path, "member": name}``.  Raises OSError
    or ValueError when it cannot be read, or is not as long as the driver saw."""
    begin, end = place["begin"], place["end"]
    if "zip" in place:
        with archive(place["zip"]).open(place["member"]) as member:
            member.seek(begin)
            data = member.read(end - begin)
    else:
        fd = os.open(place["file"], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as stream:
            stream.seek(begin)
            data = stream.read(end - begin)
    if len(data) != end - begin:
        raise ValueError("%s is shorter than it was" % (place.get("file") or place["member"]))
    return data


def default_format(index: int, item: Any, result: Any) -> str:
    """Text mode without a module ``format``: the result as one JSON line."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def serve(channel: Channel) -> None:
    """Answer messages until the driver says stop or closes the channel."""
    worker = Worker()
    lock = threading.Lock()  # the watch thread sends too; a socket must not interleave

    def send(message: Message) -> bool:
        with lock:
            if channel.isclosed():
                return False
            try:
                channel.send(message)
            except OSError:  # the driver went away while we worked
                return False
            return True

    send(hello())
    watch = threading.Thread(target=worker.watch, args=(send, channel.isclosed),
                             name="watch", daemon=True)
    watch.start()
    try:
        for name, fields in channel:
            if name == "stop":
                return
            if not send(worker.handlers[name](**fields)):
                return
    finally:
        if worker.reader is not None:
            worker.reader.close()  # its files of the corpus


if __name__ == "__channelexec__":
    serve(channel)  # type: ignore[name-defined]  # noqa: F821
