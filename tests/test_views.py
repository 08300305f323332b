"""Views: a job without one reads the view its task takes, writing the bytes the
same job with that view given writes; and the views beyond the seven (nps_chat's
posts, CoNLL's iob_sents, tagged words and paragraphs, chunked paragraphs) give
NLTK's own items, read by the driver or by the workers alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import corpus_of
from nltk.corpus import brown, conll2002, nps_chat, treebank, treebank_chunk
from nltk.probability import FreqDist
from nltk.stem import PorterStemmer

import nlp_parallel
from nlp_parallel import GatewayPool, ParallelStemmer
from nlp_parallel.cli import main
from nlp_parallel.jobs import JobError, load_job
from nlp_parallel.plan import open_plan, output_settings
from nlp_parallel.runner import run_job

GRAMMAR = "NP: {<DT>?<JJ.*>*<NN.*>+}"

pytestmark = pytest.mark.usefixtures("data_path_restored")


@pytest.fixture(scope="module")
def pool():
    with GatewayPool([("popen", 2)]) as started:
        yield started


def write_job(path: Path, corpus: dict[str, Any], task: dict[str, Any], output: Path,
              fmt: str, read: str = "auto") -> Path:
    path.write_text(yaml.safe_dump({
        "corpus": corpus, "task": task, "read": read, "specs": [["popen", 2]],
        "output": {"path": str(output), "format": fmt}}), encoding="utf-8")
    return path


def jsonl_files(tmp_path: Path) -> dict[str, str]:
    """Three JSONL corpora, one per shape a record can have, each from line 2 on
    (a blank first line is skipped when choosing)."""
    sents = [list(s) for s in treebank.sents()[:40]]
    tagged = [list(s) for s in treebank.tagged_sents()[:40]]
    shapes = {
        "tagged": [{"tokens": [w for w, _ in s], "tags": [t for _, t in s], "text": "x"}
                   for s in tagged],
        "tokens": [{"id": i, "tokens": s} for i, s in enumerate(sents)],
        "text": [{"text": " ".join(s)} for s in sents[:10]],
    }
    paths = {}
    for name, records in shapes.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n" + "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        paths[name] = str(path)
    return paths


def cases(tmp_path: Path) -> list[tuple[dict[str, Any], dict[str, Any], str, str, str]]:
    """(corpus without a view, task, output format, the view chosen, read)."""
    texts = tmp_path / "texts"
    texts.mkdir()
    for i, s in enumerate(list(treebank.sents()[:30])[::10]):
        (texts / f"{i}.txt").write_text(" ".join(s) + "\n\n" + " ".join(s[:5]) + "\n")
    files = jsonl_files(tmp_path)
    chunk = {"name": "chunk", "options": {"grammar": GRAMMAR}}
    return [
        ({"name": "treebank", "limit": 60}, {"name": "tag"}, "jsonl", "sents", "workers"),
        ({"name": "treebank", "limit": 60}, chunk, "conll", "tagged_sents", "driver"),
        ({"name": "nps_chat", "fileids": [nps_chat.fileids()[0]], "limit": 150}, chunk,
         "jsonl", "tagged_posts", "workers"),
        ({"name": "nps_chat", "limit": 150}, {"name": "stem"}, "text", "posts", "driver"),
        ({"name": "words", "limit": 150}, {"name": "stem"}, "jsonl", "words", "workers"),
        ({"name": "state_union", "fileids": ["1945-Truman.txt"]}, {"name": "tokenize"},
         "jsonl", "raw", "workers"),
        ({"name": "brown", "fileids": ["ca01", "cb01"]},
         {"name": "count", "options": {"count": "conditional", "condition": "tag"}},
         "json", "tagged_sents", "workers"),
        ({"path": str(texts / "*.txt"), "format": "text"},
         {"name": "pipeline", "steps": [{"name": "tokenize"}, {"name": "stem"}]}, "text",
         "raw", "driver"),
        ({"path": files["tagged"], "format": "jsonl"}, {"name": "stem"}, "jsonl",
         "tagged_sents", "workers"),
        ({"path": files["tagged"], "format": "jsonl"}, {"name": "tokenize"}, "jsonl", "raw",
         "driver"),
        ({"path": files["tokens"], "format": "jsonl"}, {"name": "stem"}, "text", "sents",
         "workers"),
        ({"path": files["text"], "format": "jsonl"}, {"name": "tokenize"}, "jsonl", "raw",
         "workers"),
    ]


def test_every_default_view_writes_the_bytes_of_the_view_given(tmp_path, pool):
    for number, (corpus, task, fmt, view, read) in enumerate(cases(tmp_path)):
        chosen_out, given_out = tmp_path / f"{number}.chosen", tmp_path / f"{number}.given"
        chosen = load_job(str(write_job(tmp_path / f"{number}.chosen.yaml", corpus, task,
                                        chosen_out, fmt, read)))
        given = load_job(str(write_job(tmp_path / f"{number}.given.yaml",
                                       {**corpus, "view": view}, task, given_out, fmt, read)))
        assert chosen.corpus.view is None
        summary = run_job(chosen, pool=pool)
        assert summary.chosen_view == view, (corpus, task)
        assert run_job(given, pool=pool).chosen_view is None
        assert chosen_out.read_bytes() == given_out.read_bytes(), (corpus, task)
        assert summary.items and chosen_out.stat().st_size > 20, (corpus, task)
        assert (summary.read_by == "workers") == (read == "workers")
        with open_plan(chosen) as a, open_plan(given) as b:  # so a resume may switch
            assert output_settings(a.job) == output_settings(b.job)


def test_validate_and_the_summary_say_the_view_was_chosen(tmp_path, capsys):
    job = write_job(tmp_path / "job.yaml", {"name": "treebank", "limit": 20},
                    {"name": "chunk", "options": {"grammar": GRAMMAR}}, tmp_path / "o.conll",
                    "conll")
    assert main(["validate", str(job)]) == 0
    assert "ok: chunk over treebank (tagged_sents, chosen for the task, read by" in \
        capsys.readouterr().out
    assert main(["run", str(job)]) == 0
    assert "  view: tagged_sents, chosen for the task (the job gives none)\n" in \
        capsys.readouterr().err


@pytest.mark.parametrize("corpus, task, message", [
    ({"name": "abc", "limit": 5}, {"name": "chunk", "options": {"grammar": GRAMMAR}},
     "task.name: chunk needs tagged tokens, but corpus.view sents (chosen: the job gives "
     "none) gives tokens without tags; use a pipeline with a tag step before chunk"),
    ({"name": "abc"}, {"name": "module", "module": "remote_double"},
     "corpus.view: required for task module, which takes any items; one of sents, "
     "tagged_sents, chunked_sents, parsed_sents, words, paras, raw, posts, tagged_posts,"),
    ({"name": "abc"}, {"name": "count", "options": {"of": "tag"}},
     "task.options.of: tag needs tags, which corpus.view sents (chosen: the job gives none) "
     "do not give; use a pipeline with a tag step before count"),
])
def test_a_view_that_cannot_be_chosen_is_one_clear_error(tmp_path, corpus, task, message,
                                                         capsys):
    job = write_job(tmp_path / "job.yaml", corpus, task, tmp_path / "o.jsonl", "jsonl"
                    if task["name"] != "count" else "json")
    with pytest.raises(JobError) as caught:
        with open_plan(load_job(str(job))) as plan:
            plan.settings()
    assert str(caught.value).startswith(f"{job}: {message}"), str(caught.value)
    assert main(["validate", str(job)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nlp-parallel: error: {job}: {message}") and err.count("\n") == 1


def test_the_research_api_chooses_the_view_as_a_job_does(pool):
    stemmer = PorterStemmer()
    posts = nps_chat.posts(nps_chat.fileids()[0])[:60]
    with ParallelStemmer(pool=pool) as parallel:
        got = list(parallel.stem_corpus({"name": "nps_chat"}, limit=60))
    assert got == [[stemmer.stem(word) for word in post] for post in posts]


def test_a_count_of_tags_reads_the_tagged_view_from_python_too(pool):
    counted = nlp_parallel.freq_dist("brown", of="tag", fileids=["ca01", "cb01"], pool=pool)
    assert counted == FreqDist(tag for _, tag in brown.tagged_words(["ca01", "cb01"]))
    assert counted.N() > 4000


# --- the views beyond the seven ------------------------------------------------------


def nltks_own(view: str, fileid: str, limit: int) -> list[dict[str, Any]]:
    """What NLTK's own view method gives, as records, written out here rather than
    through the toolkit's conversions."""
    reader = {"posts": nps_chat, "tagged_posts": nps_chat, "iob_sents": conll2002,
              "tagged_paras": brown, "tagged_words": treebank,
              "chunked_paras": treebank_chunk}[view]
    items = list(getattr(reader, view)([fileid])[:limit])
    if view == "posts":
        return [{"fileid": fileid, "tokens": list(post)} for post in items]
    if view == "iob_sents":
        return [{"fileid": fileid, "tokens": [w for w, _, _ in s], "tags": [t for _, t, _ in s],
                 "iob": [i for _, _, i in s]} for s in items]
    if view == "tagged_words":
        items = [[pair] for pair in items]
    elif view == "tagged_paras":
        items = [[pair for sent in para for pair in sent] for para in items]
    elif view == "chunked_paras":
        items = [[pair for tree in para for pair in tree.leaves()] for para in items]
    return [{"fileid": fileid, "tokens": [w for w, _ in s], "tags": [t for _, t in s]}
            for s in items]


