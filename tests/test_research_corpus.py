"""The research API over whole corpora: tag_corpus, parse_corpus and stem_corpus give
what serial NLTK gives over the same view, in corpus order, whoever reads the corpus."""

from __future__ import annotations

import json

import nltk
import pytest
from conftest import wait_gone, workers
from nltk.chunk import RegexpParser
from nltk.corpus import brown, conll2000, state_union, treebank, treebank_chunk
from nltk.corpus.reader import PlaintextCorpusReader
from nltk.stem import PorterStemmer
from nltk.tag import PerceptronTagger

from nlp_parallel import (
    ConfigError,
    GatewayPool,
    ParallelChunker,
    ParallelStemmer,
    ParallelTagger,
)
from nlp_parallel.corpus import parse_corpus, shards

GRAMMAR = r"NP: {<DT|PP\$>?<JJ.*>*<NN.*>+}"


@pytest.fixture(scope="module")
def pool():
    """Two popen gateways for the module's tests, started before any of them."""
    with GatewayPool([("popen", 2)]) as started:
        yield started


@pytest.fixture(scope="module")
def perceptron():
    return PerceptronTagger()


def porter_sents(sents):
    stemmer = PorterStemmer()
    return [[stemmer.stem(word) for word in sent] for sent in sents]


def test_brown_news_tagged_as_serial_nltk_tags_it(no_orphans, perceptron):
    serial = perceptron.tag_sents(brown.sents(categories=["news"])[:1500])
    with ParallelTagger(specs=[("popen", 2)]) as tagger:  # its own gateways, started now
        tagged = tagger.tag_corpus(brown, categories=["news"], limit=1500)
        assert iter(tagged) is tagged, "an iterator, yielded as shards arrive"
        assert list(tagged) == serial
        assert len(workers(no_orphans())) == 2
        mapping = {"name": "brown", "categories": ["news"], "start": 700, "limit": 500}
        assert list(tagger.tag_corpus(mapping)) == serial[700:1200]
        assert tagger.tag(["The", "dog", "barks"]) == perceptron.tag(["The", "dog", "barks"])
    assert wait_gone(no_orphans(), 5.0) == []


def test_treebank_as_reader_mapping_and_spec_alike(pool, perceptron):
    tagger = ParallelTagger(pool=pool)
    serial = perceptron.tag_sents(treebank.sents()[1000:1800])
    spec = parse_corpus({"name": "treebank", "view": "tagged_sents", "start": 1000})
    forms = [
        tagger.tag_corpus(treebank, start=1000, limit=800),
        tagger.tag_corpus({"name": "treebank", "start": 1000, "limit": 800}),
        tagger.tag_corpus(spec, limit=800),  # a tagged view: its own tags are not used
    ]
    for tagged in forms:
        assert list(tagged) == serial
    tagger.close()


@pytest.mark.parametrize("start, limit", [(0, None), (1234, 300)])
def test_conll2000_chunked_as_regexp_parser_and_parse_sents_chunk(pool, start, limit):
    sents = conll2000.tagged_sents("test.txt")
    sents = sents[start:] if limit is None else sents[start:start + limit]
    with ParallelChunker(pool=pool, grammar=GRAMMAR, tree=False) as chunker:  # trees all the same
        trees = list(chunker.parse_corpus(conll2000, fileids=["test.txt"], start=start,
                                          limit=limit))
        assert trees == [RegexpParser(GRAMMAR).parse(sent) for sent in sents]
        gold = conll2000.chunked_sents("test.txt")[start:start + 200]
        with ParallelChunker(pool=pool, grammar=GRAMMAR) as items_chunker:
            assert trees[:200] == list(items_chunker.parse_sents(t.leaves() for t in gold))
        by_chunks = chunker.parse_corpus({"name": "conll2000", "view": "chunked_sents",
                                          "fileids": ["test.txt"], "start": start, "limit": 200})
        assert list(by_chunks) == trees[:200]


def test_state_union_stemmed_where_workers_split_sentences_with_punkt(pool, monkeypatch):
    monkeypatch.setattr(shards, "SHARD_BYTES", 20_000)  # files cut at blank lines
    fileids = state_union.fileids()[:6]
    with ParallelStemmer(pool=pool) as stemmer:
        stems = stemmer.stem_corpus(state_union, fileids=fileids, start=150, limit=900)
        assert list(stems) == porter_sents(state_union.sents(fileids)[150:1050])


def test_a_reader_that_cannot_be_rebuilt_is_read_by_the_driver(pool):
    # treebank_chunk's reader holds a tokenizer object: plan_shards gives a reason.
    with _opened("treebank_chunk") as corpus:
        assert isinstance(shards.plan_shards(corpus), str)
    with ParallelChunker(pool=pool, grammar=GRAMMAR) as chunker:
        trees = chunker.parse_corpus(treebank_chunk, start=100, limit=400)
        assert list(trees) == [RegexpParser(GRAMMAR).parse(s)
                               for s in treebank_chunk.tagged_sents()[100:500]]


def _opened(name):
    from nlp_parallel.corpus import open_corpus

    corpus = open_corpus(parse_corpus({"name": name, "view": "tagged_sents"}))
    corpus.check()
    return corpus


