"""The vocabulary every layer shares: how a run is set, and what a failed item is.

Run settings are validated here, once, for the YAML job and the Python API alike,
with one wording (``timeout: expected a positive number of seconds, not '5'``);
the task options travel as one JSON string (:func:`encode_options`).  Nothing here
imports more of the toolkit than its errors, so the engine, the job parser and the
model loaders can all build on it.
"""

from __future__ import annotations

import difflib
import enum
import functools
import json
import math
import os
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

#: Restarts allowed per gateway, not counting deaths on an item already known to
#: kill workers (isolating such an item costs a few restarts by design).
MAX_RESTARTS = 10
#: Without a ``timeout``, a batch is taken for hung after this many times its
#: expected time (from the gateway's measured speed), and never before
#: :data:`HUNG_AFTER` seconds (or the seconds the environment variable
#: ``NLP_PARALLEL_HUNG_AFTER`` gives): no hung item stalls a run for ever, and no
#: slow but healthy batch is cut short.
HUNG_FACTOR = 100
HUNG_AFTER = 300.0
#: Longest item text quoted in an error message or record.
ITEM_TEXT = 200


class Emit(enum.Enum):
    """What a run yields: decoded results, or text lines pre-formatted by workers."""

    RESULTS = "json"
    TEXT = "text"


class OnError(enum.Enum):
    """What a run does with an item the task raises on or that kills workers."""

    FAIL = "fail"  # stop with an error naming the item
    RECORD = "record"  # put an error record in the item's place and go on
    SKIP = "skip"  # leave the item out and go on; it is listed in ``failures``


@dataclass(frozen=True)
class ItemFailure:
    """An item the task could not process.

    ``error_type`` is the exception's class name, or ``WorkerDied`` / ``Timeout``
    for an item that killed or hung every worker given it; ``item`` is a short text
    of the item.  Under ``on_error="record"`` results hold one in the item's place.
    """

    index: int
    error_type: str
    message: str
    item: str
    traceback: str = ""

    def record(self, index_base: int = 0) -> dict:
        """The error record written in the item's place: index, type, message."""
        return {"index": self.index + index_base,
                "error": {"type": self.error_type, "message": self.message}}

    def line(self, index_base: int = 0) -> str:
        """:meth:`record` as a JSON line, for text output."""
        return json.dumps(self.record(index_base), ensure_ascii=False) + "\n"

    def listing(self) -> dict[str, Any]:
        """The item's line in ``OUTPUT.errors.jsonl``: index, type, message, the
        item's text and, when the task raised, the remote traceback."""
        listed: dict[str, Any] = {"index": self.index, "type": self.error_type,
                                  "message": self.message, "item": self.item}
        if self.traceback:
            listed["traceback"] = self.traceback
        return listed


def item_text(item: Any) -> str:
    """A short text of an input item for messages: its text, its tokens joined, or
    its JSON."""
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        text = item["text"]
    elif isinstance(item, dict) and isinstance(item.get("tokens"), list):
        text = " ".join(str(t) for t in item["tokens"])
    elif isinstance(item, str):
        text = item
    else:
        text = json.dumps(item, ensure_ascii=False, default=repr)
    return text if len(text) <= ITEM_TEXT else text[:ITEM_TEXT - 3] + "..."


@dataclass(frozen=True)
class RunOptions:
    """How one map runs; validated by :func:`run_options`."""

    encoded: TaskOptions  # the task's setup options
    batch_size: int | None  # None: automatic
    emit: Emit
    timeout: float | None  # per batch; None: taken for hung at HUNG_FACTOR x expected
    start_timeout: float
    on_error: OnError = OnError.FAIL
    max_restarts: int = MAX_RESTARTS  # per gateway
    hung_after: float | None = None  # without a timeout, the floor; None: HUNG_AFTER

    @property
    def options(self) -> str:
        """The task's setup options as one JSON text (models read now, if not yet)."""
        return self.encoded.text


BatchSize = int | str | None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_batch_size(value: Any) -> int | None:
    """``auto`` (or None) for automatic sizing, else a positive number of items."""
    if value in ("auto", None):
        return None
    if _whole(value) and value > 0:
        return int(value)
    raise ConfigError(f"batch_size: expected auto or a positive integer, not {value!r}")


