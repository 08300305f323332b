"""Workers read the corpus: every corpus, view, task and format gives the bytes the
driver's own reading gives, and serial NLTK's; limits, starts, resumes and faults
inside shards keep their promises."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import killing_a_worker, wait_gone

from nlp_parallel import GatewayPool
from nlp_parallel.cli import main
from nlp_parallel.corpus import shards as shards_module
from nlp_parallel.jobs import load_job
from nlp_parallel.plan import open_plan
from nlp_parallel.runner import number_lines, run_job, run_plan


@pytest.fixture(scope="module")
def pool():
    with GatewayPool([("popen", 2)]) as started:
        yield started


def job_text(tmp_path: Path, name: str, body: str, read: str) -> Path:
    path = tmp_path / f"{name}.{read}.yaml"
    out = tmp_path / f"{name}.{read}.out"
    path.write_text(textwrap.dedent(body).replace("OUT", str(out)) + f"read: {read}\n")
    return path


def both_readings(tmp_path: Path, name: str, body: str, pool: GatewayPool | None = None):
    """Run a job with the driver reading and with the workers reading; return both
    outputs' bytes and the summaries."""
    outputs, summaries = {}, {}
    for read in ("driver", "workers"):
        job = load_job(str(job_text(tmp_path, name, body, read)))
        with open_plan(job) as plan:
            if read == "workers":
                assert plan.shards is not None, plan.reading
            summaries[read] = run_plan(plan, pool=pool)
        outputs[read] = Path(job.output.path).read_bytes()
    return outputs, summaries


