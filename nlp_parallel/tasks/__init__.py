"""The built-in tasks: tag, chunk, stem, tokenize, lemmatize, count and pipeline.

Each family is a driver-side module here and a remote module in ``nlp_parallel.remote_tasks``.
The driver side validates a task's options once and loads what its workers need
(models, rules, stopword lists) as plain data; the remote side is a few dozen lines
of NLTK whose ``setup(options)`` returns the function applied to each item.

A family module defines ``NAME``, ``MODULE`` (the remote module), ``SUMMARY``,
``INPUT`` (what each item must carry: ``text``, ``tokens`` or ``tagged`` tokens; a
pipeline's steps decide its own, see :func:`.pipeline.input_need`),
``OPTIONS`` (option name -> one-line description) and ``build(reader) -> dict``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import ConfigError, ResourceMissing
from ..options import OptionReader, did_you_mean
from .base import Task

#: Task name -> the driver-side module of its family, imported when first used.
FAMILIES: Mapping[str, str] = {
    name: f"{__name__}.{name}"
    for name in ("tag", "chunk", "stem", "tokenize", "lemmatize", "count", "pipeline")
}


def family(name: str) -> ModuleType:
    """The driver-side module of task ``name``; raises :class:`ConfigError` if unknown."""
    if name not in FAMILIES:
        raise ConfigError(
            f"unknown task {name!r}{did_you_mean(str(name), FAMILIES)}; "
            f"valid tasks: {', '.join(FAMILIES)}"
        )
    return importlib.import_module(FAMILIES[name])


def prepare(name: str, options: Mapping[str, Any] | None = None, where: str = "options") -> Task:
    """Validate ``options`` for task ``name`` and load what its workers need.

    Raises :class:`ConfigError` for an unknown task or a bad option and
    :class:`~nlp_parallel.errors.ResourceMissing` for NLTK data not installed, named
    by the option that asks for it (``where.lang``), or else by the task's name.
    """
    module = family(name)
    reader = OptionReader(name, options, where)
    try:
        remote_options = module.build(reader)
    except ResourceMissing as exc:  # needed whatever the options: the task's name asks
        raise exc if exc.where else exc.within(where.removesuffix("options") + "name") from None
    reader.finish()
    return Task(name, module.MODULE, remote_options)


__all__ = ["FAMILIES", "OptionReader", "Task", "family", "prepare"]
