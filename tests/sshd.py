"""Throwaway OpenSSH servers on 127.0.0.1, and a "remote" Python, for tests and benchmarks.

::

    with SshServers(tmp_dir) as lab:                     # keys, configs, sshd -D children
        spec = lab.spec("nlp-a", python=remote_python)   # ssh=nlp-a//ssh_config=...//python=...
        ...

Each server has its own host key and, where this process may create a UTS namespace
(root with ``unshare``), its own host name, so workers reached through it report
``nlp-a`` or ``nlp-b`` as their host.  One client key logs in to all of them.  The
client ``ssh_config`` also names two hosts that cannot be used: ``nlp-down``, a closed
port (ssh fails at once), and ``nlp-silent``, a port that accepts connections but never
speaks SSH (ssh gives up after ``SILENT_TIMEOUT`` seconds, its ``ConnectTimeout``).

Imports only the standard library, so benchmark scripts can use it too.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from types import TracebackType

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
#: ssh's ConnectTimeout for the hosts that work.
CONNECT_TIMEOUT = 10
#: ssh's ConnectTimeout for nlp-silent.
SILENT_TIMEOUT = 2
#: What NLTK needs at run time; a remote Python gets these and nothing else.
NLTK_RUNTIME = ("nltk", "regex", "click", "joblib", "tqdm")


def missing_tools() -> str | None:
    """Why no server can run here, or None when sshd and ssh-keygen are installed."""
    missing = [p for p in (SSHD, SSH_KEYGEN, shutil.which("ssh")) if not p or not os.access(p, os.X_OK)]
    if missing:
        return f"OpenSSH is not installed ({', '.join(str(m) for m in missing)} missing)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SshServers:
    """sshd servers, one per host name, and the client configuration reaching them.

    Start with :meth:`start` (or ``with``); :meth:`stop` ends every server and waits
    for it.  Raises RuntimeError when a server does not come up.
    """

    def __init__(self, directory: Path, hosts: tuple[str, ...] = ("nlp-a", "nlp-b")) -> None:
        self.dir = Path(directory)
        self.hosts = hosts
        self.ssh_config = self.dir / "ssh_config"
        self.client_key = self.dir / "client_key"
        self.ports: dict[str, int] = {}
        self.hostnames: dict[str, str] = {}
        self._processes: list[subprocess.Popen] = []
        self._logs: list = []
        self._silent: socket.socket | None = None

    def __enter__(self) -> SshServers:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def spec(self, host: str, python: str | os.PathLike | None = None, *extra: str) -> str:
        """An execnet spec reaching ``host`` through this configuration."""
        keys = [f"ssh={host}", f"ssh_config={self.ssh_config}"]
        if python is not None:
            keys.append(f"python={python}")
        return "//".join([*keys, *extra])

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        _keygen(self.client_key)
        (self.dir / "authorized_keys").write_text(self.client_key.with_suffix(".pub").read_text())
        self._silent = socket.socket()
        self._silent.bind(("127.0.0.1", 0))
        self._silent.listen(16)  # the kernel accepts; nobody ever answers
        try:
            for host in self.hosts:
                self._start_server(host)
        except BaseException:
            self.stop()
            raise
        self._write_client_config()

    def stop(self) -> None:
        """End every server and wait for it; close the silent port."""
        for proc in self._processes:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._silent is not None:
            self._silent.close()
            self._silent = None

    def log(self, host: str) -> str:
        return (self.dir / f"sshd-{host}.log").read_text(errors="replace")

    def _start_server(self, host: str) -> None:
        host_key = self.dir / f"host_key_{host}"
        _keygen(host_key)
        port = free_port()
        config = self.dir / f"sshd_config_{host}"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {port}",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            f"PidFile {self.dir / f'sshd_{host}.pid'}",
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "",
        ]))
        command = [SSHD, "-D", "-e", "-f", str(config)]
        if os.geteuid() == 0 and shutil.which("unshare"):
            # its own UTS namespace: the "host" has its own name, as a real one would
            command = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host, *command]
            self.hostnames[host] = host
        else:
            self.hostnames[host] = socket.gethostname()
        log = open(self.dir / f"sshd-{host}.log", "wb")
        self._logs.append(log)
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self._processes.append(proc)
        self.ports[host] = port
        wait_listening(port, proc, lambda: self.log(host))

    def _write_client_config(self) -> None:
        closed = free_port()  # nothing listens there
        assert self._silent is not None
        silent = self._silent.getsockname()[1]
        blocks = [("nlp-down", closed, CONNECT_TIMEOUT), ("nlp-silent", silent, SILENT_TIMEOUT)]
        blocks += [(host, port, CONNECT_TIMEOUT) for host, port in self.ports.items()]
        lines = []
        for alias, port, timeout in blocks:
            lines += [
                f"Host {alias}",
                "  HostName 127.0.0.1",
                f"  Port {port}",
                f"  User {getpass.getuser()}",
                f"  IdentityFile {self.client_key}",
                "  IdentitiesOnly yes",
                "  StrictHostKeyChecking no",
                "  UserKnownHostsFile /dev/null",
                "  BatchMode yes",
                "  LogLevel ERROR",
                f"  ConnectTimeout {timeout}",
                "",
            ]
        self.ssh_config.write_text("\n".join(lines))


def _keygen(path: Path) -> None:
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


def wait_listening(port: int, proc: subprocess.Popen, log, seconds: float = 10.0) -> None:
    """Return once ``port`` accepts connections; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with status {proc.returncode}:\n{log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)  # no event to wait on: sshd says nothing when it listens
    raise RuntimeError(f"sshd did not listen on port {port} within {seconds:g} s:\n{log()}")


def make_remote_python(directory: Path) -> Path:
    """A Python like a fresh cluster host's: NLTK and its dependencies, nothing else.

    A venv without pip whose site-packages holds a ``.pth`` naming a directory of
    links to ``NLTK_RUNTIME`` (package and metadata) from this interpreter, so
    ``import nltk`` works and reports the same version, while ``import nlp_parallel``
    and ``import execnet`` fail.  Returns its interpreter.
    """
    directory = Path(directory)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory / "venv")],
                   check=True)
    links = directory / "packages"
    links.mkdir()
    for name in NLTK_RUNTIME:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        package = Path(list(spec.submodule_search_locations)[0])
        (links / name).symlink_to(package)
        info = Path(str(metadata.distribution(name).locate_file(""))).glob(f"{name}-*.dist-info")
        for path in info:
            (links / path.name).symlink_to(path)
    site = next((directory / "venv" / "lib").glob("python3*/site-packages"))
    (site / "nltk_only.pth").write_text(f"{links}\n")
    return directory / "venv" / "bin" / "python"
