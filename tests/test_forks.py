"""Popen workers forked from a fork server: same results, less start-up, no leaks.

Real gateways throughout; which process is whose parent tells how a worker started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import execnet
import psutil
import pytest

import nlp_parallel
from conftest import wait_gone
from nlp_parallel import GatewayPool, GatewayStartError, RemoteTaskError, worker
from nlp_parallel.settings import encode_options
from nlp_parallel.forks import Setup
from nlp_parallel.modules import RemoteModule
from remote_modules import batched_double, pids, setup_pid


def parents(pool: GatewayPool) -> list[int]:
    """The parent pid of each gateway's worker process."""
    found = []
    for gw in pool:
        channel = gw.gateway.remote_exec("import os; channel.send(os.getppid())")
        found.append(channel.receive(10))
    return found


def test_plain_popen_workers_are_forked_and_the_others_start_fresh(tmp_path):
    specs = ["popen", "popen", f"popen//python={sys.executable}",
             f"popen//chdir={tmp_path}", "popen//env:NLP_PARALLEL_TEST=1"]
    with GatewayPool(specs, preload=("json",)) as pool:
        forked, again, *fresh = parents(pool)
        assert forked == again != os.getpid()  # both children of one fork server
        assert fresh == [os.getpid()] * 3  # interpreters this process started
        assert nlp_parallel.map(batched_double, range(1000), pool=pool) == list(range(0, 2000, 2))


SCRIPT = textwrap.dedent("""
    import json, os, sys, threading
    import psutil
    from nlp_parallel import GatewayPool

    if sys.argv[1] == "threaded":  # a process running threads must not fork
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    held = open(sys.argv[2], "w")  # the driver's own file, as an output would be
    with GatewayPool([("popen", 2)], preload=("json",)) as pool:
        workers = [gw.gateway.remote_exec("import os; channel.send(os.getpid())").receive(10)
                   for gw in pool]
        server = psutil.Process(workers[0]).parent()
        report = {
            "server_cmdline": server.cmdline(), "driver_cmdline": psutil.Process().cmdline(),
            "server_parent": server.ppid(), "driver": os.getpid(),
            "open": sorted({f.path for p in [server, *map(psutil.Process, workers)]
                            for f in p.open_files()}),
        }
    print(json.dumps(report))
""")


@pytest.mark.parametrize("mode", ["single", "threaded"])
def test_the_fork_server_is_forked_only_from_a_single_threaded_driver(mode, tmp_path):
    held = tmp_path / "held.txt"
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(held)],
                         capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(out.stdout)
    assert report["server_parent"] == report["driver"]
    if mode == "single":  # a copy of the driver ...
        assert report["server_cmdline"] == report["driver_cmdline"]
    else:  # ... or a fresh interpreter
        assert report["server_cmdline"][:2] == [sys.executable, "-c"]
    assert str(held) not in report["open"]  # a forked server closed what it inherited


def test_forked_workers_start_with_a_prepared_task_set_up_once(monkeypatch):
    module = RemoteModule.resolve(setup_pid)
    options = encode_options(None)
    setups: list[dict] = []
    send = execnet.Channel.send

    def watch(channel, message):
        if isinstance(message, tuple) and message[0] == "setup":
            setups.append(message[1])
        send(channel, message)

    with GatewayPool([("popen", 2)], prepare=Setup.of(module, options)) as pool:
        server = psutil.Process(parents(pool)[0])
        monkeypatch.setattr(execnet.Channel, "send", watch)
        results = nlp_parallel.map(setup_pid, range(200), pool=pool, batch_size=10)
        forked = {child.pid for child in server.children()}
    ran_in = {r[0] for r in results}
    workers = {r[1] for r in results}
    assert ran_in == {server.pid}  # setup ran in the server, not in the workers
    # (On a busy machine one worker may take every batch before the other is ready.)
    assert workers and workers <= forked and server.pid not in workers
    # ... and the workers were sent its digest, not the task again
    assert [sorted(s) for s in setups] == [["emit", "name", "prepared"]] * 2


