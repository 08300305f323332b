"""The run report: what a completed run did, as one JSON document.

A job's run writes ``OUTPUT.report.json`` beside its output when it completes (or
where ``--report`` says): the job's settings and their hash, the versions that
ran it, the digests of the models the workers were set up with, the corpus, the
items and tokens written, failures by type, wall and CPU time, and each
gateway's items and throughput.  A run stopped early writes none; each
checkpoint carries what the runs so far did (:class:`Totals`), so the report of a
run resumed to completion covers every run that wrote the output.

The report is written as the output is (see outputs.py): to a temporary file
beside it, made durable, and renamed into place once the output is; a symbolic
link, FIFO or device node at its path is refused before the run starts.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, OutputError
from .outputs import special_kind
from .models import DataFiles
from .settings import RawJSON

#: The version of the report's layout; grows when a field changes meaning.
REPORT_VERSION = 1
#: Keys of a step's prepared options that hold a model: weights, a trained table,
#: data read from NLTK's packages.
MODEL_KEYS = ("params", "perceptron", "chain", "chunker", "punkt", "lemmas",
              "exceptions")


@dataclass(frozen=True)
class GatewayWork:
    """What one gateway did: items it delivered, and the seconds its workers spent
    on the batches they finished, wall and CPU."""

    items: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    restarts: int = 0

    @property
    def items_per_second(self) -> float | None:
        """Its throughput while working; None when it finished no batch."""
        return self.items / self.seconds if self.seconds > 0 else None

    def plus(self, other: GatewayWork) -> GatewayWork:
        return GatewayWork(self.items + other.items, self.seconds + other.seconds,
                           self.cpu_seconds + other.cpu_seconds,
                           self.restarts + other.restarts)


@dataclass(frozen=True)
class Totals:
    """What one or more runs writing the same output did, up to a point: a
    checkpoint's, or the finished output's."""

    runs: int
    started: str | None  # when the first of them started, UTC ISO 8601 (None: unknown)
    items: int
    tokens: int | None  # None once an item is a text
    failures: Mapping[str, int]  # items left out or recorded, by error type
    wall_seconds: float
    driver_cpu_seconds: float
    gateways: Mapping[str, GatewayWork]

    @property
    def worker_cpu_seconds(self) -> float:
        return sum(g.cpu_seconds for g in self.gateways.values())

    def plus(self, later: Totals) -> Totals:
        """These runs and a later one together."""
        gateways = dict(self.gateways)
        for name, work in later.gateways.items():
            gateways[name] = gateways.get(name, GatewayWork()).plus(work)
        failures = collections.Counter(self.failures)
        failures.update(later.failures)
        tokens = (None if self.tokens is None or later.tokens is None
                  else self.tokens + later.tokens)
        return Totals(self.runs + later.runs, self.started, self.items + later.items,
                      tokens, dict(failures), self.wall_seconds + later.wall_seconds,
                      self.driver_cpu_seconds + later.driver_cpu_seconds, gateways)

    def plain(self) -> dict[str, Any]:
        """As a checkpoint keeps them: JSON data."""
        data = dataclasses.asdict(self)
        data["gateways"] = {k: dataclasses.asdict(v) for k, v in self.gateways.items()}
        return data

    @classmethod
    def from_plain(cls, data: Any) -> Totals | None:
        """:meth:`plain`'s data back; None for anything else (a checkpoint written
        before reports were, or edited by hand): the report then covers the runs
        that recorded theirs."""
        try:
            gateways = {str(k): GatewayWork(**v) for k, v in data["gateways"].items()}
            return cls(**{**data, "gateways": gateways})
        except (TypeError, KeyError, AttributeError):
            return None


class Tally:
    """This run's totals as it goes, added to those of the runs before it.

    The runner sets :attr:`items`, :attr:`tokens` and :attr:`failures` to what is
    written before each write, and :attr:`gateways` to a function returning each
    gateway's work so far, so that :meth:`now` describes exactly what a
    checkpoint taken then records.
    """

    def __init__(self, before: Totals | None = None, since: float | None = None) -> None:
        self.before = before
        self.started = utc_now()
        self._wall = time.perf_counter() if since is None else since  # perf_counter's
        self._cpu = time.process_time()
        self.items = 0
        self.tokens: int | None = 0
        self.failures: collections.Counter[str] = collections.Counter()
        self.gateways: Callable[[], Mapping[str, GatewayWork]] = dict

    def now(self) -> Totals:
        this = Totals(1, self.started, self.items, self.tokens, dict(self.failures),
                      time.perf_counter() - self._wall, time.process_time() - self._cpu,
                      dict(self.gateways()))
        return this if self.before is None else self.before.plus(this)

    def plain(self) -> dict[str, Any]:
        return self.now().plain()


def utc_now() -> str:
    """Now, UTC, ISO 8601 to the second (``2026-01-31T12:00:00Z``)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