NAMED = {
    "brown-tag": """\
        corpus: {name: brown, view: sents, categories: [news, humor], start: 100, limit: 2500}
        task: {name: tag}
        output: {path: OUT, format: jsonl}
        """,
    "brown-words-stem": """\
        corpus: {name: brown, view: words, fileids: [ca01, ca02]}
        task: {name: stem}
        output: {path: OUT, format: text}
        """,
    "treebank-parsed-lemmatize": """\
        corpus: {name: treebank, view: parsed_sents, limit: 700}
        task: {name: lemmatize}
        output: {path: OUT, format: jsonl}
        """,
    "conll2000-chunk": """\
        corpus: {name: conll2000, view: chunked_sents, fileids: [test.txt], limit: 1200}
        task: {name: chunk, options: {grammar: "NP: {<DT>?<JJ>*<NN.*>+}"}}
        output: {path: OUT, format: conll}
        """,
    "masc-tagged": """\
        corpus: {name: masc_tagged, view: tagged_sents, limit: 1500}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """,
    "cess-esp": """\
        corpus: {name: cess_esp, view: tagged_sents, limit: 800}
        task: {name: stem, options: {algorithm: snowball, language: spanish}}
        output: {path: OUT, format: jsonl}
        """,
    "floresta": """\
        corpus: {name: floresta, view: tagged_sents, start: 50, limit: 600}
        task: {name: stem, options: {algorithm: rslp}}
        output: {path: OUT, format: text}
        """,
    "state-union-sents": """\
        corpus: {name: state_union, view: sents, fileids: [1945-Truman.txt, 1946-Truman.txt]}
        task: {name: tag}
        output: {path: OUT, format: tagged}
        """,
    "webtext-paras": """\
        corpus: {name: webtext, view: paras, fileids: [firefox.txt], limit: 400}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """,
    "abc-raw-tokenize": """\
        corpus: {name: abc, view: raw, fileids: [rural.txt]}
        task: {name: tokenize}
        output: {path: OUT, format: jsonl}
        """,
    "movie-reviews": """\
        corpus: {name: movie_reviews, view: sents, categories: [pos], limit: 2000}
        task: {name: pipeline, steps: [{name: tag}, {name: chunk, options: {grammar: "NP: {<DT>?<JJ>*<NN.*>+}"}}]}
        output: {path: OUT, format: tree}
        """,
    "nps-chat-words": """\
        corpus: {name: nps_chat, view: words, limit: 3000}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """,
    "alpino": """\
        corpus: {name: alpino, view: tagged_sents, limit: 700}
        task: {name: stem, options: {algorithm: snowball, language: dutch}}
        output: {path: OUT, format: jsonl}
        """,
    "indian": """\
        corpus: {name: indian, view: tagged_sents, limit: 500}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """,
    "inaugural-raw-pipeline": """\
        corpus: {name: inaugural, view: raw, start: 3, limit: 4}
        task: {name: pipeline, steps: [{name: tokenize}, {name: tag}]}
        output: {path: OUT, format: jsonl}
        """,
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_corpora_give_the_same_bytes(name, tmp_path, pool):
    outputs, summaries = both_readings(tmp_path, name, NAMED[name], pool)
    assert outputs["workers"] == outputs["driver"]
    assert outputs["workers"], "the job wrote something"
    assert summaries["workers"].items == summaries["driver"].items
    assert summaries["workers"].tokens == summaries["driver"].tokens
    assert summaries["workers"].read_by == "workers"


def test_brown_tagging_equals_serial_nltk(tmp_path, pool):
    from nltk.corpus import brown
    from nltk.tag import PerceptronTagger

    body = """\
        corpus: {name: brown, view: sents, fileids: [cb01, cb02, cb03]}
        task: {name: tag}
        output: {path: OUT, format: jsonl}
        """
    job = load_job(str(job_text(tmp_path, "serial", body, "workers")))
    run_job(job, pool=pool)
    tagger = PerceptronTagger()
    expected = [
        json.dumps({"index": i, "fileid": fileid, "tokens": list(sent),
                    "tags": [t for _, t in tagger.tag(list(sent))]}, ensure_ascii=False)
        for i, (fileid, sent) in enumerate(
            (f, s) for f in ("cb01", "cb02", "cb03") for s in brown.sents(f))]
    assert Path(job.output.path).read_text().splitlines() == expected


# -- the user's files ------------------------------------------------------------------


def user_files(folder: Path) -> None:
    """Files of each format: one bigger than a shard, one without a trailing
    newline, an empty one, CRLF line ends."""
    folder.mkdir()
    paragraphs = [f"Paragraph {p} says something. It has two sentences, number {p}!"
                  for p in range(400)]
    (folder / "big.txt").write_text("\n\n".join(paragraphs) + "\n")
    (folder / "crlf.txt").write_bytes(b"First line here.\r\nSecond.\r\n\r\nNew para.\r\n")
    (folder / "empty.txt").write_text("")
    (folder / "open.txt").write_text("No newline at the end.\n\nReally none")
    tagged = [" ".join(f"w{i}{j}/T{j % 3}" for j in range(6)) for i in range(300)]
    (folder / "big.pos").write_text("\n\n".join(tagged) + "\n")
    (folder / "small.pos").write_bytes(b"a/DT dog/NN\r\n\r\nruns/VBZ")
    conll = ["\n".join(f"w{i}{j} T{j} {'B' if j == 0 else 'I'}-NP" for j in range(5))
             for i in range(300)]
    (folder / "big.conll").write_text("\n\n".join(conll) + "\n")
    (folder / "tail.conll").write_text("the DT B-NP\nend NN I-NP")
    lines = [json.dumps({"tokens": [f"t{i}", "and", f"u{i}"], "tags": ["NN", "CC", "NN"]})
             for i in range(500)]
    (folder / "big.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "crlf.jsonl").write_bytes(b'{"tokens": ["a"], "tags": ["DT"]}\r\n\r\n'
                                        b'{"tokens": ["b"], "tags": ["NN"]}')
    (folder / "empty.jsonl").write_text("")


USER = {
    "text-paras-tokenize": ("*.txt", "text", "paras", "{name: tokenize}", "jsonl"),
    "text-sents-stem": ("*.txt", "text", "sents", "{name: stem}", "text"),
    "text-words-stem": ("*.txt", "text", "words", "{name: stem}", "jsonl"),
    "text-raw-tokenize": ("*.txt", "text", "raw", "{name: tokenize}", "jsonl"),
    "tagged-sents-tag": ("*.pos", "tagged", "sents", "{name: tag}", "tagged"),
    "tagged-tagged-lemmatize": ("*.pos", "tagged", "tagged_sents", "{name: lemmatize}", "jsonl"),
    "conll-chunked-stem": ("*.conll", "conll", "chunked_sents", "{name: stem}", "jsonl"),
    "conll-tagged-chunk": ("*.conll", "conll", "tagged_sents", "{name: chunk, options: {grammar: 'NP: {<T0><T1>}'}}", "conll"),
    "jsonl-tagged-chunk": ("*.jsonl", "jsonl", "tagged_sents", "{name: chunk, options: {grammar: 'NP: {<NN><CC>}'}}", "tree"),
    "jsonl-sents-stem": ("*.jsonl", "jsonl", "sents", "{name: stem}", "jsonl"),
}


@pytest.mark.parametrize("name", sorted(USER))
def test_user_files_give_the_same_bytes(name, tmp_path, pool, monkeypatch):
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 1000)  # big files: many shards
    user_files(tmp_path / "data")
    pattern, fmt, view, task, out = USER[name]
    body = f"""\
        corpus: {{path: "data/{pattern}", format: {fmt}, view: {view}}}
        task: {task}
        output: {{path: OUT, format: {out}}}
        """
    outputs, _ = both_readings(tmp_path, name, body, pool)
    assert outputs["workers"] == outputs["driver"] and outputs["workers"]
    job = load_job(str(job_text(tmp_path, name, body, "workers")))
    with open_plan(job) as plan:
        assert plan.shards is not None
        if view != "raw":
            assert len(plan.shards.shards) > 5, "the big file is read in many shards"


