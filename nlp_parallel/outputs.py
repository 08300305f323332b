"""Writing a job's output so that no run loses or duplicates a line.

Lines go to a hidden part file beside the target (``.NAME.part``); a checkpoint
beside the output (``NAME.checkpoint``) records how many input items the part file
holds, its size at that point and a hash of the settings that shaped it.  The part
file is made durable (fsync) before each checkpoint names it, so after the driver
is killed at any moment -- or the power fails -- a resumed run truncates the part
file to the checkpoint and continues, and the finished file is byte-identical to an
uninterrupted run's.  The part file is renamed into place only when complete.
When a write fails (the disk is full, a file-size limit), the part files are cut
back to the last checkpoint, which stays: the run is resumed once there is room.

Items the task could not process (``on_error`` record or skip) are listed the same
way in ``NAME.errors.jsonl``.

A count's part file holds the partial counts of the pieces of the corpus, one line
each, in corpus order; at the end they are merged, and the merged counts are
written to ``.NAME.render`` beside the output and renamed into place (the part file
then removed), so that what is at the output path is always complete.

An output path that ends in ``.gz`` is written gzip-compressed when the run
completes: the part file stays plain text, so that a checkpoint's offset and a
resume work as for any output, and the compressed file is written beside the output
and renamed into place.  Its header holds no file name and a zero time, so that the
same output is the same bytes, resumed or not.

All of these are regular files, created or replaced by this module only: a symbolic
link, FIFO or device node at any of those paths is refused and left as it is.

The output path ``-`` is standard output (:class:`StandardOutput`): each piece is
written and flushed as it completes, in corpus order; nothing is kept beside it, so
such a run cannot be resumed.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import io
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict
from types import TracebackType
from typing import IO, Any

from .checkpoints import (
    CHECKPOINT_VERSION,
    Checkpoint,
    changed_settings,
    joined,
    plain_settings,
    settings_hash,
)
from .errors import ConfigError, OutputAppeared, OutputError

#: Seconds between checkpoints while writing (each costs an fsync).
CHECKPOINT_EVERY = 1.0
#: The output path that means standard output.
STDOUT = "-"
#: How an output path that is written gzip-compressed ends.
GZIP_SUFFIX = ".gz"
#: gzip's own default level: most of the gain of 9 at a fraction of its time.
GZIP_LEVEL = 6
#: How a path that is not a regular file is named in messages.
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def special_kind(path: str) -> str | None:
    """What ``path`` is when it exists and is not a regular file ("a FIFO"); None
    when it is one or does not exist.  A symbolic link is one, whatever it names:
    replacing it would not write its target, and writing through it would write a
    file the user did not name."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def _open_nofollow(path: str, flags: int) -> int:
    """``open``'s opener: never through a symbolic link."""
    return os.open(path, flags | os.O_NOFOLLOW, 0o666)