# -- what goes in it ---------------------------------------------------------------


def job_settings(job: Any) -> dict[str, Any]:
    """A job's resolved settings as JSON data: everything that decides what a run
    does and where, command-line overrides included; not the job file's name, nor
    whether it may replace an existing output."""
    corpus = dataclasses.asdict(job.corpus)
    corpus.pop("where", None)
    dask = None
    if job.dask is not None:
        dask = {f.name: getattr(job.dask, f.name) for f in dataclasses.fields(job.dask)
                if f.name != "client"}
    settings = {
        "corpus": corpus,
        "task": dataclasses.asdict(job.task),
        # On Dask the job's gateways are not started: its cluster runs it.
        "specs": None if dask is not None else [
            {"spec": s.spec, "id": s.id, "auto": s.auto} for s in job.specs],
        "min_gateways": None if dask is not None else job.specs.min_gateways,
        "dask": dask,
        "batch_size": job.batch_size if job.batch_size is not None else "auto",
        "timeout": job.timeout,
        "on_error": job.on_error.value,
        "max_restarts": job.max_restarts,
        "read": job.read,
        "allow_insecure_socket": job.allow_insecure_socket,
        # Not overwrite: permission to replace a file, not how the run is done.
        "output": {k: v for k, v in dataclasses.asdict(job.output).items()
                   if k != "overwrite"},
    }
    plain: dict[str, Any] = json.loads(_canonical(settings))
    return plain


def settings_hash(settings: Mapping[str, Any]) -> str:
    """sha256 of the settings' canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(_canonical(settings).encode("utf-8")).hexdigest()


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, DataFiles):
        return "files:" + value.sha256()
    if isinstance(value, RawJSON):
        return value.text
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


def model_digests(options: Mapping[str, Any]) -> dict[str, str]:
    """The sha256 of each step's setup, by step (``tag``, or ``2:chunk`` in a
    pipeline), for the steps that carry a model: its weights, trained table or
    NLTK data with the step's options, as the workers got them.  Equal digests:
    the same model, set up the same way."""
    steps = options.get("steps") if isinstance(options, Mapping) else None
    if not isinstance(steps, list):
        return {}
    digests = {}
    for number, step in enumerate(steps):
        setup = step.get("options") or {}
        if not any(key in setup for key in MODEL_KEYS):
            continue
        name = step["name"] if len(steps) == 1 else f"{number}:{step['name']}"
        digest = hashlib.sha256()
        for key in sorted(setup):
            value = setup[key]
            if isinstance(value, DataFiles):  # NLTK's files, hashed unread
                text = "files:" + value.sha256()
            else:
                text = value.text if isinstance(value, RawJSON) else _canonical(value)
            for part in (key, text):
                data = part.encode("utf-8")
                digest.update(len(data).to_bytes(8, "big"))
                digest.update(data)
        digests[name] = "sha256:" + digest.hexdigest()
    return digests


def corpus_facts(plan: Any) -> dict[str, Any]:
    """The corpus a plan reads: name or path, view, files and their bytes (None
    where a file's size is not known, as for a reader's code-defined list)."""
    spec = plan.corpus.spec
    facts: dict[str, Any] = {"name": spec.name, "path": spec.path, "format": spec.format,
                             "view": spec.view, "files": None, "bytes": None}
    try:
        source = plan.corpus.source()
        fileids = list(source.fileids)
        facts["files"] = len(fileids)
        facts["bytes"] = sum(source.reader.abspath(f).file_size() for f in fileids)
    except (AttributeError, TypeError, ValueError, OSError):  # not a reader of files
        pass
    return facts


def versions() -> dict[str, str]:
    """The toolkit's, NLTK's and Python's versions, as the driver has them (every
    worker has the driver's NLTK: a task refuses another)."""
    import nltk

    from . import __version__  # here: the package imports what imports this module

    return {"nlp_parallel": __version__, "nltk": nltk.__version__,
            "python": platform.python_version()}


