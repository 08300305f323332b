"""One plan per run: what a job will do, decided once, before anything starts.

``run``, ``validate``, the progress bar's total and :func:`~nlp_parallel.runner.run_job`
all work from a :class:`Plan`, so a run opens and checks its corpus once::

    with open_plan(load_job("corpora_configs/treebank_tag.yaml")) as plan:
        plan.output_file().check()
        module, settings = plan.module, plan.settings()
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .remote_tasks.pipeline import TOKEN_FORMATS

from .corpus import Corpus, open_corpus, with_view
from .counting import Counts
from .corpus import shards
from .corpus.shards import ShardPlan, plan_shards
from .corpus.sources import id_name
from .errors import ConfigError
from .documents import Documents, header
from .jobs import (
    DRIVER_READS_FOR,
    Job,
    TaskSpec,
    check_input,
    in_job,
    prepare_task,
    record_fields,
    task_needs,
)
from .modules import RemoteModule
from .outputs import STDOUT, OutputFile, StandardOutput
from .settings import Emit, RunOptions, run_options


@dataclass(frozen=True)
class Plan:
    """A job with its corpus open and checked, and what is known before reading it.

    The task -- the module the workers run and its options, models included -- is
    prepared on first use (:attr:`module`, :meth:`settings`), after the output has
    been checked, so that a resume of a finished output loads no model.
    """

    job: Job
    corpus: Corpus
    #: Items the corpus yields when known without reading it; else at most its
    #: ``limit`` (None without one).
    expected: int | None

    # (Frozen, yet the task is cached: cached_property writes the instance's
    # __dict__ directly.)

    @functools.cached_property
    def _task(self) -> tuple[RemoteModule, Any]:
        """Raises ConfigError / ResourceMissing; a task that cannot take the corpus's
        items (:func:`~nlp_parallel.jobs.check_input`) is refused before its models
        load."""
        job = self.job
        check_input(job.task, self.corpus)
        task = prepare_task(job.task)
        if job.task.name == "module":  # a user's module, found beside the job file
            sys.path.insert(0, os.path.dirname(os.path.abspath(job.file)))
            try:
                module = RemoteModule.resolve(task.module)
            except ConfigError as exc:
                raise ConfigError(f"task.module: {exc}") from None
            finally:
                sys.path.pop(0)
            return module, task.options
        # Every built-in task runs as a pipeline, which formats the output lines.
        if task.name == "pipeline":
            options = dict(task.options)
        else:
            step = RemoteModule.resolve(task.module)
            options = {"steps": [{"name": task.name, "source": step.source,
                                  "filename": step.filename, "options": dict(task.options)}]}
        if job.task.counts:
            last = options["steps"][-1]
            options["steps"] = [*options["steps"][:-1], {
                **last, "options": with_categories(last["options"], self.corpus, job.task)}]
        return RemoteModule.resolve("nlp_parallel.remote_tasks.pipeline"), options

    @property
    def module(self) -> RemoteModule:
        """The module the workers run."""
        return self._task[0]

    @property
    def options(self) -> Any:
        """The options the workers' module is set up with, models included."""
        return self._task[1]

    @functools.cached_property
    def reading(self) -> ShardPlan | str:
        """The shards the workers read, or why the driver reads the corpus: the
        job says ``read: driver``, or ``read: auto`` with at most two gateways on
        this machine (on Dask, workers read), a seed-style module (which takes items from its channel), or
        a reader that cannot be rebuilt from its arguments as data.

        With ``read: auto`` and two gateways or fewer, the driver's reading overlaps
        the workers' start-up and keeps up with them -- except for a count, whose
        driver is busy merging, and for plain tagged text, which workers read directly
        in a fifth to an eighth of the time NLTK's reader takes (brown, masc_tagged,
        the ``tagged`` format): those the workers read."""
        job = self.job
        if job.read == "driver":
            return "the job says read: driver"
        if job.task.counts and job.corpus.limit is not None:
            # A piece's counts cannot be cut at an item, as a shard's lines are.
            return "a count with corpus.limit, which stops at the limit's item exactly"
        if not self.module.batched:
            return f"{self.module.name} is a seed-style module, which takes items"
        specs = job.specs
        if job.read == "auto" and job.dask is None and not specs.has_auto and len(specs) <= DRIVER_READS_FOR \
                and all(spec.local for spec in specs):
            planned = plan_shards(self.corpus, shard_bytes(job.task))
            if not isinstance(planned, ShardPlan):  # the driver must read it anyway
                return planned
            if job.task.counts or planned.direct:
                return planned
            planned.close()
            return (f"read: auto with {len(specs)} gateway(s) on this machine; "
                    f"read: workers has them read it")
        return plan_shards(self.corpus, shard_bytes(job.task))

    def counts(self) -> Counts | None:
        """An empty merge of a counting task's results (None for other tasks)."""
        if not self.job.task.counts:
            return None
        return Counts(self._task[1]["steps"][-1]["options"])

    @property
    def shards(self) -> ShardPlan | None:
        """The shards the workers read; None when the driver reads the corpus."""
        return self.reading if isinstance(self.reading, ShardPlan) else None

    def settings(self, done: int = 0) -> RunOptions:
        """The run's settings, for a run that starts ``done`` items past the corpus's
        ``start`` (a resumed one): built-in tasks number their output lines from
        there -- or, where the workers read shards, leave the numbers to the driver,
        which knows them once the shards before are written."""
        module, options = self._task
        if self.job.task.name != "module":
            base = None if self.shards is not None else self.job.corpus.start + done
            options = {**options, "output": {"format": self.job.output.format,
                                             "index_base": base,
                                             "universal": universal_tags(self.job.task)}}
        emit = Emit.TEXT if module.batched else Emit.RESULTS
        job = self.job
        return run_options(options, job.batch_size, emit, job.timeout,
                           on_error=job.on_error, max_restarts=job.max_restarts)

    def documents(self) -> Documents | None:
        """What the driver adds to a token format's output (None for the others)."""
        if self.job.task.name == "module" or self.job.output.format not in TOKEN_FORMATS:
            return None
        return Documents(self.job.output.format)

    def tsv_header(self) -> str:
        """The header row of a tsv of tokens: the columns the task's records carry."""
        names = self.job.task.step_names
        fields = record_fields(self.job.task)
        if self.corpus.kind == "tagged" and names[0] != "tokenize":
            fields.add("tags")  # kept from the tagged items
        table = self.job.corpus.table
        ids = [id_name(column) for column in table.id_columns] if table is not None else []
        return header(fields, texts=names[0] == "tokenize", ids=ids)

    def output_file(self) -> OutputFile:
        """The job's output, with the settings that must not change across a resume."""
        return output_file(self.job)