class OutputFile:
    """The output of one run.

    :meth:`check` refuses, before any work starts, an existing output (unless
    ``overwrite``), a path that cannot be written, one that is not a regular file
    (nor may the files beside it be), an output another run is writing, a left-over
    checkpoint when not resuming, and a checkpoint whose settings differ from
    ``settings``.  Leaving the ``with`` block without :meth:`commit` keeps the part
    file and a final checkpoint when anything was written (the run can be resumed),
    and removes them otherwise or when the input itself was bad.  After a failed
    write (:class:`~nlp_parallel.errors.OutputError`), and after bad input in a
    resumed run (what earlier runs wrote is not this run's to discard), it keeps
    what the last checkpoint records instead.
    """

    def __init__(self, path: str, overwrite: bool, where: str = "output.path",
                 settings: Mapping[str, Any] | None = None, first_index: int = 0) -> None:
        self.path = os.path.abspath(path)
        self.shown = path
        self.overwrite = overwrite
        self.compressed = path.endswith(GZIP_SUFFIX)
        #: Whether failed items are listed in the errors file beside the output.
        self.lists_errors = True
        self.where = where
        self.settings = dict(settings or {})
        self.first_index = first_index
        directory, name = os.path.split(self.path)
        self.part = os.path.join(directory, f".{name}.part")
        self.errors = self.path + ".errors.jsonl"
        self.errors_part = os.path.join(directory, f".{name}.errors.jsonl.part")
        self.checkpoint_path = self.path + ".checkpoint"
        self.checkpoint_temp = self.checkpoint_path + ".tmp"
        self.render_temp = os.path.join(directory, f".{name}.render")
        self._file: IO[str] | None = None
        self._errors_file: IO[str] | None = None
        self.items = 0  # input items written, resumed ones included
        self.position: tuple[Any, ...] | None = None  # of the next item, among shards
        self.failures = 0
        self._offset = 0
        self._errors_offset = 0
        self._saved = 0.0
        self._durable: Checkpoint | None = None  # what the checkpoint on disk records
        self._broken = False  # a write failed: past _durable, the part files hold unknown bytes
        self._replaces = overwrite  # may replace a file at the output path
        self._resumed = False  # continues what an earlier run wrote
        #: Called at each checkpoint for what the runs so far did, kept with it.
        self.totals: Callable[[], Mapping[str, Any]] | None = None

    # -- before the run -----------------------------------------------------------

    def check(self, resume: bool = False) -> Checkpoint | None:
        """Raise :class:`ConfigError` naming the key when the output cannot be
        written; return the checkpoint a resumed run continues from."""
        self._refuse_special_files()
        self._refuse_if_locked()
        # Starting over needs nothing from an earlier run, not even a readable checkpoint.
        saved = None if self.overwrite and not resume else self.load_checkpoint()
        if saved is not None and not resume:
            raise ConfigError(
                f"{self.where}: an interrupted run left {self.shown}.checkpoint "
                f"({saved.items:,} items written); pass --resume to continue it or "
                f"--overwrite to start over")
        if saved is None and os.path.exists(self.path) and not self.overwrite and not resume:
            raise ConfigError(
                f"{self.where}: {self.shown} exists; set output.overwrite: true or pass "
                f"--overwrite to replace it")
        parent = os.path.dirname(self.path)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{self.where}: cannot write {self.shown}: {parent} is not a "
                              f"writable directory")
        if not resume or saved is None:
            return None
        if saved.settings != settings_hash(self.settings):
            # Both sides as JSON: what the checkpoint holds.  Empty only for a
            # checkpoint whose settings and hash disagree (edited by hand).
            changed = changed_settings(saved.described, plain_settings(self.settings))
            names = joined(changed) if changed else "settings"
            them = "it" if len(changed) == 1 else "them"
            raise ConfigError(
                f"{self.where}: cannot resume {self.shown}: the job's {names} changed since "
                f"the interrupted run; restore {them}, or pass --overwrite instead of "
                f"--resume to start over")
        if not os.path.exists(self.part) or os.path.getsize(self.part) < saved.offset:
            raise ConfigError(f"{self.where}: cannot resume {self.shown}: its part file "
                              f"{self.part} is missing or shorter than the checkpoint says")
        return saved

    def _refuse_special_files(self) -> None:
        """Raise :class:`ConfigError` when the output or a file the run writes beside
        it exists and is not a regular file."""
        kind = special_kind(self.path)
        if kind:
            raise ConfigError(
                f"{self.where}: {self.shown} is {kind}, not a regular file; write the "
                f"output to a regular file or a path that does not exist yet")
        for path in (self.errors, self.part, self.errors_part, self.checkpoint_path,
                     self.checkpoint_temp, self.render_temp):
            kind = special_kind(path)
            if kind:
                raise ConfigError(
                    f"{self.where}: {self._shown(path)}, which a run writes beside "
                    f"{self.shown}, is {kind}, not a regular file; move it away or write "
                    f"the output elsewhere")

    def _refuse_if_locked(self) -> None:
        """Raise :class:`ConfigError` when another run holds the part file's lock,
        that is, is writing this output now."""
        try:
            fd = os.open(self.part, os.O_RDONLY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._another_run() from None
        finally:
            os.close(fd)  # and with it the shared lock just taken

    def _another_run(self) -> ConfigError:
        return ConfigError(f"{self.where}: another run is writing {self.shown} (it holds "
                           f"{self._shown(self.part)}); wait for it to finish, or stop it "
                           f"first")

    def _shown(self, path: str) -> str:
        """A file beside the output, named as the user named the output."""
        return os.path.join(os.path.dirname(self.shown), os.path.basename(path))

    def finished(self) -> bool:
        """Whether a resumed run has nothing to do: the output is complete.

        Raises :class:`ConfigError` as :meth:`check` does for files that are not
        regular files and for an output another run is writing."""
        self._refuse_special_files()
        self._refuse_if_locked()
        return os.path.exists(self.path) and self.load_checkpoint() is None

    def load_checkpoint(self) -> Checkpoint | None:
        try:
            with open(self.checkpoint_path, encoding="utf-8") as f:
                data = json.load(f)
            saved = Checkpoint(**data)
            if saved.version != CHECKPOINT_VERSION:
                raise ValueError(f"version {saved.version!r}, not {CHECKPOINT_VERSION}")
            return saved
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{self.where}: {self.shown}.checkpoint is not a checkpoint "
                              f"this version can read ({exc}); pass --overwrite (without "
                              f"--resume) to start over") from None

    # -- the run ------------------------------------------------------------------

    def open(self, resume: bool = False) -> int:
        """Open the part files, truncated to the checkpoint when resuming; return
        the number of input items already written.

        Raises :class:`ConfigError` as :meth:`check` does, and
        :class:`~nlp_parallel.errors.OutputError` when a file cannot be created."""
        saved = self.check(resume)
        with self._writing(self.path):
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        part = self._open_part(self.part)
        try:
            errors = self._open_part(self.errors_part)
        except BaseException:
            part.close()
            if saved is None:  # nothing in it to keep, and no other run has it locked
                _remove(self.part)
            raise
        self._file, self._errors_file = part, errors
        self._durable = saved
        self._replaces = self.overwrite or (saved is not None and saved.replaces)
        self._resumed = saved is not None
        _remove(self.checkpoint_temp)  # left by a driver killed while it saved
        if saved is None:
            # Starting over: an earlier run's checkpoint goes before its part file is
            # cut, so that no checkpoint ever describes bytes that are not there.
            _remove(self.checkpoint_path)
        with self._writing(self.part):
            self._file.truncate(saved.offset if saved else 0)
        with self._writing(self.errors_part):
            self._errors_file.truncate(saved.errors_offset if saved else 0)
        if saved is not None:
            self.items, self.failures = saved.items, saved.failures
            self.position = saved.position
            self._offset, self._errors_offset = saved.offset, saved.errors_offset
        self._saved = time.monotonic()
        return self.items

    def _open_part(self, path: str) -> IO[str]:
        """Open a part file for appending and lock it for this run."""
        with self._writing(path):
            f = open(path, "a+", encoding="utf-8", newline="", opener=_open_nofollow)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise self._another_run() from None
        return f

    def write(self, text: str, items: int, failures: Iterable[Mapping[str, Any]] = (),
              position: tuple[Any, ...] | None = None) -> None:
        """Append ``text``, which completes the output up to ``items`` input items,
        and the error records of items that failed among them; ``position`` is
        where the next item lies among the shards of the corpus (a shard's number
        and an item in it), for a resumed run to start there."""
        assert self._file is not None and self._errors_file is not None
        with self._writing(self.part):
            self._file.write(text)
        self._offset += len(text.encode("utf-8"))
        for record in failures:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            with self._writing(self.errors_part):
                self._errors_file.write(line)
            self._errors_offset += len(line.encode("utf-8"))
            self.failures += 1
        self.items = items
        self.position = position
        if time.monotonic() - self._saved >= CHECKPOINT_EVERY:
            self.save_checkpoint()

    def save_checkpoint(self) -> None:
        """Make what is written durable, then record it.

        Raises :class:`~nlp_parallel.errors.OutputError` naming the file that could
        not be written; the checkpoint before this one is left as it was."""
        assert self._file is not None and self._errors_file is not None
        self._sync()
        last = self.first_index + self.items - 1 if self.items else None
        saved = Checkpoint(settings_hash(self.settings), plain_settings(self.settings),
                           self.items, last, self._offset, self._errors_offset,
                           self.failures, replaces=self._replaces,
                           position=self.position,
                           totals=None if self.totals is None else self.totals())
        temp = self.checkpoint_temp
        with self._writing(self.checkpoint_path):
            # O_EXCL: a fresh file, never one that appeared there (open() cleared it).
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                with open(fd, "w", encoding="utf-8") as f:
                    json.dump(asdict(saved), f, ensure_ascii=False, default=str)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temp, self.checkpoint_path)
            except BaseException:
                _remove(temp)
                raise
        self._durable = saved
        self._saved = time.monotonic()

    def _sync(self) -> None:
        """Flush the part files and make them durable (fsync)."""
        assert self._file is not None and self._errors_file is not None
        for f, path in ((self._file, self.part), (self._errors_file, self.errors_part)):
            with self._writing(path):
                f.flush()
                os.fsync(f.fileno())

    @contextlib.contextmanager
    def _writing(self, path: str) -> Iterator[None]:
        """Turn a failed write of ``path`` into :class:`OutputError` naming it."""
        try:
            yield
        except OSError as exc:
            self._broken = True
            raise OutputError(self._shown(path), exc) from exc

    def written(self) -> Iterator[str]:
        """The lines of the part file so far (a resumed run's, up to its checkpoint)."""
        assert self._file is not None
        self._file.flush()
        with open(self.part, encoding="utf-8", newline="\n", opener=_open_nofollow) as f:
            yield from f

    def commit(self, render: Callable[[IO[str]], None] | None = None) -> None:
        """Rename the part file to the output path (and the errors list beside it);
        or, given ``render``, write the output with it (a count's merged counts) and
        remove the part file.

        Raises :class:`ConfigError` when something other than a regular file
        appeared at either path during the run, and
        :class:`~nlp_parallel.errors.OutputAppeared` when a file appeared at the
        output path that this run may not replace; the run stays resumable."""
        assert self._file is not None and self._errors_file is not None
        self._refuse_special_files()
        if os.path.exists(self.path) and not self._replaces:
            raise OutputAppeared(self.shown, self._shown(self.part))
        self._sync()
        if render is None and not self.compressed:
            os.replace(self.part, self.path)
        else:
            self._render(render or self._copy_part)
            os.unlink(self.part)
        if self.failures:
            os.replace(self.errors_part, self.errors)
        else:
            os.unlink(self.errors_part)
            if os.path.exists(self.errors):  # a stale list from an earlier run
                os.unlink(self.errors)
        self._close_files()
        if os.path.exists(self.checkpoint_path):
            os.unlink(self.checkpoint_path)

    def _render(self, render: Callable[[IO[str]], None]) -> None:
        """Write the output through a temporary file beside it, made durable, then
        renamed into place: the output path holds the whole of it or nothing new.
        A ``.gz`` output is compressed on the way, reproducibly (no name, no time)."""
        _remove(self.render_temp)  # left by a driver killed while it rendered
        with self._writing(self.path):
            fd = os.open(self.render_temp,
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            try:
                with open(fd, "wb") as raw:
                    if self.compressed:
                        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                           compresslevel=GZIP_LEVEL) as packed:
                            _render_text(render, packed)
                    else:
                        _render_text(render, raw)
                    raw.flush()
                    os.fsync(raw.fileno())
                os.replace(self.render_temp, self.path)
            except BaseException:
                _remove(self.render_temp)
                raise

    def _copy_part(self, stream: IO[str]) -> None:
        """The part file's text, as is (for an output written compressed)."""
        with open(self.part, encoding="utf-8", newline="", opener=_open_nofollow) as f:
            shutil.copyfileobj(f, stream, 1 << 20)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is None:
            return
        if self._broken:
            self._abandon()
            return
        bad_input = exc_type is not None and issubclass(exc_type, ConfigError)
        if bad_input and self._resumed:
            # Bad data found while reading on: what earlier runs wrote stays, up to
            # the last checkpoint, to be resumed once the data is mended.
            self._abandon()
            return
        if self.items and not bad_input:
            try:
                self.save_checkpoint()  # resumable
            except OutputError:
                # The error that stopped the run is the one to report; the last
                # checkpoint saved still holds.
                self._abandon()
                return
            self._close_files()
            return
        self._close_files()
        for path in (self.part, self.errors_part, self.checkpoint_path):
            _remove(path)

    def _abandon(self) -> None:
        """Close the part files after a failed write and cut them back to the last
        checkpoint (remove them when there is none): past it they hold unknown
        bytes, part of a line perhaps, and cutting those frees the space they took."""
        for f in (self._file, self._errors_file):
            # Closing flushes what is buffered, which fails as the write did; those
            # bytes are past the checkpoint and cut off below, so that error says
            # nothing new.
            with contextlib.suppress(OSError):
                if f is not None:
                    f.close()
        self._file = self._errors_file = None
        saved = self._durable
        if saved is None:
            _remove(self.part)
            _remove(self.errors_part)
            return
        for path, size in ((self.part, saved.offset), (self.errors_part, saved.errors_offset)):
            # Only frees space: a resume truncates to the checkpoint anyway.
            with contextlib.suppress(OSError):
                os.truncate(path, size)

    def _close_files(self) -> None:
        for f in (self._file, self._errors_file):
            if f is not None:
                f.close()
        self._file = self._errors_file = None


