"""Writing a job's output: to a temporary file, renamed into place only when complete."""

from __future__ import annotations

import os
from types import TracebackType
from typing import IO

from .errors import ConfigError


class OutputFile:
    """The output of one run.

    :meth:`check` refuses, before any work starts, an existing output (unless
    ``overwrite``) and a path that cannot be written.  Lines go to a temporary file
    beside the target; :meth:`commit` renames it into place, and leaving the ``with``
    block without committing removes it, so a failed run neither creates nor
    clobbers the output.
    """

    def __init__(self, path: str, overwrite: bool, where: str = "output.path") -> None:
        self.path = os.path.abspath(path)
        self.shown = path
        self.overwrite = overwrite
        self.where = where
        self.temp = os.path.join(
            os.path.dirname(self.path), f".{os.path.basename(self.path)}.{os.getpid()}.part"
        )
        self._file: IO[str] | None = None

    def check(self) -> None:
        """Raises :class:`ConfigError` naming the key when the output cannot be written."""
        if os.path.isdir(self.path):
            raise ConfigError(f"{self.where}: {self.shown} is a directory")
        if os.path.exists(self.path) and not self.overwrite:
            raise ConfigError(
                f"{self.where}: {self.shown} exists; set output.overwrite: true or pass "
                f"--overwrite to replace it"
            )
        parent = os.path.dirname(self.path)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{self.where}: cannot write {self.shown}: {parent} is not a "
                              f"writable directory")

    def __enter__(self) -> IO[str]:
        self.check()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._file = open(self.temp, "w", encoding="utf-8")
        return self._file

    def commit(self) -> None:
        """Close the temporary file and rename it to the output path."""
        assert self._file is not None
        self._file.close()
        if os.path.exists(self.path) and not self.overwrite:
            raise ConfigError(f"{self.where}: {self.shown} appeared during the run; "
                              f"the result is kept in {self.temp}")
        os.replace(self.temp, self.path)
        self._file = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:  # not committed: leave nothing behind
            self._file.close()
            os.unlink(self.temp)
            self._file = None