def test_a_forked_worker_names_the_task_its_server_prepared_and_no_other():
    """A prepared task is named by digest instead of sent again (its options may hold
    a model of megabytes); a digest the worker lacks is refused, not guessed at."""
    module = RemoteModule.resolve(setup_pid)
    setup = Setup.of(module, encode_options(None))
    with GatewayPool([("popen", 1)], prepare=setup) as pool:
        channel = pool.gateways[0].gateway.remote_exec(RemoteModule.resolve(worker).source)
        name, hello = channel.receive(10)
        assert name == "hello" and hello["prepared"] == [setup.digest]
        channel.send(("setup", {"name": module.name, "emit": "results", "prepared": "0" * 64}))
        name, fields = channel.receive(10)
        assert name == "failed" and "not set up in this worker's fork server" in fields["message"]
        channel.send(("setup", {"name": module.name, "emit": "results",
                                "prepared": setup.digest}))
        assert channel.receive(10) == ("ready", {})
        channel.send(("batch", {"seq": 0, "start": 0, "items": "[1]"}))
        name, fields = channel.receive(10)
        ran_in, pid = json.loads(fields["data"])[0]
        assert ran_in == psutil.Process(pid).ppid() != pid  # set up in the server


def test_a_task_prepared_with_other_options_is_set_up_by_each_worker():
    module = RemoteModule.resolve(setup_pid)
    prepared = Setup.of(module, encode_options({"other": 1}))
    with GatewayPool([("popen", 2)], prepare=prepared) as pool:
        results = nlp_parallel.map(setup_pid, range(50), pool=pool, batch_size=5)
    assert all(ran_in == worker for ran_in, worker in results)


def test_a_setup_that_fails_in_the_server_fails_in_the_worker_as_usual():
    module = RemoteModule.resolve(setup_pid)
    options = encode_options({"fail": True})
    with GatewayPool([("popen", 2)], prepare=Setup.of(module, options)) as pool:
        with pytest.raises(RemoteTaskError, match="setup refused its options"):
            nlp_parallel.map(setup_pid, range(10), pool=pool, options={"fail": True})


def test_without_its_fork_server_a_pool_restarts_workers_from_scratch():
    with GatewayPool([("popen", 2)], preload=("json",)) as pool:
        server = parents(pool)[0]
        assert server != os.getpid()
        os.kill(server, signal.SIGKILL)
        psutil.Process(server).wait(10)
        restarted = pool.restart(pool.gateways[0])
        assert restarted.gateway.remote_exec(
            "import os; channel.send(os.getppid())").receive(10) == os.getpid()
        assert nlp_parallel.map(batched_double, range(100), pool=pool) == list(range(0, 200, 2))


def test_a_killed_forked_worker_is_replaced_and_nothing_is_lost():
    with GatewayPool([("popen", 2)], preload=("json",)) as pool:
        victim = pool.gateways[0].gateway.remote_exec(
            "import os; channel.send(os.getpid())").receive(10)
        killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
        killer.start()
        try:
            results = nlp_parallel.map(pids, range(2000), pool=pool, batch_size=20)
        finally:
            killer.cancel()
    assert len(results) == 2000
    assert victim in results and len(set(results)) == 3  # the victim, its heir, the other


def test_a_background_start_raises_its_error_where_the_gateways_are_wanted(no_orphans):
    pool = GatewayPool(["popen", "popen//python=/no/such/python"])
    pool.start(background=True)
    with pytest.raises(GatewayStartError, match="no such Python: /no/such/python"):
        pool.gateways
    assert wait_gone(no_orphans(), 5.0) == []


def test_a_pool_closed_while_it_starts_in_the_background_leaves_nothing(no_orphans):
    pool = GatewayPool([("popen", 2), f"popen//python={sys.executable}"])
    pool.start(background=True)
    assert not pool.ready  # the gateways start while the caller goes on
    pool.close()
    assert wait_gone(no_orphans(), 5.0) == []


