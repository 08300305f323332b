"""Jobs over real ssh gateways: OpenSSH servers on 127.0.0.1 (``tests/sshd.py``).

The "remote" hosts are sshd sessions with their own host names, reached through a
client ssh_config; their interpreter (``remote_python``) has NLTK and its dependencies
only, and their environment no NLTK_DATA, as on a fresh cluster host.  Every job's
output is compared byte for byte with a popen-only run of the same job.
"""

from __future__ import annotations

import time
from pathlib import Path

import nltk.data
import pytest
import yaml

import nlp_parallel
from nlp_parallel import GatewayPool, GatewayStartError
from nlp_parallel.cli import main
from nlp_parallel.engine import local_nltk_version
from remote_modules import batched_double, environment
from sshd import CONNECT_TIMEOUT, SILENT_TIMEOUT

GRAMMAR = r"NP: {<DT|PRP\$>?<JJ.*>*<NN.*>+}"
JOBS = {
    "tag": {"corpus": {"name": "treebank", "view": "sents", "limit": 300},
            "task": {"name": "tag", "options": {"tagset": "universal"}},
            "output": {"format": "jsonl"}},
    "chunk": {"corpus": {"name": "conll2000", "view": "tagged_sents", "fileids": ["test.txt"],
                         "limit": 300},
              "task": {"name": "chunk", "options": {"grammar": GRAMMAR, "tree": False}},
              "output": {"format": "conll"}},
    "stem": {"corpus": {"name": "treebank", "view": "sents", "start": 100, "limit": 300},
             "task": {"name": "stem", "options": {"algorithm": "snowball",
                                                  "language": "english"}},
             "output": {"format": "text"}},
    "count": {"corpus": {"name": "treebank", "view": "tagged_sents"},
              "task": {"name": "count", "options": {"count": "conditional",
                                                    "condition": "tag", "sample": "word"}},
              "output": {"format": "json"}},
}


def write_job(directory: Path, kind: str, **keys: object) -> Path:
    """A job file of ``JOBS[kind]`` writing ``<kind>.out`` beside it, with ``keys`` added."""
    job = dict(JOBS[kind], **keys)
    job["output"] = dict(job["output"], path=str(directory / f"{kind}.out"))
    path = directory / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    return path


def run(directory: Path, kind: str, **keys: object) -> tuple[int, bytes | None]:
    """Run a job through the CLI; its exit code and output (None if none was written)."""
    directory.mkdir(parents=True, exist_ok=True)
    code = main(["run", str(write_job(directory, kind, **keys)), "--quiet"])
    out = directory / f"{kind}.out"
    return code, out.read_bytes() if out.exists() else None


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The output of each job run on one popen gateway, computed once."""
    outputs: dict[str, bytes] = {}

    def output(kind: str) -> bytes:
        if kind not in outputs:
            code, data = run(tmp_path_factory.mktemp(f"local_{kind}"), kind, specs=[["popen", 1]])
            assert code == 0 and data
            outputs[kind] = data
        return outputs[kind]

    return output


def stderr_lines(capfd) -> list[str]:
    return [line for line in capfd.readouterr().err.splitlines() if line.strip()]


# --- what a remote host needs -----------------------------------------------------


def test_a_worker_over_ssh_has_only_python_and_nltk(ssh_lab, remote_python):
    """No copy of this project, no execnet, no NLTK data, no NLTK_DATA on the host."""
    resources = ["corpora/treebank/", "taggers/averaged_perceptron_tagger_eng/"]
    for name in resources:
        nltk.data.find(name)  # the driver has them
    results = nlp_parallel.map(environment, resources, [ssh_lab.spec("nlp-a", remote_python)])
    for result in results:
        assert result == {
            "found": False,
            "host": ssh_lab.hostnames["nlp-a"],
            "executable": str(remote_python),
            "NLTK_DATA": None,
            "importable": ["nltk"],
        }


@pytest.mark.parametrize("kind, hosts", [
    ("tag", ["nlp-a", "nlp-b"]),  # two ssh gateways
    ("chunk", ["nlp-a", "popen"]),  # ssh and popen mixed
    ("count", ["nlp-a", "nlp-b"]),  # counted over ssh (the workers read), merged here
])
def test_jobs_over_ssh_write_what_a_local_run_writes(tmp_path, ssh_lab, remote_python, local,
                                                     kind, hosts):
    specs = [ssh_lab.spec(h, remote_python) if h != "popen" else "popen" for h in hosts]
    code, output = run(tmp_path, kind, specs=specs)
    assert code == 0
    assert output == local(kind)


def test_a_gateway_via_an_ssh_gateway_runs_on_that_host(tmp_path, ssh_lab, remote_python, local):
    """popen//via=hub starts a second worker on nlp-b through the ssh gateway 'hub'."""
    specs = [ssh_lab.spec("nlp-b", remote_python, "id=hub"), f"popen//via=hub//python={remote_python}"]
    with GatewayPool(specs) as pool:
        assert [info["host"] for info in pool.describe()] == [ssh_lab.hostnames["nlp-b"]] * 2
    code, output = run(tmp_path, "stem", specs=specs)
    assert code == 0 and output == local("stem")


