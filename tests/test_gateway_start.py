"""Starting gateways: failures named, min_gateways, auto counts, socket gateways, NLTK checks.

Real popen and socket gateways; the ssh side is in test_ssh.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import nlp_parallel
from nlp_parallel import GatewayPool, GatewayStartError, HandshakeError, SpecError
from nlp_parallel.cli import main
from nlp_parallel.engine import check_hello, local_nltk_version
from nlp_parallel.gateways import GatewayWarning
from nlp_parallel.jobs import load_job
from nlp_parallel.modules import RemoteModule
from nlp_parallel.runner import run_job
from nlp_parallel.worker import PROTOCOL
from remote_modules import batched_double
from sshd import free_port, wait_listening


def test_a_missing_python_is_named():
    with pytest.raises(GatewayStartError) as info:
        GatewayPool(["popen", "popen//python=/no/such/python"]).start()
    assert str(info.value) == (
        "gateway gw1 (popen//python=/no/such/python): no such Python: /no/such/python")


def test_a_python_that_exits_at_once_is_named():
    """execnet returns a gateway for it; the probe finds it dead and says why."""
    with pytest.raises(GatewayStartError, match=r"^gateway gw0 \(popen//python=/bin/true\): the "
                       r"gateway exited as it started \(.*\); is python=/bin/true a Python 3"):
        GatewayPool(["popen//python=/bin/true"]).start()


def test_min_gateways_goes_on_and_warns_once():
    specs = ["popen", "popen//python=/no/such/python//id=hub", "popen//via=hub", "popen"]
    with pytest.warns(GatewayWarning) as record:
        pool = GatewayPool(specs, min_gateways=2)
        pool.start()
    with pool:
        assert [g.spec.id for g in pool] == ["gw0", "gw2"]
        assert len(pool) == 2
        assert nlp_parallel.map(batched_double, range(20), pool=pool) == list(range(0, 40, 2))
    assert len(record) == 1
    assert str(record[0].message) == (
        "2 of 4 gateways did not start; going on with 2 (min_gateways 2): "
        "gateway hub (popen//python=/no/such/python): no such Python: /no/such/python; "
        "gateway gw1 (popen//via=hub): not started: it goes via hub, which did not start")
    assert [e.spec for e in pool.failures] == ["hub (popen//python=/no/such/python)",
                                               "gw1 (popen//via=hub)"]


def test_fewer_than_min_gateways_raises_naming_them():
    specs = ["popen", "popen//python=/no/a", "popen//python=/no/b"]
    with pytest.raises(GatewayStartError) as info:
        GatewayPool(specs, min_gateways=2).start()
    assert str(info.value) == (
        "gateway gw1 (popen//python=/no/a): no such Python: /no/a; 1 more did not start: gw2; "
        "1 started, fewer than min_gateways (2)")


def test_by_default_every_gateway_must_start():
    with pytest.raises(GatewayStartError, match=r"^gateway gw1 \(popen//python=/no/a\): no such"):
        GatewayPool(["popen", "popen//python=/no/a"]).start()


def test_auto_count_via_a_gateway_uses_its_hosts_cores():
    """popen//via=hub runs where hub runs; its auto count is that host's cores."""
    with GatewayPool(["popen//id=hub", ("popen//via=hub", "auto")]) as pool:
        assert [g.spec.id for g in pool] == ["hub", "gw0"] + [
            f"gw0.{i}" for i in range(1, os.cpu_count() or 1)]
        assert len({info["pid"] for info in pool.describe()}) == len(pool)


def test_auto_min_gateways_above_the_cores_found():
    with pytest.raises(SpecError, match="min_gateways: 99 is more than the"):
        GatewayPool(["popen//id=hub", ("popen//via=hub", "auto")], min_gateways=99).start()


# --- socket gateways --------------------------------------------------------------


@pytest.fixture
def socket_server(tmp_path):
    """execnet's own socket server on 127.0.0.1, stopped after the test."""
    port = free_port()
    log = tmp_path / "socketserver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "execnet.script.socketserver", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        wait_listening(port, proc, log.read_text)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_socket_gateway_on_loopback_runs(socket_server):
    assert nlp_parallel.map(batched_double, range(10), [f"socket=127.0.0.1:{socket_server}"]) \
        == list(range(0, 20, 2))


