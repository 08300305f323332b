"""Perceptron tagging in workers that have no NLTK data equals serial NLTK."""

from __future__ import annotations

from nltk.corpus import treebank
from nltk.tag import PerceptronTagger

import nlp_parallel
from nlp_parallel.models import perceptron_params
from remote_modules import find_resource

MODEL = "taggers/averaged_perceptron_tagger_eng/"


def test_workers_have_no_nltk_data(dataless_pool):
    assert nlp_parallel.map(find_resource, [MODEL, "corpora/treebank"], pool=dataless_pool) == [
        False,
        False,
    ]


def test_treebank_tags_equal_serial(dataless_pool):
    sents = [list(s) for s in treebank.sents()]
    assert len(sents) == 3914
    tagger = PerceptronTagger()
    expected = [[tag for _, tag in tagger.tag(s)] for s in sents]
    got = nlp_parallel.map(
        "remote_tasks.tag", sents, pool=dataless_pool, options={"params": perceptron_params()}
    )
    assert got == expected
