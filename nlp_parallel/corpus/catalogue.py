"""The catalogue: the ``nltk.corpus`` readers installed here and the views each
offers (what ``nlp-parallel corpora`` lists), and the checks of a spec against a
reader -- its name, its view, its fileids and categories.

A view is offered when the reader has a method of that name taking ``fileids`` that
can be called for its first file (views are lazy, so the call reads nothing).  A view
whose NLTK data is missing still counts: :func:`check_view` reports it as
:class:`~nlp_parallel.errors.ResourceMissing`.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from typing import Any

import nltk
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.util import LazyCorpusLoader

from ..errors import ConfigError, ResourceMissing
from ..models import corpus_resource
from ..options import did_you_mean
from .spec import VIEWS, CorpusSpec


def _nltk_corpora() -> dict[str, Any]:
    """The corpus readers ``nltk.corpus`` defines, loaded or not, by name."""
    # ``import nltk.corpus`` can bind a LazyModule; the module proper lists the loaders.
    module = importlib.import_module("nltk.corpus")
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, (LazyCorpusLoader, CorpusReader)) and not name.startswith("_")
    }


def nltk_name(reader: object) -> str | None:
    """The name ``nltk.corpus`` gives ``reader`` -- that very object, a loader whether
    loaded or not (loading turns the loader itself into the reader) -- or None."""
    for name, value in _nltk_corpora().items():
        if value is reader:
            return name
    return None


def _installed(corpora: Mapping[str, Any]) -> list[str]:
    names = []
    for name, loader in sorted(corpora.items()):
        resource, _ = corpus_resource(loader, name)
        subdir, data = resource.split("/", 1)
        zipped = re.sub(r"(([^/]+)(/.*)?)", r"\2.zip/\1/", data)  # as LazyCorpusLoader looks
        for candidate in (resource, f"{subdir}/{zipped}"):
            try:
                nltk.data.find(candidate)
            except LookupError:
                continue
            names.append(name)
            break
    return names


def named_reader(name: str, where: str) -> Any:
    """The ``nltk.corpus`` reader called ``name``, loaded.  Raises :class:`ConfigError`
    when there is none (suggesting a close name, listing those installed) and
    :class:`ResourceMissing` when its data is not installed."""
    corpora = _nltk_corpora()
    loader = corpora.get(name)
    if loader is None:
        installed = _installed(corpora)
        shown = ", ".join(installed[:20]) + (", ..." if len(installed) > 20 else "")
        raise ConfigError(
            f"{where}.name: {name!r} is not an NLTK corpus{did_you_mean(name, corpora)}; "
            f"installed here: {shown or 'none'}"
        )
    try:
        loader.ensure_loaded()  # a LazyCorpusLoader finds its data now
    except LookupError:
        raise ResourceMissing(*corpus_resource(loader, name), where=f"{where}.name") from None
    return loader


class _NotOffered(Exception):
    """The reader has no method for the view, or none that takes fileids."""


def _probe(reader: Any, view: str) -> BaseException | None:
    """Why ``reader`` cannot give ``view`` (None when it can): _NotOffered, or what
    calling it for the first file raised -- ConllCorpusReader checks its columns and
    PlaintextCorpusReader loads Punkt at the call.  Views are lazy, so the call reads
    nothing; ``raw``, which would read the file, is not called."""
    method = getattr(reader, view, None)
    if not callable(method) or next(iter(inspect.signature(method).parameters), "") != "fileids":
        return _NotOffered(view)
    if view == "raw":
        return None
    try:
        result = method(reader.fileids()[:1])
    except (ValueError, NotImplementedError) as exc:
        return exc
    close = getattr(result, "close", None)
    if callable(close):
        close()
    return None


def _lookup_error(exc: BaseException | None) -> LookupError | None:
    """The LookupError behind a failed probe (NLTK raises a ValueError from it)."""
    while exc is not None:
        if isinstance(exc, LookupError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def check_view(reader: Any, view: str, key: str, label: str) -> None:
    """Raise ResourceMissing when the view needs data that is not installed, or
    ConfigError(``key: label offers ...``) when the reader does not offer it."""
    outcome = _probe(reader, view)
    missing = _lookup_error(outcome)
    if missing is not None:
        text = str(missing)
        package = re.search(r"nltk\.download\('([^']+)'\)", text)
        resource = re.search(r"Attempted to load '?([^'\s]+)", text)
        raise ResourceMissing(
            resource.group(1) if resource else text.strip().splitlines()[0],
            package.group(1) if package else "the missing package",
            where=key,
        )
    if outcome is not None:
        raise ConfigError(f"{key}: {label} offers {', '.join(offered_views(reader))} (not {view!r})")


def offered_views(reader: Any) -> list[str]:
    """The views ``reader`` offers (counting those whose data is missing, which
    check() reports as ResourceMissing)."""
    probes = {view: _probe(reader, view) for view in VIEWS}
    return [view for view, outcome in probes.items() if outcome is None or _lookup_error(outcome)]


def installed_corpora() -> list[tuple[str, tuple[str, ...]]]:
    """The ``nltk.corpus`` readers whose data is installed, each with the views it offers."""
    corpora = _nltk_corpora()
    result = []
    for name in _installed(corpora):
        reader = corpora[name]
        try:
            reader.ensure_loaded()
        except LookupError:  # found as a package, but a file the reader needs is not
            continue
        result.append((name, tuple(offered_views(reader))))
    return result


def select_fileids(reader: Any, spec: CorpusSpec, label: str) -> tuple[str, ...]:
    """The fileids to read, in corpus order: chosen by ``fileids`` or ``categories``."""
    if spec.categories is not None:
        if not callable(getattr(reader, "categories", None)):
            raise ConfigError(f"{spec.where}.categories: {label} has no categories")
        known = reader.categories()
        for category in spec.categories:
            if category not in known:
                raise ConfigError(
                    f"{spec.where}.categories: {category!r} is not a category of {label}"
                    f"{did_you_mean(category, known)}; categories: {', '.join(known)}"
                )
        return tuple(reader.fileids(categories=list(spec.categories)))
    every = reader.fileids()
    if spec.fileids is None:
        return tuple(every)
    known_ids = set(every)
    for fileid in spec.fileids:
        if fileid not in known_ids:
            raise ConfigError(
                f"{spec.where}.fileids: {fileid!r} is not in {label}{did_you_mean(fileid, every)}"
            )
    return spec.fileids
