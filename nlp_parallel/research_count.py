"""Counting from research code: NLTK's ``FreqDist``, ``ConditionalFreqDist`` and
collocation finders, counted by the workers and merged here::

    import nlp_parallel
    from nltk.collocations import BigramAssocMeasures

    fd = nlp_parallel.freq_dist("brown", lowercase=True, specs=[("popen", 2)])
    tags = nlp_parallel.conditional_freq_dist({"name": "brown", "view": "tagged_sents"},
                                              condition="tag", sample="word")
    finder = nlp_parallel.collocations("brown", categories=["news"], min_freq=3)
    finder.nbest(BigramAssocMeasures.likelihood_ratio, 20)

Each returns what the serial NLTK code would build over the same units, equal to
it (``==``), so research code goes on as if it had counted itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nltk.collocations import BigramCollocationFinder, TrigramCollocationFinder
from nltk.corpus.reader.api import CorpusReader
from nltk.corpus.util import LazyCorpusLoader
from nltk.probability import ConditionalFreqDist, FreqDist

from .corpus import Corpus, CorpusSpec, shards
from .corpus.shards import plan_shards
from .counting import Counts
from .engine import Session
from .errors import ConfigError
from .jobs import TaskSpec, _check_count_input, task_needs
from .modules import RemoteModule
from .plan import COUNT_SHARDS, with_categories
from .pools import Pool, pool_for
from .research_corpus import PIPELINE, SELECTION, ReaderInput, corpus_input
from .runner import shard_slices
from .settings import BatchSize, Emit, run_options
from .specs import SpecsLike
from .tasks import prepare


def count(corpus: Any, *, steps: Sequence[Mapping[str, Any]] = (), specs: SpecsLike = None,
          pool: Pool | None = None, batch_size: BatchSize = None,
          timeout: float | None = None, **keywords: Any) -> Any:
    """Count over ``corpus`` in the workers and return NLTK's object for it: a
    ``FreqDist`` (``count="words"`` or ``"ngrams"``), a ``ConditionalFreqDist``
    (``"conditional"``), a bigram or trigram collocation finder
    (``"collocations"``), or per-group statistics (``"vocabulary"``).

    ``corpus`` is a corpus name (``"brown"``), a job file's ``corpus:`` mapping, a
    :class:`~nlp_parallel.corpus.CorpusSpec` or an ``nltk.corpus`` reader, read by
    the workers as a job's corpus is; or any iterable of sentences (token lists, or
    lists of ``(word, tag)`` pairs), sent to them from here.  ``keywords`` are the
    count task's options (``count``, ``of``, ``n``, ``lowercase``, ``stopwords``,
    ``match``, ``window_size``, ``min_freq``, ``condition``, ``sample``, ``by``, ...;
    ``nlp-parallel tasks`` lists them) and the corpus selection (``view``,
    ``fileids``, ``categories``, ``start``, ``limit``).  ``steps`` run before the
    count, as a pipeline's (``[{"name": "tag"}]``, ``[{"name": "stem", "options":
    {...}}]``).  ``specs`` (default one popen worker per core) or a started ``pool``
    run it.

    Raises :class:`ConfigError` for a bad option, corpus or selection, and what
    :func:`nlp_parallel.map` raises while running.
    """
    selection = {key: keywords.pop(key) for key in SELECTION if key in keywords}
    if specs is not None and pool is not None:
        raise ConfigError("give either specs or pool, not both")
    steps = [dict(step) for step in steps]
    for index, step in enumerate(steps):
        if step.get("name") == "count":
            raise ConfigError(f"steps[{index}]: the count comes last, from the keywords; "
                              f"leave it out of steps")
    prepare("count", keywords, where="count")  # names a bad keyword before anything starts
    task = prepare("pipeline", {"steps": [*steps, {"name": "count", "options": keywords}]},
                   where="count")
    first = steps[0]["name"] if steps else "count"
    spec = TaskSpec("pipeline", {}, tuple([*steps, {"name": "count", "options": keywords}]))
    options = dict(task.options)
    source = _source(corpus, selection, first, spec)
    counted = options["steps"][-1]["options"]
    if isinstance(source, Corpus):
        with source:
            counted = with_categories(counted, source, spec)
    elif isinstance(source, ReaderInput) and "category" in (counted.get("condition"),
                                                             counted.get("by")):
        reader = source.reader
        counted = {**counted, "categories": {
            f: list(reader.categories([f])) for f in source.fileids}}
    options["steps"] = [*options["steps"][:-1], {**options["steps"][-1], "options": counted}]
    options["output"] = {"format": "records", "index_base": None}
    settings = run_options(options, batch_size, Emit.TEXT, timeout)
    module = RemoteModule.resolve(PIPELINE)
    counts = Counts(counted)
    owned = pool is None
    if pool is None:
        pool = pool_for(specs, module, settings)
    with contextlib.ExitStack() as stack:
        if owned:
            stack.enter_context(pool)
        plan, items, limit = _reading(source, stack)
        session = Session(pool.gateways, module, settings, pool.restart, shards=plan)
        stack.callback(session.close)
        for text in session.run(items, limit=limit):
            counts.add_text(text)
    counts.finish()
    return counts.result()


def freq_dist(corpus: Any, of: str = "word", n: int | None = None, **keywords: Any) -> FreqDist:
    """A ``FreqDist`` of ``of`` (word, tag, stem, lemma, word_tag) over ``corpus``, or
    of its ``n``-grams when ``n`` is given (across sentences, as over
    ``corpus.words()``; ``span="sentence"`` within each).  ``keywords`` as for
    :func:`count`."""
    if n is None:
        return count(corpus, count="words", of=of, **keywords)
    return count(corpus, count="ngrams", of=of, n=n, **keywords)


def conditional_freq_dist(corpus: Any, condition: str, sample: str = "word",
                          **keywords: Any) -> ConditionalFreqDist:
    """A ``ConditionalFreqDist`` of ``sample`` under ``condition`` (word, tag, stem,
    lemma, word_tag, fileid or category) over ``corpus``; ``keywords`` as for
    :func:`count`."""
    return count(corpus, count="conditional", condition=condition, sample=sample, **keywords)


def collocations(corpus: Any, n: int = 2, window_size: int | None = None,
                 **keywords: Any) -> BigramCollocationFinder | TrigramCollocationFinder:
    """NLTK's bigram (``n=2``) or trigram (``n=3``) collocation finder over the units
    of ``corpus``, as ``from_words(corpus.words(), window_size)`` builds it, with
    ``min_freq`` applied as ``apply_freq_filter``; ``keywords`` as for :func:`count`."""
    return count(corpus, count="collocations", n=n,
                 window_size=n if window_size is None else window_size, **keywords)


def _source(corpus: Any, selection: dict[str, Any], first: str,
            spec: TaskSpec) -> Corpus | ReaderInput | list[Any]:
    """What the count reads: a checked corpus, a reader read here, or the sentences."""
    if isinstance(corpus, str):
        corpus = {"name": corpus}
    if isinstance(corpus, (Mapping, CorpusSpec, CorpusReader, LazyCorpusLoader)):
        source = corpus_input(corpus, selection, first, task_needs(spec))
        if isinstance(source, Corpus):
            with source:
                _check_count_input(spec, source)
        return source
    if selection:
        key = next(iter(selection))
        raise ConfigError(f"{key}: selects from a corpus; given sentences are all counted")
    if isinstance(corpus, (bytes, bytearray)) or not isinstance(corpus, Iterable):
        raise ConfigError(f"corpus: expected a corpus name, a corpus: mapping, an NLTK "
                          f"reader or sentences, not {type(corpus).__name__}")
    sentences = list(corpus)
    _check_sentences(sentences, spec)
    return sentences


def _check_sentences(sentences: list[Any], spec: TaskSpec) -> None:
    """Refuse sentences without tags for a count of tags that no step adds."""
    options = spec.count_options
    names = spec.step_names[:-1]
    if "tag" in names or "tokenize" in names:
        return
    for key in ("of", "condition", "sample"):
        if options.get(key) not in ("tag", "word_tag"):
            continue
        first = next((s for s in sentences if len(s)), None)
        if first is not None and isinstance(first[0], str):
            raise ConfigError(f"count.{key}: {options[key]} needs tags, which these "
                              f"sentences (lists of tokens) do not carry; give lists of "
                              f"(word, tag) pairs, or steps=[{{'name': 'tag'}}]")


def _reading(source: Corpus | ReaderInput | list[Any], stack: contextlib.ExitStack
             ) -> tuple[Any, Any, int | None]:
    """The shards the workers read (None: items sent from here), the session's input,
    and its limit.  A count with a limit is read here, where the limit falls on an
    item exactly."""
    if isinstance(source, list):
        return None, iter(source), None
    if isinstance(source, ReaderInput):
        return None, source.items(), None
    stack.enter_context(source)
    source.check()
    if source.spec.limit is not None:
        return None, source.items(), None
    plan = plan_shards(source, shards.SHARD_BYTES * COUNT_SHARDS)
    if isinstance(plan, str):
        return None, source.items(), None
    stack.callback(plan.close)
    return plan, iter(shard_slices(plan, source.spec.start)), None


__all__ = ["collocations", "conditional_freq_dist", "count", "freq_dist"]
