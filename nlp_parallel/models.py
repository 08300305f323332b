"""Driver-side loading of NLTK resources as the plain data workers receive.

Models travel as the JSON or text NLTK itself stores, never pickled.  Files are read
through ``nltk.data`` (so its path sandbox applies); JSON is passed on as
:class:`~nlp_parallel.settings.RawJSON`, so the driver never parses it.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterable
from typing import Any

import nltk.corpus
import nltk.data
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.util import LazyCorpusLoader
from nltk.tag.perceptron import PerceptronTagger

from .settings import RawJSON
from .errors import ConfigError, ResourceMissing
from .options import did_you_mean


#: NLTK's perceptron tagger packages are named this and their language.
PERCEPTRON = "averaged_perceptron_tagger_"
#: The languages NLTK's data index has a perceptron tagger package for.
PERCEPTRON_LANGUAGES = ("eng", "rus")


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


def installed(path: str) -> list[str]:
    """The names directly under NLTK data ``path`` (``taggers``, ``tokenizers/punkt_tab``)
    in every directory NLTK searches, unzipped or in the package's zip, sorted.

    For messages only: listing names reads no data file.
    """
    subdir, _, inner = path.strip("/").partition("/")
    names: set[str] = set()
    for root in nltk.data.path:
        directory = os.path.join(root, path)
        if os.path.isdir(directory):
            names.update(name.removesuffix(".zip") for name in os.listdir(directory))
        archive = os.path.join(root, subdir, inner.split("/")[0] + ".zip")
        if inner and os.path.isfile(archive):  # ROOT/tokenizers/punkt_tab.zip: punkt_tab/NAME/
            prefix = inner.rstrip("/") + "/"
            with contextlib.suppress(OSError, zipfile.BadZipFile), zipfile.ZipFile(archive) as z:
                names.update(m[len(prefix):].split("/")[0] for m in z.namelist()
                             if m.startswith(prefix))
    return sorted(name for name in names if name)


def read_text(resource: str, package: str, encoding: str = "utf-8") -> str:
    """The text of one NLTK data file, e.g. ``stemmers/rslp/step0.pt``."""
    with find(resource, package).open(encoding=encoding) as f:
        return f.read()


def perceptron_params(lang: str = "eng") -> RawJSON:
    """The ``[weights, tagdict, classes]`` params of NLTK's stored perceptron model.

    Equal to ``PerceptronTagger(lang=lang).encode_json_obj()`` once parsed.
    Raises :class:`ResourceMissing` when the model is not installed, and
    :class:`ConfigError` for a language NLTK has no model for (naming those it has).
    """
    package = f"{PERCEPTRON}{lang}"
    try:
        files = PerceptronTagger(load=False).param_files(lang)
    except ValueError as exc:
        raise ConfigError(f"invalid tagger language {lang!r}: {exc}") from None
    try:
        root = find(f"taggers/{package}/", package)
    except ResourceMissing:
        if lang in PERCEPTRON_LANGUAGES:
            raise
        here = [n.removeprefix(PERCEPTRON) for n in installed("taggers")
                if n.startswith(PERCEPTRON)]
        raise ConfigError(
            f"NLTK has no perceptron model for {lang!r}"
            f"{did_you_mean(lang, PERCEPTRON_LANGUAGES)}; its languages: "
            f"{', '.join(PERCEPTRON_LANGUAGES)} (installed here: {', '.join(here) or 'none'})"
        ) from None
    parts = []
    for name in files:
        with nltk.data.open_datafile(root, name) as f:
            parts.append(f.read())
    return RawJSON("[" + ",".join(parts) + "]")


def corpus_resource(loader: Any, name: str) -> tuple[str, str]:
    """The NLTK data resource a corpus loads (``corpora/treebank/combined``) and its package."""
    data = getattr(loader, "__name__", name)  # set by LazyCorpusLoader, kept once loaded
    return f"{getattr(loader, 'subdir', 'corpora')}/{data}", data.split("/")[0]


def training_sents(spec: Any, view: str, keys: Iterable[str]) -> list[Any]:
    """Training sentences: ``view`` of an installed NLTK corpus named by
    ``{corpus, start, limit}`` plus the reader arguments in ``keys``.

    Raises :class:`ConfigError` for a malformed spec or a corpus without that view,
    and :class:`ResourceMissing` for one that is not installed.
    """
    kind = view.partition("_")[0]  # tagged, chunked
    if not isinstance(spec, dict) or "corpus" not in spec:
        raise ConfigError(f"expected {{corpus: NAME, ...}} naming a {kind} corpus")
    unknown = set(spec) - {"corpus", "start", "limit", *keys}
    if unknown:
        raise ConfigError(f"unknown key {sorted(unknown)[0]!r}")
    name = spec["corpus"]
    reader = getattr(nltk.corpus, str(name), None)
    if not isinstance(reader, (LazyCorpusLoader, CorpusReader)):
        raise ConfigError(f"{name!r} is not a {kind} NLTK corpus")
    try:
        reader.ensure_loaded()  # a LazyCorpusLoader finds its data now
    except LookupError:
        raise ResourceMissing(*corpus_resource(reader, str(name))) from None
    if not hasattr(reader, view):
        raise ConfigError(f"{name!r} is not a {kind} NLTK corpus")
    start, limit = spec.get("start", 0), spec.get("limit")
    try:
        sents = getattr(reader, view)(**{k: spec[k] for k in keys if k in spec})
        return list(sents[start: None if limit is None else start + limit])
    except LookupError as exc:
        raise ConfigError(f"corpus {name!r} is not installed: "
                          f"{str(exc).strip().splitlines()[0]}") from None
