"""The research API: NLTK's interfaces, results equal to serial NLTK, reused gateways."""

from __future__ import annotations

import pytest
from nltk.chunk import RegexpParser
from nltk.corpus import conll2000, floresta, treebank
from nltk.stem import SnowballStemmer
from nltk.tag import DefaultTagger, PerceptronTagger, TaggerI, UnigramTagger

import nlp_parallel
from nlp_parallel import (
    ConfigError,
    GatewayPool,
    ParallelChunker,
    ParallelStemmer,
    ParallelTagger,
    TagChunker,
)

from conftest import wait_gone, workers


def test_parallel_tagger_accuracy_equals_serial(no_orphans):
    gold = treebank.tagged_sents()
    with ParallelTagger(specs=[("popen", 2)]) as tagger:
        assert isinstance(tagger, TaggerI)
        assert tagger.accuracy(gold) == PerceptronTagger().accuracy(gold)
        pids = workers(no_orphans())
        assert len(pids) == 2
        assert tagger.tag(["The", "dog", "barks", "."]) == PerceptronTagger().tag(
            ["The", "dog", "barks", "."]
        )
        assert tagger.tag_sents([["A", "cat"], []]) == [[("A", "DT"), ("cat", "NN")], []]
        assert workers(no_orphans()) == pids, "later calls reuse the same workers"
    assert wait_gone(no_orphans(), 5.0) == []


def test_users_own_tagger_chain_runs_in_parallel():
    train = treebank.tagged_sents()[:2000]
    serial = UnigramTagger(train, backoff=DefaultTagger("NN"))
    test = [list(s) for s in treebank.sents()[2000:2600]]
    with ParallelTagger(specs=[("popen", 2)], tagger=serial) as tagger:
        assert tagger.tag_sents(test) == serial.tag_sents(test)


def test_users_trained_perceptron_runs_in_parallel():
    serial = PerceptronTagger(load=False)
    serial.train(treebank.tagged_sents()[:200], nr_iter=2)
    test = [list(s) for s in treebank.sents()[200:500]]
    with ParallelTagger(specs=[("popen", 2)], tagger=serial) as tagger:
        assert tagger.tag_sents(test) == serial.tag_sents(test)


def test_tagger_that_cannot_travel_is_refused():
    class Custom(TaggerI):
        def tag(self, tokens):
            return [(t, "X") for t in tokens]

    with pytest.raises(ConfigError, match="Custom cannot be sent to workers as data"):
        ParallelTagger(specs=[("popen", 1)], tagger=Custom())


def test_parallel_chunker_matches_regexp_parser_and_its_score():
    gold = conll2000.chunked_sents("test.txt", chunk_types=["NP"])[:500]
    grammar = r"NP: {<DT|PP\$>?<JJ.*>*<NN.*>+}"
    serial = RegexpParser(grammar)
    with ParallelChunker(specs=[("popen", 2)], grammar=grammar) as chunker:
        sents = [t.leaves() for t in gold]
        trees = chunker.parse_sents(sents)
        assert iter(trees) is trees, "an iterator, as NLTK's ParserI.parse_sents returns"
        assert list(trees) == [serial.parse(s) for s in sents]
        assert chunker.parse(sents[0]) == serial.parse(sents[0])
        ours, theirs = chunker.accuracy(gold), serial.accuracy(gold)
        assert (ours.accuracy(), ours.precision(), ours.recall(), ours.f_measure()) == (
            theirs.accuracy(), theirs.precision(), theirs.recall(), theirs.f_measure()
        )
    with ParallelChunker(specs=[("popen", 2)], chunker=serial) as chunker:
        assert list(chunker.parse_sents(sents[:50])) == [serial.parse(s) for s in sents[:50]]


def test_trained_chunker_score_through_the_research_api():
    gold = conll2000.chunked_sents("test.txt", chunk_types=["NP"])
    serial = TagChunker(conll2000.chunked_sents("train.txt", chunk_types=["NP"]), n=2)
    with ParallelChunker(specs=[("popen", 2)], chunker=serial) as chunker:
        ours = chunker.accuracy(gold)
    theirs = serial.accuracy(gold)
    assert (ours.accuracy(), ours.f_measure()) == (theirs.accuracy(), theirs.f_measure())


def test_parallel_stemmer_and_a_shared_pool():
    words = [w for w in floresta.words()[:3000] if w.isalpha()]
    serial = SnowballStemmer("portuguese")
    with GatewayPool([("popen", 2)]) as pool:
        stemmer = ParallelStemmer(pool=pool, algorithm="snowball", language="portuguese")
        assert stemmer.stem_words(words) == [serial.stem(w) for w in words]
        assert stemmer.stem("correndo") == serial.stem("correndo")
        assert stemmer.stem_sents([words[:5], words[5:9]]) == [
            [serial.stem(w) for w in words[:5]], [serial.stem(w) for w in words[5:9]]
        ]
        tagger = ParallelTagger(pool=pool)
        assert tagger.tag(["Hello", "world"]) == PerceptronTagger().tag(["Hello", "world"])
        stemmer.close()  # a borrowed pool keeps running
        assert nlp_parallel.map("remote_modules.batched_double", [1], pool=pool) == [2]
        tagger.close()


def test_bad_task_options_fail_before_gateways_start(no_orphans):
    with pytest.raises(ConfigError, match=r"options\.algorithm: 'porterr' is not one of"):
        ParallelStemmer(specs=[("popen", 2)], algorithm="porterr")
    assert no_orphans() == []