def test_python_names_the_interpreter_on_the_host(ssh_lab, remote_python, python_without_nltk):
    """python= picks the host's interpreter; a task that needs no NLTK runs on a bare one."""
    specs = [ssh_lab.spec("nlp-a", remote_python), ssh_lab.spec("nlp-a", python_without_nltk)]
    with GatewayPool(specs) as pool:
        infos = pool.describe()
        assert nlp_parallel.map(batched_double, range(50), pool=pool) == [2 * i for i in range(50)]
    assert [(i["executable"], i["nltk"]) for i in infos] == [
        (str(remote_python), local_nltk_version()), (str(python_without_nltk), None)]


# --- counts and hosts files -------------------------------------------------------


def test_auto_count_is_the_hosts_core_count(ssh_lab, remote_python):
    with GatewayPool([(ssh_lab.spec("nlp-b", remote_python), "auto")]) as pool:
        infos = pool.describe()
        cores = infos[0]["cpus"]
        assert len(pool) == cores
        assert [g.spec.id for g in pool] == ["gw0"] + [f"gw0.{i}" for i in range(1, cores)]
        assert {i["host"] for i in infos} == {ssh_lab.hostnames["nlp-b"]}
        assert len({i["pid"] for i in infos}) == cores


def test_a_job_over_a_hosts_file(tmp_path, ssh_lab, remote_python, local):
    """Bare host names, full specs, counts and auto; the file is relative to the job."""
    config = f"ssh_config={ssh_lab.ssh_config}//python={remote_python}"
    (tmp_path / "hosts.txt").write_text(
        "# the lab\n"
        f"nlp-a//{config}   2\n"
        "\n"
        f"ssh=nlp-b//{config}      # auto: one per core\n"
    )
    job = write_job(tmp_path, "tag", hosts_file="hosts.txt")
    with GatewayPool(nlp_parallel.jobs.load_job(str(job)).specs) as pool:
        hosts = [info["host"] for info in pool.describe()]
    cores = hosts.count(ssh_lab.hostnames["nlp-b"])
    assert hosts[:2] == [ssh_lab.hostnames["nlp-a"]] * 2 and cores >= 1 and len(hosts) == 2 + cores
    code, output = run(tmp_path, "tag", hosts_file="hosts.txt")
    assert code == 0 and output == local("tag")


# --- hosts that cannot serve ------------------------------------------------------


def test_a_host_without_nltk_is_one_clear_line(tmp_path, ssh_lab, remote_python,
                                               python_without_nltk, capfd):
    specs = [ssh_lab.spec("nlp-a", remote_python), ssh_lab.spec("nlp-b", python_without_nltk)]
    code, output = run(tmp_path, "tag", specs=specs)
    assert code == 1 and output is None
    assert stderr_lines(capfd) == [
        f"nlp-parallel: error: gateway gw1 ({specs[1]}): has no NLTK, this driver NLTK "
        f"{local_nltk_version()}; the built-in tasks run NLTK code, which must be the same "
        f"version on every gateway: install nltk=={local_nltk_version()} there"
    ]


@pytest.mark.parametrize("alias, connect_timeout", [
    ("nlp-down", CONNECT_TIMEOUT),  # connection refused at once
    ("nlp-silent", SILENT_TIMEOUT),  # accepts, never speaks: ssh's ConnectTimeout ends it
])
def test_an_unreachable_host_is_named_within_the_connect_timeout(ssh_lab, remote_python,
                                                                 alias, connect_timeout):
    bad = ssh_lab.spec(alias, remote_python)
    started = time.monotonic()
    with pytest.raises(GatewayStartError) as info:
        GatewayPool([ssh_lab.spec("nlp-a", remote_python), bad]).start()
    assert time.monotonic() - started < connect_timeout + 10
    assert info.value.spec == f"gw1 ({bad})"
    assert f"ssh could not connect to {alias} or log in there" in str(info.value)


