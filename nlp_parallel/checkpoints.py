"""What a checkpoint records, and how the settings of two runs are compared.

A checkpoint beside an output names how far its run got and a hash of the settings
that shaped the output; a resumed run must have the same, and when it does not,
:func:`changed_settings` names exactly what changed (``corpus.limit``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """How far a run got: ``items`` input items are written, in ``offset`` bytes of
    the part file and ``errors_offset`` bytes of the errors part file."""

    settings: str  # hash of the settings that shape the output
    described: Mapping[str, Any]  # those settings, to name what changed
    items: int
    last_index: int | None  # corpus index of the last item written (None: none yet)
    offset: int
    errors_offset: int
    failures: int
    version: int = CHECKPOINT_VERSION
    #: Whether the run may replace a file at the output path (it had ``overwrite``);
    #: its resumption inherits that, and only that.
    replaces: bool = False
    #: Where the next item lies among the shards the workers read: a shard's
    #: number, an item in it, and the shard's first fileid and byte (None: the
    #: driver read the corpus).
    position: tuple[Any, ...] | None = None
    #: What the runs so far did, up to this checkpoint, for the run report
    #: (:class:`~nlp_parallel.reports.Totals` as plain data; None: not recorded).
    totals: Mapping[str, Any] | None = None


def _settings_json(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str)


def settings_hash(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(_settings_json(settings).encode("utf-8")).hexdigest()


def plain_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` as a checkpoint stores them: JSON, so a tuple is a list."""
    plain: dict[str, Any] = json.loads(_settings_json(settings))
    return plain


def changed_settings(before: Mapping[str, Any], after: Mapping[str, Any],
                     prefix: str = "") -> list[str]:
    """The keys whose values differ between two plain settings, as dotted paths
    into nested mappings (``corpus.limit``, ``task.options.tagset``), sorted."""
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += changed_settings(old, new, f"{prefix}{key}.")
        elif old != new:
            changed.append(prefix + key)
    return changed


def joined(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