def test_a_job_prepares_the_built_in_task_but_never_a_users_module(tmp_path):
    from nlp_parallel import runner
    from nlp_parallel.jobs import load_job
    from nlp_parallel.plan import open_plan

    (tmp_path / "my_count.py").write_text("def process(item):\n    return len(item)\n")
    for name, task in [("builtin", "{name: stem}"), ("user", "{name: module, module: my_count}")]:
        (tmp_path / f"{name}.yaml").write_text(
            f"corpus: {{name: treebank, view: sents, limit: 10}}\ntask: {task}\n"
            f"output: {{path: {tmp_path / name}.jsonl}}\n")
    job = load_job(str(tmp_path / "builtin.yaml"))
    with open_plan(job) as plan:
        module, settings = plan.module, plan.settings()
    assert runner._pool(job, module, settings).prepare == Setup.of(module, settings.options)
    job = load_job(str(tmp_path / "user.yaml"))
    with open_plan(job) as plan:
        module, settings = plan.module, plan.settings()
    assert runner._pool(job, module, settings).prepare is None


def test_a_threaded_process_starts_a_fork_server_only_to_share_something():
    busy = threading.Event()
    thread = threading.Thread(target=busy.wait)
    thread.start()
    try:
        with GatewayPool([("popen", 2)]) as pool:  # nothing to share: from scratch
            assert parents(pool) == [os.getpid()] * 2
        with GatewayPool([("popen", 2)], preload=("json",)) as pool:
            assert os.getpid() not in parents(pool)
    finally:
        busy.set()
        thread.join()


def test_a_tag_job_on_forked_workers_leaves_the_model_to_the_fork_server(tmp_path, monkeypatch):
    """The driver never reads the model its forked workers get from their server
    (which reads it through NLTK itself), and they tag as serial NLTK does."""
    from nltk.corpus import treebank
    from nltk.tag import PerceptronTagger

    from nlp_parallel import models
    from nlp_parallel.jobs import load_job
    from nlp_parallel.runner import run_job

    def unread(self):
        raise AssertionError("the driver read the model")

    monkeypatch.setattr(models.DataFiles, "text", property(unread))
    out = tmp_path / "tags.jsonl"
    (tmp_path / "tag.yaml").write_text(
        f"corpus: {{name: treebank, view: sents, limit: 40}}\ntask: {{name: tag}}\n"
        f"specs: [[popen, 2]]\nread: workers\noutput: {{path: {out}}}\n")
    run_job(load_job(str(tmp_path / "tag.yaml")))
    tagger = PerceptronTagger()
    assert [json.loads(line)["tags"] for line in out.read_text().splitlines()] == [
        [tag for _, tag in tagger.tag(sent)] for sent in treebank.sents()[:40]]


def test_a_model_file_changed_since_it_was_found_is_never_served(tmp_path, monkeypatch):
    """The fork server refuses a model file that is not the one the driver found,
    and so does the driver, which reads it when some worker needs its text."""
    import shutil

    import nltk

    from nlp_parallel import models
    from nlp_parallel.errors import ConfigError
    from nlp_parallel.forks import ForkServer, ForkServerError
    from nlp_parallel.settings import TaskOptions

    found = nltk.data.find("taggers/averaged_perceptron_tagger_eng.zip")
    (tmp_path / "taggers").mkdir()
    archive = tmp_path / "taggers" / "averaged_perceptron_tagger_eng.zip"
    shutil.copyfile(str(found), archive)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))  # for a server started afresh
    params = models.perceptron_params("eng")
    setup = Setup.of(RemoteModule.resolve("nlp_parallel.remote_tasks.tag"),
                     TaskOptions({"params": params}))
    assert {place["zip"] for place in json.loads(setup.files)} == {str(archive)}
    server = ForkServer()
    try:
        server.prepare(setup)  # as found: read and set up in the server
        st = archive.stat()
        os.utime(archive, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        with pytest.raises(ForkServerError, match="changed since the driver found it"):
            server.prepare(setup)
    finally:
        server.close()
    with pytest.raises(ConfigError, match="changed while the run started"):
        params.text