def test_min_gateways_goes_on_without_an_unreachable_host(tmp_path, ssh_lab, remote_python,
                                                          local, capfd):
    specs = [ssh_lab.spec("nlp-a", remote_python), ssh_lab.spec("nlp-down", remote_python)]
    code, output = run(tmp_path, "stem", specs=specs, min_gateways=1)
    assert code == 0 and output == local("stem")
    warnings = [line for line in stderr_lines(capfd) if line.startswith("nlp-parallel: warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"nlp-parallel: warning: 1 of 2 gateways did not start; going on with 1 "
        f"(min_gateways 1): gateway gw1 ({specs[1]}): ssh could not connect to nlp-down")


def test_fewer_than_min_gateways_is_an_error(tmp_path, ssh_lab, remote_python, capfd):
    specs = [ssh_lab.spec("nlp-a", remote_python), ssh_lab.spec("nlp-down", remote_python),
             ssh_lab.spec("nlp-b", remote_python)]
    code, output = run(tmp_path, "stem", specs=specs, min_gateways=3)
    assert code == 1 and output is None
    ours = [line for line in stderr_lines(capfd) if line.startswith("nlp-parallel:")]
    assert len(ours) == 1
    assert ours[0].startswith(f"nlp-parallel: error: gateway gw1 ({specs[1]}): ssh could not")
    assert ours[0].endswith("; 2 started, fewer than min_gateways (3)")


# --- check ------------------------------------------------------------------------


def test_check_lists_every_gateway(tmp_path, ssh_lab, remote_python, python_without_nltk,
                                   capfd):
    ours = local_nltk_version()
    specs = [ssh_lab.spec("nlp-a", remote_python), ssh_lab.spec("nlp-b", python_without_nltk),
             "popen"]
    assert main(["check", "--specs", *specs]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 3
    expected = [
        (f"gw0 ({specs[0]}): host {ssh_lab.hostnames['nlp-a']}, Python ",
         f" ({remote_python}), NLTK {ours}, "),
        (f"gw1 ({specs[1]}): host {ssh_lab.hostnames['nlp-b']}, Python ",
         f" ({python_without_nltk}), NLTK not installed (this driver has {ours}: "
         f"tasks that use NLTK refuse this gateway), "),
        ("gw2 (popen): host ", f", NLTK {ours}, "),
    ]
    for line, (head, middle) in zip(lines, expected):
        assert line.startswith(head) and middle in line
        assert " cores, round trip " in line and line.endswith(" ms")


def test_check_a_job_names_the_hosts_that_did_not_start(tmp_path, ssh_lab, remote_python, capfd):
    job = write_job(tmp_path, "tag", specs=[ssh_lab.spec("nlp-a", remote_python),
                                            ssh_lab.spec("nlp-down", remote_python)])
    assert main(["check", str(job)]) == 1
    lines = capfd.readouterr().out.splitlines()
    assert lines[0].startswith("gw0 (ssh=nlp-a//") and f"host {ssh_lab.hostnames['nlp-a']}" in lines[0]
    assert lines[1].startswith(f"gw1 ({ssh_lab.spec('nlp-down', remote_python)}): not started: "
                               f"ssh could not connect to nlp-down")


# --- a host that disappears mid-job ---------------------------------------------------


def test_a_host_that_disappears_mid_job_loses_nothing(tmp_path, remote_python, no_orphans,
                                                      monkeypatch):
    """Its sshd goes away and its ssh connection drops: the batches it held run on
    the popen gateway, its restarts are refused, and the output is a clean run's."""
    import os
    import signal

    import psutil

    from nlp_parallel.engine import Session
    from nlp_parallel.jobs import load_job
    from nlp_parallel.runner import run_job
    from sshd import SshServers

    sessions: list[Session] = []  # to see what each gateway has delivered so far
    open_session = Session.open

    def observed(self: Session) -> None:
        sessions.append(self)
        open_session(self)

    monkeypatch.setattr(Session, "open", observed)

    job = {"corpus": {"name": "treebank", "view": "sents"},
           "task": {"name": "tag"}, "output": {"path": str(tmp_path / "clean.jsonl")},
           "specs": [["popen", 1]]}
    (tmp_path / "clean.yaml").write_text(yaml.safe_dump(job))
    run_job(load_job(str(tmp_path / "clean.yaml")))

    with SshServers(tmp_path / "lab", hosts=("nlp-c",)) as lab:
        job.update(specs=[lab.spec("nlp-c", remote_python), "popen"], max_restarts=2,
                   output={"path": str(tmp_path / "out.jsonl")})
        (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
        written, gone = 0, []

        def progress(count: int) -> None:
            nonlocal written
            written += count
            if not gone and sessions[-1].counts["gw0"] > 0:  # the host is at work
                clients = [p for p in psutil.Process().children() if p.name() == "ssh"]
                assert len(clients) == 1
                lab.stop()  # the host is gone for good ...
                os.kill(clients[0].pid, signal.SIGKILL)  # ... and so is its connection
                gone.append(clients[0].pid)

        summary = run_job(load_job(str(tmp_path / "job.yaml")), progress)
    assert gone and summary.restarts == {"gw0": 2, "gw1": 0}
    assert summary.per_gateway["gw0"] > 0 and summary.per_gateway["gw1"] > 1000
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
