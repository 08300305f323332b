"""Run a validated job from Python, as ``nlp-parallel run`` does, and say how it went.

::

    job = load_job("corpora_configs/treebank_tag.yaml")
    with tqdm(total=500) as bar:
        summary = run_job(job.with_overrides(corpus=replace(job.corpus, limit=500)),
                          progress=bar.update)

The output is written as the CLI writes it: to a hidden part file beside the
target, with a checkpoint, renamed into place when the run completes; an existing
output is refused unless ``output.overwrite``.  A run that stops early (an error, a
signal, a killed driver) is continued with ``run_job(job, resume=True)``.  Gateways
are started for the run, replaced when they die, and stopped after it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .remote_tasks.pipeline import UNNUMBERED

from .corpus import Corpus
from .corpus.shards import ShardPlan
from .counting import Counts
from .engine import Session
from .engine.sharding import STRIDE, ShardSlice, position
from .forks import sharing
from .gateways import GatewayPool
from .jobs import Job
from .modules import RemoteModule
from .outputs import OutputFile
from .plan import Plan, open_plan
from .pools import Pool, dask_pool
from .reports import (
    GatewayWork,
    ReportFile,
    Tally,
    Totals,
    build_report,
    gateway_work,
    report_path,
)
from .settings import ItemFailure, RunOptions

#: Called with the number of items each written chunk adds (``tqdm.update`` fits).
Progress = Callable[[int], object]


@dataclass(frozen=True)
class RunSummary:
    """What one run did: the file written, items and tokens read, time taken.

    ``items`` counts this run's items; ``resumed_from`` those an interrupted run
    had written before.  ``failures`` lists the items left out or recorded as
    errors (under ``on_error`` skip or record), also written to ``errors_path``.
    """

    output: str
    items: int
    tokens: int | None  # None when items are texts, tokenized by the workers
    seconds: float
    per_gateway: Mapping[str, int]  # items each gateway delivered, by gateway id
    resumed_from: int = 0
    failures: tuple[ItemFailure, ...] = ()
    errors_path: str | None = None
    restarts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    already_complete: bool = False  # a resume found the output finished
    #: "workers" (they read shards of the corpus), else why the driver read it.
    read_by: str = "workers"
    #: A count's totals, as the summary shows them ("1,161,192 units, 56,057 types").
    counted: str | None = None
    #: Each gateway's items and seconds of work in this run, by gateway id.
    gateways: Mapping[str, GatewayWork] = dataclasses.field(default_factory=dict)
    #: Where the run report was written (None: no report).
    report: str | None = None
    #: The view the corpus was read in, where the job gave none and it was chosen
    #: for the task; None where the job gave it.
    chosen_view: str | None = None

    @property
    def items_per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


def run_job(job: Job, progress: Progress | None = None, resume: bool = False,
            pool: Pool | None = None, report: bool | str = True) -> RunSummary:
    """Run ``job`` to completion, writing its output and its run report; return a
    :class:`RunSummary`.

    ``report`` says where the report goes: True beside the output
    (``OUTPUT.report.json``; none for an output on standard output), a path, or
    False for none (see :mod:`nlp_parallel.reports`).

    The job's gateways are started for the run and stopped after it, unless a
    started ``pool`` is given to run on instead (it is left running).

    With ``resume``, continue the run a checkpoint beside the output records (a
    no-op when the output is complete, a fresh run when there is no checkpoint).
    Everything that can be checked is checked before a gateway starts.  Raises
    :class:`~nlp_parallel.jobs.JobError` for bad input (also bad user data found
    while reading, named by file, or a resume whose settings changed),
    :class:`~nlp_parallel.errors.ResourceMissing`,
    :class:`~nlp_parallel.errors.OutputError` when the output cannot be written (a
    full disk: what the last checkpoint records is kept), and the errors
    :func:`nlp_parallel.map` raises while running.
    """
    with open_plan(job) as plan:
        return run_plan(plan, progress, resume, pool, report=report)


def run_plan(plan: Plan, progress: Progress | None = None, resume: bool = False,
             pool: Pool | None = None,
             estimate: Callable[[int], object] | None = None,
             report: bool | str = True) -> RunSummary:
    """:func:`run_job` for a job planned already (its corpus open and checked).

    Where the number of items is not known before the corpus is read,
    ``estimate``, when given, is called with an estimate of the run's total
    (items so far scaled by the corpus's bytes) as it changes.
    """
    job = plan.job
    out = plan.output_file()
    if resume and out.finished():
        return RunSummary(job.output.path, 0, None, 0.0, {}, already_complete=True)
    started = time.perf_counter()
    saved = out.check(resume)
    written = _report_file(job, report)
    if written is not None:
        written.check((out.path, out.errors, out.part, out.errors_part, out.checkpoint_path))
    done = saved.items if saved is not None else 0
    tally = Tally(_earlier(saved), since=started)
    out.totals = tally.plain
    base = job.corpus.start + done
    module, settings = plan.module, plan.settings(done)  # before any output is created
    shards = plan.shards
    counts = plan.counts()
    documents = plan.documents()
    with out:
        out.open(resume)
        if counts is not None and done:
            counts.add_lines(out.written())  # the pieces the interrupted run merged
        if documents is not None:
            if saved is not None:
                documents.resume(out.part, saved.offset)
            elif documents.format == "tsv":
                out.write(plan.tsv_header(), 0)
        limit = None if job.corpus.limit is None else max(job.corpus.limit - done, 0)
        run: dict[str, Any] = {}
        if shards is not None:
            where = saved.position if saved is not None else None
            slices = shard_slices(shards, job.corpus.start + done, where)
            items: Iterator[Any] = iter(slices)
            counter = None
            numbered = job.task.name != "module" and job.output.format == "jsonl"
            run = {"number": (lambda text, first: number_lines(text, base + first))
                   if numbered else None, "limit": limit}
            measure = _Estimate(shards, slices, done, limit, estimate)
        else:
            counter = _TokenCounter()
            records: Iterator[Any] = plan.corpus.items()
            if estimate is not None and plan.expected is None:
                records = _ReadEstimate(plan.corpus, estimate).watch(records)
            items = counter.count(itertools.islice(records, done, None))
        if documents is not None:  # numbered in order here, wherever the items were read
            run["number"] = lambda text, first: documents.number(text, base + first)
        borrowed = pool
        pool = borrowed or _pool(job, module, settings)
        with contextlib.nullcontext() if borrowed else contextlib.closing(pool):
            pool.start(background=True)
            if shards is None:
                items = _read_ahead(items, pool)
            session = Session(pool.gateways, module, settings, pool.restart,
                              record=lambda failure: failure.line(base), shards=shards,
                              sizes=limit is not None)
            tally.gateways = functools.partial(_work, session)
            if progress is not None and done:
                progress(done)  # a resumed run starts where the last one stopped
            failures: list[ItemFailure] = []  # by corpus index
            try:
                reported = 0
                left = None if plan.expected is None else max(plan.expected - done, 0)
                for chunk in session.run(items, total=left, **run):
                    new = [dataclasses.replace(f, index=f.index + base)
                           for f in session.failures[len(failures):]]
                    failures += new
                    tally.items = session.delivered
                    tally.tokens = (session.buffer.tokens if counter is None
                                    else counter.upto(session.delivered))
                    tally.failures.update(f.error_type for f in new)
                    at = place(shards, session.buffer.due) if shards is not None else None
                    text = chunk if isinstance(chunk, str) else _json_lines(chunk)
                    if counts is not None:
                        counts.add_text(text)
                    out.write(text, done + session.delivered, (f.listing() for f in new), at)
                    if progress is not None:
                        progress(session.delivered - reported)
                        reported = session.delivered
                    if shards is not None:
                        measure.update(session.buffer.due, session.delivered)
                if documents is not None and documents.end():
                    out.write(documents.end(), done + session.delivered, (), out.position)
                if counts is not None:
                    counts.finish()
                read_by = plan.reading if isinstance(plan.reading, str) else "workers"
                counted = None if counts is None else counts.summary()
                errors = out.errors if out.failures and out.lists_errors else None
                report_data = None if written is None else build_report(
                    job, plan, tally.now(), read_by=read_by, output=job.output.path,
                    errors=errors, counted=counted)
                _commit(out, counts, job, written, report_data)
            finally:
                session.close()
    tokens = session.buffer.tokens if counter is None else counter.tokens
    return RunSummary(
        job.output.path, session.delivered, tokens, time.perf_counter() - started,
        dict(session.counts), done, tuple(failures), errors, dict(session.restarts),
        read_by=read_by, counted=counted, gateways=_work(session),
        report=None if written is None else written.shown,
        chosen_view=job.corpus.view if job.corpus.view_chosen else None)


def _commit(out: OutputFile, counts: Counts | None, job: Job, written: ReportFile | None,
            report: Mapping[str, Any] | None) -> None:
    """Put the output in place (a count's rendered), and its report after it.

    The report is made durable first, so that a disk too full for it stops the
    run resumable, before the output is in place; it is renamed into place once
    the output is."""
    if written is not None and report is not None:
        written.prepare(report)
    try:
        if counts is None:
            out.commit()
        else:
            out.commit(functools.partial(counts.write, job.output.format, job.output.top))
    except BaseException:
        if written is not None:
            written.discard()
        raise
    if written is not None:
        written.commit()


def _report_file(job: Job, report: bool | str) -> ReportFile | None:
    """The run report's file: beside the output (True), at a path, or none."""
    if report is False:
        return None
    path = report_path(job, None if report is True else str(report))
    if path is None:
        return None
    if isinstance(report, str):
        return ReportFile(path)
    return ReportFile(path, "output.path", output=job.output.path)


def _earlier(saved: Any) -> Totals | None:
    """What the runs before a resumed one did, as its checkpoint records; for a
    checkpoint that records nothing of it, only the items it says are written."""
    if saved is None:
        return None
    return Totals.from_plain(saved.totals) or Totals(1, None, saved.items, None, {}, 0.0,
                                                     0.0, {})


def _work(session: Session) -> dict[str, GatewayWork]:
    return gateway_work(session.counts, session.work, session.restarts)



def number_lines(text: str, first: int) -> str:
    """JSONL lines written without their numbers (``{"index": , ...}``), numbered
    from ``first``.  A JSON string escapes ``"``, so ``{"index": `` starts a line
    wherever it occurs."""
    parts = text.split(UNNUMBERED)
    numbers = map(str, itertools.count(first))
    return parts[0] + "".join(itertools.chain.from_iterable(
        zip(itertools.repeat(UNNUMBERED), numbers, parts[1:])))


def place(shards: ShardPlan, index: int) -> tuple[int, int, str | None, int | None]:
    """Where input index ``index`` lies, as a checkpoint records it: a shard's
    number, an item in it, and where the shard starts (a fileid and a byte), so
    that a resumed run can tell the same shards from others."""
    number, within = position(index)
    if number >= len(shards.shards):
        return number, within, None, None
    first = shards.shards[number].pieces[0]
    return number, within, first.fileid, first.begin


def shard_slices(shards: ShardPlan, skip: int,
                 where: Sequence[Any] | None = None) -> list[ShardSlice]:
    """The shards a run reads: from the one holding the corpus's ``skip``-th item,
    or from ``where`` (:func:`place`) a checkpoint records, when it describes these
    shards.  Used by jobs and by the research API's corpus methods alike."""
    if where is not None and len(where) == 4 and tuple(where) == place(
            shards, where[0] * STRIDE + where[1]):
        number, within = where[0], where[1]
    else:  # no place, or one among other shards (another shard size, changed files)
        number, within = locate(shards, skip)
    rest = shards.shards[number:]
    return [ShardSlice(shard, within if i == 0 else 0) for i, shard in enumerate(rest)]


def locate(shards: ShardPlan, skip: int) -> tuple[int, int]:
    """The shard holding the corpus's ``skip``-th item, and the item's place in it,
    found by reading the shards before it here (a ``start``, or a checkpoint that
    records no place)."""
    for shard in shards.shards:
        if not skip:
            return shard.number, 0
        count = sum(1 for _ in shards.read_locally(shard))
        if skip < count:
            return shard.number, skip
        skip -= count
    return len(shards.shards), 0


class _Reported:
    """Tells ``report`` an estimated total when it moves by more than 1 %."""

    def __init__(self, report: Callable[[int], object] | None) -> None:
        self.report = report
        self.shown: int | None = None

    def tell(self, guess: int) -> None:
        if self.report is None:
            return
        if self.shown is None or abs(guess - self.shown) > 0.01 * self.shown:
            self.shown = guess
            self.report(guess)


class _ReadEstimate(_Reported):
    """Where the driver reads a corpus of unknown length: its total items, estimated
    from the bytes of the files read to the end (their sizes are known up front)."""

    def __init__(self, corpus: Corpus, report: Callable[[int], object]) -> None:
        super().__init__(report)
        source = corpus.source()
        try:
            self.sizes = source.sizes()
        except (ValueError, OSError):  # a fileid without a file: no estimate
            self.sizes = {}
        self.total = sum(self.sizes.values())

    def watch(self, records: Iterator[Any]) -> Iterator[Any]:
        """``records``, estimating the total each time one file is read to its end."""
        seen, read, current = 0, 0, None
        for record in records:
            fileid = record.get("fileid")
            if fileid != current:
                if current is not None and self.total:
                    read += self.sizes.get(current, 0)
                    self.update(seen, read)
                current = fileid
            seen += 1
            yield record

    def update(self, seen: int, read: int) -> None:
        if read <= 0:
            return
        self.tell(round(seen * self.total / read))


class _Estimate(_Reported):
    """The run's total items, estimated from the bytes of the shards delivered."""

    def __init__(self, shards: ShardPlan, slices: list[ShardSlice], done: int,
                 limit: int | None, report: Callable[[int], object] | None) -> None:
        super().__init__(report)
        self.limit = limit
        self.done = done
        self.first = slices[0].shard.number if slices else 0
        self.sizes = list(itertools.accumulate(s.size for s in shards.shards))
        self.before = self.sizes[self.first - 1] if self.first else 0
        self.total = (self.sizes[-1] if self.sizes else 0) - self.before

    def update(self, due: int, delivered: int) -> None:
        if self.report is None or not self.total:
            return
        number, _ = position(due)
        read = (self.sizes[number - 1] if number else 0) - self.before
        if read <= 0:
            return
        guess = self.done + round(delivered * self.total / read)
        if self.limit is not None:
            guess = min(guess, self.done + self.limit)
        self.tell(guess)


#: Items read ahead while the gateways start.
READ_AHEAD = 5_000


def _read_ahead(items: Iterator[Any], pool: Pool) -> Iterator[Any]:
    """Read up to :data:`READ_AHEAD` items while ``pool`` starts in the background,
    so that the driver's reading overlaps its workers' start-up."""
    ahead: list[Any] = []
    while not pool.ready and len(ahead) < READ_AHEAD:
        try:
            ahead.append(next(items))
        except StopIteration:
            break
    return itertools.chain(ahead, items)


def _pool(job: Job, module: RemoteModule, settings: RunOptions) -> Pool:
    """The job's gateways (forked workers start with the toolkit's own task set
    up), or its Dask cluster's workers."""
    if job.dask is not None:
        return dask_pool(job.dask, module, settings)
    return GatewayPool(job.specs, **sharing(module, settings.encoded))


def _json_lines(results: list[Any]) -> str:
    """Seed-style modules return results, written one JSON line each."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)


class _TokenCounter:
    """Counts the tokens read as items stream past; None once an item is a text.

    The driver reads ahead of what is written, so the tokens read so far after
    each item are kept until :meth:`upto` is asked past it."""

    def __init__(self) -> None:
        self.tokens: int | None = 0
        #: The tokens read after item _done + 1, _done + 2, ...
        self._sums: collections.deque[int | None] = collections.deque()
        self._done = 0

    def count(self, items: Iterator[dict]) -> Iterator[dict]:
        for item in items:
            if self.tokens is not None:
                self.tokens = self.tokens + len(item["tokens"]) if "tokens" in item else None
            self._sums.append(self.tokens)
            yield item

    def upto(self, items: int) -> int | None:
        """The tokens of the first ``items`` items read (asked for a number never
        below the last one asked for)."""
        if items <= 0:
            return 0
        while self._done < items - 1 and self._sums:
            self._sums.popleft()
            self._done += 1
        return self._sums[0] if self._sums else self.tokens


__all__ = ["Progress", "RunSummary", "locate", "number_lines", "run_job", "run_plan",
           "shard_slices"]
