"""Drop-in parallel versions of NLTK's tagger, chunker and stemmer interfaces.

Each wraps a built-in task (or a user's own NLTK tagger or chunker, shipped as data)
and implements NLTK's interface, so it can replace the serial object in research code::

    with ParallelTagger(specs=[("popen", 2)]) as tagger:
        tagger.accuracy(treebank.tagged_sents())

Gateways start on first use and the task is set up on them once; later calls reuse
both.  ``close()`` (or leaving the ``with`` block) stops the gateways.  Calls on one
object must not interleave (finish or close one iterator before the next call).

``tag_corpus``, ``parse_corpus`` and ``stem_corpus`` take a corpus rather than items
and have the workers read it, as a job does (see :mod:`.research_corpus`)::

    tagger.tag_corpus(brown, categories=["news"])     # an iterator, in corpus order
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

from nltk.chunk.api import ChunkParserI
from nltk.chunk.util import ChunkScore
from nltk.stem.api import StemmerI
from nltk.tag.api import TaggerI
from nltk.tree import Tree

from . import engine, settings, tasks
from .errors import ConfigError
from .modules import RemoteModule
from .pools import Pool, pool_for
from .research_corpus import CorpusLike, corpus_input, run_records
from .settings import BatchSize, Emit
from .specs import SpecsLike
from .tasks.chunk import encode_chunker, tree_from_data
from .tasks.tag import encode_tagger

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: How each corpus method's docstring describes the corpus and the selection.
CORPUS_ARGUMENTS = """``corpus`` is a job file's ``corpus:`` mapping (``{"name": "brown",
        "categories": ["news"]}``, ``{"path": "texts/*.txt", "format": "text"}``, a
        relative path relative to the current directory), a
        :class:`~nlp_parallel.corpus.CorpusSpec`, or an ``nltk.corpus`` reader object
        (``nltk.corpus.brown``).  ``selection`` -- ``view``, ``fileids``, ``categories``,
        ``start``, ``limit`` -- overrides or completes it.  The workers read the corpus;
        a reader object of your own (``PlaintextCorpusReader(...)``), and a corpus whose
        reader cannot be rebuilt from data, are read here and their items sent, which
        is as correct but bound by this process.  Results come in corpus order as they
        arrive, so memory stays flat.  Raises :class:`ConfigError` for an unknown
        corpus or keyword or a view whose items do not fit, and
        :class:`~nlp_parallel.errors.ResourceMissing` for NLTK data not installed."""


def _corpus_method(method: F) -> F:
    """``method`` with :data:`CORPUS_ARGUMENTS` at the end of its docstring (when
    docstrings are kept: not under ``python -OO``)."""
    if method.__doc__:
        method.__doc__ = f"{method.__doc__.rstrip()}\n\n        {CORPUS_ARGUMENTS}"
    return method


class _Parallel:
    """A task set up once on a pool of gateways, run by each call."""

    def __init__(
        self,
        task: tasks.Task,
        specs: SpecsLike,
        pool: Pool | None,
        batch_size: BatchSize,
        timeout: float | None,
    ) -> None:
        if specs is not None and pool is not None:
            raise ConfigError("give either specs or pool, not both")
        self._task = task
        self._settings = settings.run_options(task.options, batch_size, Emit.RESULTS, timeout)
        self._owns_pool = pool is None
        self._module = RemoteModule.resolve(task.module)
        if pool is None:  # forked workers start with the task set up
            pool = pool_for(specs, self._module, self._settings)
        self._pool = pool
        self._session: engine.Session | None = None
        self._corpus_runs: weakref.WeakSet[Generator[Any, None, None]] = weakref.WeakSet()

    def _batches(self, items: Iterable[Any]) -> Iterator[list[Any]]:
        if self._session is None:
            self._session = engine.Session(self._pool.gateways, self._module, self._settings,
                                           self._pool.restart)
        return self._session.run(items)

    def _map(self, items: Iterable[Any]) -> list[Any]:
        results: list[Any] = []
        for batch in self._batches(items):
            results.extend(batch)
        return results

    def _corpus(self, corpus: CorpusLike, selection: Mapping[str, Any],
                convert: Callable[[dict[str, Any]], T],
                options: Mapping[str, Any] | None = None) -> Iterator[T]:
        """``convert`` of each result record of the task (its ``options`` updated) over
        ``corpus``, in the view the corpus or ``selection`` names, or else the one
        chosen for the task, as for a job.  The corpus is checked now; the run starts
        at the first ``next``."""
        task = self._task if not options else replace(
            self._task, options={**self._task.options, **options})
        source = corpus_input(corpus, selection, task.name)
        settings = self._settings
        records = run_records(self._pool, task, source, settings.batch_size, settings.timeout)

        def converted() -> Generator[T, None, None]:
            with contextlib.closing(records):
                for record in records:
                    yield convert(record)

        run = converted()
        self._corpus_runs.add(run)
        return run

    def close(self) -> None:
        """Stop the task's channels, and the gateways if this object started them."""
        for run in list(self._corpus_runs):  # an unfinished corpus run's session first
            run.close()
        session, self._session = self._session, None
        if session is not None:
            session.close()
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> _Parallel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ParallelTagger(_Parallel, TaggerI):
    """``TaggerI`` over gateways: NLTK's perceptron by default.

    ``options`` are the tag task's (``model``, ``lang``, ``tagset``, ``chain``,
    ``exact_fast``, ``numpy``...); or pass ``tagger=``, an NLTK tagger that can be
    shipped as data (perceptron, default, regexp, n-gram and affix taggers and backoff
    chains of them), with ``exact_fast`` and ``numpy`` the options it takes.
    Raises :class:`~nlp_parallel.errors.ConfigError` for bad options.
    """

    def __init__(
        self,
        specs: SpecsLike = None,
        *,
        tagger: TaggerI | None = None,
        pool: Pool | None = None,
        batch_size: BatchSize = "auto",
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        if tagger is not None:
            switches = {key: options.pop(key, True) for key in ("exact_fast", "numpy")}
            if options:
                raise ConfigError("give either tagger= or tag task options, not both")
            for key, value in switches.items():
                if not isinstance(value, bool):
                    raise ConfigError(f"{key}: expected true or false, not {value!r}")
            task = tasks.Task("tag", "nlp_parallel.remote_tasks.tag",
                              {"chain": encode_tagger(tagger), **switches})
        else:
            task = tasks.prepare("tag", options)
        super().__init__(task, specs, pool, batch_size, timeout)

    def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        return self.tag_sents([tokens])[0]

    def tag_sents(self, sentences: Iterable[list[str]]) -> list[list[tuple[str, str]]]:
        sentences = [list(s) for s in sentences]
        return [list(zip(s, tags)) for s, tags in zip(sentences, self._map(sentences))]

    @_corpus_method
    def tag_corpus(self, corpus: CorpusLike, **selection: Any
                   ) -> Iterator[list[tuple[str, str]]]:
        """Tag each sentence of a corpus (view ``sents`` unless told: nps_chat's
        ``posts``, a word list's ``words``), as ``tag_sents`` would: an iterator of
        ``[(word, tag), ...]``.  A tagged view's own tags are ignored."""
        return self._corpus(corpus, selection,
                            lambda record: list(zip(record["tokens"], record["tags"])))


class ParallelChunker(_Parallel, ChunkParserI):
    """``ChunkParserI`` over gateways.

    ``options`` are the chunk task's (``grammar=...`` or ``model="bigram"``...); or
    pass ``chunker=``, a ``RegexpParser`` or :class:`~nlp_parallel.TagChunker`.
    """

    def __init__(
        self,
        specs: SpecsLike = None,
        *,
        chunker: ChunkParserI | None = None,
        pool: Pool | None = None,
        batch_size: BatchSize = "auto",
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        if chunker is not None:
            if options:
                raise ConfigError("give either chunker= or chunk task options, not both")
            task = tasks.Task("chunk", "nlp_parallel.remote_tasks.chunk", encode_chunker(chunker))
        else:
            task = tasks.prepare("chunk", options)
        super().__init__(task, specs, pool, batch_size, timeout)

    def parse(self, tokens: list[tuple[str, str]]) -> Tree:
        return next(self.parse_sents([tokens]))

    def parse_sents(  # type: ignore[override]
        self, sents: Iterable[list[tuple[str, str]]]
    ) -> Iterator[Tree]:
        """Chunk many tagged sentences in one parallel pass; an iterator of trees, as
        NLTK's ``ParserI.parse_sents`` returns, yielded as batches arrive."""
        items = ([list(pair) for pair in sent] for sent in sents)
        return (tree_from_data(result["tree"]) for batch in self._batches(items)
                for result in batch)

    @_corpus_method
    def parse_corpus(self, corpus: CorpusLike, **selection: Any) -> Iterator[Tree]:
        """Chunk each tagged sentence of a corpus (view ``tagged_sents`` unless told,
        or another view with tags where it has none): an iterator of the trees
        ``parse_sents`` gives for the same sentences."""
        return self._corpus(corpus, selection,
                            lambda record: tree_from_data(record["tree"]), {"tree": True})

    def accuracy(self, gold: Iterable[Tree]) -> ChunkScore:
        """Like ``ChunkParserI.accuracy``, but chunks all sentences in one pass."""
        gold = list(gold)
        score = ChunkScore()
        for correct, guessed in zip(gold, self.parse_sents(t.leaves() for t in gold)):
            score.score(correct, guessed)
        return score


class ParallelStemmer(_Parallel, StemmerI):
    """``StemmerI`` over gateways; ``options`` are the stem task's (``algorithm``...).

    ``stem`` takes one word; ``stem_words`` stems many in one parallel pass.
    """

    def __init__(
        self,
        specs: SpecsLike = None,
        *,
        pool: Pool | None = None,
        batch_size: BatchSize = "auto",
        timeout: float | None = None,
        **options: Any,
    ) -> None:
        super().__init__(tasks.prepare("stem", options), specs, pool, batch_size, timeout)

    def stem(self, token: str) -> str:
        return self.stem_words([token])[0]

    def stem_words(self, tokens: Iterable[str]) -> list[str]:
        return self._map(tokens)

    def stem_sents(self, sentences: Iterable[list[str]]) -> list[list[str]]:
        return self._map(list(s) for s in sentences)

    @_corpus_method
    def stem_corpus(self, corpus: CorpusLike, **selection: Any) -> Iterator[list[str]]:
        """Stem each sentence of a corpus (view ``sents`` unless told, as for
        :meth:`ParallelTagger.tag_corpus`), as ``stem_sents`` would: an iterator of
        lists of stems."""
        return self._corpus(corpus, selection, lambda record: record["stems"])


__all__ = ["ParallelChunker", "ParallelStemmer", "ParallelTagger"]
