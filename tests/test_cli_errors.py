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


# -- a task given items it cannot take ----------------------------------------------

NP = "{name: chunk, options: {grammar: 'NP: {<DT>?<NN.*>+}'}}"
TAG_CHUNK = ("{name: pipeline, steps: [{name: tag}, "
             "{name: chunk, options: {grammar: 'NP: {<NN>}'}}]}")


def job_text(corpus: str, task: str) -> str:
    return f"corpus: {corpus}\ntask: {task}\nspecs: [[popen, 1]]\noutput: {{path: OUT}}\n"


@pytest.fixture
def no_gateway(monkeypatch):
    """Fail the test if anything starts a gateway."""
    from nlp_parallel.gateways import GatewayPool

    def start(self, background=False):
        raise AssertionError("a gateway was started")

    monkeypatch.setattr(GatewayPool, "start", start)


WRONG_INPUT = {
    "chunk on sents": (
        "{name: treebank, view: sents}", NP,
        "task.name: chunk needs tagged tokens, but corpus.view sents gives tokens without "
        "tags; use view tagged_sents or parsed_sents, or a pipeline with a tag step before "
        "chunk"),
    "tokenize on sents": (
        "{name: treebank, view: sents}", "{name: tokenize}",
        "task.name: tokenize needs texts, but corpus.view sents gives tokens; use view raw"),
    "tag on raw": (
        "{name: treebank, view: raw}", "{name: tag}",
        "task.name: tag needs tokens, but corpus.view raw gives texts; use view sents or "
        "words, or a pipeline with a tokenize step first"),
    "stem on raw": (
        "{name: treebank, view: raw}", "{name: stem}",
        "task.name: stem needs tokens, but corpus.view raw gives texts; use view sents or "
        "words, or a pipeline with a tokenize step first"),
    "lemmatize on raw": (
        "{name: state_union, view: raw}", "{name: lemmatize}",
        "task.name: lemmatize needs tokens, but corpus.view raw gives texts; use view sents, "
        "words or paras, or a pipeline with a tokenize step first"),
    "pipeline starting with chunk": (
        "{name: treebank, view: sents}",
        "{name: pipeline, steps: [" + NP + ", {name: stem}]}",
        "task.steps[0].name: chunk needs tagged tokens, but corpus.view sents gives tokens "
        "without tags; use view tagged_sents or parsed_sents, or put a tag step before chunk"),
    "pipeline chunking before its tag step": (
        "{name: treebank, view: sents}",
        "{name: pipeline, steps: [{name: stem}, " + NP + "]}",
        "task.steps[1].name: chunk needs tagged tokens, but corpus.view sents gives tokens "
        "without tags; use view tagged_sents or parsed_sents, or put a tag step before chunk"),
    "pipeline tagging texts": (
        "{name: treebank, view: raw}", TAG_CHUNK,
        "task.steps[0].name: tag needs tokens, but corpus.view raw gives texts; use view "
        "sents or words, or put a tokenize step first"),
    "pipeline tokenizing tokens": (
        "{name: treebank, view: tagged_sents}", "{name: pipeline, steps: [{name: tokenize}]}",
        "task.steps[0].name: tokenize needs texts, but corpus.view tagged_sents gives tagged "
        "tokens; use view raw, or drop the tokenize step"),
    "tokenize then chunk without tags": (
        "{name: treebank, view: raw}", "{name: pipeline, steps: [{name: tokenize}, " + NP + "]}",
        "task.steps: chunk needs a tag step before it: tokenize gives tokens without tags"),
    "chunk on JSONL tokens": (
        "{path: in.jsonl, format: jsonl, view: sents}", NP,
        "task.name: chunk needs tagged tokens, but corpus.view sents gives tokens without "
        "tags; use view tagged_sents, or a pipeline with a tag step before chunk"),
    "tag on JSONL texts": (
        "{path: in.jsonl, format: jsonl, view: raw}", "{name: tag}",
        "task.name: tag needs tokens, but corpus.view raw gives texts; use view sents, or a "
        "pipeline with a tokenize step first"),
    "chunk on text files": (
        "{path: 'texts/*.txt', format: text, view: words}", NP,
        "task.name: chunk needs tagged tokens, but corpus.view words gives tokens without "
        "tags; use a pipeline with a tag step before chunk"),
    "stem on paragraphs of text files": (
        "{path: 'texts/*.txt', format: text, view: paras}", "{name: stem}",
        "task.name: stem needs tokens, but corpus.view paras gives texts; use view sents or "
        "words, or a pipeline with a tokenize step first"),
    "tokenize on CoNLL files": (
        "{path: in.conll, format: conll, view: tagged_sents}", "{name: tokenize}",
        "task.name: tokenize needs texts, but corpus.view tagged_sents gives tagged tokens; "
        "conll files offer no view with texts"),
}