def check_seconds(name: str, value: Any) -> float:
    """A positive, finite number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and value > 0 and math.isfinite(value):
        return float(value)
    raise ConfigError(f"{name}: expected a positive number of seconds, not {value!r}")


def check_timeout(value: Any) -> float | None:
    """Seconds one batch may run, or None for the default hang detection."""
    return None if value is None else check_seconds("timeout", value)


def check_on_error(value: Any) -> OnError:
    if isinstance(value, OnError):
        return value
    choices = [policy.value for policy in OnError]
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1) if isinstance(value, str) else []
        raise ConfigError(f"on_error: {value!r} is not one of {', '.join(choices)}"
                          + (f" (did you mean {close[0]!r}?)" if close else ""))
    return OnError(value)


def check_max_restarts(value: Any) -> int:
    if _whole(value) and value >= 0:
        return int(value)
    raise ConfigError(f"max_restarts: expected a whole number of restarts per gateway "
                      f"(0 or more), not {value!r}")


def run_options(
    options: Any = None,
    batch_size: BatchSize = "auto",
    emit: Emit = Emit.RESULTS,
    timeout: float | None = None,
    start_timeout: float = 60.0,
    on_error: OnError | str = OnError.FAIL,
    max_restarts: int = MAX_RESTARTS,
) -> RunOptions:
    """Validate run settings; raises :class:`ConfigError` for a bad value."""
    return RunOptions(TaskOptions(options), check_batch_size(batch_size), emit,
                      check_timeout(timeout), check_seconds("start_timeout", start_timeout),
                      check_on_error(on_error), check_max_restarts(max_restarts),
                      hung_after_from_environment())


def hung_after_from_environment() -> float | None:
    """``NLP_PARALLEL_HUNG_AFTER``: seconds that replace :data:`HUNG_AFTER`."""
    text = os.environ.get("NLP_PARALLEL_HUNG_AFTER", "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"environment variable NLP_PARALLEL_HUNG_AFTER: {text!r} is not a "
                          f"positive number of seconds")
    return value


class RawJSON:
    """JSON text to splice into task options verbatim.

    A model read from NLTK's JSON files travels as its file text: the driver never
    parses it and each worker parses it exactly once.
    """

    def __init__(self, text: str) -> None:
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def places(self, first: int) -> tuple[str, list[dict[str, Any]]] | None:
        """The text as a process on this machine can read it itself: JSON text with
        ``placeholder("file", first + n)`` where the text of the n-th file goes, and
        the files' places (see :mod:`nlp_parallel.models`); None for text held in
        memory."""
        return None


def placeholder(kind: str, number: int) -> str:
    """The JSON string that stands for the ``number``-th spliced text of ``kind``."""
    return json.dumps(f"\0{kind}{number}\0")


def encode_options(options: Any) -> str:
    """Encode task options as one JSON string, splicing :class:`RawJSON` values.

    Raises :class:`ConfigError` for values JSON cannot carry.
    """
    return TaskOptions(options).text


class TaskOptions:
    """A task's setup options as JSON text, its :class:`RawJSON` values (models) read
    only when some worker needs their text.

    Encoded at once, so that a value JSON cannot carry raises :class:`ConfigError`
    here, at the edge.
    """

    def __init__(self, options: Any) -> None:
        raw: list[RawJSON] = []

        def hold(value: object) -> str:
            if isinstance(value, RawJSON):
                raw.append(value)
                return f"\0raw{len(raw) - 1}\0"
            raise TypeError(f"{type(value).__name__} is not JSON data")

        try:
            self._template = json.dumps({} if options is None else options, default=hold)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"task options must be JSON data: {exc}") from None
        self._raw = tuple(raw)

    @functools.cached_property
    def text(self) -> str:
        """The options' JSON text, with every model's text spliced in."""
        encoded = self._template
        for i, value in enumerate(self._raw):
            encoded = encoded.replace(placeholder("raw", i), value.text, 1)
        return encoded

    @functools.cached_property
    def by_place(self) -> tuple[str, str] | None:
        """The options as a fork server on this machine rebuilds them, reading the
        models' files itself: JSON text with a placeholder ``"\\u0000fileN\\u0000"`` for
        the text of file N, and the files' places as JSON.  None when no value is
        read from a file, or one is not."""
        if not self._raw:
            return None
        encoded = self._template
        places: list[dict[str, Any]] = []
        for i, value in enumerate(self._raw):
            placed = value.places(len(places))
            if placed is None:
                return None
            text, files = placed
            places += files
            encoded = encoded.replace(placeholder("raw", i), text, 1)
        return encoded, json.dumps(places)
