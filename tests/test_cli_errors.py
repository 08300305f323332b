"""Every bad input exits with code 2 and a short message naming the file and key.

No traceback (unless --debug), and no output file created or clobbered.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from nlp_parallel.cli import main

GOOD = """
corpus: {name: treebank, view: sents, limit: 20}
task: {name: tag}
specs: [[popen, 1]]
output: {path: OUT, format: jsonl}
"""


def run_job(tmp_path: Path, capsys, text: str, *args: str, command: str = "run"):
    job = tmp_path / "job.yaml"
    out = tmp_path / "out" / "result.jsonl"
    job.write_text(textwrap.dedent(text).replace("OUT", str(out)), encoding="utf-8")
    code = main([command, str(job), *args])
    err = capsys.readouterr().err
    return code, err, job, out


def assert_refused(code: int, err: str, job: Path, out: Path, *needles: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    assert "Traceback" not in err
    for needle in (str(job), *needles):
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not out.exists()
    leftovers = list(out.parent.glob(".*.part")) if out.parent.exists() else []
    assert leftovers == []


CASES = {
    "malformed yaml": ("corpus: {name: treebank\ntask: [", ["not valid YAML at line"]),
    "list instead of mapping": ("- corpus\n- task\n", ["expected a mapping of corpus"]),
    "unknown top key": (GOOD.replace("specs:", "spesc:"),
                        ["spesc: unknown key (did you mean 'specs'?)"]),
    "unknown task key": (GOOD.replace("{name: tag}", "{name: tag, optoins: {}}"),
                         ["task.optoins: unknown key (did you mean 'options'?)"]),
    "wrong type": (GOOD + "batch_size: big\n", ["batch_size: expected auto or a positive"]),
    "wrong type in output": (GOOD.replace("format: jsonl}", "format: jsonl, overwrite: maybe}"),
                             ["output.overwrite: expected true or false"]),
    "unknown corpus": (GOOD.replace("name: treebank", "name: treebnak"),
                       ["corpus.name", "treebnak", "did you mean 'treebank'"]),
    "unknown view": (GOOD.replace("view: sents", "view: sent"),
                     ["corpus.view", "did you mean 'sents'"]),
    "view the reader lacks": (GOOD.replace("view: sents", "view: chunked_sents"),
                              ["corpus.view", "treebank"]),
    "unknown fileid": (GOOD.replace("view: sents,", "view: sents, fileids: [wsj_9999.mrg],"),
                       ["corpus.fileids", "wsj_9999.mrg"]),
    "unknown category": (GOOD.replace("name: treebank, view: sents,",
                                      "name: brown, view: sents, categories: [newz],"),
                         ["corpus.categories", "newz"]),
    "unknown task": (GOOD.replace("{name: tag}", "{name: tagg}"),
                     ["task.name: 'tagg' is not one of", "did you mean 'tag'"]),
    "unknown option value": (GOOD.replace("{name: tag}", "{name: tag, options: {tagset: klingon}}"),
                             ["task.options.tagset", "klingon"]),
    "misspelt option value": (GOOD.replace("{name: tag}",
                                           "{name: tag, options: {tagset: univeral}}"),
                              ["task.options.tagset", "did you mean 'universal'"]),
    "unknown option": (GOOD.replace("{name: tag}", "{name: stem, options: {algoritm: porter}}"),
                       ["task.options.algoritm: unknown option", "did you mean 'algorithm'"]),
    "bad spec": (GOOD.replace("[[popen, 1]]", "[[pyhton, 1]]"), ["specs:", "pyhton"]),
    "bad count": (GOOD.replace("[[popen, 1]]", "[[popen, 0]]"),
                  ["specs:", "count must be a positive integer"]),
    "negative limit": (GOOD.replace("limit: 20", "limit: -1"), ["corpus.limit"]),
    "unknown on_error": (GOOD + "on_error: ignore\n",
                         ["on_error: 'ignore' is not one of fail, record, skip"]),
    "record without jsonl": (GOOD.replace("format: jsonl", "format: tagged")
                             + "on_error: record\n",
                             ["on_error: record", "only output.format jsonl", "use skip"]),
    "negative max_restarts": (GOOD + "max_restarts: -1\n",
                              ["max_restarts: expected a whole number"]),
    "invalid grammar": (GOOD.replace("{name: tag}",
                                     "{name: chunk, options: {grammar: 'NP: {<DT>'}}")
                        .replace("view: sents", "view: tagged_sents"),
                        ["task.options.grammar: invalid grammar"]),
    "unknown output format": (GOOD.replace("format: jsonl", "format: jsnol"),
                              ["output.format: 'jsnol' is not one of", "did you mean 'jsonl'"]),
    "format the task cannot fill": (GOOD.replace("format: jsonl", "format: conll"),
                                    ["output.format: conll needs iob"]),
    "missing section": ("corpus: {name: treebank}\ntask: {name: tag}\n",
                        ["output: missing"]),
}


@pytest.mark.parametrize("text, needles", CASES.values(), ids=list(CASES))
def test_bad_job_is_refused(tmp_path, capsys, text, needles):
    code, err, job, out = run_job(tmp_path, capsys, text)
    assert_refused(code, err, job, out, *needles)


def test_validate_refuses_the_same(tmp_path, capsys):
    code, err, job, out = run_job(tmp_path, capsys, GOOD.replace("view: sents", "view: sent"),
                                  command="validate")
    assert_refused(code, err, job, out, "corpus.view")


def test_negative_limit_on_the_command_line(tmp_path, capsys):
    code, err, job, out = run_job(tmp_path, capsys, GOOD, "--limit", "-1")
    assert_refused(code, err, job, out, "--limit: must be at least 0")


def test_bad_specs_on_the_command_line(tmp_path, capsys):
    code, err, job, out = run_job(tmp_path, capsys, GOOD, "--specs", "popen//nice")
    assert_refused(code, err, job, out, "nice needs a value")


def test_missing_job_file(tmp_path, capsys):
    job = tmp_path / "nope.yaml"
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert f"{job}: no such job file" in err and "Traceback" not in err


def test_job_file_not_utf8(tmp_path, capsys):
    job = tmp_path / "job.yaml"
    job.write_bytes(b"corpus: {name: \xff}\n")
    assert main(["run", str(job)]) == 2
    assert "not valid UTF-8" in capsys.readouterr().err


def test_glob_matching_nothing(tmp_path, capsys):
    text = GOOD.replace("name: treebank, view: sents, limit: 20",
                        "path: 'texts/*.txt', format: text, view: paras")
    text = text.replace("{name: tag}", "{name: stem}")
    code, err, job, out = run_job(tmp_path, capsys, text)
    assert_refused(code, err, job, out, "corpus.path", "matches no file")


def test_broken_jsonl_line_is_named(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text('{"tokens": ["a", "b"]}\n{"tokens": [\n',
                                       encoding="utf-8")
    text = GOOD.replace("name: treebank, view: sents, limit: 20",
                        "path: in.jsonl, format: jsonl, view: sents")
    text = text.replace("{name: tag}", "{name: stem}")
    code, err, job, out = run_job(tmp_path, capsys, text)
    assert_refused(code, err, job, out, "corpus.path", "line 2")


def test_non_utf8_input_is_named(tmp_path, capsys):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_bytes(b"caf\xe9 au lait\n")
    text = GOOD.replace("name: treebank, view: sents, limit: 20",
                        "path: 'texts/*.txt', format: text, view: raw")
    text = text.replace("{name: tag}", "{name: tokenize, options: {sentences: none, "
                                       "words: whitespace}}")
    code, err, job, out = run_job(tmp_path, capsys, text)
    assert_refused(code, err, job, out, "corpus.path", "utf-8")


def test_existing_output_is_not_clobbered(tmp_path, capsys):
    out = tmp_path / "out" / "result.jsonl"
    out.parent.mkdir()
    out.write_text("precious\n")
    job = tmp_path / "job.yaml"
    job.write_text(GOOD.replace("OUT", str(out)))
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert "output.path" in err and "exists" in err and "--overwrite" in err
    assert out.read_text() == "precious\n"


def test_output_that_cannot_be_written(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    job = tmp_path / "job.yaml"
    job.write_text(GOOD.replace("OUT", str(blocker / "sub" / "result.jsonl")))
    assert main(["run", str(job)]) == 2
    err = capsys.readouterr().err
    assert str(job) in err and "output.path: cannot write" in err


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, err, _, _ = run_job(tmp_path, capsys, GOOD.replace("view: sents", "view: sent"),
                              "--debug")
    assert code == 2 and "Traceback" in err


def test_no_gateway_started_for_bad_input(tmp_path, capsys, no_orphans):
    run_job(tmp_path, capsys, GOOD.replace("{name: tag}", "{name: tagg}"))
    assert no_orphans() == []
    assert os.environ.get("NLTK_DATA")
