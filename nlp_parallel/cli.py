"""``python -m nlp_parallel`` / ``nlp-parallel``: run, validate, tasks, corpora, check, data.

Each subcommand is a function returning an exit code; :func:`main` only dispatches,
and :func:`error_handler` maps known errors to exit codes: 2 for bad input (one or
two lines naming the file and key), 1 for a run that failed, 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from . import __version__
from .engine import Emit, Session, run_options
from .errors import ConfigError, NlpParallelError, RemoteTaskError, ResourceMissing
from .gateways import GatewayPool
from .jobs import Job, JobError, load_job, prepare_task
from .modules import RemoteModule
from .outputs import OutputFile
from .specs import parse_specs

PROG = "nlp-parallel"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_handler(args) as result:
        result.code = args.command(args)
    return result.code


class _Result:
    code = 0


@contextlib.contextmanager
def error_handler(args: argparse.Namespace) -> Iterator[_Result]:
    """Turn known errors into an exit code and a short message on stderr."""
    result = _Result()
    debug = getattr(args, "debug", False)
    try:
        yield result
    except KeyboardInterrupt:
        _say("interrupted; workers stopped")
        result.code = 130
    except (ConfigError, ResourceMissing) as exc:
        _debug_trace(debug)
        _say(f"error: {exc}")
        result.code = 2
    except RemoteTaskError as exc:
        _say(f"error: the task failed: {exc.summary}")
        if debug:
            print(exc.remote_traceback, file=sys.stderr)
        else:
            _say("(run with --debug to see the remote traceback)")
        result.code = 1
    except NlpParallelError as exc:
        _debug_trace(debug)
        _say(f"error: {exc}")
        result.code = 1
    except Exception as exc:  # a bug of ours: say so, briefly, unless asked for more
        _debug_trace(debug)
        _say(f"internal error: {type(exc).__name__}: {exc}"
             + ("" if debug else " (run with --debug for the traceback)"))
        result.code = 1


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _debug_trace(debug: bool) -> None:
    if debug:
        traceback.print_exc()


# -- run and validate -------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    job = _load(args)
    plan = _plan(job)
    try:
        return _run(args, job, plan)
    except ConfigError as exc:  # bad input found while reading the corpus
        raise JobError(f"{job.file}: {exc}") from None


def _run(args: argparse.Namespace, job: Job, plan: _Plan) -> int:
    started = time.perf_counter()
    with GatewayPool(job.specs) as pool:
        session = Session(pool.gateways, plan.module, plan.settings)
        out = OutputFile(job.output.path, job.output.overwrite)
        tokens = _Counter()
        with out as f, _progress(args.quiet, plan.total) as bar:
            for chunk in session.run(tokens.count(plan.corpus.items())):
                f.write(chunk if isinstance(chunk, str) else plan.lines(chunk))
                bar.update(session.delivered - bar.n)
            out.commit()
        session.close()
    plan.corpus.close()
    if not args.quiet:
        _summary(job, session, tokens, time.perf_counter() - started)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    job = _load(args)
    plan = _plan(job)
    plan.corpus.close()
    print(f"{job.file}: ok: {job.task.name} over "
          f"{job.corpus.name or job.corpus.path} ({job.corpus.view}) on "
          f"{len(job.specs)} gateway(s), writing {job.output.format} to {job.output.path}")
    return 0


def _load(args: argparse.Namespace) -> Job:
    job = load_job(args.job)
    try:
        if args.specs:
            job = replace(job, specs=parse_specs(args.specs))
        if args.limit is not None:
            if args.limit < 0:
                raise ConfigError(f"--limit: must be at least 0, not {args.limit}")
            job = replace(job, corpus=replace(job.corpus, limit=args.limit))
        if args.output or args.overwrite:
            output = replace(job.output, path=args.output or job.output.path,
                             overwrite=job.output.overwrite or args.overwrite)
            job = replace(job, output=output)
    except ConfigError as exc:
        raise JobError(f"{job.file}: {exc}") from None
    return job


class _Plan:
    """Everything a run needs, checked before any gateway starts."""

    def __init__(self, job: Job) -> None:
        from .corpus import open_corpus

        self.corpus = open_corpus(job.corpus)
        self.corpus.check()
        OutputFile(job.output.path, job.output.overwrite).check()
        task = prepare_task(job.task)
        if job.task.name == "module":
            sys.path.insert(0, os.path.dirname(os.path.abspath(job.file)))
            self.module = RemoteModule.resolve(task.module)
            options: Any = task.options
        else:
            self.module = RemoteModule.resolve("remote_tasks.pipeline")
            options = _pipeline_options(task, job)
        emit = Emit.TEXT if self.module.batched else Emit.RESULTS
        self.settings = run_options(options, job.batch_size, emit, job.timeout)
        # A limit bounds the count from above: enough for an ETA.
        self.total = self.corpus.total() or job.corpus.limit

    @staticmethod
    def lines(results: list[Any]) -> str:
        """Seed-style modules return results: one JSON line each."""
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)


def _plan(job: Job) -> _Plan:
    try:
        return _Plan(job)
    except ConfigError as exc:
        raise JobError(f"{job.file}: {exc}") from None


def _pipeline_options(task: Any, job: Job) -> dict[str, Any]:
    options = dict(task.options)
    if task.name != "pipeline":  # one task: a one-step pipeline, for records and formats
        source = RemoteModule.resolve(task.module)
        options = {"steps": [{"name": task.name, "source": source.source,
                              "filename": source.filename, "options": dict(task.options)}]}
    options["output"] = {"format": job.output.format, "index_base": job.corpus.start}
    return options


class _Counter:
    """Counts the items and tokens read, as they stream past."""

    def __init__(self) -> None:
        self.items = 0
        self.tokens: int | None = 0

    def count(self, items: Iterator[dict]) -> Iterator[dict]:
        for item in items:
            self.items += 1
            if self.tokens is not None:
                if "tokens" in item:
                    self.tokens += len(item["tokens"])
                else:
                    self.tokens = None  # texts are tokenized remotely
            yield item


@contextlib.contextmanager
def _progress(quiet: bool, total: int | None) -> Iterator[Any]:
    """tqdm on stderr, only on a terminal: in a log it is noise around the summary.

    With ``total`` (known without a scan: a limit, one item per file) it shows an
    ETA; otherwise the count and rate.  Counting a streamed corpus first would read
    it twice, and a second reader in a thread is unsafe: NLTK's zip pointers share
    one open zip file.
    """
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" sent", file=sys.stderr, mininterval=0.5,
               disable=quiet or not sys.stderr.isatty(), dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def _summary(job: Job, session: Session, tokens: _Counter, seconds: float) -> None:
    count = session.delivered
    words = f", {tokens.tokens:,} tokens" if tokens.tokens is not None else ""
    _say(f"{count:,} items{words} in {seconds:.2f} s ({count / max(seconds, 1e-9):,.0f} "
         f"items/s) -> {job.output.path}")
    per = "  ".join(f"{g}: {n:,}" for g, n in session.counts.items())
    print(f"  per gateway: {per}", file=sys.stderr)


# -- listings and checks ----------------------------------------------------------


def cmd_tasks(args: argparse.Namespace) -> int:
    from .tasks import FAMILIES, family

    for name in FAMILIES:
        module = family(name)
        print(f"{name}: {module.SUMMARY}")
        for option, text in module.OPTIONS.items():
            print(f"    {option}: {text}")
    print("module: a user's pure remote module (task.module: dotted.name), batched or "
          "seed-style\n    options: passed to the module's setup(options)")
    return 0


def cmd_corpora(args: argparse.Namespace) -> int:
    from .corpus import installed_corpora

    for name, views in installed_corpora():
        print(f"{name}: {', '.join(views)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with GatewayPool(args.specs or None) as pool:
        for info in pool.describe():
            print(f"{info['gateway']}: host {info['host']}, Python {info['python']}, "
                  f"NLTK {info['nltk'] or 'not installed'}, {info['cpus']} cores, "
                  f"round trip {info['rtt_ms']:.2f} ms")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from .data import install

    for line in install(args.names, mirror=args.mirror, directory=args.dir):
        print(line)
    return 0


# -- the parser -------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], text: str,
                ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(command=func)
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        return p

    for name, func, text in (
        ("run", cmd_run, "run a job file, writing its output in corpus order"),
        ("validate", cmd_validate, "check a job file, its corpus, task and output "
                                   "without starting gateways"),
    ):
        p = command(name, func, text)
        p.add_argument("job", help="the job's YAML file")
        p.add_argument("--specs", nargs="+", metavar="SPEC",
                       help="gateway specs replacing the job's, e.g. 2*popen ssh=host")
        p.add_argument("--limit", type=int, help="process at most N items")
        p.add_argument("--output", help="write here instead of the job's output.path")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
        if name == "run":
            p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    command("tasks", cmd_tasks, "list the tasks and their options")
    command("corpora", cmd_corpora, "list installed NLTK corpora and their views")
    p = command("check", cmd_check, "start each gateway and report host, Python, NLTK, "
                                    "cores and round-trip latency")
    p.add_argument("--specs", nargs="+", metavar="SPEC", help="default: popen per core")
    data = sub.add_parser("data", help="install NLTK data").add_subparsers(
        title="data commands", required=True, metavar="COMMAND")
    p = data.add_parser("install", help="install NLTK data packages",
                        description="install NLTK data packages with NLTK's downloader")
    p.set_defaults(command=cmd_data)
    p.add_argument("names", nargs="+", metavar="NAME", help="package, e.g. punkt_tab")
    p.add_argument("--from", dest="mirror", metavar="DIR",
                   help="install from a local mirror (a directory with index.xml)")
    p.add_argument("--dir", help="install into this NLTK data directory "
                                 "(default: NLTK's own choice)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser
