"""What every built-in task hands on: the prepared ``Task``.

A family's ``build`` reads its options through :class:`nlp_parallel.options.OptionReader`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """A task ready to run: the remote module and the plain data its ``setup`` gets."""

    name: str
    module: str
    options: Mapping[str, Any] = field(default_factory=dict)
