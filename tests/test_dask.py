"""Jobs on real Dask clusters: a ``LocalCluster`` of worker processes, and a
``dask scheduler`` with two ``dask worker`` processes started here on 127.0.0.1.

Every output is compared byte for byte with the same job run on execnet gateways:
the corpus order, ``on_error``, poison isolation, killed Dask workers and a killed
driver resumed all give what execnet gives."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

distributed = pytest.importorskip("distributed")

from nlp_parallel.cli import main  # noqa: E402
from nlp_parallel.jobs import load_job  # noqa: E402
from nlp_parallel.runner import run_job  # noqa: E402

from conftest import checkpointed, gated_job, start_driver, wait_gone  # noqa: E402

POISON_INDEX, POISON_WORD = 152, "Appellate"  # the only treebank sentence of 400 with it
BROWN = 6_000
#: Seconds a Dask worker's idle child lives on in these tests' clusters.
IDLE = 10


def write_job(tmp_path: Path, name: str, where: str, corpus: str, task: str,
              extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join([f"corpus: {corpus}", f"task: {task}", where,
                                f"output: {{path: {tmp_path / name}.jsonl}}", extra, ""]))
    return path


BROWN_TAG = (f"{{name: brown, view: sents, limit: {BROWN}}}", "{name: tag}")
CONLL_CHUNK = ("{name: conll2000, view: tagged_sents, fileids: [test.txt]}",
               "{name: chunk, options: {grammar: 'NP: {<DT>?<JJ>*<NN.*>+}'}}")
EXECNET = "specs: [[popen, 2]]\nread: workers"


@pytest.fixture(scope="module", autouse=True)
def resource_tracker():
    """A ``LocalCluster`` starts its worker processes with multiprocessing, whose
    resource tracker then serves this interpreter until it exits: start it first,
    so that the tests' no-orphans check does not count it as a worker."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


