"""Run settings, validated once with one wording for the Python API and job files,
and the errors every caller can rely on.  Pure logic: no process is started."""

from __future__ import annotations

import pytest

import nlp_parallel
from nlp_parallel import ConfigError, ItemError, PoisonItem, RemoteTaskError
from nlp_parallel.jobs import parse_job
from nlp_parallel.settings import OnError, run_options
from remote_modules import remote_double

GOOD_JOB = {"corpus": {"name": "treebank", "view": "sents"}, "task": {"name": "stem"},
            "output": {"path": "out.jsonl"}}


@pytest.mark.parametrize("key, value, message", [
    ("timeout", "5", "timeout: expected a positive number of seconds, not '5'"),
    ("timeout", 0, "timeout: expected a positive number of seconds, not 0"),
    ("timeout", True, "timeout: expected a positive number of seconds, not True"),
    ("batch_size", "big", "batch_size: expected auto or a positive integer, not 'big'"),
    ("batch_size", 0, "batch_size: expected auto or a positive integer, not 0"),
    ("on_error", "skp", "on_error: 'skp' is not one of fail, record, skip (did you mean 'skip'?)"),
    ("max_restarts", -1, "max_restarts: expected a whole number of restarts per gateway "
                         "(0 or more), not -1"),
])
def test_one_wording_for_the_api_and_job_files(key, value, message, tmp_path):
    with pytest.raises(ConfigError) as from_api:
        run_options(**{key: value})
    assert str(from_api.value) == message
    with pytest.raises(ConfigError) as from_job:
        parse_job({**GOOD_JOB, key: value}, str(tmp_path / "job.yaml"))
    assert str(from_job.value).endswith(message)


def test_a_job_holds_the_policy_as_an_enum(tmp_path):
    job = parse_job({**GOOD_JOB, "on_error": "skip"}, str(tmp_path / "job.yaml"))
    assert job.on_error is OnError.SKIP
    assert run_options(on_error="record").on_error is OnError.RECORD


def test_start_timeout_is_checked_too():
    with pytest.raises(ConfigError, match="start_timeout: expected a positive number"):
        run_options(start_timeout="soon")


def test_specs_and_pool_together_is_a_config_error():
    with pytest.raises(ConfigError, match="give either specs or pool, not both"):
        nlp_parallel.map(remote_double, [1], specs=[("popen", 1)], pool=object())
    with pytest.raises(ConfigError, match="give either specs or pool, not both"):
        nlp_parallel.ParallelStemmer(specs=[("popen", 1)], pool=object())


def test_one_base_catches_any_failed_item():
    raised = [PoisonItem(3, "the item", "Timeout", "no result"),
              RemoteTaskError("gw0", 4, "ValueError", "bad", "Traceback ...", "x")]
    for error in raised:
        with pytest.raises(ItemError) as info:
            raise error
        assert info.value.index in (3, 4) and info.value.error_type


@pytest.mark.parametrize("task, fmt, needed", [
    ({"name": "tag"}, "conll", "iob"), ({"name": "stem"}, "tagged", "tags"),
    ({"name": "tag"}, "tree", "tree"),
    ({"name": "pipeline", "steps": [{"name": "tokenize"}, {"name": "tag"}]},
     "conll", "iob"),
])
def test_an_output_format_the_task_cannot_fill_is_refused(task, fmt, needed, tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_job({**GOOD_JOB, "task": task, "output": {"path": "o", "format": fmt}},
                  str(tmp_path / "job.yaml"))
    assert str(info.value) == (f"output.format: {fmt} needs {needed}, which task "
                               f"{task['name']} does not produce; use jsonl or text")


@pytest.mark.parametrize("task, fmt", [
    ({"name": "chunk"}, "conll"), ({"name": "chunk"}, "tree"), ({"name": "chunk"}, "tagged"),
    ({"name": "tag"}, "tagged"),
    ({"name": "pipeline", "steps": [{"name": "tag"}, {"name": "chunk"}]}, "tree"),
])
def test_an_output_format_the_task_fills_is_accepted(task, fmt, tmp_path):
    job = parse_job({**GOOD_JOB, "task": task, "output": {"path": "o", "format": fmt}},
                    str(tmp_path / "job.yaml"))
    assert job.output.format == fmt