def input_files(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(
        '{"tokens": ["The", "dog"], "tags": ["DT", "NN"], "text": "The dog."}\n',
        encoding="utf-8")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("The dog barks.\n\nIt sleeps.\n", encoding="utf-8")
    (tmp_path / "in.conll").write_text("The DT B-NP\ndog NN I-NP\n\n", encoding="utf-8")


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("corpus, task, message", WRONG_INPUT.values(), ids=list(WRONG_INPUT))
def test_task_that_cannot_take_the_items_is_refused(tmp_path, capsys, no_gateway, command,
                                                    corpus, task, message):
    """Refused before anything starts, in one line saying what would work."""
    input_files(tmp_path)
    code, err, job, out = run_job(tmp_path, capsys, job_text(corpus, task), command=command)
    assert (code, err) == (2, f"nlp-parallel: error: {job}: {message}\n")
    assert not out.parent.exists()


def test_run_job_refuses_the_same(tmp_path):
    """The Python runner checks what the CLI checks, before any output exists."""
    from nlp_parallel.jobs import JobError, load_job
    from nlp_parallel.runner import run_job as run_from_python

    job_file = tmp_path / "job.yaml"
    out = tmp_path / "out" / "result.jsonl"
    corpus, task, message = WRONG_INPUT["chunk on sents"]
    job_file.write_text(job_text(corpus, task).replace("OUT", str(out)), encoding="utf-8")
    with pytest.raises(JobError) as info:
        run_from_python(load_job(str(job_file)))
    assert str(info.value) == f"{job_file}: {message}"
    assert not out.parent.exists()


FITTING_INPUT = {
    "chunk on tagged_sents": ("{name: treebank, view: tagged_sents}", NP),
    "chunk on parsed_sents": ("{name: treebank, view: parsed_sents}", NP),
    "tag on sents": ("{name: treebank, view: sents}", "{name: tag}"),
    "tag on tagged_sents": ("{name: treebank, view: tagged_sents}", "{name: tag}"),
    "stem on words": ("{name: treebank, view: words}", "{name: stem}"),
    "tokenize on raw": ("{name: treebank, view: raw}", "{name: tokenize}"),
    "tokenize, tag, chunk on raw": (
        "{name: state_union, view: raw}",
        "{name: pipeline, steps: [{name: tokenize}, {name: tag}, " + NP + "]}"),
    "tag then chunk on sents": ("{name: treebank, view: sents}", TAG_CHUNK),
    "pipeline chunking tagged input": (
        "{name: conll2000, view: chunked_sents}", "{name: pipeline, steps: [" + NP + "]}"),
    "chunk on JSONL tagged_sents": ("{path: in.jsonl, format: jsonl, view: tagged_sents}", NP),
    "tokenize on JSONL raw": ("{path: in.jsonl, format: jsonl, view: raw}", "{name: tokenize}"),
    "tokenize on paragraphs of text files": (
        "{path: 'texts/*.txt', format: text, view: paras}", "{name: tokenize}"),
    "a module takes any items": ("{name: treebank, view: raw}",
                                 "{name: module, module: batched_double}"),
}


@pytest.mark.parametrize("corpus, task", FITTING_INPUT.values(), ids=list(FITTING_INPUT))
def test_task_that_can_take_the_items_validates(tmp_path, capsys, no_gateway, corpus, task):
    input_files(tmp_path)
    (tmp_path / "batched_double.py").write_text("def process(item):\n    return item\n")
    code, err, job, out = run_job(tmp_path, capsys, job_text(corpus, task), command="validate")
    assert (code, err) == (0, "")


# -- NLTK data that is not installed, or does not exist ----------------------------

INSTALL = ("install it with `nlp-parallel data install {}` (or `--from DIR` from a local "
           "mirror), or point NLTK_DATA at a directory that has it")


@pytest.fixture
def shared_data_only(monkeypatch):
    """NLTK searches the shared data alone, whatever else this machine has."""
    import nltk.data

    from conftest import SHARED_NLTK_DATA

    monkeypatch.setattr(nltk.data, "path", [str(SHARED_NLTK_DATA)])


MISSING = {
    "chain trained on a corpus not installed": (
        "{name: treebank, view: sents}",
        "{name: tag, options: {model: chain, chain: [{unigram: {corpus: sinica_treebank}}, "
        "{default: NN}]}}",
        "task.options.chain[0].unigram: NLTK resource 'corpora/sinica_treebank' is not "
        "installed; " + INSTALL.format("sinica_treebank")),
    "affix tagger trained on a corpus not installed": (
        "{name: treebank, view: sents}",
        "{name: tag, options: {model: chain, chain: [{affix: -3, train: {corpus: cess_cat}}]}}",
        "task.options.chain[0].train: NLTK resource 'corpora/cess_cat' is not installed; "
        + INSTALL.format("cess_cat")),
    "chunker trained on a corpus not installed": (
        "{name: treebank, view: tagged_sents}",
        "{name: chunk, options: {model: unigram, train: {corpus: conll2007}}}",
        "task.options.train: NLTK resource 'corpora/conll2007' is not installed; "
        + INSTALL.format("conll2007")),
    "tagger model not installed": (
        "{name: treebank, view: sents}", "{name: tag, options: {lang: rus}}",
        "task.options.lang: NLTK resource 'taggers/averaged_perceptron_tagger_rus/' is not "
        "installed; " + INSTALL.format("averaged_perceptron_tagger_rus")),
    "tagger model of a pipeline step not installed": (
        "{name: treebank, view: sents}",
        "{name: pipeline, steps: [{name: tag, options: {lang: rus}}]}",
        "task.steps[0].options.lang: NLTK resource 'taggers/averaged_perceptron_tagger_rus/' "
        "is not installed; " + INSTALL.format("averaged_perceptron_tagger_rus")),
    "punkt model not installed": (
        "{name: treebank, view: raw}", "{name: tokenize, options: {language: german}}",
        "task.options.language: NLTK resource 'tokenizers/punkt_tab/german/' is not "
        "installed; " + INSTALL.format("punkt_tab")),
    "corpus not installed": (
        "{name: reuters, view: sents}", "{name: stem}",
        "corpus.name: NLTK resource 'corpora/reuters' is not installed; "
        + INSTALL.format("reuters")),
    "a tagger language NLTK has no model for": (
        "{name: treebank, view: sents}", "{name: tag, options: {lang: fra}}",
        "task.options.lang: NLTK has no perceptron model for 'fra'; its languages: eng, rus "
        "(installed here: eng)"),
    "a punkt language NLTK has no model for": (
        "{name: treebank, view: raw}", "{name: tokenize, options: {language: englsh}}",
        "task.options.language: NLTK has no punkt_tab model for 'englsh' (did you mean "
        "'english'?); its languages: czech, danish, dutch, english, estonian, finnish, "
        "french, german, greek, italian, malayalam, norwegian, polish, portuguese, russian, "
        "slovene, spanish, swedish, turkish (installed here: english)"),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("corpus, task, message", MISSING.values(), ids=list(MISSING))
def test_missing_resource_is_one_line_naming_file_and_key(
        tmp_path, capsys, no_gateway, shared_data_only, command, corpus, task, message):
    code, err, job, out = run_job(tmp_path, capsys, job_text(corpus, task), command=command)
    assert (code, err) == (2, f"nlp-parallel: error: {job}: {message}\n")
    assert not out.parent.exists()


def test_data_needed_whatever_the_options_is_named_by_the_task(tmp_path, capsys, no_gateway,
                                                               monkeypatch):
    """Lemmatizing needs WordNet whatever its options: the task's name asks for it."""
    import nltk.data
    from nltk.corpus.reader import WordNetCorpusReader
    from nltk.corpus.util import LazyCorpusLoader

    from nlp_parallel.tasks import lemmatize

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "no_data")])
    # A loader of its own: NLTK's is loaded for good once any test has read WordNet.
    monkeypatch.setattr(lemmatize, "wordnet", LazyCorpusLoader("wordnet", WordNetCorpusReader,
                                                               None))
    input_files(tmp_path)
    code, err, job, _ = run_job(
        tmp_path, capsys, job_text("{path: in.jsonl, format: jsonl, view: sents}",
                                   "{name: lemmatize}"), command="validate")
    assert (code, err) == (2, f"nlp-parallel: error: {job}: task.name: NLTK resource "
                              f"'corpora/wordnet' is not installed; {INSTALL.format('wordnet')}\n")


