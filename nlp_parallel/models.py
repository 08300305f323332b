"""Driver-side loading of NLTK resources as the plain data workers receive.

Models travel as the JSON or text NLTK itself stores, never pickled.  Files are read
through ``nltk.data`` (so its path sandbox applies); JSON is passed on as
:class:`~nlp_parallel.engine.RawJSON`, so the driver never parses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import nltk.corpus
import nltk.data
from nltk.tag.perceptron import PerceptronTagger

from .engine import RawJSON
from .errors import ConfigError, ResourceMissing


def find(resource: str, package: str) -> nltk.data.PathPointer:
    """Locate an NLTK resource; raises :class:`ResourceMissing` naming its package.

    Name a directory with a trailing slash (``taggers/universal_tagset/``): only then
    does NLTK also look inside the zip its downloader installs
    (``taggers/universal_tagset.zip``); a file is found either way.
    """
    try:
        return nltk.data.find(resource)
    except LookupError:
        raise ResourceMissing(resource, package) from None


def read_text(resource: str, package: str, encoding: str = "utf-8") -> str:
    """The text of one NLTK data file, e.g. ``stemmers/rslp/step0.pt``."""
    with find(resource, package).open(encoding=encoding) as f:
        return f.read()


def perceptron_params(lang: str = "eng") -> RawJSON:
    """The ``[weights, tagdict, classes]`` params of NLTK's stored perceptron model.

    Equal to ``PerceptronTagger(lang=lang).encode_json_obj()`` once parsed.
    Raises :class:`ResourceMissing` when the model is not installed.
    """
    package = f"averaged_perceptron_tagger_{lang}"
    try:
        files = PerceptronTagger(load=False).param_files(lang)
    except ValueError as exc:
        raise ConfigError(f"invalid tagger language {lang!r}: {exc}") from None
    root = find(f"taggers/{package}/", package)
    parts = []
    for name in files:
        with nltk.data.open_datafile(root, name) as f:
            parts.append(f.read())
    return RawJSON("[" + ",".join(parts) + "]")


def training_sents(spec: Any, view: str, keys: Iterable[str]) -> list[Any]:
    """Training sentences: ``view`` of an installed NLTK corpus named by
    ``{corpus, start, limit}`` plus the reader arguments in ``keys``.

    Raises :class:`ConfigError` for a malformed spec, a corpus without that view,
    or one that is not installed.
    """
    kind = view.partition("_")[0]  # tagged, chunked
    if not isinstance(spec, dict) or "corpus" not in spec:
        raise ConfigError(f"expected {{corpus: NAME, ...}} naming a {kind} corpus")
    unknown = set(spec) - {"corpus", "start", "limit", *keys}
    if unknown:
        raise ConfigError(f"unknown key {sorted(unknown)[0]!r}")
    name = spec["corpus"]
    reader = getattr(nltk.corpus, str(name), None)
    if reader is None or not hasattr(reader, view):
        raise ConfigError(f"{name!r} is not a {kind} NLTK corpus")
    start, limit = spec.get("start", 0), spec.get("limit")
    try:
        sents = getattr(reader, view)(**{k: spec[k] for k in keys if k in spec})
        return list(sents[start: None if limit is None else start + limit])
    except LookupError as exc:
        raise ConfigError(f"corpus {name!r} is not installed: "
                          f"{str(exc).strip().splitlines()[0]}") from None
