"""The corpus a research object reads, and the run that reads it in the workers.

``ParallelTagger.tag_corpus`` and its siblings take a corpus as a job file's
``corpus:`` mapping, a :class:`~nlp_parallel.corpus.CorpusSpec` or an NLTK reader
object, with selection keywords.  :func:`corpus_input` makes a checked
:class:`~nlp_parallel.corpus.Corpus` of it -- whose shards the workers read, as a
job's are read -- or, for a reader object that ``nltk.corpus`` did not make, a
:class:`ReaderInput` that the driver reads.  :func:`run_records` runs one task over
either as the built-in pipeline and yields its result records in corpus order::

    source = corpus_input({"name": "brown", "categories": ["news"]}, {}, "tag")
    for record in run_records(pool, task, source, batch_size=None, timeout=None):
        record["tokens"], record["tags"]
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.util import LazyCorpusLoader

from .corpus import (
    Corpus,
    CorpusSpec,
    Kind,
    Record,
    open_corpus,
    parse_corpus,
    shards,
    with_view,
)
from .corpus.choice import choose, fitting
from .corpus.catalogue import check_view, nltk_name, offered_views, select_fileids
from .corpus.shards import ShardPlan, plan_shards
from .corpus.sources import VIEW_KINDS
from .engine import Session
from .errors import ConfigError
from .jobs import CARRIES, TAKES
from .modules import RemoteModule
from .pools import Pool
from .options import did_you_mean
from .runner import shard_slices
from .settings import Emit, run_options
from .shard_reader import CONVERSIONS
from .tasks import Task, family

#: What a corpus method takes: a ``corpus:`` mapping, a spec, or a reader object.
CorpusLike: TypeAlias = Mapping[str, Any] | CorpusSpec | CorpusReader | LazyCorpusLoader

#: The keywords that choose what of a corpus is read.
SELECTION = ("view", "fileids", "categories", "start", "limit")

#: The module every built-in task runs as; its ``records`` format is the research API's.
PIPELINE = "nlp_parallel.remote_tasks.pipeline"


@dataclass(frozen=True)
class ReaderInput:
    """A corpus reader object of the user's own, read in the driver: its ``spec.view``
    over ``fileids``, from item ``spec.start``, at most ``spec.limit`` items."""

    reader: Any
    spec: CorpusSpec
    fileids: tuple[str, ...]

    def items(self) -> Iterator[Record]:
        """The records the workers' reading would give, read here, one file at a time."""
        spec = self.spec
        stop = None if spec.limit is None else spec.start + spec.limit
        return itertools.islice(self._records(), spec.start, stop)

    def _records(self) -> Iterator[Record]:
        view = self.spec.view
        assert view is not None  # chosen by corpus_input where not given
        convert = CONVERSIONS[view]
        for fileid in self.fileids:
            if view == "raw":  # one text per file
                yield convert(self.reader.raw([fileid]))
                continue
            items = getattr(self.reader, view)([fileid])
            try:
                yield from map(convert, items)
            finally:
                close = getattr(items, "close", None)  # a corpus view holds a file open
                if callable(close):
                    close()


def corpus_input(corpus: object, selection: Mapping[str, Any], task: str,
                 needs: str | None = None) -> Corpus | ReaderInput:
    """What ``task`` will read of ``corpus`` with ``selection`` (whose ``fileids`` or
    ``categories`` replace both of the corpus's, and other keywords theirs), checked
    as a job's corpus is and closed again: it opens anew when read.  Without a
    ``view``, the one chosen for what the task's items must carry, as for a job
    (:func:`~nlp_parallel.corpus.with_view`): ``needs``, by default the task's own
    input (``text``, ``tokens`` or ``tagged``).

    Raises :class:`ConfigError` for an unknown selection keyword, a bad mapping or
    corpus, or a view whose items the task cannot take, and
    :class:`~nlp_parallel.errors.ResourceMissing` for NLTK data not installed.
    """
    for key in selection:
        if key not in SELECTION:
            raise ConfigError(f"{key}: not a selection keyword{did_you_mean(key, SELECTION)}; "
                              f"valid: {', '.join(SELECTION)}")
    if isinstance(corpus, CorpusSpec):
        mapping, where = _mapping(corpus), corpus.where
    elif isinstance(corpus, Mapping):
        mapping, where = dict(corpus), "corpus"
    elif (name := nltk_name(corpus)) is not None:
        mapping, where = {"name": name}, "corpus"
    elif isinstance(corpus, CorpusReader):
        return _reader_input(corpus, selection, task, needs or family(task).INPUT)
    else:
        raise ConfigError(f"corpus: expected a corpus: mapping, a CorpusSpec or an NLTK "
                          f"corpus reader, not {type(corpus).__name__}")
    if "fileids" in selection or "categories" in selection:
        mapping = {k: v for k, v in mapping.items() if k not in ("fileids", "categories")}
    spec = parse_corpus({**mapping, **selection}, where, os.getcwd())
    spec = with_view(spec, needs or family(task).INPUT)
    opened = open_corpus(spec)
    try:
        opened.check()
        _check_kind(task, spec, opened.kind, opened.views())
    finally:
        opened.close()
    return opened


