"""Run a job's workers on a Dask cluster: an existing scheduler, a local cluster of
worker processes, or Dask workers started as Slurm jobs (dask-jobqueue).

The engine does not change: a :class:`DaskPool` offers what a
:class:`~nlp_parallel.gateways.GatewayPool` offers, one gateway per thread of the
cluster's workers.  Such a gateway opens a channel whose messages travel as Dask
tasks (:mod:`nlp_parallel.dask_worker` runs them in child processes on the Dask
workers), so ordered writing, ``on_error``, poison isolation, timeouts, resume
and the summary are the engine's own, as on execnet gateways.

A Dask scheduler runs whatever a client sends it, like execnet's socket server: a
plain ``tcp://`` scheduler must be on loopback unless the job says
``allow_insecure: true``; ``tls://`` takes Dask's TLS settings (``security``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from .errors import ConfigError, GatewayStartError
from .options import reject_unknown_keys
from .specs import GatewaySpec, _is_loopback
from .starting import Gateway

#: How to install what a Dask run needs.
EXTRA = "pip install 'nlp_parallel[dask]'"

DASK_KEYS = ("scheduler", "local", "slurm", "allow_insecure", "security", "start_timeout")
#: Seconds a run waits for its Dask workers, unless the job says (``start_timeout``):
#: Slurm jobs may queue for a while first.
START_TIMEOUT = 60.0
SLURM_START_TIMEOUT = 1800.0
SECURITY_KEYS = ("ca_file", "cert", "key")
#: dask-jobqueue's SLURMCluster keywords a job may give, and ``jobs``.
SLURM_KEYS = ("jobs", "cores", "processes", "memory", "walltime", "queue", "account",
              "interface", "job_extra_directives", "job_script_prologue", "local_directory",
              "log_directory", "python", "shared_temp_directory")

#: Why a plain-tcp scheduler off loopback is refused unless the job allows it.
INSECURE = ("a Dask scheduler runs any code a client sends it, and plain tcp:// lets "
            "anyone on the network be that client")


@dataclass(frozen=True)
class DaskTarget:
    """Where a job runs on Dask: exactly one of ``scheduler`` (an address),
    ``local`` (worker processes of a :class:`LocalCluster`), ``slurm`` (keywords of
    dask-jobqueue's ``SLURMCluster``, and ``jobs``) or ``client`` (a started
    ``dask.distributed.Client``, from Python)."""

    scheduler: str | None = None
    local: int | None = None
    slurm: Mapping[str, Any] | None = None
    allow_insecure: bool = False
    security: Mapping[str, str] | None = None
    #: Seconds to wait for the workers; None: :data:`START_TIMEOUT`, or
    #: :data:`SLURM_START_TIMEOUT` for Slurm.
    start_timeout: float | None = None
    client: Any = field(default=None, compare=False)

    @property
    def wait(self) -> float:
        """Seconds a run waits for the cluster's workers."""
        if self.start_timeout is not None:
            return self.start_timeout
        return SLURM_START_TIMEOUT if self.slurm is not None else START_TIMEOUT

    def __str__(self) -> str:
        if self.client is not None:
            return f"Dask client of {self.client.scheduler.address}"
        if self.scheduler is not None:
            return f"Dask scheduler {self.scheduler}"
        if self.local is not None:
            return f"local Dask cluster of {self.local} worker{'s' * (self.local != 1)}"
        assert self.slurm is not None
        jobs = self.slurm.get("jobs", 1)
        return f"Slurm: {jobs} job{'s' * (jobs != 1)} of Dask workers"