class StandardOutput(OutputFile):
    """Output path ``-``: the lines go to standard output as they complete, in corpus
    order, and nowhere else; a count's merged counts, once complete.  Failed items
    are only listed in the run's summary.  Nothing is kept to resume from: a resume
    is refused, naming ``where`` (``output.path``, or ``--resume``)."""

    def __init__(self, settings: Mapping[str, Any] | None = None, first_index: int = 0,
                 counts: bool = False) -> None:
        super().__init__(STDOUT, overwrite=True, settings=settings, first_index=first_index)
        self.shown = "standard output"
        self.counts = counts  # a count's pieces stay in the driver's merge, unwritten
        self.lists_errors = False

    def check(self, resume: bool = False) -> Checkpoint | None:
        if resume:
            raise ConfigError(
                f"{self.where}: {STDOUT} (standard output) cannot be resumed: what a run "
                f"wrote there is gone; run again without --resume, or write to a file")
        return None

    def finished(self) -> bool:
        return False

    def load_checkpoint(self) -> Checkpoint | None:
        return None

    def open(self, resume: bool = False) -> int:
        self.check(resume)
        return 0

    def write(self, text: str, items: int, failures: Iterable[Mapping[str, Any]] = (),
              position: tuple[Any, ...] | None = None) -> None:
        if not self.counts:
            self._send(lambda stream: stream.write(text))
        self.failures += sum(1 for _ in failures)
        self.items, self.position = items, position

    def save_checkpoint(self) -> None:
        pass

    def commit(self, render: Callable[[IO[str]], None] | None = None) -> None:
        if render is not None:
            self._send(render)

    def _send(self, render: Callable[[IO[str]], object]) -> None:
        """Write to standard output, as UTF-8 whatever its locale, and flush.

        Raises :class:`~nlp_parallel.errors.OutputError` when it is closed (the
        reader of a pipe went away); standard output then leads nowhere, so that
        the interpreter's own flush at exit does not fail again."""
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        try:
            stdout.flush()
            if binary is None:
                render(stdout)
                stdout.flush()
                return
            stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            try:
                render(stream)
                stream.flush()
            finally:
                stream.detach()
        except BrokenPipeError as exc:
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stdout.fileno())
                os.close(devnull)
            raise OutputError(self.shown, exc) from exc
        except OSError as exc:
            raise OutputError(self.shown, exc) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass  # nothing beside it to keep or remove


def _render_text(render: Callable[[IO[str]], None], binary: Any) -> None:
    """``render``'s text into ``binary``, as UTF-8."""
    stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        render(stream)
        stream.flush()
    finally:
        stream.detach()


def _remove(path: str) -> None:
    """Remove ``path`` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
