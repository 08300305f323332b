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

import contextlib
import dataclasses
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .engine import Session
from .forks import sharing
from .gateways import GatewayPool
from .jobs import Job
from .modules import RemoteModule
from .plan import Plan, open_plan
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

    @property
    def items_per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


def run_job(job: Job, progress: Progress | None = None, resume: bool = False,
            pool: GatewayPool | None = None) -> RunSummary:
    """Run ``job`` to completion, writing its output; return a :class:`RunSummary`.

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
        return run_plan(plan, progress, resume, pool)


def run_plan(plan: Plan, progress: Progress | None = None, resume: bool = False,
             pool: GatewayPool | None = None) -> RunSummary:
    """:func:`run_job` for a job planned already (its corpus open and checked)."""
    job = plan.job
    out = plan.output_file()
    if resume and out.finished():
        return RunSummary(job.output.path, 0, None, 0.0, {}, already_complete=True)
    started = time.perf_counter()
    saved = out.check(resume)
    done = saved.items if saved is not None else 0
    base = job.corpus.start + done
    module, settings = plan.module, plan.settings(done)  # before any output is created
    with out:
        out.open(resume)
        counter = _TokenCounter()
        items = counter.count(itertools.islice(plan.corpus.items(), done, None))
        borrowed = pool
        pool = borrowed or _pool(job, module, settings)
        with contextlib.nullcontext() if borrowed else contextlib.closing(pool):
            pool.start(background=True)
            items = _read_ahead(items, pool)
            session = Session(pool.gateways, module, settings, pool.restart,
                              record=lambda failure: failure.line(base))
            if progress is not None and done:
                progress(done)  # a resumed run starts where the last one stopped
            failures: list[ItemFailure] = []  # by corpus index
            try:
                reported = 0
                left = None if plan.expected is None else max(plan.expected - done, 0)
                for chunk in session.run(items, total=left):
                    new = [dataclasses.replace(f, index=f.index + base)
                           for f in session.failures[len(failures):]]
                    failures += new
                    out.write(chunk if isinstance(chunk, str) else _json_lines(chunk),
                              done + session.delivered, (f.listing() for f in new))
                    if progress is not None:
                        progress(session.delivered - reported)
                        reported = session.delivered
                out.commit()
            finally:
                session.close()
    return RunSummary(
        job.output.path, session.delivered, counter.tokens, time.perf_counter() - started,
        dict(session.counts), done, tuple(failures), out.errors if out.failures else None,
        dict(session.restarts))


#: Items read ahead while the gateways start.
READ_AHEAD = 5_000


def _read_ahead(items: Iterator[Any], pool: GatewayPool) -> Iterator[Any]:
    """Read up to :data:`READ_AHEAD` items while ``pool`` starts in the background,
    so that the driver's reading overlaps its workers' start-up."""
    ahead: list[Any] = []
    while not pool.ready and len(ahead) < READ_AHEAD:
        try:
            ahead.append(next(items))
        except StopIteration:
            break
    return itertools.chain(ahead, items)


def _pool(job: Job, module: RemoteModule, settings: RunOptions) -> GatewayPool:
    """The job's gateways; forked workers start with the toolkit's own task set up."""
    return GatewayPool(job.specs, **sharing(module, settings.options))


def _json_lines(results: list[Any]) -> str:
    """Seed-style modules return results, written one JSON line each."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)


class _TokenCounter:
    """Counts the tokens read as items stream past; None once an item is a text."""

    def __init__(self) -> None:
        self.tokens: int | None = 0

    def count(self, items: Iterator[dict]) -> Iterator[dict]:
        for item in items:
            if self.tokens is not None:
                self.tokens = self.tokens + len(item["tokens"]) if "tokens" in item else None
            yield item


__all__ = ["Progress", "RunSummary", "run_job", "run_plan"]