@pytest.mark.parametrize("name, view", [
    ("nps_chat", "posts"), ("nps_chat", "tagged_posts"), ("conll2002", "iob_sents"),
    ("brown", "tagged_paras"), ("treebank", "tagged_words"), ("treebank_chunk", "chunked_paras"),
])
def test_a_new_view_gives_nltks_own_items(name, view):
    with corpus_of({"name": name, "view": view}) as corpus:
        fileid = corpus.source().fileids[0]
    with corpus_of({"name": name, "view": view, "fileids": [fileid], "limit": 200}) as corpus:
        got = list(corpus.items())
    assert got == nltks_own(view, fileid, 200)
    assert len(got) > (0 if view.endswith("paras") else 10)
    assert len(got[0]["tokens"]) == 1 if view == "tagged_words" else len(got[0]["tokens"]) > 1


def test_iob_sents_keep_the_corpus_iob_tags_read_by_workers_or_driver(tmp_path, pool):
    fileid = "esp.testa"
    corpus = {"name": "conll2002", "view": "iob_sents", "fileids": [fileid], "limit": 300}
    outputs = {}
    for read in ("workers", "driver"):
        out = tmp_path / f"{read}.jsonl"
        job = write_job(tmp_path / f"{read}.yaml", corpus, {"name": "stem"}, out, "jsonl", read)
        assert run_job(load_job(str(job)), pool=pool).read_by.startswith(
            "workers" if read == "workers" else "the job says")
        outputs[read] = out.read_bytes()
    assert outputs["workers"] == outputs["driver"]
    records = [json.loads(line) for line in outputs["workers"].decode().splitlines()]
    expected = conll2002.iob_sents(fileid)[:300]
    assert [r["iob"] for r in records] == [[iob for _, _, iob in s] for s in expected]
    assert [r["tags"] for r in records] == [[tag for _, tag, _ in s] for s in expected]
    stemmer = PorterStemmer()
    assert records[7]["stems"] == [stemmer.stem(w) for w, _, _ in expected[7]]
