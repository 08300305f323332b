"""``python -m nlp_parallel`` / ``nlp-parallel``: run, validate, tasks, corpora, check, data.

Each subcommand is a function returning an exit code; :func:`main` only dispatches,
and :func:`error_handler` maps known errors to exit codes: 2 for bad input (one or
two lines naming the file and key), 1 for a run that failed, 130 for Ctrl-C and
143 for SIGTERM.  A run stopped early keeps its partial output resumable.  The
toolkit's warnings (a gateway that did not start while ``min_gateways`` others did)
are one ``nlp-parallel: warning: ...`` line each.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from . import __version__
from .cli_help import COMMANDS, DESCRIPTION, EPILOG
from .daskpool import DaskPool, DaskTarget, check_address
from .engine import local_nltk_version
from .errors import ConfigError, NlpParallelError, RemoteTaskError, ResourceMissing
from .gateways import GatewayPool, GatewayWarning
from .jobs import Job, in_job, load_job
from .outputs import STDOUT
from .plan import open_plan, output_file
from .reports import gateway_lines
from .runner import RunSummary, run_plan
from .signals import Terminated, interrupt_behind, sigterm_raises
from .specs import GatewaySpecs, crowding, parse_specs, read_hosts_file, with_min_gateways

PROG = "nlp-parallel"


def run_command() -> int:
    """``nlp-parallel`` and ``python -m nlp_parallel``: :func:`main`, in a process of
    its own.

    What is imported by now (NLTK, mostly) lives as long as the process, so it is
    frozen out of the garbage collector's way: collections during a run skip it,
    the fork server forked from this process shares its pages instead of copying
    them (see forks.py), and the exit does not sweep it.
    """
    gc.freeze()
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_handler(args) as result, _warnings_as_lines(), sigterm_raises():
        result.code = args.command(args, result)
    return result.code


class _Result:
    code = 0
    hint = ""  # said after an error, e.g. how to resume


@contextlib.contextmanager
def error_handler(args: argparse.Namespace) -> Iterator[_Result]:
    """Turn known errors into an exit code and a short message on stderr."""
    result = _Result()
    debug = getattr(args, "debug", False)
    try:
        yield result
    except Terminated:
        _say("terminated; workers stopped")
        result.code = 143
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
    except Exception as exc:
        interrupt = interrupt_behind(exc)
        if interrupt is not None:  # lock code the interrupt broke into failed (signals.py)
            _debug_trace(debug)
            terminated = isinstance(interrupt, Terminated)
            _say("terminated; workers stopped" if terminated else "interrupted; workers stopped")
            result.code = 143 if terminated else 130
        else:  # a bug of ours: say so, briefly, unless asked for more
            _debug_trace(debug)
            _say(f"internal error: {type(exc).__name__}: {exc}"
                 + ("" if debug else " (run with --debug for the traceback)"))
            result.code = 1
    if result.code and result.hint:
        _say(result.hint)


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show the toolkit's warnings as one line each, like its errors."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
            if issubclass(category, GatewayWarning):
                _say(f"warning: {message}")
            else:
                shown(message, category, *args, **kw)

        warnings.showwarning = show
        yield


def _debug_trace(debug: bool) -> None:
    if debug:
        traceback.print_exc()


# -- run and validate -------------------------------------------------------------


def cmd_run(args: argparse.Namespace, result: _Result) -> int:
    job = _load(args)
    out = output_file(job)
    try:
        with open_plan(job) as plan, _progress(args.quiet, plan.expected) as bar:
            summary = run_plan(plan, progress=bar and bar.update, resume=args.resume,
                               estimate=bar and functools.partial(_retotal, bar),
                               report=True if args.report is None else args.report)
    except (ConfigError, ResourceMissing):  # bad input: refused before anything started
        raise
    except BaseException:  # a run stopped early: say how to continue it
        try:
            saved = out.load_checkpoint()
        except ConfigError:  # not one to continue: the error that stopped the run says it all
            saved = None
        if saved is not None and not job.corpus.stdin:  # standard input is gone once read
            result.hint = (f"{saved.items:,} items are written and kept; continue with "
                           f"`{PROG} run {args.job} --resume`")
        raise
    if summary.already_complete:
        _say(f"{job.output.path} is already complete; nothing to resume")
    elif not args.quiet:
        _summary(summary)
    return 0


def cmd_validate(args: argparse.Namespace, result: _Result) -> int:
    job = _load(args)
    with open_plan(job) as plan:
        job = plan.job  # with the view chosen, where the job gives none
        plan.output_file().check()
        plan.settings()  # prepares the task: its options, models and input
        shards = plan.shards
        if shards is not None:
            size = shards.total_bytes / 2**20
            reading = f"read by the workers in {len(shards.shards):,} shards ({size:,.1f} MiB)"
        else:
            reading = f"read by the driver ({plan.reading})"
    crowded = crowding(job.specs) if job.dask is None else None
    if crowded:  # as run would warn, starting them
        warnings.warn(GatewayWarning(crowded), stacklevel=1)
    where = _gateway_count(job.specs) if job.dask is None else str(job.dask)
    view = f"{job.corpus.view}" + (", chosen for the task" if job.corpus.view_chosen else "")
    print(f"{job.file}: ok: {job.task.name} over "
          f"{job.corpus.label} ({view}, {reading}) on "
          f"{where}, writing {job.output.format} to {_shown(job.output.path)}")
    return 0


def _gateway_count(specs: GatewaySpecs) -> str:
    fixed = sum(1 for s in specs if not s.auto)
    auto = len(specs) - fixed
    text = f"{fixed} gateway(s)" if fixed or not auto else ""
    if auto:
        text += (" and " if text else "") + f"one per core on {auto} host(s)"
    if specs.min_gateways is not None:
        text += f" (at least {specs.min_gateways} must start)"
    return text


def _load(args: argparse.Namespace) -> Job:
    job = load_job(args.job)
    with in_job(job.file):
        if args.dask and (args.specs or args.hosts):
            raise ConfigError("--dask: runs on Dask or on execnet gateways; drop --specs "
                              "and --hosts, or --dask")
        if args.specs or args.hosts:
            job = replace(job, specs=_command_line_specs(
                args, job.allow_insecure_socket, job.specs.min_gateways), dask=None)
        if args.dask:
            job = replace(job, dask=_command_line_dask(args.dask, job.dask))
        if getattr(args, "resume", False) and job.corpus.stdin:
            raise ConfigError(f"{job.corpus.where}.path: '-' reads standard input, which a "
                              "resumed run cannot read again from where it stopped; run "
                              "the job whole again, with --overwrite in place of --resume")
        if args.limit is not None:
            if args.limit < 0:
                raise ConfigError(f"--limit: must be at least 0, not {args.limit}")
            job = replace(job, corpus=replace(job.corpus, limit=args.limit))
        if args.output or args.overwrite:
            output = replace(job.output, path=args.output or job.output.path,
                             overwrite=job.output.overwrite or args.overwrite)
            job = replace(job, output=output)
        if getattr(args, "resume", False) and job.output.path == STDOUT:
            raise ConfigError("--resume: the output is standard output (-), which keeps "
                              "nothing to resume from; run again without --resume, or "
                              "write to a file")
        top = getattr(args, "top", None)
        if top is not None:
            if top < 1:
                raise ConfigError(f"--top: must be at least 1, not {top}")
            if not job.task.counts:
                raise ConfigError(f"--top: only a count's output keeps the top N; task "
                                  f"{job.task.name} writes every item")
            job = replace(job, output=replace(job.output, top=top))
    return job


def _command_line_specs(
    args: argparse.Namespace, allow_insecure_socket: bool = False,
    min_gateways: int | None = None,
) -> GatewaySpecs:
    """The gateways of ``--specs`` and ``--hosts`` together; raises ConfigError."""
    entries: list[Any] = list(args.specs or [])
    if args.hosts:
        try:
            entries += read_hosts_file(args.hosts, allow_insecure_socket)
        except ConfigError as exc:
            raise ConfigError(f"--hosts: {exc}") from None
    try:
        specs = parse_specs(entries, allow_insecure_socket=allow_insecure_socket)
    except ConfigError as exc:
        raise ConfigError(f"--specs: {exc}") from None
    return with_min_gateways(specs, min_gateways)


def _command_line_dask(value: str, given: DaskTarget | None) -> DaskTarget:
    """``--dask``: a scheduler's address, or ``local:N``, in place of the job's
    cluster; the job's ``dask`` ``allow_insecure``, ``security`` and
    ``start_timeout`` still apply."""
    base = given or DaskTarget()
    if value.startswith("local:") or value == "local":
        count = value.partition(":")[2] or "0"
        if not count.isdigit() or int(count) < 1:
            raise ConfigError(f"--dask: {value!r}: local:N needs a number of worker "
                              f"processes, 1 or more")
        return replace(base, scheduler=None, local=int(count), slurm=None)
    try:
        check_address(value, base.allow_insecure, base.security is not None)
    except ConfigError as exc:
        raise ConfigError(f"--dask: {str(exc).removeprefix('dask.scheduler: ')}") from None
    return replace(base, scheduler=value, local=None, slurm=None)


@contextlib.contextmanager
def _progress(quiet: bool, total: int | None) -> Iterator[Any]:
    """A tqdm bar on stderr, only on a terminal: in a log it is noise around the
    summary.

    It shows an ETA once the total is known or estimated: known without reading
    (a limit, one item per file), or, where the workers read the corpus, estimated
    from the bytes of the shards done (:func:`_retotal`).  Otherwise the count and
    rate.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    # No monitor thread (the bar redraws on updates anyway): while the driver runs
    # one thread, its gateways' fork server can be forked from it (see forks.py).
    tqdm.monitor_interval = 0
    bar = tqdm(total=total, unit=" sent", file=sys.stderr, mininterval=0.5,
               dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def _retotal(bar: Any, total: int) -> None:
    """Give the bar the run's estimated total (never below the count so far)."""
    bar.total = max(total, bar.n)
    bar.refresh()


def _summary(summary: RunSummary) -> None:
    words = f", {summary.tokens:,} tokens" if summary.tokens is not None else ""
    resumed = f" after {summary.resumed_from:,} written before" if summary.resumed_from else ""
    _say(f"{summary.items:,} items{words}{resumed} in {summary.seconds:.2f} s "
         f"({summary.items_per_second:,.0f} items/s) -> {_shown(summary.output)}")
    if summary.chosen_view is not None:
        print(f"  view: {summary.chosen_view}, chosen for the task (the job gives none)",
              file=sys.stderr)
    if summary.counted is not None:
        print(f"  counted: {summary.counted}", file=sys.stderr)
    for line in gateway_lines(summary.gateways):
        print(line, file=sys.stderr)
    if summary.read_by != "workers":
        print(f"  the corpus was read by the driver: {summary.read_by}", file=sys.stderr)
    restarts = "  ".join(f"{g}: {n}" for g, n in summary.restarts.items() if n)
    if restarts:
        print(f"  gateways restarted: {restarts}", file=sys.stderr)
    if summary.failures:
        shown = ", ".join(f"{f.index}" for f in summary.failures[:10])
        more = ", ..." if len(summary.failures) > 10 else ""
        listed = (f"listed in {summary.errors_path}" if summary.errors_path
                  else "not listed in a file beside standard output")
        print(f"  {len(summary.failures):,} items failed (indexes {shown}{more}); {listed}",
              file=sys.stderr)
    if summary.report is not None:
        print(f"  report: {summary.report}", file=sys.stderr)


def _shown(path: str) -> str:
    """An output path as messages name it."""
    return "standard output" if path == STDOUT else path


# -- listings and checks ----------------------------------------------------------


def cmd_tasks(args: argparse.Namespace, result: _Result) -> int:
    from .tasks import FAMILIES, family

    for name in FAMILIES:
        module = family(name)
        print(f"{name}: {module.SUMMARY}")
        for option, text in module.OPTIONS.items():
            print(f"    {option}: {text}")
    print("module: a user's pure remote module (task.module: dotted.name), batched or "
          "seed-style\n    options: passed to the module's setup(options)")
    return 0


def cmd_corpora(args: argparse.Namespace, result: _Result) -> int:
    from .corpus import installed_corpora

    for name, views in installed_corpora():
        print(f"{name}: {', '.join(views)}")
    return 0


def cmd_check(args: argparse.Namespace, result: _Result) -> int:
    """Start every gateway and print one line each; 1 when any did not start."""
    target: DaskTarget | None = None
    if args.job:
        job = _load(args)
        specs: GatewaySpecs = job.specs
        target = job.dask
    elif args.dask:
        target = _command_line_dask(args.dask, None)
    elif args.specs or args.hosts:
        specs = _command_line_specs(args)
    else:
        specs = parse_specs(None)
    if target is not None:
        with DaskPool(target) as dask:
            for info in dask.describe():
                print(_describe(info))
        return 0
    pool = GatewayPool(specs, min_gateways=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GatewayWarning)  # the failures are listed below
        pool.start()
    with pool:
        for info in pool.describe():
            print(_describe(info))
        for failure in pool.failures:
            reason = str(failure).removeprefix(f"gateway {failure.spec}: ")
            print(f"{failure.spec}: not started: {reason}")
    return 1 if pool.failures else 0


def _describe(info: dict) -> str:
    ours = local_nltk_version()
    nltk = f"NLTK {info['nltk']}" if info["nltk"] else "NLTK not installed"
    if info["nltk"] != ours and ours is not None:
        nltk += f" (this driver has {ours}: tasks that use NLTK refuse this gateway)"
    python = f"Python {info['python']}"
    if info.get("executable"):
        python += f" ({info['executable']})"
    return (f"{info['gateway']}: host {info['host']}, {python}, {nltk}, "
            f"{info['cpus']} cores, round trip {info['rtt_ms']:.2f} ms")


def cmd_data(args: argparse.Namespace, result: _Result) -> int:
    from .data import install

    for line in install(args.names, mirror=args.mirror, directory=args.dir):
        print(line)
    return 0


# -- the parser -------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace, _Result], int],
                commands: Any = sub) -> argparse.ArgumentParser:
        text, epilog = COMMANDS[name]
        p = commands.add_parser(name.split()[-1], help=text, description=text, epilog=epilog,
                                formatter_class=raw)
        p.set_defaults(command=func)
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        return p

    for name, func in (("run", cmd_run), ("validate", cmd_validate)):
        p = command(name, func)
        p.add_argument("job", help="the job's YAML file")
        _gateway_options(p, "replacing the job's specs and hosts_file")
        p.add_argument("--limit", type=int, metavar="N", help="process at most N items")
        p.add_argument("--output", metavar="PATH",
                       help="write here instead of the job's output.path (- for standard "
                            "output)")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
        p.add_argument("--top", type=int, metavar="N",
                       help="a count writes its N most frequent (per condition) or N best "
                            "collocations (replacing output.top)")
        if name == "run":
            p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
            p.add_argument("--resume", action="store_true",
                           help="continue an interrupted run from its checkpoint "
                                "(a no-op when the output is complete)")
            p.add_argument("--report", metavar="PATH",
                           help="write the run report here instead of beside the "
                                "output (OUTPUT.report.json)")
    command("tasks", cmd_tasks)
    command("corpora", cmd_corpora)
    p = command("check", cmd_check)
    p.add_argument("job", nargs="?", help="check this job's gateways")
    _gateway_options(p, "instead of a job's (default: one popen per core)")
    p.set_defaults(limit=None, output=None, overwrite=False, top=None)
    data = sub.add_parser("data", help="install NLTK data",
                          description="install NLTK data where NLTK finds it",
                          epilog=COMMANDS["data install"][1], formatter_class=raw)
    p = command("data install", cmd_data, data.add_subparsers(
        title="data commands", required=True, metavar="COMMAND"))
    p.add_argument("names", nargs="+", metavar="NAME", help="package, e.g. punkt_tab")
    p.add_argument("--from", dest="mirror", metavar="DIR",
                   help="install from a local mirror (a directory with index.xml)")
    p.add_argument("--dir", help="install into this NLTK data directory "
                                 "(default: NLTK's own choice)")
    return parser


def _gateway_options(parser: argparse.ArgumentParser, which: str) -> None:
    parser.add_argument("--specs", nargs="+", metavar="SPEC",
                        help=f"gateway specs {which}, e.g. 2*popen ssh=host 'auto*ssh=node1'")
    parser.add_argument("--hosts", metavar="FILE",
                        help=f"a hosts file, one 'SPEC [COUNT]' per line, {which}")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help=f"run on a Dask cluster {which}: its scheduler's address "
                             f"(tcp://127.0.0.1:8786, tls://host:8786) or local:N (N "
                             f"worker processes here)")
