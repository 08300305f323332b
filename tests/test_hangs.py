"""A hung item is always resolved: for any batch timeout, and without one, from
Python and from the command line, whether the hung worker can say which item it is
on (a sleep) or not (a regular expression backtracking with the GIL held)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nlp_parallel
from nlp_parallel import PoisonItem
from nlp_parallel.cli import main
from remote_modules import faulty

ITEMS = range(60)
HUNG = 30
CLEAN = [i + 1 for i in ITEMS]
TESTS = Path(__file__).resolve().parent


def hang_map(on_error, timeout, how="hang_on"):
    return nlp_parallel.map(faulty, ITEMS, [("popen", 2)], options={how: HUNG},
                            timeout=timeout, on_error=on_error)


@pytest.mark.parametrize("timeout, on_error", [(1.5, "skip"), (2, "record"), (3, "skip"),
                                               (5, "record")])
def test_any_timeout_resolves_a_hung_item(timeout, on_error, no_orphans):
    results = hang_map(on_error, timeout)
    if on_error == "skip":
        assert results == CLEAN[:HUNG] + CLEAN[HUNG + 1:]
    else:
        failure = results[HUNG]
        assert (failure.index, failure.error_type) == (HUNG, "Timeout")
        assert f"{timeout:g} s batch timeout" in failure.message
        assert results[:HUNG] + results[HUNG + 1:] == CLEAN[:HUNG] + CLEAN[HUNG + 1:]
    assert no_orphans() == [], "hung workers were killed"


@pytest.mark.parametrize("timeout", [2, 5])
def test_a_hung_item_fails_a_run_under_fail(timeout):
    with pytest.raises(PoisonItem) as info:
        hang_map("fail", timeout)
    assert info.value.index == HUNG and info.value.error_type == "Timeout"
    assert f"no result within the {timeout} s batch timeout (on " in str(info.value)


@pytest.mark.parametrize("timeout", [1.5, 4])
def test_an_item_hung_with_the_gil_held_is_found_by_splitting(timeout):
    """A worker that cannot say where it hangs: its batch is narrowed down."""
    assert hang_map("skip", timeout, how="spin_on") == CLEAN[:HUNG] + CLEAN[HUNG + 1:]


def test_without_a_timeout_the_default_resolves_a_hung_item(monkeypatch):
    """The default floor (300 s) shortened through NLP_PARALLEL_HUNG_AFTER."""
    monkeypatch.setenv("NLP_PARALLEL_HUNG_AFTER", "2")
    results = hang_map("record", None)
    failure = results[HUNG]
    assert (failure.index, failure.error_type) == (HUNG, "Timeout")
    assert "x the batch's expected time" in failure.message
    assert results[:HUNG] + results[HUNG + 1:] == CLEAN[:HUNG] + CLEAN[HUNG + 1:]


def hang_job(tmp_path: Path, timeout: str, on_error: str) -> tuple[Path, Path]:
    corpus = tmp_path / "items.jsonl"
    # Item i holds i + 1 tokens, so the task's token counts say which items were written.
    corpus.write_text("".join(json.dumps({"tokens": [str(i)] * (i + 1)}) + "\n" for i in ITEMS))
    output = tmp_path / "out.jsonl"
    job = tmp_path / "hang.yaml"
    job.write_text(textwrap.dedent(f"""\
        corpus: {{path: items.jsonl, format: jsonl, view: sents}}
        task:
          name: module
          module: remote_modules.poison
          options: {{word: "{HUNG}", mode: hang}}
        specs: [[popen, 2]]
        {timeout}
        on_error: {on_error}
        output: {{path: {output}}}
        """))
    return job, output


@pytest.mark.parametrize("timeout", ["timeout: 2", "timeout: 5", ""])
def test_the_command_line_resolves_a_hung_item(timeout, tmp_path):
    """``nlp-parallel run`` as a user starts it, in its own process."""
    job, output = hang_job(tmp_path, timeout, "skip")
    env = dict(os.environ, NLP_PARALLEL_HUNG_AFTER="2",
               PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "nlp_parallel", "run", str(job)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    counts = [json.loads(line) for line in output.read_text().splitlines()]
    assert counts == [i + 1 for i in ITEMS if i != HUNG]
    assert f"1 items failed (indexes {HUNG})" in done.stdout + done.stderr


def test_a_bad_hung_after_is_one_clear_line(tmp_path, monkeypatch, capsys):
    job, output = hang_job(tmp_path, "", "skip")
    monkeypatch.setenv("NLP_PARALLEL_HUNG_AFTER", "soon")
    assert main(["run", str(job)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("environment variable NLP_PARALLEL_HUNG_AFTER: 'soon' is not a "
                         "positive number of seconds")
    assert not output.exists()


def test_a_worker_says_which_item_it_is_stuck_on():
    """The worker's watch thread names the item that runs long, while it runs."""
    from nlp_parallel import worker
    from nlp_parallel.modules import RemoteModule

    module = RemoteModule.resolve(faulty)
    with nlp_parallel.GatewayPool([("popen", 1)]) as pool:
        channel = pool.gateways[0].gateway.remote_exec(RemoteModule.resolve(worker).source)
        assert channel.receive(30)[0] == "hello"
        channel.send(("setup", {"name": module.name, "emit": "results", "source": module.source,
                                "filename": module.filename,
                                "options": json.dumps({"hang_on": 7})}))
        assert channel.receive(30) == ("ready", {})
        channel.send(("batch", {"seq": 3, "start": 5, "items": json.dumps([5, 6, 7, 8])}))
        assert channel.receive(30) == ("stuck", {"seq": 3, "index": 7})