def test_module_with_nothing_to_run_is_bad_input(tmp_path, capsys, no_gateway):
    """Not a poison item killing every worker: refused before any item is sent."""
    (tmp_path / "handles.py").write_text("def handle(item):\n    return item\n")
    for command in ("validate", "run"):
        code, err, job, out = run_job(
            tmp_path, capsys, job_text("{name: treebank, view: sents}",
                                       "{name: module, module: handles}"), command=command)
        assert (code, err) == (2, (
            f"nlp-parallel: error: {job}: task.module: module handles: defines neither "
            f"process(item) nor setup(options), and has no seed-style loop over execnet's "
            f"channel (if __name__ == \"__channelexec__\": for i, arg in channel: ...); "
            f"workers would have nothing to run\n"))
        assert not out.parent.exists()


DUPLICATES = {
    "top-level key": (GOOD + "task: {name: stem}\n",
                      "task: given twice, at lines 3 and 6; a key may appear only once in a "
                      "mapping"),
    "key in a flow mapping": (
        GOOD.replace("{name: tag}", "{name: stem, options: {lowercase: true, lowercase: false}}"),
        "task.options.lowercase: given twice, on line 3 (columns 30 and 47); a key may appear "
        "only once in a mapping"),
    "key in a list item": (
        GOOD.replace("{name: tag}", "\n  name: pipeline\n  steps:\n    - name: tag\n"
                                    "      options: {}\n      name: stem\n"),
        "task.steps[0].name: given twice, at lines 6 and 8; a key may appear only once in a "
        "mapping"),
}


