"""Tagging in workers that have no NLTK data equals serial NLTK."""

from __future__ import annotations

import nltk
import pytest
from nltk.corpus import brown, treebank
from nltk.tag import (
    AffixTagger,
    BigramTagger,
    DefaultTagger,
    PerceptronTagger,
    RegexpTagger,
    UnigramTagger,
    pos_tag,
)

import nlp_parallel
from nlp_parallel import ConfigError, ResourceMissing
from nlp_parallel.tasks import prepare
from remote_modules import find_resource

MODEL = "taggers/averaged_perceptron_tagger_eng/"
NUMBERS = [(r"^-?[0-9]+(\.[0-9]+)?$", "CD"), (r".*s$", "NNS"), (r".*", "NN")]


def run(options, items, pool):
    task = prepare("tag", options)
    return nlp_parallel.map(task.module, items, pool=pool, options=dict(task.options))


@pytest.fixture(scope="module")
def treebank_sents():
    sents = [list(s) for s in treebank.sents()]
    assert len(sents) == 3914
    return sents


def test_workers_have_no_nltk_data(dataless_pool):
    # Directories named with a trailing slash, which NLTK also finds zipped: the driver
    # finds both, so the workers' False is theirs.
    resources = [MODEL, "corpora/treebank/"]
    assert nlp_parallel.map(find_resource, resources) == [True, True]
    assert nlp_parallel.map(find_resource, resources, pool=dataless_pool) == [False, False]


def test_treebank_tags_equal_serial(dataless_pool, treebank_sents):
    tagger = PerceptronTagger()
    expected = [[tag for _, tag in tagger.tag(s)] for s in treebank_sents]
    assert run({}, treebank_sents, dataless_pool) == expected


def test_treebank_universal_tags_equal_serial(dataless_pool, treebank_sents):
    expected = [[tag for _, tag in pos_tag(s, tagset="universal")] for s in treebank_sents]
    got = run({"tagset": "universal"}, treebank_sents, dataless_pool)
    assert got == expected
    assert {tag for tags in got for tag in tags} <= {
        "ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRT", "PRON", "VERB", ".", "X",
    }


def test_trained_backoff_chain_equals_serial(dataless_pool):
    train = treebank.tagged_sents()[:3000]
    serial = BigramTagger(train, backoff=UnigramTagger(train, backoff=RegexpTagger(NUMBERS)))
    test = [list(s) for s in treebank.sents()[3000:]]
    chain = [
        {"bigram": {"corpus": "treebank", "limit": 3000}},
        {"unigram": {"corpus": "treebank", "limit": 3000}},
        {"regexp": [list(pair) for pair in NUMBERS]},
    ]
    got = run({"model": "chain", "chain": chain}, test, dataless_pool)
    assert got == [[tag for _, tag in serial.tag(s)] for s in test]


def test_brown_chain_with_affix_and_universal_tags(dataless_pool):
    train = brown.tagged_sents(categories="news")[:2000]
    serial = UnigramTagger(train, backoff=AffixTagger(train, backoff=DefaultTagger("NN")))
    test = [list(s) for s in brown.sents(categories="editorial")[:500]]
    chain = [
        {"unigram": {"corpus": "brown", "categories": ["news"], "limit": 2000}},
        {"affix": -3, "train": {"corpus": "brown", "categories": ["news"], "limit": 2000}},
        {"default": "NN"},
    ]
    got = run({"model": "chain", "chain": chain, "tagset": "universal",
               "source_tagset": "brown"}, test, dataless_pool)
    from nltk.tag.mapping import map_tag

    assert got == [[map_tag("brown", "universal", t) for _, t in serial.tag(s)] for s in test]


def test_saved_perceptron_directory(dataless_pool, tmp_path, treebank_sents):
    """A model written by save_to_json is read from its directory."""
    tagger = PerceptronTagger(load=False)
    tagger.train(treebank.tagged_sents()[:300], nr_iter=2)
    nltk.data.path.append(str(tmp_path))  # authorize exactly this directory to save
    try:
        tagger.save_to_json(lang="toy", loc=str(tmp_path))
    finally:
        nltk.data.path.remove(str(tmp_path))
    sents = treebank_sents[300:800]
    got = run({"model": str(tmp_path)}, sents, dataless_pool)
    assert got == [[tag for _, tag in tagger.tag(s)] for s in sents]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model": "perceptorn"}, r"options\.model: 'perceptorn' is neither perceptron nor chain"),
        ({"tagset": "universal", "modle": "x"}, r"options\.modle: unknown option.*'model'"),
        ({"tagset": 5}, r"options\.tagset: expected a string"),
        ({"tagset": "klingon"}, r"options\.tagset: NLTK has no mapping from en-ptb to klingon"),
        ({"lang": "fra"}, r"^options\.lang: NLTK has no perceptron model for 'fra'; its "
                          r"languages: eng, rus \(installed here: "),
        ({"model": "chain"}, r"options\.chain: model: chain needs a non-empty list"),
        ({"model": "chain", "chain": [{"bigram": {"corpus": "nope"}}]},
         r"options\.chain\[0\]: train: 'nope' is not a tagged NLTK corpus"),
        ({"model": "chain", "chain": [{"regexp": [["(", "NN"]]}]}, r"options\.chain\[0\]: regexp"),
        ({"model": "chain", "chain": [{"default": "NN", "unigram": {}}]},
         r"options\.chain\[0\]: needs exactly one of"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        prepare("tag", options)


def test_missing_model_names_its_package():
    with pytest.raises(ResourceMissing, match="averaged_perceptron_tagger_rus") as info:
        prepare("tag", {"lang": "rus"})
    assert str(info.value).startswith("options.lang: NLTK resource ")


def test_unknown_task_suggests_a_name():
    with pytest.raises(ConfigError, match=r"unknown task 'tagg' \(did you mean 'tag'\?\)"):
        prepare("tagg", {})


def test_explicit_null_options_mean_the_defaults():
    """YAML `model:` with no value is null; it must mean the default, not crash."""
    assert prepare("tag", {"model": None, "lang": None}).options["params"].text == (
        prepare("tag", {}).options["params"].text
    )
