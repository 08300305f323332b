"""A griffe extension for the API reference: the docstrings are written with Sphinx's
roles (``:class:`~nlp_parallel.errors.ConfigError```, ``:func:`imap```), which Markdown
would show as they are typed.  Each becomes a code span of the name a reader sees:
the last part after a ``~``, the whole name otherwise."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|exc|mod|obj|const):`(~?)([^`]+)`")


def _shown(match: re.Match) -> str:
    name = match[2]
    return f"`{name.rsplit('.', 1)[-1] if match[1] else name}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_shown, obj.docstring.value)
