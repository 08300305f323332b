"""Perceptron tagging in workers that have no NLTK data equals serial NLTK."""

from __future__ import annotations

import pytest
from nltk.corpus import treebank
from nltk.tag import PerceptronTagger

import nlp_parallel
from nlp_parallel.models import perceptron_params
from remote_modules import find_resource

MODEL = "taggers/averaged_perceptron_tagger_eng/"


@pytest.fixture
def dataless_pool(tmp_path):
    """Two popen workers whose NLTK finds no data at all."""
    spec = f"popen//env:NLTK_DATA={tmp_path}//env:HOME={tmp_path}"
    with nlp_parallel.GatewayPool([(spec, 2)]) as pool:
        assert nlp_parallel.map(find_resource, [MODEL], pool=pool) == [False]
        yield pool


def test_treebank_tags_equal_serial(dataless_pool):
    sents = [list(s) for s in treebank.sents()]
    assert len(sents) == 3914
    tagger = PerceptronTagger()
    expected = [[tag for _, tag in tagger.tag(s)] for s in sents]
    got = nlp_parallel.map(
        "remote_tasks.tag", sents, pool=dataless_pool, options={"params": perceptron_params()}
    )
    assert got == expected