@pytest.mark.parametrize("start, limit", [(0, 1), (7, 30), (250, 600), (399, None),
                                          (1000, 5)])
def test_start_and_limit_fall_inside_shards(start, limit, tmp_path, pool, monkeypatch):
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 700)
    user_files(tmp_path / "data")
    limit_text = "" if limit is None else f", limit: {limit}"
    body = f"""\
        corpus: {{path: "data/big.txt", format: text, view: paras, start: {start}{limit_text}}}
        task: {{name: pipeline, steps: [{{name: tokenize}}, {{name: stem}}]}}
        output: {{path: OUT, format: jsonl}}
        """
    outputs, summaries = both_readings(tmp_path, f"slice-{start}", body, pool)
    assert outputs["workers"] == outputs["driver"]
    expected = max(0, min(400 - start, 400 if limit is None else limit))
    assert summaries["workers"].items == expected


def test_numbering_jsonl_lines():
    text = '{"index": , "tokens": ["{\\"index\\": "]}\n{"index": }\n'
    assert number_lines(text, 41) == ('{"index": 41, "tokens": ["{\\"index\\": "]}\n'
                                      '{"index": 42}\n')


# -- faults inside shards --------------------------------------------------------------


def big_jsonl(folder: Path, sentences: int = 3000) -> None:
    folder.mkdir()
    lines = [json.dumps({"tokens": [f"w{i}", "is", "word", str(i)]}) for i in range(sentences)]
    (folder / "one.jsonl").write_text("\n".join(lines) + "\n")


POISON_AT = 1234


def poison_body(mode: str, on_error: str) -> str:
    return f"""\
        corpus: {{path: "data/one.jsonl", format: jsonl, view: sents}}
        task:
          name: module
          module: remote_modules.poison
          options: {{word: w{POISON_AT}, mode: {mode}}}
        specs: [[popen, 2]]
        timeout: 2
        on_error: {on_error}
        output: {{path: OUT, format: jsonl}}
        """