def build_report(job: Any, plan: Any, totals: Totals, *, read_by: str,
                 output: str | None, errors: str | None,
                 counted: str | None = None) -> dict[str, Any]:
    """The report of a completed run: ``totals`` are those of every run that
    wrote the output."""
    settings = job_settings(job)
    wall = totals.wall_seconds
    gateways = {name: {"items": work.items, "seconds": round(work.seconds, 6),
                       "cpu_seconds": round(work.cpu_seconds, 6),
                       "items_per_second": _rounded(work.items_per_second),
                       "restarts": work.restarts}
                for name, work in sorted(totals.gateways.items(), key=lambda kv: _natural(kv[0]))}
    return {
        "report_version": REPORT_VERSION,
        "status": "complete",
        "output": output,
        "errors": errors,
        "settings": settings,
        "settings_hash": "sha256:" + settings_hash(settings),
        "versions": versions(),
        "models": model_digests(plan.options),
        "corpus": corpus_facts(plan),
        "read_by": read_by,
        "items": totals.items,
        "tokens": totals.tokens,
        "failures": {"total": sum(totals.failures.values()),
                     "by_type": dict(sorted(totals.failures.items()))},
        "counted": counted,
        "runs": totals.runs,
        "resumed": totals.runs > 1,
        "started": totals.started,
        "finished": utc_now(),
        "wall_seconds": round(wall, 6),
        "cpu_seconds": {"driver": round(totals.driver_cpu_seconds, 6),
                        "workers": round(totals.worker_cpu_seconds, 6)},
        "items_per_second": _rounded(totals.items / wall if wall > 0 else None),
        "restarts": sum(w.restarts for w in totals.gateways.values()),
        "gateways": gateways,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _natural(name: str) -> tuple[Any, ...]:
    """``gw2`` before ``gw10``, ``gw0`` before ``gw0.1`` (a hub's gateways)."""
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return (name.rstrip("0123456789."), tuple(map(int, digits)), name)


# -- where it goes -----------------------------------------------------------------


def report_path(job: Any, given: str | None) -> str | None:
    """Where a run's report goes: ``given`` (``--report``), else beside the output;
    none for an output on standard output without ``--report``.  Raises
    :class:`ConfigError` for ``--report -``."""
    if given == "-":
        raise ConfigError("--report: the report is written to a file, not to standard "
                          "output (-); give it a path")
    if given is not None:
        return given
    if job.output.path == "-":
        return None
    return job.output.path + ".report.json"


class ReportFile:
    """A report's file: checked before the run, written to a temporary file
    beside it (made durable) before the output is committed, and renamed into
    place after.  ``output`` names the output for messages when the report goes
    beside it (no ``--report``)."""

    def __init__(self, path: str, where: str = "--report", output: str | None = None) -> None:
        self.path = os.path.abspath(path)
        self.shown = path
        self.where = where
        self.output = output
        directory, name = os.path.split(self.path)
        self.temp = os.path.join(directory, f".{name}.tmp")

    def check(self, taken: Iterable[str] = ()) -> None:
        """Raise :class:`ConfigError` when the report cannot be written: its path is
        one of ``taken`` (the output and the files the run writes beside it), it or
        its temporary file is not a regular file, or its directory is not
        writable."""
        if self.path in {os.path.abspath(p) for p in taken}:
            raise ConfigError(f"{self.where}: {self.shown} is a file the run writes its "
                              f"output to; give the report a path of its own")
        for path in (self.path, self.temp):
            kind = special_kind(path)
            if not kind:
                continue
            shown = os.path.join(os.path.dirname(self.shown), os.path.basename(path))
            if self.output is not None:
                raise ConfigError(
                    f"{self.where}: {shown}, which a run writes beside {self.output}, is "
                    f"{kind}, not a regular file; move it away, or put the report "
                    f"elsewhere with --report")
            raise ConfigError(
                f"{self.where}: {shown} is {kind}, not a regular file; write the "
                f"report to a regular file or a path that does not exist yet")
        parent = os.path.dirname(self.path)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{self.where}: cannot write {self.shown}: {parent} is not a "
                              f"writable directory")

    def prepare(self, report: Mapping[str, Any]) -> None:
        """Write ``report`` to the temporary file, durably.  Raises
        :class:`~nlp_parallel.errors.OutputError` naming the file."""
        self.discard()  # left by a driver killed while it wrote one
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o666)
            with open(fd, "w", encoding="utf-8") as f:
                json.dump(report, f, ensure_ascii=False, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            self.discard()
            raise OutputError(self.shown, exc) from exc

    def commit(self) -> None:
        """Put the prepared report in place; a special file that appeared at the
        path meanwhile is left as it is (raises :class:`ConfigError`)."""
        try:
            self.check()
            os.replace(self.temp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass


# -- on the terminal ---------------------------------------------------------------

#: Past this many gateways, the summary shows the slowest and fastest few.
MANY_GATEWAYS = 8
#: How many of the slowest and of the fastest it shows then.
SHOWN_GATEWAYS = 3


def gateway_lines(gateways: Mapping[str, GatewayWork], many: int = MANY_GATEWAYS,
                  shown: int = SHOWN_GATEWAYS) -> list[str]:
    """The summary's lines about the gateways: one line of each gateway's items
    for up to ``many`` gateways; past that, a small table of the ``shown``
    slowest and fastest by throughput, and how many others there were and their
    median throughput."""
    if len(gateways) <= many:
        per = "  ".join(f"{g}: {w.items:,}" for g, w in gateways.items())
        return [f"  per gateway: {per}"]
    ranked = sorted(gateways.items(), key=lambda kv: (_speed(kv[1]), _natural(kv[0])))
    slowest, fastest = ranked[:shown], ranked[-shown:][::-1]
    others = ranked[shown:-shown]
    width = max(len(g) for g, _ in slowest + fastest)
    lines = [f"  per gateway ({len(gateways):,} gateways, by items/s while working):"]
    for title, rows in (("slowest", slowest), ("fastest", fastest)):
        for rank, (name, work) in enumerate(rows):
            label = title if rank == 0 else ""
            lines.append(f"    {label:<8}{name:<{width}}  {work.items:>10,} items  "
                         f"{_rate(work.items_per_second):>9} items/s")
    if others:
        rates = [w.items_per_second for _, w in others if w.items_per_second is not None]
        median = _rate(statistics.median(rates)) if rates else "-"
        items = sum(w.items for _, w in others)
        lines.append(f"    and {len(others):,} others: {items:,} items, median "
                     f"{median} items/s")
    return lines


def _speed(work: GatewayWork) -> float:
    rate = work.items_per_second
    return -1.0 if rate is None else rate


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def gateway_work(counts: Mapping[str, int], work: Mapping[str, tuple[float, float]],
                 restarts: Mapping[str, int]) -> dict[str, GatewayWork]:
    """Each gateway's work, from a session's counts, work and restarts."""
    names: Iterable[str] = dict.fromkeys([*counts, *work, *restarts])
    return {name: GatewayWork(counts.get(name, 0), *work.get(name, (0.0, 0.0)),
                              restarts.get(name, 0)) for name in names}
