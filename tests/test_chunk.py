"""Chunking in workers that have no NLTK data equals serial NLTK."""

from __future__ import annotations

import pytest
from nltk.chunk import ChunkScore, RegexpParser, tree2conlltags
from nltk.corpus import conll2000

import nlp_parallel
from nlp_parallel import ConfigError, TagChunker
from nlp_parallel.tasks import prepare
from nlp_parallel.tasks.chunk import tree_from_data

GRAMMAR = r"""
NP: {<DT|PP\$>?<JJ.*>*<NN.*>+}
    {<NNP>+}
    }<VBD|IN>+{
"""
CLAUSES = r"""
NP: {<DT|JJ|NN.*>+}
PP: {<IN><NP>}
VP: {<VB.*><NP|PP|CLAUSE>+$}
CLAUSE: {<NP><VP>}
"""


@pytest.fixture(scope="module")
def test_sents():
    return conll2000.chunked_sents("test.txt", chunk_types=["NP"])


def run(options, trees, pool):
    task = prepare("chunk", options)
    items = [[list(pair) for pair in tree.leaves()] for tree in trees]
    return nlp_parallel.map(task.module, items, pool=pool, options=dict(task.options))


def test_regexp_grammar_on_conll2000_test_equals_serial(dataless_pool, test_sents):
    parser = RegexpParser(GRAMMAR)
    expected = [parser.parse(tree.leaves()) for tree in test_sents]
    got = run({"grammar": GRAMMAR}, test_sents, dataless_pool)
    assert len(got) == len(test_sents) == 2012
    assert [r["iob"] for r in got] == [[c for _, _, c in tree2conlltags(t)] for t in expected]
    assert [tree_from_data(r["tree"]) for r in got] == expected


def test_multi_stage_nested_grammar_keeps_the_tree(dataless_pool, test_sents):
    parser = RegexpParser(CLAUSES, loop=2)
    sample = test_sents[:300]
    got = run({"grammar": CLAUSES, "loop": 2}, sample, dataless_pool)
    assert [tree_from_data(r["tree"]) for r in got] == [parser.parse(t.leaves()) for t in sample]
    assert any(r["iob"] is None for r in got), "nested clauses have no IOB encoding"


@pytest.mark.parametrize("model, n", [("unigram", 1), ("bigram", 2)])
def test_trained_chunker_score_equals_serial(dataless_pool, test_sents, model, n):
    serial = TagChunker(conll2000.chunked_sents("train.txt", chunk_types=["NP"]), n=n)
    got = run({"model": model}, test_sents, dataless_pool)
    parallel_score, serial_score = ChunkScore(), ChunkScore()
    for gold, result in zip(test_sents, got):
        parallel_score.score(gold, tree_from_data(result["tree"]))
        serial_score.score(gold, serial.parse(gold.leaves()))
    assert parallel_score.accuracy() == serial_score.accuracy() > 0.9
    assert parallel_score.f_measure() == serial_score.f_measure()


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, r"options\.grammar: give either grammar or model"),
        ({"grammar": "NP: {<DT>", "loop": 1}, r"options\.grammar: invalid grammar"),
        ({"grammar": "NP: {<DT><NN>}", "loop": 0}, r"options\.loop: must be at least 1"),
        ({"model": "trigram"}, r"options\.model: 'trigram' is not one of unigram, bigram"),
        ({"model": "unigram", "train": {"corpus": "brown"}},
         r"options\.train: 'brown' is not a chunked NLTK corpus"),
        ({"grammar": "NP: {<NN>}", "gramar": "x"}, r"options\.gramar: unknown option"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        prepare("chunk", options)


def test_iob_only_results_leave_out_the_tree(dataless_pool, test_sents):
    parser = RegexpParser(GRAMMAR)
    sample = test_sents[:200]
    got = run({"grammar": GRAMMAR, "tree": False}, sample, dataless_pool)
    assert got == [{"iob": [c for _, _, c in tree2conlltags(parser.parse(t.leaves()))]}
                   for t in sample]