@pytest.mark.parametrize("mode", ["raise", "exit", "hang"])
@pytest.mark.parametrize("on_error", ["record", "skip"])
def test_poison_item_inside_a_big_shard(mode, on_error, tmp_path, no_orphans):
    big_jsonl(tmp_path / "data")
    job = load_job(str(job_text(tmp_path, f"poison-{mode}", poison_body(mode, on_error),
                                "workers")))
    with open_plan(job) as plan:
        assert plan.shards is not None
        assert len(plan.shards.shards) == 2, "the poison item is one of 1,500 in its shard"
        summary = run_plan(plan)
    lines = Path(job.output.path).read_text().splitlines()
    [failure] = summary.failures
    assert failure.index == POISON_AT and f"w{POISON_AT}" in failure.item
    clean = ["4"] * 3000
    if on_error == "skip":
        assert lines == clean[:POISON_AT] + clean[POISON_AT + 1:]
    else:
        assert lines[:POISON_AT] == clean[:POISON_AT]
        assert lines[POISON_AT + 1:] == clean[POISON_AT + 1:]
        record = json.loads(lines[POISON_AT])
        assert record["index"] == POISON_AT
    errors = [json.loads(line) for line in Path(f"{job.output.path}.errors.jsonl").open()]
    assert [e["index"] for e in errors] == [POISON_AT]
    assert no_orphans() == []


@pytest.mark.parametrize("mode, error_type", [("raise", "ValueError"), ("exit", "WorkerDied"),
                                              ("hang", "Timeout")])