@pytest.mark.parametrize("text, message", DUPLICATES.values(), ids=list(DUPLICATES))
def test_duplicate_key_is_refused(tmp_path, capsys, no_gateway, text, message):
    """PyYAML would keep the last silently; the strict checking names file, key and lines."""
    for command in ("validate", "run"):
        code, err, job, out = run_job(tmp_path, capsys, text, command=command)
        assert (code, err) == (2, f"nlp-parallel: error: {job}: {message}\n")
        assert not out.parent.exists()


def test_merged_keys_may_be_overridden():
    """YAML's merge key brings in defaults that the mapping itself may override."""
    import yaml

    from nlp_parallel.jobs import StrictLoader

    text = ("defaults: &task {name: tag, options: {tagset: universal}}\n"
            "task: {<<: *task, name: stem}\n")
    assert yaml.load(text, Loader=StrictLoader)["task"] == {
        "name": "stem", "options": {"tagset": "universal"}}


def test_far_more_popen_workers_than_cores_is_one_warning_line(tmp_path, capsys, monkeypatch):
    """validate warns as run will; run warns once, then runs."""
    from nlp_parallel import specs

    monkeypatch.setattr(specs.os, "cpu_count", lambda: 1)
    text = GOOD.replace("[[popen, 1]]", "[[popen, 5]]").replace("{name: tag}", "{name: stem}")
    warning = ("nlp-parallel: warning: 5 popen gateways on this machine's 1 CPU core (more "
               "than 4 per core): each is a worker process with its own copy of the task, so "
               "beyond one per core (the default) they add memory and start-up time, not "
               "speed\n")
    code, err, job, out = run_job(tmp_path, capsys, text, command="validate")
    assert (code, err) == (0, warning)
    code, err, job, out = run_job(tmp_path, capsys, text, "--quiet")
    assert (code, err) == (0, warning)
    assert len(out.read_text().splitlines()) == 20
