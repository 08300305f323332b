"""Fault injection on whole jobs: killed workers, killed and signalled drivers, and
sentences that raise, kill or hang a task under each ``on_error`` policy.  Every
case is compared byte for byte with a clean run's output: nothing lost, nothing
duplicated, no process left behind."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from nlp_parallel.cli import main
from nlp_parallel.jobs import load_job
from nlp_parallel.runner import run_job

from conftest import (checkpointed, gated_job, interrupted, killing_a_worker, start_driver,
                      wait_gone, workers)

BROWN = 20_000
POISON_INDEX, POISON_WORD = 152, "Appellate"  # the only treebank sentence of 400 with it


def write_job(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).replace("OUT", str(tmp_path / f"{name}.jsonl")))
    return path


def brown_job(tmp_path: Path, name: str = "brown", limit: int = BROWN,
              read: str = "auto") -> Path:
    """The brown tagging job; ``read: driver`` has the driver read, ``read: workers``
    (and ``auto``: brown is plain tagged text) has the workers read shards."""
    return write_job(tmp_path, name, f"""\
        corpus: {{name: brown, view: sents, limit: {limit}}}
        task: {{name: tag}}
        specs: [[popen, 2]]
        read: {read}
        output: {{path: OUT}}
        """)


#: Who reads the corpus in the fault tests: the driver, and the workers (shards).
READS = pytest.mark.parametrize("read", ["driver", "workers"])


@pytest.fixture(scope="module")
def clean_brown(tmp_path_factory) -> bytes:
    """The 20,000-sentence brown tagging job, undisturbed."""
    tmp_path = tmp_path_factory.mktemp("clean")
    run_job(load_job(str(brown_job(tmp_path))))
    return (tmp_path / "brown.jsonl").read_bytes()


def wait_for_checkpoint(output: Path, items: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while checkpointed(output) < items:
        assert proc.poll() is None, f"the run ended early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)


def wait_for_checkpoint_or_end(output: Path, items: int, proc: subprocess.Popen) -> None:
    """As :func:`wait_for_checkpoint`, but a run may also end (it has little left)."""
    deadline = time.monotonic() + 120
    while checkpointed(output) < items and proc.poll() is None:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)


def wait_for_part(output: Path, size: int, proc: subprocess.Popen) -> None:
    """Wait until the run's part file holds ``size`` bytes."""
    part = output.with_name(f".{output.name}.part")
    deadline = time.monotonic() + 120
    while not part.exists() or part.stat().st_size < size:
        assert proc.poll() is None, f"the run ended early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)


def descendants(proc: subprocess.Popen) -> list[int]:
    """The driver's workers and their fork server."""
    return [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]


# -- a worker dies -----------------------------------------------------------------


@READS
@pytest.mark.parametrize("at", [500, 10_000, 19_000])
def test_worker_killed_mid_job_loses_nothing(at, read, tmp_path, clean_brown, no_orphans):
    progress, killed = killing_a_worker(no_orphans, at)

    summary = run_job(load_job(str(brown_job(tmp_path, read=read))), progress)
    assert killed and sum(summary.restarts.values()) == 1
    assert (tmp_path / "brown.jsonl").read_bytes() == clean_brown
    assert not Path(f"{tmp_path}/brown.jsonl.checkpoint").exists()


# -- the driver dies ------------------------------------------------------------------


@READS
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.9])
def test_driver_killed_then_resumed_gives_identical_bytes(fraction, read, tmp_path,
                                                           clean_brown):
    job, output = brown_job(tmp_path, read=read), tmp_path / "brown.jsonl"
    proc = start_driver(job)
    # Between checkpoints: the part file holds more than the checkpoint records.
    wait_for_part(output, int(fraction * len(clean_brown)), proc)
    processes = descendants(proc)
    running = workers(processes)  # before the kill: once it is dead, they go too
    proc.kill()
    proc.wait()
    assert len(running) == 2
    assert wait_gone(processes, 20.0) == [], "workers outlived the driver"
    assert not output.exists()
    resumed = start_driver(job, "--resume")
    assert resumed.wait(180) == 0, resumed.stderr.read()
    assert output.read_bytes() == clean_brown


