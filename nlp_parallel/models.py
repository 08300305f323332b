"""Driver-side loading of NLTK resources as the plain data workers receive.

Models travel as the JSON or text NLTK itself stores, never pickled.  Files are read
through ``nltk.data`` (so its path sandbox applies); JSON is passed on as
:class:`~nlp_parallel.settings.RawJSON`, so the driver never parses it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import zipfile
from collections.abc import Iterable
from typing import Any

import nltk.corpus
import nltk.data
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.util import LazyCorpusLoader
from nltk.tag.perceptron import PerceptronTagger

from .settings import RawJSON, placeholder
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

    Equal to ``PerceptronTagger(lang=lang).encode_json_obj()`` once parsed; its files
    are found now and read when a worker needs their text (:class:`DataFiles`).
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
    return DataFiles([root.join(name) for name in files], package)


class DataFiles(RawJSON):
    """The JSON list ``[A,B,...]`` of NLTK data files' texts, read when first needed.

    Each file is known by where NLTK found it (a file, or a zip's member) and what it
    was then (size, modification time and inode; a member's CRC-32), so that its
    text, read later here or by a fork server on this machine (:meth:`places`), is
    the text of the file found: a file that changed since raises, never serves
    other text.
    """

    def __init__(self, pointers: list[nltk.data.PathPointer], package: str) -> None:
        self._pointers = pointers
        self._package = package
        self._found = [identity(pointer) for pointer in pointers]

    @functools.cached_property
    def text(self) -> str:
        """Raises :class:`ConfigError` for a file that changed since it was found."""
        parts = []
        for pointer, found in zip(self._pointers, self._found):
            with nltk.data.open_datafile(pointer) as f:
                parts.append(f.read())
            if identity(pointer) != found:
                raise ConfigError(f"{pointer} (NLTK data package {self._package}) changed "
                                  f"while the run started; run it again")
        return "[" + ",".join(parts) + "]"

    def sha256(self) -> str:
        """The sha256 of the files' bytes, in order, each preceded by its length: the
        model's digest for a run report, read without decoding or parsing it (on a
        fork server's machine the driver never needs the text).  Raises as
        :attr:`text` does for a file that changed since it was found."""
        digest = hashlib.sha256()
        for pointer, found in zip(self._pointers, self._found):
            with pointer.open() as f:
                data = f.read()
            if identity(pointer) != found:
                raise ConfigError(f"{pointer} (NLTK data package {self._package}) changed "
                                  f"while the run ran; run it again")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def places(self, first: int) -> tuple[str, list[dict[str, Any]]] | None:
        found = [place for place in self._found if place is not None]
        if len(found) < len(self._found):
            return None
        text = "[" + ",".join(placeholder("file", first + n) for n in range(len(found)))
        return text + "]", found


def identity(pointer: nltk.data.PathPointer) -> dict[str, Any] | None:
    """Where NLTK found a data file and what it is now: ``{"file": path}`` or
    ``{"zip": path, "member": name, "crc", "file_size"}``, with the file's (the
    zip's) ``size``, ``mtime_ns``, ``ino`` and ``dev``; None for other pointers."""
    if isinstance(pointer, nltk.data.ZipFilePathPointer):
        info = pointer.zipfile.getinfo(pointer.entry)
        path = os.path.abspath(pointer.zipfile.filename)
        place: dict[str, Any] = {"zip": path, "member": pointer.entry, "crc": info.CRC,
                                 "file_size": info.file_size}
    elif isinstance(pointer, nltk.data.FileSystemPathPointer):
        path = os.path.abspath(pointer.path)
        place = {"file": path}
    else:
        return None
    st = os.stat(path)
    return {**place, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino,
            "dev": st.st_dev}


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