def require() -> None:
    """Raise a one-line :class:`ConfigError` when Dask is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(f"dask: running on Dask needs dask and distributed: {EXTRA}") from None


def parse_target(value: Any, base_dir: str = ".") -> DaskTarget:
    """The job's ``dask:`` mapping (or an address); raises :class:`ConfigError`
    ``dask...: ...`` naming the key, or naming the extra to install when Dask
    is not installed."""
    require()
    if isinstance(value, str):
        value = {"scheduler": value}
    if not isinstance(value, Mapping):
        raise ConfigError(f"dask: expected a mapping with one of scheduler, local or slurm, "
                          f"not {type(value).__name__}")
    reject_unknown_keys(value, DASK_KEYS, "dask.")
    given = [key for key in ("scheduler", "local", "slurm") if key in value]
    if len(given) != 1:
        raise ConfigError("dask: give exactly one of scheduler (an address such as "
                          "tcp://127.0.0.1:8786), local (a number of worker processes) "
                          f"or slurm (SLURMCluster's keys){'; not ' + ' and '.join(given) if given else ''}")
    allow = value.get("allow_insecure", False)
    if not isinstance(allow, bool):
        raise ConfigError(f"dask.allow_insecure: expected true or false, not {allow!r}")
    security = _security(value.get("security"), base_dir)
    wait = value.get("start_timeout")
    if wait is not None and (isinstance(wait, bool) or not isinstance(wait, (int, float))
                             or wait <= 0):
        raise ConfigError(f"dask.start_timeout: expected a number of seconds above 0, "
                          f"not {wait!r}")
    target = DaskTarget(allow_insecure=allow, security=security, start_timeout=wait)
    if "scheduler" in value:
        address = value["scheduler"]
        check_address(address, allow, security is not None)
        return dataclasses.replace(target, scheduler=address)
    if "local" in value:
        count = value["local"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"dask.local: expected a number of worker processes (1 or more), "
                              f"not {count!r}")
        return dataclasses.replace(target, local=count)
    return dataclasses.replace(target, slurm=_slurm(value["slurm"], base_dir))


def check_address(address: Any, allow_insecure: bool = False, tls: bool = False) -> None:
    """Refuse what is not a scheduler address, and a plain-tcp one off loopback
    unless ``allow_insecure``."""
    if not isinstance(address, str) or "://" not in address:
        raise ConfigError(f"dask.scheduler: expected an address such as "
                          f"tcp://127.0.0.1:8786 or tls://host:8786, not {address!r}")
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        raise ConfigError(f"dask.scheduler: {address!r}: expected tcp://HOST:PORT or "
                          f"tls://HOST:PORT")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ConfigError(f"dask.scheduler: {address!r}: the port is not a number") from None
    if parts.scheme == "tls" and not tls:
        raise ConfigError(f"dask.security: {address!r} is tls://; give security: "
                          f"{{ca_file, cert, key}} (the PEM files of the cluster's TLS setup)")
    if parts.scheme == "tcp" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ConfigError(f"dask.scheduler: refusing {address}, which is not loopback: "
                          f"{INSECURE}; use a tls:// scheduler with security: {{ca_file, cert, "
                          f"key}}, or, on a network you trust, set allow_insecure: true "
                          f"under dask")


def _security(value: Any, base_dir: str) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"dask.security: expected a mapping of {', '.join(SECURITY_KEYS)}, "
                          f"not {value!r}")
    reject_unknown_keys(value, SECURITY_KEYS, "dask.security.")
    files = {}
    for key in SECURITY_KEYS:
        path = value.get(key)
        if not isinstance(path, str) or not path:
            raise ConfigError(f"dask.security.{key}: expected a PEM file's path, not {path!r}")
        path = os.path.join(base_dir, os.path.expanduser(path))
        if not os.path.isfile(path):
            raise ConfigError(f"dask.security.{key}: {path} is not a file")
        files[key] = path
    return files


def _slurm(value: Any, base_dir: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"dask.slurm: expected a mapping of SLURMCluster's keys "
                          f"({', '.join(SLURM_KEYS)}), not {value!r}")
    reject_unknown_keys(value, SLURM_KEYS, "dask.slurm.")
    for key in ("jobs", "cores", "processes"):
        number = value.get(key, 1)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ConfigError(f"dask.slurm.{key}: expected a whole number, 1 or more, "
                              f"not {number!r}")
    if "cores" not in value or "memory" not in value:
        raise ConfigError("dask.slurm: needs cores (per job) and memory (per job, e.g. 4GB)")
    if value.get("processes", 1) > value["cores"]:
        raise ConfigError(f"dask.slurm.processes: {value['processes']} is more than the "
                          f"job's cores ({value['cores']})")
    for key in ("memory", "walltime", "queue", "account", "interface", "local_directory",
                "log_directory", "python", "shared_temp_directory"):
        if key in value and (not isinstance(value[key], str) or not value[key]):
            raise ConfigError(f"dask.slurm.{key}: expected text, not {value[key]!r}")
    for key in ("job_extra_directives", "job_script_prologue"):
        lines = value.get(key, [])
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ConfigError(f"dask.slurm.{key}: expected a list of lines, not {lines!r}")
    settings = dict(value)
    # Where the temporary TLS credentials go for the workers to read: a shared
    # file system, as the job's own directory usually is on a cluster.
    settings.setdefault("shared_temp_directory", base_dir)
    for key in ("local_directory", "log_directory", "shared_temp_directory"):
        if key in settings:
            settings[key] = os.path.join(base_dir, os.path.expanduser(settings[key]))
    return settings


def target_of(specs: Any) -> DaskTarget | None:
    """The Dask target research code gives where it gives gateway specs: a
    ``dask.distributed.Client`` or a scheduler address (``tcp://``, ``tls://``);
    None for execnet specs."""
    if isinstance(specs, DaskTarget):
        return specs
    if isinstance(specs, str) and specs.startswith(("tcp://", "tls://")):
        check_address(specs)
        return DaskTarget(scheduler=specs)
    if type(specs).__name__ == "Client" and type(specs).__module__.startswith("distributed"):
        return DaskTarget(client=specs)
    return None


# -- the pool -----------------------------------------------------------------------


@dataclass(frozen=True)
class DaskSpec(GatewaySpec):
    """A gateway of a Dask pool: one thread of the cluster's workers.

    It holds one batch at a time: Dask may run two tasks of a gateway on two
    workers at once, and a death or a hang must be charged to the batch that
    caused it."""

    window: ClassVar[int | None] = 1
    where: str = ""
    on_this_machine: bool = False

    @property
    def local(self) -> bool:
        return self.on_this_machine

    def __str__(self) -> str:
        return f"{self.id} ({self.where})"


class DaskPool:
    """The workers of a Dask cluster as a pool of gateways, one per worker thread.

    Connects to the scheduler (or starts the cluster) on :meth:`start`, waits for
    its first workers, and stops what it started on :meth:`close` (a given client
    and its cluster are left running; the children the run set up on them stop).
    """

    def __init__(self, target: DaskTarget) -> None:
        require()
        self.target = target
        self.start_timeout = target.wait
        self.client: Any = target.client
        self.cluster: Any = None
        self._owns_client = target.client is None
        self._gateways: tuple[Gateway, ...] = ()
        self._lock = threading.Lock()
        self._setups: dict[str, Any] = {}  # digest -> scattered setup text
        #: Setups encoded so far, by the identity of their (large) options text and
        #: the rest of their fields: (options, digest, text); every gateway's channel
        #: sends the same setup, whose options may hold a model of megabytes.
        self._encoded: dict[tuple[int, str], tuple[Any, str, str]] = {}
        self._channels: dict[str, DaskChannel] = {}  # token prefix -> channel
        self._ids = itertools.count(1)
        self.topic = f"nlp_parallel-{uuid.uuid4().hex}"
        self.failures: tuple[GatewayStartError, ...] = ()

    # GatewayPool's interface ------------------------------------------------------

    def __enter__(self) -> DaskPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._gateways)

    def __iter__(self) -> Any:
        return iter(self.gateways)

    @property
    def started(self) -> bool:
        return self.client is not None and bool(self._gateways)

    @property
    def ready(self) -> bool:
        return True

    @property
    def gateways(self) -> tuple[Gateway, ...]:
        if not self._gateways:
            self.start()
        return self._gateways

    def start(self, background: bool = False) -> None:
        """Connect (or start the cluster) and wait for its first workers."""
        if self._gateways:
            return
        try:
            self._connect()
            threads = self._wait_for_workers()
        except GatewayStartError:
            self.close()
            raise
        except OSError as exc:  # distributed says "Timed out trying to connect ..."
            self.close()
            raise GatewayStartError(str(self.target), f"cannot connect: {exc}") from None
        except Exception as exc:
            self.close()
            raise GatewayStartError(str(self.target), _why(exc)) from None
        self.client.subscribe_topic(self.topic, self._on_event)
        where = str(self.target)
        local = self.target.local is not None
        self._gateways = tuple(
            Gateway(DaskSpec("dask", f"dask-{i}", where=where, on_this_machine=local),
                    cast(Any, DaskGateway(self)))
            for i in range(1, threads + 1))

    def _connect(self) -> None:
        from distributed import Client, LocalCluster

        target = self.target
        if self.client is not None:
            return
        security = _dask_security(target.security)
        if target.scheduler is not None:
            self.client = Client(target.scheduler, timeout=f"{self.start_timeout}s",
                                 security=security, set_as_default=False)
            return
        if target.local is not None:
            self.cluster = LocalCluster(n_workers=target.local, threads_per_worker=1,
                                        processes=True, host="127.0.0.1",
                                        dashboard_address=":0", silence_logs=50,
                                        security=security)
        else:
            self.cluster = _slurm_cluster(target)
        self.client = Client(self.cluster, set_as_default=False)

    def _wait_for_workers(self) -> int:
        """The threads of the workers there are (or a Slurm request asks for)."""
        slurm = self.target.slurm
        wanted = 1 if slurm is None else slurm.get("jobs", 1) * slurm.get("processes", 1)
        try:
            self.client.wait_for_workers(wanted, timeout=self.start_timeout)
        except TimeoutError:
            raise GatewayStartError(str(self.target), f"no Dask worker joined within "
                                    f"{self.start_timeout:g} s") from None
        self._check_workers()
        threads = sum(w["nthreads"] for w in
                      self.client.scheduler_info(n_workers=-1)["workers"].values())
        if slurm is not None:
            threads = max(threads, slurm.get("jobs", 1) * slurm["cores"])
        return max(threads, 1)

    def _check_workers(self) -> None:
        """Refuse workers that cannot import this package: a task of its functions
        would break such a worker's connection, and never end."""
        # Only builtins travel: eval is sent by name, the text as data.
        found = self.client.run(
            eval, "__import__('importlib').util.find_spec('nlp_parallel') is not None",
            on_error="return")
        missing = sorted(address for address, ok in found.items() if ok is not True)
        if missing:
            raise GatewayStartError(
                str(self.target), f"Dask worker {missing[0]}"
                f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''} cannot "
                f"import nlp_parallel: Dask workers need it installed ({EXTRA})")

    def restart(self, gw: Gateway) -> Gateway:
        """A new gateway in place of ``gw``, whose work is stopped."""
        old = cast(DaskGateway, gw.gateway)
        old.kill()
        return Gateway(gw.spec, cast(Any, DaskGateway(self)))

    def describe(self, pings: int = 5, timeout: float = 30.0) -> list[dict]:
        """What each Dask worker runs (the handshake its children would send) plus
        ``rtt_ms``, the median time of ``pings`` empty tasks on it."""
        import time

        from . import dask_worker

        self.start()
        client = self.client
        described = []
        for address, info in client.run(dask_worker.hello).items():
            trips = []
            for _ in range(pings):
                started = time.perf_counter()
                client.submit(dask_worker.hello, pure=False, workers=[address]).result(timeout)
                trips.append(time.perf_counter() - started)
            threads = client.scheduler_info(n_workers=-1)["workers"][address]["nthreads"]
            described.append({"gateway": f"{address} ({threads} thread"
                                         f"{'s' * (threads != 1)})", **info[1],
                              "rtt_ms": 1000 * sorted(trips)[len(trips) // 2]})
        return described

    def close(self) -> None:
        """Stop the children set up for this pool's runs; close what it started."""
        client, cluster = self.client, self.cluster
        if client is not None:
            try:
                client.unsubscribe_topic(self.topic)
            except Exception:
                pass
            if self._setups:
                from . import dask_worker

                try:
                    for digest in list(self._setups):
                        client.run(dask_worker.stop, digest, on_error="ignore")
                except Exception:  # the cluster is gone already
                    pass
        self._setups.clear()
        self._encoded.clear()
        if self._owns_client:
            self.client = None
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
            self.cluster = None
        self._gateways = ()

    # what channels need -------------------------------------------------------------

    def setup_future(self, fields: dict[str, Any]) -> tuple[str, Any]:
        """The setup message as data on every worker, sent once per worker; its
        JSON text and digest are made once per distinct setup."""
        options = fields.get("options")
        rest = json.dumps({k: v for k, v in fields.items() if k != "options"}, sort_keys=True)
        with self._lock:
            known = self._encoded.get((id(options), rest))
            if known is None:
                text = json.dumps(fields)
                # Per pool: children set up for one run are never another driver's.
                digest = f"{self.topic}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"
                known = self._encoded[(id(options), rest)] = (options, digest, text)
            _, digest, text = known
            future = self._setups.get(digest)
            if future is None or future.status in ("lost", "error", "cancelled"):
                future = self.client.scatter(text, broadcast=True, hash=False)
                self._setups[digest] = future
        return digest, future

    def channel_token(self, channel: DaskChannel) -> str:
        token = f"c{next(self._ids)}"
        with self._lock:
            self._channels[token] = channel
        return token

    def forget(self, token: str) -> None:
        with self._lock:
            self._channels.pop(token, None)

    def _on_event(self, event: Any) -> None:
        _, message = event
        prefix = str(message.get("token", "")).partition(":")[0]
        with self._lock:
            channel = self._channels.get(prefix)
        if channel is not None:
            channel.deliver(("stuck", {"seq": message["seq"], "index": message["index"]}))


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _lost(exc: BaseException) -> bool:
    """Whether a task failed because its worker or the connection went away,
    rather than because of what it ran."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    return isinstance(exc, (KilledWorker, CancelledError, OSError))


def _dask_security(files: Mapping[str, str] | None) -> Any:
    if files is None:
        return None
    from distributed.security import Security

    return Security(tls_ca_file=files["ca_file"], tls_client_cert=files["cert"],
                    tls_client_key=files["key"], require_encryption=True)


def _slurm_cluster(target: DaskTarget) -> Any:
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ConfigError(f"dask.slurm: Slurm needs dask-jobqueue: {EXTRA}") from None
    import sys

    settings = dict(target.slurm or {})
    jobs = settings.pop("jobs", 1)
    settings.setdefault("python", sys.executable)  # the workers run the driver's env
    # Workers whose scheduler (in this driver) is gone leave their Slurm jobs.
    settings.setdefault("death_timeout", 60)
    settings.setdefault("scheduler_options", {"dashboard_address": ":0"})
    settings.setdefault("job_name", "nlp-parallel")
    if target.security is not None:
        settings["security"] = _dask_security(target.security)
        settings["protocol"] = "tls://"
    elif not target.allow_insecure and not _loopback_interface(settings.get("interface")):
        settings["security"] = True  # temporary TLS credentials (needs cryptography)
    cluster = SLURMCluster(**settings)
    cluster.scale(jobs=jobs)
    return cluster


def _loopback_interface(name: str | None) -> bool:
    return name == "lo"


# -- a gateway and its channel ---------------------------------------------------------


class DaskGateway:
    """A slot of the cluster, as execnet's gateway: it opens channels."""

    def __init__(self, pool: DaskPool) -> None:
        self.pool = pool
        self.channels: list[DaskChannel] = []

    def remote_exec(self, source: str) -> DaskChannel:
        if self.pool.client is None:
            raise OSError("the Dask client is closed")
        channel = DaskChannel(self.pool)
        self.channels.append(channel)
        channel.open()
        return channel

    def kill(self) -> None:
        """Stop what this gateway's channels run: hung children are killed."""
        for channel in self.channels:
            channel.kill()


class DaskChannel:
    """A worker loop's channel whose messages run as Dask tasks.

    ``setup`` is scattered to the workers once per task and readied on one; each
    ``batch`` or ``shard`` runs as one task; ``stuck`` notes arrive as events.
    Whatever a task answers, or a child's death (then the endmarker), reaches the
    callback as a channel's messages would.
    """

    def __init__(self, pool: DaskPool) -> None:
        self.pool = pool
        self.token = pool.channel_token(self)
        self.callback: Callable[[Any], None] | None = None
        self.endmarker: Any = None
        self.closed = False
        self.digest: str | None = None
        self.setup: Any = None
        self.futures: dict[str, Any] = {}
        self._lock = threading.Lock()

    def open(self) -> None:
        from . import dask_worker

        self._submit("hello", dask_worker.hello)

    def setcallback(self, callback: Callable[[Any], None], endmarker: Any = None) -> None:
        self.callback, self.endmarker = callback, endmarker

    def send(self, message: Any) -> None:
        from . import dask_worker

        if self.closed:
            raise OSError("channel closed")
        name, fields = message
        if name == "setup":
            self.digest, self.setup = self.pool.setup_future(fields)
            self._submit("setup", dask_worker.prepare, self.digest, self.setup)
        elif name in ("batch", "shard"):
            token = f"{self.token}:{fields['seq']}"
            self._submit(token, dask_worker.run, token, self.digest, self.setup, message,
                         self.pool.topic)
        elif name == "ping":
            self.deliver(("pong", {}))
        elif name == "stop":
            self.close()

    def _submit(self, token: str, func: Callable[..., Any], *args: Any) -> None:
        client = self.pool.client
        if client is None:
            raise OSError("the Dask client is closed")
        future = client.submit(func, *args, pure=False,
                               key=f"nlp_parallel-{func.__name__}-{uuid.uuid4().hex}")
        with self._lock:
            self.futures[token] = future
        future.add_done_callback(lambda f: self._answered(token, f))

    def _answered(self, token: str, future: Any) -> None:
        with self._lock:
            self.futures.pop(token, None)
        if self.closed:
            return
        try:
            answer = future.result()
        except Exception as exc:  # KilledWorker, a lost connection, a cancelled run
            if token in ("hello", "setup") and not _lost(exc):
                # The Dask worker cannot run the toolkit (not installed there, say):
                # a setup failure, which names the worker and stops the run.
                self.deliver(("failed", {"seq": None, "index": None, "type": type(exc).__name__,
                                         "message": f"{exc} (Dask workers need nlp_parallel "
                                                    f"installed: {EXTRA})",
                                         "traceback": _why(exc)}))
                return
            self.die(_why(exc))
            return
        messages = [answer] if token in ("hello", "setup") else answer
        for message in messages:
            if message[0] == "died":
                self.die(message[1]["why"])
                return
            self.deliver(message)

    def deliver(self, message: Any) -> None:
        callback = self.callback
        if callback is not None and not self.closed:
            callback(message)

    def die(self, why: str) -> None:
        if self.closed:
            return
        self.why = why
        callback = self.callback
        self.close()
        if callback is not None:
            callback(self.endmarker)

    def kill(self) -> None:
        """Kill the children running this channel's messages; close it."""
        from . import dask_worker

        with self._lock:
            tokens = [t for t in self.futures if ":" in t]
        client = self.pool.client
        self.close()
        if tokens and client is not None:
            threading.Thread(target=_kill, args=(client, dask_worker.kill, tokens),
                             daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.pool.forget(self.token)
        with self._lock:
            futures = list(self.futures.values())
            self.futures.clear()
        for future in futures:
            try:
                future.cancel()
            except Exception:
                pass

    def isclosed(self) -> bool:
        return self.closed

    def waitclose(self, timeout: float | None = None) -> None:
        """A child's death is never a remote error of the channel."""


def _kill(client: Any, kill: Callable[[list[str]], int], tokens: list[str]) -> None:
    try:
        client.run(kill, tokens, on_error="ignore")
    except Exception:  # the cluster is gone: so are its children
        pass


__all__ = ["DaskPool", "DaskTarget", "check_address", "parse_target", "require", "target_of"]
