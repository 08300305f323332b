"""Run a validated job from Python, as ``nlp-parallel run`` does, and say how it went.

::

    job = load_job("corpora_configs/treebank_tag.yaml")
    with tqdm(total=500) as bar:
        summary = run_job(job.with_overrides(corpus=replace(job.corpus, limit=500)),
                          progress=bar.update)

The output is written as the CLI writes it: to a hidden temporary file beside the
target, renamed into place when the run completes; an existing output is refused
unless ``output.overwrite``.  Gateways are started for the run and stopped after it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .corpus import Corpus, open_corpus
from .engine import Emit, RunOptions, Session, run_options
from .errors import ConfigError
from .gateways import GatewayPool
from .jobs import Job, JobError, prepare_task
from .modules import RemoteModule
from .outputs import OutputFile

#: Called with the number of items each written chunk adds (``tqdm.update`` fits).
Progress = Callable[[int], object]


@dataclass(frozen=True)
class RunSummary:
    """What one run did: the file written, items and tokens read, time taken."""

    output: str
    items: int
    tokens: int | None  # None when items are texts, tokenized by the workers
    seconds: float
    per_gateway: Mapping[str, int]  # items each gateway delivered, by gateway id

    @property
    def items_per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


def run_job(job: Job, progress: Progress | None = None) -> RunSummary:
    """Run ``job`` to completion, writing its output; return a :class:`RunSummary`.

    Everything that can be checked is checked before a gateway starts.  Raises
    :class:`~nlp_parallel.jobs.JobError` for bad input (also bad user data found
    while reading, named by file), :class:`~nlp_parallel.errors.ResourceMissing`,
    and the errors :func:`nlp_parallel.map` raises while running.
    """
    try:
        with open_corpus(job.corpus) as corpus:
            return _run(job, corpus, progress)
    except JobError:
        raise
    except ConfigError as exc:
        raise JobError(f"{job.file}: {exc}") from None


def _run(job: Job, corpus: Corpus, progress: Progress | None) -> RunSummary:
    corpus.check()
    out = OutputFile(job.output.path, job.output.overwrite)
    out.check()
    module, settings = plan_job(job)
    counter = _TokenCounter()
    started = time.perf_counter()
    with GatewayPool(job.specs) as pool:
        session = Session(pool.gateways, module, settings)
        try:
            with out as f:
                reported = 0
                for chunk in session.run(counter.count(corpus.items())):
                    f.write(chunk if isinstance(chunk, str) else _json_lines(chunk))
                    if progress is not None:
                        progress(session.delivered - reported)
                        reported = session.delivered
                out.commit()
        finally:
            session.close()
    return RunSummary(job.output.path, session.delivered, counter.tokens,
                      time.perf_counter() - started, dict(session.counts))


def plan_job(job: Job) -> tuple[RemoteModule, RunOptions]:
    """The module the workers run and its settings; raises ConfigError / ResourceMissing."""
    task = prepare_task(job.task)
    if job.task.name == "module":  # a user's module, found beside the job file
        sys.path.insert(0, os.path.dirname(os.path.abspath(job.file)))
        try:
            module = RemoteModule.resolve(task.module)
        finally:
            sys.path.pop(0)
        options: Any = task.options
    else:  # every built-in task runs as a pipeline, which formats the output lines
        module = RemoteModule.resolve("remote_tasks.pipeline")
        if task.name == "pipeline":
            options = dict(task.options)
        else:
            step = RemoteModule.resolve(task.module)
            options = {"steps": [{"name": task.name, "source": step.source,
                                  "filename": step.filename, "options": dict(task.options)}]}
        options["output"] = {"format": job.output.format, "index_base": job.corpus.start}
    emit = Emit.TEXT if module.batched else Emit.RESULTS
    return module, run_options(options, job.batch_size, emit, job.timeout)


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


__all__ = ["Progress", "RunSummary", "plan_job", "run_job"]
