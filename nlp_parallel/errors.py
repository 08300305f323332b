"""The toolkit's exceptions: one base class and a subclass per kind of failure.

Each carries what a user needs to act on it: the spec of the gateway involved, the
index of the failing item, the remote traceback text.
"""

from __future__ import annotations


class NlpParallelError(Exception):
    """Base class of every error this toolkit raises on purpose."""


class ConfigError(NlpParallelError, ValueError):
    """Invalid user input: a job file, a gateway spec, an option value."""


class SpecError(ConfigError):
    """A malformed gateway spec or count, detected before any gateway starts."""


class ResourceMissing(NlpParallelError, LookupError):
    """An NLTK resource is not installed where NLTK looks for it on the driver.

    ``package`` is the NLTK data package that holds ``resource``; ``where`` names
    what asked for it (``jobs/tb.yaml: task.options.lang``), and starts the message.
    """

    def __init__(self, resource: str, package: str, where: str = "") -> None:
        message = (
            f"NLTK resource {resource!r} is not installed; install it with "
            f"`nlp-parallel data install {package}` (or `--from DIR` from a local mirror), "
            f"or point NLTK_DATA at a directory that has it"
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.resource = resource
        self.package = package
        self.where = where

    def within(self, where: str) -> ResourceMissing:
        """This error named by ``where`` too, outside what names it already: a key,
        then the job file (named once, however many callers add it)."""
        if self.where == where or self.where.startswith(f"{where}: "):
            return self
        return ResourceMissing(self.resource, self.package,
                               f"{where}: {self.where}" if self.where else where)


class OutputError(NlpParallelError):
    """The output could not be written: the disk is full, a file-size limit was hit.

    ``path`` names the file as the user named the output; ``errno`` is the
    operating system's.  What the last checkpoint records stays resumable.
    """

    def __init__(self, path: str, error: OSError) -> None:
        super().__init__(f"cannot write {path}: {error.strerror or error}")
        self.path = path
        self.errno = error.errno


class OutputAppeared(NlpParallelError):
    """Another program created the output while a run wrote it, and the run may not
    replace it (no ``overwrite``).  The run's result stays in its part file,
    resumable: move the other file away, or resume with ``overwrite``."""

    def __init__(self, path: str, part: str) -> None:
        super().__init__(f"{path} appeared during the run and this run may not replace it "
                         f"(no --overwrite); the result is kept in {part}: move {path} "
                         f"away and resume, or resume with --overwrite to replace it")
        self.path = path


class EncodeError(NlpParallelError, TypeError):
    """An item that cannot be sent to a worker as JSON."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"item {index} cannot be sent to a worker: {message}")
        self.index = index


class GatewayError(NlpParallelError):
    """A problem with one gateway; ``spec`` names it."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(f"gateway {spec}: {message}")
        self.spec = spec


class GatewayStartError(GatewayError):
    """A gateway could not be started, or its worker did not answer the handshake."""


class HandshakeError(GatewayError):
    """A worker speaks another protocol version or runs an incompatible Python or NLTK."""


class GatewayLost(GatewayError):
    """No gateway is left to run the work: each died more often than allowed.

    ``specs`` names every gateway lost (``spec`` is them joined, for the message);
    ``indexes`` lists the first item index of every batch still to run.
    """

    def __init__(self, specs: tuple[str, ...], message: str,
                 indexes: tuple[int, ...] = ()) -> None:
        super().__init__(", ".join(specs), message)
        self.specs = specs
        self.indexes = indexes


class ItemError(NlpParallelError):
    """An item failed under ``on_error="fail"``: the task raised on it
    (:class:`RemoteTaskError`) or it killed or hung every worker given it
    (:class:`PoisonItem`).  ``index`` is its input position (None for a task that
    failed while setting up), ``item`` a short text of it, ``error_type`` what went
    wrong there."""

    index: int | None
    item: str | None
    error_type: str


class PoisonItem(ItemError):
    """One input item killed or hung every worker given it.

    ``index`` is its input position, ``item`` a short text of it, ``error_type``
    ``WorkerDied`` or ``Timeout`` and ``message`` what happened to the last worker.
    """

    def __init__(self, index: int, item: str, error_type: str, message: str) -> None:
        super().__init__(f"{error_type} on item {index}: {message}; the item: {item}")
        self.index = index
        self.item = item
        self.error_type = error_type
        self.message = message


class RemoteTaskError(ItemError):
    """A task raised an exception in a worker.

    ``index`` is the input position of the failing item (None when the task failed
    while setting up), ``item`` a short text of that item, ``error_type`` the remote exception's class name and
    ``remote_traceback`` the traceback text as the worker formatted it.
    """

    def __init__(
        self,
        spec: str,
        index: int | None,
        error_type: str,
        message: str,
        remote_traceback: str,
        item: str | None = None,
    ) -> None:
        where = "during setup" if index is None else f"on item {index}"
        self.summary = f"{error_type} {where} (gateway {spec}): {message}"
        if item is not None:
            self.summary += f"; the item: {item}"
        super().__init__(self.summary)
        self.item = item
        self.spec = spec
        self.index = index
        self.error_type = error_type
        self.message = message
        self.remote_traceback = remote_traceback

    def __str__(self) -> str:
        return f"{self.summary}\n\nRemote traceback:\n{self.remote_traceback.rstrip()}"