def test_poison_item_inside_a_big_shard_under_fail(mode, error_type, tmp_path, capsys):
    big_jsonl(tmp_path / "data")
    job = job_text(tmp_path, f"poison-{mode}", poison_body(mode, "fail"), "workers")
    assert main(["run", str(job)]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert error_type in first and f"item {POISON_AT}" in first, first
    assert f"w{POISON_AT}" in first


def test_driver_killed_mid_file_then_resumed_gives_identical_bytes(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    big_jsonl(folder, 40_000)
    body = """\
        corpus: {path: "data/one.jsonl", format: jsonl, view: sents}
        task: {name: tag}
        specs: [[popen, 2]]
        output: {path: OUT, format: jsonl}
        """
    clean_job = job_text(tmp_path, "clean", body, "driver")
    run_job(load_job(str(clean_job)))
    clean = (tmp_path / "clean.driver.out").read_bytes()
    job = job_text(tmp_path, "killed", body, "workers")
    output = tmp_path / "killed.workers.out"
    part = output.with_name(f".{output.name}.part")
    proc = subprocess.Popen([sys.executable, "-m", "nlp_parallel", "run", str(job), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    checkpoint_path = Path(f"{output}.checkpoint")
    deadline = time.monotonic() + 120
    # Past a checkpoint, and between two: the part file holds more than it records.
    while not checkpoint_path.exists() or part.stat().st_size < len(clean) // 2:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    import psutil

    processes = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.kill()
    proc.wait()
    assert wait_gone(processes, 20.0) == []
    checkpoint = json.loads(checkpoint_path.read_text())
    assert checkpoint["position"] is not None and 0 < checkpoint["items"] < 40_000
    resumed = subprocess.run([sys.executable, "-m", "nlp_parallel", "run", str(job),
                              "--resume", "--quiet"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_bytes() == clean


def test_worker_killed_while_holding_a_shard(tmp_path, no_orphans, monkeypatch):
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 20_000)
    big_jsonl(tmp_path / "data", 8000)
    body = """\
        corpus: {path: "data/one.jsonl", format: jsonl, view: sents}
        task: {name: tag}
        specs: [[popen, 2]]
        output: {path: OUT, format: jsonl}
        """
    clean_job = load_job(str(job_text(tmp_path, "clean", body, "driver")))
    run_job(clean_job)
    progress, killed = killing_a_worker(no_orphans, 2000)

    job = load_job(str(job_text(tmp_path, "killed", body, "workers")))
    summary = run_job(job, progress)
    assert killed and sum(summary.restarts.values()) == 1
    assert Path(job.output.path).read_bytes() == Path(clean_job.output.path).read_bytes()


def test_bad_user_data_in_a_later_shard_names_file_and_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 2000)
    folder = tmp_path / "data"
    big_jsonl(folder, 1000)
    lines = (folder / "one.jsonl").read_text().splitlines()
    lines[876] = '{"tokens": ["unclosed"'
    (folder / "one.jsonl").write_text("\n".join(lines) + "\n")
    body = """\
        corpus: {path: "data/one.jsonl", format: jsonl, view: sents}
        task: {name: stem}
        specs: [[popen, 2]]
        output: {path: OUT, format: jsonl}
        """
    messages = {}
    for read in ("driver", "workers"):
        job = job_text(tmp_path, f"bad-{read}", body, read)
        assert main(["run", str(job)]) == 2
        messages[read] = capsys.readouterr().err.strip().splitlines()[0]
    assert messages["workers"].split("corpus.path:")[1] == \
        messages["driver"].split("corpus.path:")[1]
    assert "one.jsonl line 877: not valid JSON" in messages["workers"]


def test_progress_estimates_the_total_from_bytes(tmp_path, pool, monkeypatch):
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 5000)
    big_jsonl(tmp_path / "data", 3000)
    body = """\
        corpus: {path: "data/one.jsonl", format: jsonl, view: sents}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """
    estimates: list[int] = []
    job = load_job(str(job_text(tmp_path, "estimate", body, "workers")))
    with open_plan(job) as plan:
        run_plan(plan, pool=pool, estimate=estimates.append)
    assert estimates, "an estimate was given"
    assert all(2700 <= e <= 3300 for e in estimates), estimates
    assert wait_gone([], 0) == []


def test_a_worker_that_cannot_read_a_place_asks_for_bytes(tmp_path):
    from nlp_parallel.worker import Worker, read_place

    data = tmp_path / "a.txt"
    data.write_bytes(b"0123456789")
    assert read_place({"file": str(data), "begin": 2, "end": 5}) == b"234"
    link = tmp_path / "link.txt"
    link.symlink_to(data)
    worker = Worker()
    for place in ({"file": str(tmp_path / "gone.txt"), "begin": 0, "end": 3},
                  {"file": str(link), "begin": 0, "end": 3},  # never through a link
                  {"file": str(data), "begin": 0, "end": 30}):  # shorter than planned
        where = {"shard": {"pieces": [{"fileid": "x", "begin": 0, "end": 3}]},
                 "places": [place]}
        name, fields = worker.shard(7, 0, json.dumps(where))
        assert name == "failed" and fields["seq"] == 7 and "unreadable" in fields


@pytest.mark.parametrize("corpus, task, why", [
    ("{name: treebank_chunk, view: tagged_sents, limit: 300}", "{name: stem}",
     "not plain data"),
    ("{name: treebank, view: sents, limit: 300}",
     "{name: module, module: remote_modules.seed_count}", "seed-style module"),
])
def test_the_summary_says_when_and_why_the_driver_read_the_corpus(corpus, task, why, tmp_path,
                                                                   capsys):
    job = tmp_path / "job.yaml"
    job.write_text(f"corpus: {corpus}\ntask: {task}\nspecs: [[popen, 2]]\nread: workers\n"
                   f"output: {{path: {tmp_path / 'out.jsonl'}, format: jsonl}}\n")
    code = main(["run", str(job)])
    err = capsys.readouterr().err
    assert code == 0, err
    line = next(line for line in err.splitlines() if "read by the driver" in line)
    assert why in line


def test_validate_says_who_reads_the_corpus(tmp_path, capsys):
    for read, said in (("workers", "read by the workers in 4 shards (0.2 MiB)"),
                       ("driver", "read by the driver (the job says read: driver)")):
        job = tmp_path / f"{read}.yaml"
        job.write_text("corpus: {name: brown, view: sents, fileids: [ca01, ca02, ca03, ca04, "
                       "ca05, ca06, ca07, ca08, ca09, ca10]}\ntask: {name: stem}\n"
                       f"read: {read}\noutput: {{path: {tmp_path / 'o.jsonl'}}}\n")
        assert main(["validate", str(job)]) == 0
        assert said in capsys.readouterr().out


def test_read_must_be_auto_workers_or_driver(tmp_path, capsys):
    job = tmp_path / "job.yaml"
    job.write_text("corpus: {name: brown, view: sents}\ntask: {name: stem}\nread: worker\n"
                   f"output: {{path: {tmp_path / 'o.jsonl'}}}\n")
    assert main(["validate", str(job)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("read: 'worker' is not one of auto, workers, driver "
                        "(did you mean 'workers'?)")
    assert len(err.splitlines()) == 1


TREEBANK = "{name: treebank, view: sents, fileids: [wsj_0001.mrg]}"
BROWN = "{name: brown, view: sents, fileids: [ca01]}"


@pytest.mark.parametrize("corpus, task, specs, reads", [
    (TREEBANK, "{name: stem}", "[[popen, 2]]", "driver"),
    (TREEBANK, "{name: stem}", "[[popen, 1]]", "driver"),
    (TREEBANK, "{name: stem}", "[[popen, 3]]", "workers"),
    (TREEBANK, "{name: stem}", "[popen, popen, popen, popen]", "workers"),
    # Plain tagged text, which workers read directly, and a count, whose driver merges.
    (BROWN, "{name: stem}", "[[popen, 2]]", "workers"),
    (TREEBANK, "{name: count}", "[[popen, 2]]", "workers"),
])
def test_auto_reading_leaves_two_local_gateways_to_the_driver(corpus, task, specs, reads,
                                                              tmp_path, capsys):
    job = tmp_path / "job.yaml"
    output = "o.json, format: json" if "count" in task else "o.jsonl"
    job.write_text(f"corpus: {corpus}\ntask: {task}\n"
                   f"specs: {specs}\noutput: {{path: {tmp_path / output}}}\n")
    assert main(["validate", str(job)]) == 0
    out = capsys.readouterr().out
    assert f"read by the {reads}" in out
    if reads == "driver":
        assert "read: auto with" in out and "read: workers has them read it" in out


@pytest.mark.parametrize("resumed_shard_bytes", [3000, 7000])
def test_resume_over_other_shards_counts_its_way_back(resumed_shard_bytes, tmp_path, pool,
                                                      monkeypatch):
    """A checkpoint's place among shards of another size (another version's, or
    files cut elsewhere) is not trusted: the resumed run counts items to its start."""
    from conftest import interrupted

    big_jsonl(tmp_path / "data", 3000)
    body = """\
        corpus: {path: "data/one.jsonl", format: jsonl, view: sents}
        task: {name: stem}
        specs: [[popen, 2]]
        output: {path: OUT, format: jsonl}
        """
    clean = load_job(str(job_text(tmp_path, "clean", body, "driver")))
    run_job(clean, pool=pool)
    job = job_text(tmp_path, "resumed", body, "workers")
    monkeypatch.setattr(shards_module, "SHARD_BYTES", 2000)
    interrupted(job, 1000)
    output = tmp_path / "resumed.workers.out"
    saved = json.loads(Path(f"{output}.checkpoint").read_text())
    assert saved["position"][0] > 0 and saved["items"] >= 1000
    monkeypatch.setattr(shards_module, "SHARD_BYTES", resumed_shard_bytes)
    run_job(load_job(str(job)), resume=True, pool=pool)
    assert output.read_bytes() == Path(clean.output.path).read_bytes()


def test_progress_estimates_the_total_where_the_driver_reads(tmp_path, pool):
    folder = tmp_path / "data"
    folder.mkdir()
    for n in range(6):  # files of about the same size: the estimate is close
        lines = [json.dumps({"tokens": [f"w{n}{i}", "and", "more"]}) for i in range(500)]
        (folder / f"part{n}.jsonl").write_text("\n".join(lines) + "\n")
    body = """\
        corpus: {path: "data/*.jsonl", format: jsonl, view: sents}
        task: {name: stem}
        output: {path: OUT, format: jsonl}
        """
    estimates: list[int] = []
    job = load_job(str(job_text(tmp_path, "estimate", body, "driver")))
    with open_plan(job) as plan:
        assert plan.expected is None, "the total is not known up front"
        run_plan(plan, pool=pool, estimate=estimates.append)
    assert estimates and all(2800 <= e <= 3200 for e in estimates), estimates
