"""Strict reading of user options: each value checked as it is read, unknown keys
rejected, a close match suggested for a misspelt name.

A bad value raises :class:`~nlp_parallel.errors.ConfigError` whose message starts
with the key path it was read at (``task.options.tagset:``, ``corpus.view:``).  The
module stands on :mod:`nlp_parallel.errors` alone, so every layer can use it.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .errors import ConfigError, ResourceMissing


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or "" if none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reject_unknown_keys(mapping: Mapping[Any, Any], keys: Sequence[str], prefix: str) -> None:
    """Raise :class:`ConfigError` ``{prefix}{key}: unknown key...`` for the first key of
    ``mapping`` not in ``keys``, suggesting a close one and listing the valid keys."""
    for key in mapping:
        if key not in keys:
            raise ConfigError(
                f"{prefix}{key}: unknown key{did_you_mean(str(key), keys)}; "
                f"valid keys: {', '.join(keys)}"
            )


class OptionReader:
    """Reads a task's options once, checking each value and rejecting unknown keys.

    Every error is a :class:`ConfigError` naming the option as ``where.key`` (e.g.
    ``task.options.tagset``) and what would be valid.
    """

    def __init__(self, task: str, options: Mapping[str, Any] | None, where: str = "options") -> None:
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise ConfigError(
                f"{where}: task {task} options must be a mapping, not {type(options).__name__}"
            )
        self.task = task
        self.where = where
        self._options = dict(options)
        self._known: list[str] = []

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self._options

    def raw(self, key: str, default: Any = None) -> Any:
        self._known.append(key)
        return self._options.get(key, default)

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self._key(key)}: {message}")

    @contextlib.contextmanager
    def loading(self, key: str) -> Iterator[None]:
        """Name ``key`` in a :class:`ResourceMissing` raised while loading what it
        asks for, as :meth:`fail` names it in a :class:`ConfigError`."""
        try:
            yield
        except ResourceMissing as exc:
            raise exc.within(self._key(key)) from None

    def choice(self, key: str, choices: Iterable[str], default: str | None) -> str:
        choices = list(choices)
        value = self.raw(key, default)
        if value not in choices:
            raise self.fail(
                key,
                f"{value!r} is not one of {', '.join(choices)}"
                + (did_you_mean(value, choices) if isinstance(value, str) else ""),
            )
        return value

    def string(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.raw(key)
        if value is None:  # absent, or an explicit null: the default
            value = default
        if value is None and required:
            raise self.fail(key, f"task {self.task} needs this option")
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"expected a string, not {type(value).__name__}")
        return value

    def text(self, key: str, default: str) -> str:
        """A string option that always has a value."""
        value = self.string(key, default)
        return default if value is None else value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, not {value!r}")
        return value

    def integer(self, key: str, default: int, minimum: int | None = None) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, not {value}")
        return value

    def finish(self) -> None:
        """Reject any option no reader asked for."""
        unknown = [k for k in self._options if k not in self._known]
        if unknown:
            key = unknown[0]
            raise self.fail(
                key,
                f"unknown option for task {self.task}{did_you_mean(str(key), self._known)}; "
                f"valid options: {', '.join(sorted(set(self._known)))}",
            )
