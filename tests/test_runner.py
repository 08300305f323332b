"""run_job: a job run from Python writes what ``nlp-parallel run`` writes."""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from nltk.corpus import conll2000

from nlp_parallel.cli import main
from nlp_parallel.engine import Session
from nlp_parallel.jobs import Job, JobError, load_job
from nlp_parallel.runner import run_job
from nlp_parallel.specs import parse_specs

CONFIGS = Path(__file__).resolve().parent.parent / "corpora_configs"


TOKENIZE_TEXT = """
corpus: {name: state_union, view: raw, fileids: [1945-Truman.txt, 1946-Truman.txt]}
task: {name: tokenize}
output: {path: out/tokens.txt, format: text}
"""


def limited(job_file: Path, out: Path, limit: int | None) -> Job:
    job = load_job(str(job_file))
    corpus = job.corpus if limit is None else replace(job.corpus, limit=limit)
    return job.with_overrides(corpus=corpus, output=replace(job.output, path=str(out)),
                              specs=parse_specs([("popen", 2)]))


@pytest.mark.parametrize("config, limit", [
    ("conll2000_chunk_regexp.yaml", 300),  # conll, tagged items
    ("quickstart.yaml", None),  # user files by path, a two-step pipeline
    ("tokenize_text.yaml", None),  # a line per sentence: many lines per item
])
def test_same_bytes_as_the_cli_and_progress_counts_items(tmp_path, capsys, config, limit):
    job_file = CONFIGS / config
    if config == "tokenize_text.yaml":
        job_file = tmp_path / config
        job_file.write_text(TOKENIZE_TEXT, encoding="utf-8")
    steps: list[int] = []
    summary = run_job(limited(job_file, tmp_path / "api.out", limit), progress=steps.append)
    args = ["--limit", str(limit)] if limit is not None else []
    assert main(["run", str(job_file), "--output", str(tmp_path / "cli.out"),
                 "--specs", "2*popen", "--quiet", *args]) == 0
    assert (tmp_path / "api.out").read_bytes() == (tmp_path / "cli.out").read_bytes()
    assert sum(steps) == summary.items == sum(summary.per_gateway.values())
    assert all(step >= 0 for step in steps)
    assert summary.output == str(tmp_path / "api.out") and summary.seconds > 0
    if limit is not None:
        assert summary.items == limit
    if config == "tokenize_text.yaml":
        assert summary.items == 2 < len((tmp_path / "api.out").read_text().splitlines())


def test_the_engine_is_told_how_many_items_are_left(tmp_path, monkeypatch):
    """So that the last batches shrink and the workers finish together: a limit, or
    the number of files of a one-item-per-file view (where the driver reads items;
    shards are one per batch)."""
    told: list[int | None] = []
    real_run = Session.run

    def run(self, items, total=None, **given):
        told.append(total)
        return real_run(self, items, total, **given)

    monkeypatch.setattr(Session, "run", run)
    job = limited(CONFIGS / "conll2000_chunk_regexp.yaml", tmp_path / "a.conll", 300)
    run_job(job.with_overrides(read="driver"))
    job_file = tmp_path / "tokenize_text.yaml"
    job_file.write_text(TOKENIZE_TEXT, encoding="utf-8")
    run_job(limited(job_file, tmp_path / "tokens.txt", None).with_overrides(read="driver"))
    assert told == [300, 2]


def test_counts_tokens_of_tagged_items(tmp_path):
    summary = run_job(limited(CONFIGS / "conll2000_chunk_regexp.yaml", tmp_path / "out.conll", 50))
    assert summary.tokens == sum(len(s) for s in conll2000.tagged_sents("test.txt")[:50])


def test_quickstart_has_no_token_count(tmp_path):
    assert run_job(limited(CONFIGS / "quickstart.yaml", tmp_path / "q.jsonl", None)).tokens is None


def test_an_existing_output_is_refused_before_anything_starts(tmp_path, no_orphans):
    out = tmp_path / "out.conll"
    out.write_text("keep me\n", encoding="utf-8")
    job = limited(CONFIGS / "conll2000_chunk_regexp.yaml", out, 10)
    with pytest.raises(JobError, match=r"conll2000_chunk_regexp\.yaml: output\.path: .* exists"):
        run_job(job)
    assert out.read_text(encoding="utf-8") == "keep me\n"
    assert no_orphans() == []


def test_a_module_task_is_found_beside_the_job_file(tmp_path):
    (tmp_path / "my_count.py").write_text(
        'def process(item):\n    return {"n": len(item["tokens"])}\n', encoding="utf-8")
    (tmp_path / "items.jsonl").write_text('{"tokens": ["a", "b"]}\n', encoding="utf-8")
    (tmp_path / "job.yaml").write_text(textwrap.dedent(f"""
        corpus: {{path: items.jsonl, format: jsonl, view: sents}}
        task: {{name: module, module: my_count}}
        specs: [[popen, 1]]
        output: {{path: {tmp_path / "out.jsonl"}}}
    """), encoding="utf-8")
    path_before = list(sys.path)
    summary = run_job(load_job(str(tmp_path / "job.yaml")))
    assert sys.path == path_before
    assert summary.items == 1
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8")) == {"n": 2}