def _mapping(spec: CorpusSpec) -> dict[str, Any]:
    """``spec`` as the mapping it could have been parsed from."""
    fields: dict[str, Any] = {
        "name": spec.name, "path": spec.path, "format": spec.format, "view": spec.view,
        "fileids": None if spec.fileids is None else list(spec.fileids),
        "categories": None if spec.categories is None else list(spec.categories),
        "start": spec.start, "limit": spec.limit,
        "encoding": spec.encoding if spec.path is not None else None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _reader_input(reader: Any, selection: Mapping[str, Any], task: str,
                  needs: str) -> ReaderInput:
    label = type(reader).__name__
    # Checked as a mapping is; the name only labels the reader in messages.
    spec = parse_corpus({"name": label, **selection})
    offered = {view: VIEW_KINDS[view] for view in offered_views(reader)}
    if spec.view is None:
        spec = replace(spec, view=choose(offered, needs), view_chosen=True)
    assert spec.view is not None
    check_view(reader, spec.view, f"{spec.where}.view", label)
    _check_kind(task, spec, VIEW_KINDS[spec.view], offered)
    return ReaderInput(reader, spec, select_fileids(reader, spec, label))


def _check_kind(task: str, spec: CorpusSpec, kind: Kind, offered: Mapping[str, Kind]) -> None:
    """Refuse a view whose items ``task`` cannot take, naming the views that would do
    (as :func:`~nlp_parallel.jobs.check_input` does for a job)."""
    needs = family(task).INPUT
    if kind in TAKES[needs]:
        return
    views = fitting(offered, needs)
    gives = "tokens without tags" if needs == "tagged" else CARRIES[kind]
    hint = f"use view {' or '.join(views)}" if views else f"it offers no view with {CARRIES[needs]}"
    chosen = " (chosen: none is given)" if spec.view_chosen else ""
    raise ConfigError(f"{spec.where}.view: {task} needs {CARRIES[needs]}, but view {spec.view}"
                      f"{chosen} gives {gives}; {hint}")


def run_records(pool: Pool, task: Task, source: Corpus | ReaderInput,
                batch_size: int | None, timeout: float | None
                ) -> Generator[dict[str, Any], None, None]:
    """``task``'s result records (``{"tokens", "tags", "tree", "stems", ...}``) for the
    items of ``source``, in corpus order.

    Runs the built-in pipeline with ``task`` as its one step over a session of its
    own on ``pool``'s gateways (started if need be), closed with the corpus when the
    iterator finishes or is closed.  The workers read a :class:`Corpus`'s shards; the
    driver reads a :class:`ReaderInput`, and a corpus whose reader cannot be rebuilt
    from data.  Raises what :func:`nlp_parallel.engine.run` raises, and
    :class:`ConfigError` for bad user data found while reading.
    """
    step = RemoteModule.resolve(task.module)
    options = {"steps": [{"name": task.name, "source": step.source, "filename": step.filename,
                          "options": dict(task.options)}],
               "output": {"format": "records", "index_base": None}}
    settings = run_options(options, batch_size, Emit.TEXT, timeout)
    with contextlib.ExitStack() as stack:
        plan, items, limit = _reading(source, stack)
        session = Session(pool.gateways, RemoteModule.resolve(PIPELINE), settings,
                          pool.restart, shards=plan, sizes=limit is not None)
        stack.callback(session.close)
        for text in session.run(items, limit=limit):
            # Not splitlines: it also splits at U+2028 and others JSON leaves as they are.
            for line in text.split("\n"):
                if line:
                    yield json.loads(line)


def _reading(source: Corpus | ReaderInput, stack: contextlib.ExitStack
             ) -> tuple[ShardPlan | None, Iterator[Any], int | None]:
    """The shards the workers read (None: the driver reads), the session's input,
    and the limit the session applies (the driver's reading applies its own)."""
    if isinstance(source, ReaderInput):
        return None, source.items(), None
    stack.enter_context(source)
    source.check()
    plan = plan_shards(source, shards.SHARD_BYTES)  # looked up now, as a job's plan does
    if isinstance(plan, str):  # its reader cannot be rebuilt from data: read here
        return None, source.items(), None
    stack.callback(plan.close)
    return plan, iter(shard_slices(plan, source.spec.start)), source.spec.limit


__all__ = ["SELECTION", "CorpusLike", "ReaderInput", "corpus_input", "run_records"]