def test_a_socket_gateway_to_another_machine_is_refused_by_the_cli(tmp_path, capsys):
    job = tmp_path / "job.yaml"
    text = textwrap.dedent(f"""\
        corpus: {{name: treebank, view: sents, limit: 10}}
        task: {{name: tag}}
        specs: ["socket=10.1.2.3:8888"]
        output: {{path: {tmp_path / 'out.jsonl'}}}
    """)
    job.write_text(text)
    assert main(["run", str(job)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nlp-parallel: error: {job}: specs: gateway spec 'socket=10.1.2.3:8888': refusing a "
        f"socket gateway to 10.1.2.3, which is not loopback: execnet's socket server runs any "
        f"code it receives, without authentication, so anyone who can reach that port can run "
        f"code as its user; use ssh= instead, or, on a network you trust, set "
        f"allow_insecure_socket: true in the job (allow_insecure_socket=True in Python)"
    ]
    assert not (tmp_path / "out.jsonl").exists()
    job.write_text(text.replace("socket=10.1.2.3:8888", "popen"))
    assert main(["validate", str(job), "--specs", "popen", "socket=10.1.2.4:8888"]) == 2
    assert capsys.readouterr().err.startswith(
        f"nlp-parallel: error: {job}: --specs: gateway spec 'socket=10.1.2.4:8888': refusing")
    job.write_text(text + "allow_insecure_socket: true\n")
    assert main(["validate", str(job)]) == 0
    assert main(["validate", str(job), "--specs", "socket=10.1.2.4:8888"]) == 0


def test_allow_insecure_socket_in_python():
    with pytest.raises(SpecError, match="allow_insecure_socket"):
        GatewayPool(["socket=192.168.7.7:8888"])
    assert len(GatewayPool(["socket=192.168.7.7:8888"], allow_insecure_socket=True)) == 1


# --- NLTK on the workers ----------------------------------------------------------


def hello(**changes: object) -> dict:
    fields = {"protocol": PROTOCOL, "python": "3.11.7", "nltk": local_nltk_version()}
    fields.update(changes)
    return fields


@pytest.mark.parametrize("nltk", [None, "3.8.1"])
def test_built_in_tasks_need_the_drivers_nltk(nltk):
    """The pipeline imports nothing itself, but every step it runs imports NLTK."""
    pipeline = RemoteModule.resolve("nlp_parallel.remote_tasks.pipeline")
    assert not pipeline.needs_nltk
    with pytest.raises(HandshakeError, match="the built-in tasks run NLTK code"):
        check_hello("gw0 (popen)", hello(nltk=nltk), pipeline)


def test_another_nltk_for_a_task_without_nltk_is_a_warning():
    module = RemoteModule.resolve(batched_double)
    with pytest.warns(GatewayWarning, match=r"gateway gw0 \(popen\): has NLTK 3\.8\.1, this "
                      r"driver NLTK .*results are the same"):
        check_hello("gw0 (popen)", hello(nltk="3.8.1"), module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_hello("gw0 (popen)", hello(nltk=None), module)  # no NLTK, none needed


def test_a_job_on_a_worker_without_nltk_is_refused_at_the_handshake(tmp_path, python_without_nltk):
    job = tmp_path / "job.yaml"
    job.write_text(textwrap.dedent(f"""\
        corpus: {{name: treebank, view: sents, limit: 10}}
        task: {{name: stem}}
        specs: ["popen//python={python_without_nltk}"]
        output: {{path: {tmp_path / 'out.jsonl'}}}
    """))
    with pytest.raises(HandshakeError, match=f"nltk=={local_nltk_version()} there"):
        run_job(load_job(str(job)))
    assert not Path(tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("exc", [BrokenPipeError(32, "Broken pipe"), EOFError()])
def test_ssh_exiting_during_the_bootstrap_names_the_host(exc):
    """ssh may exit (connection refused) while execnet still writes its bootstrap:
    the message then names the host as for any failed connection."""
    from nlp_parallel.starting import _why_not_started
    from nlp_parallel.specs import GatewaySpec

    spec = GatewaySpec("ssh=nlp-down//ssh_config=/lab/ssh_config//python=/venv/bin/python", "gw1")
    why = _why_not_started(spec, exc)
    assert why.startswith("ssh could not connect to nlp-down or log in there, or "
                          "python=/venv/bin/python did not start there")
    assert why.endswith("check that `ssh -F /lab/ssh_config nlp-down true` works without a prompt")