@contextlib.contextmanager
def open_plan(job: Job) -> Iterator[Plan]:
    """Open and check ``job``'s corpus, and plan the run over it.  Where the job gives
    no view, the plan's job has the one chosen for its task (``view_chosen``).

    Errors raised inside the block name the job file (:func:`~nlp_parallel.jobs.in_job`).
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(in_job(job.file))
        needs = task_needs(job.task)
        if needs is not None:  # a module's job gives its view
            job = dataclasses.replace(job, corpus=with_view(job.corpus, needs))
        corpus = stack.enter_context(open_corpus(job.corpus))
        corpus.check()
        total = corpus.total()
        plan = Plan(job, corpus, job.corpus.limit if total is None else total)
        try:
            yield plan
        finally:
            if isinstance(plan.__dict__.get("reading"), ShardPlan):  # planned: close it
                plan.__dict__["reading"].close()


def shard_bytes(task: TaskSpec) -> int:
    """The size of the shards the workers read: larger for a count, whose driver
    merges one piece of counts per shard (most of a piece's n-grams are new to the
    merge, so fewer pieces mean fewer of them)."""
    return shards.SHARD_BYTES * (COUNT_SHARDS if task.counts else 1)


#: How many times :data:`~nlp_parallel.corpus.shards.SHARD_BYTES` a count's shards are.
COUNT_SHARDS = 4


def with_categories(options: Mapping[str, Any], corpus: Corpus,
                    task: TaskSpec) -> dict[str, Any]:
    """A count step's options with the corpus's categories of each file, when it
    counts by category; raises :class:`ConfigError` for a corpus without them."""
    options = dict(options)
    if "category" not in (options.get("condition"), options.get("by")):
        return options
    key = "condition" if options.get("condition") == "category" else "by"
    where = (f"task.steps[{len(task.steps) - 1}].options.{key}" if task.name == "pipeline"
             else f"task.options.{key}")
    source = corpus.source()
    reader = source.reader
    if not callable(getattr(reader, "categories", None)):
        raise ConfigError(f"{where}: category needs a corpus with categories (brown, "
                          f"movie_reviews, reuters, ...); {corpus.spec.label} "
                          f"has none; use fileid")
    options["categories"] = {fileid: list(reader.categories([fileid]))
                             for fileid in source.fileids}
    return options


def universal_tags(task: TaskSpec) -> bool:
    """Whether the task's tags are NLTK's universal tagset (a tag step's ``tagset``)."""
    steps = task.steps if task.name == "pipeline" else ({"name": task.name,
                                                         "options": task.options},)
    for step in steps:
        options = step.get("options") if isinstance(step, Mapping) else None
        if step.get("name") == "tag" and isinstance(options, Mapping) \
                and options.get("tagset") == "universal":
            return True
    return False


def output_file(job: Job) -> OutputFile:
    """``job``'s output, with the settings that must not change across a resume."""
    if job.output.path == STDOUT:
        return StandardOutput(output_settings(job), job.corpus.start, job.task.counts)
    return OutputFile(job.output.path, job.output.overwrite, settings=output_settings(job),
                      first_index=job.corpus.start)


def output_settings(job: Job) -> dict[str, Any]:
    """What shapes the output's bytes; gateways, batch sizes and timeouts do not."""
    corpus = dataclasses.asdict(job.corpus)
    corpus.pop("where", None)
    corpus.pop("view_chosen", None)  # the view's the same, given or chosen
    return {
        "corpus": corpus,
        "task": dataclasses.asdict(job.task),
        "output.format": job.output.format,
        "on_error": job.on_error.value,
    }