@READS
def test_driver_killed_again_and_again(read, tmp_path, clean_brown):
    """Killed at arbitrary moments (starting, writing, checkpointing), resumed each
    time: the output is still the clean run's, byte for byte.  The first kill comes
    within half a second of the first checkpoint, so it lands mid-run; a later run
    may finish before its kill on a fast machine, which ends the killing early."""
    job = brown_job(tmp_path, "again", read=read)
    output = tmp_path / "again.jsonl"
    delays = random.Random(7)
    progress = [0]
    for kill in range(4):
        proc = start_driver(job, "--resume")
        if kill % 2 == 0:  # soon after more progress is checkpointed
            if kill:
                wait_for_checkpoint_or_end(output, progress[-1] + 1, proc)
            else:
                wait_for_checkpoint(output, 1, proc)
            time.sleep(delays.uniform(0.0, 0.5))
        else:  # at any moment, starting up included
            time.sleep(delays.uniform(0.1, 1.5))
        if proc.poll() is not None:  # finished before the kill
            assert proc.returncode == 0, proc.stderr.read()
            break
        proc.kill()
        proc.wait()
        progress.append(checkpointed(output))
    assert 0 < progress[1] < BROWN, progress
    assert progress == sorted(progress), progress  # a resumed run never goes back
    if not output.exists():
        proc = start_driver(job, "--resume")
        assert proc.wait(120) == 0, proc.stderr.read()
    assert output.read_bytes() == clean_brown


@READS
@pytest.mark.parametrize("sig, code, said", [(signal.SIGTERM, 143, "terminated"),
                                             (signal.SIGINT, 130, "interrupted")])
def test_signal_stops_workers_and_keeps_output_resumable(sig, code, said, read, tmp_path):
    gate = tmp_path / "gate"
    job, output = gated_job(tmp_path, read, gate, "cf01"), tmp_path / "gated.jsonl"
    reference = tmp_path / "reference.jsonl"
    assert main(["run", str(job), "--output", str(reference), "--quiet"]) == 0  # no gate
    gate.touch()  # the run waits once it reaches cf01, after 15,280 sentences
    proc = start_driver(job)
    wait_for_part(output, 1, proc)  # items written: the run is under way, and cannot end
    processes = descendants(proc)
    proc.send_signal(sig)
    assert proc.wait(30) == code
    err = proc.stderr.read()
    assert f"{said}; workers stopped" in err and f"run {job} --resume" in err
    assert "Traceback" not in err
    assert wait_gone(processes, 5.0) == []
    assert checkpointed(output) > 0 and not output.exists()
    saved = json.loads(Path(f"{output}.checkpoint").read_text())
    assert saved["last_index"] == saved["items"] - 1
    part = output.with_name(f".{output.name}.part")
    assert part.stat().st_size == saved["offset"], "a clean stop records all it wrote"
    assert len(part.read_bytes().splitlines()) == saved["items"]
    gate.unlink()
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    assert output.read_bytes() == reference.read_bytes()


# -- resuming ---------------------------------------------------------------------------


def treebank_job(tmp_path: Path, options: str = "{}") -> Path:
    return write_job(tmp_path, "tb", f"""\
        corpus: {{name: treebank, view: sents, limit: 1500}}
        task: {{name: tag, options: {options}}}
        specs: [[popen, 2]]
        batch_size: 50
        output: {{path: OUT}}
        """)


