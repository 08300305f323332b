"""Shared fixtures: NLTK data from ../shared, and a no-orphans check on every test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_NLTK_DATA = ROOT.parent / "shared" / "nltk_data"
os.environ.setdefault("NLTK_DATA", str(SHARED_NLTK_DATA))


def live_children() -> list[psutil.Process]:
    """This process's descendants that are still running (zombies excluded)."""
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            pass
    return alive


def workers(pids: list[int]) -> list[int]:
    """Those of ``pids`` that are workers, leaving out fork servers."""
    found = []
    for pid in pids:
        try:
            if psutil.Process(pid).name() != "nlp-forkserver":
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def sigint_as_at_a_terminal() -> None:
    """For ``preexec_fn``: a child that Ctrl-C reaches, even when the tests run as a
    background job of a non-interactive shell, whose children inherit SIGINT ignored
    (Python then leaves it ignored instead of raising KeyboardInterrupt)."""

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to exit; return those still running."""
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def start_driver(job: Path, *args: str) -> subprocess.Popen:
    """``nlp-parallel run JOB --quiet ARGS`` as a process of its own, Ctrl-C reaching it."""
    return subprocess.Popen(
        [sys.executable, "-m", "nlp_parallel", "run", str(job), "--quiet", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_as_at_a_terminal,
    )


def killing_a_worker(children: Callable[[], list[int]], after: int
                     ) -> tuple[Callable[[int], None], list[int]]:
    """A ``progress`` callback that SIGKILLs one worker (found among ``children()``)
    once ``after`` items are written, and the list it puts that worker's pid in."""
    killed: list[int] = []
    written = 0

    def progress(count: int) -> None:
        nonlocal written
        written += count
        if not killed and written >= after:
            killed.append(workers(children())[0])
            os.kill(killed[0], signal.SIGKILL)

    return progress, killed


def gated_job(tmp_path: Path, read: str, gate: Path, first: str, limit: int = 20_000,
              where: str = "specs: [[popen, 2]]") -> Path:
    """A job over brown's sentences whose task (``remote_modules.gated``, copied
    beside the job, where a driver of its own finds it) waits at file ``first``
    while ``gate`` exists, writing ``gated.jsonl``: a run stopped there is stopped
    mid-run, however fast the machine."""
    shutil.copyfile(Path(__file__).parent / "remote_modules" / "gated.py",
                    tmp_path / "gated_task.py")
    path = tmp_path / "gated.yaml"
    path.write_text("\n".join([
        f"corpus: {{name: brown, view: sents, limit: {limit}}}",
        "task:",
        "  name: module",
        "  module: gated_task",
        f"  options: {{gate: {gate}, from: {first}}}",
        where,
        f"read: {read}",
        f"output: {{path: {tmp_path / 'gated.jsonl'}}}",
        ""]))
    return path


def checkpointed(output: Path) -> int:
    """Items the checkpoint beside ``output`` says are written (0 if none yet)."""
    try:
        return json.loads(Path(f"{output}.checkpoint").read_text())["items"]
    except (FileNotFoundError, ValueError):
        return 0


def interrupted(job: Path, after: int) -> None:
    """Run ``job`` in this process and stop it, as Ctrl-C does, once ``after`` items
    are written."""
    from nlp_parallel.jobs import load_job
    from nlp_parallel.runner import run_job

    written = 0

    def progress(count: int) -> None:
        nonlocal written
        written += count
        if written >= after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_job(load_job(str(job)), progress)


@pytest.fixture(autouse=True)
def no_orphans():
    """Every test must leave no worker process behind.

    Yields a function listing the pids of live processes the test itself started
    (workers of session-wide pools are not counted).
    """
    before = {p.pid for p in live_children()}

    def started() -> list[int]:
        return [p.pid for p in live_children() if p.pid not in before]

    yield started
    left = wait_gone(started(), 5.0)
    assert not left, f"worker processes left running: {left}"


@pytest.fixture
def pool2():
    """Two started popen gateways, stopped after the test."""
    from nlp_parallel import GatewayPool

    with GatewayPool([("popen", 2)]) as pool:
        yield pool


@pytest.fixture(scope="session")
def dataless_pool(tmp_path_factory):
    """Two popen workers whose NLTK finds no data at all (NLTK_DATA and HOME empty)."""
    from nlp_parallel import GatewayPool

    empty = tmp_path_factory.mktemp("no_nltk_data")
    with GatewayPool([(f"popen//env:NLTK_DATA={empty}//env:HOME={empty}", 2)]) as pool:
        yield pool


@pytest.fixture(scope="session")
def remote_python(tmp_path_factory):
    """An interpreter like a fresh cluster host's: NLTK and its dependencies only."""
    from sshd import make_remote_python

    return make_remote_python(tmp_path_factory.mktemp("remote_python"))


@pytest.fixture(scope="session")
def python_without_nltk(tmp_path_factory):
    """A real interpreter with nothing installed: a host that lacks NLTK."""
    import subprocess
    import sys

    venv = tmp_path_factory.mktemp("no_nltk")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def ssh_lab(tmp_path_factory):
    """Two real OpenSSH servers on 127.0.0.1 (hosts nlp-a and nlp-b), stopped after
    the module; skips only where OpenSSH is not installed."""
    from sshd import SshServers, missing_tools

    why = missing_tools()
    if why:
        pytest.skip(f"{why}; .ci/run installs openssh-server")
    with SshServers(tmp_path_factory.mktemp("sshd")) as lab:
        yield lab


@pytest.fixture
def data_path_restored():
    """Fails a test that leaves a directory authorized in NLTK's sandbox."""
    import nltk

    before = list(nltk.data.path)
    yield
    assert nltk.data.path == before


def corpus_of(mapping: dict, base_dir: str | Path = "."):
    """An unopened :class:`~nlp_parallel.corpus.Corpus` of a ``corpus:`` mapping."""
    from nlp_parallel.corpus import open_corpus, parse_corpus

    return open_corpus(parse_corpus(mapping, base_dir=str(base_dir)))