@pytest.fixture(scope="module")
def execnet_outputs(tmp_path_factory) -> dict[str, bytes]:
    """The jobs' outputs on two execnet popen gateways."""
    tmp_path = tmp_path_factory.mktemp("execnet")
    outputs = {}
    for name, (corpus, task) in {"brown": BROWN_TAG, "conll": CONLL_CHUNK}.items():
        run_job(load_job(str(write_job(tmp_path, name, EXECNET, corpus, task))))
        outputs[name] = (tmp_path / f"{name}.jsonl").read_bytes()
    return outputs


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, nanny: bool = True, tls: list[str] | None = None,
                 worker_env: dict[str, str] | None = None) -> Iterator[str]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes (each
    under a nanny, which restarts it when it dies, unless not ``nanny``), on
    127.0.0.1; yields the scheduler's address.  ``tls``: the options of a TLS
    cluster (``--tls-ca-file`` ...)."""
    dask = str(Path(sys.executable).with_name("dask"))
    secure = ["--protocol", "tls", *tls] if tls else []
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "NLP_PARALLEL_DASK_IDLE": str(IDLE)}
    common: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                              "env": env}
    processes = [subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file), *secure], **common)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert processes[0].poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.05)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            processes.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--local-directory", str(tmp_path),
                 *([] if nanny else ["--no-nanny"]), *(tls or [])],
                **{**common, "env": {**env, **(worker_env or {})}}))
        security = None
        if tls:
            ca, cert, key = tls[1::2]
            security = distributed.security.Security(
                tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key,
                require_encryption=True)
        with distributed.Client(address, set_as_default=False, security=security) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


def worker_pids(address: str) -> dict[str, int]:
    with distributed.Client(address, set_as_default=False) as client:
        return client.run(os.getpid)


# -- the same bytes as execnet -----------------------------------------------------------


@pytest.mark.parametrize("name", ["brown", "conll"])
def test_local_cluster_writes_the_execnet_bytes(name, tmp_path, execnet_outputs, capsys):
    corpus, task = {"brown": BROWN_TAG, "conll": CONLL_CHUNK}[name]
    job = write_job(tmp_path, name, "dask: {local: 2}", corpus, task)
    assert main(["run", str(job)]) == 0
    assert (tmp_path / f"{name}.jsonl").read_bytes() == execnet_outputs[name]
    err = capsys.readouterr().err
    assert "per gateway: dask-1:" in err and "dask-2:" in err


@pytest.mark.parametrize("name", ["brown", "conll"])
def test_scheduler_cluster_writes_the_execnet_bytes(name, tmp_path, cluster, execnet_outputs,
                                                    no_orphans):
    corpus, task = {"brown": BROWN_TAG, "conll": CONLL_CHUNK}[name]
    job = write_job(tmp_path, name, f"dask: {{scheduler: {cluster}}}", corpus, task)
    summary = run_job(load_job(str(job)))
    assert (tmp_path / f"{name}.jsonl").read_bytes() == execnet_outputs[name]
    assert summary.read_by == "workers" and set(summary.per_gateway) == {"dask-1", "dask-2"}
    # The run stopped the processes it set up on the workers, long before they idle out.
    assert wait_gone(no_orphans(), IDLE / 3) == []


def test_a_count_on_dask_equals_the_execnet_count(tmp_path, cluster):
    """A count's pieces, counted by the Dask workers and merged here, write the bytes
    of the same count on execnet gateways."""
    corpus = "{name: brown, view: tagged_sents, categories: [reviews]}"
    task = "{name: count, options: {count: collocations, of: word_tag, window_size: 3}}"
    outputs = []
    for name, where in (("execnet", EXECNET), ("dask", f"dask: {{scheduler: {cluster}}}")):
        job = write_job(tmp_path, name, where, corpus, task)
        summary = run_job(load_job(str(job)))
        assert summary.read_by == "workers"
        outputs.append((tmp_path / f"{name}.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[1])["count"] == "collocations"


def test_driver_reading_sends_batches_to_dask(tmp_path, cluster, execnet_outputs):
    """``read: driver``: items go as batches, not shards, with the same bytes."""
    job = write_job(tmp_path, "brown", f"dask: {{scheduler: {cluster}}}\nread: driver",
                    *BROWN_TAG)
    summary = run_job(load_job(str(job)))
    assert summary.read_by == "the job says read: driver"
    assert (tmp_path / "brown.jsonl").read_bytes() == execnet_outputs["brown"]


def test_dask_on_the_command_line_replaces_the_jobs_gateways(tmp_path, cluster,
                                                           execnet_outputs):
    job = write_job(tmp_path, "conll", EXECNET, *CONLL_CHUNK)
    assert main(["run", str(job), "--dask", cluster, "--quiet"]) == 0
    assert (tmp_path / "conll.jsonl").read_bytes() == execnet_outputs["conll"]


def test_tls_scheduler_with_the_jobs_security_settings(tmp_path, execnet_outputs):
    """A cluster whose scheduler and workers speak only TLS, reached with the PEM
    files the job names."""
    from distributed.security import Security

    made = Security.temporary()  # a self-signed certificate for all three roles
    files = {"ca_file": made.tls_ca_file, "cert": made.tls_client_cert,
             "key": made.tls_client_key}
    for name, pem in files.items():
        (tmp_path / f"{name}.pem").write_text(pem)
    tls = ["--tls-ca-file", str(tmp_path / "ca_file.pem"), "--tls-cert",
           str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    with dask_cluster(tmp_path, tls=tls) as address:
        assert address.startswith("tls://127.0.0.1:")
        job = write_job(tmp_path, "conll", f"dask: {{scheduler: {address}, security: "
                        "{ca_file: ca_file.pem, cert: cert.pem, key: key.pem}}", *CONLL_CHUNK)
        run_job(load_job(str(job)))
        assert (tmp_path / "conll.jsonl").read_bytes() == execnet_outputs["conll"]


@pytest.mark.skipif(shutil.which("sbatch") is None,
                    reason="needs Slurm (.ci/slurm-up starts a single-node one)")
def test_slurm_cluster_writes_the_execnet_bytes(tmp_path, execnet_outputs, capsys):
    """Two Dask workers started as Slurm jobs by dask-jobqueue, on this host."""
    slurm = ("{jobs: 2, cores: 1, memory: 1GB, walltime: '00:10:00', queue: debug, "
             f"interface: lo, log_directory: {tmp_path / 'logs'}, "
             f"local_directory: {tmp_path / 'space'}}}")
    job = write_job(tmp_path, "conll", f"dask: {{slurm: {slurm}}}", *CONLL_CHUNK)
    assert main(["validate", str(job)]) == 0
    assert "on Slurm: 2 jobs of Dask workers" in capsys.readouterr().out
    assert main(["run", str(job), "--quiet"]) == 0
    assert (tmp_path / "conll.jsonl").read_bytes() == execnet_outputs["conll"]
    deadline = time.monotonic() + 60  # cancelled jobs complete (CG) a little later
    while subprocess.run(["squeue", "-h", "-n", "nlp-parallel"], capture_output=True,
                         text=True, check=True).stdout.strip():
        assert time.monotonic() < deadline, "Slurm jobs outlived the run"
        time.sleep(0.2)


# -- faults ------------------------------------------------------------------------------


def test_dask_worker_killed_mid_run_loses_nothing(tmp_path, execnet_outputs):
    """A Dask worker SIGKILLed mid-run: Dask runs its share again on the other."""
    with dask_cluster(tmp_path, nanny=False) as address:
        before = worker_pids(address)
        killed: list[int] = []
        written = 0

        def progress(count: int) -> None:
            nonlocal written
            written += count
            if not killed and written >= BROWN // 4:
                killed.append(sorted(before.values())[0])
                os.kill(killed[0], signal.SIGKILL)

        job = write_job(tmp_path, "brown", f"dask: {{scheduler: {address}}}", *BROWN_TAG)
        run_job(load_job(str(job)), progress)
        assert killed and (tmp_path / "brown.jsonl").read_bytes() == execnet_outputs["brown"]
        assert list(worker_pids(address).values()) != list(before.values())


def poison_job(tmp_path: Path, where: str, mode: str | None, on_error: str) -> Path:
    word = POISON_WORD if mode else "null"
    return write_job(
        tmp_path, f"poison-{mode}-{on_error}", where,
        "{name: treebank, view: sents, limit: 400}",
        f"{{name: module, module: remote_modules.poison, options: {{word: {word}, "
        f"mode: {mode}}}}}", f"timeout: 1\non_error: {on_error}")


@pytest.fixture(scope="module")
def clean_counts(tmp_path_factory) -> list[str]:
    tmp_path = tmp_path_factory.mktemp("poison")
    run_job(load_job(str(poison_job(tmp_path, EXECNET, None, "fail"))))
    return (tmp_path / "poison-None-fail.jsonl").read_text().splitlines()


@pytest.mark.parametrize("mode, error_type", [("exit", "WorkerDied"), ("hang", "Timeout"),
                                              ("raise", "ValueError")])
@pytest.mark.parametrize("on_error", ["fail", "record", "skip"])
def test_poison_sentence_costs_no_dask_worker(mode, error_type, on_error, tmp_path, cluster,
                                               clean_counts, capsys):
    """An item that kills or hangs its process is narrowed down to, under each
    ``on_error``, as on execnet; the Dask workers themselves never die."""
    before = worker_pids(cluster)
    job = poison_job(tmp_path, f"dask: {{scheduler: {cluster}}}", mode, on_error)
    output = tmp_path / f"poison-{mode}-{on_error}.jsonl"
    code = main(["run", str(job)])
    err = capsys.readouterr().err
    if on_error == "fail":
        assert code == 1
        first = err.splitlines()[0]
        assert error_type in first and f"item {POISON_INDEX}" in first
        assert "Illinois Appellate Court" in first and "Traceback" not in err
        assert not output.exists()
    else:
        assert code == 0, err
        lines = output.read_text().splitlines()
        expected = clean_counts[:POISON_INDEX] + clean_counts[POISON_INDEX + 1:]
        if on_error == "record":
            record = json.loads(lines.pop(POISON_INDEX))
            assert (record["index"], record["error"]["type"]) == (POISON_INDEX, error_type)
        assert lines == expected
        assert f"1 items failed (indexes {POISON_INDEX})" in err
    assert worker_pids(cluster) == before, "a Dask worker died"


def test_a_dask_gateway_holds_one_batch_at_a_time(cluster):
    """Dask may run two tasks of one gateway side by side on two workers: with one
    batch per gateway, a death or a hang is charged to the batch that caused it."""
    from nlp_parallel.daskpool import DaskPool, DaskTarget
    from nlp_parallel.engine import Session
    from nlp_parallel.modules import RemoteModule
    from nlp_parallel.settings import Emit, run_options

    with DaskPool(DaskTarget(scheduler=cluster)) as pool:
        module = RemoteModule.resolve("remote_modules.batched_double")
        session = Session(pool.gateways, module, run_options(None, "auto", Emit.RESULTS),
                          pool.restart)
        try:
            assert len(pool.gateways) == 2 and session.sched.window == 1
            assert [x for batch in session.run(range(100)) for x in batch] == \
                [2 * i for i in range(100)]
        finally:
            session.close()


def test_driver_killed_then_resumed_gives_identical_bytes(tmp_path, cluster, execnet_outputs,
                                                          no_orphans):
    job = write_job(tmp_path, "brown", f"dask: {{scheduler: {cluster}}}", *BROWN_TAG)
    output = tmp_path / "brown.jsonl"
    part = output.with_name(f".{output.name}.part")
    proc = start_driver(job)
    deadline = time.monotonic() + 120
    while not part.exists() or part.stat().st_size < len(execnet_outputs["brown"]) // 2:
        assert proc.poll() is None, f"the run ended early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert not output.exists()
    resumed = start_driver(job, "--resume")
    assert resumed.wait(180) == 0, resumed.stderr.read()
    assert output.read_bytes() == execnet_outputs["brown"]
    # The killed driver's worker processes on the cluster stop once idle.
    assert wait_gone(no_orphans(), 3 * IDLE) == []


@pytest.mark.parametrize("sig, code, said", [(signal.SIGTERM, 143, "terminated"),
                                             (signal.SIGINT, 130, "interrupted")])
def test_signal_stops_a_local_cluster_and_keeps_output_resumable(sig, code, said, tmp_path):
    """Ctrl-C or SIGTERM: the driver stops its LocalCluster and what runs on it, and
    the output resumes to the bytes of an uninterrupted run."""
    gate = tmp_path / "gate"
    job = gated_job(tmp_path, "workers", gate, "ca20", limit=BROWN, where="dask: {local: 2}")
    output, reference = tmp_path / "gated.jsonl", tmp_path / "reference.jsonl"
    assert main(["run", str(job), "--output", str(reference), "--quiet"]) == 0  # no gate
    gate.touch()  # the run waits once it reaches ca20, after about 2,000 sentences
    proc = start_driver(job)
    part = tmp_path / ".gated.jsonl.part"
    deadline = time.monotonic() + 120
    while not part.exists() or not part.stat().st_size:  # under way, and cannot end
        assert proc.poll() is None, f"the run ended early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    processes = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(sig)
    assert proc.wait(60) == code
    err = proc.stderr.read()
    assert f"{said}; workers stopped" in err and f"run {job} --resume" in err
    assert "Traceback" not in err
    assert wait_gone(processes, 10.0) == []
    assert checkpointed(output) > 0 and not output.exists()
    gate.unlink()
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    assert output.read_bytes() == reference.read_bytes()


# -- the research API ------------------------------------------------------------------------


def test_research_api_takes_a_client_or_an_address(cluster):
    from nltk.corpus import treebank
    from nltk.tag import PerceptronTagger

    import nlp_parallel
    from nlp_parallel import ParallelTagger

    sents = [list(s) for s in treebank.sents()[:300]]
    with distributed.Client(cluster, set_as_default=False) as client:
        with ParallelTagger(specs=client) as tagger:
            assert tagger.tag_sents(sents) == PerceptronTagger().tag_sents(sents)
        assert client.status == "running", "a given client is left open"
        with ParallelTagger(specs=client) as tagger:  # workers read the corpus's shards
            tagged = list(tagger.tag_corpus({"name": "treebank", "view": "sents",
                                             "limit": 500}))
        assert tagged == PerceptronTagger().tag_sents(sents + [list(s) for s in
                                                             treebank.sents()[300:500]])
    doubled = nlp_parallel.map("remote_modules.batched_double", range(500), cluster)
    assert doubled == [2 * i for i in range(500)]


def test_seed_style_module_is_refused_on_dask(cluster):
    import nlp_parallel
    from nlp_parallel.errors import ConfigError

    with pytest.raises(ConfigError, match="needs execnet gateways"):
        nlp_parallel.map("remote_modules.remote_double", range(5), cluster)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("dask, said", [
    ("{scheduler: tcp://192.0.2.1:8786}", "refusing tcp://192.0.2.1:8786, which is not loopback"),
    ("{scheduler: tls://127.0.0.1:8786}", "dask.security: 'tls://127.0.0.1:8786' is tls://"),
    ("{scheduler: 127.0.0.1:8786}", "dask.scheduler: expected an address such as"),
    ("{locl: 2}", "dask.locl: unknown key (did you mean 'local'?)"),
    ("{local: 0}", "dask.local: expected a number of worker processes"),
    ("{local: 2, scheduler: tcp://127.0.0.1:1}", "dask: give exactly one of scheduler"),
    ("{slurm: {cores: 2}}", "dask.slurm: needs cores (per job) and memory"),
    ("{slurm: {cores: 1, memory: 1GB, wall: '1:00:00'}}",
     "dask.slurm.wall: unknown key (did you mean 'walltime'?)"),
])
def test_bad_dask_settings_are_one_line_and_exit_2(dask, said, tmp_path, capsys):
    job = write_job(tmp_path, "bad", f"dask: {dask}", *CONLL_CHUNK)
    assert main(["validate", str(job)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and str(job) in err


def test_insecure_scheduler_off_loopback_needs_the_job_to_say_so(tmp_path, capsys):
    job = write_job(tmp_path, "lan", "dask: {scheduler: tcp://192.0.2.1:8786, "
                    "allow_insecure: true}", *CONLL_CHUNK)
    assert main(["validate", str(job)]) == 0
    assert "on Dask scheduler tcp://192.0.2.1:8786" in capsys.readouterr().out
    job = write_job(tmp_path, "cli", EXECNET, *CONLL_CHUNK)
    assert main(["run", str(job), "--dask", "tcp://192.0.2.1:8786"]) == 2
    assert "--dask: refusing tcp://192.0.2.1:8786" in capsys.readouterr().err


def test_dask_and_execnet_gateways_together_are_refused(tmp_path, capsys):
    job = write_job(tmp_path, "both", "dask: {local: 2}\nspecs: [[popen, 2]]", *CONLL_CHUNK)
    assert main(["validate", str(job)]) == 2
    assert "dask: a job runs either on Dask or on execnet gateways; drop specs" \
        in capsys.readouterr().err


def blocking(tmp_path: Path, *packages: str) -> dict[str, str]:
    """An environment whose Python cannot import ``packages``."""
    blocker = tmp_path / "block" / "sitecustomize.py"
    blocker.parent.mkdir()
    blocker.write_text(textwrap.dedent(f"""\
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {packages!r}:
                    raise ImportError("No module named " + repr(name))
        sys.meta_path.insert(0, Block())
        """))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}


def test_dask_workers_without_the_toolkit_are_named(tmp_path, capsys):
    """Dask workers whose environment lacks nlp_parallel: one error, saying so."""
    with dask_cluster(tmp_path, worker_env=blocking(tmp_path, "nlp_parallel")) as address:
        job = write_job(tmp_path, "conll", f"dask: {{scheduler: {address}}}", *CONLL_CHUNK)
        assert main(["run", str(job)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"nlp-parallel: error: gateway Dask scheduler {address}: Dask "
                           "worker tcp://127.0.0.1:")
    assert line.endswith(" and 1 more cannot import nlp_parallel: Dask workers need it "
                         "installed (pip install 'nlp_parallel[dask]')")
    assert not (tmp_path / "conll.jsonl").exists()


def test_without_dask_installed_a_dask_job_names_the_extra(tmp_path):
    """In an interpreter that cannot import distributed, one line says what to install."""
    job = write_job(tmp_path, "nodask", "dask: {local: 2}", *CONLL_CHUNK)
    env = blocking(tmp_path, "dask", "distributed")
    proc = subprocess.run([sys.executable, "-m", "nlp_parallel", "run", str(job)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"nlp-parallel: error: {job}: dask: running on Dask needs dask and distributed: "
        "pip install 'nlp_parallel[dask]'"]