def test_resume_refusals_and_no_ops(tmp_path, capsys):
    job, output = treebank_job(tmp_path), tmp_path / "tb.jsonl"
    interrupted(job, 500)
    assert checkpointed(output) >= 500 and not output.exists()

    # A fresh run does not throw the partial work away unasked.
    assert main(["run", str(job), "--quiet"]) == 2
    assert "pass --resume to continue it or --overwrite to start over" in capsys.readouterr().err

    # Settings that shape the output must match the interrupted run's.
    treebank_job(tmp_path, options="{tagset: universal}")
    assert main(["run", str(job), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{job}: output.path: cannot resume" in err
    assert "the job's task.options.tagset changed" in err
    assert len(err.strip().splitlines()) == 1

    # Gateways are not among them: resume on other specs.
    treebank_job(tmp_path)
    assert main(["run", str(job), "--resume", "--specs", "popen", "--quiet"]) == 0
    assert not Path(f"{output}.checkpoint").exists()
    clean = tmp_path / "clean.jsonl"
    assert main(["run", str(job), "--output", str(clean), "--quiet"]) == 0
    assert output.read_bytes() == clean.read_bytes()

    # Resuming a finished job says so and changes nothing.
    before = output.stat().st_mtime_ns
    assert main(["run", str(job), "--resume"]) == 0
    assert "already complete; nothing to resume" in capsys.readouterr().err
    assert output.stat().st_mtime_ns == before


def test_resume_without_a_checkpoint_runs_from_the_start(tmp_path):
    job, output = treebank_job(tmp_path), tmp_path / "tb.jsonl"
    assert main(["run", str(job), "--resume", "--quiet"]) == 0
    assert len(output.read_text().splitlines()) == 1500


def test_overwrite_starts_an_interrupted_run_over(tmp_path):
    job, output = treebank_job(tmp_path), tmp_path / "tb.jsonl"
    interrupted(job, 300)
    assert main(["run", str(job), "--overwrite", "--quiet"]) == 0
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["index"] for r in records] == list(range(1500))


# -- sentences that break the task ---------------------------------------------------------


def poison_job(tmp_path: Path, mode: str | None, on_error: str) -> Path:
    return write_job(tmp_path, f"poison-{mode}-{on_error}", f"""\
        corpus: {{name: treebank, view: sents, limit: 400}}
        task:
          name: module
          module: remote_modules.poison
          options: {{word: {POISON_WORD if mode else "null"}, mode: {mode}}}
        specs: [[popen, 2]]
        timeout: 1
        on_error: {on_error}
        output: {{path: OUT}}
        """)


@pytest.fixture(scope="module")
def clean_counts(tmp_path_factory) -> list[str]:
    tmp_path = tmp_path_factory.mktemp("poison")
    run_job(load_job(str(poison_job(tmp_path, None, "fail"))))
    return (tmp_path / "poison-None-fail.jsonl").read_text().splitlines()


@pytest.mark.parametrize("mode, error_type", [("raise", "ValueError"), ("exit", "WorkerDied"),
                                              ("hang", "Timeout")])
def test_poison_sentence_under_fail(mode, error_type, tmp_path, capsys):
    job = poison_job(tmp_path, mode, "fail")
    assert main(["run", str(job)]) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert f"{error_type}" in first and f"item {POISON_INDEX}" in first
    assert "Illinois Appellate Court" in first, "the sentence's text is shown"
    assert "Traceback" not in err
    assert not (tmp_path / f"poison-{mode}-fail.jsonl").exists()


@pytest.mark.parametrize("mode, error_type", [("raise", "ValueError"), ("exit", "WorkerDied"),
                                              ("hang", "Timeout")])
def test_poison_sentence_is_recorded_in_place(mode, error_type, tmp_path, clean_counts, capsys):
    job = poison_job(tmp_path, mode, "record")
    assert main(["run", str(job)]) == 0
    lines = (tmp_path / f"poison-{mode}-record.jsonl").read_text().splitlines()
    assert lines[:POISON_INDEX] == clean_counts[:POISON_INDEX]
    assert lines[POISON_INDEX + 1:] == clean_counts[POISON_INDEX + 1:]
    record = json.loads(lines[POISON_INDEX])
    assert record["index"] == POISON_INDEX and record["error"]["type"] == error_type
    assert "1 items failed (indexes 152)" in capsys.readouterr().err


@pytest.mark.parametrize("mode, error_type", [("raise", "ValueError"), ("exit", "WorkerDied"),
                                              ("hang", "Timeout")])
def test_poison_sentence_is_skipped_and_listed(mode, error_type, tmp_path, clean_counts, capsys,
                                               no_orphans):
    job = poison_job(tmp_path, mode, "skip")
    output = tmp_path / f"poison-{mode}-skip.jsonl"
    assert main(["run", str(job)]) == 0
    assert output.read_text().splitlines() == (clean_counts[:POISON_INDEX]
                                               + clean_counts[POISON_INDEX + 1:])
    err = capsys.readouterr().err
    assert f"1 items failed (indexes 152); listed in {output}.errors.jsonl" in err
    [error] = [json.loads(line) for line in Path(f"{output}.errors.jsonl").read_text().splitlines()]
    assert (error["index"], error["type"]) == (POISON_INDEX, error_type)
    assert "Illinois Appellate Court" in error["item"]
    assert no_orphans() == []