@pytest.fixture
def texts(tmp_path, monkeypatch):
    """Three text files under ``texts/``, one cut into several shards, the current
    directory their parent, and NLTK's sandbox told of them for the serial reading."""
    folder = tmp_path / "texts"
    folder.mkdir()
    from nltk.corpus import webtext

    for fileid in ("firefox.txt", "grail.txt", "pirates.txt"):
        (folder / fileid).write_text(webtext.raw(fileid), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(nltk.data, "path", [*nltk.data.path, str(folder)])
    monkeypatch.setattr(shards, "SHARD_BYTES", 30_000)
    return folder


def test_user_text_files_by_relative_path_and_own_reader_object(pool, texts, perceptron):
    own = PlaintextCorpusReader(str(texts), r".*\.txt")
    serial = perceptron.tag_sents(own.sents()[2000:3500])
    with ParallelTagger(pool=pool) as tagger:
        mapping = {"path": "texts/*.txt", "format": "text"}
        assert list(tagger.tag_corpus(mapping, start=2000, limit=1500)) == serial
        # Not one of nltk.corpus's: read here, items sent, the same tags.
        assert list(tagger.tag_corpus(own, start=2000, limit=1500)) == serial
    with ParallelStemmer(pool=pool) as stemmer:
        own_stems = stemmer.stem_corpus(own, fileids=["grail.txt"], view="words", limit=3000)
        words = own.words("grail.txt")[:3000]
        assert list(own_stems) == porter_sents([word] for word in words)  # a word an item


def test_user_jsonl_tagged_sentences_chunked(pool, tmp_path, monkeypatch):
    sents = conll2000.tagged_sents("train.txt")[:3000]
    lines = [json.dumps({"tokens": [w for w, _ in s], "tags": [t for _, t in s]}) for s in sents]
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shards, "SHARD_BYTES", 50_000)
    with ParallelChunker(pool=pool, grammar=GRAMMAR) as chunker:
        trees = chunker.parse_corpus({"path": "*.jsonl", "format": "jsonl"}, start=10)
        assert list(trees) == [RegexpParser(GRAMMAR).parse(s) for s in sents[10:]]


def test_closing_an_unfinished_iterator_leaves_the_object_usable(pool, perceptron):
    with ParallelTagger(pool=pool) as tagger:
        tagged = tagger.tag_corpus(brown, categories=["news"])
        first = next(tagged)
        tagged.close()
        assert first == perceptron.tag(brown.sents(categories=["news"])[0])
        assert list(tagger.tag_corpus(brown, fileids=["cb01"], limit=20)) == \
            perceptron.tag_sents(brown.sents("cb01")[:20])
        unfinished = tagger.tag_corpus(treebank)
        next(unfinished)
    with pytest.raises(StopIteration):
        next(unfinished)  # closed with the tagger


@pytest.mark.parametrize("call, message", [
    (lambda o: o["chunk"].parse_corpus(conll2000, view="sents"),
     ("corpus.view: chunk needs tagged tokens, but view sents gives tokens without tags; "
      "use view tagged_sents or chunked_sents")),
    (lambda o: o["stem"].stem_corpus(treebank, view="raw"),
     "corpus.view: stem needs tokens, but view raw gives texts; use view sents or words"),
    (lambda o: o["stem"].stem_corpus({"name": "treebnak"}),
     "corpus.name: 'treebnak' is not an NLTK corpus (did you mean 'treebank'?)"),
    (lambda o: o["tag"].tag_corpus(brown, categorys=["news"]),
     ("categorys: not a selection keyword (did you mean 'categories'?); "
      "valid: view, fileids, categories, start, limit")),
    (lambda o: o["tag"].tag_corpus({"name": "brown", "colour": "red"}),
     "corpus.colour: unknown key"),
    (lambda o: o["tag"].tag_corpus(brown, categories=["newz"]),
     "corpus.categories: 'newz' is not a category of brown"),
    (lambda o: o["tag"].tag_corpus(["The", "dog"]),
     "corpus: expected a corpus: mapping, a CorpusSpec or an NLTK corpus reader, not list"),
    (lambda o: o["tag"].tag_corpus({"path": "no/such/*.txt", "format": "text"}),
     "corpus.path: '"),
])
def test_bad_input_is_refused_in_one_line_before_any_work(pool, no_orphans, call, message):
    objects = {"tag": ParallelTagger(pool=pool), "stem": ParallelStemmer(pool=pool),
               "chunk": ParallelChunker(pool=pool, grammar=GRAMMAR)}
    try:
        with pytest.raises(ConfigError) as raised:
            call(objects)
        assert str(raised.value).startswith(message)
        assert "\n" not in str(raised.value)
    finally:
        for obj in objects.values():
            obj.close()


def test_own_reader_with_a_view_it_lacks_is_refused(pool, texts):
    own = PlaintextCorpusReader(str(texts), r".*\.txt")
    refused = (r"^corpus\.view: chunk needs tagged tokens, but view sents \(chosen: none is "
               r"given\) gives tokens without tags; it offers no view with tagged tokens$")
    with ParallelChunker(pool=pool, grammar=GRAMMAR) as chunker, \
            pytest.raises(ConfigError, match=refused):
        chunker.parse_corpus(own)
