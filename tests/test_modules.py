"""Resolving the module workers run: batched, seed-style, or refused before any item goes."""

from __future__ import annotations

import textwrap

import pytest
from remote_modules import batched_double, remote_double, seed_faulty

import nlp_parallel
from nlp_parallel import worker
from nlp_parallel.errors import ConfigError
from nlp_parallel.modules import RemoteModule

NOTHING_TO_RUN = (
    "module {}: defines neither process(item) nor setup(options), and has no seed-style "
    "loop over execnet's channel (if __name__ == \"__channelexec__\": for i, arg in "
    "channel: ...); workers would have nothing to run")


@pytest.mark.parametrize("module, batched", [
    (batched_double, True),
    (remote_double, False),   # the seed example: a loop under the __channelexec__ guard
    (seed_faulty, False),
    (worker, False),          # the toolkit's own loop: channel used at module level
    ("nlp_parallel.remote_tasks.pipeline", True),
])
def test_batched_and_seed_modules_resolve(module, batched):
    assert RemoteModule.resolve(module).batched is batched


@pytest.mark.parametrize("source, batched", [
    ("from operator import neg as process\n", True),
    ("try:\n    from fast import setup\nexcept ImportError:\n    def setup(options):\n"
     "        return str\n", True),
    ("import json\nprocess: object = json.dumps\n", True),
    ("for (i, arg) in channel:\n    channel.send((i, arg))\n", False),  # an unguarded seed loop
])
def test_process_or_setup_bound_any_way_counts(source, batched):
    assert RemoteModule.from_source("mod", source).batched is batched


@pytest.mark.parametrize("source", [
    "",
    "def handle(item):\n    return item\n",
    "def process_item(item):\n    return item\n\nclass Setup:\n    pass\n",
    "def serve(channel):\n    return channel\n",  # a channel parameter is not a loop
])
def test_module_with_nothing_to_run_is_refused(source):
    with pytest.raises(ConfigError) as info:
        RemoteModule.from_source("mod", source)
    assert str(info.value) == NOTHING_TO_RUN.format("mod")


def test_map_refuses_it_before_sending_items(tmp_path, monkeypatch, no_orphans):
    """From Python too, at the call: no gateway starts and no item is read."""
    (tmp_path / "nothing_to_run.py").write_text(textwrap.dedent("""
        def handle(item):
            return item
    """))
    monkeypatch.syspath_prepend(str(tmp_path))

    def items():
        raise AssertionError("an item was read")
        yield

    for call in (nlp_parallel.map, nlp_parallel.imap, nlp_parallel.imap_text):
        with pytest.raises(ConfigError) as info:
            call("nothing_to_run", items(), [("popen", 1)])
        assert str(info.value) == NOTHING_TO_RUN.format("nothing_to_run")
    assert no_orphans() == []


@pytest.mark.parametrize("name", ["chunk", "lemmatize", "pipeline", "stem", "tag", "tokenize"])
def test_the_toolkits_own_modules_resolve_as_their_parse_reads_them(name):
    """Resolved without parsing, yet as the parse reads them: batched, and needing
    NLTK exactly when they import it."""
    resolved = RemoteModule.resolve(f"nlp_parallel.remote_tasks.{name}")
    parsed = RemoteModule.from_source(resolved.name, resolved.source, resolved.filename)
    assert resolved == parsed and resolved.builtin


def test_the_toolkits_package_itself_is_no_task():
    with pytest.raises(ConfigError, match="defines neither process"):
        RemoteModule.resolve("nlp_parallel.remote_tasks")
